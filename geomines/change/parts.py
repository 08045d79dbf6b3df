"""The parts of a change: each hazard's story, the status transitions, the released land
split by how it was released, and the change by admin unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..assessment.result import Assessment, ring_column
from ..crs import move_to_grid
from ..engine.executors import map_threads
from ..engine.rings import area_m2
from ..io.population import PopulationRaster
from ..shapes import hazard_shapes, with_shapes

__all__ = [
    "by_admin",
    "hazard_table",
    "id_lists",
    "intersect_pieces",
    "land_frame",
    "minus_pieces",
    "released_land",
    "transitions",
]

#: After-statuses that say how land was released, in the order they claim it (IMAS 07.11).
RELEASE_STATUSES = ("cleared", "reduced", "cancelled")


def _groups(pieces: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Pieces that touch any of ``others``, and the positions of those they touch."""
    if pieces.size == 0 or others.size == 0:
        return np.array([], dtype=np.int64), []
    piece_idx, other_idx = shapely.STRtree(others).query(pieces, predicate="intersects")
    if piece_idx.size == 0:
        return np.array([], dtype=np.int64), []
    order = np.argsort(piece_idx, kind="stable")
    piece_idx, other_idx = piece_idx[order], other_idx[order]
    starts = np.r_[0, np.flatnonzero(np.diff(piece_idx)) + 1]
    return piece_idx[starts], np.split(other_idx, starts[1:])


def _apply(pieces: np.ndarray, others: np.ndarray, op: Any, untouched: Any) -> np.ndarray:
    """``op(piece, union of the others touching it)`` per piece, in order (empties kept)."""
    hit, groups = _groups(pieces, others)
    out = np.array([untouched(g) for g in pieces], dtype=object)
    tasks = list(range(len(hit)))

    def run(k: int) -> shapely.Geometry:
        return op(pieces[hit[k]], shapely.union_all(others[groups[k]]))

    for k, geom in zip(tasks, map_threads(run, tasks), strict=True):
        out[hit[k]] = geom
    return out


def _non_empty(geoms: np.ndarray) -> np.ndarray:
    return np.array([g for g in geoms if g is not None and not g.is_empty], dtype=object)


def minus_pieces(pieces: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Each piece minus the union of the ``others`` that touch it (empties dropped)."""
    return _non_empty(_apply(pieces, others, shapely.difference, lambda g: g))


def intersect_pieces(pieces: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Each piece within the union of the ``others`` that touch it (empties dropped)."""
    return _non_empty(_apply(pieces, others, shapely.intersection, lambda g: None))


def on_grid(frame: gpd.GeoDataFrame, raster: PopulationRaster) -> np.ndarray:
    """The frame's usable geometries moved onto the raster's grid (others empty)."""
    out = np.array([shapely.Polygon()] * len(frame), dtype=object)
    usable = (frame["load_status"] != "excluded").to_numpy()
    if usable.any():
        out[usable] = move_to_grid(
            hazard_shapes(frame)[usable],  # point records' circles built
            frame.crs,
            raster.crs,
            raster.bounds,
        )
    return out


def _first_by_key(frame: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    out = frame.assign(_key=keys.to_numpy())
    return out.drop_duplicates("_key").set_index("_key")


def hazard_table(
    before: Assessment,
    after: Assessment,
    keys: dict[str, pd.Series],
    after_pieces: np.ndarray,
    raster: PopulationRaster,
    engine: Any,
) -> pd.DataFrame:
    """One row per hazard id: statuses, areas, people inside before and after, and the
    people of its before geometry outside the after set (``people_released_inside``).
    """
    hb, ha = with_shapes(before.hazards), with_shapes(after.hazards)
    b, a = _first_by_key(hb, keys["before"]), _first_by_key(ha, keys["after"])
    ids = list(dict.fromkeys([*b.index, *a.index]))
    table = pd.DataFrame({"hazard_id": ids})
    for side, frame in (("before", b), ("after", a)):
        table[f"status_{side}"] = frame["status"].reindex(ids).fillna("").to_numpy()
        table[f"counted_{side}"] = frame["counted"].reindex(ids).fillna(False).to_numpy(bool)
        table[f"area_{side}_m2"] = frame["area_m2"].reindex(ids).to_numpy(float)
        table[f"people_inside_{side}"] = frame["people_inside"].reindex(ids).to_numpy(float)
    released = np.zeros(len(hb))
    counted = hb["counted"].to_numpy(bool)
    if counted.any():
        # every hazard minus the after set in one pass (one index of the after pieces)
        rest = _apply(on_grid(hb, raster)[counted], after_pieces, shapely.difference, lambda g: g)
        kept = ~(shapely.is_missing(rest) | shapely.is_empty(rest))
        if kept.any():
            positions = np.nonzero(counted)[0][kept]
            released[positions] = engine.sums(rest[kept], raster).people
    by_key = pd.Series(released, index=keys["before"].to_numpy())
    by_key = by_key[~by_key.index.duplicated()]
    table["people_released_inside"] = by_key.reindex(ids).fillna(0.0).to_numpy()
    table["geometry_changed"] = _changed(b, a, ids)
    return table


def _changed(b: pd.DataFrame, a: pd.DataFrame, ids: list[str]) -> np.ndarray:
    """Whether a hazard in both snapshots covers a different area (topologically)."""
    both = [i for i in ids if i in b.index and i in a.index]
    out = pd.Series(False, index=ids)
    if both:
        gb = gpd.GeoSeries(b.loc[both, "geometry"].to_numpy(), crs=b["geometry"].crs)
        ga = gpd.GeoSeries(a.loc[both, "geometry"].to_numpy(), crs=a["geometry"].crs)
        ga = ga.to_crs(gb.crs) if ga.crs != gb.crs else ga
        valid = shapely.make_valid(gb.values), shapely.make_valid(ga.values)
        out.loc[both] = ~shapely.equals(*valid)
    return out.to_numpy(bool)


def transitions(table: pd.DataFrame) -> pd.DataFrame:
    """Status transitions (``open → cleared``, ``absent → open``...) with the number of
    hazards, their areas before and after, and how many changed geometry.
    """
    frame = table.assign(
        transition=table["status_before"].replace("", "absent")
        + " → "
        + table["status_after"].replace("", "absent")
    )
    out = frame.groupby("transition", sort=True).agg(
        hazards=("hazard_id", "size"),
        area_before_m2=("area_before_m2", "sum"),
        area_after_m2=("area_after_m2", "sum"),
        geometry_changed=("geometry_changed", "sum"),
        people_released_inside=("people_released_inside", "sum"),
    )
    return out.reset_index()


def id_lists(table: pd.DataFrame) -> dict[str, list[str]]:
    """Matched ids, ids released (counted before, not after), new ids (after only)..."""
    ids = table["hazard_id"].astype(str)
    in_b, in_a = table["status_before"] != "", table["status_after"] != ""
    return {
        "matched": ids[in_b & in_a].tolist(),
        "released": ids[table["counted_before"] & ~table["counted_after"]].tolist(),
        "new": ids[~in_b & in_a].tolist(),
        "only_before": ids[in_b & ~in_a].tolist(),
        "only_after": ids[~in_b & in_a].tolist(),
    }


def land_frame(
    groups: Sequence[np.ndarray],
    labels: Sequence[str],
    raster: PopulationRaster,
    engine: Any,
) -> gpd.GeoDataFrame:
    """One dissolved (multi)polygon per group of disjoint pieces, with its people and
    area, in EPSG:4326 (empty groups dropped).
    """
    rows, geoms = [], []
    for pieces, name in zip(groups, labels, strict=True):
        if pieces.size == 0:
            continue
        people = float(np.sum(engine.sums(pieces, raster).people))
        polys = [p for p in shapely.get_parts(pieces) if p.geom_type == "Polygon"]
        rows.append({"transition": name, "people": people})
        geoms.append(shapely.MultiPolygon(polys) if polys else shapely.Polygon())
    frame = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["transition", "people"]),
        geometry=gpd.GeoSeries(geoms, crs=raster.crs),
    )
    frame = frame.to_crs(4326)
    frame["area_m2"] = area_m2(frame.geometry) if len(frame) else []
    return frame


def released_land(
    released: np.ndarray,
    after: Assessment,
    raster: PopulationRaster,
    engine: Any,
    statuses: Sequence[str],
) -> gpd.GeoDataFrame:
    """The released land split by how it was released: the after snapshot's cleared,
    reduced, then cancelled features claim the land they cover (in that order); the
    rest is released with no record of how.
    """
    frame = after.hazards
    grid = on_grid(frame, raster)
    before_label = "/".join(statuses)
    remaining, groups, labels = released, [], []
    for status in RELEASE_STATUSES:
        cover = grid[(frame["status"] == status).to_numpy()]
        if cover.size == 0 or remaining.size == 0:
            continue
        groups.append(intersect_pieces(remaining, cover))
        labels.append(f"{before_label} → {status}")
        remaining = minus_pieces(remaining, cover)
    groups.append(remaining)
    labels.append(f"{before_label} → not recorded")
    return land_frame(groups, labels, raster, engine)


def _per_unit(units: np.ndarray, pieces: np.ndarray, raster: PopulationRaster, engine: Any):
    if pieces.size == 0:
        return np.zeros(len(units))
    unit_idx, piece_idx = shapely.STRtree(pieces).query(units, predicate="intersects")
    if unit_idx.size == 0:
        return np.zeros(len(units))
    parts = shapely.intersection(units[unit_idx], pieces[piece_idx])
    return np.bincount(unit_idx, engine.sums(parts, raster).people, len(units))


def by_admin(
    before: Assessment,
    after: Assessment,
    pieces: dict[str, tuple[np.ndarray, np.ndarray]],
    raster: PopulationRaster,
    engine: Any,
) -> pd.DataFrame | None:
    """Per admin unit and layer: before, after, released and newly exposed people."""
    if before.by_admin is None or after.by_admin is None or before.admin is None:
        return None
    units = move_to_grid(
        np.asarray(shapely.make_valid(before.admin.geometry.values), dtype=object),
        before.admin.crs,
        raster.crs,
        raster.bounds,
    )
    tb, ta = before.by_admin.iloc[:-1], after.by_admin.iloc[:-1]
    out = tb[["admin_id", "admin_name"]].reset_index(drop=True)
    for name, (gone, new) in pieces.items():
        column = "people_inside" if name == "inside" else ring_column(float(name))
        label = "inside" if name == "inside" else f"within_{name}m"
        out[f"{label}_before"] = tb[column].to_numpy()
        out[f"{label}_after"] = ta[column].to_numpy()
        out[f"{label}_released"] = _per_unit(units, gone, raster, engine)
        out[f"{label}_newly_exposed"] = _per_unit(units, new, raster, engine)
    return out
