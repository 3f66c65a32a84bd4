from __future__ import annotations

from pathlib import Path

import pytest

from statecollect.output import OutputError, write_atomically


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "总表.xlsx"
    target.write_text("old", encoding="utf-8")

    def broken(temp: Path) -> None:
        temp.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="无法写入"):
        write_atomically(target, broken)
    assert target.read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["总表.xlsx"]


def test_writes_replace_whole_files_with_ordinary_permissions(tmp_path: Path) -> None:
    target = write_atomically(tmp_path / "sub" / "a.txt", lambda temp: temp.write_text("new", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o044  # readable by others, unlike a bare temporary file


def test_a_folder_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").mkdir()
    with pytest.raises(OutputError, match="同名的文件夹"):
        write_atomically(tmp_path / "a.xlsx", lambda temp: temp.write_text("x", encoding="utf-8"))
