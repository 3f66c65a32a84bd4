"""The command line: each command parses its options and calls one library function.

All text a user reads is Chinese. Errors from the library become a clear message and an
exit status, never a traceback.

Unlike the other modules, this one evaluates its annotations as it loads: typer reads every
command's annotations when the program starts, and as strings each had to be compiled and
evaluated first (8 ms of every command's start).
"""

import json
import sys
from enum import StrEnum
from pathlib import Path
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import typer

from statecollect import __version__
from statecollect.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, UserError
from statecollect.launch import keep_until_exit

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["app", "main"]

# Library modules, and rich for the views, are imported inside each command: a command pays
# only for what it uses, and `validate` starts reading workbooks before anything else loads.

EXIT_INTERNAL = 70

app = typer.Typer(
    name="statecollect",
    help="本科教学基本状态数据采集工具：初始化采集、生成各部门填报表、校验、汇总、审核、分析与归档。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
schema_app = typer.Typer(
    help="查看和检查数据表架构（表、字段、代码表、校验规则）。",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(schema_app, name="schema")

@cache
def console(stderr: bool = False) -> "Console":
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


@contextmanager
def progress(description: str) -> Iterator[Callable[[str], None]]:
    """A progress display that starts with the first item of work, not before; none where nobody could
    see it (output sent to a file or a pipe, as scripts do): a display there would only cost time."""
    if not console(stderr=True).is_terminal:
        yield lambda item: None
        return
    with ExitStack() as stack:
        shown: list[Callable[[str], None]] = []

        def advance(item: str) -> None:
            if not shown:
                from statecollect.render import progress_bar

                shown.append(stack.enter_context(progress_bar(description)))
            shown[0](item)

        yield advance


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="输出格式：table（表格，默认）或 json（供脚本使用）。")
]
EditionOption = Annotated[str, typer.Option("--edition", help="采集版本（年份），默认 2020。")]
SchemasOption = Annotated[
    Path | None, typer.Option("--schemas", help="使用指定的架构目录（如 schemas/2020），而不是内置架构。", show_default=False)
]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def emit(output: OutputFormat, data: Any, view: str) -> None:
    """Show a library result: as JSON for scripts, or laid out for people by the named view of
    :mod:`statecollect.render` (imported only then: JSON needs no rich)."""
    if output is OutputFormat.JSON:
        emit_json(data)
    else:
        from statecollect import render

        console().print(getattr(render, view)(data))


def _version(value: bool) -> None:
    if value:
        console().print(f"statecollect {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号并退出。")
    ] = False,
) -> None:
    """本科教学基本状态数据采集工具。"""


DirOption = Annotated[
    Path, typer.Option("--dir", "-d", help="采集文件夹（含 collection.yaml），默认为当前文件夹。")
]


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="新建采集所用的文件夹。")],
    year: Annotated[int, typer.Option("--year", help="采集年份，如 2020。")],
    school: Annotated[str, typer.Option("--school", help="学校全称。")],
    school_type: Annotated[str, typer.Option("--type", help="学校性质，如 综合院校、艺术院校（平台代码表中的名称）。")],
    edition: EditionOption = "2020",
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """新建一轮采集：collection.yaml（学校、年份、统计时间、各阶段截止日期、密钥）、任务分解表.xlsx 和各文件夹。已有文件不会被覆盖。"""
    from statecollect.collection import init_collection

    result = init_collection(directory, year=year, school=school, school_type=school_type, edition=edition)
    emit(output, result.to_dict(), "init_summary")


@app.command("generate")
def generate(
    directory: DirOption = Path("."),
    departments: Annotated[
        list[str] | None, typer.Option("--dept", help="只为这些部门生成（可重复），默认为任务分解表中的全部责任部门。")
    ] = None,
    base: Annotated[
        Path | None, typer.Option("--base", help="已汇总的总表或基础数据表文件：据此给引用列加上真实键值下拉，并预填本部门已有数据。")
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """按任务分解表为每个部门生成只含其负责数据表的填报表（在“下发”文件夹中）。"""
    from statecollect.generate import run_generate

    with progress("生成填报表") as advance:
        result = run_generate(directory, departments=departments, base_path=base, progress=advance)
    emit(output, result.to_dict(), "generate_summary")


@app.command("validate")
def validate_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="要校验的文件或文件夹（.xlsx、.xlsm、.xls）；在采集文件夹中默认为“回收”文件夹。", show_default=False)] = None,
    directory: Annotated[Path | None, typer.Option("--dir", "-d", help="采集文件夹（含 collection.yaml）；默认由文件所在位置推断。", show_default=False)] = None,
    year: Annotated[int | None, typer.Option("--year", help="不在采集文件夹中时，指定采集年份（如 2020），文件作为一批单独校验。", show_default=False)] = None,
    feedback: Annotated[Path | None, typer.Option("--feedback", help="标注了问题的反馈副本放在哪个文件夹；默认为采集的“反馈”文件夹。", show_default=False)] = None,
    no_feedback: Annotated[bool, typer.Option("--no-feedback", help="只校验，不生成反馈副本。")] = False,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """校验交回的填报表：结构、每个单元格、表内与跨表规则；为每个文件生成标注了问题的反馈副本。退出码：0 无错误，1 有错误，2 用法错误或没有可读文件。"""
    from statecollect.validate import validate

    if output is OutputFormat.TABLE:
        from statecollect.render import prepare_validation_summary

        prepare_validation_summary()  # while the workbooks are parsed (see there)
    with progress("校验") as advance:
        report = validate(list(paths or []), root=directory, year=year, write_feedback=not no_feedback,
                          feedback_dir=feedback, progress=advance)
    emit(output, report.to_dict(), "validation_summary")
    keep_until_exit(report)
    raise typer.Exit(report.exit_code)


@app.command("merge")
def merge_command(
    directory: DirOption = Path("."),
    accept_errors: Annotated[bool, typer.Option("--accept-errors", help="有错误的表也汇总（记入台账）。")] = False,
    prefer: Annotated[list[str] | None, typer.Option("--prefer", help="冲突时采用哪个部门的数据，写作 表号=部门，可重复。", show_default=False)] = None,
    unfreeze: Annotated[list[str] | None, typer.Option("--unfreeze", help="解除已冻结基础表的冻结（表号，可重复），须同时写 --reason。", show_default=False)] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="解除冻结的理由（记入台账）。", show_default=False)] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """把台账中各部门最新的、通过校验的交回文件汇总为总表（“总表”文件夹），逐表列出 交回 = 汇总 + 未汇总 的行数和冲突。"""
    from statecollect.merge import merge

    choices = dict(_pair(item) for item in prefer or [])
    with progress("汇总") as advance:
        result = merge(directory, accept_errors=accept_errors, prefer=choices, unfreeze=unfreeze or [], reason=reason,
                       progress=advance)
    emit(output, result.to_dict(), "merge_summary")
    raise typer.Exit(EXIT_PROBLEMS if result.findings else EXIT_OK)


def _pair(text: str) -> tuple[str, str]:
    number, separator, department = text.partition("=")
    if not separator or not number.strip() or not department.strip():
        raise UserError(f"--prefer 的写法不对：“{text}”", "应写作 表号=部门，例如 --prefer 1-5-1=人事处")
    return number.strip(), department.strip()


@app.command("export")
def export_command(directory: DirOption = Path("."), output: FormatOption = OutputFormat.TABLE) -> None:
    """从总表生成平台导入文件（“导入文件”文件夹）：每表一个“表<表号> <表名>.xlsx”，表头与平台模板一致。"""
    from statecollect.merge import export

    with progress("导出") as advance:
        result = export(directory, progress=advance)
    emit(output, result.to_dict(), "export_summary")


@app.command("status")
def status_command(directory: DirOption = Path("."), output: FormatOption = OutputFormat.TABLE) -> None:
    """各部门、各数据表的进度：未收到 / 有错误 / 已通过校验 / 部门已审核 / 校级已审核 / 已最终上报，以及距截止日期的天数（基础表在前）。"""
    from statecollect.workflow import status

    emit(output, status(directory).to_dict(), "status_summary")


class Stage(StrEnum):
    DEPT = "dept"
    SCHOOL = "school"
    FINAL = "final"


@app.command("approve")
def approve_command(
    stage: Annotated[Stage, typer.Option("--stage", help="dept 部门审核、school 校级审核、final 最终审核上报；须依次进行。")],
    by: Annotated[str, typer.Option("--by", help="审核人姓名。")],
    department: Annotated[str | None, typer.Option("--dept", help="被审核的部门（最终审核上报时不需要）。", show_default=False)] = None,
    note: Annotated[str | None, typer.Option("--note", help="审核意见（可选）。", show_default=False)] = None,
    directory: DirOption = Path("."),
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """记录审核：填报 → 部门审核 → 校级审核 → 最终审核上报，不可跳过；校级审核后该部门的基础表冻结。"""
    from statecollect.workflow import approve

    approval = approve(directory, department=department, stage=stage.value, by=by, note=note)
    emit(output, approval.__dict__, "approval_summary")


class DemoScale(StrEnum):
    SMALL = "small"
    LARGE = "large"


@app.command("demo")
def demo(
    directory: Annotated[Path, typer.Argument(help="放置演示采集的新文件夹。")],
    scale: Annotated[DemoScale, typer.Option("--scale", help="small：约 3 千名学生；large：3 万余名学生、3 千余名教职工、40 个部门。")] = DemoScale.SMALL,
    inject_errors: Annotated[bool, typer.Option("--inject-errors", help="在交回的填报表中埋入一组已知错误，并写出答案清单。")] = False,
    seed: Annotated[int, typer.Option("--seed", help="随机种子：相同种子生成相同数据。")] = 2020,
    replace: Annotated[bool, typer.Option("--replace", help="文件夹中已有演示学校时，先删除再重新生成（真实采集不会被删除）。")] = False,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """生成一所模拟学校（星海传媒学院）的完整采集：各部门已填好的填报表放在“回收”文件夹，可直接用于校验、汇总等演示。"""
    from statecollect.demo import build_demo

    with progress("生成演示学校") as advance:
        result = build_demo(directory, scale=scale.value, inject_errors=inject_errors, seed=seed, replace=replace,
                            progress=advance)
    emit(output, result.to_dict(), "demo_summary")


@schema_app.command("list")
def schema_list(
    edition: EditionOption = "2020",
    schemas: SchemasOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """按类别列出全部数据表：表号、表名、形式、统计时间、基础表、字段数、校验数。"""
    from statecollect.catalogue import load_catalogue

    emit(output, load_catalogue(edition, schemas).listing(), "schema_listing")


@schema_app.command("show")
def schema_show(
    table: Annotated[str, typer.Argument(help="表号（如 1-5-1）、表标识（如 JZGJBXX）或表名。")],
    edition: EditionOption = "2020",
    schemas: SchemasOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """显示一张表的字段、类型、代码表和校验规则。"""
    from statecollect.catalogue import load_catalogue

    catalogue = load_catalogue(edition, schemas)
    emit(output, catalogue.describe(catalogue.table(table)), "table_description")


@schema_app.command("check")
def schema_check(
    directory: Annotated[
        Path | None, typer.Argument(help="架构目录，默认为内置的 schemas/2020。", show_default=False)
    ] = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """检查一套架构：语法、未知代码表、引用不存在的表或字段、表达式错误、重复标识。有问题时退出码为 1。"""
    from statecollect.schema_loader import check_schema_dir, default_schema_dir

    report = check_schema_dir(directory or default_schema_dir())
    emit(output, report.to_dict(), "schema_check_summary")
    raise typer.Exit(EXIT_OK if report.ok else EXIT_PROBLEMS)


def main() -> None:
    """Entry point: run the app and turn known failures into messages and exit codes."""
    try:
        code = app(standalone_mode=False)
    except Exception as exc:
        code = report_failure(exc)
    if code == EXIT_INTERRUPTED:
        console(stderr=True).print("已中断。写完的文件都已保存；没写完的不会留下半个文件。")
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def report_failure(exc: BaseException) -> int:
    """Print a Chinese message for an exception that reached the top; return the exit status."""
    if isinstance(exc, typer.Abort):
        console(stderr=True).print("已取消。")
        return EXIT_USAGE
    show = getattr(exc, "show", None)
    if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
        # typer's own usage errors (unknown command, bad option value) carry their text
        show()
        return EXIT_USAGE
    errors = console(stderr=True)
    if isinstance(exc, UserError):
        errors.print(f"[bold red]错误：[/bold red]{exc.message}")
        if exc.hint:
            errors.print(f"[dim]建议：{exc.hint}[/dim]")
        return EXIT_USAGE
    from statecollect.render import findings_table
    from statecollect.schema_loader import SchemaLoadError
    from statecollect.task_split import SplitError

    if isinstance(exc, SplitError):
        errors.print(findings_table([item.to_dict() for item in exc.findings], f"任务分解表有 {len(exc.findings)} 个问题"))
        errors.print("[dim]建议：在 Excel/WPS 中按上表修正任务分解表后重试。[/dim]")
        return EXIT_USAGE
    if isinstance(exc, SchemaLoadError):
        errors.print(findings_table([item.to_dict() for item in exc.problems[:20]], f"架构有 {len(exc.problems)} 个问题，无法使用"))
        errors.print("[dim]建议：运行 statecollect schema check 查看全部问题并修正架构文件。[/dim]")
        return EXIT_USAGE
    errors.print(f"[bold red]内部错误：[/bold red]{type(exc).__name__}: {exc}")
    errors.print("[dim]这是程序的缺陷，不是您的数据问题。请把这条信息和所用命令发给维护人员。[/dim]")
    return EXIT_INTERNAL
