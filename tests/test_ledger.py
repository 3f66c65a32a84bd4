from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from statecollect.errors import UserError
from statecollect import ledger
from statecollect.ledger import Ledger, TableResult, file_hash


def test_submissions_are_kept_and_ordered_by_delivery(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    first = tmp_path / "a.xlsx"
    first.write_bytes(b"first version")
    second = tmp_path / "b.xlsx"
    second.write_bytes(b"second version")
    a = ledger.record(first, "图书馆", [TableResult("TSG", 1, 2, 0)], errors=2, warnings=0)
    b = ledger.record(second, "图书馆", [TableResult("TSG", 1, 0, 0)], errors=0, warnings=0)
    assert ledger.latest_tables()[("图书馆", "TSG")][0].id == b.id
    assert ledger.copy_of(a.sha256).read_bytes() == b"first version"
    again = ledger.record(first, "图书馆", [TableResult("TSG", 1, 2, 0)], errors=2, warnings=0)
    assert again.id == a.id and again.seen > b.seen
    assert ledger.latest_tables()[("图书馆", "TSG")][0].id == a.id
    assert [item.id for item in ledger.submissions()] == [b.id, a.id]
    assert file_hash(first) == a.sha256


def test_approvals_freezes_and_events(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    approval = ledger.approve("人事处", "dept", "张三", "核对无误")
    assert ledger.approvals() == [approval]
    ledger.freeze("XXXGDZDW", "王五", [{"单位号": "0101"}])
    assert ledger.frozen() == {"XXXGDZDW": [{"单位号": "0101"}]}
    ledger.unfreeze("XXXGDZDW")
    ledger.note("unfreeze", {"reason": "补报"}, table_id="XXXGDZDW")
    assert ledger.frozen() == {}
    [event] = ledger.events("unfreeze")
    assert event["detail"] == {"reason": "补报"} and event["table"] == "XXXGDZDW"


def test_a_corrupted_ledger_is_a_clear_error(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    ledger.folder.mkdir(parents=True)
    ledger.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match="台账"):
        ledger.approvals()


def test_unwritable_ledger_folder(tmp_path: Path) -> None:
    (tmp_path / ".statecollect").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(UserError, match="无法打开台账"):
        Ledger(tmp_path).approvals()
    shutil.rmtree(tmp_path / ".statecollect", ignore_errors=True)


def test_the_copy_kept_is_the_bytes_whose_hash_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    path = tmp_path / "a.xlsx"
    path.write_bytes(b"as validated")
    real_sha256 = hashlib.sha256

    class HashedThenSavedAgain:  # the department's Excel saves the file once more right after it is hashed
        def __init__(self, *data: bytes) -> None:
            self._digest = real_sha256(*data)

        def update(self, data: bytes) -> None:
            self._digest.update(data)

        def hexdigest(self) -> str:
            path.write_bytes(b"saved again meanwhile")
            return self._digest.hexdigest()

    monkeypatch.setattr(ledger.hashlib, "sha256", HashedThenSavedAgain)
    kept = Ledger(tmp_path).record(path, "图书馆", [TableResult("TSG", 1, 0, 0)], errors=0, warnings=0)
    monkeypatch.undo()
    copy = Ledger(tmp_path).copy_of(kept.sha256).read_bytes()
    assert copy == b"as validated" and hashlib.sha256(copy).hexdigest() == kept.sha256
