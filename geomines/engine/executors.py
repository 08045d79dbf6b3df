"""Run independent work items on threads: GEOS, PROJ, GDAL and numpy release the GIL.

One pool of worker threads is kept for the life of the process, so per-thread
resources (open GDAL datasets, malloc arenas) are made once, not once per call.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

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


def map_array(func: Callable[..., Any], items: Any, *more: Any, min_chunk: int = 256) -> Any:
    """``func(items, *more)`` computed on slices of 1-D arrays on the thread pool,
    concatenated.

    For element-wise work that releases the GIL (shapely's vectorised functions):
    ``func`` maps arrays of one length (sliced alike) to an array of that length.
    Slices of at least ``min_chunk`` items, about four per thread, so a slow slice does
    not hold the rest.
    """
    arrays = [
        a if isinstance(a, np.ndarray) else np.asarray(a, dtype=object) for a in (items, *more)
    ]
    n, size = threads(), len(arrays[0])
    if n == 1 or size < 2 * min_chunk or getattr(_IN_POOL, "active", False):
        return func(*arrays)
    count = max(2, min(4 * n, size // min_chunk))
    bounds = np.linspace(0, size, count + 1).astype(int)
    slices = [[a[lo:hi] for a in arrays] for lo, hi in itertools.pairwise(bounds)]
    return np.concatenate(list(map_threads(lambda args: func(*args), slices)))


def release_memory() -> None:
    """Give freed heap memory back to the operating system (glibc's ``malloc_trim``, and
    the unused memory of pyarrow's pool when pyarrow is loaded).

    Called between stages that free many geometries: glibc keeps freed small blocks
    in its arenas, so without it the resident size only ever grows. pandas' Arrow
    strings live in pyarrow's own pool (mimalloc or jemalloc), which keeps what it
    freed too: on 1,000,000 hazards the priority list's texts left ~90 MB there. A
    no-op where glibc is not the allocator and pyarrow is not loaded.
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
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # never imported here: only released when something used it
        arrow.default_memory_pool().release_unused()


_TRIM: Any = None


class Executor(Protocol):
    """Where the engine's partition tasks run: this process, or a Dask cluster.

    ``put`` ships an object the tasks share (once); ``submit`` starts a task and
    returns a handle (a value, or a future) that later tasks may take as an argument;
    ``gather`` turns handles into values. ``label`` names the task in errors.
    """

    tasks: int

    def put(self, obj: Any) -> Any:
        """``obj`` where the tasks can take it."""
        ...

    def submit(self, func: Callable[..., Any], *args: Any, label: str, priority: int = 0) -> Any:
        """A handle on ``func(*args)`` (``priority``: higher runs first where it waits)."""
        ...

    def gather(self, handles: list[Any]) -> list[Any]:
        """The handles' values."""
        ...


@dataclass
class InlineExecutor:
    """Each task runs at once in this process, its handle is its value.

    The task spreads its own work over the shared thread pool (:func:`map_threads`),
    so one task per call is as fast as the work allows on this machine.
    """

    tasks: int = 0

    def put(self, obj: T) -> T:
        """The object itself: nothing to ship."""
        return obj

    def submit(self, func: Callable[..., R], *args: Any, label: str = "", priority: int = 0) -> R:
        """Run ``func(*args)`` now (nothing waits: ``priority`` changes nothing)."""
        self.tasks += 1
        return func(*args)

    def gather(self, handles: list[R]) -> list[R]:
        """The values, as they are."""
        return list(handles)


class ThreadedExecutor:
    """Each task runs on a background thread once the tasks it takes are done; its
    handle is a future.

    On this machine, the engine's tasks then overlap as they do on a cluster: the
    next batch's buffers are built while this one is merged into the unions and
    counted, and each task's own work still goes to the shared thread pool
    (:func:`map_threads`), which the task threads keep fed. Tasks start in the order
    submitted and a task only takes handles submitted before it, so a task waiting
    for its inputs waits on tasks already running: none waits forever. The numbers
    are those of :class:`InlineExecutor` (the same tasks, on the same inputs).

    Parameters
    ----------
    workers : int
        Task threads (their work goes to the shared pool; they mostly wait on it).
    lookahead : int
        Buffer batches started ahead of the one being merged.
    """

    def __init__(self, workers: int = 2, lookahead: int = 1) -> None:
        self.tasks = 0
        self.lookahead = lookahead
        self._tasks = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geomines-task")

    def put(self, obj: T) -> T:
        """The object itself: nothing to ship."""
        return obj

    def submit(
        self, func: Callable[..., R], *args: Any, label: str = "", priority: int = 0
    ) -> Future[R]:
        """A future for ``func(*args)``, the futures among ``args`` taken first (tasks
        start in the order submitted: ``priority`` changes nothing).
        """
        self.tasks += 1
        return self._tasks.submit(_with_inputs, func, args)

    def gather(self, handles: list[Any]) -> list[Any]:
        """The values (a failed task raises its own error here)."""
        return [h.result() if isinstance(h, Future) else h for h in handles]


def _with_inputs(func: Callable[..., R], args: tuple[Any, ...]) -> R:
    return func(*(a.result() if isinstance(a, Future) else a for a in args))


def local_executor() -> InlineExecutor | ThreadedExecutor:
    """The executor of an assessment on this machine: tasks overlapping on threads,
    or (one thread, ``GEOMINES_THREADS=1``) each run at once.
    """
    n = threads()
    return ThreadedExecutor(workers=n) if n > 1 else InlineExecutor()
