from __future__ import annotations

from pathlib import Path

import pytest

from statecollect.schema_loader import SchemaLoadError, check_schema_dir, load_schema_set, table_sort_key


def problems_of(directory: Path) -> list[tuple[str | None, int | None, str]]:
    report = check_schema_dir(directory)
    return [(p.location.file, p.location.line, p.message) for p in report.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_mini_schema_loads(mini_schema: Path) -> None:
    schema_set = load_schema_set(mini_schema)
    assert [table.id for table in schema_set.tables] == ["DW", "RY"]
    assert set(schema_set.code_lists) == {"XB"}


def test_broken_yaml_reports_file_and_line(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "shape: list", "shape: [list")
    [(file, line, message)] = problems_of(mini_schema)
    assert file == "tables/RY.yaml"
    assert line is not None and line >= 7
    assert "YAML 语法错误" in message


def test_unknown_code_list_points_at_its_line(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "code_list: XB}", "code_list: XINGBIE}")
    [(file, line, message)] = problems_of(mini_schema)
    assert (file, line) == ("tables/RY.yaml", 12)
    assert "未知代码表 XINGBIE" in message


def test_a_cascade_under_an_unknown_list_is_reported_once_and_a_wrong_parent_list_once(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "header: 单位号, type: id}", "header: 单位号, type: code, code_list: DANWEI, parent_field: 性别}")
    [(_, _, message)] = problems_of(mini_schema)
    assert "未知代码表 DANWEI" in message
    edit(mini_schema / "tables" / "RY.yaml", "code_list: DANWEI", "code_list: XB")
    [(_, _, message)] = problems_of(mini_schema)
    assert "parent_list 应为上级字段的代码表 XB" in message


def test_reference_to_missing_table_and_field(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "targets: [{table: DW, fields: [单位号]}]",
         "targets: [{table: DW, fields: [单位编号]}, {table: NOPE, fields: [单位号]}]")
    messages = [message for _, _, message in problems_of(mini_schema)]
    assert any("表 DW 没有字段 单位编号" in message for message in messages)
    assert any("不存在的表 NOPE" in message for message in messages)


def test_bad_expression_is_reported_with_line(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "assert: 总数 == 境内 + 境外", "assert: 总数 == 境内 + 海外")
    [(file, line, message)] = problems_of(mini_schema)
    assert (file, line) == ("tables/RY.yaml", 26)
    assert "没有字段 “海外”" in message


def test_duplicate_keys_and_ids(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "{key: JW, header: 境外", "{key: JN, header: 境外")
    edit(mini_schema / "tables" / "DW.yaml", "id: DW.unit_unique", "id: RY.total")
    messages = [message for _, _, message in problems_of(mini_schema)]
    assert any("duplicate field key 'JN'" in message for message in messages)


def test_check_ids_must_be_unique_and_prefixed(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "DW.yaml", "id: DW.unit_unique", "id: RY.total")
    messages = [message for _, _, message in problems_of(mini_schema)]
    assert any("校验标识 RY.total 重复" in message for message in messages)
    assert any("应以表标识 DW. 开头" in message for message in messages)


def test_typo_in_a_key_is_named(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "DW.yaml", "base: true", "bsae: true")
    [(file, line, message)] = problems_of(mini_schema)
    assert (file, line) == ("tables/DW.yaml", 9)
    assert "bsae" in message and "不认识的键" in message


def test_unknown_check_kind(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "DW.yaml", "kind: unique", "kind: uniq")
    [(_, line, message)] = problems_of(mini_schema)
    assert line == 15
    assert "未知的校验类型 'uniq'" in message


def test_date_window_needs_a_time_field(mini_schema: Path) -> None:
    path = mini_schema / "tables" / "RY.yaml"
    path.write_text(path.read_text(encoding="utf-8") + """\
  - id: RY.window
    kind: date_window
    field: 总数
    not_after: {anchor: snapshot}
    message: m
    hint: h
""", encoding="utf-8")
    [(_, _, message)] = problems_of(mini_schema)
    assert "不是年份、年月或日期类型" in message


def test_not_utf8(mini_schema: Path) -> None:
    (mini_schema / "tables" / "DW.yaml").write_bytes("title: 单位".encode("gbk"))
    [(file, _, message)] = problems_of(mini_schema)
    assert file == "tables/DW.yaml" and "UTF-8" in message


def test_missing_directory_and_catalogue(tmp_path: Path) -> None:
    assert "找不到架构目录" in problems_of(tmp_path / "nope")[0][2]
    (tmp_path / "tables").mkdir()
    (tmp_path / "codelists").mkdir()
    assert problems_of(tmp_path)[0][:2] == ("catalogue.yaml", None)


def test_load_raises_with_all_problems(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "RY.yaml", "code_list: XB}", "code_list: XINGBIE}")
    edit(mini_schema / "tables" / "DW.yaml", "kind: unique", "kind: uniq")
    with pytest.raises(SchemaLoadError) as caught:
        load_schema_set(mini_schema)
    assert len(caught.value.problems) == 2


def test_natural_table_order() -> None:
    numbers = ["1-10", "1-2", "SF-10", "1-4-1", "SF-2", "1-1"]
    assert sorted(numbers, key=table_sort_key) == ["1-1", "1-2", "1-4-1", "1-10", "SF-2", "SF-10"]


def test_default_split_names_known_tables_and_departments(mini_schema: Path) -> None:
    (mini_schema / "task_split.yaml").write_text(
        "departments: [人事处]\nassignments:\n  DW: {responsible: 人事处}\n  RY: {responsible: 教务处}\n"
        "  XX: {responsible: 人事处}\n", encoding="utf-8")
    messages = [message for _, _, message in problems_of(mini_schema)]
    assert any("部门 “教务处” 不在 departments 列表中" in message for message in messages)
    assert any("任务分解中的表 XX 不存在" in message for message in messages)


def test_loaded_sets_are_cached_and_edits_invalidate_the_cache(mini_schema: Path) -> None:
    first = load_schema_set(mini_schema)
    caches = list((Path(__import__("os").environ["XDG_CACHE_HOME"]) / "statecollect").glob("schemas-*.pickle"))
    assert caches
    assert load_schema_set(mini_schema) == first
    path = mini_schema / "tables" / "DW.yaml"
    edit(path, "title: 单位", "title: 单位（改）")
    assert load_schema_set(mini_schema).tables[0].title == "单位（改）"
    edit(path, "kind: unique", "kind: uniq")
    with pytest.raises(SchemaLoadError):
        load_schema_set(mini_schema)


def test_a_changed_model_module_is_not_served_old_pickles(mini_schema: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from statecollect import schema_loader

    model = tmp_path / "schema.py"
    model.write_text("# model, version 1\n", encoding="utf-8")
    monkeypatch.setattr(schema_loader.schema_module, "__file__", str(model))
    before = schema_loader._cache_entry(mini_schema)
    model.write_text("# model, version 2 with one more field\n", encoding="utf-8")
    assert schema_loader._cache_entry(mini_schema) != before


def test_a_table_whose_file_is_broken_is_reported_once(mini_schema: Path) -> None:
    edit(mini_schema / "tables" / "DW.yaml", "shape: list", "shape: [list")
    (mini_schema / "task_split.yaml").write_text(
        "departments: [人事处]\nassignments:\n  DW: {responsible: 人事处}\n  RY: {responsible: 人事处}\n", encoding="utf-8")
    problems = problems_of(mini_schema)
    assert [file for file, _, _ in problems] == ["tables/DW.yaml"]


@pytest.mark.parametrize(("change", "explained"), [
    ({"fields": "abc"}, "这里应是列表"),
    ({"may_be_empty": "maybe"}, "应为 true 或 false"),
    ({"fields": [{"key": "A", "header": "甲", "type": "text", "code_list": "XB"}]}, "code_list is only for type code"),
])
def test_a_table_of_the_wrong_shape_is_explained_without_pydantics_words(tmp_path: Path, change: dict[str, object],
                                                                          explained: str) -> None:
    import yaml
    from pydantic import ValidationError

    from statecollect.schema import Table
    from statecollect.yamlsource import validated, validation_problems

    data = {"id": "T", "physical": "TBL_T", "number": "1", "number_2019": "1", "title": "t", "category": 1,
            "shape": "list", "time_basis": "snapshot", "fields": [], **change}
    path = tmp_path / "T.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        validated(Table, data)
    [(line, message)] = validation_problems(path, raised.value)
    assert explained in message and line is not None
    assert "Input should" not in message and "Value error" not in message
