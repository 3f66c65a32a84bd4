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
import zipfile
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import partial
from pathlib import Path
from types import ModuleType

from statecollect.errors import UserError

__all__ = ["FileKind", "UnsafeFile", "ZipLimits", "ensure_safe_xml", "inspect_file", "safe_element_tree"]

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_SNIFF_BYTES = 4096
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


def inspect_file(path: Path, limits: ZipLimits = ZipLimits()) -> FileKind:
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
        _check_zip(path, limits)
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
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise UnsafeFile(f"{path.name} 已损坏（压缩包结构不完整）", "请重新保存或重新发送该文件") from None
    if len(entries) > limits.max_entries:
        raise UnsafeFile(f"{path.name} 含 {len(entries)} 个内部文件，超出正常工作簿，已拒绝读取", "请在 Excel/WPS 中另存为新文件后再交回")
    total = 0
    for entry in entries:
        total += entry.file_size
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > limits.max_entry_bytes or (ratio > limits.max_ratio and entry.file_size > (1 << 20)):
            raise UnsafeFile(f"{path.name} 解压后异常巨大（疑似“压缩炸弹”），已拒绝读取", "请确认文件来源；如为正常文件，请另存为新文件后再交回")
    if total > limits.max_total_bytes:
        raise UnsafeFile(f"{path.name} 解压后超过 {limits.max_total_bytes >> 20} MB，已拒绝读取", "请拆分数据或删除无关工作表后再交回")
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        raise UnsafeFile(f"{path.name} 是压缩包，但不是 Excel 工作簿", "请交回 .xlsx 格式的填报表")
