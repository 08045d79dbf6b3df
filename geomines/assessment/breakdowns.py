"""Breakdowns of the dissolved numbers: by admin unit (with the people outside every
unit, counted from its own geometry), by land class × contamination × status, by
class precedence, and the exclusive bands.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..crs import move_to_grid, to_lonlat
from ..engine.executors import map_array
from ..engine.local import Engine
from ..engine.rings import format_m
from ..engine.unions import UnionSum
from ..errors import CRSError, InputError
from ..io.population import PopulationRaster
from ..io.vector import read_vector
from .checks import band_parts, outside_region, plain_rule, tile_differences
from .records import Reconciliation
from .result import ring_column


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


#: Land classes from highest to lowest: a person covered by several is counted once,
#: in the highest.
CLASS_PRECEDENCE = ("CHA", "SHA", "other")


def _rank(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Each hazard's rank in :data:`CLASS_PRECEDENCE` (0 = CHA)."""
    classes = frame["land_class"].to_numpy(dtype=object)
    return np.where(classes == "CHA", 0, np.where(classes == "SHA", 1, 2))


def precedence_masks(frame: gpd.GeoDataFrame, counted: np.ndarray) -> dict[str, np.ndarray]:
    """The counted hazards of each precedence level but the last: ``level0`` (CHA),
    ``level1`` (CHA or SHA), ...
    """
    rank = _rank(frame)
    return {f"level{k}": counted & (rank <= k) for k in range(len(CLASS_PRECEDENCE) - 1)}


def groups_making(
    mask: np.ndarray, groups: list[tuple[tuple[Any, ...], np.ndarray]]
) -> list[int] | None:
    """The groups whose members are exactly the hazards in ``mask``, or None when the
    groups do not split that way (a group partly in, or a hazard in no group).
    """
    chosen, covered = [], np.zeros(len(mask), dtype=bool)
    for k, (_key, pos) in enumerate(groups):
        inside = mask[pos]
        if inside.all() and pos.size:
            chosen.append(k)
            covered[pos] = True
        elif inside.any():
            return None
    return chosen if np.array_equal(covered, mask) else None


def precedence_table(
    frame: gpd.GeoDataFrame,
    geoms_r: np.ndarray,
    counted: np.ndarray,
    union_u: UnionSum,
    rings: tuple[float, ...],
    ring_u: dict[float, UnionSum],
    raster: PopulationRaster,
    engine: Engine,
    known: Sequence[UnionSum | None] = (),
) -> tuple[pd.DataFrame, list[UnionSum]]:
    """People by land class with precedence (CHA over SHA over other over ring bands).

    ``N(CHA)``, ``N(CHA ∪ SHA) − N(CHA)``, ``N(all) − N(CHA ∪ SHA)``, then the
    exclusive ring bands: the rows add up to the people within the largest ring.
    ``known``: the levels' unions where already built (from the class groups' unions).
    """
    rank = _rank(frame)
    rows = []
    previous = 0.0
    masks = list(precedence_masks(frame, counted).values())
    given = list(known) + [None] * (len(masks) - len(known))
    missing = [k for k, u in enumerate(given) if u is None]
    built = engine.unions([geoms_r[masks[k]] for k in missing], raster) if missing else []
    for k, union in zip(missing, built, strict=True):
        given[k] = union
    levels = [u for u in given if u is not None]
    for level, name in enumerate(CLASS_PRECEDENCE):
        if level == len(CLASS_PRECEDENCE) - 1:
            people = union_u.total.people
        else:
            people = levels[level].total.people
        rows.append(
            {
                "part": f"inside {name}",
                "from_m": None,
                "to_m": 0.0,
                "people": people - previous,
                "hazards": int((counted & (rank == level)).sum()),
            }
        )
        previous = people
    prev_d = 0.0
    for d in rings:
        people = ring_u[d].total.people
        rows.append(
            {
                "part": f"{format_m(prev_d)}-{format_m(d)} m",
                "from_m": prev_d,
                "to_m": d,
                "people": people - previous,
                "hazards": None,
            }
        )
        previous, prev_d = people, d
    return pd.DataFrame(rows), levels


def class_groups(
    frame: gpd.GeoDataFrame, usable: np.ndarray
) -> list[tuple[tuple[Any, ...], np.ndarray]]:
    """Usable hazards grouped by land class × contamination × status: (key, positions)."""
    keys = ["land_class", "contamination", "status"]
    table = frame.loc[usable, keys]
    return [
        (values if isinstance(values, tuple) else (values,), frame.index.get_indexer(idx))
        for values, idx in table.groupby(keys, sort=True).groups.items()
    ]


def class_table(
    frame: gpd.GeoDataFrame,
    groups: list[tuple[tuple[Any, ...], np.ndarray]],
    columns: dict[str, list[float]],
    rings: tuple[float, ...],
) -> pd.DataFrame:
    """Dissolved people per land class × contamination × status group.

    Each group is dissolved on its own, so a group's numbers count nobody twice;
    groups overlap each other, so they do not add up to the total (see
    :attr:`Assessment.by_precedence` for a breakdown that does).
    """
    keys = ["land_class", "contamination", "status"]
    rows = []
    for k, (values, pos) in enumerate(groups):
        row = dict(zip(keys, values, strict=True))
        row["hazards"] = len(pos)
        row["area_m2"] = float(np.nansum(frame["area_m2"].to_numpy()[pos]))
        for column, people in columns.items():
            row[column] = people[k]
        rows.append(row)
    names = [*keys, "hazards", "area_m2", "people_inside", *[ring_column(d) for d in rings]]
    return pd.DataFrame(rows, columns=names)


def band_frame(
    union: UnionSum,
    rings: tuple[float, ...],
    ring_u: dict[float, UnionSum],
    crs: CRS,
    bands: list[list[shapely.Geometry]] | None = None,
) -> gpd.GeoDataFrame:
    """Exclusive bands: the union, then each ring minus the previous one (tile by tile;
    ``bands``: those pieces when already computed, see :func:`band_parts`).
    """
    names, froms, tos = ["inside"], [np.nan], [0.0]
    people, geoms = [union.total.people], [union.geometry()]
    prev, prev_d = union, 0.0
    pieces = bands if bands is not None else band_parts(union, rings, ring_u)
    for d, parts in zip(rings, pieces, strict=True):
        cur = ring_u[d]
        polys = (
            [
                p
                for p in shapely.get_parts(np.array(parts, dtype=object))
                if p.geom_type == "Polygon" and not p.is_empty
            ]
            if parts
            else []
        )
        names.append(f"{format_m(prev_d)}-{format_m(d)} m")
        froms.append(prev_d)
        tos.append(d)
        people.append(cur.total.people - prev.total.people)
        geoms.append(shapely.MultiPolygon(polys) if polys else shapely.Polygon())
        prev, prev_d = cur, d
    frame = gpd.GeoDataFrame(
        {"band": names, "from_m": froms, "to_m": tos, "people": people},
        geometry=gpd.GeoSeries(geoms, crs=crs),
    )
    return to_lonlat(frame)


def admin_table(
    admin: gpd.GeoDataFrame | str | os.PathLike,
    admin_id: str | None,
    admin_name: str | None,
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
    admin, ids = _checked_units(admin, admin_id, admin_name)
    geoms = move_to_grid(
        np.asarray(shapely.make_valid(admin.geometry.values), dtype=object),
        CRS.from_user_input(admin.crs),
        raster.crs,
        raster.bounds,
    )
    layers_u = [union, *[ring_u[d] for d in rings]]
    per_layer, units_plain = _unit_layers(geoms, layers_u, raster, engine)
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
    geoms: np.ndarray, layers_u: list[UnionSum], raster: PopulationRaster, engine: Engine
) -> tuple[list[np.ndarray], list[float]]:
    """People per unit in the unit itself and in each layer (inside, each ring), counted
    in one pass so that shared windows are prepared once; and the same sums over all
    units with plain weighting, for the check.
    """
    parts = [geoms]
    owner = [np.arange(len(geoms))]
    layer_of = [np.zeros(len(geoms), dtype=np.int64)]
    for k, layer in enumerate(layers_u, start=1):
        if layer.pieces.size == 0:
            continue
        unit_idx, piece_idx = shapely.STRtree(layer.pieces).query(geoms, predicate="intersects")
        # the pairs side by side on the thread pool
        parts.append(map_array(shapely.intersection, geoms[unit_idx], layer.pieces[piece_idx]))
        owner.append(unit_idx)
        layer_of.append(np.full(len(unit_idx), k))
    all_parts = np.concatenate(parts)
    people = engine.sums(all_parts, raster).people
    owner_all, layer_all = np.concatenate(owner), np.concatenate(layer_of)
    per_layer = [
        np.bincount(owner_all[layer_all == k], people[layer_all == k], len(geoms))
        for k in range(len(layers_u) + 1)
    ]
    plain = (
        people
        if raster.land_area is None
        else engine.sums(all_parts, raster, **plain_rule(raster)).people
    )
    return per_layer, [float(plain[layer_all == k].sum()) for k in range(len(layers_u) + 1)]


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
