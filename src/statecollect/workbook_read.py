"""Reading workbooks fast with python-calamine and finding the platform's tables in them.

Values come from calamine (Rust; no external links followed, no macros run). What
calamine does not tell — hidden rows and columns, formulas saved without a value — is
found by a quick byte scan of each sheet's XML, parsed (through defusedxml) only when
the scan finds something. A table is found by its sheet name (``1-5-1 教职工基本信息``)
or by a header row holding its template headers within the first rows.

calamine parses a sheet without holding Python's interpreter lock, and so does zlib
when it unpacks one for the scan: :class:`ReadAhead` parses the next workbooks on worker
threads while the caller loads its schemas and checks the workbook before, and scans them
once the caller waits for them.
"""

from __future__ import annotations

import gc
import re
import struct
import threading
import zlib
from collections import deque
from functools import partial
from itertools import chain, compress, islice, repeat
from operator import is_
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from types import TracebackType

from python_calamine import CalamineWorkbook

from statecollect.allocator import map_large_blocks, release_freed_memory
from statecollect.errors import UserError
from statecollect.safety import FileKind, UnsafeFile, ensure_safe_xml, found_in_slices, inspect_file, safe_element_tree
from statecollect.workers import Outcome, Workers

TYPE_CHECKING = False  # typing itself is not imported on the way to the first parse
if TYPE_CHECKING:
    import zipfile
    from typing import Any

    from statecollect.schema import Table

__all__ = ["FILE_PROBLEMS", "ReadAhead", "ReadError", "SheetValues", "cell_text", "cyclic_gc_paused", "cyclic_gc_running", "data_columns", "file_state", "find_table", "header_row", "headers_needed", "read_sheets", "records"]

HEADER_SEARCH_ROWS = 10
LARGE_FILE = 512 << 10  # a workbook this large parses into tens of megabytes: two are not read at once
_SCAN_SLICE = 1 << 20
_SCAN_OVERLAP = 8  # longer than any marker searched for
_PACKED_SLICE = 1 << 18
_LOCAL_HEADER_MAGIC = b"PK\x03\x04"
_LOCAL_HEADER_BYTES = 30
_FORMULA_START = re.compile(rb"[<:]f[> /\t\n\r]")  # <f or a prefixed <x:f, then the end of the name
_HIDDEN = re.compile(rb"hidden=")
_ANCHORS_TRIED = 64
_SCAN_HELD_AT_MOST = 0.5  # seconds
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class ReadError(UserError):
    """A workbook that cannot be read."""


FILE_PROBLEMS = (ReadError, UnsafeFile)  # what is wrong with a file itself, not with the program's setup


class SheetValues:
    """One sheet's values, column by column from A1 (every column as long as the sheet), and what
    the values alone do not show.

    Columns, not rows: a table is checked column by column, and the 30,000 lists of a roster's
    rows took longer to make, to turn into columns and to free than the checks of its columns.
    A plain class, not a dataclass or a typed named tuple: this module is imported on the way
    to the first parse (see :mod:`statecollect.batch_files`), which dataclasses or typing
    would hold back by 13 and 3 ms."""

    __slots__ = ("columns", "hidden_columns", "hidden_rows", "merged", "name", "uncached_formulas", "visible")

    def __init__(self, name: str, columns: list[list[Any]], *, visible: bool = True,
                 merged: tuple[tuple[int, int, int, int], ...] = (), hidden_rows: frozenset[int] = frozenset(),
                 hidden_columns: frozenset[int] = frozenset(), uncached_formulas: tuple[str, ...] = ()) -> None:
        self.name = name
        self.columns = columns
        self.visible = visible
        self.merged = merged
        self.hidden_rows = hidden_rows
        self.hidden_columns = hidden_columns
        self.uncached_formulas = uncached_formulas

    @property
    def height(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def row(self, index: int) -> list[Any]:
        """The values of row ``index`` (0-based), left to right."""
        return [column[index] for column in self.columns]

    def rows(self, start: int = 0, stop: int | None = None) -> list[list[Any]]:
        """Rows ``start`` to ``stop`` (all by default), made anew on each call: for the first lines
        of a sheet, small sheets and tests."""
        return [list(values) for values in zip(*(column[start:stop] for column in self.columns))]


def read_sheets(path: Path, skip: Collection[str] = (), scanner: Workers | None = None) -> list[SheetValues]:
    """Every sheet of ``path`` but those named in ``skip``; the file is sniffed and size-checked first.

    With a ``scanner`` thread at hand the XML scan runs there, beside the parse.
    """
    ensure_safe_xml()
    map_large_blocks()  # before the first large block is allocated: see statecollect.allocator
    kind = inspect_file(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        visibility = {meta.name: str(meta.visible).endswith("Visible") for meta in workbook.sheets_metadata}
        scanning = scanner.submit(partial(_scan_structure, path, skip)) if scanner is not None and kind is FileKind.XLSX else None
        # every sheet is parsed before its values become Python objects: parsing needs no
        # interpreter lock, so it runs in full while other threads do Python work
        parsed = [(name, workbook.get_sheet_by_name(name)) for name in workbook.sheet_names if name not in skip]
        if scanning is not None:
            structure = scanning.result()
        else:
            structure = _scan_structure(path, skip) if kind is FileKind.XLSX else {}
        sheets = []
        for name, sheet in parsed:
            hidden_rows, hidden_columns, formulas = structure.get(name, (frozenset(), frozenset(), ()))
            columns = _columns(sheet)
            sheets.append(SheetValues(
                name=name, columns=columns, visible=visibility.get(name, True), merged=tuple(_merged(sheet)),
                # Excel hides "every column to the right" as columns up to 16,384: those beyond the sheet hold nothing
                hidden_rows=hidden_rows, hidden_columns=frozenset(column for column in hidden_columns if column <= len(columns)),
                uncached_formulas=formulas,
            ))
        return sheets
    except UserError:
        raise
    except Exception as exc:
        raise ReadError(f"无法读取 {path.name}：文件已损坏或格式不受支持（{type(exc).__name__}）",
                        "请在 Excel/WPS 中打开后另存为 .xlsx 再交回") from None


class ReadAhead:
    """Reads workbooks on worker threads, at most ``window`` files ahead of the caller.

    The largest files are read first, and iterating yields each file as soon as it has been
    read — its position among ``paths``, the path, and a function that gives its sheets or raises
    the file's :class:`UserError` — so that the caller
    checks small files while a large one is still being parsed. Used as a context manager,
    so that files not yet read are dropped when the caller stops early. The scans wait until
    the caller first iterates (see :class:`_HeldScans`): a reading that is neither iterated
    nor closed holds each of them half a second.

    A parsed sheet takes about twenty times its file's size, so at most one file of
    :data:`LARGE_FILE` or more is read at a time: beside it, the other threads read the smallest.
    """

    def __init__(self, paths: Sequence[Path], skip: Collection[str] = (), *, workers: int = 2, window: int = 4) -> None:
        ensure_safe_xml()  # here, before any thread starts: a missing guard stops the run, not each file
        self.paths = tuple(paths)
        self._skip = frozenset(skip)
        self._states = {path: file_state(path) for path in self.paths}  # taken before reading: a later edit shows
        sized = sorted(((index, path, (self._states[path] or (0, 0))[0]) for index, path in enumerate(self.paths)),
                       key=lambda item: -item[2])
        self._waiting = deque(sized)
        self._pending: dict[Outcome, tuple[int, Path, int]] = {}
        self._finished = threading.Condition()
        self._ended: list[Outcome] = []
        self._readers = Workers(workers, "statecollect-read")
        # threads of their own: readers wait for their scans, which must never queue behind those readers
        self._scanner = _HeldScans()
        self._window = max(1, window)
        self._workers = workers
        self._started = 0
        self._fill()

    def _fill(self) -> None:
        while self._waiting and len(self._pending) < self._window:
            taken = self._next_to_read()
            if taken is None:
                return
            index, path, size = taken
            # the first reads of each thread have nothing to hand back yet
            read = _trim_then_read if self._started >= self._workers else read_sheets
            self._pending[self._readers.submit(partial(read, path, self._skip, self._scanner), self._read_ended)] = (index, path, size)
            self._started += 1

    def _read_ended(self, outcome: Outcome) -> None:
        with self._finished:
            self._ended.append(outcome)
            self._finished.notify()

    def _next_to_read(self) -> tuple[int, Path, int] | None:
        """The largest waiting file, unless both it and one being read are large: then the smallest,
        if that is not large too; None when only large files wait beside a large one being read."""
        if not any(size >= LARGE_FILE for _, _, size in self._pending.values()) or self._waiting[0][2] < LARGE_FILE:
            return self._waiting.popleft()
        if self._waiting[-1][2] < LARGE_FILE:
            return self._waiting.pop()
        return None

    def __iter__(self) -> Iterator[tuple[int, Path, Callable[[], list[SheetValues]]]]:
        self._scanner.release.set()  # the caller waits from here on: its core is free for the scans
        while self._pending:
            for outcome in sorted(self._wait_for_ended(), key=lambda item: self._pending[item][0]):
                index, path, _ = self._pending.pop(outcome)
                self._fill()
                yield index, path, outcome.result

    def _wait_for_ended(self) -> list[Outcome]:
        """The readings ended since last asked, once there is at least one."""
        with self._finished:
            self._finished.wait_for(lambda: self._ended)
            ended, self._ended = self._ended, []
        return ended

    def state_when_read(self, path: Path) -> tuple[int, int] | None:
        """The :func:`file_state` of ``path`` taken before it was read."""
        return self._states.get(path)

    def close(self, wait: bool = True) -> None:
        """Drop the files not yet read; with ``wait``, let those being read end first."""
        self._waiting.clear()
        self._scanner.release.set()  # a reader waiting for its held scan would never end
        self._readers.shutdown(wait)
        self._scanner.shutdown(wait)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


class _HeldScans(Workers):
    """The scan thread, holding its scans back until the caller first waits for a workbook.

    A scan unpacks a whole sheet again (15 ms for a 30,000-row one). Started beside the first
    parse, it took a core from that parse, the command's longest step, while the caller was
    still importing and loading its schemas; once the caller waits, a core is free.
    """

    def __init__(self) -> None:
        super().__init__(1, "statecollect-scan")
        self.release = threading.Event()

    def submit(self, call: Callable[[], Any], when_done: Callable[[Outcome], None] | None = None) -> Outcome:
        return super().submit(partial(self._when_released, call), when_done)

    def _when_released(self, call: Callable[[], Any]) -> Any:
        # held for a while, never for good: a reading nobody iterates or closes must still let the process end
        self.release.wait(_SCAN_HELD_AT_MOST)
        return call()

    def shutdown(self, wait: bool = True) -> None:
        self.release.set()  # a held scan must not keep the threads from ending
        super().shutdown(wait)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Hold Python's cycle collector while workbooks are read and checked.

    Their values are hundreds of thousands of small lists, tuples and strings without
    reference cycles, freed by reference counting all the same; the collector would only
    walk them again and again — half the time of checking a 30,000-row sheet.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def cyclic_gc_running() -> Iterator[None]:
    """Run the cycle collector, whatever the caller chose: openpyxl's workbooks are cyclic
    (each cell points back to its sheet), and none would be freed without it."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


def _trim_then_read(path: Path, skip: Collection[str], scanner: Workers) -> list[SheetValues]:
    """:func:`read_sheets` on a worker thread, after handing back what earlier reads freed."""
    release_freed_memory()
    return read_sheets(path, skip, scanner)


_CHUNK_ROWS = 2048


def _columns(sheet: Any) -> list[list[Any]]:
    """A sheet's values, column by column from A1, equal texts of a repeating column one object.

    calamine makes a new string for every cell: a column of 30,000 students repeats a few
    dozen major names. Converted whole, the copies would die only after the sheet was
    checked, leaving holes in the memory kept for the values that stay; shared a few
    thousand rows at a time, each batch of copies is freed before the next is made.
    """
    texts: dict[str, str] = {}
    repeating: set[int] = set()
    columns: list[list[Any]] = []
    source = sheet.iter_rows()
    while chunk := list(islice(source, _CHUNK_ROWS)):
        width = len(chunk[0])  # iter_rows gives every row the sheet's width
        values = list(chain.from_iterable(chunk))
        if not columns:
            repeating = set(_repeating_columns(values, width))
            columns = [[] for _ in range(width)]
        for index, column in enumerate(columns):
            cells = values[index::width]
            column.extend(_shared_texts(cells, texts) if index in repeating else cells)
    offset = sheet.start[1] if sheet.start and columns else 0  # calamine leaves out the empty columns on the left
    return [[""] * len(columns[0]) for _ in range(offset)] + columns


def _repeating_columns(values: list[Any], width: int) -> list[int]:
    """The columns of texts holding at most one distinct value in two rows of ``values`` (the first
    rows of a sheet, row after row): sharing the texts of the others (names, ID numbers) would cost
    time and save nothing, and only texts are shared (a column of years holds one, its header,
    besides its blank cells)."""
    height = len(values) // width
    found = []
    for column in range(width):
        distinct = set(values[column::width])
        if 2 * len(distinct) <= height and sum(type(value) is str and value != "" for value in distinct) > 1:
            found.append(column)
    return found


def _shared_texts(cells: list[Any], texts: dict[str, str]) -> Iterator[Any]:
    """``cells`` with each text replaced by the first equal one seen. Only texts join ``texts``:
    TRUE equals 1.0 and -0.0 equals 0.0, but no number equals a text, so looking every cell up
    there leaves numbers, booleans and dates as they were read. Each pass runs in C; only the
    new distinct values are looked at one by one."""
    texts.update((value, value) for value in set(cells).difference(texts) if type(value) is str)
    return map(texts.get, cells, cells)


def file_state(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time (ns), to tell later whether it changed; None if it cannot be seen."""
    try:
        status = path.stat()
    except OSError:
        return None  # read (and reported) like any other file
    return status.st_size, status.st_mtime_ns


def _merged(sheet: Any) -> list[tuple[int, int, int, int]]:
    ranges = getattr(sheet, "merged_cell_ranges", None) or []
    return [(start[0], start[1], end[0], end[1]) for start, end in ranges]


# --------------------------------------------------------------------------- the XML scan


def _scan_structure(path: Path, skip: Collection[str] = ()) -> dict[str, tuple[frozenset[int], frozenset[int], tuple[str, ...]]]:
    """Hidden rows and columns and value-less formulas per sheet but those in ``skip``, by a byte scan first."""
    import zipfile  # here, on the scan thread: the first parse does not wait for it (see safety.zip_entries)

    found: dict[str, tuple[frozenset[int], frozenset[int], tuple[str, ...]]] = {}
    with zipfile.ZipFile(path) as archive:
        for name, member in _sheet_members(archive).items():
            if name in skip:
                continue  # the dropdown lists of a generated workbook are as large as its data
            try:
                if _may_hide_or_compute(archive, member):
                    found[name] = _parse_sheet_xml(archive.read(member))
            except KeyError:
                continue
    return found


def _may_hide_or_compute(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether a sheet's XML mentions hidden rows or columns or holds a formula; read in slices,
    so a large sheet is never held unpacked in memory."""
    return found_in_slices(_unpacked(archive, member), _SCAN_OVERLAP, lambda data: _has_hidden(data) or _has_formula(data))


def _unpacked(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """A member's bytes, unpacked a slice (at most ``_SCAN_SLICE``) at a time.

    zipfile's reader also checks the CRC of what it unpacks, which takes longer than unpacking
    (a 30,000-row sheet: 28 ms against 10): the scan only looks for markers, and calamine has
    read the values. Members stored otherwise than deflated go through zipfile.
    """
    import zipfile

    info = archive.getinfo(member)
    if info.compress_type != zipfile.ZIP_DEFLATED or archive.fp is None:
        with archive.open(member) as stream:
            yield from iter(partial(stream.read, _SCAN_SLICE), b"")
        return
    handle = archive.fp  # the archive's own file: no member of it is open meanwhile
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER_BYTES)
    if len(header) < _LOCAL_HEADER_BYTES or not header.startswith(_LOCAL_HEADER_MAGIC):
        raise zipfile.BadZipFile(f"no local header for {member}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(name_length + extra_length, 1)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream, as zip holds it
    left, unpacked = info.compress_size, 0
    while left > 0 and (packed := handle.read(min(left, _PACKED_SLICE))):
        left -= len(packed)
        # bounded output: what a packed slice unfolds to is never held whole; a full slice may
        # leave more inside zlib, so it is asked again until it gives less
        while chunk := inflater.decompress(packed, _SCAN_SLICE):
            unpacked += len(chunk)
            if unpacked > info.file_size:  # as zipfile and calamine do: the size was checked, not what follows
                raise zipfile.BadZipFile(f"{member} is larger than its declared size")
            yield chunk
            packed = inflater.unconsumed_tail
            if not packed and len(chunk) < _SCAN_SLICE:
                break


def _has_hidden(data: bytes) -> bool:
    """Whether ``data`` holds ``hidden=``, the attribute of a hidden row or column."""
    return _found_at_anchors(data, b"d", 2, _HIDDEN)


def _has_formula(data: bytes) -> bool:
    """Whether ``data`` may hold the start of an ``<f>`` element, also written ``<x:f>`` by tools that
    prefix SpreadsheetML (``<formula1>`` of a data validation is none). A text that happens to
    match only costs the exact parse."""
    return _found_at_anchors(data, b"f", 1, _FORMULA_START)


def _found_at_anchors(data: bytes, anchor: bytes, back: int, marker: re.Pattern[bytes]) -> bool:
    """Whether ``marker``, whose byte ``back`` is ``anchor``, is in ``data``: tried at each anchor.

    A sheet's tags and attributes hardly use the anchors (d, f), and finding one byte runs at
    memchr speed, while a search compares at every position (25 times slower on a 30,000-row
    sheet). Where an anchor is not rare — text written into the sheet itself — everything from
    the next one on is searched in one pass.
    """
    at = data.find(anchor, back)
    for _ in range(_ANCHORS_TRIED):
        if at == -1:
            return False
        if marker.match(data, at - back):
            return True
        at = data.find(anchor, at + 1)
    return at != -1 and marker.search(data, at - back) is not None


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    etree = safe_element_tree()

    try:
        book = etree.fromstring(archive.read("xl/workbook.xml"))
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, etree.ParseError):
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL_NS}Relationship")}
    members = {}
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{_REL_NS}id"), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        members[sheet.get("name", "")] = member
    return members


def _parse_sheet_xml(data: bytes) -> tuple[frozenset[int], frozenset[int], tuple[str, ...]]:
    etree = safe_element_tree()

    hidden_rows: set[int] = set()
    hidden_columns: set[int] = set()
    formulas: list[str] = []
    root = etree.fromstring(data)
    for column in root.iter(f"{_MAIN_NS}col"):
        if column.get("hidden") in {"1", "true"}:
            hidden_columns.update(range(int(column.get("min", "0")), int(column.get("max", "0")) + 1))
    for row in root.iter(f"{_MAIN_NS}row"):
        if row.get("hidden") in {"1", "true"}:
            hidden_rows.add(int(row.get("r", "0")))
        for cell in row.iter(f"{_MAIN_NS}c"):
            formula = cell.find(f"{_MAIN_NS}f")
            value = cell.find(f"{_MAIN_NS}v")
            if formula is not None and (value is None or value.text in (None, "")):
                formulas.append(cell.get("r", ""))
    return frozenset(hidden_rows), frozenset(hidden_columns), tuple(formulas)


# --------------------------------------------------------------------------- tables


def cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def headers_needed(count: int, share: float) -> int:
    """How many of ``count`` headers (at least one) make up ``share`` of them."""
    return max(1, int(count * share + 0.999))


def header_row(sheet: SheetValues, headers: Sequence[str], minimum_share: float = 1.0) -> int | None:
    """The 0-based index of the row holding ``headers`` (at least ``minimum_share`` of them)."""
    wanted = set(headers)
    needed = headers_needed(len(wanted), minimum_share)
    for index, row in enumerate(sheet.rows(0, HEADER_SEARCH_ROWS)):
        if len(wanted & {cell_text(value) for value in row}) >= needed:
            return index
    return None


def find_table(sheets: Sequence[SheetValues], table: Table, minimum_share: float = 1.0) -> tuple[SheetValues, int] | None:
    """The sheet holding ``table`` and its header row index, by sheet name first, then by headers."""
    headers = [field.header for field in table.template_fields]
    by_name = [sheet for sheet in sheets if sheet.name.split(" ")[0] == table.number and not table.part_of]
    for sheet in (*by_name, *sheets):
        index = header_row(sheet, headers, minimum_share)
        if index is not None:
            return sheet, index
    return None


def records(sheet: SheetValues, header_index: int, headers: Sequence[str]) -> list[dict[str, Any]]:
    """Rows below the header as header → value, skipping rows that show nothing (see :func:`data_columns`)."""
    names = [cell_text(value) for value in sheet.row(header_index)]
    positions: Mapping[str, int] = {name: names.index(name) for name in headers if name in names}
    _, columns = data_columns(sheet, header_index + 1, list(positions.values()))
    return [dict(zip(positions, values)) for values in zip(*columns)]


def data_columns(sheet: SheetValues, start: int, positions: list[int]) -> tuple[Sequence[int], list[list[Any]]]:
    """The Excel row numbers of the rows from ``start`` (0-based) on with a visible value in
    ``positions`` (a range when every row has one), and those positions' columns. A row of spaces
    or full-width spaces, typed below a table or left by clearing cells, shows as nothing and is
    no row. A position beyond the sheet's last column is a column of blanks.

    Tens of thousands of rows pass here, so each step is one pass in C (slices, map, set):
    calamine writes blank cells as ``""``.
    """
    height = sheet.height - start
    if not positions or height <= 0:
        return [], [[] for _ in positions]
    picked = [sheet.columns[position][start:] if position < len(sheet.columns) else [""] * height for position in positions]
    numbers: Sequence[int] = range(start + 1, start + 1 + height)
    # a row that shows nothing starts with a cell that shows nothing: only such rows are looked at whole
    unseen = _unseen(picked[0])
    if unseen:
        kept = [index for index, first in enumerate(picked[0])
                if first not in unseen or any(cell_text(column[index]) for column in picked)]
        numbers = [start + 1 + index for index in kept]
        picked = [[column[index] for index in kept] for column in picked]
    return numbers, picked


def _unseen(values: list[Any]) -> set[Any]:
    """Those of ``values`` that show as nothing (:func:`cell_text` is empty): blank, or spaces only."""
    with suppress(TypeError):  # str.isspace refuses a number: the column is looked at value by value
        if not any(map(str.isspace, values)) and "" not in values and None not in values:
            return set()  # texts only, each showing something: the usual first column, told in C
    distinct = set(values)
    texts = list(compress(distinct, map(is_, map(type, distinct), repeat(str))))
    return ({"", None} & distinct) | set(compress(texts, map(str.isspace, texts)))
