"""Where every table stands, and the four-step review: 填报 → 部门审核 → 校级审核 → 最终审核上报.

States come from the ledger: a table is *not received*, *has errors*, *validated*,
*department-approved*, *school-approved* or *final*. An approval counts only if it is newer
than the department's newest submission: a new file reopens the review. No stage can be
skipped, and the final approval needs every collected table school-approved. A school
approval freezes the department's base tables: their rows are kept, and merging refuses
a later change unless it is unfrozen with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date
from pathlib import Path
from typing import Any

from statecollect.catalogue import Catalogue, load_catalogue
from statecollect.collection import Workspace, open_workspace
from statecollect.errors import UserError
from statecollect.ledger import STAGE_LABELS, STAGES, Approval, Ledger, Submission, TableResult
from statecollect.task_split import Assignment, read_split_workbook

__all__ = ["STATE_LABELS", "StatusReport", "TableStatus", "approve", "status"]

STATE_LABELS = {
    "missing": "未收到",
    "errors": "有错误",
    "validated": "已通过校验",
    "dept": "部门已审核",
    "school": "校级已审核",
    "final": "已最终上报",
}


@dataclass(frozen=True)
class TableStatus:
    number: str
    title: str
    table_id: str
    base: bool
    department: str
    state: str
    deadline: date
    days_left: int
    file: str | None
    errors: int
    warnings: int

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.number, "title": self.title, "base": self.base, "department": self.department,
                "state": self.state, "state_label": STATE_LABELS[self.state], "deadline": self.deadline.isoformat(),
                "days_left": self.days_left, "file": self.file, "errors": self.errors, "warnings": self.warnings}


@dataclass(frozen=True)
class StatusReport:
    today: date
    deadlines: list[tuple[str, date]]
    tables: list[TableStatus]

    def to_dict(self) -> dict[str, Any]:
        departments: dict[str, dict[str, int]] = {}
        for item in self.tables:
            counts = departments.setdefault(item.department, {state: 0 for state in STATE_LABELS})
            counts[item.state] += 1
        return {"today": self.today.isoformat(),
                "deadlines": [{"phase": name, "date": day.isoformat(), "days_left": (day - self.today).days}
                              for name, day in self.deadlines],
                "departments": departments, "tables": [item.to_dict() for item in self.tables]}


@dataclass
class _Round:
    """The ledger's facts for one collection, read once."""

    assignments: list[Assignment]
    latest: dict[tuple[str, str], tuple[Submission, TableResult]]
    approvals: list[Approval]
    accepted: set[str]
    submissions: list[Submission]

    @cached_property
    def _newest(self) -> dict[str | None, int]:
        """When each department (None: anyone) last delivered, as the ledger's sequence number."""
        newest: dict[str | None, int] = {None: 0}
        for item in self.submissions:  # in delivery order: the last one seen wins
            newest[item.department] = newest[None] = item.seen
        return newest

    def newest_submission(self, department: str | None) -> int:
        return self._newest.get(department, 0)

    def approved(self, department: str | None, stage: str) -> bool:
        since = self.newest_submission(department)
        return any(item.stage == stage and item.department == department and item.seen > since for item in self.approvals)

    def state(self, assignment: Assignment) -> str:
        department = assignment.responsible or ""
        delivered = self.latest.get((department, assignment.table_id))
        if delivered is None:
            return "missing"
        if delivered[1].errors and assignment.table_id not in self.accepted:
            return "errors"
        if self.approved(None, "final"):
            return "final"
        for stage in ("school", "dept"):
            if self.approved(department, stage):
                return stage
        return "validated"


def _round(workspace: Workspace, catalogue: Catalogue) -> tuple[_Round, Ledger]:
    split = read_split_workbook(workspace.split_path, catalogue)
    ledger = Ledger(workspace.root)
    accepted = {event["table"] for event in ledger.events("accept_errors")}
    submissions = ledger.submissions()
    facts = _Round(split.collected(), ledger.latest_tables(submissions), ledger.approvals(), accepted, submissions)
    return facts, ledger


def _open(root: Path) -> tuple[Workspace, Catalogue]:
    workspace = open_workspace(root)
    return workspace, load_catalogue(workspace.collection.edition)


def status(root: Path, today: date | None = None) -> StatusReport:
    """Every collected table's state with days left to its deadline, base tables first."""
    workspace, catalogue = _open(root)
    facts, _ = _round(workspace, catalogue)
    day = today or date.today()
    rows = []
    for assignment in facts.assignments:
        table = catalogue.table_by_id(assignment.table_id)
        delivered = facts.latest.get((assignment.responsible or "", table.id))
        rows.append(TableStatus(
            table.number, table.title, table.id, table.base, assignment.responsible or "（未分配）", facts.state(assignment),
            assignment.deadline, (assignment.deadline - day).days, delivered[0].file_name if delivered else None,
            delivered[1].errors if delivered else 0, delivered[1].warnings if delivered else 0,
        ))
    order = {table.id: index for index, table in enumerate(catalogue.tables)}
    rows.sort(key=lambda item: (not item.base, order[item.table_id]))
    plan = workspace.collection.deadlines
    deadlines = [("学习部署结束", plan.learning.end), ("基础数据表截止", plan.base_tables),
                 ("采集填报与审核截止", plan.collection.end), ("分析总结截止", plan.analysis.end)]
    return StatusReport(day, deadlines, rows)


def approve(root: Path, *, department: str | None, stage: str, by: str, note: str | None = None) -> Approval:
    """Record an approval after checking that the previous step is complete."""
    if stage not in STAGES:
        raise UserError(f"未知的审核环节 “{stage}”", "可选：dept（部门审核）、school（校级审核）、final（最终审核上报）")
    if not by.strip():
        raise UserError("请写明审核人", "例如：--by 张三")
    workspace, catalogue = _open(root)
    facts, ledger = _round(workspace, catalogue)
    if stage == "final":
        _require_all_school_approved(facts)
        return ledger.approve(None, "final", by.strip(), note)
    if not department:
        raise UserError(f"{STAGE_LABELS[stage]}需要指明部门", "例如：--dept 教务处")
    mine = [item for item in facts.assignments if item.responsible == department]
    if not mine:
        raise UserError(f"任务分解表中没有由 {department} 负责的数据表", "请检查部门名称")
    if stage == "dept":
        not_ready = [f"{item.table_id}（{STATE_LABELS[facts.state(item)]}）" for item in mine
                     if facts.state(item) in {"missing", "errors"}]
        if not_ready:
            raise UserError(f"{department} 还有数据表未通过校验，不能部门审核：{'、'.join(not_ready)}",
                            "请先交回并改正这些表，重新运行 statecollect validate")
    if stage == "school" and not facts.approved(department, "dept"):
        raise UserError(f"{department} 尚未完成部门审核（或审核后又交回了新文件），不能跳过", "请先由部门审核员审核：--stage dept")
    approval = ledger.approve(department, stage, by.strip(), note)
    if stage == "school":
        _freeze_base_tables(workspace, catalogue, ledger, facts, mine, by.strip())
    return approval


def _require_all_school_approved(facts: _Round) -> None:
    waiting = sorted({item.responsible or "（未分配）" for item in facts.assignments if facts.state(item) != "school"})
    if waiting:
        raise UserError(f"还有部门的数据未完成校级审核，不能最终上报：{'、'.join(waiting)}",
                        "用 statecollect status 查看各表状态")


def _freeze_base_tables(workspace: Workspace, catalogue: Catalogue, ledger: Ledger, facts: _Round,
                        mine: list[Assignment], by: str) -> None:
    from statecollect.merge import snapshot_rows
    from statecollect.returned_file import collection_context

    frozen = ledger.frozen()
    wanted: dict[int, tuple[Submission, list[str]]] = {}
    for item in mine:
        delivered = facts.latest.get((item.responsible or "", item.table_id))
        if delivered is None or item.table_id in frozen or not catalogue.table_by_id(item.table_id).base:
            continue
        wanted.setdefault(delivered[0].id, (delivered[0], []))[1].append(item.table_id)
    if not wanted:
        return
    context = collection_context(workspace, with_split=False)
    for submission, table_ids in wanted.values():  # a department's base tables mostly share one file: read it once
        for table_id, rows in snapshot_rows(context, ledger, submission, table_ids).items():
            ledger.freeze(table_id, by, rows)
