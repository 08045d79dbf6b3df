"""People by admin unit: each unit's population, inside and within each ring, the
region outside every unit, and the check that they add up to the whole.

The units' own sums (their population: the largest read of the raster in an
assessment) do not depend on the hazards: :func:`read_units` reads and checks the
units before the counting starts (a bad admin file fails at once, not after the
rings) and, on a cluster, :func:`start_unit_sums` starts those sums and the raster's
total at low priority once the hazards are counted, so the workers count them
whenever the rings' tasks leave them idle.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..crs import move_to_grid
from ..engine.exact import ZonalSums
from ..engine.local import Engine
from ..engine.rings import format_m
from ..engine.unions import UnionSum
from ..errors import CRSError, InputError
from ..io.population import PopulationRaster
from ..io.vector import read_vector
from ..shapes import Shapes
from .checks import PartCounts, outside_region, plain_rule, tile_differences_later
from .records import Reconciliation
from .result import ring_column

#: priority of the tasks started ahead (Dask's: below the hazards' tasks)
AHEAD = -1
#: hazards given their admin unit at a time (a point each, made per slice; and the
#: circles of point records kept as points, built per slice: see geomines.shapes.SLICE)
POINT_SLICE = 20_000


@dataclass
class Units:
    """Admin units read, checked and on the raster's grid, with their sums started."""

    admin: gpd.GeoDataFrame
    ids: pd.Series
    name_column: str | None
    geoms: np.ndarray  # on the raster's grid
    #: the units' own sums, started ahead on a cluster (None: counted with the layers)
    people: Callable[[], ZonalSums] | None
    plain: Callable[[], ZonalSums] | None  # plain weighting, with a land-area raster


def read_units(
    admin: gpd.GeoDataFrame | str | os.PathLike,
    admin_id: str | None,
    admin_name: str | None,
    raster: PopulationRaster,
) -> Units:
    """Read and check the units and move them onto the grid (before any counting)."""
    admin, ids = _checked_units(admin, admin_id, admin_name)
    geoms = move_to_grid(
        np.asarray(shapely.make_valid(admin.geometry.values), dtype=object),
        CRS.from_user_input(admin.crs),
        raster.crs,
        raster.bounds,
    )
    return Units(admin, ids, admin_name, geoms, None, None)


def start_unit_sums(units: Units, raster: PopulationRaster, engine: Engine) -> None:
    """On a cluster, start the units' own sums and the raster's total at low priority
    (in-process they are counted with the layers, later). Called after the per-hazard
    stage: beside it, their windows would add to the workers' peak while every class
    group's union is held.
    """
    if engine.partition_px is None:
        return
    units.people = engine.sums_later(units.geoms, raster, priority=AHEAD)
    if raster.land_area is not None:
        units.plain = engine.sums_later(units.geoms, raster, priority=AHEAD, **plain_rule(raster))
    engine.total_later(raster, priority=AHEAD)


def admin_of_hazards(
    geoms_r: np.ndarray | Shapes, units: np.ndarray, ids: np.ndarray
) -> list[str | None]:
    """The admin unit holding each hazard's representative point (None if outside all).

    ``units`` are the admin units already on the raster's grid (as :func:`admin_table`
    gives them), ``ids`` their ids. The points are made :data:`POINT_SLICE` hazards at a
    time, so a long layer's points are never all held at once.
    """
    out: list[str | None] = [None] * len(geoms_r)
    tree = shapely.STRtree(units)
    for start in range(0, len(geoms_r), POINT_SLICE):
        chunk = geoms_r[start : start + POINT_SLICE]
        ok = np.array([g is not None and not g.is_empty for g in chunk], dtype=bool)
        if not ok.any():
            continue
        p_idx, u_idx = tree.query(shapely.point_on_surface(chunk[ok]), predicate="within")
        positions = start + np.nonzero(ok)[0]
        for p, u in zip(p_idx, u_idx, strict=True):
            if out[positions[p]] is None:
                out[positions[p]] = ids[u]
    return out


def admin_table(
    units: Units,
    raster: PopulationRaster,
    union: UnionSum,
    rings: tuple[float, ...],
    ring_u: dict[float, UnionSum],
    engine: Engine,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, Reconciliation, np.ndarray]:
    """People by admin unit: population, inside and within each ring.

    Plus the region outside every unit (counted from its own geometry), the check that
    units and outside add up to the whole (the raster's total, scanned after the units
    were counted: the blocks they read are not decoded again), and the units on the
    raster's grid.
    """
    admin, ids, admin_name, geoms = units.admin, units.ids, units.name_column, units.geoms
    admin_id = ids.name
    layers_u = [union, *[ring_u[d] for d in rings]]
    per_layer, units_plain = _unit_layers(units, layers_u, raster, engine)
    table = pd.DataFrame(
        {
            "admin_id": ids.to_numpy(),
            "admin_name": admin[admin_name].astype(str).to_numpy()
            if admin_name
            else ids.to_numpy(),
        }
    )
    pcode = next(
        (
            c
            for c in admin.columns
            if c != admin_id and re.fullmatch(r"(adm\d_?)?p_?code|.*pcode", str(c), re.IGNORECASE)
        ),
        None,
    )
    if pcode is not None:
        table["pcode"] = admin[pcode].astype(str).to_numpy()
    table["population"], table["people_inside"] = per_layer[0], per_layer[1]
    for j, d in enumerate(rings):
        table[ring_column(d)] = per_layer[2 + j]
    total_pop = engine.total(raster)
    outside, check = _outside_units(geoms, layers_u, rings, raster, total_pop, units_plain, engine)
    table = pd.concat([table, pd.DataFrame([outside])], ignore_index=True)
    pop = table["population"].where(table["population"] > 0)
    table["share_inside"] = table["people_inside"] / pop
    for d in rings:
        table[f"share_within_{format_m(d)}m"] = table[ring_column(d)] / pop
    return admin, table, check, geoms


def _checked_units(
    admin: gpd.GeoDataFrame | str | os.PathLike, admin_id: str | None, admin_name: str | None
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The admin units read and checked: a CRS, the columns named, unique ids."""
    if not isinstance(admin, gpd.GeoDataFrame):
        admin = read_vector(admin)
    if admin.crs is None:
        raise CRSError("Admin units have no CRS; set one (e.g. admin.set_crs('EPSG:4326')).")
    columns = [c for c in admin.columns if c != admin.geometry.name]
    if admin_id is None:
        raise InputError(f"Expected admin_id naming the admin id column; columns are {columns}.")
    for col in (admin_id, admin_name):
        if col is not None and col not in admin.columns:
            raise InputError(f"Admin column {col!r} not found; columns are {columns}.")
    ids = admin[admin_id].astype(str)
    if ids.duplicated().any():
        raise InputError(
            f"Admin ids in {admin_id!r} must be unique; duplicated: "
            f"{sorted(set(ids[ids.duplicated()]))[:10]}."
        )
    return admin, ids


def _unit_layers(
    units: Units, layers_u: list[UnionSum], raster: PopulationRaster, engine: Engine
) -> tuple[list[np.ndarray], list[float]]:
    """People per unit in the unit itself (started ahead, or counted in the same pass)
    and in each layer (inside, each ring); and the same sums over all units with plain
    weighting, for the check.

    A unit's part of a layer is its intersection with each tile piece it meets, made
    where it is counted (``engine.pair_sums_later``): on a cluster the client holds
    neither the parts nor the overlays' working memory. In-process the units and every
    layer's parts are counted in one pass, so that shared windows are prepared once.
    """
    geoms, n = units.geoms, len(units.geoms)
    pieces, li, ri, layer_of = [], [], [], []
    offset = 0
    for k, layer in enumerate(layers_u, start=1):
        if layer.pieces.size == 0:
            continue
        unit_idx, piece_idx = shapely.STRtree(layer.pieces).query(geoms, predicate="intersects")
        pieces.append(layer.pieces)
        li.append(unit_idx)
        ri.append(piece_idx + offset)
        layer_of.append(np.full(len(unit_idx), k))
        offset += len(layer.pieces)
    right = np.concatenate(pieces) if pieces else np.empty(0, dtype=object)
    layer_all = np.concatenate(layer_of) if layer_of else np.zeros(0, dtype=np.int64)
    owner_all = np.concatenate(li) if li else np.zeros(0, dtype=np.int64)
    ri_all = np.concatenate(ri) if ri else np.zeros(0, dtype=np.int64)
    land = raster.land_area is not None
    rules: list[Any] = ["land-first", "plain"] if land else ["land-first"]
    own_started = units.people is not None
    rows = engine.pair_sums_later(
        geoms, right, owner_all, ri_all, raster, land_rules=rules,
        also=None if own_started else geoms,
    )()  # fmt: skip
    lead = 0 if own_started else n

    def split(row: int, started: Callable[[], ZonalSums] | None) -> tuple[np.ndarray, np.ndarray]:
        own = started().people if started is not None else rows[row, :lead]
        return own, rows[row, lead:]

    own, people = split(0, units.people)
    per_layer = [own] + [
        np.bincount(owner_all[layer_all == k], people[layer_all == k], n)
        for k in range(1, len(layers_u) + 1)
    ]
    own_plain, plain_people = split(1, units.plain) if land else (own, people)
    return per_layer, [float(own_plain.sum())] + [
        float(plain_people[layer_all == k].sum()) for k in range(1, len(layers_u) + 1)
    ]


def _outside_units(
    units: np.ndarray,
    layers_u: list[UnionSum],
    rings: tuple[float, ...],
    raster: PopulationRaster,
    total_pop: float,
    units_plain: list[float],
    engine: Engine,
) -> tuple[dict[str, Any], Reconciliation]:
    """The row for people outside every admin unit, each number counted from its own
    geometry (the raster's extent minus the units, tile by tile), and the check that
    the units plus the outside add up to the whole, for the population and each layer
    (``units_plain``: the units' sums per layer, with plain weighting).

    With a land-area raster the outside region (mostly sea) covers coastal pixels'
    water first, hazards and units their land first; the check then counts with plain
    weighting, which adds up over any partition.
    """
    units_u = engine.union_tiles(units, raster)  # geometry only: nobody counted
    land = raster.land_area is not None
    # the region outside covers water first (with a land-area raster), the layers' parts
    # land first; the layers' parts (each layer minus the units, tile by tile) are made
    # where they are counted
    rules = ["land-first", "plain"] if land else ["land-first"]
    layers_later = tile_differences_later([(u, units_u) for u in layers_u], engine, raster, rules)
    region = outside_region(units_u, raster, getattr(engine, "union_tile", None))
    del units_u
    region_counts = PartCounts(engine, raster, land_rule="water-first" if land else "land-first")
    region_counts.add(region)
    plain = PartCounts(engine, raster, **plain_rule(raster)) if land else None
    if plain is not None:
        plain.add(region)
    any_parts = bool(len(region)) or any(len(u.pieces) for u in layers_u)
    del region
    layer_rows = layers_later()
    reported = np.concatenate([[sum(region_counts.later()())], layer_rows[0]])
    checked: np.ndarray = reported
    wholes = [total_pop] + [u.total.people for u in layers_u]
    if plain is not None and any_parts:
        checked = np.concatenate([[sum(plain.later()())], layer_rows[1]])
        whole_counts = PartCounts(engine, raster, **plain_rule(raster))
        for u in layers_u:
            whole_counts.add(u.pieces)
        if any(whole_counts.sizes):
            wholes = [
                total_pop,
                *np.bincount(whole_counts.owners(), whole_counts.later()(), len(layers_u)),
            ]
    names = ["population", "people_inside", *[ring_column(d) for d in rings]]
    row = {
        "admin_id": "(outside)",
        "admin_name": "outside every admin unit",
        **{n: float(reported[j]) for j, n in enumerate(names)},
    }
    checks = [
        Reconciliation(units_plain[j] + float(checked[j]), float(wholes[j]), n)
        for j, n in enumerate(names)
    ]
    worst = max(checks, key=lambda r: r.relative_difference)
    check = Reconciliation(
        worst.parts,
        worst.whole,
        "each admin unit plus the region outside every unit, each counted "
        f"from its own geometry, against the whole (worst of "
        f"{', '.join(names)}: {worst.what})",
    )
    return row, check
