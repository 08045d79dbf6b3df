"""The exposure engine as Dask tasks: partitioned by raster windows, same numbers.

The raster's pixel grid is cut into square partitions of ``partition_px`` pixels
(a multiple of :data:`geomines.engine.unions.UNION_TILE`, aligned to the grid's origin).
Each task gets only the geometries of its partition, clipped to the partition's
pixel footprint, and the population raster's *description* (paths and grid, a few
hundred bytes): it opens the files and reads its own windows itself, so the raster
never travels through the scheduler. Partial results are combined on the client.

- **Per-geometry sums** are additive over a partition of the plane: a geometry
  cut at partition borders gets the sum of its pieces.
- **Unions** (dissolved hazards and rings) are built and counted per union tile
  inside each partition; tiles partition the plane and each lies in exactly one
  partition, so a hazard or buffer crossing a border is counted exactly once.
  The tiles are the same as on one machine, so the numbers agree to rounding.

Memory per worker is bounded by the partition (and the engine's window and cache
limits), whatever the extent of the raster or the number of tiles it comes in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ..errors import GeominesError, MissingDependencyError
from ..geometry import clip_rect, polygonal_array
from ..grid import tile_box, tile_ranges
from ..io.population import PopulationRaster
from .exact import (
    LandRule,
    PixelRule,
    ZonalSum,
    ZonalSums,
    areas_on_raster,
    clip_to_raster,
    zonal_sums,
)
from .unions import UNION_TILE, UnionSum, merge_tiles, tile_pieces

__all__ = ["DaskEngine", "PartitionError", "local_client"]


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


def local_client(
    workers: int = 2, *, threads_per_worker: int = 1, memory_limit: str = "auto"
) -> Any:
    """A ``dask.distributed.Client`` on a local cluster of worker processes."""
    dd = require_dask()
    cluster = dd.LocalCluster(
        n_workers=workers,
        threads_per_worker=threads_per_worker,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=None,
    )
    return dd.Client(cluster)


def _label(raster: PopulationRaster, key: tuple[int, int], side: int) -> str:
    r, c = key
    return (
        f"partition rows {r * side}-{(r + 1) * side}, cols {c * side}-{(c + 1) * side} "
        f"of {raster.name}"
    )


def _task_sums(
    raster: PopulationRaster,
    key: tuple[int, int],
    side: int,
    pieces: np.ndarray,
    gids: np.ndarray,
    opts: dict,
) -> tuple[np.ndarray, ...]:
    """Worker side: sums of one partition's pieces (reads its own windows)."""
    os.environ.setdefault("GEOMINES_THREADS", "1")
    try:
        sums = zonal_sums(
            pieces,
            raster,
            pixel_rule=opts["pixel_rule"],
            max_window_pixels=opts["window_px"],
            land_rule=opts.get("land_rule", "land-first"),
        )
    except Exception as exc:
        raise PartitionError(
            f"{_label(raster, key, side)} failed: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        raster.release()
    return gids, sums.people, sums.weight, sums.weight_nodata


def _task_merge(
    raster: PopulationRaster,
    key: tuple[int, int],
    side: int,
    prev: dict | None,
    pieces: np.ndarray,
    opts: dict,
) -> dict:
    """Worker side: a batch of one partition's pieces merged into its union tiles."""
    os.environ.setdefault("GEOMINES_THREADS", "1")
    try:
        keys, new = tile_pieces(pieces, raster, opts["union_tile"])
        return merge_tiles(dict(prev or {}), keys, new)  # a copy: the input may be reused
    except Exception as exc:
        raise PartitionError(
            f"{_label(raster, key, side)} failed: {type(exc).__name__}: {exc}"
        ) from None


def _task_count(
    raster: PopulationRaster, key: tuple[int, int], side: int, tiles: dict, opts: dict
) -> UnionSum:
    """Worker side: the people in one partition's union tiles (reads its own windows)."""
    os.environ.setdefault("GEOMINES_THREADS", "1")
    try:
        pieces = np.empty(len(tiles), dtype=object)
        pieces[:] = list(tiles.values())
        sums = zonal_sums(
            pieces, raster, pixel_rule=opts["pixel_rule"], max_window_pixels=opts["window_px"]
        )
        return UnionSum(sums.total(), pieces, list(tiles))
    except Exception as exc:
        raise PartitionError(
            f"{_label(raster, key, side)} failed: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        raster.release()


def _task_total(raster: PopulationRaster, key: tuple[int, int], side: int, opts: dict) -> float:
    """Worker side: the people in one partition of the raster (float64)."""
    os.environ.setdefault("GEOMINES_THREADS", "1")
    try:
        r0, c0 = key[0] * side, key[1] * side
        total = 0.0
        step = 1024
        for r in range(r0, min(r0 + side, raster.height), step):
            for c in range(c0, min(c0 + side, raster.width), step):
                h = min(step, r0 + side - r, raster.height - r)
                w = min(step, c0 + side - c, raster.width - c)
                total += float(np.nansum(raster.read(r, c, h, w)))
        return total
    except Exception as exc:
        raise PartitionError(
            f"{_label(raster, key, side)} failed: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        raster.release()


@dataclass
class DaskEngine:
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

    client: Any
    pixel_rule: PixelRule = "exact"
    partition_px: int = 4096
    union_tile: int | None = None
    window_px: int | None = None
    futures: list = field(default_factory=list, repr=False)
    _remote: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        require_dask()
        tile = self.union_tile or UNION_TILE
        self.union_tile = tile
        self.partition_px = max(tile, -(-self.partition_px // tile) * tile)

    # -------------------------------------------------------------- partitions
    def _keys(self, bounds: np.ndarray, raster: PopulationRaster) -> np.ndarray:
        """Partition ``(row, col)`` ranges of each geometry's bounds: r0, r1, c0, c1."""
        return tile_ranges(bounds, raster.transform, self.partition_px)

    def _rect(self, key: tuple[int, int], raster: PopulationRaster) -> tuple[float, ...]:
        return tile_box(key, raster.transform, self.partition_px)

    def _split(
        self, geoms: np.ndarray, raster: PopulationRaster
    ) -> dict[tuple[int, int], tuple[list, list]]:
        """Geometries clipped to each partition they touch: ``{key: (pieces, ids)}``."""
        geoms = clip_to_raster(geoms, raster)  # work bounded by the raster's extent
        ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
        out: dict[tuple[int, int], tuple[list, list]] = {}
        if not ok.any():
            return out
        idx = np.nonzero(ok)[0]
        keys = self._keys(shapely.bounds(geoms[idx]), raster)
        for i, (r0, r1, c0, c1) in zip(idx, keys, strict=True):
            g = geoms[i]
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    piece = g
                    if (r0, c0) != (r1, c1):
                        piece = clip_rect(g, *self._rect((r, c), raster))
                        if piece.is_empty:
                            continue
                    bucket = out.setdefault((int(r), int(c)), ([], []))
                    bucket[0].append(piece)
                    bucket[1].append(int(i))
        return out

    def _submit(
        self,
        func: Callable,
        raster: PopulationRaster,
        key: tuple[int, int],
        *args: Any,
        **extra: Any,
    ) -> Any:
        # scattered once per raster and kept while the engine lives, keyed by the
        # raster's token (never reused, unlike id() of an object that was collected)
        remote = self._remote.get(raster.token)
        if remote is None:
            remote = self.client.scatter(raster, broadcast=True, hash=False)
            self._remote[raster.token] = remote
        opts = {
            "pixel_rule": self.pixel_rule,
            "union_tile": self.union_tile,
            "window_px": self.window_px,
            **extra,
        }
        return self.client.submit(func, remote, key, self.partition_px, *args, opts, pure=False)

    def _map(
        self,
        func: Callable,
        raster: PopulationRaster,
        jobs: Sequence[tuple[tuple[int, int], tuple]],
        **extra: Any,
    ) -> list:
        if not jobs:
            return []
        futures = [self._submit(func, raster, key, *args, **extra) for key, args in jobs]
        self.futures[:] = futures
        try:
            return self.client.gather(futures)
        except GeominesError:
            raise
        except Exception as exc:  # a task error that did not travel back as itself
            text = str(exc)
            match = re.search(r"PartitionError\(['\"](.*)['\"]\)", text, re.DOTALL)
            raise PartitionError(
                match.group(1) if match else f"a Dask task failed on {raster.name}: {text}"
            ) from None

    # -------------------------------------------------------------- engine API
    def sums(
        self, geoms: np.ndarray, raster: PopulationRaster, *, land_rule: LandRule = "land-first"
    ) -> ZonalSums:
        """People in each geometry, summed over its pieces in each partition."""
        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        poly, _valid, area, area_in = areas_on_raster(geoms, raster)
        clean = np.array([g if g is not None else shapely.Polygon() for g in poly], dtype=object)
        jobs = []
        for key, (pieces, ids) in sorted(self._split(clean, raster).items()):
            arr = np.empty(len(pieces), dtype=object)
            arr[:] = pieces
            jobs.append((key, (arr, np.asarray(ids, dtype=np.int64))))
        people, weight, nodata = np.zeros(n), np.zeros(n), np.zeros(n)
        for gids, p, w, nd in self._map(_task_sums, raster, jobs, land_rule=land_rule):
            np.add.at(people, gids, p)
            np.add.at(weight, gids, w)
            np.add.at(nodata, gids, nd)
        return ZonalSums(people, weight, nodata, area, area_in)

    def union(self, geoms: np.ndarray, raster: PopulationRaster) -> UnionSum:
        """People in the union, each union tile built and counted in its partition."""
        return self.unions([geoms], raster)[0]

    def unions(self, groups: Sequence[np.ndarray], raster: PopulationRaster) -> list[UnionSum]:
        """People in the union of each group: all groups' partitions in one round of tasks."""
        builder = self.union_builder(raster, len(groups))
        for k, geoms in enumerate(groups):
            builder.add(k, geoms)
        return builder.result()

    def union_builder(
        self, raster: PopulationRaster, groups: int, *, tile: int | None = None
    ) -> DaskUnionBuilder:
        """Unions of ``groups`` groups fed batch by batch; the pieces stay on the workers.

        ``tile`` is ignored: the union tiles must nest in the partitions, and the
        workers' memory is bounded by the partitions anyway.
        """
        return DaskUnionBuilder(self, raster, groups)

    def total(self, raster: PopulationRaster) -> float:
        """All the people in the raster, one task per partition."""
        side = self.partition_px
        jobs = [
            ((r, c), ())
            for r in range(-(-raster.height // side))
            for c in range(-(-raster.width // side))
        ]
        return float(sum(self._map(_task_total, raster, jobs)))


class DaskUnionBuilder:
    """:class:`geomines.engine.UnionBuilder` on Dask.

    Each batch is split by partition; in each partition a task merges the batch
    into that partition's union tiles, held on the workers as a future (the client
    keeps only the futures). ``result()`` counts each partition's tiles in a task
    that reads its own windows, and adds the partitions up.
    """

    def __init__(self, engine: DaskEngine, raster: PopulationRaster, groups: int) -> None:
        self.engine, self.raster, self.groups = engine, raster, groups
        self.state: dict[tuple[int, tuple[int, int]], Any] = {}

    def add(self, group: int, geoms: np.ndarray) -> None:
        """Merge a batch of geometries into group ``group``'s union (asynchronously)."""
        poly = polygonal_array(np.asarray(geoms, dtype=object))
        clean = np.array([g for g in poly if g is not None and not g.is_empty], dtype=object)
        for key, (pieces, _ids) in sorted(self.engine._split(clean, self.raster).items()):
            arr = np.empty(len(pieces), dtype=object)
            arr[:] = pieces
            prev = self.state.get((group, key))
            self.state[(group, key)] = self.engine._submit(_task_merge, self.raster, key, prev, arr)

    def flush(self, keys: Any, groups: Sequence[int]) -> None:
        """Nothing to do: the pieces live on the workers, bounded by the partitions."""

    def result(self, groups: Sequence[int] | None = None) -> list[UnionSum]:
        """People in each group's union (all, or those listed).

        One counting task per group and partition. The groups returned are dropped
        from the builder.
        """
        wanted = list(range(self.groups)) if groups is None else list(groups)
        items = sorted(
            ((gk, fut) for gk, fut in self.state.items() if gk[0] in wanted), key=lambda kv: kv[0]
        )
        parts = self.engine._map(
            _task_count, self.raster, [(key, (fut,)) for (_g, key), fut in items]
        )
        for gk, _fut in items:
            del self.state[gk]
        out = []
        for k in wanted:
            pieces, keys = [], []
            total = ZonalSum()
            for ((g, _key), _fut), part in zip(items, parts, strict=True):
                if g != k:
                    continue
                pieces.extend(part.pieces)
                keys.extend(part.keys)
                total.add(part.total)
            arr = np.empty(len(pieces), dtype=object)
            arr[:] = pieces
            out.append(UnionSum(total, arr, keys))
        return out
