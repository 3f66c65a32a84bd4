"""Baseline for bench_validate.py: read every sheet of the given workbooks with python-calamine, nothing else."""

import sys

from python_calamine import CalamineWorkbook

for path in sys.argv[1:]:
    workbook = CalamineWorkbook.from_path(path)
    for name in workbook.sheet_names:
        workbook.get_sheet_by_name(name).to_python()
