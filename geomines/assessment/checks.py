"""Reconciliation checks that can fail: parts counted from their own geometry, against
the whole counted directly.

Each check counts the people in a set of disjoint parts, each from its own geometry,
and compares their sum with the people of the whole, counted from the whole's own
geometry (or, for the raster total, read block by block). A part built wrong (a
missing tile, a difference taken the wrong way, an admin union that lost a unit)
shows as a relative difference; :attr:`Reconciliation.ok` is whether it is within
:data:`RTOL`.

- ``bands_add_up``: the dissolved hazards plus each exclusive band (ring *d* minus
  ring *d − 1*, built tile by tile and counted as such) against the largest ring.
- ``classes_add_up``: inside CHA, SHA but not CHA, other land but neither (each a
  geometry), then the bands, against the largest ring.
- ``admin_units_add_up``: each admin unit, plus the region outside every unit (the
  raster's extent minus the units, tile by tile), against the raster's total; and
  the same for the people inside and within each ring.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..engine.exact import ZonalSum, ZonalSums
from ..engine.executors import map_array
from ..engine.unions import UNION_TILE, UnionSum, UnionTiles
from ..geometry import object_array
from ..grid import tile_box, tiles
from ..io.population import PopulationRaster
from .records import Checks, Reconciliation

__all__ = [
    "PartCounts",
    "band_parts_later",
    "checks_land_rule",
    "outside_region",
    "quality_checks",
    "reconcile_rings",
    "tile_differences_later",
    "tile_pairs",
]

#: coordinates of parts counted in one call (:class:`PartCounts`): a longer run is
#: started a slice at a time. The national benchmark's checks' parts hold 1.9 million
#: coordinates, 200,000 hazards' 3.3 million: one slice each.
SLICE_COORDS = 4_000_000

_EMPTY = shapely.Polygon()


def tile_pairs(
    pairs: Sequence[tuple[UnionTiles, UnionTiles | None]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``outer − inner`` tile by tile: each outer piece, the inner piece of its tile
    (empty where the inner has none, so the difference is the outer piece as it is),
    and the pair each belongs to. The tiles partition the plane, so each pair's
    differences are disjoint.
    """
    left: list[Any] = []
    right: list[Any] = []
    group: list[int] = []
    for k, (outer, inner) in enumerate(pairs):
        before = inner.by_tile() if inner is not None else {}
        left.extend(outer.pieces)
        right.extend(before.get(key, _EMPTY) for key in outer.keys)
        group.extend([k] * len(outer.pieces))
    return object_array(left), object_array(right), np.asarray(group, dtype=np.int64)


def band_parts_later(
    union_u: UnionSum,
    rings: Sequence[float],
    ring_u: dict[float, UnionSum],
    engine: Any,
    raster: PopulationRaster,
    land_rule: str = "land-first",
) -> Callable[[], tuple[list[list[shapely.Geometry]], np.ndarray]]:
    """Each exclusive band (ring *d* minus the ring before, or the dissolved hazards) as
    disjoint tile pieces, made and counted where the engine runs (on a cluster, on the
    workers: this process holds neither the overlays' working memory nor the parts
    until they are taken). Call the result for the pieces of each band (non-empty) and
    each band's people counted from them under ``land_rule``; it is taken once and
    kept, for the bands' geometry and their check.
    """
    chain = [union_u, *(ring_u[d] for d in rings)]
    left, right, owner = tile_pairs([(chain[i + 1], chain[i]) for i in range(len(rings))])
    idx = np.arange(len(left))
    later = engine.overlays_later(
        left, right, idx, idx, raster, land_rules=[land_rule], op="difference"
    )
    del left, right, chain

    @functools.cache
    def taken() -> tuple[list[list[shapely.Geometry]], np.ndarray]:
        people, parts = later()
        keep = ~shapely.is_empty(parts) if len(parts) else np.zeros(0, dtype=bool)
        pieces = [list(parts[(owner == k) & keep]) for k in range(len(rings))]
        return pieces, np.bincount(owner, people[0], len(rings))

    return taken


class PartCounts:
    """People in a run of parts, their counting started a slice at a time.

    Parts are added in order (:meth:`add`, one group of parts at a time); once those
    waiting hold :data:`SLICE_COORDS` coordinates they are started
    (``engine.sums_later``) and let go here. A caller that cuts its parts a group at a
    time and drops each group once added never holds every part: on a cluster the
    counting's copies are the workers'. :meth:`later` starts what waits and gives the
    people of every part, in the order added. Below one slice, this is one counting
    call for all the parts, as a single ``engine.sums`` would be.
    """

    def __init__(self, engine: Any, raster: PopulationRaster, **kwargs: Any) -> None:
        self.engine, self.raster, self.kwargs = engine, raster, kwargs
        self.waiting: list[np.ndarray] = []
        self.coords = 0
        self.started: list[Callable[[], ZonalSums]] = []
        self.sizes: list[int] = []  # parts in each group added

    def add(self, parts: Sequence[shapely.Geometry] | np.ndarray) -> None:
        """The next group of parts (started once a slice's worth waits)."""
        arr = object_array(parts)
        self.sizes.append(len(arr))
        if not arr.size:
            return
        self.waiting.append(arr)
        self.coords += int(shapely.get_num_coordinates(arr).sum())
        if self.coords >= SLICE_COORDS:
            self._start()

    def _start(self) -> None:
        if self.waiting:
            arr = self.waiting[0] if len(self.waiting) == 1 else np.concatenate(self.waiting)
            self.waiting, self.coords = [], 0
            self.started.append(self.engine.sums_later(arr, self.raster, **self.kwargs))

    def later(self) -> Callable[[], np.ndarray]:
        """What waits, started; call the result for every part's people, in order."""
        self._start()
        started = self.started  # the closure keeps the countings' handles, not the parts
        return lambda: (
            np.concatenate([take().people for take in started]) if started else np.zeros(0)
        )

    def owners(self) -> np.ndarray:
        """Each part's group, by the order the groups were added."""
        return np.repeat(np.arange(len(self.sizes)), self.sizes)


def _count_later(counts: PartCounts) -> Callable[[], list[float]]:
    """People in each group of parts added to ``counts``: started now, taken by calling
    the result.
    """
    owner, size, later = counts.owners(), len(counts.sizes), counts.later()
    return lambda: [float(v) for v in np.bincount(owner, later(), size)]


def tile_differences_later(
    pairs: Sequence[tuple[UnionTiles, UnionTiles | None]],
    engine: Any,
    raster: PopulationRaster,
    land_rules: Sequence[str] = ("land-first",),
) -> Callable[[], np.ndarray]:
    """People in each ``outer − inner`` (tile by tile, as :func:`tile_pairs`), one
    row per land rule, one column per pair: started now, the differences made where
    they are counted (``engine.pair_sums_later``), so this process never holds them.
    """
    left, right, owner = tile_pairs(pairs)
    idx = np.arange(len(left))
    later = engine.pair_sums_later(
        left,
        right,
        idx,
        idx,
        raster,
        land_rules=land_rules,
        op="difference",
    )
    del left, right
    size = len(pairs)
    return lambda: np.array([np.bincount(owner, row, size) for row in later()])


def plain_rule(raster: PopulationRaster) -> dict[str, Any]:
    """Engine options for counts that add up over any partition (see the module notes)."""
    return {"land_rule": "plain"} if raster.land_area is not None else {}


def checks_land_rule(raster: PopulationRaster) -> str:
    """The land rule the checks' parts are counted with (:func:`plain_rule`'s)."""
    return str(plain_rule(raster).get("land_rule", "land-first"))


def reconcile_rings(
    union_u: UnionSum,
    rings: Sequence[float],
    ring_u: dict[float, UnionSum],
    levels: Sequence[UnionSum],
    engine: Any,
    raster: PopulationRaster,
    bands: Callable[[], tuple[list[list[shapely.Geometry]], np.ndarray]] | None = None,
) -> Callable[[], dict[str, Reconciliation]]:
    """``bands_add_up`` and ``classes_add_up`` (see the module notes), started: the parts
    are cut and their counting started now (the workers, or the task threads, count
    while this process goes on); call the result for the checks.

    ``levels`` are the unions of CHA and of CHA ∪ SHA (the union of every class is
    ``union_u``). With a land-area raster, whose land-first rule is not additive over
    the parts of a coastal pixel, parts and whole are counted with plain pixel
    weighting: the check is of the geometry that every number is counted on.

    ``bands``: the bands, started by :func:`band_parts_later` with that rule (started
    here when not given).
    """
    rule, land_rule = plain_rule(raster), checks_land_rule(raster)
    if bands is None:
        bands = band_parts_later(union_u, rings, ring_u, engine, raster, land_rule)
    outer = ring_u[rings[-1]] if rings else union_u
    wholes = None
    if raster.land_area is not None:  # the wholes again, with plain weighting
        counts = PartCounts(engine, raster, **rule)
        counts.add(union_u.pieces)
        counts.add(outer.pieces)
        wholes = _count_later(counts)
        del counts
    # each class level minus the one before, tile by tile, made where it is counted
    chain = [*levels, union_u]
    classes_later = tile_differences_later(
        [(u, chain[i - 1] if i else None) for i, u in enumerate(chain)],
        engine,
        raster,
        [land_rule],
    )
    inside_u, whole_u = union_u.total.people, outer.total.people
    del chain  # the parts are the counting's

    def taken() -> dict[str, Reconciliation]:
        inside, whole = wholes() if wholes is not None else (inside_u, whole_u)
        bands_own = float(bands()[1].sum())
        classes_own = sum(float(v) for v in classes_later()[0])
        out = {
            "classes_add_up": Reconciliation(
                classes_own + bands_own,
                whole,
                "inside CHA, SHA, other land and each band, each counted from its own "
                "geometry, against the largest ring counted directly",
            )
        }
        if rings:
            out["bands_add_up"] = Reconciliation(
                inside + bands_own,
                whole,
                "the dissolved hazards and each exclusive band, each counted from its own "
                "geometry, against the largest ring counted directly",
            )
        return out

    return taken


def outside_region(
    units: UnionTiles, raster: PopulationRaster, side: int | None
) -> list[shapely.Geometry]:
    """The raster's extent minus the admin units, tile by tile (disjoint pieces)."""
    side = side or UNION_TILE
    pieces = units.by_tile()
    west, south, east, north = raster.bounds
    keys = list(tiles(raster.shape, side))
    boxes = np.empty(len(keys), dtype=object)
    for i, key in enumerate(keys):
        x0, y0, x1, y1 = tile_box(key, raster.transform, side)
        boxes[i] = shapely.box(max(x0, west), max(y0, south), min(x1, east), min(y1, north))
    cut = np.array([key in pieces for key in keys], dtype=bool)
    if cut.any():  # the tiles with units in them, side by side on the thread pool
        inner = np.array([pieces[key] for key, c in zip(keys, cut, strict=True) if c], dtype=object)
        boxes[cut] = map_array(shapely.difference, boxes[cut], inner, min_chunk=16)
    return [part for part in boxes if not part.is_empty]


def quality_checks(
    frame: gpd.GeoDataFrame,
    inside: ZonalSums,
    union_sum: ZonalSum,
    ring_sums: dict[float, ZonalSum],
    rings: tuple[float, ...],
    raster: PopulationRaster,
    by_admin: pd.DataFrame | None,
    total_pop: float,
    reconciliations: dict[str, Reconciliation],
) -> Checks:
    """Data-quality facts of the counted hazards, and the reconciliations, as :class:`Checks`.

    ``inside``: each hazard's sums (zeros for hazards that could not be used); only
    the counted hazards' enter the checks.
    """
    counted = frame["counted"].to_numpy(dtype=bool)
    per_hazard = float(frame.loc[counted, "people_inside"].sum())
    pixel_area = raster.res[0] * raster.res[1]
    sub_pixel = int(np.count_nonzero(counted & (inside.area > 0) & (inside.area < pixel_area)))
    area = float(inside.area[counted].sum())
    area_in = float(inside.area_in_raster[counted].sum())
    weight = float(inside.weight[counted].sum())
    weight_nd = float(inside.weight_nodata[counted].sum())
    outside = overlap = None
    if by_admin is not None:
        units = by_admin[by_admin["admin_id"] != "(outside)"]
        outside = float(by_admin.loc[by_admin["admin_id"] == "(outside)", "population"].iloc[0])
        overlap = bool(units["population"].sum() > total_pop * (1 + 1e-9))
    return Checks(
        sum_of_per_hazard_inside=per_hazard,
        double_counting_factor=(per_hazard / union_sum.people) if union_sum.people > 0 else None,
        hazards_smaller_than_one_pixel=sub_pixel,
        share_of_hazard_area_outside_raster=(1 - area_in / area) if area > 0 else 0.0,
        share_of_hazard_area_on_nodata=(weight_nd / weight) if weight > 0 else 0.0,
        people_outside_every_admin_unit=outside,
        admin_units_overlap=overlap,
        **reconciliations,
    )
