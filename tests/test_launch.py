"""The entry point: validate's files are read while the program loads, and the result is the same."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
import typer

from statecollect import batch_files, launch
from statecollect import validate as validate_module
from statecollect.errors import UserError
from statecollect.cli import app
from statecollect.launch import VALIDATE_FLAGS, VALIDATE_VALUE_OPTIONS, validate_arguments


def test_the_options_known_here_are_validates_own() -> None:
    command = typer.main.get_command(app).commands["validate"]  # type: ignore[attr-defined]
    options = [param for param in command.params if param.param_type_name == "option"]
    taking_values = {name for option in options if not option.is_flag for name in option.opts}
    flags = {name for option in options if option.is_flag for name in (*option.opts, *option.secondary_opts)}
    assert taking_values == set(VALIDATE_VALUE_OPTIONS)
    assert flags == set(VALIDATE_FLAGS)


@pytest.mark.parametrize(("arguments", "expected"), [
    ([], {"paths": []}),
    (["a.xlsx", "收回"], {"paths": [Path("a.xlsx"), Path("收回")]}),
    (["--dir", "采集", "--no-feedback"], {"paths": [], "root": Path("采集")}),
    (["-d", "采集", "--format", "json", "b.xls"], {"paths": [Path("b.xls")], "root": Path("采集")}),
    (["--dir=采集", "--year=2020", "--feedback", "反馈"], {"paths": [], "root": Path("采集"), "year": 2020}),
    (["--year", "2020", "--", "-odd.xlsx"], {"paths": [Path("-odd.xlsx")], "year": 2020}),
])
def test_the_files_of_a_validate_command_line(arguments: list[str], expected: dict) -> None:
    assert validate_arguments(arguments) == expected


@pytest.mark.parametrize("arguments", [["--help"], ["-h"], ["--year", "二〇二〇"], ["--unknown", "x"], ["a.xlsx", "-q"]])
def test_anything_unusual_is_left_to_typer(arguments: list[str]) -> None:
    assert validate_arguments(arguments) is None


def test_validate_reads_ahead_and_the_command_line_takes_the_reading_over(
        school: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    started: list[dict] = []
    real_start = batch_files.start_reading
    monkeypatch.setattr(batch_files, "start_reading",
                        lambda paths, **given: started.append({"paths": paths, **given}) or real_start(paths, **given))
    readers: list[object] = []
    real_reader = batch_files.ReadAhead
    monkeypatch.setattr(batch_files, "ReadAhead", lambda *args, **kwargs: readers.append(args) or real_reader(*args, **kwargs))
    monkeypatch.setattr(sys, "argv", ["statecollect", "validate", "--dir", str(school), "--no-feedback", "--format", "json"])
    try:
        with pytest.raises(SystemExit) as ended:
            launch.main()
        collector_was_on = gc.isenabled()
    finally:
        gc.enable()
    assert ended.value.code == 0
    assert started == [{"paths": [], "root": school}]
    assert len(readers) == 1 and batch_files._started is None  # one reading, taken over by validate
    assert not collector_was_on  # the process ends after the batch: no collection walks its values
    shown = json.loads(capsys.readouterr().out)
    assert shown == validate_module.validate([], root=school, write_feedback=False).to_dict()


def test_a_reading_begun_for_other_files_is_dropped(school: Path, tmp_path: Path) -> None:
    other = tmp_path / "其他"
    other.mkdir()
    (other / "x.xlsx").write_bytes((school / "回收" / sorted(p.name for p in (school / "回收").iterdir())[0]).read_bytes())
    batch_files.start_reading([other], year=2020)
    early = batch_files._started
    assert early is not None and early.paths == (other / "x.xlsx",)
    report = validate_module.validate([], root=school, write_feedback=False)
    assert batch_files._started is None
    assert len(report.files) == len(list((school / "回收").glob("*.xlsx")))


def test_arguments_validate_would_refuse_start_nothing(tmp_path: Path) -> None:
    batch_files.start_reading([tmp_path / "nowhere"])  # not a collection, and no --year
    assert batch_files._started is None


def test_without_defusedxml_the_early_start_reads_nothing_and_validate_says_why(
        school: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "defusedxml.ElementTree", None)  # as if it were not installed
    batch_files.start_reading([], root=school)
    assert batch_files._started is None
    with pytest.raises(UserError, match="defusedxml"):
        validate_module.validate([], root=school, write_feedback=False)


def test_a_failure_of_the_early_start_leaves_the_command_to_validate(
        school: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the head start")

    monkeypatch.setattr(batch_files, "start_reading", broken)
    monkeypatch.setattr(sys, "argv", ["statecollect", "validate", "--dir", str(school), "--no-feedback", "--format", "json"])
    try:
        with pytest.raises(SystemExit) as ended:
            launch.main()
    finally:
        gc.enable()
    assert ended.value.code == 0 and json.loads(capsys.readouterr().out)["errors"] == 0


def test_a_year_that_is_not_a_number_is_left_to_typer() -> None:
    assert validate_arguments(["回收", "--year", "²"]) is None  # a digit to str.isdigit, not to int()


def test_a_head_start_that_typer_then_refuses_is_dropped(school: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    real_close = batch_files.ReadAhead.close
    monkeypatch.setattr(batch_files.ReadAhead, "close", lambda self, wait=True: closed.append(wait) or real_close(self, wait))
    monkeypatch.setattr(sys, "argv", ["statecollect", "validate", "--dir", str(school), "--format", "bogus"])
    try:
        with pytest.raises(SystemExit) as ended:
            launch.main()
    finally:
        gc.enable()
    assert ended.value.code == 2 and batch_files._started is None
    assert closed == [False]  # the parse under way is not waited for: the process is about to end


def test_the_way_to_the_first_parse_imports_nothing_heavy(school: Path) -> None:
    # every module imported before the head start is time taken before the first parse begins
    # the reader threads' own way too (the safety check), taken here so that it is over when modules are listed
    code = ("import sys; from pathlib import Path; from statecollect import batch_files, launch, safety, workbook_read\n"
            "workbook_read._SCAN_HELD_AT_MOST = 60\n"  # the scan, which imports zipfile, waits for validate
            f"launch._prepare_validate(['--dir', {str(school)!r}])\n"
            "assert batch_files._started is not None\n"
            f"assert [safety.inspect_file(path) for path in Path({str(school)!r}, '回收').glob('*.xlsx')]\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] in "
            "{'dataclasses', 'typing', 'concurrent', 'logging', 'zipfile', 'pydantic', 'typer', 'rich', 'yaml', 'openpyxl'} "
            "or name == 'statecollect.findings'))\n"
            "batch_files.stop_reading()")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize(("ending", "status"), [(None, 0), (SystemExit(1), 1), (SystemExit(None), 0), (SystemExit(2), 2)])
def test_the_program_ends_with_the_commands_status(monkeypatch: pytest.MonkeyPatch, ending: SystemExit | None,
                                                   status: int) -> None:
    def command() -> None:
        if ending is not None:
            raise ending

    ended: list[int] = []
    monkeypatch.setattr(launch, "main", command)
    monkeypatch.setattr(launch.os, "_exit", ended.append)
    launch.run()
    assert ended == [status]


@pytest.mark.parametrize(("ending", "status"), [(None, 120), (SystemExit(1), 1)])
def test_output_that_cannot_be_flushed_ends_with_pythons_status(monkeypatch: pytest.MonkeyPatch,
                                                                ending: SystemExit | None, status: int) -> None:
    class ClosedPipe(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    class Errors(io.StringIO):
        flushed = False

        def flush(self) -> None:
            self.flushed = True

    def command() -> None:
        if ending is not None:
            raise ending

    ended: list[int] = []
    errors = Errors()
    monkeypatch.setattr(launch, "main", command)
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    monkeypatch.setattr(sys, "stderr", errors)
    monkeypatch.setattr(launch.os, "_exit", ended.append)
    launch.run()
    assert ended == [status]  # a command's own failure is not hidden behind the stream's
    assert errors.flushed  # the messages still reach the terminal


def test_the_real_program_writes_its_whole_output_and_status(school: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "网页.xlsx"
    foreign.write_text("<html><body>不是工作簿</body></html>", encoding="utf-8")
    command = [sys.executable, "-m", "statecollect", "validate"]
    done = subprocess.run([*command, "--dir", str(school), "--no-feedback", "--format", "json"],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["files"]
    done = subprocess.run([*command, str(foreign), "--year", "2020", "--no-feedback"],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 2 and "网页" in done.stdout + done.stderr


def test_an_ending_with_a_message_is_left_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    def command() -> None:
        raise SystemExit("出错了")

    monkeypatch.setattr(launch, "main", command)
    monkeypatch.setattr(launch.os, "_exit", lambda status: pytest.fail("ended without the message"))
    with pytest.raises(SystemExit, match="出错了"):
        launch.run()


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_program_started_without_a_stream_keeps_its_status(monkeypatch: pytest.MonkeyPatch, closed: str) -> None:
    def command() -> None:
        raise SystemExit(2)

    ended: list[int] = []
    monkeypatch.setattr(launch, "main", command)
    monkeypatch.setattr(sys, closed, None)  # as Python sets it when the descriptor was closed
    monkeypatch.setattr(launch.os, "_exit", ended.append)
    launch.run()
    assert ended == [2]


class _Result:
    """A command's result: weakly referable, unlike a list."""


def test_a_result_is_kept_until_the_program_ends_and_no_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    alive_at_exit: list[bool] = []
    gone: list[weakref.ref[_Result]] = []

    def command() -> None:
        result = _Result()
        gone.append(weakref.ref(result))
        launch.keep_until_exit(result)

    monkeypatch.setattr(launch, "main", command)
    monkeypatch.setattr(launch.os, "_exit", lambda status: alive_at_exit.append(gone[0]() is not None))
    launch.run()
    assert alive_at_exit == [True]  # not freed value by value as the command returned
    assert gone[0]() is None  # the process went on here: what was kept is let go


def test_outside_the_program_nothing_is_kept() -> None:
    result = _Result()
    reference = weakref.ref(result)
    launch.keep_until_exit(result)
    del result
    assert reference() is None  # a test calling the command line again and again must not pile up results
