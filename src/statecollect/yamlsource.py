"""Reading YAML schema files quickly, and finding the line behind a value when needed.

Files are parsed with PyYAML's C loader where available. Line numbers are only looked
up when something is wrong, by composing that one file again, so the normal load
stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import yaml
    from pydantic import TypeAdapter, ValidationError

__all__ = ["YamlFileError", "line_of", "read_yaml", "validated", "validation_problems"]

M = TypeVar("M")


class YamlFileError(Exception):
    """A YAML file that cannot be read or parsed; carries the line where known."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line


def _loader() -> type:
    # imported on first use: commands that run from the schema cache never parse YAML
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, data: bytes | None = None) -> Any:
    """The YAML document in ``path``; ``data``, when given, is the file's content as the caller read it."""
    import yaml

    try:
        text = (path.read_bytes() if data is None else data).decode("utf-8")
    except UnicodeDecodeError:
        raise YamlFileError(path, "文件不是 UTF-8 编码，请用 UTF-8 保存") from None
    except OSError as exc:
        raise YamlFileError(path, f"无法读取文件：{exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "语法错误"
        raise YamlFileError(path, f"YAML 语法错误：{problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(path, f"YAML 语法错误：{exc}") from None
    except ValueError as exc:  # a value PyYAML recognises but cannot build, such as the date 2020-13-15
        raise YamlFileError(path, f"有无法识别的日期或数值（{exc}）") from None


def validated(model: type[M], data: Any) -> M:
    """``data`` (as read from YAML) checked and converted into ``model``, one of the dataclasses of
    :mod:`statecollect.schema` and :mod:`statecollect.collection`; raises pydantic's ValidationError."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        # imported here: only a file not yet in the cache is checked, and pydantic takes a tenth of a second to load
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter.validate_python(data)


# a dict, not functools.cache: mypy will not take a class as a cache key (typeshed calls it unhashable)
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}  # building one takes longer than checking a file


def line_of(path: Path, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the value at ``loc`` (keys and list indexes), or of its nearest parent."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_loader())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in loc:
        child = _child(node, step)
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, step: str | int) -> yaml.Node | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(step):
                return value if not isinstance(value, yaml.ScalarNode) or value.value != "" else key
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def validation_problems(
    path: Path, exc: ValidationError, union_levels: frozenset[str] = frozenset()
) -> list[tuple[int | None, str]]:
    """Each pydantic error of a file as (line, Chinese message).

    ``union_levels`` names the tags pydantic inserts into locations inside discriminated
    unions; YAML has no such level, so they are dropped before the line is looked up.
    """
    problems: list[tuple[int | None, str]] = []
    for error in exc.errors():
        loc: list[str | int] = []
        for step in error["loc"]:
            if isinstance(step, str) and step in union_levels:
                continue
            if isinstance(step, str | int):
                loc.append(step.rstrip("_") if isinstance(step, str) else step)
        if error.get("type") == "union_tag_invalid":
            loc.append("kind")
        where = ".".join(str(step) for step in loc) or "（文件顶层）"
        problems.append((line_of(path, loc), f"{where}：{_explain(error)}"))
    return problems


def _explain(error: Any) -> str:
    kind = error.get("type", "")
    context = error.get("ctx", {})
    value = repr(error.get("input"))
    if kind == "missing":
        return "缺少必填项"
    if kind == "unexpected_keyword_argument":
        return "不认识的键（拼写错误？）"
    if kind == "union_tag_invalid":
        return f"未知的校验类型 {context.get('tag')!r}（可用：{context.get('expected_tags', '')}）"
    if kind in {"enum", "literal_error"}:
        return f"取值 {value} 不在允许范围内（{context.get('expected', '')}）"
    if kind == "string_pattern_mismatch":
        return f"取值 {value} 格式不对（应匹配 {context.get('pattern', '')}）"
    if kind.startswith(("date_", "int_", "float_")):
        return f"取值 {value} 不是有效的{'日期' if kind.startswith('date') else '数字'}"
    if kind in {"dataclass_type", "dict_type"}:
        return f"这里应是若干“键: 值”，而不是 {value}"
    if kind == "tuple_type":  # every list of the models is a tuple
        return f"这里应是列表（每项一行，以“- ”开头），而不是 {value}"
    if kind == "string_type":
        return f"取值 {value} 应为文本"
    if kind.startswith("bool_"):
        return f"取值 {value} 应为 true 或 false"
    if kind == "value_error":  # a model's own check: the message it raised
        return str(context.get("error", error.get("msg", "")))
    return f"取值 {value} 不符合要求（{kind}）"
