"""Turning raw cell values into typed values, and saying plainly what is wrong with them.

Each field gets a parser built once from its schema (type, code list, bounds, pattern);
the parser takes what a reader gives (text, numbers, dates, booleans) and returns the
typed value plus the problems found. Typed values: ``str`` for text-like fields,
``int``/``float`` for numbers, ``int`` for years, ``date`` for dates and for year-months
(day 1). Rule ids here are stable; messages and hints are Chinese.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from statecollect.findings import Severity, shorten
from statecollect.schema import Field, FieldType, Table

__all__ = ["CellIssue", "FieldParser", "Parsed", "all_plain", "build_parser", "canonical_record", "format_value",
           "normalize_text"]

# full-width digits and Latin letters map to ASCII by a fixed offset; full-width CJK punctuation
# such as （） and ，is correct in Chinese text and stays, except in numbers and dates
_FULLWIDTH_ALNUM = {code: code - 0xFEE0 for block in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B))
                    for code in range(*block)}
_FULLWIDTH_ALL = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_SPACES = {0x3000: " ", 0x00A0: " ", 0x2002: " ", 0x2003: " ", 0x2009: " "}
_INVISIBLE = {0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None, 0x2060: None}
_TEXT_TRANSLATION = {**_FULLWIDTH_ALNUM, **_SPACES, **_INVISIBLE}
_VALUE_TRANSLATION = {**_FULLWIDTH_ALL, **_SPACES, **_INVISIBLE}
_PLACEHOLDERS = frozenset({"无", "/", "-", "--", "—", "——", "\\", "N/A", "n/a", "NA", "null", "NULL", "空", "暂无", "0/0"})
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL_RANGE = (1, 80000)  # 1900-01-01 … 2119: numbers in this range may be Excel serial dates

_YEAR_MONTH_TEXT = re.compile(r"^(\d{4})\s*(?:[-./年]\s*)(\d{1,2})\s*月?$")
_YEAR_MONTH_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YEAR_TEXT = re.compile(r"^(\d{4})\s*年?$")
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_NUMBER_TOKEN = re.compile(r"[+-]?\d+(?:\.\d+)?")
_PATTERNS: dict[FieldType, tuple[re.Pattern[str], str]] = {
    FieldType.URL: (re.compile(r"^(https?://)?[\w.-]+\.[a-zA-Z]{2,}(:\d+)?(/\S*)?$"), "网址，如 http://www.example.edu.cn"),
    FieldType.EMAIL: (re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$"), "电子邮箱，如 name@example.edu.cn"),
    FieldType.PHONE: (re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$"), "手机号（11 位）或带区号的固定电话"),
}
_YES = {"是", "Y", "y", "YES", "Yes", "yes", "1", "√", "TRUE", "True", "true"}
_NO = {"否", "N", "n", "NO", "No", "no", "0", "×", "FALSE", "False", "false"}


@dataclass(frozen=True, slots=True)
class CellIssue:
    rule_id: str
    severity: Severity
    message: str
    hint: str


@dataclass(frozen=True, slots=True)
class Parsed:
    value: Any
    issues: tuple[CellIssue, ...] = ()


BLANK = Parsed(None)
ValueParser = Callable[[Any], Parsed]


@dataclass(frozen=True, slots=True)
class FieldParser:
    """Parses one field's cells. ``plain_text`` fields keep clean text as it is, so a whole column of
    clean text (names, numbers of students) can be accepted in one step; see :func:`all_plain`."""

    parse: ValueParser
    plain_text: bool
    max_length: int
    # for number fields whose numbers are their own typed value: whether a set of them needs no message
    plain_numbers: Callable[[set[float]], bool] | None = None

    def __call__(self, raw: Any) -> Parsed:
        return self.parse(raw)


def all_plain(texts: Sequence[str], max_length: int) -> bool:
    """Whether none of ``texts`` needs cleaning or exceeds ``max_length`` — one regex pass over them all."""
    if not texts:
        return True
    if max_length and max(map(len, texts)) > max_length:
        return False
    joined = "\n".join(texts)
    if not joined.isascii() and _ODD.search(joined):  # every odd character is outside ASCII
        return False
    # no leading or trailing space: each text is its own strip (one pass in C; a regex
    # anchored at every line start is four times slower)
    return list(map(str.strip, texts)) == list(texts)


def normalize_text(text: str, *, textual: bool = True) -> str:
    """Full-width letters and digits to ASCII, odd spaces to plain ones, invisible characters removed.

    Outside text fields (numbers, dates, years) full-width punctuation is folded as well.
    """
    return text.translate(_TEXT_TRANSLATION if textual else _VALUE_TRANSLATION).strip()


def _error(rule_id: str, message: str, hint: str) -> CellIssue:
    return CellIssue(rule_id, Severity.ERROR, message, hint)


def _warning(rule_id: str, message: str, hint: str) -> CellIssue:
    return CellIssue(rule_id, Severity.WARNING, message, hint)


def _clean(raw: Any, textual: bool, exact: bool) -> tuple[Any, tuple[CellIssue, ...]]:
    """Normalise text and report invisible or full-width characters; other values pass through.

    For codes and identifiers (``exact``) stray leading or trailing spaces are reported too:
    the platform compares them character by character.
    """
    if not isinstance(raw, str):
        return raw, ()
    text = normalize_text(raw, textual=textual)
    if text and text != (raw if exact else raw.strip(" \t\r\n")):
        return text, (_warning("cell.normalized", f"含全角字符或特殊空格：“{shorten(raw)}”，已按“{shorten(text)}”处理",
                               "请改为半角字符，删除多余空格"),)
    return text, ()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value)


def build_parser(field_: Field, labels: Sequence[str] = ()) -> FieldParser:
    """The parser for one field; ``labels`` are the code list's values for code fields."""
    typed = _TYPED[field_.type](field_, labels)
    checks = _post_checks(field_)
    textual = field_.type in _TEXTUAL or field_.type is FieldType.YES_NO
    exact = field_.type in {FieldType.CODE, FieldType.ID, FieldType.YES_NO}
    plain = field_.type in _PLAIN_TEXT and not field_.pattern
    limit = field_.max_length or 0

    def parse(raw: Any) -> Parsed:
        # most cells are ordinary text: nothing to clean, type or bound
        if plain and type(raw) is str and raw and not _NEEDS_CLEANING.search(raw) and (not limit or len(raw) <= limit):
            return Parsed(raw)
        value, cleaned = _clean(raw, textual, exact)
        if _is_blank(value):
            return BLANK if not cleaned else Parsed(None, cleaned)
        if isinstance(value, str) and value in _PLACEHOLDERS and field_.type not in _TEXTUAL:
            return Parsed(None, (*cleaned, _error("cell.placeholder", f"填写了占位符“{value}”",
                                                  "没有数据时请留空；数量为零时填 0")))
        result = typed(value)
        issues = cleaned + result.issues
        if result.value is not None and checks:
            issues += tuple(issue for check in checks if (issue := check(result.value)) is not None)
        return Parsed(result.value, issues) if issues else result

    return FieldParser(parse, plain, limit, _plain_numbers(field_) if field_.type is FieldType.DECIMAL else None)


def _plain_numbers(field_: Field) -> Callable[[set[float]], bool]:
    """Whether numbers of a decimal field are all within its bounds — what parsing each one would
    find — judged by the set's smallest and largest."""
    low, high = field_.min, field_.max

    def within(numbers: set[float]) -> bool:
        return (low is None or min(numbers) >= low) and (high is None or max(numbers) <= high)

    return within


_TEXTUAL = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.CODE, FieldType.ID})
_PLAIN_TEXT = frozenset({FieldType.TEXT, FieldType.LONG_TEXT, FieldType.ID})
_ODD_CHARACTERS = "[\uff01-\uff5e\u3000\u00a0\u2002\u2003\u2009\u200b-\u200d\ufeff\u2060]"
_NEEDS_CLEANING = re.compile(f"^\\s|\\s$|{_ODD_CHARACTERS}")
_ODD = re.compile(_ODD_CHARACTERS)


# --------------------------------------------------------------------------- numbers


def _number_from_text(text: str) -> tuple[float | None, CellIssue | None]:
    if _NUMBER_TEXT.match(text):
        return float(text), _warning("cell.number_as_text", f"数字“{text}”以文本形式保存", "可在 Excel 中“转换为数字”，不改也能识别")
    numbers = _NUMBER_TOKEN.findall(text.replace(",", "").replace("，", ""))
    if len(numbers) == 1 and len(text) - len(numbers[0]) <= 6:
        return None, _error("cell.number_with_text", f"数字中含单位、文字或分隔符：“{shorten(text)}”", f"只填数字，如 {numbers[0]}")
    return None, _error("cell.not_a_number", f"“{shorten(text)}”不是数字", "请填写数字；没有数据请留空")


def _integer(field_: Field, labels: Sequence[str]) -> ValueParser:
    def parse(value: Any) -> Parsed:
        if isinstance(value, bool):
            return Parsed(None, (_error("cell.not_a_number", f"“{value}”不是整数", "请填写整数"),))
        if isinstance(value, int):
            return Parsed(value)
        if isinstance(value, float):
            if value.is_integer():
                return Parsed(int(value))
            return Parsed(None, (_error("cell.not_integer", f"“{value:g}”不是整数", "请填写整数，不带小数"),))
        if isinstance(value, str):
            number, issue = _number_from_text(value)
            if number is not None and number.is_integer():
                return Parsed(int(number), (issue,) if issue else ())
            if number is not None:
                return Parsed(None, (_error("cell.not_integer", f"“{value}”不是整数", "请填写整数，不带小数"),))
            return Parsed(None, (issue,) if issue else ())
        return Parsed(None, (_error("cell.not_a_number", f"“{shorten(value)}”不是整数", "请填写整数"),))

    return parse


def _decimal(field_: Field, labels: Sequence[str]) -> ValueParser:
    def parse(value: Any) -> Parsed:
        if isinstance(value, bool):
            return Parsed(None, (_error("cell.not_a_number", f"“{value}”不是数字", "请填写数字"),))
        if isinstance(value, int | float):
            return Parsed(float(value))
        if isinstance(value, str):
            number, issue = _number_from_text(value)
            return Parsed(number, (issue,) if issue else ())
        return Parsed(None, (_error("cell.not_a_number", f"“{shorten(value)}”不是数字", "请填写数字"),))

    return parse


# --------------------------------------------------------------------------- years, months, dates


def _from_serial(number: float) -> date | None:
    if _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        return (_EXCEL_EPOCH + timedelta(days=int(number))).date()
    return None


def _year(field_: Field, labels: Sequence[str]) -> ValueParser:
    bad = _error("cell.bad_year", "", "请填写四位年份，如 2020")

    def parse(value: Any) -> Parsed:
        if isinstance(value, datetime | date):
            return Parsed(value.year, (_warning("cell.year_as_date", f"年份以日期形式保存（{value:%Y-%m-%d}）",
                                                "只填四位年份，如 2020"),))
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            year = int(value)
            if 1900 <= year <= 2100:
                return Parsed(year)
        if isinstance(value, str):
            match = _YEAR_TEXT.match(value)
            if match and 1900 <= int(match.group(1)) <= 2100:
                issues = () if value.isdigit() else (_warning("cell.normalized", f"年份写作“{value}”", "只填四位数字，如 2020"),)
                return Parsed(int(match.group(1)), issues)
        return Parsed(None, (CellIssue(bad.rule_id, bad.severity, f"“{shorten(value)}”不是有效年份", bad.hint),))

    return parse


def _month_date(year: int, month: int) -> date | None:
    return date(year, month, 1) if 1900 <= year <= 2100 and 1 <= month <= 12 else None


def _year_month(field_: Field, labels: Sequence[str]) -> ValueParser:
    def bad(value: Any, hint: str = "请按 YYYY-MM 填写，如 2020-09；建议把单元格设为文本格式") -> Parsed:
        return Parsed(None, (_error("cell.bad_year_month", f"“{shorten(value)}”不是有效的年月", hint),))

    def parse(value: Any) -> Parsed:
        if isinstance(value, datetime | date):
            return Parsed(date(value.year, value.month, 1))
        if isinstance(value, bool):
            return bad(value)
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return _year_month_from_integer(int(value), value, bad)
        if isinstance(value, float):
            return _year_month_from_decimal(value, bad)
        if isinstance(value, str):
            match = _YEAR_MONTH_TEXT.match(value) or _YEAR_MONTH_COMPACT.match(value)
            if match and (month := _month_date(int(match.group(1)), int(match.group(2)))):
                canonical = f"{month:%Y-%m}"
                if value == canonical:
                    return Parsed(month)
                if re.fullmatch(r"\d{4}\.1", value):  # from a number: 2020.10 shows as 2020.1
                    return bad(value, f"“{value}”可能是 {value[:4]}-01，也可能是 {value}0 被截短；请按 YYYY-MM 重新填写")
                return Parsed(month, (_warning("cell.normalized", f"年月写作“{value}”，已按 {canonical} 处理",
                                               f"请统一写作 {canonical}"),))
        return bad(value)

    return parse


def _year_month_from_integer(number: int, raw: Any, bad: Callable[..., Parsed]) -> Parsed:
    text = str(number)
    if len(text) == 6 and (month := _month_date(int(text[:4]), int(text[4:]))):
        return Parsed(month, (_warning("cell.normalized", f"年月写作数字 {text}，已按 {month:%Y-%m} 处理",
                                       f"请写作 {month:%Y-%m}"),))
    serial = _from_serial(number)
    if serial is not None:
        return Parsed(date(serial.year, serial.month, 1), (_warning(
            "cell.serial_date", f"年月以 Excel 日期序号 {number} 保存，已按 {serial:%Y-%m} 处理", "请把单元格设为文本并写作 YYYY-MM"),))
    return bad(raw)


def _year_month_from_decimal(number: float, bad: Callable[..., Parsed]) -> Parsed:
    text = f"{number:.2f}".rstrip("0")
    year, _, fraction = text.partition(".")
    if len(year) == 4 and fraction:
        # Excel keeps 2020.10 as 2020.1: only a 1 after the point can stand for two months
        if fraction == "1":
            return bad(number, f"数字 {text} 可能是 {year}-01，也可能是 {year}-10 被 Excel 截短；"
                               f"请把单元格设为文本后按 YYYY-MM 重新填写")
        month = _month_date(int(year), int(fraction))
        if month:
            return Parsed(month, (_warning("cell.normalized", f"年月写作数字 {text}，已按 {month:%Y-%m} 处理",
                                           f"请把单元格设为文本并写作 {month:%Y-%m}"),))
    return bad(number)


def _date(field_: Field, labels: Sequence[str]) -> ValueParser:
    def bad(value: Any) -> Parsed:
        return Parsed(None, (_error("cell.bad_date", f"“{shorten(value)}”不是有效日期", "请按 YYYY-MM-DD 填写，如 2020-09-30"),))

    def parse(value: Any) -> Parsed:
        if isinstance(value, datetime):
            return Parsed(value.date())
        if isinstance(value, date):
            return Parsed(value)
        if isinstance(value, time) or isinstance(value, bool):
            return bad(value)
        if isinstance(value, int | float):
            serial = _from_serial(float(value))
            if serial is not None:
                return Parsed(serial, (_warning("cell.serial_date", f"日期以数字 {value:g} 保存，已按 {serial} 处理",
                                                "请把单元格设为日期格式"),))
            return bad(value)
        match = _DATE_TEXT.match(value) or _DATE_COMPACT.match(value)
        if match:
            try:
                parsed = date(*(int(part) for part in match.groups()))
            except ValueError:
                return bad(value)
            if value == parsed.isoformat():
                return Parsed(parsed)
            return Parsed(parsed, (_warning("cell.normalized", f"日期写作“{value}”，已按 {parsed} 处理", f"请写作 {parsed}"),))
        return bad(value)

    return parse


# --------------------------------------------------------------------------- text, ids, codes


def _text(field_: Field, labels: Sequence[str]) -> ValueParser:
    def parse(value: Any) -> Parsed:
        if isinstance(value, str):
            return Parsed(value)
        return Parsed(format_value(value, field_.type))

    return parse


def _identifier(field_: Field, labels: Sequence[str]) -> ValueParser:
    def parse(value: Any) -> Parsed:
        if isinstance(value, str):
            return Parsed(value)
        if isinstance(value, bool):
            return Parsed(str(value))
        if isinstance(value, int | float):
            if isinstance(value, float) and not value.is_integer():
                return Parsed(f"{value:g}", (_error("cell.id_as_number", f"编号以数字形式保存：{value:g}",
                                                    "请把该列设为文本格式后重新输入编号"),))
            text = str(int(value))
            if len(text) >= 16:
                return Parsed(text, (_error("cell.id_rounded", f"长编号 {text} 以数字形式保存，Excel 只保留 15 位有效数字，末几位可能已变成 0",
                                            "请把该列设为文本格式，按原始编号重新输入"),))
            return Parsed(text, (_warning("cell.id_as_number", f"编号 {text} 以数字形式保存，开头的 0 可能已丢失",
                                          "请把该列设为文本格式后核对编号，必要时重新输入"),))
        return Parsed(format_value(value, field_.type))

    return parse


def _code(field_: Field, labels: Sequence[str]) -> ValueParser:
    known = frozenset(labels)
    folded = {re.sub(r"\s+", "", label): label for label in labels}
    list_text = "、".join(labels[:12]) + (" 等" if len(labels) > 12 else "")

    def parse(value: Any) -> Parsed:
        text = value if isinstance(value, str) else format_value(value, FieldType.TEXT)
        if text in known:
            return Parsed(text)
        squeezed = re.sub(r"\s+", "", text)
        if squeezed in folded:
            label = folded[squeezed]
            return Parsed(label, (_warning("cell.normalized", f"“{text}”含多余空格，已按“{label}”处理", f"请改为“{label}”"),))
        close = _closest(text, labels)
        hint = f"是否应为“{close}”？请从下拉列表中选择" if close else f"请从下拉列表中选择：{list_text}"
        return Parsed(text, (_error("cell.not_in_code_list", f"“{shorten(text)}”不是“{field_.header}”的可选值", hint),))

    return parse


def _closest(text: str, labels: Sequence[str]) -> str | None:
    """The label a typo most likely meant; a same-length match wins, as one wrong character is the usual slip."""
    best, best_score = None, 0.6
    for label in labels:
        score = difflib.SequenceMatcher(None, text, label).ratio() + (0.25 if len(label) == len(text) else 0)
        if score > best_score:
            best, best_score = label, score
    return best


def _yes_no(field_: Field, labels: Sequence[str]) -> ValueParser:
    def parse(value: Any) -> Parsed:
        text = value if isinstance(value, str) else format_value(value, FieldType.TEXT)
        if text in {"是", "否"}:
            return Parsed(text)
        guess = "是" if text in _YES else "否" if text in _NO else None
        hint = f"请改为“{guess}”" if guess else "请填写“是”或“否”"
        return Parsed(text, (_error("cell.not_yes_no", f"“{shorten(text)}”不是“是”或“否”", hint),))

    return parse


def _patterned(field_: Field, labels: Sequence[str]) -> ValueParser:
    pattern, description = _PATTERNS[field_.type]

    def parse(value: Any) -> Parsed:
        text = value if isinstance(value, str) else format_value(value, FieldType.TEXT)
        if pattern.match(text):
            return Parsed(text)
        return Parsed(text, (_error("cell.bad_format", f"“{shorten(text)}”格式不对", f"应为{description}"),))

    return parse


_TYPED: dict[FieldType, Callable[[Field, Sequence[str]], ValueParser]] = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.ID: _identifier,
    FieldType.INTEGER: _integer,
    FieldType.DECIMAL: _decimal,
    FieldType.YEAR: _year,
    FieldType.YEAR_MONTH: _year_month,
    FieldType.DATE: _date,
    FieldType.CODE: _code,
    FieldType.YES_NO: _yes_no,
    FieldType.URL: _patterned,
    FieldType.EMAIL: _patterned,
    FieldType.PHONE: _patterned,
}


def _post_checks(field_: Field) -> list[Callable[[Any], CellIssue | None]]:
    """Bounds, length and pattern checks that apply after typing."""
    checks: list[Callable[[Any], CellIssue | None]] = []
    if field_.min is not None:
        low = field_.min
        checks.append(lambda value: _error("cell.below_min", f"{value:g} 小于下限 {low:g}", f"应不小于 {low:g}")
                      if isinstance(value, int | float) and value < low else None)
    if field_.max is not None:
        high = field_.max
        checks.append(lambda value: _error("cell.above_max", f"{value:g} 大于上限 {high:g}", f"应不大于 {high:g}")
                      if isinstance(value, int | float) and value > high else None)
    if field_.max_length:
        limit = field_.max_length
        checks.append(lambda value: _error("cell.too_long", f"内容有 {len(value)} 个字，超过 {limit} 字", f"请精简到 {limit} 字以内")
                      if isinstance(value, str) and len(value) > limit else None)
    if field_.pattern:
        compiled = re.compile(field_.pattern)
        hint = field_.pattern_hint or f"应符合格式 {field_.pattern}"
        checks.append(lambda value: _error("cell.bad_format", f"“{shorten(value)}”格式不对", hint)
                      if isinstance(value, str) and not compiled.fullmatch(value) else None)
    return checks


def format_value(value: Any, field_type: FieldType) -> str:
    """A typed value as the platform expects it in a cell (years plain, months YYYY-MM, dates ISO)."""
    if value is None:
        return ""
    if field_type is FieldType.YEAR_MONTH and isinstance(value, date):
        return f"{value:%Y-%m}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    return str(value)


def canonical_record(table: Table, row: Mapping[str, Any]) -> dict[str, str]:
    """A record as text in the platform's form, field by field: how records are compared and kept."""
    return {field_.header: format_value(row.get(field_.header), field_.type) for field_ in table.template_fields}
