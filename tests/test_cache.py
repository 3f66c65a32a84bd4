"""The cache of checked inputs: an entry is served only for the state it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from statecollect import cache, findings


def test_an_entry_is_served_back_for_its_state_only(tmp_path: Path) -> None:
    entry = cache.entry_for("thing", tmp_path, "state 1", (findings,))
    cache.store(entry, {"value": 1})
    assert cache.load(entry, dict) == {"value": 1}
    assert cache.load(entry, list) is None  # not what the caller expects: made again
    assert cache.load(cache.entry_for("thing", tmp_path, "state 2", (findings,)), dict) is None


def test_a_new_entry_replaces_the_old_ones_of_its_kind_and_source(tmp_path: Path) -> None:
    first = cache.entry_for("thing", tmp_path, "state 1", (findings,))
    other_source = cache.entry_for("thing", tmp_path / "other", "state 1", (findings,))
    cache.store(first, 1)
    cache.store(other_source, 2)
    second = cache.entry_for("thing", tmp_path, "state 2", (findings,))
    cache.store(second, 3)
    assert first is not None and not first.exists()
    assert cache.load(second, int) == 3 and cache.load(other_source, int) == 2


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x05K\x01"])  # the last: a truncated pickle
def test_a_damaged_entry_only_costs_the_check_again(tmp_path: Path, content: bytes) -> None:
    entry = cache.entry_for("thing", tmp_path, "state", (findings,))
    assert entry is not None
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(content)
    assert cache.load(entry, dict) is None


def test_a_changed_module_stamps_a_new_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "models.py"
    module.write_text("# version 1\n", encoding="utf-8")
    monkeypatch.setattr(findings, "__file__", str(module))
    before = cache.entry_for("thing", tmp_path, "state", (findings,))
    module.write_text("# version 2, one more field\n", encoding="utf-8")
    assert cache.entry_for("thing", tmp_path, "state", (findings,)) != before


def test_no_entry_when_a_module_or_the_cache_folder_cannot_be_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(findings, "__file__", None)  # a module without a file (frozen, or built in)
    assert cache.entry_for("thing", tmp_path, "state", (findings,)) is None
    monkeypatch.undo()

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert cache.entry_for("thing", tmp_path, "state", (findings,)) is None
