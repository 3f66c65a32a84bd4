"""Finding a collection from any folder inside it, without loading its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from statecollect.folders import COLLECTION_FILE, CollectionError, find_root


def test_the_root_is_found_from_a_folder_inside(tmp_path: Path) -> None:
    (tmp_path / COLLECTION_FILE).write_text("not even read: finding needs only the file's presence", encoding="utf-8")
    inner = tmp_path / "回收" / "补交"
    inner.mkdir(parents=True)
    assert find_root(inner) == tmp_path.resolve()


def test_outside_a_collection_the_message_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="不是采集文件夹") as raised:
        find_root(tmp_path)
    assert "statecollect init" in raised.value.hint
