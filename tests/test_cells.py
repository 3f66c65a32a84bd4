from __future__ import annotations

from datetime import date, datetime

import pytest

from statecollect.cells import build_parser, format_value, normalize_text
from statecollect.findings import Severity
from statecollect.schema import Field, FieldType
from statecollect.yamlsource import validated


def parse(kind: str, raw: object, labels: tuple[str, ...] = (), **extra: object) -> tuple[object, list[str]]:
    field = validated(Field, {"key": "F", "header": "字段", "type": kind, **({"code_list": "L"} if kind == "code" else {}), **extra})
    parsed = build_parser(field, labels)(raw)
    return parsed.value, [issue.rule_id for issue in parsed.issues]


@pytest.mark.parametrize(
    ("kind", "raw", "value", "rules"),
    [
        ("integer", 12.0, 12, []),
        ("integer", "12", 12, ["cell.number_as_text"]),
        ("integer", "12人", None, ["cell.number_with_text"]),
        ("integer", "1,234", None, ["cell.number_with_text"]),
        ("integer", "１２", 12, ["cell.normalized", "cell.number_as_text"]),
        ("integer", 12.5, None, ["cell.not_integer"]),
        ("integer", "无", None, ["cell.placeholder"]),
        ("integer", "/", None, ["cell.placeholder"]),
        ("decimal", "约50000", None, ["cell.number_with_text"]),
        ("decimal", "五万", None, ["cell.not_a_number"]),
        ("decimal", 3, 3.0, []),
        ("year", 2019.0, 2019, []),
        ("year", "2019年", 2019, ["cell.normalized"]),
        ("year", "19", None, ["cell.bad_year"]),
        ("year_month", "2020-09", date(2020, 9, 1), []),
        ("year_month", datetime(2020, 9, 1), date(2020, 9, 1), []),
        ("year_month", 198009, date(1980, 9, 1), ["cell.normalized"]),
        ("year_month", "2020年9月", date(2020, 9, 1), ["cell.normalized"]),
        ("year_month", "2020.9", date(2020, 9, 1), ["cell.normalized"]),
        ("year_month", 2020.9, date(2020, 9, 1), ["cell.normalized"]),
        ("year_month", "2020.1", None, ["cell.bad_year_month"]),  # or 2020.10, cut short
        ("year_month", 2020.1, None, ["cell.bad_year_month"]),
        ("year_month", "2020.10", date(2020, 10, 1), ["cell.normalized"]),
        ("year_month", 2020.12, date(2020, 12, 1), ["cell.normalized"]),
        ("year_month", 2020.11, date(2020, 11, 1), ["cell.normalized"]),
        ("year_month", 44075.0, date(2020, 9, 1), ["cell.serial_date"]),
        ("year_month", "1985-13", None, ["cell.bad_year_month"]),
        ("date", "2020.9.30", date(2020, 9, 30), ["cell.normalized"]),
        ("date", 44104, date(2020, 9, 30), ["cell.serial_date"]),
        ("date", "2020-02-30", None, ["cell.bad_date"]),
        ("id", "000123", "000123", []),
        ("id", 123.0, "123", ["cell.id_as_number"]),
        ("id", 110101199003077000.0, "110101199003076992", ["cell.id_rounded"]),
        ("id", "00123\u200b", "00123", ["cell.normalized"]),
        ("id", " 00123", "00123", ["cell.normalized"]),
        ("text", "\u3000张三", "张三", ["cell.normalized"]),
        ("text", "学院（筹）", "学院（筹）", []),
        ("yes_no", "Y", "Y", ["cell.not_yes_no"]),
        ("url", "www.example.edu.cn", "www.example.edu.cn", []),
        ("email", "a@b", "a@b", ["cell.bad_format"]),
        ("phone", "13800138000", "13800138000", []),
    ],
)
def test_values_are_typed_and_explained(kind: str, raw: object, value: object, rules: list[str]) -> None:
    assert parse(kind, raw) == (value, rules)


def test_code_lists_with_near_miss_hints() -> None:
    labels = ("教授", "副教授", "讲师")
    field = Field(key="F", header="专业技术职称", type=FieldType.CODE, code_list="L")
    parser = build_parser(field, labels)
    assert parser("副教授").issues == ()
    wrong = parser("付教授")
    assert wrong.issues[0].rule_id == "cell.not_in_code_list" and "副教授" in wrong.issues[0].hint
    spaced = parser("副 教授")
    assert spaced.value == "副教授" and spaced.issues[0].severity is Severity.WARNING
    trailing = build_parser(Field(key="X", header="性别", type=FieldType.CODE, code_list="XB"), ("男", "女"))("男 ")
    assert trailing.value == "男" and trailing.issues[0].rule_id == "cell.normalized"


def test_bounds_length_and_pattern() -> None:
    assert parse("integer", 120, min=0, max=100)[1] == ["cell.above_max"]
    assert parse("decimal", -1, min=0)[1] == ["cell.below_min"]
    assert parse("text", "一二三四", max_length=3)[1] == ["cell.too_long"]
    assert parse("text", "AB-1", pattern=r"\d+")[1] == ["cell.bad_format"]


def test_blank_is_blank() -> None:
    assert parse("integer", None) == (None, [])
    assert parse("text", "   ") == (None, [])


def test_normalize_keeps_chinese_punctuation() -> None:
    assert normalize_text("ＡＢＣ１２３（中）") == "ABC123（中）"
    assert normalize_text("１２．５", textual=False) == "12.5"


def test_format_for_the_platform() -> None:
    assert format_value(date(2020, 9, 1), FieldType.YEAR_MONTH) == "2020-09"
    assert format_value(date(2020, 9, 30), FieldType.DATE) == "2020-09-30"
    assert format_value(12.0, FieldType.INTEGER) == "12"
    assert format_value(None, FieldType.TEXT) == ""


ISBN = r"(?:ISBN[:：]?\s*)?(?:97[89][- ]?)?(?:\d[- ]?){9}[\dXx]"  # as in schemas/2020/tables/JSCBZZQK.yaml


@pytest.mark.parametrize(
    ("kind", "raw", "value", "rules", "extra"),
    [
        ("text", "张\u00a0三", "张 三", ["cell.normalized"], {}),  # a non-breaking space becomes a plain one
        ("text", "张三\u200b", "张三", ["cell.normalized"], {}),
        ("integer", "-", None, ["cell.placeholder"], {}),
        ("decimal", "—", None, ["cell.placeholder"], {}),
        ("text", "-", "-", [], {}),  # in text a dash is text
        ("phone", "13800138000", "13800138000", [], {}),
        ("phone", "010-62751234", "010-62751234", [], {}),
        ("phone", "1380013800", "1380013800", ["cell.bad_format"], {}),  # a wrong value is kept, and marked
        ("phone", 13800138000.0, "13800138000", [], {}),  # a mobile number survives being stored as a number
        ("phone", 1062751234.0, "1062751234", ["cell.bad_format"], {}),  # a landline loses its leading 0
        ("url", "https://www.example.edu.cn/about", "https://www.example.edu.cn/about", [], {}),
        ("url", "学校主页", "学校主页", ["cell.bad_format"], {}),
        ("email", "office@example.edu.cn", "office@example.edu.cn", [], {}),
        ("email", "office.example.edu.cn", "office.example.edu.cn", ["cell.bad_format"], {}),
        ("id", "978-7-04-012345-6", "978-7-04-012345-6", [], {"pattern": ISBN}),
        ("id", "7-04-012345-X", "7-04-012345-X", [], {"pattern": ISBN}),
        ("id", "978-7-04", "978-7-04", ["cell.bad_format"], {"pattern": ISBN}),
    ],
)
def test_spaces_placeholders_and_patterns_on_both_sides(kind: str, raw: object, value: object, rules: list[str],
                                                        extra: dict[str, object]) -> None:
    assert parse(kind, raw, **extra) == (value, rules)


def test_an_id_excel_has_rounded_is_an_error_asking_for_text() -> None:
    field = Field(key="F", header="身份证件号", type=FieldType.ID)
    [issue] = build_parser(field)(110101199003077000.0).issues
    assert issue.rule_id == "cell.id_rounded" and issue.severity is Severity.ERROR and "文本" in issue.hint
