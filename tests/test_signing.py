from __future__ import annotations

from statecollect.signing import collection_id, sign, verify


def test_signatures_bind_every_value_and_the_secret() -> None:
    payload = {"department": "图书馆", "tables": "TSG,TSDNXZQK", "year": "2020"}
    signature = sign(payload, "secret-a")
    assert verify(dict(reversed(list(payload.items()))), signature, "secret-a")
    assert not verify({**payload, "tables": "TSG"}, signature, "secret-a")
    assert not verify(payload, signature, "secret-b")


def test_collection_ids_are_public_but_not_the_secret() -> None:
    assert collection_id("s1") != collection_id("s2")
    assert "s1" not in collection_id("s1") and len(collection_id("s1")) == 16
