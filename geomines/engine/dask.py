"""The exposure engine on a Dask cluster: the same partition tasks, run as Dask tasks.

:class:`DaskEngine` is :class:`geomines.engine.core.PartitionedEngine` with the
grid cut into partitions of ``partition_px`` pixels and a :class:`DaskExecutor`.
Each task gets only the geometries of its partition and the population raster's
*description* (paths and grid, a few hundred bytes, shipped once): it opens the
files and reads its own windows, so the raster never travels through the
scheduler. Union pieces stay on the workers as futures; partial results are added
up on the client. Memory per worker is bounded by the partition (and the engine's
window and cache limits), whatever the extent of the raster.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from ..errors import GeominesError, MissingDependencyError
from ..io.population import PopulationRaster
from .core import PartitionedEngine
from .exact import PixelRule
from .packing import PackedGeometries, geometry_nbytes, unpacked
from .unions import TileState, UnionTiles

#: geometry arrays at least this long, or with at least this many coordinates, are
#: scattered rather than put in the task. A task's own arguments are held, pickled, in
#: the scheduler (in the client's process on a ``LocalCluster``) until the task is
#: released: the overlays' few union tile pieces of thousands of coordinates each went
#: there by their count alone (1,000,000 hazards: the client's peak in the breakdowns
#: 1,889 MB with them there, 1,589 MB scattered).
SCATTER_MIN = 64
SCATTER_COORDS = 4096

#: tasks whose data are placed between two looks at the cluster's workers
WORKERS_EVERY = 64

__all__ = [
    "DaskEngine",
    "DaskExecutor",
    "PackedGeometries",
    "PartitionError",
    "local_client",
    "packable",
]


class PartitionError(GeominesError, RuntimeError):
    """A Dask task failed; the message names the partition and the input file."""


def require_dask() -> Any:
    try:
        import dask.distributed as dd
    except ImportError as exc:  # pragma: no cover - exercised without dask installed
        raise MissingDependencyError(
            'Running on Dask needs dask.distributed: pip install "geomines[dask]"'
        ) from exc
    return dd


#: Messages kept by each of Dask's message streams for debugging (Dask's default: 1,000).
#: Each stream (client to scheduler, scheduler to each worker) keeps its recent batches
#: of messages under 1 MB whole, with the tasks' arguments in them; the scheduler of a
#: ``LocalCluster`` runs in the client's process, so that process held every stream's
#: last 1,000 batches: on 1,000,000 hazards ~250 MB of the engine's index arrays and
#: masks after the tasks were done (held after the rings: 1,656 -> 1,394 MB; found with
#: objgraph: Scheduler -> BatchedSend -> recent_message_log). Also the length of Dask's
#: other low-level logs (the scheduler's transition log, the workers' task logs).
LOW_LEVEL_LOG = 8


def local_client(
    workers: int = 2, *, threads_per_worker: int = 1, memory_limit: str = "auto"
) -> Any:
    """A ``dask.distributed.Client`` on a local cluster of worker processes."""
    dd = require_dask()
    import dask

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_ set, which also fixes glibc's
    # mmap threshold at 128 kB: every numpy temporary above it is mapped and unmapped
    # again. The engine's window sums make many; geomines trims memory between stages
    # itself (release_memory), so its workers run with glibc's defaults. Dask's
    # statistical profiler samples the task thread's stack every 10 ms, taking the GIL
    # from an engine that holds it much of the time: off (the benchmark's 2-worker run
    # 45-49 s -> 39-40 s). glibc gives each thread that allocates an arena of its own
    # (up to 8 per core), and the pieces freed in one are not reused by another: on
    # 1,000,000 hazards the workers' peaks were 1,699 / 1,720 MB with glibc's arenas,
    # 1,538 / 1,277 with two, 1,360 / 1,245 with one (the same time and CPU).
    settings = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.nanny.pre-spawn-environ.MALLOC_ARENA_MAX": 1,
        "distributed.worker.profile.enabled": False,
        "distributed.admin.low-level-log-length": LOW_LEVEL_LOG,
    }
    with dask.config.set(settings):
        cluster = dd.LocalCluster(
            n_workers=workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
        )
        return dd.Client(cluster)


def _register_sizes() -> None:
    """Tell Dask what the engine's geometry containers weigh.

    Dask weighs an object array by its pointers (8 bytes a geometry): a partition's
    union state of many MB counted as a few hundred bytes, so the scheduler moved it
    between workers as freely as a number, and its memory accounting missed it.
    Registered where this module is imported: on the client and on each worker (which
    imports it to run a task).
    """
    try:
        from dask.sizeof import sizeof
    except ImportError:  # pragma: no cover - exercised without dask installed
        return

    @sizeof.register(PackedGeometries)
    def _packed(packed: PackedGeometries) -> int:
        return geometry_nbytes(packed.array)

    @sizeof.register(UnionTiles)
    def _tiles(tiles: UnionTiles) -> int:
        return geometry_nbytes(tiles.pieces) + 16 * len(tiles.keys)

    @sizeof.register(TileState)
    def _state(state: TileState) -> int:
        pieces = state.all_pieces()
        return geometry_nbytes(pieces) + 16 * len(pieces)


_register_sizes()


def packable(arg: Any) -> bool:
    """An array of geometries (or None), long or heavy: worth sending as data, packed."""
    if not (isinstance(arg, np.ndarray) and arg.dtype == object and arg.size):
        return False
    if not shapely.is_valid_input(arg).all():
        return False
    return arg.size >= SCATTER_MIN or int(shapely.get_num_coordinates(arg).sum()) >= SCATTER_COORDS


def _on_worker(func: Callable, label: str, raster: PopulationRaster, *args: Any) -> Any:
    """Worker side: one task, one thread; a failure names the partition and the file."""
    os.environ.setdefault("GEOMINES_THREADS", "1")
    args = tuple(unpacked(a) for a in args)
    try:
        return func(raster, *args)
    except Exception as exc:
        raise PartitionError(f"{label} failed: {type(exc).__name__}: {exc}") from None
    finally:
        raster.release()


class DaskExecutor:
    """Runs the engine's tasks on a ``dask.distributed.Client``.

    Rasters are scattered once to every worker and kept while the executor lives,
    keyed by the raster's token (never reused, unlike ``id()`` of a collected object).
    """

    def __init__(self, client: Any) -> None:
        require_dask()
        self.client = client
        self.scattered: dict[str, Any] = {}
        self.tasks = 0
        self._workers: list[str] = []
        self._turn = 0  # tasks whose data were scattered

    @property
    def lookahead(self) -> int:
        """Buffer batches started ahead: two per worker thread, so none waits."""
        try:
            threads = sum(self.client.nthreads().values())
        except Exception:  # pragma: no cover - a client that cannot say
            threads = 1
        return max(1, 2 * threads)

    def put(self, raster: PopulationRaster) -> Any:
        """The raster scattered to the workers (once per raster)."""
        remote = self.scattered.get(raster.token)
        if remote is None:
            remote = self.client.scatter(raster, broadcast=True, hash=False)
            self.scattered[raster.token] = remote
        return remote

    def submit(self, func: Callable, *args: Any, label: str = "", priority: int = 0) -> Any:
        """A Dask future for ``func(*args)``; futures among ``args`` are resolved.
        ``priority``: Dask's (a task of lower priority runs when no other waits).
        """
        self.tasks += 1
        args = self._shipped(args)
        # keyed by what the task does (``_task_sums-…``), for the dashboard's task stream
        key = f"{getattr(func, '__name__', 'task').lstrip('_')}-{uuid.uuid4().hex}"
        return self.client.submit(
            _on_worker, func, label, *args, key=key, pure=False, priority=priority
        )

    def _shipped(self, args: tuple) -> tuple:
        """A task's arguments: its geometry arrays sent to the workers as data (packed,
        in one call), the rest as they are.

        A task's arguments are kept in its spec by the scheduler (in this process,
        on a ``LocalCluster``) until the task is released: scattered, the geometries
        are held by the worker that runs the task instead, and the client's copy is
        transient.
        """
        which = [k for k, a in enumerate(args) if packable(a)]
        if not which:
            return args
        packed = [PackedGeometries(args[k]) for k in which]
        # one worker holds all of them (the task runs there, with no transfer), the
        # workers in turn; Dask's own scatter puts each array on the next worker
        try:
            sent = self.client.scatter(packed, workers=self._next_worker(), hash=False)
        except Exception:  # that worker has gone: any worker, and ask again next time
            self._workers = []
            sent = self.client.scatter(packed, hash=False)
        out = list(args)
        for k, future in zip(which, sent, strict=True):
            out[k] = future
        return tuple(out)

    def _next_worker(self) -> list[str] | None:
        """The next worker in turn for a task's data, each worker as often as it has
        threads (as Dask's own scatter); the workers are asked for again every
        :data:`WORKERS_EVERY` tasks, so a cluster that grows or shrinks is followed.
        None: let Dask choose.
        """
        if not self._workers or self._turn % WORKERS_EVERY == 0:
            try:
                threads = self.client.nthreads()
            except Exception:  # pragma: no cover - a client that cannot say
                threads = {}
            self._workers = [w for w in sorted(threads) for _ in range(threads[w])]
        self._turn += 1
        if not self._workers:
            return None
        return [self._workers[self._turn % len(self._workers)]]

    def gather(self, handles: list) -> list:
        """The futures' values; a failed task raises :class:`PartitionError`."""
        if not handles:
            return []
        try:
            return self.client.gather(handles)
        except GeominesError:
            raise
        except Exception as exc:  # a task error that did not travel back as itself
            text = str(exc)
            match = re.search(r"PartitionError\(['\"](.*)['\"]\)", text, re.DOTALL)
            raise PartitionError(
                match.group(1) if match else f"a Dask task failed: {text}"
            ) from None


class DaskEngine(PartitionedEngine):
    """The exposure engine on a ``dask.distributed.Client``.

    Parameters
    ----------
    client : dask.distributed.Client
    pixel_rule : {"exact", "center", "all-touched"}
    partition_px : int, default 4096
        Side of a partition in pixels; rounded up to a multiple of the union tile.
    union_tile, window_px : int, optional
        As for :class:`geomines.engine.LocalEngine` (the same values give the
        same union tiles, hence the same numbers).
    """

    def __init__(
        self,
        client: Any,
        pixel_rule: PixelRule = "exact",
        partition_px: int = 4096,
        union_tile: int | None = None,
        window_px: int | None = None,
    ) -> None:
        super().__init__(pixel_rule, union_tile, window_px, partition_px, DaskExecutor(client))
        self.client = client
