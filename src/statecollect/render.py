"""Turning library results into rich renderables for the terminal.

The library returns plain data; this module only lays it out. Nothing here prints.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from statecollect.findings import SEVERITY_LABELS, Location, Severity

__all__ = [
    "approval_summary",
    "demo_summary",
    "export_summary",
    "findings_table",
    "generate_summary",
    "init_summary",
    "merge_summary",
    "prepare_validation_summary",
    "progress_bar",
    "schema_check_summary",
    "schema_listing",
    "status_summary",
    "table_description",
    "validation_summary",
    "yes",
]


def yes(flag: bool) -> str:
    return "是" if flag else ""


def schema_listing(listing: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [
        Text(
            f"{listing['title']}：{listing['table_count']} 张表，{listing['field_count']} 个字段，"
            f"{listing['check_count']} 条校验",
            style="bold",
        )
    ]
    for category in listing["categories"]:
        grid = RichTable(title=f"{category['number']}. {category['title']}", title_justify="left", expand=False)
        for header, justify in (("表号", "left"), ("表名", "left"), ("形式", "center"), ("统计时间", "center"),
                                ("基础表", "center"), ("字段", "right"), ("校验", "right")):
            grid.add_column(header, justify=justify)  # type: ignore[arg-type]
        for table in category["tables"]:
            number = f"  └ {table['number']}" if table["part_of"] else table["number"]
            grid.add_row(number, table["title"], table["shape"], table["time_basis"], "★" if table["base"] else "",
                         str(table["fields"]), str(table["checks"]))
        parts.append(grid)
    parts.append(Text("★ 基础数据表：须最先填报，审核后冻结，其他表引用其键值。", style="dim"))
    return Group(*parts)


def table_description(info: dict[str, Any]) -> RenderableType:
    header = Text(f"表{info['number']} {info['title']}", style="bold")
    facts = Text(
        f"标识 {info['id']}（{info['physical']}，2019 版表{info['number_2019']}）· {info['shape']} · "
        f"统计时间：{info['time_basis']}" + (" · ★基础表" if info["base"] else "")
        + (" · 可为空" if info["may_be_empty"] else "")
    )
    parts: list[RenderableType] = [header, facts]
    if info["help"]:
        parts.append(Text(info["help"]))
    if info["depends_on"]:
        parts.append(Text("引用：" + "、".join(info["depends_on"])))
    parts.append(_fields_grid(info["field_list"]))
    if info["check_list"]:
        parts.append(_checks_grid(info["check_list"]))
    if info["unimplemented"]:
        grid = _grid("未实现的平台规则", ("平台规则", "原因"))
        for item in info["unimplemented"]:
            grid.add_row(item["source"], item["reason"])
        parts.append(grid)
    return Group(*parts)


def _grid(title: str, headers: Sequence[str]) -> RichTable:
    grid = RichTable(title=title, title_justify="left", show_lines=False)
    for name in headers:
        grid.add_column(name, overflow="fold")
    return grid


def _fields_grid(fields: Iterable[dict[str, Any]]) -> RichTable:
    grid = _grid("字段", ("#", "表头", "类型", "必填", "代码表 / 约束", "说明"))
    for index, field in enumerate(fields, start=1):
        limits = "；".join(part for part in (field["choices"] and f"{field['code_list']}：{field['choices']}",
                                             field["constraints"]) if part)
        header = field["header"] if field["in_template"] else f"[dim]{field['header']}（仅字典）[/dim]"
        grid.add_row(str(index), header, field["type"], yes(field["required"]), limits, field["help"] or "")
    return grid


def _checks_grid(checks: Iterable[dict[str, Any]]) -> RichTable:
    grid = _grid("校验", ("标识", "类型", "规则", "提示"))
    for check in checks:
        kind = check["kind"] + ("（警告）" if check["severity"] == Severity.WARNING.value else "")
        grid.add_row(check["id"], kind, check["rule"], check["message"])
    return grid


def init_summary(result: dict[str, Any]) -> RenderableType:
    grid = _grid(f"采集文件夹：{result['root']}", ("文件", "状态"))
    for path in result["created"]:
        grid.add_row(path, Text("已创建", style="green"))
    for path in result["kept"]:
        grid.add_row(path, Text("已存在，未改动", style="yellow"))
    steps = Text("下一步：用 Excel/WPS 编辑“任务分解表.xlsx”（责任部门、填报员、审核员、截止日期），"
                 "然后运行 statecollect generate 生成各部门填报表。")
    return Group(grid, steps)


def generate_summary(result: dict[str, Any]) -> RenderableType:
    grid = _grid(f"已生成 {len(result['workbooks'])} 个部门填报表", ("部门", "数据表", "预填行数", "文件"))
    for book in result["workbooks"]:
        grid.add_row(book["department"], str(len(book["tables"])), str(book["prefilled_rows"]), book["file"])
    return grid


def demo_summary(result: dict[str, Any]) -> RenderableType:
    lines: list[RenderableType] = [
        Text(f"演示学校已生成：{result['root']}", style="bold green"),
        Text(f"{result['tables']} 张数据表，共 {result['rows']} 行；{result['departments']} 个部门的填报表已放入“回收”文件夹。"),
    ]
    if result["faults"]:
        grid = _grid(f"埋入的 {len(result['faults'])} 个已知错误（答案见 示例数据/answer_key.json）", ("文件", "工作表", "单元格", "规则", "说明"))
        for fault in result["faults"]:
            grid.add_row(fault["file"], fault["sheet"], fault["cell"] or "", fault["rule"], fault["what"])
        lines.append(grid)
    return Group(*lines)


def _count(number: int, style: str) -> Text:
    return Text(str(number), style=style if number else "green")


def validation_summary(result: dict[str, Any]) -> RenderableType:
    copies = any(file["feedback"] for file in result["files"])
    files = _grid(f"校验结果：{len(result['files'])} 个文件，错误 {result['errors']} 个，警告 {result['warnings']} 个",
                  ("文件 / 数据表", "部门"))
    for name in ("行数", "错误", "警告"):
        files.add_column(name, justify="right", no_wrap=True)
    if copies:
        files.add_column("反馈副本", overflow="fold")
    for file in result["files"]:
        copy = [Path(file["feedback"]).name if file["feedback"] else ""] if copies else []
        files.add_row(Text(Path(file["file"]).name, style="bold"), file["department"] or "—",
                      "无法读取" if not file["readable"] else "",
                      _count(file["errors"], "red"), _count(file["warnings"], "yellow"), *copy)
        for table in file["tables"]:
            files.add_row(f"  {table['table']} {table['title']}", "", str(table["rows"]),
                          _count(table["errors"], "red"), _count(table["warnings"], "yellow"), *([""] if copies else []))
    parts: list[RenderableType] = [files]
    shown = [finding for finding in result["findings"] if finding["severity"] == "error"][:40]
    if shown:
        details = _grid(f"错误（显示前 {len(shown)} 个，全部见反馈副本或 --format json）", ("位置", "问题", "修改建议"))
        for finding in shown:
            place = " › ".join(str(part) for part in (finding["file"], finding["sheet"], finding["cell"] or
                                                      (f"第 {finding['row']} 行" if finding["row"] else None)) if part)
            details.add_row(place, finding["message"], finding["hint"])
        parts.append(details)
    verdict = "没有发现错误。" if not result["errors"] else "请把反馈副本发回各部门修改后重新交回。"
    parts.append(Text(verdict, style="green" if not result["errors"] else "bold"))
    return Group(*parts)


def prepare_validation_summary() -> None:
    """Draw an empty validation summary into nothing. rich's first drawing of Chinese text loads its
    emoji and character-width tables (6 ms): the validate command calls this while the workbooks are parsed,
    so that the summary, the last thing its user waits for, does not pay for them after the checks."""
    empty = {"files": [], "findings": [], "errors": 0, "warnings": 0}
    Console(file=io.StringIO(), highlight=False).print(validation_summary(empty))


def merge_summary(result: dict[str, Any]) -> RenderableType:
    frozen = result["rows_frozen"]
    grid = _grid(f"总表：{result['master']}", ("表号", "表名", "交回行数", "汇总", "未汇总", "来源部门"))
    if frozen:
        grid.add_column("保留冻结版本", justify="right")
    for table in result["tables"]:
        grid.add_row(table["table"], table["title"], str(table["rows_in"]), str(table["rows_merged"]),
                     Text(str(table["rows_rejected"]), style="red" if table["rows_rejected"] else ""),
                     "、".join(table["departments"]) or "—", *([str(table["rows_frozen"] or "")] if frozen else []))
    total = f"合计：交回 {result['rows_in']} 行 = 汇总 {result['rows_merged']} 行 + 未汇总 {result['rows_rejected']} 行"
    if frozen:
        total += f"；另保留冻结版本 {frozen} 行"
    parts: list[RenderableType] = [grid, Text(total)]
    if result["findings"]:
        problems = _grid("需要处理的问题", ("表号", "部门", "问题", "处理办法"))
        for finding in result["findings"]:
            problems.add_row(finding["table"] or "", finding["department"] or "",
                             finding["message"], finding["hint"])
        parts.append(problems)
    return Group(*parts)


def export_summary(result: dict[str, Any]) -> RenderableType:
    grid = _grid(f"已生成 {len(result['files'])} 个平台导入文件", ("表号", "行数", "文件"))
    for item in result["files"]:
        grid.add_row(item["table"], str(item["rows"]), Path(item["file"]).name)
    return grid


STATE_STYLES = {"missing": "red", "errors": "red", "validated": "yellow", "dept": "cyan", "school": "green", "final": "bold green"}


def status_summary(result: dict[str, Any]) -> RenderableType:
    phases = Text("；".join(f"{item['phase']} {item['date']}（" + (f"还有 {item['days_left']} 天" if item["days_left"] >= 0
                                                                  else f"已过 {-item['days_left']} 天") + "）"
                          for item in result["deadlines"]))
    grid = _grid(f"采集进度（{result['today']}）", ("表号", "表名", "责任部门", "状态", "截止日期", "剩余天数", "错误", "警告"))
    for table in result["tables"]:
        days = table["days_left"]
        late = table["state"] in {"missing", "errors"} and days < 0
        open_ = table["state"] in {"missing", "errors"}
        remaining = (f"已逾期 {-days} 天" if days < 0 else f"{days} 天") if open_ else "—"
        grid.add_row(("★" if table["base"] else "") + table["table"], table["title"], table["department"],
                     Text(table["state_label"], style=STATE_STYLES[table["state"]]), table["deadline"],
                     Text(remaining, style="red" if late else ""),
                     str(table["errors"]), str(table["warnings"]))
    return Group(phases, grid)


def approval_summary(result: dict[str, Any]) -> RenderableType:
    from statecollect.ledger import STAGE_LABELS  # the ledger (sqlite3, hashlib) only for this view

    stage = STAGE_LABELS[result["stage"]]
    who = f"{result['department']} " if result["department"] else ""
    return Text(f"已记录：{who}{stage}，审核人 {result['approved_by']}，{result['approved_at']}", style="green")


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[str], None]]:
    """A transient progress display; yields a callback that names the item being worked on."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # only while work runs

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True,
                  console=Console(stderr=True)) as progress:
        task = progress.add_task(description, total=None)

        def advance(item: str) -> None:
            progress.update(task, description=f"{description}：{item}", advance=1)

        yield advance


def findings_table(findings: Sequence[dict[str, Any]], title: str) -> RichTable:
    """Findings in their JSON form (:meth:`Finding.to_dict`), one per line."""
    grid = _grid(title, ("级别", "位置", "问题", "修改建议"))
    for finding in findings:
        severity = Severity(finding["severity"])
        place = Location(**{name: finding[name] for name in _LOCATION_FIELDS}).describe()
        grid.add_row(Text(SEVERITY_LABELS[severity], style="red" if severity is Severity.ERROR else "yellow"), place,
                     finding["message"], finding["hint"])
    return grid


_LOCATION_FIELDS = tuple(item.name for item in fields(Location))


def schema_check_summary(result: dict[str, Any]) -> RenderableType:
    problems = result["problems"]
    if problems:
        return findings_table(problems, f"架构检查：发现 {len(problems)} 个问题")
    return Text.from_markup(f"[green]架构检查通过[/green]：{result['table_count']} 张表，{result['field_count']} 个字段，"
                            f"{result['check_count']} 条校验，{result['code_list_count']} 个代码表。")
