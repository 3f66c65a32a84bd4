from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from statecollect.errors import UserError
from statecollect.safety import (
    BrokenZip,
    FileKind,
    UnsafeFile,
    ZipLimits,
    ensure_safe_xml,
    inspect_file,
    safe_element_tree,
    zip_entries,
)


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


def _archive(path: Path, *, comment: bytes = b"", zip64: bool = False, stub: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = comment
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("[Content_Types].xml", "x" * 5000)
        with archive.open("xl/worksheets/表1.xml", "w", force_zip64=zip64) as member:
            member.write(b"<row/>" * 20000)
    if stub:  # a self-extracting archive: bytes before the zip, every offset left as it was
        path.write_bytes(stub + path.read_bytes())
    return path


@pytest.mark.parametrize(
    "options",
    [{}, {"comment": "备注".encode() * 30}, {"zip64": True}, {"stub": b"MZ" + b"\x00" * 3000},
     {"zip64": True, "stub": b"#!/bin/sh\n", "comment": b"x" * 70}],
    ids=["plain", "comment", "zip64", "stub", "all"],
)
def test_the_central_directory_is_read_as_zipfile_reads_it(tmp_path: Path, options: dict) -> None:
    path = _archive(tmp_path / "a.xlsx", **options)
    with zipfile.ZipFile(path) as archive:
        expected = [(info.filename.encode(), info.file_size, info.compress_size) for info in archive.infolist()]
    assert zip_entries(path) == expected
    if "stub" not in options:  # a file that starts otherwise is no workbook, whatever follows
        assert inspect_file(path) is FileKind.XLSX


def test_an_entry_marked_zip64_reads_its_sizes_from_the_extra_field(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.xlsx", zip64=True)
    data = path.read_bytes()
    assert b"\x01\x00\x10\x00" in data  # the zip64 extra field, 16 bytes: both sizes
    [(_, size, packed)] = [entry for entry in zip_entries(path) if entry[0].endswith("表1.xml".encode())]
    assert size == 6 * 20000 and 0 < packed < size


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-10],  # the end record cut short
        lambda data: data[: data.rfind(b"PK\x01\x02")] + b"XX" + data[data.rfind(b"PK\x01\x02") + 2:],  # an entry's magic
        lambda data: data.replace(b"PK\x05\x06", b"PK\x05\x07"),  # no end record at all
        lambda data: data[:20] + data[data.find(b"PK\x01\x02") + 40:],  # bytes missing before the directory
    ],
    ids=["cut", "entry", "no-end", "shifted"],
)
def test_a_damaged_central_directory_is_a_broken_file(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    path = _archive(tmp_path / "a.xlsx")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(BrokenZip):
        zip_entries(path)
    with pytest.raises(UnsafeFile, match="已损坏"):
        inspect_file(path)


def test_a_size_marked_zip64_without_the_field_counts_as_4_gib(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.xlsx")
    data = bytearray(path.read_bytes())
    entry = data.rfind(b"PK\x01\x02")
    data[entry + 24:entry + 28] = b"\xff\xff\xff\xff"  # the last entry's unpacked size
    path.write_bytes(bytes(data))
    assert zip_entries(path)[-1][1] == 0xFFFFFFFF
    with pytest.raises(UnsafeFile, match="压缩炸弹"):
        inspect_file(path)
