"""Benchmark: `statecollect merge` and `statecollect export` on the large demo school.

The large demo (32,000 students, 3,200 staff, 10,400 course rows, 40 departments) is
built and validated first (not timed); then merge and export each run as a whole
process, timed from outside (see timing.py).

    .venv/bin/python benchmarks/bench_merge.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from timing import compile_package, measure, statecollect

from statecollect.demo import build_demo
from statecollect.validate import validate


def main() -> None:
    compile_package()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "large"
        build_demo(root, scale="large")
        report = validate([], root=root, write_feedback=False)
        rows = sum(len(table.row_numbers) for file in report.files for table in file.tables)
        merged = measure(statecollect("merge", "--dir", str(root)))
        exported = measure(statecollect("export", "--dir", str(root)))
        files = len(list((root / "导入文件").glob("*.xlsx")))
        print(f"large demo school: {len(report.files)} returned files, {rows} rows")
        print(f"merge:  {merged.seconds:6.2f} s, peak {merged.peak_mib:4.0f} MiB")
        print(f"export: {exported.seconds:6.2f} s, peak {exported.peak_mib:4.0f} MiB ({files} platform files)")


if __name__ == "__main__":
    main()
