from __future__ import annotations

import sys
from typing import Any

import pytest

from statecollect import allocator


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[int, ...]]] = []

    def mallopt(self, *arguments: int) -> int:
        self.calls.append(("mallopt", arguments))
        return 1

    def malloc_trim(self, *arguments: int) -> int:
        self.calls.append(("malloc_trim", arguments))
        return 1


@pytest.fixture
def fake_libc(monkeypatch: pytest.MonkeyPatch) -> _FakeLibc:
    libc = _FakeLibc()
    monkeypatch.setattr(allocator, "_glibc", lambda: libc)
    return libc


def test_large_blocks_get_their_own_mappings_at_a_fixed_threshold(fake_libc: _FakeLibc) -> None:
    allocator.map_large_blocks()
    assert fake_libc.calls == [("mallopt", (-3, allocator.LARGE_BLOCK))]  # M_MMAP_THRESHOLD
    assert allocator.LARGE_BLOCK == 4 * 1024 * 1024


def test_freed_memory_is_handed_back_from_every_heap(fake_libc: _FakeLibc) -> None:
    allocator.release_freed_memory()
    assert fake_libc.calls == [("malloc_trim", (0,))]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc")
def test_glibc_is_found_on_linux_and_its_calls_succeed() -> None:
    allocator._glibc.cache_clear()
    libc: Any = allocator._glibc()
    assert libc is not None and libc.malloc_trim(0) in (0, 1)
    allocator.map_large_blocks()


def test_nothing_is_changed_outside_linux_or_where_the_c_library_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes

    allocator._glibc.cache_clear()
    monkeypatch.setattr(sys, "platform", "win32")
    assert allocator._glibc() is None
    allocator.map_large_blocks()
    allocator.release_freed_memory()
    allocator._glibc.cache_clear()
    monkeypatch.setattr(sys, "platform", "linux")

    def windows_like(name: object) -> None:
        raise TypeError("argument of type 'NoneType' is not iterable")  # what CDLL(None) does on Windows

    monkeypatch.setattr(ctypes, "CDLL", windows_like)
    assert allocator._glibc() is None
    allocator._glibc.cache_clear()

    class Musl:
        malloc_trim = None

        def __getattr__(self, name: str) -> None:
            raise AttributeError(name)

    monkeypatch.setattr(ctypes, "CDLL", lambda name: Musl())
    assert allocator._glibc() is None
    allocator._glibc.cache_clear()
