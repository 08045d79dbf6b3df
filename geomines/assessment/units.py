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
from ..engine.executors import map_array
from ..engine.local import Engine
from ..engine.rings import format_m
from ..engine.unions import UnionSum
from ..errors import CRSError, InputError
from ..io.population import PopulationRaster
from ..io.vector import read_vector
from .checks import outside_region, plain_rule, tile_differences
from .records import Reconciliation
from .result import ring_column

#: priority of the tasks started ahead (Dask's: below the hazards' tasks)
AHEAD = -1


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


def admin_of_hazards(geoms_r: np.ndarray, units: np.ndarray, ids: np.ndarray) -> list[str | None]:
    """The admin unit holding each hazard's representative point (None if outside all).

    ``units`` are the admin units already on the raster's grid (as :func:`admin_table`
    gives them), ``ids`` their ids.
    """
    out: list[str | None] = [None] * len(geoms_r)
    ok = np.array([g is not None and not g.is_empty for g in geoms_r], dtype=bool)
    if not ok.any():
        return out
    points = shapely.point_on_surface(geoms_r[ok])
    tree = shapely.STRtree(units)
    p_idx, u_idx = tree.query(points, predicate="within")
    positions = np.nonzero(ok)[0]
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
    """People per unit in the unit itself (started ahead) and in each layer (inside,
    each ring), the layers' parts counted in one pass so that shared windows are
    prepared once; and the same sums over all units with plain weighting, for the check.
    """
    geoms = units.geoms
    parts, owner, layer_of = [], [], []
    for k, layer in enumerate(layers_u, start=1):
        if layer.pieces.size == 0:
            continue
        unit_idx, piece_idx = shapely.STRtree(layer.pieces).query(geoms, predicate="intersects")
        # the pairs side by side on the thread pool
        parts.append(map_array(shapely.intersection, geoms[unit_idx], layer.pieces[piece_idx]))
        owner.append(unit_idx)
        layer_of.append(np.full(len(unit_idx), k))
    n = len(geoms)
    all_parts = np.concatenate(parts) if parts else np.empty(0, dtype=object)
    owner_all = np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64)
    layer_all = np.concatenate(layer_of) if layer_of else np.zeros(0, dtype=np.int64)
    own, people = _own_and_parts(units, all_parts, raster, engine, units.people, {})
    per_layer = [own] + [
        np.bincount(owner_all[layer_all == k], people[layer_all == k], n)
        for k in range(1, len(layers_u) + 1)
    ]
    own_plain, plain = own, people
    if raster.land_area is not None:
        kwargs = plain_rule(raster)
        own_plain, plain = _own_and_parts(units, all_parts, raster, engine, units.plain, kwargs)
    return per_layer, [float(own_plain.sum())] + [
        float(plain[layer_all == k].sum()) for k in range(1, len(layers_u) + 1)
    ]


def _own_and_parts(
    units: Units,
    parts: np.ndarray,
    raster: PopulationRaster,
    engine: Engine,
    started: Callable[[], ZonalSums] | None,
    kwargs: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    """People in each unit and in each part: the units' sums as started ahead, or (not
    started) counted in one pass with the parts, so shared windows are prepared once.
    """
    if started is not None:
        rest = engine.sums(parts, raster, **kwargs).people if parts.size else np.zeros(0)
        return started().people, rest
    both = np.concatenate([units.geoms, parts])
    people = engine.sums(both, raster, **kwargs).people
    return people[: len(units.geoms)], people[len(units.geoms) :]


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
    region = outside_region(units_u, raster, getattr(engine, "union_tile", None))
    parts = [region, *[tile_differences(layer, units_u) for layer in layers_u]]
    owner = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    flat = np.empty(len(owner), dtype=object)
    flat[:] = [g for part in parts for g in part]
    land = raster.land_area is not None
    reported: np.ndarray = np.zeros(len(parts))
    if flat.size:
        if land:  # the region outside covers water first; the layers' parts land first
            region = owner == 0
            people = np.zeros(len(flat))
            people[region] = engine.sums(flat[region], raster, land_rule="water-first").people
            people[~region] = engine.sums(flat[~region], raster).people
        else:
            people = engine.sums(flat, raster).people
        reported = np.bincount(owner, people, len(parts))
    checked: np.ndarray = reported
    wholes = [total_pop] + [u.total.people for u in layers_u]
    if land and flat.size:
        checked = np.bincount(
            owner, engine.sums(flat, raster, **plain_rule(raster)).people, len(parts)
        )
        pieces = [list(u.pieces) for u in layers_u]
        owner_w = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
        arr = np.empty(len(owner_w), dtype=object)
        arr[:] = [g for p in pieces for g in p]
        if arr.size:
            wholes = [
                total_pop,
                *np.bincount(
                    owner_w, engine.sums(arr, raster, **plain_rule(raster)).people, len(pieces)
                ),
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
