"""Geometry helpers shared by every stage, written once: the polygonal part of a geometry
(what holds people), and cutting geometries to a rectangle robustly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException

__all__ = ["clip_rect", "polygonal", "polygonal_array", "polygonal_parts", "valid_polygonal"]

POLYGONAL = ("Polygon", "MultiPolygon")


def polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygonal part of a geometry, or None when it has no area.

    Polygons and multipolygons as they are; the polygons of a GeometryCollection
    unioned; points and lines (and collections of them) None.
    """
    if geom is None or geom.is_empty:
        return None
    kind = geom.geom_type
    if kind in POLYGONAL:
        return geom
    if kind == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL and not g.is_empty]
        if parts:
            return shapely.union_all(parts) if len(parts) > 1 else parts[0]
    return None


def polygonal_parts(geom: shapely.Geometry) -> shapely.Geometry:
    """:func:`polygonal`, with an empty polygon for no area."""
    return polygonal(geom) or shapely.Polygon()


def polygonal_array(geoms: np.ndarray) -> np.ndarray:
    """:func:`polygonal` of each geometry (None where there is no area)."""
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        out[i] = polygonal(g)
    return out


def valid_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Invalid geometries made valid (polygons keep their polygonal parts); others as they are."""
    geoms = np.asarray(geoms, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return geoms
    idx = np.nonzero(ok)[0]
    bad = idx[~shapely.is_valid(geoms[idx])]
    if bad.size == 0:
        return geoms
    out = geoms.copy()
    for i in bad:
        fixed = shapely.make_valid(geoms[i])
        out[i] = polygonal_parts(fixed) if geoms[i].geom_type in POLYGONAL else fixed
    return out


def clip_rect(geoms: Any, xmin: float, ymin: float, xmax: float, ymax: float) -> Any:
    """Geometries cut to a rectangle (one geometry or an array).

    GEOS's fast rectangle clipping, or, where it fails on a valid geometry (it can
    raise "Invalid number of points in LinearRing" on some multipolygons), the
    general intersection with the rectangle, which gives the same set.
    """
    try:
        return shapely.clip_by_rect(geoms, xmin, ymin, xmax, ymax)
    except GEOSException:
        box = shapely.box(xmin, ymin, xmax, ymax)
        if isinstance(geoms, np.ndarray):
            return np.array([clip_rect(g, xmin, ymin, xmax, ymax) for g in geoms], dtype=object)
        return shapely.intersection(geoms, box)
