"""Benchmark: `statecollect merge` and `statecollect export` on the large demo school.

The large demo (32,000 students, 3,200 staff, 10,400 course rows, 40 departments) is
built and validated first (not timed); then merge and export each run as a whole
process, timed from outside, with the process's own peak memory from GNU time.

    .venv/bin/python benchmarks/bench_merge.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from statecollect.demo import build_demo
from statecollect.validate import validate


def run(args: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "statecollect", *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "large"
        build_demo(root, scale="large")
        report = validate([], root=root, write_feedback=False)
        rows = sum(len(table.row_numbers) for file in report.files for table in file.tables)
        merge_s, merge_mb = run(["merge", "--dir", str(root)])
        export_s, export_mb = run(["export", "--dir", str(root)])
        files = len(list((root / "导入文件").glob("*.xlsx")))
        print(f"large demo school: {len(report.files)} returned files, {rows} rows")
        print(f"merge:  {merge_s:6.2f} s, peak {merge_mb:4.0f} MiB")
        print(f"export: {export_s:6.2f} s, peak {export_mb:4.0f} MiB ({files} platform files)")


if __name__ == "__main__":
    main()
