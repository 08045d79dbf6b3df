"""Geometry repairs and exclusions, each stated per row: invalid geometries made valid,
null, empty, NaN and impossible rows excluded, points with a size made circles.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from .crs import transform_geoms
from .errors import CRSError, InputError, InvalidGeometryError, RepairWarning
from .geometry import polygonal_parts
from .loadreport import LoadReport
from .schema import AREA_COLUMNS, AREA_UNITS, RADIUS_COLUMNS, UNITLESS_AREA_COLUMNS, column_key
from .shapes import RADIUS, build_circles


# --------------------------------------------------------------------------- geometry
def _implausible_rows(geoms: np.ndarray, crs: CRS) -> dict[int, str]:
    """Rows whose coordinates are impossible in ``crs``, with the reason."""
    out: dict[int, str] = {}
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return out
    idx = np.nonzero(ok)[0]
    b = shapely.bounds(geoms[idx])
    if crs.is_geographic:
        for i, (minx, miny, maxx, maxy) in zip(idx, b, strict=True):
            if abs(miny) > 90 or abs(maxy) > 90:
                out[int(i)] = (
                    f"latitude {miny if abs(miny) > 90 else maxy:.4f} outside ±90 "
                    "(swapped lat/lon, or projected coordinates?)"
                )
            elif minx < -180 or maxx > 360:
                out[int(i)] = f"longitude {minx if minx < -180 else maxx:.4f} outside -180..360"
        return out
    try:
        lonlat = transform_geoms(geoms[idx], crs, "EPSG:4326")
        lb = shapely.bounds(lonlat)
        bad = ~np.isfinite(lb).all(axis=1)
    except (ProjCRSError, ValueError):
        bad = np.ones(len(idx), dtype=bool)
    for i, flag, (minx, miny, maxx, maxy) in zip(idx, bad, b, strict=True):
        if flag:
            out[int(i)] = (
                f"coordinates {minx:.1f}..{maxx:.1f}, {miny:.1f}..{maxy:.1f} "
                f"outside the valid area of {crs.name}"
            )
    return out


def check_coordinates(
    frame: gpd.GeoDataFrame, path: Path, strict: bool = False
) -> gpd.GeoDataFrame:
    """Exclude rows with impossible coordinates; refuse a file where every row is.

    One bad row is one bad row (excluded with its reason). Only a file whose every
    usable row is implausible is refused, with the likely cause (swapped lat/lon,
    projected coordinates labelled as degrees).
    """
    status = frame["load_status"].to_numpy(dtype=object).copy()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = status != "excluded"
    candidates = np.where(usable, geoms, np.array(None, dtype=object))
    bad = _implausible_rows(candidates, CRS.from_user_input(frame.crs))
    if not bad:
        return frame
    if len(bad) == int(usable.sum()):
        _refuse_file(geoms[usable], CRS.from_user_input(frame.crs), path)
    ids = frame["hazard_id"].tolist()
    if strict:
        listing = "; ".join(f"row {i + 1} [{ids[i]}]: {r}" for i, r in list(bad.items())[:10])
        raise InvalidGeometryError(
            f"strict=True: expected possible coordinates in every row, got {len(bad)} "
            f"impossible: {listing}. Fix them in the source, or load without strict to "
            "exclude those rows."
        )
    notes = frame["load_note"].to_numpy(dtype=object).copy()
    for i, reason in bad.items():
        status[i], notes[i] = "excluded", f"impossible coordinates: {reason}"
    out = frame.copy()
    out["load_status"] = status
    out["load_note"] = notes
    return out


def _refuse_file(geoms: np.ndarray, crs: CRS, path: Path) -> None:
    """Every row is implausible: say why, as a whole."""
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    if crs.is_geographic:
        if abs(miny) > 90 or abs(maxy) > 90:
            if max(abs(minx), abs(maxx)) <= 90 and max(abs(miny), abs(maxy)) <= 180:
                raise CRSError(
                    f"{path.name}: latitudes outside ±90 ({miny:.4f}..{maxy:.4f}) while "
                    f"longitudes are within ±90: the coordinates look like lat/lon swapped. "
                    "Write them as lon, lat (x, y) in the file."
                )
            raise CRSError(
                f"{path.name}: coordinates {minx:.1f}..{maxx:.1f}, {miny:.1f}..{maxy:.1f} are "
                f"outside the valid range of {crs.name} (degrees); they look projected. "
                "Pass the real CRS with crs=... (--hazards-crs), e.g. 'EPSG:32636'."
            )
        raise CRSError(
            f"{path.name}: longitudes {minx:.1f}..{maxx:.1f} are outside -180..180. "
            "Pass the real CRS with crs=... (--hazards-crs) if they are projected."
        )
    raise CRSError(
        f"{path.name}: coordinates {minx:.1f}..{maxx:.1f}, {miny:.1f}..{maxy:.1f} are outside "
        f"the valid area of {crs.name}. Check the CRS; pass the right one with crs=..."
    )


def _non_finite_rows(geoms: np.ndarray) -> set[int]:
    """Rows with a NaN or infinite x or y."""
    ok = np.array([g is not None for g in geoms], dtype=bool)
    if not ok.any():
        return set()
    idx = np.nonzero(ok)[0]
    xy, owner = shapely.get_coordinates(geoms[idx], return_index=True)
    bad = ~np.isfinite(xy).all(axis=1)
    return {int(idx[j]) for j in np.unique(owner[bad])}


def repair_one(geom: shapely.Geometry | None) -> tuple[shapely.Geometry | None, str, str, bool]:
    """One geometry repaired: ``(geometry, "ok" | "repaired" | "excluded", why, had Z/M)``.

    Z/M dropped; a GeometryCollection keeps its polygonal parts (or, without any, its
    lines or points); an invalid geometry is made valid with ``make_valid``, keeping the
    polygonal parts of a polygonal input, or excluded when no area is left.
    """
    if geom is None:
        return None, "excluded", "no geometry (null)", False
    if geom.is_empty:
        return geom, "excluded", "empty geometry", False
    had_z = bool(shapely.has_z(geom))
    g = shapely.force_2d(geom) if had_z else geom
    kind = g.geom_type
    notes = []
    if kind == "GeometryCollection":
        poly = polygonal_parts(g)
        parts = shapely.get_parts(g)
        if not poly.is_empty:
            dropped = [p.geom_type for p in parts if p.geom_type not in ("Polygon", "MultiPolygon")]
            if dropped:
                notes.append(f"GeometryCollection: kept polygonal parts, dropped {dropped}")
            g = poly
        else:
            lines = [p for p in parts if "LineString" in p.geom_type]
            points = [p for p in parts if "Point" in p.geom_type]
            g = shapely.union_all(lines) if lines else shapely.union_all(points)
            notes.append("GeometryCollection without polygons: kept its lines or points")
    if not g.is_valid:
        reason = shapely.is_valid_reason(g)
        fixed = shapely.make_valid(g)
        if kind in ("Polygon", "MultiPolygon", "GeometryCollection"):
            fixed = polygonal_parts(fixed)
        if fixed.is_empty:
            return (
                g,
                "excluded",
                f"invalid geometry ({reason}) with no area left after repair",
                had_z,
            )
        notes.append(f"invalid geometry ({reason}) repaired with make_valid")
        g = fixed
    return g, ("repaired" if notes else "ok"), "; ".join(notes), had_z


def repair_geometries(
    frame: gpd.GeoDataFrame,
    report: LoadReport,
    strict: bool,
    bad_rows: list[int],
    decode_fixed: dict[int, bool] | None = None,
) -> gpd.GeoDataFrame:
    """Repair or exclude each row's geometry, stating why per row; ``strict`` refuses instead."""
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    status = np.array(["ok"] * len(frame), dtype=object)
    notes = np.array([""] * len(frame), dtype=object)
    ids = frame["hazard_id"].tolist()
    repairs: list[str] = []
    line = 2 if report.driver == "CSV" else None
    for i in bad_rows:
        where = f" (line {i + line} of the CSV)" if line else ""
        status[i], notes[i] = "excluded", f"geometry text could not be parsed{where}"
    for i, ok in (decode_fixed or {}).items():
        if ok:
            status[i] = "repaired"
            notes[i] = "ring not closed or too short: closed when decoding"
            repairs.append(f"row {i + 1} [{ids[i]}]")
        else:
            status[i], notes[i] = "excluded", "geometry could not be decoded"
    for i in _non_finite_rows(geoms):
        if status[i] != "excluded":
            status[i], notes[i] = "excluded", "a coordinate is NaN or infinite"
    has_z = 0
    for i, geom in enumerate(geoms):
        if status[i] == "excluded":
            continue
        fixed, outcome, note, had_z = repair_one(geom)
        has_z += had_z
        if outcome == "excluded":
            status[i], notes[i] = "excluded", note
            continue
        if outcome == "repaired":
            status[i] = "repaired"
            notes[i] = f"{notes[i]}; {note}" if notes[i] else note
            repairs.append(f"row {i + 1} [{ids[i]}]")
        geoms[i] = fixed
    if has_z:
        report.note(
            f"Z/M values dropped from {has_z} geometr{'y' if has_z == 1 else 'ies'}", warn=True
        )
    if strict:
        problems = [
            f"row {i + 1} [{ids[i]}]: {notes[i]}" for i in range(len(geoms)) if status[i] != "ok"
        ]
        if problems:
            raise InvalidGeometryError(
                "strict=True: expected every geometry valid, got "
                f"{len(problems)} to repair or exclude: "
                + "; ".join(problems[:10])
                + ". Fix them in the source, or load without strict to repair and report."
            )
    if repairs:
        warnings.warn(
            f"{len(repairs)} hazard geometr{'y was' if len(repairs) == 1 else 'ies were'} "
            f"repaired: {', '.join(repairs[:10])}"
            + (" ..." if len(repairs) > 10 else "")
            + ". See the load report.",
            RepairWarning,
            stacklevel=3,
        )
    out = frame.copy()
    out["load_status"] = status
    out["load_note"] = notes
    out = out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    return out


def points_to_circles(
    frame: gpd.GeoDataFrame,
    report: LoadReport,
    radius_column: str | None,
    area_column: str | None,
    area_unit: str = "m2",
    build: bool = True,
) -> gpd.GeoDataFrame:
    """Points with a radius or an area (in a stated unit) become circles built in metres
    (``build=False``: they stay points, the radius in metres in :data:`~geomines.shapes.
    RADIUS`, for :mod:`geomines.shapes` to build their circles where they are used).
    """
    keys = {column_key(c): c for c in frame.columns}
    rcol = radius_column or next((keys[k] for k in RADIUS_COLUMNS if k in keys), None)
    if area_unit not in AREA_UNITS:
        raise InputError(f"Expected area_unit among {tuple(AREA_UNITS)}, got {area_unit!r}.")
    acol, factor = area_column, AREA_UNITS[area_unit]
    if acol is not None and acol not in frame.columns:
        raise InputError(
            f"area_column {acol!r} not found; columns are "
            f"{[c for c in frame.columns if c != frame.geometry.name]}."
        )
    if acol is None:
        for k, f in AREA_COLUMNS.items():
            if k in keys:
                acol, factor = keys[k], f
                break
    is_point = np.array([g is not None and g.geom_type == "Point" for g in frame.geometry])
    unitless = next((keys[k] for k in UNITLESS_AREA_COLUMNS if k in keys), None)
    if acol is None and unitless is not None and is_point.any():
        report.note(
            f"column {unitless!r} looks like an area but names no unit: ignored (units "
            "are never guessed). Map it with area_column=..., area_unit='m2'|'ha'|'km2' "
            "(--area-column, --area-unit), or name it area_m2, area_ha or area_km2.",
            warn=True,
        )
    if rcol is None and acol is None:
        return frame
    if not is_point.any():
        return frame
    radius = (
        pd.to_numeric(frame[rcol], errors="coerce").to_numpy(dtype=float)
        if rcol is not None
        else np.full(len(frame), np.nan)
    )
    if acol is not None:
        area = pd.to_numeric(frame[acol], errors="coerce").to_numpy(dtype=float) * factor
        from_area = ~np.isfinite(radius) & np.isfinite(area)
        radius = np.where(from_area, np.sqrt(np.clip(area, 0, None) / math.pi), radius)
    status = frame["load_status"].to_numpy(dtype=object).copy()
    notes = frame["load_note"].to_numpy(dtype=object).copy()
    make = is_point & np.isfinite(radius) & (radius > 0) & (status != "excluded")
    bad = is_point & np.isfinite(radius) & (radius < 0)
    for i in np.nonzero(bad)[0]:
        status[i], notes[i] = "excluded", f"negative radius or area ({radius[i]})"
    source = (f" (column {rcol!r})" if rcol else "") + (
        f" or area (column {acol!r}, radius = sqrt(area/π))" if acol else ""
    )
    out = frame.copy()
    out["load_status"] = status
    out["load_note"] = notes
    if not build:
        out[RADIUS] = np.where(make, radius, np.nan)
        if make.any():
            report.note(
                f"{int(make.sum())} point record(s) with a radius{source} kept as points, "
                f"the radius in {RADIUS!r}: their circles are built in metres where used"
            )
        return out
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    if make.any():
        geoms[make] = build_circles(geoms[make], radius[make], frame.crs)
        report.note(
            f"{int(make.sum())} point record(s) turned into circles of their radius{source}"
            ", built in metres"
        )
    return out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
