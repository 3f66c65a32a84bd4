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


def test_outputs_get_the_mode_of_any_new_file_and_the_umask_is_never_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def changed(mask: int) -> int:
        raise AssertionError("the process umask is shared by every thread: never flipped")

    previous = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", changed)
        target = write_atomically(tmp_path / "a.txt", lambda temp: temp.write_text("x", encoding="utf-8"))
    finally:
        monkeypatch.undo()
        os.umask(previous)
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_temporary_name_already_taken_is_skipped_and_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import secrets

    taken = tmp_path / ".~a.aaaa0000.txt"
    taken.write_text("someone else's", encoding="utf-8")
    names = iter(["aaaa0000", "bbbb1111"])
    monkeypatch.setattr(secrets, "token_hex", lambda size: next(names))
    used: list[str] = []
    write_atomically(tmp_path / "a.txt", lambda temp: used.append(temp.name) or temp.write_text("x", encoding="utf-8"))
    assert used == [".~a.bbbb1111.txt"]
    assert taken.read_text(encoding="utf-8") == "someone else's"
    assert sorted(path.name for path in tmp_path.iterdir()) == [".~a.aaaa0000.txt", "a.txt"]
