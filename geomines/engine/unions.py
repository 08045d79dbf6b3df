"""Unions counted tile by tile: each person once, however many geometries overlap.

The plane is cut into tiles of ``UNION_TILE`` pixels on the raster's grid; in each
tile the geometries are clipped to the tile and unioned there, then counted. The
tiles partition the plane, so the sum over tiles is the count of the whole union;
no global union is ever built.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from ..geometry import clip_rect, polygonal, polygonal_array
from ..grid import tile_box, tile_range
from ..io.population import PopulationRaster
from .exact import PixelRule, ZonalSum, clip_to_raster, zonal_sums
from .executors import map_threads

#: Side, in pixels, of the tiles in which unions are built and counted.
UNION_TILE = 1024


@dataclass
class UnionSum:
    """People in the union of many geometries, built and counted tile by tile.

    Attributes
    ----------
    total : ZonalSum
        People in the union (each person once).
    pieces : numpy.ndarray
        The union clipped to each tile (the tiles partition the plane, so the
        pieces do not overlap); their union is the whole union.
    """

    total: ZonalSum
    pieces: np.ndarray
    keys: list[tuple[int, int]]

    def by_tile(self) -> dict[tuple[int, int], shapely.Geometry]:
        """The pieces keyed by their tile ``(row, col)``."""
        return dict(zip(self.keys, self.pieces, strict=True))

    def geometry(self) -> shapely.Geometry:
        """The pieces as one (multi)polygon, without merging across tile borders."""
        parts = shapely.get_parts(self.pieces)
        polys = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
        return shapely.MultiPolygon(polys) if polys else shapely.Polygon()


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
    keys_all = [(a, b) for a in range(r0, r1 + 1) for b in range(c0, c1 + 1)]
    boxes = [shapely.box(*tile_box(key, raster.transform, side)) for key in keys_all]
    tile_idx, geom_idx = tree.query(np.array(boxes, dtype=object), predicate="intersects")
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
        left, bottom, right, top = boxes[t].bounds
        merged = shapely.union_all(clip_rect(poly[members], left, bottom, right, top))
        merged = polygonal(merged) if not merged.is_empty else None
        return merged if merged is not None and not merged.is_empty else None

    keys, pieces = [], []
    for (t, _), merged in zip(jobs, map_threads(build, jobs), strict=True):
        if merged is not None:
            keys.append(keys_all[t])
            pieces.append(merged)
    return keys, pieces


class UnionBuilder:
    """Unions of several groups of geometries, built batch by batch and tile by tile.

    ``add(k, geoms)`` clips a batch to the union tiles of the raster's grid and
    merges it into group *k*'s piece in each tile; the batch can then be dropped.
    Memory is the size of the unions (the pieces) plus one batch, however many
    geometries go in. ``result()`` counts every group's pieces in one pass.

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
    ) -> None:
        self.raster = raster
        self.side = tile or UNION_TILE
        self.pixel_rule = pixel_rule
        self.tiles: list[dict[tuple[int, int], shapely.Geometry]] = [{} for _ in range(groups)]
        self.counted = [ZonalSum() for _ in range(groups)]  # tiles already counted

    def add(self, group: int, geoms: np.ndarray) -> None:
        """Merge a batch of geometries into group ``group``'s union."""
        keys, pieces = tile_pieces(geoms, self.raster, self.side)
        self.tiles[group] = merge_tiles(self.tiles[group], keys, pieces)

    def flush(self, keys: Collection[tuple[int, int]], groups: Sequence[int]) -> None:
        """Count these groups' pieces in these tiles now and drop them.

        For tiles that no later batch can reach (the caller knows): their pieces are
        final. Their people go into :meth:`result`'s totals; the pieces are not kept.
        """
        done = set(keys)
        jobs = [(k, key) for k in groups for key in self.tiles[k] if key in done]
        if not jobs:
            return
        arr = np.empty(len(jobs), dtype=object)
        arr[:] = [self.tiles[k].pop(key) for k, key in jobs]
        sums = zonal_sums(arr, self.raster, pixel_rule=self.pixel_rule)
        for i, (k, _key) in enumerate(jobs):
            self.counted[k].add(sums[i])

    def result(self, groups: Sequence[int] | None = None) -> list[UnionSum]:
        """People in each group's union (all, or those listed), counted in one pass.

        The groups returned are dropped from the builder: their memory is freed. Pieces
        of flushed tiles are in the totals but not in the returned pieces.
        """
        wanted = list(range(len(self.tiles))) if groups is None else list(groups)
        chosen = [self.tiles[k] for k in wanted]
        for k in wanted:
            self.tiles[k] = {}
        flat = [p for tiles in chosen for p in tiles.values()]
        owner = np.repeat(np.arange(len(chosen)), [len(t) for t in chosen])
        arr = np.empty(len(flat), dtype=object)
        arr[:] = flat
        sums = zonal_sums(arr, self.raster, pixel_rule=self.pixel_rule)
        out = []
        for j, (k, tiles) in enumerate(zip(wanted, chosen, strict=True)):
            total = sums.total(owner == j)
            total.add(self.counted[k])
            self.counted[k] = ZonalSum()
            mine = np.empty(len(tiles), dtype=object)
            mine[:] = list(tiles.values())
            out.append(UnionSum(total, mine, list(tiles)))
        return out


def merge_tiles(
    tiles: dict[tuple[int, int], shapely.Geometry],
    keys: list[tuple[int, int]],
    pieces: list[shapely.Geometry],
) -> dict[tuple[int, int], shapely.Geometry]:
    """Merge new per-tile pieces into ``tiles`` (a tile's union with its new piece)."""
    both = [i for i, k in enumerate(keys) if k in tiles]
    if both:
        old = np.empty(len(both), dtype=object)
        old[:] = [tiles[keys[i]] for i in both]
        new = np.empty(len(both), dtype=object)
        new[:] = [pieces[i] for i in both]
        for i, union in zip(both, shapely.union(old, new), strict=True):
            merged = polygonal(union) if not union.is_empty else None
            if merged is None or merged.is_empty:
                tiles.pop(keys[i], None)
            else:
                tiles[keys[i]] = merged
    for k, piece in zip(keys, pieces, strict=True):
        if k not in tiles:
            tiles[k] = piece
    return dict(sorted(tiles.items()))


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
    builder = UnionBuilder(raster, len(groups), pixel_rule=pixel_rule, tile=tile)
    for k, geoms in enumerate(groups):
        builder.add(k, geoms)
    return builder.result()


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
