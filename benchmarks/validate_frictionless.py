"""Comparison for bench_validate.py: frictionless-py validates the jobs listed in a JSON file.

Each job names a workbook, a sheet and a Table Schema descriptor equivalent to the
statecollect schema of that table (built by bench_validate.py, outside the timed process).
"""

import json
import sys
from pathlib import Path

from frictionless import Resource, Schema, formats

for job in json.loads(open(sys.argv[1], encoding="utf-8").read()):
    file = Path(job["file"])
    resource = Resource(file.name, basepath=str(file.parent), format="xlsx",
                        control=formats.ExcelControl(sheet=job["sheet"]), schema=Schema.from_descriptor(job["schema"]))
    report = resource.validate()
    task = report.tasks[0]
    if task.errors and task.errors[0].type == "resource-error":
        raise SystemExit(task.errors[0].note)
    print(job["sheet"], report.valid, task.stats["rows"], len(report.flatten(["rowNumber"])))
