"""A collection round's workspace: ``collection.yaml``, the task split and the folders.

``init`` lays a round out in a folder; every later command finds the round by that
folder. The settings file is plain YAML with Chinese comments so the data office can
edit deadlines by hand; it is validated whenever it is read.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from statecollect import cache
from statecollect.catalogue import Catalogue, load_catalogue
from statecollect.errors import UserError
from statecollect.folders import COLLECTION_FILE, FOLDERS, SPLIT_FILE, CollectionError, check_year, find_root
from statecollect.stat_times import StatisticTimes
from statecollect.task_split import default_split, write_split_workbook
from statecollect.output import write_atomically
from statecollect.schema import Model, model
from statecollect.yamlsource import YamlFileError, read_yaml, validated, validation_problems

if TYPE_CHECKING:
    from statecollect.workbook_read import SheetValues

__all__ = [
    "COLLECTION_FILE",
    "FOLDERS",
    "SPLIT_FILE",
    "Collection",
    "CollectionError",
    "Deadlines",
    "InitResult",
    "Period",
    "Workspace",
    "init_collection",
    "open_workspace",
    "read_master_sheets",
]

@model
class Period(Model):
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("结束日期早于开始日期")


@model
class Deadlines(Model):
    """The phases of the plan: 学习部署, 采集填报与审核 (base tables earlier), 分析总结."""

    learning: Period
    collection: Period
    base_tables: date
    analysis: Period

    @classmethod
    def for_year(cls, year: int) -> Deadlines:
        return cls(
            learning=Period(start=date(year, 10, 7), end=date(year, 10, 8)),
            collection=Period(start=date(year, 10, 9), end=date(year, 10, 31)),
            base_tables=date(year, 10, 15),
            analysis=Period(start=date(year, 11, 1), end=date(year, 11, 10)),
        )


@model
class Collection(Model):
    school: str
    school_type: str
    year: int
    edition: str
    deadlines: Deadlines
    secret: str

    @property
    def times(self) -> StatisticTimes:
        return StatisticTimes.for_year(self.year)

    def deadline_for(self, base: bool) -> date:
        return self.deadlines.base_tables if base else self.deadlines.collection.end


@dataclass(frozen=True)
class Workspace:
    """An opened collection folder."""

    root: Path
    collection: Collection

    def folder(self, name: str) -> Path:
        return self.root / FOLDERS[name]

    @property
    def split_path(self) -> Path:
        return self.root / SPLIT_FILE

    @property
    def master_path(self) -> Path:
        """The merged master workbook (there once merge has run)."""
        return self.folder("master") / f"{self.collection.year}_状态数据总表.xlsx"


def read_master_sheets(path: Path) -> list[SheetValues]:
    """The sheets of the collection's master workbook. A damaged master is reported with its own
    remedy, not the one for a department's file: it is merge's output, and merging again rebuilds it."""
    from statecollect.workbook_read import FILE_PROBLEMS, read_sheets

    try:
        return read_sheets(path)
    except FILE_PROBLEMS as problem:
        raise UserError(f"总表 {path.name} 无法读取：{problem.message}",
                        "总表由 statecollect merge 生成：请重新运行 statecollect merge；如暂不需要总表，也可删除该文件后重试") from None


@dataclass
class InitResult:
    root: Path
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"root": str(self.root), "created": [str(path) for path in self.created],
                "kept": [str(path) for path in self.kept]}


def school_types(catalogue: Catalogue) -> tuple[str, ...]:
    """The school types a collection may name: the platform's 学校性质 list."""
    return catalogue.code_list("XXXZ").labels()


def _settings_text(collection: Collection) -> str:
    d = collection.deadlines
    return f"""\
# 状态数据采集设置（可用记事本修改；修改后请运行 statecollect status 检查）
school: {collection.school}          # 学校名称
school_type: {collection.school_type}          # 学校性质（用于对照办学条件指标）
year: {collection.year}                # 采集年份：学年 {collection.year - 1}-09-01 至 {collection.year}-08-31，自然年 {collection.year - 1}，时点 {collection.year}-09-30
edition: "{collection.edition}"            # 使用的数据表版本
deadlines:
  learning: {{start: {d.learning.start}, end: {d.learning.end}}}        # 学习部署
  collection: {{start: {d.collection.start}, end: {d.collection.end}}}      # 采集、填报与审核
  base_tables: {d.base_tables}                                  # 基础数据表截止日
  analysis: {{start: {d.analysis.start}, end: {d.analysis.end}}}        # 分析总结
# 本次采集的密钥：用于识别本校生成的填报表，请勿修改、勿外传
secret: {collection.secret}
"""


def init_collection(directory: Path, *, year: int, school: str, school_type: str, edition: str = "2020") -> InitResult:
    """Lay out a collection round in ``directory``; existing files are kept, never overwritten."""
    catalogue = load_catalogue(edition)
    if school_type not in school_types(catalogue):
        raise CollectionError(
            f"学校性质 “{school_type}” 不在平台的代码表中",
            "可选：" + "、".join(school_types(catalogue)),
        )
    if not school.strip():
        raise CollectionError("学校名称不能为空", "用 --school 指定学校全称")
    check_year(year)
    if directory.exists() and not directory.is_dir():
        raise CollectionError(f"{directory} 已存在且不是文件夹", "请换一个文件夹名")
    result = InitResult(root=directory)
    settings_path = directory / COLLECTION_FILE
    if settings_path.exists():
        result.kept.append(settings_path)
        collection = open_workspace(directory).collection
    else:
        collection = Collection(
            school=school.strip(),
            school_type=school_type,
            year=year,
            edition=catalogue.schema_set.edition,
            deadlines=Deadlines.for_year(year),
            secret=secrets.token_hex(32),
        )
        text = _settings_text(collection)
        write_atomically(settings_path, lambda temp: temp.write_text(text, encoding="utf-8"))
        result.created.append(settings_path)
    for name in FOLDERS.values():
        (directory / name).mkdir(parents=True, exist_ok=True)
    split_path = directory / SPLIT_FILE
    if split_path.exists():
        result.kept.append(split_path)
    else:
        split = default_split(catalogue, collection.school_type, collection.deadline_for)
        write_split_workbook(split, split_path, catalogue, collection.times)
        result.created.append(split_path)
    return result


def open_workspace(directory: Path) -> Workspace:
    """Open the collection in ``directory`` (or the nearest parent holding ``collection.yaml``)."""
    root = find_root(directory)
    return Workspace(root=root, collection=_read_settings(root / COLLECTION_FILE))


def _read_settings(path: Path) -> Collection:
    """A collection's settings; once checked, they are served from the cache until the file changes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CollectionError(f"{COLLECTION_FILE} 无法读取：{exc.strerror or exc}", "请检查文件的访问权限") from None
    entry = cache.entry_for("collection", path, hashlib.sha256(data).hexdigest(), (sys.modules[__name__],))
    collection = cache.load(entry, Collection)
    if collection is None:
        collection = _checked_settings(path, data)
        cache.store(entry, collection)
    return collection


def _checked_settings(path: Path, data: bytes) -> Collection:
    try:
        settings = read_yaml(path, data)
    except YamlFileError as exc:
        where = f"第 {exc.line} 行" if exc.line else ""
        raise CollectionError(f"{COLLECTION_FILE} {where}无法读取：{exc.message}", "请修正后重试") from None
    from pydantic import ValidationError  # a changed file only: see statecollect.schema

    try:
        return validated(Collection, settings)
    except ValidationError as exc:
        lines = [f"第 {line} 行 {message}" if line else message for line, message in validation_problems(path, exc)]
        raise CollectionError(f"{path} 有误：" + "；".join(lines), "请按文件中的注释修正") from None
