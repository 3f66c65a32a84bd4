"""Benchmark: `statecollect validate` against a plain calamine read and frictionless-py.

Two cases, each timed as whole processes (median of thirty-one runs, eleven of frictionless, three
with feedback copies; largest peak resident memory of each process from the kernel; validate, the
read and frictionless take their runs in turn, so that a machine slowing down for a while cannot
bend their ratios):

1. a 30,000-row 本科生基本情况 sheet in one department workbook;
2. the large demo school (32,000 students, 3,200 staff, 10,400 course rows, 40 files).

Beside each validate run, in the same benchmark run: (a) a process that only reads the
same files with python-calamine, and (b) frictionless-py validating the same main tables
with an equivalent Table Schema (types, required, enums, lengths, bounds, primary key).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/bench_validate.py

Targets (issue 4): validate <= 1.5x the calamine read, >= 8x faster than frictionless,
peak memory <= 2x the read's. Beside the medians it prints the middle half of the round-by-round
ratios, and how much two threads at once slowed each other before and after (validate parses on
one core while it loads on the other; the read uses one): a busy machine shows there.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from python_calamine import CalamineWorkbook
from timing import compile_package, core_contention, measure, measure_together, statecollect

from statecollect.catalogue import load_catalogue
from statecollect.checks import Engine
from statecollect.collection import init_collection, open_workspace
from statecollect.demo import build_demo
from statecollect.generate import BaseData, generate_workbooks
from statecollect.synthetic import Scale, synthesize
from statecollect.schema import FieldType
from statecollect.task_split import Assignment, TaskSplit
from statecollect.workbook_layout import sheet_title

HERE = Path(__file__).resolve().parent
MAIN_TABLES = ("BKSJBQK", "JZGJBXX", "KKQK", "ZYJBQK", "XXJXKYDW")
REPEATS = 31  # a two-core machine shared with others varies from run to run: more runs, a steadier median
FRICTIONLESS_EVERY = 3  # its runs take seconds: eleven of them, spread over the same minutes
FEEDBACK_REPEATS = 3  # no target; a run takes seconds


def roster(root: Path) -> Path:
    """A collection whose only returned workbook holds a 30,000-row 本科生基本情况 sheet."""
    init_collection(root, year=2020, school="基准大学", school_type="综合院校")
    workspace = open_workspace(root)
    catalogue = load_catalogue()
    scale = Scale(colleges=16, majors=64, staff=50, external=5, students=30000, labs=2, courses=2, list_rows=2)
    data = synthesize(catalogue, workspace.collection.times, scale=scale, seed=1, school="基准大学",
                      school_type="综合院校", table_ids=["BKSJBQK"], engine=Engine(catalogue, workspace.collection.times))
    students = [{header: value for header, value in row.items()} for row in data["BKSJBQK"]]
    split = TaskSplit((Assignment("BKSJBQK", True, "学生处", (), None, None, workspace.collection.deadlines.base_tables),))
    generate_workbooks(workspace, catalogue, split, base=BaseData({"BKSJBQK": students}), output=workspace.folder("returns"))
    return root


FRICTIONLESS_TYPES = {
    FieldType.INTEGER: "integer", FieldType.DECIMAL: "number", FieldType.YEAR: "year",
    FieldType.YEAR_MONTH: "yearmonth", FieldType.DATE: "date",
}


def table_schema(table_id: str) -> dict:
    """A frictionless Table Schema equivalent to one statecollect table's field rules."""
    catalogue = load_catalogue()
    table = catalogue.table_by_id(table_id)
    fields = []
    for field in table.template_fields:
        constraints: dict = {"required": field.required}
        if field.code_list:
            constraints["enum"] = list(catalogue.code_list(field.code_list).labels())
        if field.type is FieldType.YES_NO:
            constraints["enum"] = ["是", "否"]
        if field.max_length:
            constraints["maxLength"] = field.max_length
        if field.min is not None:
            constraints["minimum"] = field.min
        if field.max is not None:
            constraints["maximum"] = field.max
        fields.append({"name": field.header, "type": FRICTIONLESS_TYPES.get(field.type, "string"), "constraints": constraints})
    unique = next((check.fields for check in table.checks if check.kind == "unique"), None)
    return {"fields": fields, **({"primaryKey": list(unique)} if unique else {})}


def frictionless_jobs(files: list[str], tables: tuple[str, ...], target: Path) -> Path:
    catalogue = load_catalogue()
    jobs = []
    for table_id in tables:
        table = catalogue.table_by_id(table_id)
        sheet = sheet_title(table.number, table.title)
        for file in files:
            if sheet in CalamineWorkbook.from_path(file).sheet_names:
                jobs.append({"file": file, "sheet": sheet, "schema": table_schema(table_id)})
    target.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    return target


def compare(label: str, root: Path, tables: tuple[str, ...]) -> None:
    files = sorted(str(path) for path in (root / "回收").glob("*.xlsx"))
    jobs = frictionless_jobs(files, tables, root / "frictionless-jobs.json")
    contention_before = core_contention()
    found = measure_together({
        "validate": statecollect("validate", "--dir", str(root), "--no-feedback"),
        "read": [sys.executable, str(HERE / "read_calamine.py"), *files],
        "frictionless": [sys.executable, str(HERE / "validate_frictionless.py"), str(jobs)],
    }, REPEATS, every={"frictionless": FRICTIONLESS_EVERY})
    contention_after = core_contention()
    validated, read, checked = found["validate"], found["read"], found["frictionless"]
    with_feedback = measure(statecollect("validate", "--dir", str(root), "--feedback", str(root / "反馈-bench")), FEEDBACK_REPEATS)
    # each round's validate against the read taken right after it: how far single rounds stray
    ratios = statistics.quantiles([mine / theirs for mine, theirs in zip(validated.runs, read.runs, strict=True)], n=4)
    print(f"\n== {label}: {len(files)} file(s)")
    print(f"calamine read only        {read.seconds:7.2f} s  {read.peak_mib:6.0f} MiB")
    print(f"statecollect validate     {validated.seconds:7.2f} s  {validated.peak_mib:6.0f} MiB   "
          f"{validated.seconds / read.seconds:4.2f}x the read (target <= 1.5x), "
          f"memory {validated.peak_mib / read.peak_mib:4.2f}x (target <= 2x)")
    print(f"  ... round by round       {ratios[0]:4.2f}x to {ratios[2]:4.2f}x the read (middle half of {REPEATS} rounds)")
    print(f"  ... with feedback copies {with_feedback.seconds:6.2f} s  {with_feedback.peak_mib:6.0f} MiB")
    print(f"frictionless ({len(tables)} tables)  {checked.seconds:7.2f} s  {checked.peak_mib:6.0f} MiB   "
          f"validate is {checked.seconds / validated.seconds:4.2f}x faster (target >= 8x)")
    print(f"machine: two threads at once took {contention_before:4.2f}x one thread's time before, "
          f"{contention_after:4.2f}x after (1.00: two free cores)")


def main() -> None:
    compile_package()
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        compare("30,000-row 本科生基本情况", roster(base / "roster"), ("BKSJBQK",))
        build_demo(base / "large", scale="large")
        shutil.rmtree(base / "large" / "下发")
        compare("large demo school", base / "large", MAIN_TABLES)


if __name__ == "__main__":
    main()
