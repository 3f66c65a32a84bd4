from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from statecollect.errors import UserError
from statecollect.safety import FileKind, UnsafeFile, ZipLimits, ensure_safe_xml, inspect_file, safe_element_tree


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.xlsx", b"", "空文件"),
        ("page.xls", "<html><body><table><tr><td>学号</td></tr></table></body></html>".encode(), "网页"),
        ("export.xls", "\ufeff<?xml version='1.0'?><Workbook>".encode(), "网页"),
        ("list.xlsx", "学号,姓名\n2019001,张三\n".encode(), "文本"),
        ("list_gbk.xls", "学号,姓名\n2019001,张三\n".encode("gbk"), "文本"),
        ("scan.xlsx", b"%PDF-1.7 binary", "PDF"),
        ("random.xlsx", bytes(range(256)) * 4, "无法识别"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 200, "已损坏"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le"), "密码"),
    ],
)
def test_files_are_judged_by_their_bytes(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(UnsafeFile, match=message):
        inspect_file(write(tmp_path / name, data))


def test_a_real_workbook_and_an_old_xls(tmp_path: Path) -> None:
    from openpyxl import Workbook

    Workbook().save(tmp_path / "ok.xlsx")
    assert inspect_file(tmp_path / "ok.xlsx") is FileKind.XLSX
    assert inspect_file(write(tmp_path / "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)) is FileKind.XLS


def test_decompression_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (64 << 20))
    with pytest.raises(UnsafeFile, match="压缩炸弹"):
        inspect_file(path, ZipLimits(max_entry_bytes=32 << 20))
    with pytest.raises(UnsafeFile, match="压缩炸弹"):
        inspect_file(path)


def test_too_many_entries_and_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(20):
            archive.writestr(f"f{index}.txt", "x")
    with pytest.raises(UnsafeFile, match="内部文件"):
        inspect_file(path, ZipLimits(max_entries=10))
    with pytest.raises(UnsafeFile, match="不是 Excel 工作簿"):
        inspect_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnsafeFile, match="找不到文件"):
        inspect_file(tmp_path / "nope.xlsx")


def test_defusedxml_guards_xml_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_safe_xml()  # installed: nothing to say
    monkeypatch.setitem(__import__("sys").modules, "defusedxml.ElementTree", None)  # the module alone missing
    with pytest.raises(UserError, match="安全组件 defusedxml 未安装"):
        ensure_safe_xml()
    monkeypatch.setitem(__import__("sys").modules, "defusedxml", None)  # the whole package
    with pytest.raises(UserError, match="安全组件 defusedxml 未安装"):
        ensure_safe_xml()
    with pytest.raises(UserError, match="安全组件 defusedxml 未安装"):
        safe_element_tree()


def test_the_check_at_start_up_finds_defusedxml_without_importing_it() -> None:
    # the check runs before the first workbook is parsed: an import there would hold the parse back
    import subprocess
    import sys

    code = ("import sys; from statecollect.safety import ensure_safe_xml; ensure_safe_xml(); "
            "print('defusedxml.ElementTree' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
    assert safe_element_tree().__name__ == "defusedxml.ElementTree"


def test_an_encryption_marker_is_found_wherever_a_slice_cuts_it(tmp_path: Path) -> None:
    from statecollect.safety import _ENCRYPTED_STREAM, _holds

    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 5000 + _ENCRYPTED_STREAM + b"\x00" * 300)
    assert all(_holds(path, _ENCRYPTED_STREAM, slice_bytes=5008 + cut) for cut in range(1, len(_ENCRYPTED_STREAM)))
    assert not _holds(path, "Workbook!".encode("utf-16-le"), slice_bytes=1000)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_a_marker_is_found_in_slices_of_any_size_and_only_where_it_is(size: int) -> None:
    from statecollect.safety import found_in_slices

    marker = b"hidden="
    for position in range(0, 30):
        stream = b"x" * position + marker + b"y" * 11
        slices = [stream[start:start + size] for start in range(0, len(stream), size)]
        assert found_in_slices(slices, len(marker) - 1, lambda data: marker in data), (position, size)
        assert not found_in_slices(slices, len(marker) - 1, lambda data: b"hiddenx" in data)


def test_a_one_byte_marker_needs_no_seam() -> None:
    from statecollect.safety import found_in_slices

    slices = [b"ab"] * 3000 + [b"!"]
    assert found_in_slices(slices, 0, lambda data: b"!" in data)
    assert not found_in_slices(slices[:-1], 0, lambda data: b"!" in data)
