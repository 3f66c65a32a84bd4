"""Benchmark: `statecollect generate` for 40 departments holding all tables, and the large demo school.

Each case runs as a whole `statecollect` process, timed from outside (see timing.py). Run
from the repository root:

    .venv/bin/python benchmarks/bench_generate.py

Target (issue 3): generate < 10 s.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from timing import compile_package, measure, statecollect

from statecollect.catalogue import load_catalogue
from statecollect.collection import init_collection, open_workspace
from statecollect.demo import spread_split
from statecollect.task_split import TaskSplit, read_split_workbook, write_split_workbook

TARGET_SECONDS = 10.0


def forty_departments(root: Path) -> int:
    init_collection(root, year=2020, school="基准大学", school_type="综合院校")
    workspace = open_workspace(root)
    catalogue = load_catalogue()
    split = spread_split(read_split_workbook(workspace.split_path, catalogue), catalogue)
    write_split_workbook(split, workspace.split_path, catalogue, workspace.collection.times)
    return len(split.departments())


def one_department_with_everything(root: Path) -> int:
    init_collection(root, year=2020, school="基准大学", school_type="综合院校")
    workspace = open_workspace(root)
    catalogue = load_catalogue()
    split = read_split_workbook(workspace.split_path, catalogue)
    everything = TaskSplit(tuple(replace(item, collected=True, responsible="数据办公室") for item in split.assignments))
    write_split_workbook(everything, workspace.split_path, catalogue, workspace.collection.times)
    return len(everything.collected())


def main() -> None:
    compile_package()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "forty"
        departments = forty_departments(root)
        tables = len(read_split_workbook(root / "任务分解表.xlsx", load_catalogue()).collected())
        forty = measure(statecollect("generate", "--dir", str(root)))
        print(f"generate: {departments} departments, {tables} tables: {forty.seconds:.2f} s, peak {forty.peak_mib:.0f} MiB "
              f"(target < {TARGET_SECONDS:.0f} s: {'met' if forty.seconds < TARGET_SECONDS else 'MISSED'}, "
              f"ratio {forty.seconds / TARGET_SECONDS:.2f} of target)")
        whole = Path(temp) / "whole"
        tables = one_department_with_everything(whole)
        one = measure(statecollect("generate", "--dir", str(whole)))
        print(f"generate: 1 department holding all {tables} tables: {one.seconds:.2f} s, peak {one.peak_mib:.0f} MiB")
        demo = measure(statecollect("demo", str(Path(temp) / "large"), "--scale", "large"))
        files = len(list((Path(temp) / "large" / "回收").glob("*.xlsx")))
        print(f"demo --scale large: {files} returned workbooks + {files} blank: {demo.seconds:.2f} s, peak {demo.peak_mib:.0f} MiB")
        large = Path(temp) / "large"
        for step in (("validate", "--no-feedback"), ("merge", "--accept-errors")):  # not reported: the master generate reads
            measure(statecollect(step[0], "--dir", str(large), *step[1:]))  # stops the benchmark if the step fails
        if not open_workspace(large).master_path.is_file():
            raise SystemExit("merge wrote no master: the second generate would have nothing to prefill")
        regenerated = measure(statecollect("generate", "--dir", str(large)))
        print(f"generate after merging the large school ({files} departments, base tables prefilled): "
              f"{regenerated.seconds:.2f} s, peak {regenerated.peak_mib:.0f} MiB (no target)")


if __name__ == "__main__":
    main()
