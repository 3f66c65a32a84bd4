"""How the C library's allocator hands memory back (glibc on Linux; elsewhere nothing is changed).

calamine parses a sheet into one large block and frees it once the values are Python objects.
By default glibc then raises its threshold for serving large blocks from their own mappings to
the size of the block just freed (up to 32 MiB), and its threshold for giving the heap's free
top back to twice that: after the first large sheet, later sheets and the columns of tens of
thousands of rows are carved from the heap and stay with the process when freed. The large
demo school's validate peaked 12 MiB higher that way, by more or less from run to run.
"""

from __future__ import annotations

import sys
from functools import cache

TYPE_CHECKING = False  # typing itself is not imported on the way to the first parse
if TYPE_CHECKING:
    from typing import Any

__all__ = ["LARGE_BLOCK", "map_large_blocks", "release_freed_memory"]

LARGE_BLOCK = 4 << 20  # served from (and given back with) its own mapping; smaller ones reuse the heap
_M_MMAP_THRESHOLD = -3  # mallopt's parameter, from glibc's malloc.h


def map_large_blocks() -> None:
    """Serve blocks of :data:`LARGE_BLOCK` and more from their own mappings, for the whole process.

    Fixing the threshold also stops glibc from raising its thresholds as large blocks are freed.
    A smaller threshold would map the columns of every long table as well, and page faults on
    fresh mappings cost a large school's validate about 5% of its time. Every workbook read
    calls it first; calling it again changes nothing.
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK)


def release_freed_memory() -> None:
    """Give the pages of freed blocks back to the system, in every thread's heap.

    calamine frees a parsed sheet into the heap of the thread that read it, and glibc keeps a
    thread heap's free pages: without this, the largest sheets' memory below the threshold stays
    with the process until it ends.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _glibc() -> Any | None:
    """The C library, when it is glibc (Linux): None on Windows, macOS, or with musl."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim, libc.mallopt  # noqa: B018 - both looked up here, so that a C library lacking either is never called
    except (OSError, AttributeError, TypeError):  # TypeError: CDLL(None) on Windows
        return None
    return libc
