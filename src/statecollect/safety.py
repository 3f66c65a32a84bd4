"""Handling untrusted files: what a file really is, and whether it is safe to parse.

A returned file may be anything: a workbook, an old BIFF ``.xls``, a web page or CSV
renamed to ``.xls``, an encrypted workbook, an empty file, or a zip built to explode
when unpacked. Each gets its own plain message before any parser touches it. XML taken
from a returned file is parsed only through defusedxml; the readers check it is there
before they open a file.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from functools import partial
from itertools import islice
from pathlib import Path
from types import ModuleType

from statecollect.errors import UserError

TYPE_CHECKING = False  # typing itself is not imported on the way to the first parse
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["BrokenZip", "FileKind", "UnsafeFile", "ZipLimits", "ensure_safe_xml", "found_in_slices", "inspect_file",
           "safe_element_tree", "zip_entries"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_SNIFF_BYTES = 4096
# the zip format's records (APPNOTE 4.3): the end of the central directory, its zip64 form and
# that form's locator, and one central directory entry, with their sizes before variable parts
_END = struct.Struct("<4s4H2LH")
_END_MAGIC = b"PK\x05\x06"
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64_LOCATOR_MAGIC = b"PK\x06\x07"
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_MAGIC = b"PK\x06\x06"
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")
_ENTRY_MAGIC = b"PK\x01\x02"
_MAX_COMMENT = 0xFFFF
_ZIP64_EXTRA = 0x0001
_ZIP32_FULL = 0xFFFFFFFF  # a size or offset too large for the 32-bit field, given in the zip64 extra field
_WORKBOOK_PARTS = (b"xl/workbook.xml", b"xl/workbook.bin")
_SAFE_XML = "defusedxml.ElementTree"


class FileKind(StrEnum):
    XLSX = "xlsx"
    XLS = "xls"


class UnsafeFile(UserError):
    """A file that is not a workbook, cannot be opened, or is refused as unsafe."""


class ZipLimits:
    """How large an .xlsx may unpack to. Generous for real workbooks, tight for bombs.

    A plain class, not a typed named tuple: the first parse waits for this module, and typing
    would hold it back by 3 ms."""

    __slots__ = ("max_entries", "max_entry_bytes", "max_ratio", "max_total_bytes")

    def __init__(self, *, max_entries: int = 10_000, max_total_bytes: int = 1 << 30, max_entry_bytes: int = 512 << 20,
                 max_ratio: float = 200.0) -> None:
        self.max_entries = max_entries
        self.max_total_bytes = max_total_bytes
        self.max_entry_bytes = max_entry_bytes
        self.max_ratio = max_ratio


def ensure_safe_xml() -> None:
    """Refuse to read workbooks unless defusedxml is there: the scan of a sheet's XML parses with it
    (openpyxl, too, switches to it whenever it can be imported).

    The module is looked up here, not imported (only its small package is): the check runs
    before the first workbook is parsed, and importing the module would hold that parse back
    by 15 ms.
    """
    try:
        found = importlib.util.find_spec(_SAFE_XML) is not None
    except ImportError:  # the package itself is missing or broken
        found = False
    if not found:
        raise _missing_safe_xml()


def safe_element_tree() -> ModuleType:
    """defusedxml's ElementTree, the only parser given XML from a returned file."""
    try:
        return importlib.import_module(_SAFE_XML)
    except ImportError:
        raise _missing_safe_xml() from None


def _missing_safe_xml() -> UserError:
    return UserError("安全组件 defusedxml 未安装，为防范恶意文件，已停止读取", "请重新安装：pip install defusedxml")


def inspect_file(path: Path, limits: ZipLimits | None = None) -> FileKind:
    """What ``path`` is, judged by its leading bytes (not its name); raise :class:`UnsafeFile` if unusable."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise UnsafeFile(f"找不到文件 {path.name}", "请检查文件名和路径") from None
    except OSError as exc:
        raise UnsafeFile(f"无法打开 {path.name}：{exc.strerror or exc}", "文件可能正被其他程序占用，请关闭后重试") from None
    if not head:
        raise UnsafeFile(f"{path.name} 是空文件（0 字节）", "请重新保存或重新发送该文件")
    if head.startswith(_ZIP_MAGIC):
        _check_zip(path, limits or ZipLimits())
        return FileKind.XLSX
    if head.startswith(_OLE_MAGIC):
        if _holds(path, _ENCRYPTED_STREAM):
            raise UnsafeFile(f"{path.name} 设置了打开密码（已加密）", "请在 Excel/WPS 中取消密码后另存为 .xlsx 再交回")
        return FileKind.XLS
    raise UnsafeFile(*_explain_foreign(path, head))


def _holds(path: Path, marker: bytes, slice_bytes: int = 1 << 20) -> bool:
    """Whether the file's bytes contain ``marker``, read a slice at a time (an old workbook may be
    tens of megabytes)."""
    with path.open("rb") as handle:
        return found_in_slices(iter(partial(handle.read, slice_bytes), b""), len(marker) - 1, lambda data: marker in data)


def found_in_slices(slices: Iterable[bytes], overlap: int, found: Callable[[bytes], bool]) -> bool:
    """Whether ``found`` holds for a slice of a stream or for a seam between two (``overlap``
    bytes on either side): no marker up to ``overlap + 1`` bytes long is missed."""
    tail = b""
    for chunk in slices:
        # the seam and the slice apart: joining them would copy every slice once more
        if found(tail + chunk[:overlap]) or found(chunk):
            return True
        tail = (tail + chunk[-overlap:])[-overlap:] if overlap else b""
    return False


def _explain_foreign(path: Path, head: bytes) -> tuple[str, str]:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<meta", b"<?xml", b"mime-version")):
        return (f"{path.name} 实际上是网页（HTML/XML）文件，只是扩展名为 {path.suffix}",
                "请在 Excel/WPS 中打开它，另存为“Excel 工作簿（.xlsx）”后再交回")
    if head.startswith(b"%PDF"):
        return f"{path.name} 是 PDF 文件，不是 Excel 工作簿", "请交回 Excel 格式（.xlsx）的填报表"
    try:
        head.decode("utf-8")
        readable = True
    except UnicodeDecodeError:
        readable = _mostly_text(head)
    if readable:
        return (f"{path.name} 是文本（如 CSV）文件，不是 Excel 工作簿",
                "请在 Excel/WPS 中打开它，另存为“Excel 工作簿（.xlsx）”后再交回")
    return f"{path.name} 不是 Excel 工作簿（无法识别的文件格式）", "请交回 .xlsx 格式的填报表"


def _mostly_text(head: bytes) -> bool:
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


def _check_zip(path: Path, limits: ZipLimits) -> None:
    try:
        entries = zip_entries(path, at_most=limits.max_entries)
    except BrokenZip:
        raise UnsafeFile(f"{path.name} 已损坏（压缩包结构不完整）", "请重新保存或重新发送该文件") from None
    if len(entries) > limits.max_entries:
        raise UnsafeFile(f"{path.name} 含超过 {limits.max_entries} 个内部文件，超出正常工作簿，已拒绝读取", "请在 Excel/WPS 中另存为新文件后再交回")
    total = 0
    for _, file_size, compress_size in entries:
        total += file_size
        ratio = file_size / max(compress_size, 1)
        if file_size > limits.max_entry_bytes or (ratio > limits.max_ratio and file_size > (1 << 20)):
            raise UnsafeFile(f"{path.name} 解压后异常巨大（疑似“压缩炸弹”），已拒绝读取", "请确认文件来源；如为正常文件，请另存为新文件后再交回")
    if total > limits.max_total_bytes:
        raise UnsafeFile(f"{path.name} 解压后超过 {limits.max_total_bytes >> 20} MB，已拒绝读取", "请拆分数据或删除无关工作表后再交回")
    if not any(name in _WORKBOOK_PARTS for name, _, _ in entries):
        raise UnsafeFile(f"{path.name} 是压缩包，但不是 Excel 工作簿", "请交回 .xlsx 格式的填报表")


class BrokenZip(Exception):
    """A zip archive whose central directory cannot be read."""


def zip_entries(path: Path, at_most: int | None = None) -> list[tuple[bytes, int, int]]:
    """The name (as stored), unpacked size and packed size of every member of a zip archive, read
    from its central directory as zipfile reads them: the sizes a reader of the members relies on.

    zipfile itself is not imported for this: with shutil, bz2 and lzma it took 7 ms before the
    first workbook could begin to parse, and the check needs nothing else from it. With
    ``at_most``, no more than one entry beyond it is read: a directory of millions is refused
    without being listed.
    """
    try:
        with path.open("rb") as handle:
            directory = _central_directory(handle)
        return list(islice(_directory_entries(directory), None if at_most is None else at_most + 1))
    except (OSError, struct.error) as error:
        raise BrokenZip(str(error)) from None


def _central_directory(handle: BinaryIO) -> bytes:
    """The central directory, found from the end of the file: bytes before the archive (a
    self-extracting stub) shift every offset in it, and zipfile allows for them."""
    handle.seek(0, os.SEEK_END)
    start = max(0, handle.tell() - _END.size - _MAX_COMMENT)
    handle.seek(start)
    tail = handle.read()
    # an archive without a comment ends with the record; otherwise the last one in the tail
    at = len(tail) - _END.size if tail.endswith(b"\x00\x00") and tail.startswith(_END_MAGIC, len(tail) - _END.size) \
        else tail.rfind(_END_MAGIC)
    if at < 0 or len(tail) - at < _END.size:
        raise BrokenZip("no end of central directory record")
    *_, directory_size, directory_offset, _ = _END.unpack_from(tail, at)
    end = start + at
    # read from the file, not the tail: behind a comment of 64 KiB the locator lies before the tail,
    # and an archive whose two end records describe two directories must be judged by the zip64 one
    locator = end - _END64_LOCATOR.size
    if locator >= 0:
        handle.seek(locator)
        if handle.read(len(_END64_LOCATOR_MAGIC)) == _END64_LOCATOR_MAGIC:
            end, directory_size, directory_offset = _zip64_end(handle, locator)
    directory_start = end - directory_size
    if directory_start < 0 or directory_offset > directory_start:
        raise BrokenZip("the central directory lies outside the file")
    handle.seek(directory_start)
    directory = handle.read(directory_size)
    if len(directory) != directory_size:
        raise BrokenZip("the central directory is cut short")
    return directory


def _zip64_end(handle: BinaryIO, locator: int) -> tuple[int, int, int]:
    """Where the zip64 end record starts, and the directory size and offset it gives."""
    end = locator - _END64.size
    if end < 0:
        raise BrokenZip("no room for the zip64 end record")
    handle.seek(end)
    record = handle.read(_END64.size)
    if len(record) != _END64.size or not record.startswith(_END64_MAGIC):
        raise BrokenZip("no zip64 end record before its locator")
    *_, directory_size, directory_offset = _END64.unpack(record)
    return end, directory_size, directory_offset


def _directory_entries(directory: bytes) -> Iterator[tuple[bytes, int, int]]:
    at = 0
    while at < len(directory):
        if not directory.startswith(_ENTRY_MAGIC, at):
            raise BrokenZip(f"no central directory entry at byte {at}")
        fields = _ENTRY.unpack_from(directory, at)
        compress_size, file_size, name_length, extra_length, comment_length = fields[10:15]
        name_at = at + _ENTRY.size
        extra_at = name_at + name_length
        at = extra_at + extra_length + comment_length
        if at > len(directory):
            raise BrokenZip("an entry runs past the central directory")
        yield (directory[name_at:extra_at], *_zip64_sizes(directory[extra_at:extra_at + extra_length], file_size, compress_size))


def _zip64_sizes(extra: bytes, file_size: int, compress_size: int) -> tuple[int, int]:
    """The sizes, taken from the zip64 extra field where the entry marks them as too large for 32
    bits (a size marked so with no such field stays 4 GiB, and is refused as too large)."""
    at = 0
    while len(extra) - at >= 4:
        kind, length = struct.unpack_from("<2H", extra, at)
        data = extra[at + 4:at + 4 + length]
        if len(data) != length:
            raise BrokenZip(f"extra field {kind:04x} runs past the entry")
        if kind == _ZIP64_EXTRA:
            values = iter(struct.unpack_from(f"<{length // 8}Q", data))
            if file_size == _ZIP32_FULL:
                file_size = _next_size(values)
            if compress_size == _ZIP32_FULL:
                compress_size = _next_size(values)
        at += 4 + length
    return file_size, compress_size


def _next_size(values: Iterator[int]) -> int:
    size = next(values, None)
    if size is None:
        raise BrokenZip("a zip64 extra field without the size it should hold")
    return size
