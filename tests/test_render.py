"""Every result the library returns can be laid out for the terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rich.console import Console

from statecollect.catalogue import load_catalogue
from statecollect.render import (
    merge_summary,
    prepare_validation_summary,
    schema_listing,
    status_summary,
    table_description,
    validation_summary,
)


def rendered(renderable: object) -> str:
    console = Console(width=160, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_schema_views() -> None:
    catalogue = load_catalogue()
    assert "教职工基本信息" in rendered(schema_listing(catalogue.listing()))
    assert "出生年月" in rendered(table_description(catalogue.describe(catalogue.table("1-5-1"))))


def test_validation_and_status_views(school: Path) -> None:
    from statecollect.validate import validate
    from statecollect.workflow import status

    text = rendered(validation_summary(validate([], root=school, write_feedback=False).to_dict()))
    assert "没有发现错误" in text and "1-5-1 教职工基本信息" in text
    assert "基础数据表截止" in rendered(status_summary(status(school).to_dict()))


def test_the_feedback_column_is_shown_only_when_copies_were_written(school: Path, tmp_path: Path) -> None:
    from statecollect.validate import validate

    without = rendered(validation_summary(validate([], root=school, write_feedback=False).to_dict()))
    with_copies = rendered(validation_summary(validate([], root=school, feedback_dir=tmp_path / "反馈").to_dict()))
    assert "反馈副本" not in without
    assert "反馈副本" in with_copies and "反馈_" in with_copies


def test_frozen_rows_kept_are_shown_apart_from_the_sum() -> None:
    table = {"table": "1-6", "title": "本科生基本情况", "rows_in": 30, "rows_merged": 0, "rows_rejected": 30,
             "rows_frozen": 29, "departments": ["学生处"]}
    result = {"master": "总表.xlsx", "rows_in": 30, "rows_merged": 0, "rows_rejected": 30, "rows_frozen": 29,
              "tables": [table], "findings": []}
    text = rendered(merge_summary(result))
    assert "交回 30 行 = 汇总 0 行 + 未汇总 30 行；另保留冻结版本 29 行" in text and "保留冻结版本" in text.splitlines()[2]
    plain = rendered(merge_summary({**result, "rows_frozen": 0, "tables": [{**table, "rows_frozen": 0}]}))
    assert "冻结" not in plain


def test_the_summary_of_a_batch_with_errors_shows_where_what_and_how(demo_dir: Path) -> None:
    from statecollect.validate import validate

    result = validate([], root=demo_dir, write_feedback=False).to_dict()
    text = rendered(validation_summary(result))
    assert f"错误 {result['errors']} 个" in text and result["errors"] > 0
    assert "错误（显示前" in text and "位置" in text and "修改建议" in text
    first = next(finding for finding in result["findings"] if finding["severity"] == "error" and finding["cell"])
    assert f"› {first['cell']}" in text and first["message"] in text.replace("\n", "")
    assert "请把反馈副本发回各部门修改后重新交回" in text


def test_preparing_the_summary_shows_nothing_and_loads_what_drawing_chinese_needs(capsys: pytest.CaptureFixture[str]) -> None:
    sys.modules.pop("rich._emoji_codes", None)
    prepare_validation_summary()
    assert capsys.readouterr() == ("", "")
    assert "rich._emoji_codes" in sys.modules  # loaded now, not when the real summary is drawn
