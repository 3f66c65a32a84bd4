"""A small, safe expression language for declarative checks.

Schemas state relations such as ``总数 == 境内数量 + 境外数量`` or
``sum(教学科研及辅助用房面积) < ZDYJZMJ.总建筑面积``. They are parsed here into a tree
and compiled to closures; nothing is ever handed to ``eval``.

Grammar (lowest precedence first)::

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | compare
    compare  := sum (("=="|"!="|"<"|"<="|">"|">="|"in"|"not in") sum)?
    sum      := product (("+"|"-") product)*
    product  := unary (("*"|"/") unary)*
    unary    := "-" unary | atom
    atom     := NUMBER | STRING | "(" expr ")" | "[" items "]" | call | ref | "$"NAME
    call     := NAME "(" [expr ("," expr)*] ")"
    ref      := NAME | `any text` | TABLE "." (NAME | `any text`)

Field names are the Chinese column headers; headers holding punctuation are written
in backticks. ``$year`` and friends are the collection's statistic times.
A blank operand makes a comparison unknown (``None``): a relation is only judged when
the values it needs are present, because required-ness is checked separately.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

__all__ = [
    "AGGREGATES",
    "STAT_VARIABLES",
    "Call",
    "ExpressionError",
    "FieldRef",
    "LookupIndexes",
    "Node",
    "Scope",
    "compile_expression",
    "compile_node",
    "field_refs",
    "key_text",
    "parse",
]

STAT_VARIABLES: dict[str, str] = {
    "year": "采集年份（如 2020）",
    "snapshot": "统计时点（如 2020-09-30）",
    "academic_start": "统计学年开始日（如 2019-09-01）",
    "academic_end": "统计学年结束日（如 2020-08-31）",
    "calendar_start": "统计自然年开始日（如 2019-01-01）",
    "calendar_end": "统计自然年结束日（如 2019-12-31）",
}

AGGREGATES = frozenset({"sum", "count", "count_if", "max", "min", "distinct_count"})
# count_matching(OTHER.field, value): how many rows of another table hold this record's value,
# e.g. the students of this row's major — the one way a record-level check reads another table
LOOKUPS = frozenset({"count_matching"})
SCALAR_FUNCTIONS: dict[str, tuple[int, int]] = {
    "blank": (1, 1),
    "present": (1, 1),
    "abs": (1, 1),
    "year": (1, 1),
    "len": (1, 1),
    "round": (1, 2),
    "coalesce": (1, 9),
    "startswith": (2, 2),
}
AGGREGATE_ARITY: dict[str, tuple[int, int]] = {
    "sum": (1, 1),
    "count": (0, 1),
    "count_if": (1, 1),
    "max": (1, 1),
    "min": (1, 1),
    "distinct_count": (1, 1),
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed or does not fit its table."""


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class FieldRef:
    header: str
    table: str | None = None


@dataclass(frozen=True)
class StatVar:
    name: str


@dataclass(frozen=True)
class ListLit:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Literal | FieldRef | StatVar | ListLit | Unary | Binary | Call


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'[^']*'|"[^"]*"|“[^”]*”)
  | (?P<quoted>`[^`]+`)
  | (?P<stat>\$[A-Za-z_]+)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
  | (?P<name>[A-Za-z_\u3400-\u9fff\uf900-\ufaff][A-Za-z0-9_\u3400-\u9fff\uf900-\ufaff]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenize(source: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ExpressionError(f"无法识别的字符 “{source[pos]}”（第 {pos + 1} 个字符）")
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "space":
            if kind == "name" and text in _KEYWORDS:
                kind = "kw"
            tokens.append(_Tok(kind, text, pos))
        pos = match.end()
    tokens.append(_Tok("end", "", len(source)))
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0

    @property
    def tok(self) -> _Tok:
        return self.tokens[self.index]

    def advance(self) -> _Tok:
        tok = self.tokens[self.index]
        self.index += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> bool:
        if self.tok.kind == kind and (text is None or self.tok.text == text):
            self.index += 1
            return True
        return False

    def expect(self, kind: str, text: str) -> None:
        if not self.accept(kind, text):
            raise self.error(f"此处应为 “{text}”")

    def error(self, message: str) -> ExpressionError:
        found = self.tok.text or "表达式结尾"
        return ExpressionError(f"{message}，却遇到 “{found}”（第 {self.tok.pos + 1} 个字符）")

    def parse(self) -> Node:
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.error("表达式已结束")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.accept("kw", "or"):
            node = Binary("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.accept("kw", "and"):
            node = Binary("and", node, self.parse_not())
        return node

    def parse_not(self) -> Node:
        if self.accept("kw", "not"):
            return Unary("not", self.parse_not())
        return self.parse_compare()

    def parse_compare(self) -> Node:
        node = self.parse_sum()
        if self.tok.kind == "op" and self.tok.text in {"==", "!=", "<", "<=", ">", ">="}:
            op = self.advance().text
            return Binary(op, node, self.parse_sum())
        if self.accept("kw", "in"):
            return Binary("in", node, self.parse_sum())
        if self.tok.kind == "kw" and self.tok.text == "not" and self.tokens[self.index + 1].text == "in":
            self.index += 2
            return Binary("not in", node, self.parse_sum())
        return node

    def parse_sum(self) -> Node:
        node = self.parse_product()
        while self.tok.kind == "op" and self.tok.text in {"+", "-"}:
            op = self.advance().text
            node = Binary(op, node, self.parse_product())
        return node

    def parse_product(self) -> Node:
        node = self.parse_unary()
        while self.tok.kind == "op" and self.tok.text in {"*", "/"}:
            op = self.advance().text
            node = Binary(op, node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        if self.accept("op", "-"):
            return Unary("-", self.parse_unary())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            return Literal(float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "string":
            self.advance()
            return Literal(tok.text[1:-1])
        if tok.kind == "kw" and tok.text in {"true", "false"}:
            self.advance()
            return Literal(tok.text == "true")
        if tok.kind == "stat":
            self.advance()
            name = tok.text[1:]
            if name not in STAT_VARIABLES:
                known = "、".join("$" + key for key in STAT_VARIABLES)
                raise ExpressionError(f"未知的统计时间变量 “{tok.text}”，可用：{known}")
            return StatVar(name)
        if self.accept("op", "("):
            node = self.parse_or()
            self.expect("op", ")")
            return node
        if self.accept("op", "["):
            items: list[Node] = []
            if not self.accept("op", "]"):
                items.append(self.parse_or())
                while self.accept("op", ","):
                    items.append(self.parse_or())
                self.expect("op", "]")
            return ListLit(tuple(items))
        if tok.kind in {"name", "quoted"}:
            return self.parse_name()
        raise self.error("此处应为字段名、数字或文字")

    def parse_name(self) -> Node:
        tok = self.advance()
        text = tok.text.strip("`") if tok.kind == "quoted" else tok.text
        if tok.kind == "name" and self.accept("op", "("):
            return Call(text, self.parse_args())
        if tok.kind == "name" and self.tok.text == "." and self.tokens[self.index + 1].kind in {"name", "quoted"}:
            self.advance()
            header = self.advance()
            return FieldRef(header.text.strip("`"), table=text)
        return FieldRef(text)

    def parse_args(self) -> tuple[Node, ...]:
        args: list[Node] = []
        if self.accept("op", ")"):
            return ()
        args.append(self.parse_or())
        while self.accept("op", ","):
            args.append(self.parse_or())
        self.expect("op", ")")
        return tuple(args)


@lru_cache(maxsize=4096)
def parse(source: str) -> Node:
    """Parse ``source`` into a tree, raising :class:`ExpressionError` with a Chinese message.

    Trees are immutable and the schemas hold a few hundred expressions: each is parsed once."""
    if not source or not source.strip():
        raise ExpressionError("表达式为空")
    return _Parser(source).parse()


# --------------------------------------------------------------------------- analysis


def _children(node: Node) -> Iterable[Node]:
    if isinstance(node, Unary):
        yield node.operand
    elif isinstance(node, Binary):
        yield node.left
        yield node.right
    elif isinstance(node, Call):
        yield from node.args
    elif isinstance(node, ListLit):
        yield from node.items


def field_refs(node: Node) -> list[FieldRef]:
    """Every field reference in ``node``, in reading order."""
    found: list[FieldRef] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldRef):
            found.append(current)
        stack.extend(reversed(list(_children(current))))
    return found


@dataclass(frozen=True)
class Scope:
    """What an expression may name: the headers of its own table and, for table checks,
    those of other tables (``other_tables`` maps table id → (shape, headers))."""

    table_id: str
    headers: frozenset[str]
    shape: str
    record_level: bool
    other_tables: Mapping[str, tuple[str, frozenset[str]]]


def check_scope(node: Node, scope: Scope) -> None:
    """Raise :class:`ExpressionError` when ``node`` names something its scope lacks."""
    _check(node, scope, inside_aggregate=None)


def _table_of(ref: FieldRef, scope: Scope) -> tuple[str, str, frozenset[str]]:
    if ref.table is None or ref.table == scope.table_id:
        return scope.table_id, scope.shape, scope.headers
    if scope.record_level:
        raise ExpressionError(f"逐行校验不能引用其他表的字段 “{ref.table}.{ref.header}”")
    if ref.table not in scope.other_tables:
        raise ExpressionError(f"引用了不存在的表 “{ref.table}”")
    shape, headers = scope.other_tables[ref.table]
    return ref.table, shape, headers


def _check(node: Node, scope: Scope, inside_aggregate: str | None) -> None:
    if isinstance(node, FieldRef):
        table_id, shape, headers = _table_of(node, scope)
        if node.header not in headers:
            raise ExpressionError(f"表 {table_id} 没有字段 “{node.header}”")
        if scope.record_level:
            return
        if inside_aggregate is None and shape == "list":
            raise ExpressionError(f"列表表 {table_id} 的字段 “{node.header}” 须放在 sum()、count() 等汇总函数中")
        if inside_aggregate is not None and inside_aggregate != table_id:
            raise ExpressionError("一个汇总函数中只能引用同一张表的字段")
        return
    if isinstance(node, Call):
        _check_call(node, scope, inside_aggregate)
        return
    for child in _children(node):
        _check(child, scope, inside_aggregate)


def _check_call(node: Call, scope: Scope, inside_aggregate: str | None) -> None:
    if node.name in LOOKUPS:
        _check_lookup(node, scope, inside_aggregate)
        return
    if node.name in AGGREGATES:
        low, high = AGGREGATE_ARITY[node.name]
        if scope.record_level:
            raise ExpressionError(f"逐行校验中不能使用汇总函数 {node.name}()")
        if inside_aggregate is not None:
            raise ExpressionError("汇总函数不能嵌套")
    elif node.name in SCALAR_FUNCTIONS:
        low, high = SCALAR_FUNCTIONS[node.name]
    else:
        known = "、".join(sorted({*SCALAR_FUNCTIONS, *AGGREGATES, *LOOKUPS}))
        raise ExpressionError(f"未知函数 “{node.name}”，可用：{known}")
    if not low <= len(node.args) <= high:
        raise ExpressionError(f"函数 {node.name}() 的参数个数不对")
    if node.name not in AGGREGATES:
        for arg in node.args:
            _check(arg, scope, inside_aggregate)
        return
    refs = [ref for arg in node.args for ref in field_refs(arg)]
    tables = {_table_of(ref, scope)[0] for ref in refs}
    if len(tables) > 1:
        raise ExpressionError("一个汇总函数中只能引用同一张表的字段")
    target = tables.pop() if tables else scope.table_id
    for arg in node.args:
        _check(arg, scope, inside_aggregate=target)


def _check_lookup(node: Call, scope: Scope, inside_aggregate: str | None) -> None:
    if len(node.args) != 2:
        raise ExpressionError(f"函数 {node.name}() 的参数个数不对")
    target, value = node.args
    if not isinstance(target, FieldRef) or target.table is None or target.table == scope.table_id:
        raise ExpressionError(f"{node.name}() 的第一个参数须为其他表的字段，如 BKSJBQK.学号")
    if target.table not in scope.other_tables:
        raise ExpressionError(f"引用了不存在的表 “{target.table}”")
    if target.header not in scope.other_tables[target.table][1]:
        raise ExpressionError(f"表 {target.table} 没有字段 “{target.header}”")
    _check(value, scope, inside_aggregate)


def aggregate_table(node: Call, default_table: str) -> str:
    """The table an aggregate call iterates over."""
    for arg in node.args:
        for ref in field_refs(arg):
            return ref.table or default_table
    return default_table


# --------------------------------------------------------------------------- evaluation

Row = Mapping[str, Any]
Evaluator = Callable[["EvalContext"], Any]


# count(T.field, …) lookups, by table and field: the rows indexed (a table, or one file's part of
# it) and each key's count among them
LookupIndexes = dict[tuple[str, str], tuple[Sequence[Any], dict[str, int]]]


@dataclass
class EvalContext:
    """Values an expression is evaluated against.

    ``row`` is the current record (header → value); ``tables`` maps table id → its rows
    for table-level checks; ``stats`` holds the statistic-time variables.
    """

    row: Row
    tables: Mapping[str, Sequence[Row]]
    stats: Mapping[str, Any]
    indexes: LookupIndexes = field(default_factory=dict)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _numbers_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return bool(left == right)
    if isinstance(left, int | float) and isinstance(right, int | float):
        return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-6)
    return bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if op == "in" or op == "not in":
        if _is_blank(left) or right is None:
            return None
        inside = any(_numbers_equal(left, item) for item in right)
        return inside if op == "in" else not inside
    if _is_blank(left) or _is_blank(right):
        return None
    if op == "==":
        return _numbers_equal(left, right)
    if op == "!=":
        return not _numbers_equal(left, right)
    try:
        if op in {"<=", ">="} and _numbers_equal(left, right):
            return True
        if op == "<":
            return bool(left < right) and not _numbers_equal(left, right)
        if op == ">":
            return bool(left > right) and not _numbers_equal(left, right)
        if op == "<=":
            return bool(left <= right)
        return bool(left >= right)
    except TypeError:
        return None


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    try:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return None if right == 0 else left / right
    except TypeError:
        return None


def _logic(op: str, left: Any, right: Any) -> bool | None:
    if op == "and":
        if left is False or right is False:
            return False
        return None if left is None or right is None else True
    if left is True or right is True:
        return True
    return None if left is None or right is None else False


def _year_of(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    year = getattr(value, "year", None)
    if isinstance(year, int):
        return year
    if isinstance(value, tuple) and value and isinstance(value[0], int):
        return value[0]
    return None


def _scalar_call(name: str, args: list[Any]) -> Any:
    if name == "blank":
        return _is_blank(args[0])
    if name == "present":
        return not _is_blank(args[0])
    if name == "coalesce":
        return next((arg for arg in args if not _is_blank(arg)), None)
    value = args[0]
    if value is None:
        return None
    if name == "abs":
        return abs(value) if isinstance(value, int | float) else None
    if name == "year":
        return _year_of(value)
    if name == "len":
        return len(str(value))
    if name == "startswith":
        return None if args[1] is None else str(value).startswith(str(args[1]))
    digits = int(args[1]) if len(args) > 1 and args[1] is not None else 0
    return round(value, digits) if isinstance(value, int | float) else None


def _aggregate(name: str, values: list[Any]) -> Any:
    present = [value for value in values if not _is_blank(value)]
    if name == "count":
        return len(present)
    if name == "count_if":
        return sum(1 for value in values if value is True)
    if name == "distinct_count":
        return len(set(present))
    numbers = [value for value in present if isinstance(value, int | float) and not isinstance(value, bool)]
    if name == "sum":
        return sum(numbers)
    if not present:
        return None
    try:
        return max(present) if name == "max" else min(present)
    except TypeError:
        return None


def _rows_for(context: EvalContext, table_id: str) -> Sequence[Row]:
    return context.tables.get(table_id, ())


def _compile(node: Node, default_table: str) -> Evaluator:
    if isinstance(node, Literal):
        value = node.value
        return lambda context: value
    if isinstance(node, StatVar):
        name = node.name
        return lambda context: context.stats.get(name)
    if isinstance(node, FieldRef):
        return _compile_ref(node, default_table)
    if isinstance(node, ListLit):
        items = [_compile(item, default_table) for item in node.items]
        return lambda context: [item(context) for item in items]
    if isinstance(node, Unary):
        operand = _compile(node.operand, default_table)
        if node.op == "not":
            return lambda context: None if (value := operand(context)) is None else not value
        return lambda context: None if (value := operand(context)) is None else -value
    if isinstance(node, Binary):
        return _compile_binary(node, default_table)
    return _compile_call(node, default_table)


def _compile_ref(node: FieldRef, default_table: str) -> Evaluator:
    header = node.header
    if node.table is None or node.table == default_table:
        return lambda context: context.row.get(header)

    table_id = node.table

    def other_form_value(context: EvalContext) -> Any:
        rows = _rows_for(context, table_id)
        return rows[0].get(header) if rows else None

    return other_form_value


def _compile_binary(node: Binary, default_table: str) -> Evaluator:
    left = _compile(node.left, default_table)
    right = _compile(node.right, default_table)
    op = node.op
    if op in {"and", "or"}:
        # three-valued logic decides "false and …" and "true or …" from the left alone, so the
        # right side (perhaps a sum over another table) is not evaluated at all
        decisive = op == "or"

        def logic(context: EvalContext) -> bool | None:
            first = left(context)
            return decisive if first is decisive else _logic(op, first, right(context))

        return logic
    if op in {"+", "-", "*", "/"}:
        return lambda context: _arith(op, left(context), right(context))
    return lambda context: _compare(op, left(context), right(context))


def key_text(value: Any) -> str:
    """The text a key is compared by: numbers without ``.0``, dates in ISO form, text stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _compile_lookup(node: Call, default_table: str) -> Evaluator:
    target = node.args[0]
    assert isinstance(target, FieldRef) and target.table is not None
    table_id, header = target.table, target.header
    value = _compile(node.args[1], default_table)

    def count_matching(context: EvalContext) -> Any:
        if table_id not in context.tables:
            return None  # the other table is not known here: nothing to compare with
        rows = context.tables[table_id]
        cached = context.indexes.get((table_id, header))
        if cached is not None and cached[0] is rows:
            index = cached[1]
        else:  # kept with the rows it counts: another view of a table (one file's part) is counted anew
            index = {}
            for row in rows:
                key = key_text(row.get(header))
                index[key] = index.get(key, 0) + 1
            context.indexes[(table_id, header)] = (rows, index)
        key = key_text(value(context))
        return index.get(key, 0) if key else None

    return count_matching


def _compile_call(node: Call, default_table: str) -> Evaluator:
    name = node.name
    if name in LOOKUPS:
        return _compile_lookup(node, default_table)
    if name not in AGGREGATES:
        args = [_compile(arg, default_table) for arg in node.args]
        return lambda context: _scalar_call(name, [arg(context) for arg in args])
    table_id = aggregate_table(node, default_table)
    inner = _compile(node.args[0], table_id) if node.args else None

    def aggregate(context: EvalContext) -> Any:
        rows = _rows_for(context, table_id)
        if inner is None:
            return len(rows)
        sub = EvalContext(row={}, tables=context.tables, stats=context.stats, indexes=context.indexes)
        values = []
        for row in rows:
            sub.row = row
            values.append(inner(sub))
        return _aggregate(name, values)

    return aggregate


@lru_cache(maxsize=4096)
def compile_node(node: Node, default_table: str) -> Evaluator:
    """Compile a parsed tree; the result maps an :class:`EvalContext` to a value."""
    return _compile(node, default_table)


def compile_expression(source: str, default_table: str) -> Evaluator:
    """Parse and compile ``source``; the result maps an :class:`EvalContext` to a value."""
    return compile_node(parse(source), default_table)
