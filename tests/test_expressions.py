from __future__ import annotations

import re
from datetime import date

import pytest

from statecollect.expressions import (
    EvalContext,
    ExpressionError,
    Scope,
    check_scope,
    compile_expression,
    field_refs,
    parse,
)


def evaluate(source: str, row: dict | None = None, tables: dict | None = None, table_id: str = "T") -> object:
    context = EvalContext(row=row or {}, tables=tables or {}, stats={"year": 2020, "snapshot": date(2020, 9, 30)})
    return compile_expression(source, table_id)(context)


@pytest.mark.parametrize(
    ("source", "row", "expected"),
    [
        ("总数 == 境内数量 + 境外数量", {"总数": 5, "境内数量": 3, "境外数量": 2}, True),
        ("总数 == 境内数量 + 境外数量", {"总数": 6, "境内数量": 3, "境外数量": 2}, False),
        ("总数 == 境内数量 + 境外数量", {"总数": None, "境内数量": 3, "境外数量": 2}, None),
        ("`使用面积（平方米）` >= 1", {"使用面积（平方米）": 0.5}, False),
        ("a >= b * 2 - 1", {"a": 5, "b": 3}, True),
        ("-a < 0", {"a": 1}, True),
        ("x in ['是', '否']", {"x": "是"}, True),
        ("x not in ['是', '否']", {"x": "是"}, False),
        ("not (a > 1) or b == 'y'", {"a": 2, "b": "y"}, True),
        ("a > 1 and b > 1", {"a": 0, "b": None}, False),
        ("a > 1 and b > 1", {"a": 2, "b": None}, None),
        ("blank(a)", {"a": "  "}, True),
        ("year(d) < $year", {"d": date(2019, 1, 1)}, True),
        ("d <= $snapshot", {"d": date(2020, 10, 1)}, False),
        ("round(a / b, 2) == 0.33", {"a": 1, "b": 3}, True),
        ("a / b > 1", {"a": 1, "b": 0}, None),
        ("0.1 + 0.2 == 0.3", {}, True),
        ("len(x) <= 3", {"x": "abcd"}, False),
        ("startswith(x, '08')", {"x": "080901"}, True),
        ("coalesce(a, b) == 2", {"a": None, "b": 2}, True),
        ("a <= b", {"a": "x", "b": 1}, None),
    ],
)
def test_record_expressions(source: str, row: dict, expected: object) -> None:
    assert evaluate(source, row) == expected


def test_aggregates_over_own_and_other_tables() -> None:
    tables = {
        "T": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": None, "b": "y"}],
        "F": [{"总建筑面积": 100.0}],
    }
    assert evaluate("sum(a) == 3", tables=tables) is True
    assert evaluate("count() == 3 and count(a) == 2", tables=tables) is True
    assert evaluate("distinct_count(b) == 2", tables=tables) is True
    assert evaluate("count_if(b == 'y') == 2", tables=tables) is True
    assert evaluate("max(a) == 2 and min(a) == 1", tables=tables) is True
    assert evaluate("sum(a) < F.总建筑面积", tables=tables) is True
    assert evaluate("sum(a) < F.总建筑面积", tables={"T": tables["T"]}) is None


@pytest.mark.parametrize(
    ("source", "message_part"),
    [
        ("", "为空"),
        ("a ==", "应为字段名"),
        ("(a == 1", "应为 “)”"),
        ("a == 1 b", "已结束"),
        ("a § 1", "无法识别"),
        ("$tomorrow > 1", "未知的统计时间变量"),
    ],
)
def test_parse_errors_are_explained(source: str, message_part: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message_part)):
        parse(source)


def test_no_python_evaluation() -> None:
    with pytest.raises(ExpressionError):
        parse("__import__('os').system('true')")


def _scope(record_level: bool, shape: str = "list") -> Scope:
    return Scope(
        table_id="T",
        headers=frozenset({"a", "b"}),
        shape=shape,
        record_level=record_level,
        other_tables={"T": (shape, frozenset({"a", "b"})), "F": ("form", frozenset({"总数"})),
                      "L": ("list", frozenset({"n"}))},
    )


@pytest.mark.parametrize(
    ("source", "record_level", "message_part"),
    [
        ("c > 1", True, "没有字段 “c”"),
        ("F.总数 > a", True, "逐行校验不能引用其他表"),
        ("sum(a) > 1", True, "不能使用汇总函数"),
        ("a > 1", False, "须放在 sum()"),
        ("sum(a + L.n) > 1", False, "同一张表"),
        ("sum(sum(a)) > 1", False, "不能嵌套"),
        ("frobnicate(a)", True, "未知函数"),
        ("blank(a, b)", True, "参数个数"),
        ("X.a > 1", False, "不存在的表"),
    ],
)
def test_scope_errors(source: str, record_level: bool, message_part: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message_part)):
        check_scope(parse(source), _scope(record_level))


def test_valid_scopes() -> None:
    check_scope(parse("a == b + 1 and blank(a) or a in [1, 2]"), _scope(True))
    check_scope(parse("sum(a) + count() < F.总数 and sum(L.n) > 0"), _scope(False))
    check_scope(parse("a < F.总数"), _scope(False, shape="form"))


def test_field_refs_in_reading_order() -> None:
    refs = field_refs(parse("a + F.总数 > `b`"))
    assert [(ref.table, ref.header) for ref in refs] == [(None, "a"), ("F", "总数"), (None, "b")]


def test_count_matching_looks_up_another_table_per_record() -> None:
    tables = {"S": [{"专业": "0101"}, {"专业": "0101"}, {"专业": 102.0}]}
    assert evaluate("count_matching(S.专业, m)", {"m": "0101"}, tables) == 2
    assert evaluate("count_matching(S.专业, m)", {"m": "102"}, tables) == 1
    assert evaluate("n <= count_matching(S.专业, m)", {"n": 3, "m": "0101"}, tables) is False
    assert evaluate("count_matching(S.专业, m)", {"m": "0101"}, {}) is None
    scope = Scope(table_id="T", headers=frozenset({"m", "n"}), shape="list", record_level=True,
                  other_tables={"S": ("list", frozenset({"专业"}))})
    check_scope(parse("n <= count_matching(S.专业, m)"), scope)
    for bad, message in (("count_matching(m, m)", "其他表的字段"), ("count_matching(S.年级, m)", "没有字段"),
                         ("count_matching(S.专业)", "参数个数")):
        with pytest.raises(ExpressionError, match=message):
            check_scope(parse(bad), scope)


class _Watched(dict):
    """Tables that note which of them an expression asked for."""

    def __init__(self, **tables: list) -> None:
        super().__init__(**tables)
        self.asked: list[str] = []

    def get(self, key: str, default: object = None) -> object:
        self.asked.append(key)
        return super().get(key, default)


def test_and_and_or_decide_from_the_left_side_when_it_is_enough() -> None:
    tables = _Watched(O=[{"x": 1}])
    assert evaluate("1 > 2 and count(O.x) > 0", tables=tables) is False
    assert evaluate("1 < 2 or count(O.x) > 0", tables=tables) is True
    assert tables.asked == []  # the other table was never read
    assert evaluate("1 < 2 and count(O.x) > 0", tables=tables) is True
    assert evaluate("x > 2 and count(O.x) > 0", row={}, tables=tables) is None  # unknown and true: unknown
    assert tables.asked == ["O", "O"]
