from __future__ import annotations

import gc
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from statecollect import workbook_read
from statecollect.catalogue import load_catalogue
from statecollect.errors import UserError
from statecollect.workbook_read import (
    ReadAhead,
    SheetValues,
    cyclic_gc_paused,
    cyclic_gc_running,
    data_columns,
    find_table,
    header_row,
    read_sheets,
    records,
)


def test_tables_are_found_by_name_or_by_headers_and_structure_is_seen(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "导出数据"
    sheet.append(["本科生名单"])
    sheet.append(["学号", "学生姓名", "性别", "校内专业（大类）名称", "校内专业（大类）代码", "生源类别", "年级", "入学年份"])
    sheet.append(["001", "张三", "男", "音乐学", "0101", "境内", 2019, 2019])
    sheet.append([None] * 8)
    sheet.append(["002", "李四", "女", "音乐学", "0101", "境内", 2019, "=2018+1"])
    sheet.row_dimensions[5].hidden = True
    sheet.merge_cells("A1:C1")
    workbook.save(tmp_path / "a.xlsx")
    [read] = read_sheets(tmp_path / "a.xlsx")
    assert read.hidden_rows == frozenset({5}) and read.uncached_formulas == ("H5",)
    assert read.merged == ((0, 0, 0, 2),)
    found = find_table([read], load_catalogue().table("1-6"))
    assert found is not None and found[1] == 1
    rows = records(read, found[1], ["学号", "学生姓名"])
    assert [row["学号"] for row in rows] == ["001", "002"]


def test_tool_sheets_can_be_skipped_neither_parsed_nor_scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workbook = Workbook()
    workbook.create_sheet("_lists").row_dimensions[3].hidden = True
    workbook.save(tmp_path / "b.xlsx")
    scanned: list[str] = []
    real_scan = workbook_read._may_hide_or_compute
    monkeypatch.setattr(workbook_read, "_may_hide_or_compute",
                        lambda archive, member: scanned.append(member) or real_scan(archive, member))
    assert [sheet.name for sheet in read_sheets(tmp_path / "b.xlsx", skip={"_lists"})] == ["Sheet"]
    assert scanned == ["xl/worksheets/sheet1.xml"]


def _sheet_with_rows(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def test_read_ahead_yields_every_file_once_with_its_position_and_own_outcome(tmp_path: Path) -> None:
    paths = [_sheet_with_rows(tmp_path / f"{index}.xlsx", [[f"文件{index}", "填充" * index * 200]]) for index in range(5)]
    broken = tmp_path / "2.xlsx"
    broken.write_text("<html>不是工作簿</html>", encoding="utf-8")
    outcomes = {}
    with ReadAhead(paths, workers=2, window=2) as reading:
        for index, path, sheets in reading:
            assert path == paths[index]
            try:
                outcomes[index] = sheets()[0].rows()[0][0]
            except UserError as error:
                outcomes[index] = type(error).__name__
    assert outcomes == {0: "文件0", 1: "文件1", 2: "UnsafeFile", 3: "文件3", 4: "文件4"}


def test_read_ahead_starts_with_the_largest_files(tmp_path: Path) -> None:
    paths = [_sheet_with_rows(tmp_path / f"{index}.xlsx", [["行"] * (1 + index * 300)]) for index in range(4)]
    with ReadAhead(paths, workers=1, window=1) as reading:
        order = [index for index, _, _ in reading]
    assert order == [3, 2, 1, 0]


def test_beside_a_large_file_only_small_ones_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    large = workbook_read.LARGE_FILE
    sizes = {"big.xlsx": 3 * large, "second.xlsx": large, "a.xlsx": 10, "b.xlsx": 12, "c.xlsx": 11}
    paths = [_sheet_with_rows(tmp_path / name, [[name]]) for name in sizes]
    monkeypatch.setattr(workbook_read, "file_state", lambda path: (sizes[path.name], 0))
    started: list[str] = []
    real = workbook_read.read_sheets
    monkeypatch.setattr(workbook_read, "read_sheets", lambda path, *more: started.append(path.name) or real(path, *more))
    with ReadAhead(paths, workers=1, window=4) as reading:
        assert [sheets()[0].rows()[0][0] for _, _, sheets in reading] == started
    # the second large file waits for the first; the small ones go beside it, smallest first
    assert started == ["big.xlsx", "a.xlsx", "c.xlsx", "b.xlsx", "second.xlsx"]


def test_files_below_the_large_size_are_read_two_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    paths = [_sheet_with_rows(tmp_path / f"{index}.xlsx", [["x"]]) for index in range(6)]
    monkeypatch.setattr(workbook_read, "file_state", lambda path: (workbook_read.LARGE_FILE - 1, 0))
    lock, reading_now, most = threading.Lock(), [0], [0]
    real = workbook_read.read_sheets

    def slow(path: Path, *more: object) -> object:
        with lock:
            reading_now[0] += 1
            most[0] = max(most[0], reading_now[0])
        time.sleep(0.05)
        with lock:
            reading_now[0] -= 1
        return real(path, *more)

    monkeypatch.setattr(workbook_read, "read_sheets", slow)
    monkeypatch.setattr(workbook_read, "release_freed_memory", lambda: None)
    with ReadAhead(paths, workers=2, window=4) as reading:
        assert len(list(reading)) == 6
    assert most[0] == 2


def test_read_ahead_stops_reading_when_left_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    paths = [_sheet_with_rows(tmp_path / f"{index}.xlsx", [["x"]]) for index in range(6)]
    asked: list[Path] = []
    first_handed_over = threading.Event()
    real = workbook_read.read_sheets

    def read(path: Path, *more: object) -> object:
        if asked:  # every read after the first waits until the caller has left
            first_handed_over.wait(5)
        asked.append(path)
        return real(path, *more)

    monkeypatch.setattr(workbook_read, "read_sheets", read)
    monkeypatch.setattr(workbook_read, "release_freed_memory", lambda: None)
    with ReadAhead(paths, workers=1, window=3) as reading:
        _, first_path, first = next(iter(reading))
        assert first_path in paths and first()[0].rows() == [["x"]]
        first_handed_over.set()
    # the one read under way when the caller left finishes; the files waiting in the window are dropped
    assert len(asked) == 2

def test_scans_wait_until_the_caller_waits_for_a_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a scan started beside the first parse took a core from it while the caller was still busy
    import threading

    path = _sheet_with_rows(tmp_path / "a.xlsx", [["x"]])
    scanned = threading.Event()
    real_scan = workbook_read._scan_structure
    monkeypatch.setattr(workbook_read, "_scan_structure", lambda *args: scanned.set() or real_scan(*args))
    with ReadAhead([path]) as reading:
        assert not scanned.wait(0.3)  # parsed by now, and held: a scan let go would have run within milliseconds
        [(_, _, sheets)] = list(reading)
        assert scanned.is_set() and sheets()[0].rows() == [["x"]]


def test_a_read_ahead_closed_unread_does_not_wait_for_its_held_scans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setattr(workbook_read, "_SCAN_HELD_AT_MOST", 60.0)  # only close() can let the scan go
    path = _sheet_with_rows(tmp_path / "a.xlsx", [["x"]])
    reading = ReadAhead([path])
    started = time.perf_counter()
    reading.close()  # would wait out the hold if the reader kept waiting for a scan nobody lets go
    assert time.perf_counter() - started < 10
    assert reading._readers.closed and reading._scanner.closed


def test_a_read_ahead_nobody_iterates_still_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # neither iterated nor closed: its held scan goes after a while, so the reads end and the process can
    monkeypatch.setattr(workbook_read, "_SCAN_HELD_AT_MOST", 0.2)
    path = _sheet_with_rows(tmp_path / "a.xlsx", [["x"]])
    reading = ReadAhead([path])
    [outcome] = reading._pending
    assert outcome.result(timeout=20)[0].rows() == [["x"]]
    reading.close()


def test_later_reads_first_hand_back_what_earlier_reads_freed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [_sheet_with_rows(tmp_path / f"{index}.xlsx", [["x"]]) for index in range(5)]
    trims: list[str] = []
    monkeypatch.setattr(workbook_read, "release_freed_memory", lambda: trims.append("trim"))
    with ReadAhead(paths, workers=2, window=1) as reading:
        assert len(list(reading)) == 5
    assert trims == ["trim"] * 3  # not before each thread's first read: nothing was freed yet


def test_equal_texts_of_a_sheet_are_one_object_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_read, "_CHUNK_ROWS", 4)  # the first chunk: the header and three students
    rows = [["学号", "学院", "在校"], *[[f"2020{n:04d}", "音乐学院", 1.5] for n in range(7)]]
    path = _sheet_with_rows(tmp_path / "a.xlsx", rows)
    read = read_sheets(path)[0].rows()
    assert read == rows
    assert len({id(row[1]) for row in read[1:]}) == 1  # one 音乐学院 for seven rows
    assert len({id(row[0]) for row in read[1:]}) == 7


def test_values_other_than_texts_come_back_as_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # TRUE equals 1.0 and -0.0 equals 0.0: none may come back as another, whichever chunk came first
    monkeypatch.setattr(workbook_read, "_CHUNK_ROWS", 8)  # the first eight repeat four values, two of them texts: a column to share
    shared: list[int] = []
    real_share = workbook_read._shared_texts
    monkeypatch.setattr(workbook_read, "_shared_texts", lambda cells, texts: shared.append(len(cells)) or real_share(cells, texts))
    first = ["是", "否", "是", "否", 1.0, 0.0, 1.0, 0.0]
    later = [True, False, 1.0, -0.0, 0.0, "是", 1.0, "否"]
    path = _sheet_with_rows(tmp_path / "a.xlsx", [[value, str(index)] for index, value in enumerate(first + later)])
    read = read_sheets(path)[0].rows()
    assert shared == [8, 8]  # the first column, chunk by chunk
    assert [repr(row[0]) for row in read] == [repr(value) for value in first + later]
    with zipfile.ZipFile(path) as archive:
        assert b"<v>-0</v>" in archive.read("xl/worksheets/sheet1.xml")  # the sign is in the file


def test_a_sheet_starting_below_and_right_of_a1_is_read_from_a1(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active["C3"] = "表头"
    workbook.active["D4"] = 2.0
    workbook.save(tmp_path / "a.xlsx")
    assert read_sheets(tmp_path / "a.xlsx")[0].rows() == [["", "", "", ""], ["", "", "", ""], ["", "", "表头", ""], ["", "", "", 2.0]]


def test_the_cycle_collector_runs_inside_whatever_the_caller_chose() -> None:
    gc.disable()
    try:
        with cyclic_gc_running():
            assert gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with cyclic_gc_running():
        assert gc.isenabled()
    assert gc.isenabled()


def test_the_cycle_collector_is_held_only_inside_and_restored(tmp_path: Path) -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # a caller's own choice is left as it was
    finally:
        gc.enable()


@pytest.mark.parametrize("marker", ["hidden", "formula"])
def test_markers_across_a_scan_slice_boundary_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    workbook = Workbook()
    sheet = workbook.active
    for number in range(1, 400):
        sheet.append([f"行{number}", number])
    if marker == "hidden":
        sheet.row_dimensions[300].hidden = True
    else:
        sheet["C300"] = "=B300*2"
    workbook.save(tmp_path / "c.xlsx")
    with zipfile.ZipFile(tmp_path / "c.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    at = xml.index(b"hidden=" if marker == "hidden" else b"<f>")
    found = []
    for offset in range(1, 7):  # every way of cutting the marker in two
        monkeypatch.setattr(workbook_read, "_SCAN_SLICE", at + offset)
        [read] = read_sheets(tmp_path / "c.xlsx")
        found.append(read.hidden_rows == frozenset({300}) if marker == "hidden" else read.uncached_formulas == ("C300",))
    assert all(found)


def test_data_validation_formulas_are_not_taken_for_cell_formulas(tmp_path: Path) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["性别"])
    rule = DataValidation(type="list", formula1='"男,女"')
    sheet.add_data_validation(rule)
    rule.add("A2:A100")
    workbook.save(tmp_path / "d.xlsx")
    with zipfile.ZipFile(tmp_path / "d.xlsx") as archive:
        assert b"<formula1>" in archive.read("xl/worksheets/sheet1.xml")
        assert not workbook_read._may_hide_or_compute(archive, "xl/worksheets/sheet1.xml")


def test_the_scan_unpacks_a_sheet_as_zipfile_does_slice_by_slice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _sheet_with_rows(tmp_path / "a.xlsx", [[f"第{n}行", n * 1.5, "填充" * (n % 7)] for n in range(3000)])
    monkeypatch.setattr(workbook_read, "_SCAN_SLICE", 4096)
    monkeypatch.setattr(workbook_read, "_PACKED_SLICE", 1000)
    with zipfile.ZipFile(path) as archive:
        slices = list(workbook_read._unpacked(archive, "xl/worksheets/sheet1.xml"))
        assert b"".join(slices) == archive.read("xl/worksheets/sheet1.xml")
    assert len(slices) > 10 and max(map(len, slices)) <= 4096


def test_a_sheet_stored_without_compression_is_scanned_too(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active["A1"] = "=1+1"
    workbook.save(tmp_path / "deflated.xlsx")
    with zipfile.ZipFile(tmp_path / "deflated.xlsx") as source, zipfile.ZipFile(tmp_path / "stored.xlsx", "w") as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item), compress_type=zipfile.ZIP_STORED)
    [sheet] = read_sheets(tmp_path / "stored.xlsx")
    assert sheet.uncached_formulas == ("A1",)


def test_a_sheet_whose_local_header_is_broken_is_an_unreadable_file(tmp_path: Path) -> None:
    path = _sheet_with_rows(tmp_path / "a.xlsx", [["x"]])
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo("xl/worksheets/sheet1.xml").header_offset
    data = bytearray(path.read_bytes())
    data[offset:offset + 4] = b"XXXX"
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive, pytest.raises(zipfile.BadZipFile):
        list(workbook_read._unpacked(archive, "xl/worksheets/sheet1.xml"))
    with pytest.raises(UserError):
        read_sheets(path)


def test_a_member_ending_just_past_a_full_slice_is_unpacked_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    data = b"z" * ((1 << 20) + 100)  # the last bytes stay inside zlib after a full slice
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("s.xml", data)
    with zipfile.ZipFile(path) as archive:
        assert b"".join(workbook_read._unpacked(archive, "s.xml")) == data


def test_a_member_larger_than_it_declares_is_refused_not_unpacked(tmp_path: Path) -> None:
    import struct

    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("s.xml", b"<c/>" * 500_000)
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 1000)  # declares 1,000 bytes
    data[22:26] = struct.pack("<I", 1000)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("s.xml").file_size == 1000
        with pytest.raises(zipfile.BadZipFile, match="declared"):
            list(workbook_read._unpacked(archive, "s.xml"))


@pytest.mark.parametrize("xml", [b'<c r="B2"><f>A1*2</f></c>', b'<x:c r="B2"><x:f>A1*2</x:f></x:c>',
                                 b'<c r="B2"><f\nt="shared" ref="B2:B9" si="0"/></c>'])
def test_formulas_are_found_however_the_element_is_written(xml: bytes) -> None:
    assert workbook_read._has_formula(b"<sheetData><row r=\"2\">" + xml + b"</row></sheetData>")


def test_a_prefixed_sheet_reports_its_formula_without_a_value() -> None:
    xml = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
           b'<x:row r="2"><x:c r="B2"><x:f>A1*2</x:f></x:c></x:row></x:sheetData></x:worksheet>')
    assert workbook_read._parse_sheet_xml(xml) == (frozenset(), frozenset(), ("B2",))
    assert not workbook_read._has_formula(b'<dataValidation><formula1>"a,b"</formula1></dataValidation>')


def test_read_sheets_refuses_to_read_without_defusedxml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _sheet_with_rows(tmp_path / "a.xlsx", [["x"]])
    monkeypatch.setitem(sys.modules, "defusedxml.ElementTree", None)  # as if it were not installed
    with pytest.raises(UserError, match="defusedxml"):
        read_sheets(path)


@pytest.mark.parametrize(("search", "marker"), [("_has_hidden", b'<row r="9" hidden="1">'), ("_has_formula", b"<f>A1*2</f>")])
def test_markers_behind_many_look_alikes_are_found(search: str, marker: bytes) -> None:
    # text in the sheet itself may repeat the letter a marker is looked for from: past a few dozen
    # of them, the rest of the slice is searched in one pass
    look_alikes = b"<is><t>d f fd odd offered</t></is>" * 200
    has_marker = getattr(workbook_read, search)
    assert has_marker(look_alikes + marker + look_alikes)
    assert has_marker(marker + look_alikes)
    assert not has_marker(look_alikes)


def test_a_read_fixes_the_allocator_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _sheet_with_rows(tmp_path / "a.xlsx", [["x"]])
    order: list[str] = []
    monkeypatch.setattr(workbook_read, "map_large_blocks", lambda: order.append("mallopt"))
    real_open = workbook_read.CalamineWorkbook.from_path
    monkeypatch.setattr(workbook_read, "CalamineWorkbook", type("Opener", (), {
        "from_path": staticmethod(lambda name: order.append("parse") or real_open(name))}))
    read_sheets(path)
    assert order[:2] == ["mallopt", "parse"]


def test_only_columns_of_repeating_texts_are_shared() -> None:
    rows = [["学号", "性别", "年级"], *[[str(number), "男女"[number % 2], 2019.0 + number % 2] for number in range(9)]]
    values = [value for row in rows for value in row]
    assert workbook_read._repeating_columns(values, 3) == [1]  # 年级 repeats too, but only its header is a text


def test_an_empty_sheet_has_no_rows_and_no_records() -> None:
    empty = SheetValues("空", [])
    assert empty.height == 0 and empty.rows() == [] and empty.rows(0, 10) == []
    assert records(empty, 0, ["学号"]) == []


def test_records_of_a_table_right_of_column_a(tmp_path: Path) -> None:
    workbook = Workbook()
    for row in (["学号", "姓名"], ["001", "张三"], [None, None], ["002", "李四"]):
        workbook.active.append([None, None, *row])
    workbook.save(tmp_path / "a.xlsx")
    [sheet] = read_sheets(tmp_path / "a.xlsx")
    assert header_row(sheet, ["学号", "姓名"]) == 0 and sheet.row(0) == ["", "", "学号", "姓名"]
    assert records(sheet, 0, ["姓名", "学号"]) == [{"姓名": "张三", "学号": "001"}, {"姓名": "李四", "学号": "002"}]


def test_a_row_of_spaces_between_data_rows_is_no_row_as_below_them() -> None:
    def sheet(*rows: list[object]) -> SheetValues:
        return SheetValues("表", [list(column) for column in zip(*[["名称", "代码"], *rows])])

    body = sheet(["甲", "01"], ["", ""], [" ", "\u3000"], ["乙", "02"], ["", "03"], [" ", ""])
    assert data_columns(body, 1, [0, 1]) == ([2, 5, 6], [["甲", "乙", ""], ["01", "02", "03"]])
    numbers_first = sheet([1.0, "a"], [" ", ""], [2.0, "b"], ["", "c"])  # numbers: the column is looked at value by value
    assert data_columns(numbers_first, 1, [0, 1]) == ([2, 4, 5], [[1.0, 2.0, ""], ["a", "b", "c"]])
    assert data_columns(sheet(["甲", "01"], ["乙", "02"]), 1, [1, 2]) == (range(2, 4), [["01", "02"], ["", ""]])


def test_a_reading_stopped_early_is_freed_without_the_cycle_collector(tmp_path: Path) -> None:
    # validate and merge run with the collector off: a reading and its parsed sheets must not hold each other
    import weakref

    paths = [_sheet_with_rows(tmp_path / f"{index}.xlsx", [["x"]]) for index in range(4)]
    gc.disable()
    try:
        reading = ReadAhead(paths, workers=1, window=4)
        next(iter(reading))
        reading.close()
        gone = weakref.ref(reading)
        del reading
        assert gone() is None
    finally:
        gc.enable()
