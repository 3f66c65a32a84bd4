from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from statecollect.collection import COLLECTION_FILE, FOLDERS, SPLIT_FILE, CollectionError, init_collection, open_workspace


def test_init_lays_out_the_round(collection_dir: Path) -> None:
    assert (collection_dir / COLLECTION_FILE).is_file()
    assert (collection_dir / SPLIT_FILE).is_file()
    for name in FOLDERS.values():
        assert (collection_dir / name).is_dir()
    workspace = open_workspace(collection_dir)
    collection = workspace.collection
    assert (collection.school, collection.school_type, collection.year) == ("测试艺术学院", "艺术院校", 2020)
    assert collection.deadlines.base_tables == date(2020, 10, 15)
    plan = collection.deadlines
    assert (plan.learning.start, plan.learning.end) == (date(2020, 10, 7), date(2020, 10, 8))
    assert (plan.collection.start, plan.collection.end) == (date(2020, 10, 9), date(2020, 10, 31))
    assert (plan.analysis.start, plan.analysis.end) == (date(2020, 11, 1), date(2020, 11, 10))
    assert collection.times.academic_start == date(2019, 9, 1)
    assert len(collection.secret) == 64


def test_deadlines_follow_the_year(tmp_path: Path) -> None:
    init_collection(tmp_path / "c", year=2023, school="某大学", school_type="综合院校")
    collection = open_workspace(tmp_path / "c").collection
    assert collection.deadlines.base_tables == date(2023, 10, 15)
    assert collection.times.snapshot == date(2023, 9, 30)


def test_init_never_overwrites(collection_dir: Path) -> None:
    settings = collection_dir / COLLECTION_FILE
    split = collection_dir / SPLIT_FILE
    settings.write_text(settings.read_text(encoding="utf-8").replace("base_tables: 2020-10-15", "base_tables: 2020-10-16"),
                        encoding="utf-8")
    before = (settings.read_bytes(), split.read_bytes())
    result = init_collection(collection_dir, year=2021, school="别的学校", school_type="综合院校")
    assert result.created == [] and set(result.kept) == {settings, split}
    assert (settings.read_bytes(), split.read_bytes()) == before
    assert open_workspace(collection_dir).collection.deadlines.base_tables == date(2020, 10, 16)


def test_secrets_differ_between_collections(tmp_path: Path) -> None:
    init_collection(tmp_path / "a", year=2020, school="甲", school_type="综合院校")
    init_collection(tmp_path / "b", year=2020, school="乙", school_type="综合院校")
    assert open_workspace(tmp_path / "a").collection.secret != open_workspace(tmp_path / "b").collection.secret


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"school_type": "艺术学院"}, "学校性质"), ({"school": "  "}, "学校名称"), ({"year": 20}, "采集年份")],
)
def test_init_rejects_bad_settings(tmp_path: Path, kwargs: dict, message: str) -> None:
    settings = {"year": 2020, "school": "某大学", "school_type": "综合院校", **kwargs}
    with pytest.raises(CollectionError, match=message):
        init_collection(tmp_path / "c", **settings)
    assert not (tmp_path / "c" / COLLECTION_FILE).exists()


def test_workspace_is_found_from_a_subfolder(collection_dir: Path) -> None:
    assert open_workspace(collection_dir / FOLDERS["returns"]).root == collection_dir.resolve()


def test_not_a_collection(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="不是采集文件夹"):
        open_workspace(tmp_path)


def test_edited_settings_are_validated_with_lines(collection_dir: Path) -> None:
    settings = collection_dir / COLLECTION_FILE
    settings.write_text(settings.read_text(encoding="utf-8").replace("base_tables: 2020-10-15", "base_tables: 10月15日"),
                        encoding="utf-8")
    with pytest.raises(CollectionError) as caught:
        open_workspace(collection_dir)
    assert "第 9 行" in caught.value.message and "base_tables" in caught.value.message


def test_settings_once_checked_are_read_back_without_yaml_and_edits_are_seen(
        collection_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from statecollect import collection

    first = open_workspace(collection_dir).collection
    monkeypatch.setattr(collection, "read_yaml", lambda *args: pytest.fail("settings parsed again"))
    assert open_workspace(collection_dir).collection == first
    monkeypatch.undo()
    settings = collection_dir / COLLECTION_FILE
    settings.write_text(settings.read_text(encoding="utf-8").replace(first.school, "另一所大学"), encoding="utf-8")
    assert open_workspace(collection_dir).collection.school == "另一所大学"
    settings.write_text(settings.read_text(encoding="utf-8").replace("year: 2020", "year: 二〇二〇"), encoding="utf-8")
    with pytest.raises(CollectionError, match="year"):
        open_workspace(collection_dir)
    with pytest.raises(CollectionError, match="year"):  # a broken file is never kept: it is reported every time
        open_workspace(collection_dir)


def test_settings_are_read_when_no_cache_can_be_kept(collection_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(collection_dir / COLLECTION_FILE))  # a file: no folder can be made there
    assert open_workspace(collection_dir).collection.year == 2020
    assert open_workspace(collection_dir).collection.year == 2020


def test_an_impossible_date_in_the_settings_is_explained(collection_dir: Path) -> None:
    settings = collection_dir / COLLECTION_FILE
    settings.write_text(settings.read_text(encoding="utf-8").replace("base_tables: 2020-10-15", "base_tables: 2020-13-15"),
                        encoding="utf-8")
    with pytest.raises(CollectionError, match="无法识别的日期"):
        open_workspace(collection_dir)


@pytest.mark.parametrize(("before", "after", "explained"), [
    ("base_tables: 2020-10-15", "base_tables: [2020-10-15]", "不是有效的日期"),
    ("school: ", "school: [甲, 乙]\nx_school: ", "应为文本"),
    ("  learning:", "  learning: 十月\n  x_learning:", "键: 值"),
])
def test_settings_of_the_wrong_shape_are_explained_in_chinese(collection_dir: Path, before: str, after: str,
                                                                 explained: str) -> None:
    settings = collection_dir / COLLECTION_FILE
    text = settings.read_text(encoding="utf-8")
    assert before in text
    settings.write_text(text.replace(before, after, 1), encoding="utf-8")
    with pytest.raises(CollectionError, match=explained) as raised:
        open_workspace(collection_dir)
    assert "Input should" not in raised.value.args[0]
