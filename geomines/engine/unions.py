"""Unions counted tile by tile: each person once, however many geometries overlap.

The plane is cut into tiles of ``UNION_TILE`` pixels on the raster's grid; in each
tile the geometries are clipped to the tile and unioned there, then counted. The
tiles partition the plane, so the sum over tiles is the count of the whole union;
no global union is ever built.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import shapely

from ..geometry import clip_rect, polygonal_array, union_polygons
from ..grid import tile_boxes, tile_range
from ..io.population import PopulationRaster
from .exact import ZonalSum, clip_to_raster, zonal_sums
from .executors import map_threads
from .packing import PackedGeometries

#: Side, in pixels, of the tiles in which unions are built and counted.
UNION_TILE = 1024


@dataclass
class UnionTiles:
    """The union of many geometries, tile by tile, not counted.

    Attributes
    ----------
    pieces : numpy.ndarray
        The union clipped to each tile (the tiles partition the plane, so the
        pieces do not overlap); their union is the whole union.
    keys : list of (row, col)
        Each piece's tile.
    """

    pieces: np.ndarray
    keys: list[tuple[int, int]]

    def __reduce__(self) -> tuple[Any, tuple]:
        # the pieces as one WKB blob (they cross processes on a cluster), the rest as is
        rest = {f.name: getattr(self, f.name) for f in fields(self)[2:]}
        return _tiles_from, (type(self), PackedGeometries(self.pieces), self.keys, rest)

    def by_tile(self) -> dict[tuple[int, int], shapely.Geometry]:
        """The pieces keyed by their tile ``(row, col)``."""
        return dict(zip(self.keys, self.pieces, strict=True))

    def geometry(self) -> shapely.Geometry:
        """The pieces as one (multi)polygon, without merging across tile borders."""
        parts = shapely.get_parts(self.pieces)
        polys = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
        return shapely.MultiPolygon(polys) if polys else shapely.Polygon()


@dataclass
class UnionSum(UnionTiles):
    """People in the union of many geometries, built and counted tile by tile.

    Attributes
    ----------
    pieces, keys
        As :class:`UnionTiles`.
    total : ZonalSum
        People in the union (each person once).
    """

    total: ZonalSum


def tile_pieces(
    geoms: np.ndarray, raster: PopulationRaster, side: int
) -> tuple[list[tuple[int, int]], list[shapely.Geometry]]:
    """The union of ``geoms`` clipped to each ``side``-pixel tile of the raster's grid."""
    poly = polygonal_array(clip_to_raster(np.asarray(geoms, dtype=object), raster))
    poly = np.array([g for g in poly if g is not None and not g.is_empty], dtype=object)
    if poly.size == 0:
        return [], []
    r0, r1, c0, c1 = tile_range(tuple(shapely.total_bounds(poly)), raster.transform, side)
    tree = shapely.STRtree(poly)
    rows, cols = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
    keys_all = list(zip(rows.ravel().tolist(), cols.ravel().tolist(), strict=True))
    # the tiles' boxes at once, not one Python call each
    edges = tile_boxes(rows.ravel(), cols.ravel(), raster.transform, side)
    tile_idx, geom_idx = tree.query(shapely.box(*edges.T), predicate="intersects")
    order = np.argsort(tile_idx, kind="stable")
    tile_idx, geom_idx = tile_idx[order], geom_idx[order]
    splits = np.flatnonzero(np.diff(tile_idx)) + 1
    jobs = [
        (int(t[0]), g)
        for t, g in zip(np.split(tile_idx, splits), np.split(geom_idx, splits), strict=True)
        if t.size
    ]

    def build(job: tuple[int, np.ndarray]) -> shapely.Geometry | None:
        t, members = job
        left, bottom, right, top = edges[t]
        merged = union_polygons(clip_rect(poly[members], left, bottom, right, top))
        return None if merged.is_empty else merged

    keys, pieces = [], []
    for (t, _), merged in zip(jobs, map_threads(build, jobs), strict=True):
        if merged is not None:
            keys.append(keys_all[t])
            pieces.append(merged)
    return keys, pieces


@dataclass
class TileState:
    """Unions of several groups in one partition of the grid, tile by tile.

    ``tiles[k]`` maps a union tile ``(row, col)`` to group *k*'s piece there;
    ``counted[k]`` holds the people in group *k*'s tiles already counted and dropped
    (closed early). The functions below never change a state in place: they return
    a new one, so a task that runs twice (as on a cluster) gives the same result.
    """

    tiles: list[dict[tuple[int, int], shapely.Geometry]]
    counted: list[ZonalSum]

    def all_pieces(self) -> np.ndarray:
        """Every group's pieces, group after group, in their tiles' order."""
        out = np.empty(sum(len(group) for group in self.tiles), dtype=object)
        out[:] = [g for group in self.tiles for g in group.values()]
        return out

    def __reduce__(self) -> tuple[Any, tuple]:
        # every group's pieces as one WKB blob (a state moves between workers)
        keys = [list(group) for group in self.tiles]
        return _state_from, (PackedGeometries(self.all_pieces()), keys, self.counted)


def _tiles_from(
    cls: type[UnionTiles], pieces: PackedGeometries, keys: list, rest: dict
) -> UnionTiles:
    return cls(pieces.array, keys, **rest)


def _state_from(
    pieces: PackedGeometries, keys: list[list[tuple[int, int]]], counted: list[ZonalSum]
) -> TileState:
    ends = np.cumsum([len(k) for k in keys]).tolist()
    flat = pieces.array.tolist()
    tiles = [
        dict(zip(k, flat[end - len(k) : end], strict=True))
        for k, end in zip(keys, ends, strict=True)
    ]
    return TileState(tiles, counted)


def empty_state(groups: int) -> TileState:
    """No pieces yet, nobody counted, for ``groups`` groups."""
    return TileState([{} for _ in range(groups)], [ZonalSum() for _ in range(groups)])


def state_add(
    state: TileState, group: int, geoms: np.ndarray, raster: PopulationRaster, side: int
) -> TileState:
    """``state`` with a batch of geometries merged into group ``group``'s union."""
    sides = [side] * len(state.tiles)
    return state_add_many(state, [(group, geoms)], raster, sides)


def state_add_many(
    state: TileState,
    batches: Sequence[tuple[int, np.ndarray]],
    raster: PopulationRaster,
    sides: Sequence[int],
) -> TileState:
    """``state`` with each ``(group, geometries)`` batch merged into that group's union;
    the groups are independent, so they are built side by side on the thread pool (a
    group's own tiles are then worked on one after another).
    """

    def build(item: tuple[int, np.ndarray]) -> dict[tuple[int, int], shapely.Geometry]:
        group, geoms = item
        keys, pieces = tile_pieces(geoms, raster, sides[group])
        return merge_tiles(dict(state.tiles[group]), keys, pieces)

    groups = [group for group, _ in batches]
    if len(set(groups)) != len(groups):
        raise ValueError("one batch per group")
    tiles = list(state.tiles)
    for group, merged in zip(groups, map_threads(build, batches), strict=True):
        tiles[group] = merged
    return TileState(tiles, list(state.counted))


def state_flush(
    state: TileState,
    keys: Collection[tuple[int, int]],
    groups: Sequence[int],
    raster: PopulationRaster,
    **sums: Any,
) -> TileState:
    """``state`` with these groups' pieces in these tiles counted and dropped.

    For tiles no later batch can reach (the caller knows): their pieces are final.
    All the groups' pieces are counted in one pass (windows shared). ``sums`` go to
    :func:`zonal_sums` (``pixel_rule``, ``max_window_pixels``).
    """
    done = set(keys)
    jobs = [(k, key) for k in groups for key in state.tiles[k] if key in done]
    if not jobs:
        return state
    tiles = [dict(t) for t in state.tiles]
    arr = np.empty(len(jobs), dtype=object)
    arr[:] = [tiles[k].pop(key) for k, key in jobs]
    people = zonal_sums(arr, raster, **sums)
    counted = [replace(z) for z in state.counted]
    for i, (k, _key) in enumerate(jobs):
        counted[k].add(people[i])
    return TileState(tiles, counted)


def state_count(
    state: TileState, groups: Sequence[int], raster: PopulationRaster, **sums: Any
) -> list[UnionSum]:
    """People in each listed group's union in this partition, counted in one pass.

    Pieces of tiles counted earlier (:func:`state_flush`) are in the totals but not
    in the returned pieces.
    """
    chosen = [state.tiles[k] for k in groups]
    flat = [p for tiles in chosen for p in tiles.values()]
    owner = np.repeat(np.arange(len(chosen)), [len(t) for t in chosen])
    arr = np.empty(len(flat), dtype=object)
    arr[:] = flat
    people = zonal_sums(arr, raster, **sums)
    out = []
    for j, (k, tiles) in enumerate(zip(groups, chosen, strict=True)):
        total = people.total(owner == j)
        total.add(state.counted[k])
        mine = np.empty(len(tiles), dtype=object)
        mine[:] = list(tiles.values())
        out.append(UnionSum(mine, list(tiles), total))
    return out


def state_tiles(state: TileState, group: int) -> UnionTiles:
    """Group ``group``'s pieces in this partition, not counted."""
    tiles = state.tiles[group]
    pieces = np.empty(len(tiles), dtype=object)
    pieces[:] = list(tiles.values())
    return UnionTiles(pieces, list(tiles))


def state_derive(
    state: TileState,
    target: int,
    sources: Sequence[int],
    raster: PopulationRaster,
    sides: Sequence[int],
    keys: Collection[tuple[int, int]] | None = None,
) -> TileState:
    """``state`` with the sources' pieces (in the tiles ``keys``, or all) merged into
    group ``target``'s union: the union of unions is the union of all their members.

    Source tiles nest in the target's tiles (``sides``: each group's tile side, a
    multiple of the sources'); a target tile may be fed in several calls, as its
    source tiles close.
    """
    ratio = sides[target] // sides[sources[0]]
    if any(sides[target] != sides[k] * ratio for k in sources):
        raise ValueError("derived unions need source tiles that nest in the target's")
    wanted = None if keys is None else set(keys)
    parts: dict[tuple[int, int], list[shapely.Geometry]] = {}
    for k in sources:
        for key, piece in state.tiles[k].items():
            if wanted is None or key in wanted:
                parts.setdefault((key[0] // ratio, key[1] // ratio), []).append(piece)
    if not parts:
        return state
    tiles = list(state.tiles)
    merged = dict(tiles[target])
    jobs = sorted(parts)

    def build(key: tuple[int, int]) -> shapely.Geometry | None:
        union = union_polygons(parts[key] + ([merged[key]] if key in merged else []))
        return None if union.is_empty else union

    for key, piece in zip(jobs, map_threads(build, jobs), strict=True):
        if piece is not None:
            merged[key] = piece
    tiles[target] = dict(sorted(merged.items()))
    return TileState(tiles, list(state.counted))


def state_drop(state: TileState, groups: Collection[int]) -> TileState:
    """``state`` without these groups' pieces and counts (their memory freed)."""
    gone = set(groups)
    return TileState(
        [{} if k in gone else t for k, t in enumerate(state.tiles)],
        [ZonalSum() if k in gone else z for k, z in enumerate(state.counted)],
    )


def merge_tiles(
    tiles: dict[tuple[int, int], shapely.Geometry],
    keys: list[tuple[int, int]],
    pieces: list[shapely.Geometry],
) -> dict[tuple[int, int], shapely.Geometry]:
    """Merge new per-tile pieces into ``tiles`` (a tile's union with its new piece)."""
    for i, key in enumerate(keys):
        if key in tiles:  # only the polygons the new piece meets are merged again
            union = union_polygons([tiles[key], pieces[i]])
            if union.is_empty:
                tiles.pop(key)
            else:
                tiles[key] = union
    for k, piece in zip(keys, pieces, strict=True):
        if k not in tiles:
            tiles[k] = piece
    return dict(sorted(tiles.items()))
