"""The ledger: every submission, validation result, approval, freeze and decision of a round.

An SQLite file in the collection folder. Each returned file that is validated inside the
collection becomes a submission, identified by the SHA-256 of its bytes, and a copy of
it is kept (content-addressed) so merging and archiving never depend on a file a
department may later overwrite. Submissions and approvals are never deleted: later ones supersede
earlier ones, and every decision (accepted errors, a preferred department, a lifted
freeze and its reason) is kept as an event.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from statecollect.errors import UserError
from statecollect.output import write_atomically

__all__ = ["STAGES", "Approval", "Ledger", "Submission", "TableResult", "ValidatedFile", "file_hash"]

LEDGER_FOLDER = ".statecollect"
LEDGER_FILE = "ledger.sqlite"
STAGES = ("dept", "school", "final")
STAGE_LABELS = {"dept": "部门审核", "school": "校级审核", "final": "最终审核上报"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    department TEXT,
    received_at TEXT NOT NULL,
    validated_at TEXT NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS submission_tables (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    table_id TEXT NOT NULL,
    rows INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    PRIMARY KEY (submission_id, table_id)
);
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY,
    department TEXT,
    stage TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    note TEXT,
    seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS freezes (
    table_id TEXT PRIMARY KEY,
    frozen_at TEXT NOT NULL,
    frozen_by TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    happened_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    table_id TEXT,
    department TEXT,
    detail TEXT NOT NULL
);
"""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def now() -> str:
    return datetime.now().replace(microsecond=0).isoformat(sep=" ")


def _next_seen(db: sqlite3.Connection) -> int:
    """One counter orders submissions and approvals: re-delivering a file or approving moves it forward."""
    row = db.execute("SELECT MAX(seen) FROM (SELECT seen FROM submissions UNION ALL SELECT seen FROM approvals)").fetchone()
    return int(row[0] or 0) + 1


@dataclass(frozen=True)
class TableResult:
    table_id: str
    rows: int
    errors: int
    warnings: int


@dataclass(frozen=True)
class ValidatedFile:
    """A file as validated, to be entered into the ledger."""

    path: Path
    department: str | None
    tables: tuple[TableResult, ...]
    errors: int
    warnings: int


@dataclass(frozen=True)
class Submission:
    id: int
    sha256: str
    file_name: str
    department: str | None
    received_at: str
    validated_at: str
    errors: int
    warnings: int
    seen: int


@dataclass(frozen=True)
class Approval:
    department: str | None
    stage: str
    approved_by: str
    approved_at: str
    note: str | None
    seen: int


class Ledger:
    """The ledger of one collection folder."""

    def __init__(self, root: Path) -> None:
        self.folder = root / LEDGER_FOLDER
        self.path = self.folder / LEDGER_FILE
        self.store = self.folder / "submissions"
        self._prepared = False  # folders and tables are made once per instance, not on every connection

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if not self._prepared:
                self.store.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"无法打开台账 {self.path}：{exc}", "请确认采集文件夹可写，且没有其他程序占用台账") from None
        try:
            if not self._prepared:
                connection.executescript(_SCHEMA)
                self._prepared = True
            yield connection
            connection.commit()
        except sqlite3.DatabaseError as exc:
            connection.rollback()
            raise UserError(f"台账 {self.path.name} 无法读写（{exc}）", "台账可能已损坏或被占用；请从备份恢复或联系维护人员") from None
        finally:
            connection.close()

    # ------------------------------------------------------------------ submissions

    def record(self, path: Path, department: str | None, tables: Sequence[TableResult], errors: int, warnings: int) -> Submission:
        """Record a validated file.

        Validating the same bytes again updates the result; it moves the file to the front only
        when the department had delivered something else since, so re-checking does not reopen
        a review but re-delivering an older version does.
        """
        return self.record_all([ValidatedFile(path, department, tuple(tables), errors, warnings)])[0]

    def record_all(self, files: Sequence[ValidatedFile]) -> list[Submission]:
        """Record a batch of validated files (see :meth:`record`) in one transaction."""
        shas = [self._keep_copy(file.path) for file in files]
        stamp = now()
        with self.connect() as db:
            ids = [self._enter(db, file, sha, stamp) for file, sha in zip(files, shas, strict=True)]
            return [self._submission(db, submission_id) for submission_id in ids]

    def _keep_copy(self, path: Path) -> str:
        # read once: the copy kept is the very bytes whose hash names it, whatever happens to the file meanwhile
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        copy = self.copy_of(sha)
        if not copy.exists():
            write_atomically(copy, lambda temp: temp.write_bytes(data))
        return sha

    @staticmethod
    def _enter(db: sqlite3.Connection, file: ValidatedFile, sha: str, stamp: str) -> int:
        row = db.execute("SELECT id FROM submissions WHERE sha256 = ?", (sha,)).fetchone()
        newest = db.execute("SELECT id, seen FROM submissions WHERE department IS ? ORDER BY seen DESC LIMIT 1",
                            (file.department,)).fetchone()
        seen = newest[1] if row is not None and newest is not None and newest[0] == row[0] else _next_seen(db)
        if row is None:
            cursor = db.execute(
                "INSERT INTO submissions (sha256, file_name, department, received_at, validated_at, errors, warnings, seen)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sha, file.path.name, file.department, stamp, stamp, file.errors, file.warnings, seen))
            submission_id = int(cursor.lastrowid or 0)
        else:
            submission_id = int(row[0])
            db.execute("UPDATE submissions SET validated_at = ?, errors = ?, warnings = ?, department = ?, seen = ?"
                       " WHERE id = ?", (stamp, file.errors, file.warnings, file.department, seen, submission_id))
            db.execute("DELETE FROM submission_tables WHERE submission_id = ?", (submission_id,))
        db.executemany("INSERT INTO submission_tables VALUES (?, ?, ?, ?, ?)",
                       [(submission_id, table.table_id, table.rows, table.errors, table.warnings) for table in file.tables])
        return submission_id

    def copy_of(self, sha: str) -> Path:
        return self.store / f"{sha}.xlsx"

    @staticmethod
    def _submission(db: sqlite3.Connection, submission_id: int) -> Submission:
        row = db.execute("SELECT id, sha256, file_name, department, received_at, validated_at, errors, warnings, seen"
                         " FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return Submission(*row)

    def submissions(self) -> list[Submission]:
        with self.connect() as db:
            rows = db.execute("SELECT id, sha256, file_name, department, received_at, validated_at, errors, warnings, seen"
                              " FROM submissions ORDER BY seen").fetchall()
        return [Submission(*row) for row in rows]

    def latest_tables(self, submissions: Sequence[Submission] | None = None) -> dict[tuple[str, str], tuple[Submission, TableResult]]:
        """For each (department, table): the most recently delivered submission that holds it, with its result.
        ``submissions``, when the caller has read them already, saves reading them again."""
        latest: dict[tuple[str, str], tuple[Submission, TableResult]] = {}
        by_id = {submission.id: submission for submission in (self.submissions() if submissions is None else submissions)}
        with self.connect() as db:
            rows = db.execute("SELECT t.submission_id, t.table_id, t.rows, t.errors, t.warnings FROM submission_tables t"
                              " JOIN submissions s ON s.id = t.submission_id ORDER BY s.seen").fetchall()
        for submission_id, table_id, count, errors, warnings in rows:
            submission = by_id[submission_id]
            latest[(submission.department or "", table_id)] = (submission, TableResult(table_id, count, errors, warnings))
        return latest

    # ------------------------------------------------------------------ approvals, freezes, events

    def approve(self, department: str | None, stage: str, by: str, note: str | None = None) -> Approval:
        stamp = now()
        with self.connect() as db:
            seen = _next_seen(db)
            db.execute("INSERT INTO approvals (department, stage, approved_by, approved_at, note, seen) VALUES (?, ?, ?, ?, ?, ?)",
                       (department, stage, by, stamp, note, seen))
        return Approval(department, stage, by, stamp, note, seen)

    def approvals(self) -> list[Approval]:
        with self.connect() as db:
            rows = db.execute("SELECT department, stage, approved_by, approved_at, note, seen FROM approvals ORDER BY seen").fetchall()
        return [Approval(*row) for row in rows]

    def freeze(self, table_id: str, by: str, rows: list[dict[str, str]]) -> None:
        with self.connect() as db:
            db.execute("INSERT OR REPLACE INTO freezes VALUES (?, ?, ?, ?)",
                       (table_id, now(), by, json.dumps(rows, ensure_ascii=False, sort_keys=True)))

    def unfreeze(self, table_id: str) -> None:
        """Lift a freeze; the event that explains why is written by the caller (``note``)."""
        with self.connect() as db:
            db.execute("DELETE FROM freezes WHERE table_id = ?", (table_id,))

    def frozen(self) -> dict[str, list[dict[str, str]]]:
        with self.connect() as db:
            rows = db.execute("SELECT table_id, snapshot FROM freezes").fetchall()
        return {table_id: json.loads(snapshot) for table_id, snapshot in rows}

    def note(self, kind: str, detail: dict[str, Any], table_id: str | None = None, department: str | None = None) -> None:
        with self.connect() as db:
            db.execute("INSERT INTO events (happened_at, kind, table_id, department, detail) VALUES (?, ?, ?, ?, ?)",
                       (now(), kind, table_id, department, json.dumps(detail, ensure_ascii=False, sort_keys=True)))

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        where, given = ("WHERE kind = ?", (kind,)) if kind is not None else ("", ())
        with self.connect() as db:
            rows = db.execute(f"SELECT happened_at, kind, table_id, department, detail FROM events {where} ORDER BY id",
                              given).fetchall()
        return [{"at": at, "kind": event_kind, "table": table, "department": department, "detail": json.loads(detail)}
                for at, event_kind, table, department, detail in rows]
