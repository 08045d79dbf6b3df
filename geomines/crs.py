"""Coordinate reference systems: one transformer cache, one label, and moving geometries
onto a raster's grid (edges densified, the antimeridian and 0..360 grids handled).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
import shapely.affinity
from pyproj import CRS, Transformer

from .geometry import clip_rect, valid_polygonal

__all__ = [
    "WGS84",
    "apply_transform",
    "crs_key",
    "crs_label",
    "densify",
    "get_transformer",
    "move_to_grid",
    "split_antimeridian",
    "transform_geoms",
    "unwrap_antimeridian",
    "wrap_longitudes",
]


#: Longest edge, in degrees, of lon/lat geometries moved into another CRS: an edge is
#: straight in lon/lat (RFC 7946), so it is densified before its vertices are moved.
DENSIFY_DEG = 0.01


#: Longest edge, in metres, of projected geometries moved into another CRS.
DENSIFY_M = 1000.0


WGS84 = CRS.from_epsg(4326)


@lru_cache(maxsize=256)
def get_transformer(src: str, dst: str) -> Transformer:
    """A cached PROJ transformer between two CRSs given as WKT keys (x/y order)."""
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def crs_key(crs: Any) -> str:
    """A hashable key for a CRS (its WKT), for the transformer cache."""
    return CRS.from_user_input(crs).to_wkt()


def apply_transform(
    geoms: np.ndarray, transformer: Transformer, inverse: bool = False
) -> np.ndarray:
    """Move geometries vertex by vertex with a transformer (forward or inverse)."""
    direction = "INVERSE" if inverse else "FORWARD"

    def _tr(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _tr)


def densify(geoms: np.ndarray, crs: Any) -> np.ndarray:
    """Edges cut to at most :data:`DENSIFY_DEG` (lon/lat) or :data:`DENSIFY_M` (projected).

    An edge is a straight line in its own CRS; moved vertex by vertex into another
    CRS it would become a different line (a polygon written from -180° to 180° at
    80° N would collapse in a polar projection). Densified first, its image follows
    the original edge.
    """
    c = CRS.from_user_input(crs)
    step = DENSIFY_DEG if c.is_geographic else DENSIFY_M / metres_per_unit(c)
    return shapely.segmentize(np.asarray(geoms, dtype=object), step)


def metres_per_unit(crs: Any) -> float:
    """Metres in one unit of a projected CRS's first axis (1 when it does not say)."""
    c = CRS.from_user_input(crs)
    return (c.axis_info[0].unit_conversion_factor if c.axis_info else 1.0) or 1.0


def transform_geoms(geoms: np.ndarray, src: Any, dst: Any, *, dense: bool = False) -> np.ndarray:
    """Move an array of shapely geometries from one CRS to another (x/y order).

    ``dense=True`` densifies the edges first (:func:`densify`), so that polygons keep
    their footprint in a CRS where the source's straight edges are curves.
    """
    if CRS.from_user_input(src) == CRS.from_user_input(dst):
        return geoms
    if dense:
        geoms = densify(geoms, src)
    return apply_transform(geoms, get_transformer(crs_key(src), crs_key(dst)))


def wrap_longitudes(geoms: np.ndarray, west: float) -> np.ndarray:
    """Lon/lat geometries moved into the 360° span ``[west, west + 360)`` of a grid.

    A raster whose longitudes run 0..360 (or any span not starting at -180) holds a
    place at lon -10 at 350: each part of a geometry is shifted by whole turns into
    the grid's span, cut at its seam, so nothing is counted twice or missed.
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return geoms
    b = shapely.bounds(geoms[ok])
    outside = (b[:, 0] < west) | (b[:, 2] > west + 360)
    if not outside.any():
        return geoms
    out = geoms.copy()
    for i in np.nonzero(ok)[0][outside]:
        g = geoms[i]
        gx0, _, gx1, _ = g.bounds
        parts = []
        for k in range(int(np.floor((gx0 - west) / 360)), int(np.floor((gx1 - west) / 360)) + 1):
            lo = west + 360 * k
            piece = clip_rect(g, lo, -90, lo + 360, 90)
            if not piece.is_empty:
                parts.append(shapely.affinity.translate(piece, -360 * k))
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def move_to_grid(
    geoms: np.ndarray, src: Any, dst: Any, bounds: tuple[float, float, float, float]
) -> np.ndarray:
    """Geometries moved into a raster's CRS, ready to be counted on its grid.

    Edges densified (:func:`densify`); in a lon/lat grid, geometries across ±180° split
    there and every longitude moved into the grid's own 360° span (0..360 grids);
    geometries made invalid by the move (a polar cap's seam) made valid again,
    keeping their polygonal parts.
    """
    src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)
    moved = transform_geoms(geoms, src_crs, dst_crs, dense=True)
    if dst_crs.is_geographic:
        moved = split_antimeridian(unwrap_antimeridian(moved))
        west, _, east, _ = bounds
        if west < -180 - 1e-9 or east > 180 + 1e-9:
            moved = wrap_longitudes(moved, west)
    if src_crs != dst_crs:
        moved = valid_polygonal(moved)
    return moved


def unwrap_antimeridian(geoms: np.ndarray) -> np.ndarray:
    """Make lon/lat geometries that cross the antimeridian continuous.

    A geometry whose longitudes span more than 180° is taken to cross the
    antimeridian (as RFC 7946 writers that do not split produce): its negative
    longitudes get 360° added, so it lies around +180° without a jump.
    """
    geoms = np.asarray(geoms, dtype=object)
    b = shapely.bounds(geoms)
    # a polar cap (a polygon reaching a pole) spans every longitude without crossing ±180°
    polar = np.nan_to_num(np.maximum(np.abs(b[:, 1]), np.abs(b[:, 3]))) >= 90 - 1e-9
    wide = (np.nan_to_num(b[:, 2] - b[:, 0]) > 180) & ~polar
    if not wide.any():
        return geoms
    out = geoms.copy()

    def shift(xy: np.ndarray) -> np.ndarray:
        res = xy.copy()
        res[:, 0] = np.where(xy[:, 0] < 0, xy[:, 0] + 360.0, xy[:, 0])
        return res

    out[wide] = shapely.make_valid(shapely.transform(geoms[wide], shift))
    return out


def split_antimeridian(geoms: np.ndarray) -> np.ndarray:
    """Cut lon/lat geometries at ±180° and move the parts beyond back into [-180, 180]."""
    geoms = np.asarray(geoms, dtype=object)
    b = shapely.bounds(geoms)
    beyond = (np.nan_to_num(b[:, 2]) > 180) | (np.nan_to_num(b[:, 0]) < -180)
    if not beyond.any():
        return geoms
    out = geoms.copy()
    for i in np.nonzero(beyond)[0]:
        g = geoms[i]
        parts = [
            clip_rect(g, -180, -90, 180, 90),
            shapely.affinity.translate(clip_rect(g, 180, -90, 540, 90), -360),
            shapely.affinity.translate(clip_rect(g, -540, -90, -180, 90), 360),
        ]
        parts = [p for p in parts if not p.is_empty]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def crs_label(crs: Any) -> str:
    """One label for a CRS everywhere: its authority code (``EPSG:4326``, ``ESRI:54009``)
    when PROJ finds one, else its name.
    """
    c = CRS.from_user_input(crs)
    auth = c.to_authority(min_confidence=70)
    return f"{auth[0]}:{auth[1]}" if auth else c.name


def to_lonlat(frame: Any) -> Any:
    """A GeoDataFrame or GeoSeries in WGS 84 lon/lat: itself when it already is (geopandas'
    ``to_crs`` would copy every vertex), else ``to_crs(4326)``.
    """
    if frame.crs is not None and CRS.from_user_input(frame.crs).equals(WGS84):
        return frame
    return frame.to_crs(4326)
