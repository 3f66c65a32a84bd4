"""Where a collection round keeps its files: the settings file, the task split and the folders.

Plain paths only, so that a command can find its collection before it pays for loading
settings and schemas (``validate`` starts reading workbooks at that point).
"""

from __future__ import annotations

from pathlib import Path

from statecollect.errors import UserError

__all__ = ["COLLECTION_FILE", "FOLDERS", "SPLIT_FILE", "CollectionError", "check_year", "find_root"]

COLLECTION_FILE = "collection.yaml"
SPLIT_FILE = "任务分解表.xlsx"
FOLDERS: dict[str, str] = {
    "outbox": "下发",
    "returns": "回收",
    "feedback": "反馈",
    "master": "总表",
    "export": "导入文件",
    "reports": "报告",
    "archive": "归档",
}


class CollectionError(UserError):
    """A collection folder or settings file that cannot be used."""


def check_year(year: int) -> None:
    """Refuse a collection year no round could have."""
    if not 2000 <= year <= 2100:
        raise CollectionError(f"采集年份 {year} 不合理", "用 --year 指定四位年份，如 2020")


def find_root(directory: Path) -> Path:
    """``directory`` or the nearest parent holding ``collection.yaml``."""
    start = directory.resolve()
    for candidate in (start, *start.parents):
        if (candidate / COLLECTION_FILE).is_file():
            return candidate
    raise CollectionError(
        f"{directory} 不是采集文件夹（找不到 {COLLECTION_FILE}）",
        "先运行 statecollect init 文件夹 --year 2020 --school 学校名称 --type 学校性质，或用 --dir 指定采集文件夹",
    )
