"""The CLI: thin wrappers whose JSON equals the library's result, help everywhere, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conftest import SCHEMAS_2020
from statecollect.catalogue import load_catalogue
from statecollect.cli import app
from statecollect.schema_loader import check_schema_dir

runner = CliRunner()


def all_commands(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [(*prefix, command.name or command.callback.__name__) for command in group.registered_commands]
    for sub in group.registered_groups:
        found += all_commands(sub.typer_instance, (*prefix, sub.name))
    return found


COMMANDS = all_commands(app)


def test_there_are_commands() -> None:
    assert ("schema", "list") in COMMANDS and ("schema", "check") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_chinese_help(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert any("\u4e00" <= char <= "\u9fff" for char in result.output)


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (SCHEMAS_2020.parents[1] / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert "statecollect " + " ".join(command) in readme, command


def test_schema_list_json_equals_library() -> None:
    result = runner.invoke(app, ["schema", "list", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == load_catalogue().listing()


def test_schema_show_json_equals_library() -> None:
    result = runner.invoke(app, ["schema", "show", "1-5-1", "--format", "json"])
    assert result.exit_code == 0
    catalogue = load_catalogue()
    assert json.loads(result.output) == catalogue.describe(catalogue.table("1-5-1"))


def test_schema_check_json_equals_library() -> None:
    result = runner.invoke(app, ["schema", "check", str(SCHEMAS_2020), "--format", "json"])
    assert json.loads(result.output) == check_schema_dir(SCHEMAS_2020).to_dict()
    assert result.exit_code == 0


def test_schema_list_table_view() -> None:
    result = runner.invoke(app, ["schema", "list"])
    assert result.exit_code == 0
    assert "教职工基本信息" in result.output and "★" in result.output


def test_schema_show_table_view() -> None:
    result = runner.invoke(app, ["schema", "show", "JZGJBXX"])
    assert result.exit_code == 0
    assert "工号" in result.output and "校验" in result.output


def test_schema_check_reports_problems_with_exit_1(mini_schema: Path) -> None:
    path = mini_schema / "tables" / "RY.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("code_list: XB}", "code_list: XINGBIE}"), encoding="utf-8")
    result = runner.invoke(app, ["schema", "check", str(mini_schema), "--format", "json"])
    assert result.exit_code == 1
    [problem] = json.loads(result.output)["problems"]
    assert problem["file"] == "tables/RY.yaml" and problem["line"] == 12


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "statecollect", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=120, env=env)


def test_real_process_unknown_table_has_message_not_traceback() -> None:
    result = run_cli("schema", "show", "9-9")
    assert result.returncode == 2
    assert "找不到数据表" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_real_process_broken_schema_has_message_not_traceback(mini_schema: Path) -> None:
    (mini_schema / "tables" / "DW.yaml").write_text("id: [DW\n", encoding="utf-8")
    result = run_cli("schema", "list", "--schemas", str(mini_schema))
    assert result.returncode == 2
    assert "DW.yaml" in result.stderr and "Traceback" not in result.stderr


def test_real_process_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("statecollect ")


def test_init_generate_and_demo_through_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "采集"
    result = runner.invoke(app, ["init", str(root), "--year", "2020", "--school", "测试学院", "--type", "综合院校",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"]
    result = runner.invoke(app, ["generate", "--dir", str(root), "--dept", "图书馆", "--format", "json"])
    assert result.exit_code == 0, result.output
    [book] = json.loads(result.output)["workbooks"]
    assert book["department"] == "图书馆" and Path(book["file"]).is_file()


def test_init_with_a_bad_school_type_says_why() -> None:
    result = runner.invoke(app, ["init", "x", "--year", "2020", "--school", "某", "--type", "火星院校"])
    assert result.exit_code != 0
    assert "火星院校" in str(result.exception) and "学校性质" in str(result.exception)


def test_generate_outside_a_collection_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("generate", "--dir", str(tmp_path))
    assert result.returncode == 2
    assert "不是采集文件夹" in result.stderr and "Traceback" not in result.stderr


def test_demo_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", str(tmp_path / "demo"), "--format", "json", "--inject-errors"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["departments"] >= 10 and len(data["faults"]) == 15  # every planted fault, none skipped


def test_validate_json_equals_library_and_exit_code(demo_dir: Path, tmp_path: Path) -> None:
    from statecollect.validate import validate

    feedback = tmp_path / "fb"
    result = runner.invoke(app, ["validate", "--dir", str(demo_dir), "--feedback", str(feedback), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.output) == validate([], root=demo_dir, feedback_dir=feedback).to_dict()


def test_validate_clean_school_exits_0_as_a_real_process(clean_demo_dir: Path, tmp_path: Path) -> None:
    result = run_cli("validate", "--dir", str(clean_demo_dir), "--feedback", str(tmp_path / "fb"))
    assert result.returncode == 0, result.stderr
    assert "没有发现错误" in result.stdout


def test_validate_unreadable_only_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").write_bytes(b"")
    result = runner.invoke(app, ["validate", str(tmp_path / "a.xlsx"), "--year", "2020", "--no-feedback"])
    assert result.exit_code == 2


def test_merge_export_status_approve_through_the_cli(school: Path) -> None:
    from statecollect.workflow import status

    assert runner.invoke(app, ["validate", "--dir", str(school), "--no-feedback"]).exit_code == 0
    merged = runner.invoke(app, ["merge", "--dir", str(school), "--format", "json"])
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.output)["rows_rejected"] == 0
    exported = runner.invoke(app, ["export", "--dir", str(school), "--format", "json"])
    assert exported.exit_code == 0 and len(json.loads(exported.output)["files"]) > 80
    shown = runner.invoke(app, ["status", "--dir", str(school), "--format", "json"])
    data = json.loads(shown.output)
    assert data == {**status(school).to_dict(), "today": data["today"]}
    refused = runner.invoke(app, ["approve", "--dir", str(school), "--stage", "school", "--dept", "图书馆", "--by", "王五"])
    assert "不能跳过" in str(refused.exception)  # the real process turns it into exit 2 (see main)
    done = runner.invoke(app, ["approve", "--dir", str(school), "--stage", "dept", "--dept", "图书馆", "--by", "李四"])
    assert done.exit_code == 0 and "部门审核" in done.output
    bad = runner.invoke(app, ["merge", "--dir", str(school), "--prefer", "1-5-1"])
    assert "--prefer 的写法不对" in str(bad.exception)


def test_validate_json_findings_carry_every_field(demo_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--dir", str(demo_dir), "--no-feedback", "--format", "json"])
    finding = next(item for item in json.loads(result.output)["findings"] if item["rule"] == "cell.not_in_code_list")
    assert set(finding) == {"file", "department", "table", "sheet", "row", "column", "cell", "line", "rule", "severity",
                            "message", "hint", "value"}
    assert (finding["department"], finding["table"], finding["cell"], finding["row"], finding["column"], finding["severity"]) == (
        "人事处", "1-5-1", "L5", 5, "专业技术职称", "error")


@pytest.mark.parametrize(("extra", "said"), [((), "--year"), (("--year", "20"), "不合理")])
def test_validate_outside_a_collection_without_a_sound_year_exits_2(tmp_path: Path, extra: tuple[str, ...], said: str) -> None:
    target = tmp_path / "x.xlsx"
    target.write_bytes(b"")
    result = run_cli("validate", str(target), *extra)
    assert result.returncode == 2
    assert said in result.stderr and "Traceback" not in result.stderr + result.stdout


def test_ctrl_c_stops_with_a_message_and_status_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from statecollect import cli
    from statecollect import validate as validate_module

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate_module, "validate", interrupted)
    monkeypatch.setattr(sys, "argv", ["statecollect", "validate", "a.xlsx", "--year", "2020"])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    assert ended.value.code == 130
    assert "已中断" in capsys.readouterr().err


def test_every_view_a_command_names_exists_and_json_needs_no_rich() -> None:
    import inspect
    import re

    from statecollect import cli, render

    views = re.findall(r'emit\(output, .+, "(\w+)"\)', inspect.getsource(cli))
    assert len(views) == 11  # eight commands, and schema list, show and check
    assert all(callable(getattr(render, view, None)) for view in views)
    done = subprocess.run([sys.executable, "-c", "import sys; from statecollect.cli import main; "
                           "sys.argv = ['statecollect', 'schema', 'list', '--format', 'json']\n"
                           "try:\n    main()\nexcept SystemExit:\n    print('rich' in sys.modules, file=sys.stderr)"],
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.stderr.strip() == "False" and json.loads(done.stdout)


@pytest.mark.parametrize("command", [("validate", "--no-feedback"), ("generate",), ("export",)])
def test_a_damaged_master_says_merge_rebuilds_it(school: Path, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from statecollect import cli
    from statecollect.collection import open_workspace

    master = open_workspace(school).master_path
    master.parent.mkdir(exist_ok=True)
    damaged = b"PK\x03\x04" + b"\x00" * 200  # a zip cut short, as a crash while copying leaves it
    master.write_bytes(damaged)
    monkeypatch.setattr(sys, "argv", ["statecollect", *command, "--dir", str(school)])
    with pytest.raises(SystemExit) as ended:
        cli.main()
    said = capsys.readouterr().err
    assert ended.value.code == 2
    assert "总表" in said and "statecollect merge" in said and "Traceback" not in said
    assert master.read_bytes() == damaged  # left as it was


def test_progress_is_shown_only_where_someone_can_see_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from statecollect import cli, render

    shown: list[str] = []

    @contextmanager
    def progress_bar(description: str) -> Iterator[Callable[[str], None]]:
        yield lambda item: shown.append(f"{description}：{item}")

    monkeypatch.setattr(render, "progress_bar", progress_bar)
    for terminal in (False, True):
        monkeypatch.setattr(cli, "console", lambda stderr=False, terminal=terminal: Console(file=io.StringIO(), force_terminal=terminal))
        with cli.progress("校验") as advance:
            advance("学生处.xlsx")
    assert shown == ["校验：学生处.xlsx"]  # a pipe or a file: nothing to draw for


def test_the_commands_annotations_are_objects_not_strings() -> None:
    # typer reads every command's annotations as the program starts: as strings they were compiled each time
    import inspect

    from statecollect import cli

    annotations = inspect.get_annotations(cli.validate_command)
    assert annotations and not any(isinstance(annotation, str) for annotation in annotations.values())


def test_the_program_keeps_validates_report_until_it_ends(school: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from statecollect import launch
    from statecollect.validate import ValidationReport

    kept: list[object] = []
    monkeypatch.setattr(launch, "_kept", kept)  # as while launch.run() runs the program
    result = runner.invoke(app, ["validate", "--dir", str(school), "--no-feedback", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [type(value) for value in kept] == [ValidationReport]
    assert len(kept[0].files) == len(json.loads(result.stdout)["files"])
