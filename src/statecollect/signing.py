"""Signing the hidden ``_meta`` sheet of generated workbooks with the collection's secret.

A returned workbook proves where it came from: the signature covers the metadata
(collection, department, tables, schema version), so a forged, edited or foreign file
is detected. The department's data is not signed: filling it in is the point.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

__all__ = ["collection_id", "sign", "verify"]


def _canonical(payload: Mapping[str, str]) -> bytes:
    return json.dumps(dict(payload), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(payload: Mapping[str, str], secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), _canonical(payload), hashlib.sha256).hexdigest()


def verify(payload: Mapping[str, str], signature: str, secret: str) -> bool:
    return hmac.compare_digest(sign(payload, secret), signature)


def collection_id(secret: str) -> str:
    """A public name for a collection, derived from its secret: tells a foreign file from a forged one."""
    return hashlib.sha256(("collection:" + secret).encode("utf-8")).hexdigest()[:16]
