"""The entry point: validate's files are read while the program loads, and the result is the same."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest
import typer

from statecollect import launch
from statecollect import validate as validate_module
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
    real_start = validate_module.start_reading
    monkeypatch.setattr(validate_module, "start_reading",
                        lambda paths, **given: started.append({"paths": paths, **given}) or real_start(paths, **given))
    readers: list[object] = []
    real_reader = validate_module.ReadAhead
    monkeypatch.setattr(validate_module, "ReadAhead", lambda *args, **kwargs: readers.append(args) or real_reader(*args, **kwargs))
    monkeypatch.setattr(sys, "argv", ["statecollect", "validate", "--dir", str(school), "--no-feedback", "--format", "json"])
    try:
        with pytest.raises(SystemExit) as ended:
            launch.main()
        collector_was_on = gc.isenabled()
    finally:
        gc.enable()
    assert ended.value.code == 0
    assert started == [{"paths": [], "root": school}]
    assert len(readers) == 1 and validate_module._started is None  # one reading, taken over by validate
    assert not collector_was_on  # the process ends after the batch: no collection walks its values
    shown = json.loads(capsys.readouterr().out)
    assert shown == validate_module.validate([], root=school, write_feedback=False).to_dict()


def test_a_reading_begun_for_other_files_is_dropped(school: Path, tmp_path: Path) -> None:
    other = tmp_path / "其他"
    other.mkdir()
    (other / "x.xlsx").write_bytes((school / "回收" / sorted(p.name for p in (school / "回收").iterdir())[0]).read_bytes())
    validate_module.start_reading([other], year=2020)
    early = validate_module._started
    assert early is not None and early.paths == (other / "x.xlsx",)
    report = validate_module.validate([], root=school, write_feedback=False)
    assert validate_module._started is None
    assert len(report.files) == len(list((school / "回收").glob("*.xlsx")))


def test_arguments_validate_would_refuse_start_nothing(tmp_path: Path) -> None:
    validate_module.start_reading([tmp_path / "nowhere"])  # not a collection, and no --year
    assert validate_module._started is None


def test_without_defusedxml_the_early_start_reads_nothing_and_validate_says_why(
        school: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "defusedxml.ElementTree", None)  # as if it were not installed
    validate_module.start_reading([], root=school)
    assert validate_module._started is None
    with pytest.raises(validate_module.UserError, match="defusedxml"):
        validate_module.validate([], root=school, write_feedback=False)


def test_a_failure_of_the_early_start_leaves_the_command_to_validate(
        school: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the head start")

    monkeypatch.setattr(validate_module, "start_reading", broken)
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
    monkeypatch.setattr(sys, "argv", ["statecollect", "validate", "--dir", str(school), "--format", "bogus"])
    try:
        with pytest.raises(SystemExit) as ended:
            launch.main()
    finally:
        gc.enable()
    assert ended.value.code == 2 and validate_module._started is None
