from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from unittest import mock

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
    assert len(zip_entries(path, at_most=10)) == 11  # a directory of millions is not listed whole to be refused
    assert len(zip_entries(path)) == 20
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
    # zipfile writes zip64 records only past 4 GiB or 65,535 members: lowered limits make them here
    limits = {"ZIP64_LIMIT": 100, "ZIP_FILECOUNT_LIMIT": 1} if zip64 else {"ZIP64_LIMIT": zipfile.ZIP64_LIMIT}
    with mock.patch.multiple(zipfile, **limits), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.comment = comment
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("[Content_Types].xml", "x" * 5000)
        archive.writestr("xl/worksheets/表1.xml", b"<row/>" * 20000)
    if stub:  # a self-extracting archive: bytes before the zip, every offset left as it was
        path.write_bytes(stub + path.read_bytes())
    return path


@pytest.mark.parametrize("zip64", [False, True], ids=["zip32", "zip64"])
@pytest.mark.parametrize("comment", [b"", "备注".encode() * 30, b"x" * 65535], ids=["no-comment", "comment", "longest-comment"])
@pytest.mark.parametrize("stub", [b"", b"MZ" + b"\x00" * 3000], ids=["archive", "self-extracting"])
def test_the_central_directory_is_read_as_zipfile_reads_it(tmp_path: Path, zip64: bool, comment: bytes, stub: bytes) -> None:
    path = _archive(tmp_path / "a.xlsx", comment=comment, zip64=zip64, stub=stub)
    assert (b"PK\x06\x06" in path.read_bytes()) is zip64  # the zip64 end record
    with zipfile.ZipFile(path) as archive:
        expected = [(info.filename.encode(), info.file_size, info.compress_size) for info in archive.infolist()]
    assert zip_entries(path) == expected
    if not stub:  # a file that starts otherwise is no workbook, whatever follows
        assert inspect_file(path) is FileKind.XLSX


def test_sizes_too_large_for_32_bits_are_read_from_the_zip64_field(tmp_path: Path) -> None:
    path = _archive(tmp_path / "a.xlsx", zip64=True)
    data = path.read_bytes()
    assert b"\xff\xff\xff\xff\xff\xff\xff\xff" in data[data.find(b"PK\x01\x02"):]  # both 32-bit sizes of an entry given up
    assert ("xl/worksheets/表1.xml".encode(), 6 * 20000) in [(name, size) for name, size, _ in zip_entries(path)]


def _entry(name: bytes, size: int, packed: int, extra: bytes = b"", comment: bytes = b"") -> bytes:
    return struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, 8, 0, 0, 0, packed, size, len(name), len(extra),
                       len(comment), 0, 0, 0, 0) + name + extra + comment


@pytest.mark.parametrize("comment_length", [100, 65530])
def test_a_zip64_directory_behind_a_harmless_one_is_the_one_judged(tmp_path: Path, comment_length: int) -> None:
    # two directories: the 32-bit end record names a harmless one, the zip64 end record (which
    # zipfile and calamine's reader follow) three members of 400 MB packed into 1 MB each
    start = b"PK\x03\x04" + b"\x00" * 200
    bomb = b"".join(_entry(b"xl/worksheets/sheet%d.xml" % n, 400 << 20, 1 << 20) for n in range(3))
    bomb += _entry(b"xl/workbook.xml", 10, 10)
    harmless_at = len(start)
    bomb_at = harmless_at + 46 + len(b"xl/workbook.xml") + 4  # inside the harmless entry's extra field
    zip64_end = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 4, 4, len(bomb), bomb_at)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, bomb_at + len(bomb), 1)
    harmless = _entry(b"xl/workbook.xml", 10, 10, struct.pack("<2H", 0xCAFE, len(bomb)) + bomb, zip64_end + locator)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(harmless), harmless_at, comment_length)
    path = write(tmp_path / "hidden.xlsx", start + harmless + end + b"x" * comment_length)
    with zipfile.ZipFile(path) as archive:
        assert [info.file_size for info in archive.infolist()] == [400 << 20] * 3 + [10]
    assert [size for _, size, _ in zip_entries(path)] == [400 << 20] * 3 + [10]
    with pytest.raises(UnsafeFile, match="压缩炸弹"):
        inspect_file(path)


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
