"""One engine path: the exact sums and the tile-wise unions as partition tasks.

The raster's pixel grid is cut into square *partitions* of ``partition_px`` pixels
(a multiple of the union tile, aligned to the grid's origin), or left whole
(``partition_px=None``). Every operation is a set of tasks, one per partition,
given to an :class:`~geomines.engine.executors.Executor`:

- **Per-geometry sums** (``_task_sums``) are additive over a partition of the
  plane: a geometry cut at partition borders gets the sum of its pieces.
- **Unions** are held per partition as a :class:`~geomines.engine.unions.TileState`
  and changed by tasks (``_task_add_many``, ``_task_flush``, ``_task_count``). Union tiles
  nest in partitions, so a geometry crossing a border is counted exactly once, and
  the tiles are the same however the grid is partitioned: the numbers agree.
- **The raster's total** is a sum over partitions (``_task_total``).

On this machine (:class:`~geomines.engine.LocalEngine`) the grid is one partition
and each task runs at once, its work spread over the thread pool. On a cluster
(:class:`~geomines.engine.dask.DaskEngine`) tasks are Dask tasks that read their
own windows; the raster travels as its description, the union pieces stay on the
workers. The task functions are the same, so a fix lands once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely

from ..geometry import clip_rect, object_array, polygonal_array
from ..grid import tile_box, tile_range, tile_ranges
from ..io.population import PopulationRaster
from .exact import (
    LandRule,
    PixelRule,
    ZonalSum,
    ZonalSums,
    areas_on_raster,
    clip_to_raster,
    morton,
    zonal_sums,
)
from .executors import Executor, InlineExecutor, map_array, map_threads
from .packing import PackedGeometries, unpacked
from .rings import buffers_m, onto_grid
from .unions import (
    UNION_TILE,
    TileState,
    UnionSum,
    UnionTiles,
    empty_state,
    state_add_many,
    state_count,
    state_derive,
    state_drop,
    state_flush,
    state_tiles,
)

__all__ = ["PartitionedEngine", "UnionBuilder", "union_sum", "union_sums"]

Key = tuple[int, int]
WHOLE: Key = (0, 0)


# ------------------------------------------------------------------ partitions
def split(
    geoms: np.ndarray, raster: PopulationRaster, side: int | None
) -> dict[Key, tuple[list, list]]:
    """Geometries clipped to each ``side``-pixel partition they touch: ``{key: (pieces,
    ids)}``; with ``side`` None, one partition holding the geometries as they are.

    Empty geometries are left out; geometries are first cut to the raster's extent.
    """
    geoms = clip_to_raster(np.asarray(geoms, dtype=object), raster)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    out: dict[Key, tuple[list, list]] = {}
    idx = np.nonzero(ok)[0]
    if idx.size == 0:
        return out
    if side is None:
        return {WHOLE: (list(geoms[idx]), [int(i) for i in idx])}
    keys = tile_ranges(shapely.bounds(geoms[idx]), raster.transform, side)
    for i, (r0, r1, c0, c1) in zip(idx, keys, strict=True):
        g = geoms[i]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                piece = g
                if (r0, c0) != (r1, c1):
                    piece = clip_rect(g, *tile_box((r, c), raster.transform, side))
                    if piece.is_empty:
                        continue
                bucket = out.setdefault((int(r), int(c)), ([], []))
                bucket[0].append(piece)
                bucket[1].append(int(i))
    return out


# ------------------------------------------------------------------ tasks
# Module-level functions (picklable): each takes the raster and its partition key
# first, then its inputs, and the engine's settings last.
def _task_sums(raster: PopulationRaster, key: Key, pieces: np.ndarray, opts: dict) -> ZonalSums:
    return zonal_sums(
        pieces,
        raster,
        pixel_rule=opts["pixel_rule"],
        max_window_pixels=opts["window_px"],
        land_rule=opts["land_rule"],
    )


def _task_pair_sums(
    raster: PopulationRaster,
    key: Key,
    left: np.ndarray,
    right: np.ndarray,
    li: np.ndarray,
    ri: np.ndarray,
    rules: list[dict],
    also: np.ndarray | None = None,
    op: str = "intersection",
) -> np.ndarray:
    """People in ``left[li[k]] ∩ right[ri[k]]`` (or ``−``, with ``op="difference"``) for
    each pair ``k``, one row per engine options in ``rules``: the overlays are made
    here, where they are counted. A difference with an empty geometry is the left one
    as it is. ``also``: geometries counted first, in the same pass (their people lead
    each row).
    """
    parts = _overlays(left, right, li, ri, op)
    if also is not None:
        parts = np.concatenate([np.asarray(also, dtype=object), parts])
    return np.stack([_task_sums(raster, key, parts, opts).people for opts in rules])


def _task_overlays(
    raster: PopulationRaster,
    key: Key,
    left: np.ndarray,
    right: np.ndarray,
    li: np.ndarray,
    ri: np.ndarray,
    rules: list[dict],
    op: str,
) -> tuple[np.ndarray, PackedGeometries]:
    """:func:`_task_pair_sums` that also gives the overlays back (one per pair, in order,
    empty ones included; packed, as they go back to the client): for parts that are
    both counted and kept.
    """
    parts = _overlays(left, right, li, ri, op)
    people = np.stack([_task_sums(raster, key, parts, opts).people for opts in rules])
    return people, PackedGeometries(parts)


def _overlays(
    left: np.ndarray, right: np.ndarray, li: np.ndarray, ri: np.ndarray, op: str
) -> np.ndarray:
    """``left[li[k]] ∩ right[ri[k]]`` (or ``−``) for each pair, on the thread pool."""
    if not len(li):
        return object_array([])
    if op == "intersection":
        return map_array(shapely.intersection, left[li], right[ri])
    parts, cut = left[li], right[ri]
    both = ~shapely.is_empty(cut)
    if both.any():
        parts = parts.copy()
        parts[both] = map_array(shapely.difference, parts[both], cut[both], min_chunk=16)
    return parts


def _task_add_many(
    raster: PopulationRaster,
    key: Key,
    state: TileState | None,
    groups: list[int],
    pieces: np.ndarray,
    counts: list[int],
    opts: dict,
) -> TileState:
    """``state`` with several groups' pieces merged at once (``counts``: how many of
    ``pieces``, in order, are each group's).
    """
    prev = state if state is not None else empty_state(opts["groups"])
    ends = np.cumsum(counts)
    batches = [(g, pieces[e - n : e]) for g, n, e in zip(groups, counts, ends, strict=True)]
    return state_add_many(prev, [(g, b) for g, b in batches if b.size], raster, opts["sides"])


def _task_flush(
    raster: PopulationRaster,
    key: Key,
    state: TileState,
    keys: list[Key],
    groups: list[int],
    opts: dict,
) -> TileState:
    return state_flush(
        state,
        keys,
        groups,
        raster,
        pixel_rule=opts["pixel_rule"],
        max_window_pixels=opts["window_px"],
    )


def _task_count(
    raster: PopulationRaster, key: Key, state: TileState, groups: list[int], opts: dict
) -> list[UnionSum]:
    out = state_count(
        state, groups, raster, pixel_rule=opts["pixel_rule"], max_window_pixels=opts["window_px"]
    )
    keep = opts.get("keep")
    if keep is None:
        return out
    # the totals alone of the groups whose pieces are not wanted (not sent back)
    return [
        u if k in keep else UnionSum(object_array([]), [], u.total)
        for k, u in zip(groups, out, strict=True)
    ]


def _task_tiles(raster: PopulationRaster, key: Key, state: TileState, group: int) -> UnionTiles:
    return state_tiles(state, group)


def _task_derive(
    raster: PopulationRaster,
    key: Key,
    state: TileState,
    target: int,
    sources: list[int],
    keys: list[Key] | None,
    opts: dict,
) -> TileState:
    return state_derive(state, target, sources, raster, opts["sides"], keys)


def _task_drop(raster: PopulationRaster, key: Key, state: TileState, groups: list[int]) -> Any:
    return state_drop(state, groups)


def _task_buffers(
    raster: PopulationRaster, key: Key, geoms: np.ndarray, crs: Any, distance: float, opts: dict
) -> dict[str, Any]:
    """A batch of hazards buffered by ``distance`` metres onto the raster's grid: each
    buffer's people, and the buffers split by partition (``parts``).
    """
    series = gpd.GeoSeries(geoms, crs=crs)
    buf = onto_grid(buffers_m(series, [distance], to_crs=raster.crs)[0].values, raster)
    people = _task_sums(raster, key, buf, opts).people
    # packed: the batch goes to the workers holding the partitions' unions
    parts = {
        k: (PackedGeometries(object_array(pieces)), np.asarray(ids, dtype=np.int64))
        for k, (pieces, ids) in split(buf, raster, opts["partition_px"]).items()
    }
    return {"people": people, "parts": parts}


def _task_people(raster: PopulationRaster, key: Key, batch: dict[str, Any]) -> np.ndarray:
    return batch["people"]


def _task_keys(raster: PopulationRaster, key: Key, batch: dict[str, Any]) -> list[Key]:
    return sorted(batch["parts"])


def _task_add_parts(
    raster: PopulationRaster,
    key: Key,
    state: TileState | None,
    batch: dict[str, Any],
    members: list[tuple[int, np.ndarray]],
    opts: dict,
) -> TileState | None:
    """``state`` with this partition's pieces of a buffer batch merged into each group
    (``members``: group and a mask over the batch).

    With ``opts["expected"]`` (the partitions the client sent the batch to, from its
    reach box, not from the buffers), a buffer piece in any other partition is an
    error: it would otherwise be left out of the unions.
    """
    expected = opts.get("expected")
    if expected is not None and not set(batch["parts"]) <= set(expected):
        missed = sorted(set(batch["parts"]) - set(expected))
        raise RuntimeError(
            f"buffers reached partitions {missed} outside their batch's reach box "
            f"(partitions {sorted(expected)}): a geomines bug, please report it"
        )
    part = batch["parts"].get(key)
    if part is None:
        return state if state is not None else empty_state(opts["groups"])
    pieces, ids = object_array(unpacked(part[0])), np.asarray(part[1], dtype=np.int64)
    out = state if state is not None else empty_state(opts["groups"])
    chosen = [(group, pieces[mask[ids]]) for group, mask in members]
    return state_add_many(out, [(g, c) for g, c in chosen if c.size], raster, opts["sides"])


def _task_total(
    raster: PopulationRaster, key: Key, window: tuple[int, int, int, int] | None
) -> float:
    return raster.total(window, mapper=map_threads)


# ------------------------------------------------------------------ engine
@dataclass
class PartitionedEngine:
    """The exposure engine: partition tasks run by an executor.

    Parameters
    ----------
    pixel_rule : {"exact", "center", "all-touched"}
    union_tile : int, optional
        Side of the union tiles in pixels (default :data:`UNION_TILE`).
    window_px : int, optional
        Largest window read at once (default
        :data:`geomines.engine.exact.MAX_WINDOW_PIXELS`).
    partition_px : int, optional
        Side of a partition in pixels, rounded up to a multiple of the union tile;
        None keeps the grid whole (one task per operation).
    executor : Executor
        Runs the tasks (default: at once, in this process).
    """

    pixel_rule: PixelRule = "exact"
    union_tile: int | None = None
    window_px: int | None = None
    partition_px: int | None = None
    executor: Executor = field(default_factory=InlineExecutor, repr=False)

    def __post_init__(self) -> None:
        tile = self.union_tile or UNION_TILE
        if self.partition_px is not None:
            self.partition_px = max(tile, -(-self.partition_px // tile) * tile)

    # -------------------------------------------------------------- partitions
    def partition_of(self, tile: Key, side: int) -> Key:
        """The partition holding union tile ``tile`` of ``side`` pixels."""
        if self.partition_px is None:
            return WHOLE
        return (tile[0] * side // self.partition_px, tile[1] * side // self.partition_px)

    def window(self, key: Key, raster: PopulationRaster) -> tuple[int, int, int, int] | None:
        """Partition ``key``'s pixel window (row, col, height, width); None: the whole grid."""
        side = self.partition_px
        if side is None:
            return None
        r, c = key[0] * side, key[1] * side
        return r, c, min(side, raster.height - r), min(side, raster.width - c)

    def label(self, key: Key, raster: PopulationRaster) -> str:
        """Partition ``key`` in words, for errors."""
        win = self.window(key, raster)
        if win is None:
            return f"the whole grid of {raster.name}"
        r, c, h, w = win
        return f"partition rows {r}-{r + h}, cols {c}-{c + w} of {raster.name}"

    def submit(
        self,
        func: Callable,
        raster: PopulationRaster,
        key: Key,
        *args: Any,
        label: str | None = None,
        priority: int = 0,
    ) -> Any:
        """One task on partition ``key`` through the executor (``label`` names it in
        errors; default: the partition; ``priority``: see :meth:`sums_later`).
        """
        return self.executor.submit(
            func,
            self.executor.put(raster),
            key,
            *args,
            label=label or self.label(key, raster),
            priority=priority,
        )

    def gather(self, handles: list[Any]) -> list[Any]:
        """The values of task handles."""
        return self.executor.gather(handles)

    @property
    def lookahead(self) -> int:
        """Batches worth starting ahead of the one being merged (the executor's: 0 when
        each task runs at once).
        """
        return int(getattr(self.executor, "lookahead", 0))

    @property
    def spread(self) -> int:
        """Tasks to cut an operation's independent work into, at least, when the grid is
        partitioned: four per worker thread on a cluster (so a large task does not leave
        the other threads idle).
        """
        return max(1, 2 * self.lookahead)

    def options(self, **extra: Any) -> dict:
        """The engine's settings, as the tasks take them."""
        return {"pixel_rule": self.pixel_rule, "window_px": self.window_px, **extra}

    # -------------------------------------------------------------- engine API
    def sums(
        self, geoms: np.ndarray, raster: PopulationRaster, *, land_rule: LandRule = "land-first"
    ) -> ZonalSums:
        """People in each geometry (summed over its pieces in each partition)."""
        return self.sums_later(geoms, raster, land_rule=land_rule)()

    def sums_later(
        self,
        geoms: np.ndarray,
        raster: PopulationRaster,
        *,
        land_rule: LandRule = "land-first",
        priority: int = 0,
    ) -> Callable[[], ZonalSums]:
        """:meth:`sums`, started now and taken later: call the result for the sums.

        On a cluster the tasks are submitted at once, so the workers count while this
        process does other work; a negative ``priority`` lets them run only when no
        other task waits. In-process the task is started now too: with a
        :class:`~geomines.engine.executors.ThreadedExecutor` it runs beside this process's
        other work, with an :class:`InlineExecutor` at once.
        """
        geoms = np.asarray(geoms, dtype=object)
        opts = self.options(land_rule=land_rule)
        if self.partition_px is None:
            handle = self.submit(_task_sums, raster, WHOLE, geoms, opts, priority=priority)
            return lambda: self.executor.gather([handle])[0]
        n = len(geoms)
        poly, _valid, area, area_in = areas_on_raster(geoms, raster)
        clean = np.array([g if g is not None else shapely.Polygon() for g in poly], dtype=object)
        parts = {
            k: _costed(pieces, ids, raster)
            for k, (pieces, ids) in split(clean, raster, self.partition_px).items()
        }
        total = sum(float(c.sum()) for _, _, c, _ in parts.values())
        limit = max(CHUNK_PX, total / self.spread)
        jobs = [
            (k, chunk)
            for k, (pieces, ids, cost, bounds) in sorted(parts.items())
            for chunk in _chunked(pieces, ids, cost, bounds, limit, raster)
        ]
        handles = [
            self.submit(_task_sums, raster, k, p, opts, priority=priority) for k, (p, _) in jobs
        ]
        # the pieces are the tasks' now: only which hazard each sum is of is kept here
        owners = [ids for _, (_, ids) in jobs]
        del jobs, parts, poly, clean

        def taken() -> ZonalSums:
            people, weight, nodata = np.zeros(n), np.zeros(n), np.zeros(n)
            for ids, part in zip(owners, self.executor.gather(handles), strict=True):
                np.add.at(people, ids, part.people)
                np.add.at(weight, ids, part.weight)
                np.add.at(nodata, ids, part.weight_nodata)
            return ZonalSums(people, weight, nodata, area, area_in)

        return taken

    def pair_sums_later(
        self,
        left: np.ndarray,
        right: np.ndarray,
        li: np.ndarray,
        ri: np.ndarray,
        raster: PopulationRaster,
        *,
        land_rules: Sequence[LandRule] = ("land-first",),
        also: np.ndarray | None = None,
        op: Literal["intersection", "difference"] = "intersection",
    ) -> Callable[[], np.ndarray]:
        """People in ``left[li[k]] ∩ right[ri[k]]`` (or ``−``) for each pair ``k``, one row
        per land rule, started now: call the result for the array. ``also``: geometries
        whose own people lead each row (counted in the same pass in-process).

        The intersections are made where they are counted: on a cluster this process
        holds neither them nor the overlays' working memory. In-process it is one task
        (its sums one pass over all the parts, as :meth:`sums` of them would be); on a
        cluster the pairs go out in chunks of about equal work (the right geometries'
        coordinates), in the order given, each with only the geometries its pairs name.
        """
        rules = [self.options(land_rule=rule) for rule in land_rules]
        li, ri = np.asarray(li, dtype=np.int64), np.asarray(ri, dtype=np.int64)
        if self.partition_px is None:
            handle = self.submit(
                _task_pair_sums, raster, WHOLE, left, right, li, ri, rules, also, op
            )
            return lambda: self.executor.gather([handle])[0]
        first = (
            [] if also is None else [self.sums_later(also, raster, land_rule=r) for r in land_rules]
        )
        if len(li) == 0:
            return lambda: np.array([f().people for f in first]).reshape(len(rules), -1)
        handles = [
            self.submit(
                _task_pair_sums, raster, WHOLE, *chunk, rules, None, op,
                label=f"{len(chunk[2])} {op}s counted on {raster.name}",
            )
            for chunk in self._pair_chunks(left, right, li, ri)
        ]  # fmt: skip

        def taken() -> np.ndarray:
            pairs = np.concatenate(self.executor.gather(handles), axis=1)
            if not first:
                return pairs
            return np.concatenate([np.array([f().people for f in first]), pairs], axis=1)

        return taken

    def overlays_later(
        self,
        left: np.ndarray,
        right: np.ndarray,
        li: np.ndarray,
        ri: np.ndarray,
        raster: PopulationRaster,
        *,
        land_rules: Sequence[LandRule] = ("land-first",),
        op: Literal["intersection", "difference"] = "intersection",
    ) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        """:meth:`pair_sums_later` for parts that are kept as well as counted: call the
        result for the people (one row per land rule) and the overlays themselves (one
        per pair, in order, empty ones included). They are made, and counted, where the
        engine runs; only the finished parts come back.
        """
        rules = [self.options(land_rule=rule) for rule in land_rules]
        li, ri = np.asarray(li, dtype=np.int64), np.asarray(ri, dtype=np.int64)
        handles = [
            self.submit(
                _task_overlays, raster, WHOLE, *chunk, rules, op,
                label=f"{len(chunk[2])} {op}s made and counted on {raster.name}",
            )
            for chunk in self._pair_chunks(left, right, li, ri)
        ]  # fmt: skip

        def taken() -> tuple[np.ndarray, np.ndarray]:
            done = self.executor.gather(handles)
            if not done:
                return np.zeros((len(rules), 0)), object_array([])
            people = np.concatenate([d[0] for d in done], axis=1)
            return people, np.concatenate([unpacked(d[1]) for d in done])

        return taken

    def _pair_chunks(
        self, left: np.ndarray, right: np.ndarray, li: np.ndarray, ri: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """The pairs in chunks of about equal work (the geometries' coordinates), in
        order, each with only the geometries its pairs name: ``(left, right, li, ri)``;
        in-process (the grid whole) one chunk of every pair, as given.
        """
        if self.partition_px is None:
            yield left, right, li, ri
            return
        if len(li) == 0:
            return
        coords = (
            shapely.get_num_coordinates(left)[li] + shapely.get_num_coordinates(right)[ri] + 1.0
        )
        band = np.cumsum(coords) // max(float(coords.sum()) / self.spread, 1.0)
        cuts = np.flatnonzero(np.diff(band)) + 1
        for sel in np.split(np.arange(len(li)), cuts):
            lu, lk = np.unique(li[sel], return_inverse=True)
            ru, rk = np.unique(ri[sel], return_inverse=True)
            yield left[lu], right[ru], lk, rk

    def union(self, geoms: np.ndarray, raster: PopulationRaster) -> UnionSum:
        """People in the union of the geometries, nobody counted twice."""
        return self.unions([geoms], raster)[0]

    def union_tiles(self, geoms: np.ndarray, raster: PopulationRaster) -> UnionTiles:
        """The union of the geometries tile by tile, not counted (for geometry only)."""
        builder = self.union_builder(raster, 1)
        builder.add(0, geoms)
        return builder.tiles(0)

    def unions(
        self,
        groups: Sequence[np.ndarray],
        raster: PopulationRaster,
        *,
        derived: Sequence[Sequence[int]] = (),
    ) -> list[UnionSum]:
        """People in the union of each group, all groups' tiles counted in one pass.

        Each entry of ``derived`` lists groups whose union of unions is wanted too
        (built from their tile pieces, not from their members again); those unions
        follow the groups' in the result.
        """
        return self.unions_later(groups, raster, derived=derived)()

    def unions_later(
        self,
        groups: Sequence[np.ndarray],
        raster: PopulationRaster,
        *,
        derived: Sequence[Sequence[int]] = (),
        pieces_of: Collection[int] | None = None,
    ) -> Callable[[], list[UnionSum]]:
        """:meth:`unions`, started now and taken later (as :meth:`sums_later`): every
        task, to the counting, is submitted before this returns; call the result for
        the unions. ``pieces_of``: as for :meth:`UnionBuilder.result` (positions in the
        result: the groups, then the derived unions).
        """
        builder = self.union_builder(raster, len(groups) + len(derived))
        builder.add_many(list(enumerate(groups)))
        for j, sources in enumerate(derived):
            builder.derive(len(groups) + j, list(sources))
        return builder.result_later(pieces_of=pieces_of)

    def union_builder(
        self,
        raster: PopulationRaster,
        groups: int,
        *,
        tile: int | None = None,
        pieces_of: Collection[int] = (),
    ) -> UnionBuilder:
        """Unions of ``groups`` groups, fed batch by batch (bounded memory).

        A ``tile`` smaller than the engine's union tile gives smaller tiles (any size
        that divides it is exact), for unions whose totals alone are wanted: they close
        sooner. The groups in ``pieces_of`` keep the engine's union tiles (their pieces
        are compared tile by tile with other unions).
        """
        side = self.union_tile or UNION_TILE
        small = side
        if tile and tile < side and (self.partition_px is None or self.partition_px % tile == 0):
            small = tile  # nested in the partitions
        sides = [side if k in set(pieces_of) else small for k in range(groups)]
        return UnionBuilder(raster, groups, sides=sides, engine=self)

    def buffer_batch(
        self, geoms: np.ndarray, crs: Any, distance: float, raster: PopulationRaster
    ) -> Any:
        """A handle on a batch of hazards (in ``crs``) buffered by ``distance`` metres onto
        the raster's grid, with each buffer's people; built where the tasks run (on a
        cluster: on a worker, and the buffers stay there).

        Take the people with :meth:`batch_people`; merge the buffers into unions with
        :meth:`UnionBuilder.add_buffers`.
        """
        opts = self.options(land_rule="land-first", partition_px=self.partition_px)
        label = f"buffers of {len(geoms)} hazards by {distance:g} m on {raster.name}"
        return self.submit(
            _task_buffers,
            raster,
            WHOLE,
            np.asarray(geoms, dtype=object),
            crs,
            distance,
            opts,
            label=label,
        )

    def batch_people(self, batch: Any, raster: PopulationRaster) -> Any:
        """A handle on the people within each buffer of a :meth:`buffer_batch`."""
        return self.submit(_task_people, raster, WHOLE, batch, label="people of a batch")

    def total(self, raster: PopulationRaster) -> float:
        """All the people in the raster (float64), one task per partition; counted once
        per raster object (the answer is kept).
        """
        self.total_later(raster)
        known: dict[str, Any] = self.__dict__["_totals"]
        if callable(known[raster.token]):
            known[raster.token] = known[raster.token]()
        return float(known[raster.token])

    def total_later(self, raster: PopulationRaster, *, priority: int = 0) -> None:
        """Start :meth:`total` now (on a cluster; see :meth:`sums_later`): a later
        :meth:`total` takes the answer.
        """
        known: dict[str, Any] = self.__dict__.setdefault("_totals", {})
        if raster.token in known:
            return
        side = self.partition_px
        if side is None:  # in-process: counted when asked for
            known[raster.token] = lambda: self.executor.gather(
                [self.submit(_task_total, raster, WHOLE, None)]
            )[0]
            return
        keys = [
            (r, c)
            for r in range(-(-raster.height // side))
            for c in range(-(-raster.width // side))
        ]
        handles = [
            self.submit(_task_total, raster, k, self.window(k, raster), priority=priority)
            for k in keys
        ]
        known[raster.token] = lambda: float(sum(self.executor.gather(handles)))


#: a geometry's fixed cost in per-geometry sums, in pixels' worth of work
GEOMETRY_PX = 4096
#: most geometries in one task (bounds a worker's memory, whatever the hazards)
MAX_PIECES = 50_000
#: least work in one task of per-geometry sums, in pixels (less: the task costs more
#: than the work)
CHUNK_PX = 4_000_000


def _costed(
    pieces: list, ids: list, raster: PopulationRaster
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pieces, their ids, the work each is likely to cost (the pixels of its bounding
    box plus a fixed cost: a scheduling estimate, not a count) and their bounds.
    """
    arr, idx = object_array(pieces), np.asarray(ids, dtype=np.int64)
    b = shapely.bounds(arr)
    t = raster.transform
    w = np.abs(b[:, 2] - b[:, 0]) / max(abs(t.a), abs(t.b), 1e-300) + 1.0
    h = np.abs(b[:, 3] - b[:, 1]) / max(abs(t.e), abs(t.d), 1e-300) + 1.0
    return arr, idx, np.nan_to_num(w * h) + GEOMETRY_PX, b


def _chunked(
    arr: np.ndarray,
    idx: np.ndarray,
    cost: np.ndarray,
    b: np.ndarray,
    limit: float,
    raster: PopulationRaster,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A partition's pieces (and their ids) in chunks of about ``limit`` work at most
    (one piece may exceed it alone) and :data:`MAX_PIECES` pieces, each a compact area
    (Z-order of the bounding boxes' centres): the chunks' raster windows overlap
    little, and a chunk's windows are read together.
    """
    if float(cost.sum()) <= limit and len(arr) <= MAX_PIECES:
        return [(arr, idx)]
    col, row = ~raster.transform * ((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
    order = np.argsort(
        morton(np.clip(col, 0, None).astype(np.int64), np.clip(row, 0, None).astype(np.int64)),
        kind="stable",
    )
    band = np.cumsum(cost[order]) // limit
    cuts = np.flatnonzero(np.diff(band)) + 1
    return [
        (arr[part], idx[part])
        for sel in np.split(order, cuts)
        for part in np.array_split(sel, -(-len(sel) // MAX_PIECES))
    ]


def _bundles(items: list[tuple[int, np.ndarray]], most: int) -> list[list[tuple[int, np.ndarray]]]:
    """Groups' batches in bundles of about ``most`` pieces at most (a larger batch is a
    bundle alone), in order: one task each, so a task's memory stays bounded.
    """
    out: list[list[tuple[int, np.ndarray]]] = []
    size = 0
    for item in items:
        if not out or size + len(item[1]) > most:
            out.append([])
            size = 0
        out[-1].append(item)
        size += len(item[1])
    return out


class UnionBuilder:
    """Unions of several groups of geometries, built batch by batch and tile by tile.

    ``add(k, geoms)`` clips a batch to the union tiles of the raster's grid and
    merges it into group *k*'s piece in each tile; the batch can then be dropped.
    Memory is the size of the unions (the pieces) plus one batch, however many
    geometries go in. ``flush`` counts tiles no later batch can reach and drops them;
    ``result()`` counts every group's pieces in one pass.

    The state of each partition is a handle from the engine's executor: a value on
    this machine, a future whose data stay on the workers on a cluster.

    The union of a set does not depend on how it was split into batches, so the
    numbers are those of :func:`union_sums` on the whole groups (to rounding).
    """

    def __init__(
        self,
        raster: PopulationRaster,
        groups: int,
        *,
        pixel_rule: PixelRule = "exact",
        tile: int | None = None,
        engine: PartitionedEngine | None = None,
        sides: Sequence[int] | None = None,
    ) -> None:
        self.raster = raster
        self.groups = groups
        self.engine = engine or PartitionedEngine(pixel_rule, union_tile=tile)
        side = tile or self.engine.union_tile or UNION_TILE
        self.sides = list(sides) if sides is not None else [side] * groups
        #: the smallest tile side (that of the groups whose tiles close early)
        self.side = min(self.sides, default=side)
        self.state: dict[Key, Any] = {}

    def _opts(self) -> dict:
        return {"groups": self.groups, "sides": self.sides}

    def add(self, group: int, geoms: np.ndarray) -> None:
        """Merge a batch of geometries into group ``group``'s union."""
        self.add_many([(group, geoms)])

    def add_many(self, batches: Sequence[tuple[int, np.ndarray]]) -> None:
        """Merge several groups' batches (``(group, geometries)``, one per group) at once:
        one task per partition for all of them, the groups built side by side.
        """
        eng = self.engine
        per_key: dict[Key, list[tuple[int, np.ndarray]]] = {}
        for group, geoms in batches:
            if eng.partition_px is None:
                per_key.setdefault(WHOLE, []).append((group, np.asarray(geoms, dtype=object)))
                continue
            poly = polygonal_array(np.asarray(geoms, dtype=object))
            clean = object_array([g for g in poly if g is not None and not g.is_empty])
            for key, (parts, _) in split(clean, self.raster, eng.partition_px).items():
                per_key.setdefault(key, []).append((group, object_array(parts)))
        opts = self._opts()
        for key, items in sorted(per_key.items()):
            for bundle in _bundles(items, MAX_PIECES):
                groups = [g for g, _ in bundle]
                counts = [len(p) for _, p in bundle]
                joined = np.concatenate([p for _, p in bundle])
                prev = self.state.get(key)
                self.state[key] = eng.submit(
                    _task_add_many, self.raster, key, prev, groups, joined, counts, opts
                )

    def add_buffers(
        self,
        batch: Any,
        members: list[tuple[int, np.ndarray]],
        within: tuple[float, float, float, float] | None = None,
    ) -> None:
        """Merge a :meth:`PartitionedEngine.buffer_batch` into the groups: ``members``
        pairs a group with a boolean mask over the batch. On a cluster the buffers go
        from worker to worker; the client sees only which partitions they touch.

        ``within``: a box (raster CRS) holding every buffer of the batch. The batch then
        goes to the partitions the box meets without waiting for its buffers to be
        built (the tasks check that none of its pieces lies elsewhere); without it, on a
        partitioned grid, the client first asks which partitions the buffers touch.
        """
        eng = self.engine
        opts = self._opts()
        keys = self._partitions_in(within)
        if keys:
            opts["expected"] = keys
        else:
            keys = eng.gather([eng.submit(_task_keys, self.raster, WHOLE, batch, label="keys")])[0]
        for key in keys:
            prev = self.state.get(key)
            self.state[key] = eng.submit(
                _task_add_parts, self.raster, key, prev, batch, members, opts
            )

    def _partitions_in(self, box: tuple[float, float, float, float] | None) -> list[Key]:
        """The partitions a box meets (the one partition when the grid is whole; none
        without a box).
        """
        side = self.engine.partition_px
        if side is None:
            return [WHOLE]
        if box is None:
            return []
        r0, r1, c0, c1 = tile_range(box, self.raster.transform, side, self.raster.shape)
        return [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]

    def derive(
        self, target: int, sources: Sequence[int], keys: Collection[Key] | None = None
    ) -> None:
        """Merge the sources' pieces (in the union tiles ``keys`` of the sources' size, or
        all) into group ``target``: the union of their unions, without their members.

        Call it before :meth:`flush` drops those tiles.
        """
        if not sources:
            return
        if keys is None:
            partitions = sorted(self.state)
            chosen: list[Key] | None = None
        else:
            side = self.sides[sources[0]]
            chosen = list(keys)
            partitions = sorted({self.engine.partition_of(t, side) for t in chosen})
        opts = self._opts()
        for key in partitions:
            if key in self.state:
                self.state[key] = self.engine.submit(
                    _task_derive,
                    self.raster,
                    key,
                    self.state[key],
                    target,
                    list(sources),
                    chosen,
                    opts,
                )

    def flush(self, keys: Collection[Key], groups: Sequence[int]) -> None:
        """Count these groups' pieces in these union tiles now and drop them.

        For tiles that no later batch can reach (the caller knows): their pieces are
        final. Their people go into :meth:`result`'s totals; the pieces are not kept.
        """
        sides = {self.sides[k] for k in groups}
        if len(sides) != 1:
            raise ValueError("flush: the groups' union tiles must have one size")
        side = sides.pop()
        by_partition: dict[Key, list[Key]] = {}
        for tile in keys:
            by_partition.setdefault(self.engine.partition_of(tile, side), []).append(tile)
        opts = self.engine.options()
        for key, tiles in sorted(by_partition.items()):
            if key in self.state:
                self.state[key] = self.engine.submit(
                    _task_flush, self.raster, key, self.state[key], tiles, list(groups), opts
                )

    def tiles(self, group: int) -> UnionTiles:
        """Group ``group``'s pieces from every partition, not counted (no raster read)."""
        eng = self.engine
        keys = sorted(self.state)
        handles = [eng.submit(_task_tiles, self.raster, k, self.state[k], group) for k in keys]
        pieces: list[shapely.Geometry] = []
        tiles: list[Key] = []
        for part in eng.executor.gather(handles):
            pieces.extend(part.pieces)
            tiles.extend(part.keys)
        return UnionTiles(object_array(pieces), tiles)

    def result(
        self, groups: Sequence[int] | None = None, *, pieces_of: Collection[int] | None = None
    ) -> list[UnionSum]:
        """People in each group's union (all, or those listed), counted in one pass.

        The groups returned are dropped from the builder: their memory is freed. Pieces
        of flushed tiles are in the totals but not in the returned pieces. Only the groups
        in ``pieces_of`` (default: all) come back with their pieces; the others' are
        empty, and never leave the workers on a cluster (for unions whose totals alone
        are wanted).
        """
        return self.result_later(groups, pieces_of=pieces_of)()

    def result_later(
        self, groups: Sequence[int] | None = None, *, pieces_of: Collection[int] | None = None
    ) -> Callable[[], list[UnionSum]]:
        """:meth:`result`, its counting tasks submitted now: call the result for the
        unions (the builder takes no other call in between).
        """
        eng = self.engine
        wanted = list(range(self.groups)) if groups is None else list(groups)
        keep = None if pieces_of is None else sorted(set(pieces_of))
        keys = sorted(self.state)
        opts = eng.options(keep=keep)
        handles = [
            eng.submit(_task_count, self.raster, k, self.state[k], wanted, opts) for k in keys
        ]

        def taken() -> list[UnionSum]:
            parts = eng.executor.gather(handles)
            for k in keys:
                self.state[k] = eng.submit(_task_drop, self.raster, k, self.state[k], wanted)
            out = []
            for j in range(len(wanted)):
                total, pieces, tiles = ZonalSum(), [], []
                for part in parts:
                    total.add(part[j].total)
                    pieces.extend(part[j].pieces)
                    tiles.extend(part[j].keys)
                out.append(UnionSum(object_array(pieces), tiles, total))
            return out

        return taken


def union_sums(
    groups: Sequence[np.ndarray],
    raster: PopulationRaster,
    *,
    pixel_rule: PixelRule = "exact",
    tile: int | None = None,
) -> list[UnionSum]:
    """People in the union of each group of geometries (see :func:`union_sum`).

    All groups' tile pieces are counted in one pass, so a window of the raster
    shared by several groups is read and prepared once for all of them.
    """
    return PartitionedEngine(pixel_rule, union_tile=tile).unions(groups, raster)


def union_sum(
    geoms: np.ndarray,
    raster: PopulationRaster,
    *,
    pixel_rule: PixelRule = "exact",
    tile: int | None = None,
) -> UnionSum:
    """People in the union of geometries, nobody counted twice.

    The plane is cut into tiles of ``tile`` × ``tile`` pixels on the raster's
    grid; in each tile the geometries are clipped to the tile and unioned there,
    then counted. The tiles partition the plane, so the sum over tiles is the
    count of the whole union; no global union is ever built.
    """
    return union_sums([geoms], raster, pixel_rule=pixel_rule, tile=tile)[0]
