"""Run independent work items on threads: GEOS, PROJ, GDAL and numpy release the GIL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Worker threads; ``GEOMINES_THREADS`` overrides (1 runs everything inline).
def threads() -> int:
    """Number of worker threads to use."""
    value = os.environ.get("GEOMINES_THREADS")
    if value:
        return max(1, int(value))
    return max(1, min(os.cpu_count() or 1, 8))


def map_threads(func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``map(func, items)`` on a thread pool, results in order (inline with one thread)."""
    items = list(items)
    n = threads()
    if n == 1 or len(items) < 2:
        yield from map(func, items)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        yield from pool.map(func, items)
