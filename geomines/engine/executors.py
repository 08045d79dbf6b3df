"""Run independent work items on threads: GEOS, PROJ, GDAL and numpy release the GIL.

One pool of worker threads is kept for the life of the process, so per-thread
resources (open GDAL datasets, malloc arenas) are made once, not once per call.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_LOCK = threading.Lock()
_IN_POOL = threading.local()


def threads() -> int:
    """Number of worker threads; ``GEOMINES_THREADS`` overrides (1 runs inline)."""
    value = os.environ.get("GEOMINES_THREADS")
    if value:
        return max(1, int(value))
    return max(1, min(os.cpu_count() or 1, 8))


def _mark() -> None:
    _IN_POOL.active = True


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or _POOL_SIZE != n:
            if _POOL is not None:
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(
                max_workers=n, thread_name_prefix="geomines", initializer=_mark
            )
            _POOL_SIZE = n
        return _POOL


def map_threads(func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``map(func, items)`` on the shared thread pool, results in order.

    Runs inline with one thread, for fewer than two items, or when called from a
    pool thread (no nested waiting on the same pool).
    """
    items = list(items)
    n = threads()
    if n == 1 or len(items) < 2 or getattr(_IN_POOL, "active", False):
        yield from map(func, items)
        return
    yield from _pool(n).map(func, items)


def release_memory() -> None:
    """Give freed heap memory back to the operating system (glibc's ``malloc_trim``).

    Called between stages that free many geometries: glibc keeps freed small blocks
    in its arenas, so without it the resident size only ever grows. A no-op where
    glibc is not the allocator.
    """
    global _TRIM
    if _TRIM is None:
        try:
            import ctypes

            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM: Any = None
