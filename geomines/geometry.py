"""Geometry helpers shared by every stage, written once: the polygonal part of a geometry
(what holds people), and cutting geometries to a rectangle robustly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException

__all__ = [
    "clip_rect",
    "object_array",
    "polygonal",
    "polygonal_array",
    "polygonal_parts",
    "union_polygons",
    "valid_polygonal",
]

POLYGONAL = ("Polygon", "MultiPolygon")


def object_array(items: Any) -> np.ndarray:
    """A 1-D object array of ``items`` (geometries kept as they are, never unpacked)."""
    arr = np.empty(len(items), dtype=object)
    arr[:] = list(items)
    return arr


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


def invalid(geoms: np.ndarray) -> np.ndarray:
    """Which geometries are not valid (OGC rules), safe to call from any thread.

    ``shapely.is_valid`` silences GEOS's notices inside ``warnings.catch_warnings``,
    which is not thread-safe: run in the engine's threads it can leave the caller's
    warning filters replaced (a user's ``catch_warnings(record=True)`` then records
    nothing). The ufunc it wraps, ``shapely.lib.is_valid``, gives the same answer without
    touching them, and releases the GIL (``is_valid_reason`` holds it, making a string
    per geometry: the engine's threads then wait on each other).
    """
    if _IS_VALID is None:  # a shapely without the ufunc: the same answer, slower
        return shapely.is_valid_reason(geoms) != "Valid Geometry"
    return ~_IS_VALID(geoms)


_IS_VALID = getattr(getattr(shapely, "lib", None), "is_valid", None)


def valid_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Invalid geometries made valid (polygons keep their polygonal parts); others as they are."""
    geoms = np.asarray(geoms, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return geoms
    idx = np.nonzero(ok)[0]
    bad = idx[invalid(geoms[idx])]
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


def union_polygons(geoms: Any) -> shapely.Geometry:
    """The union of polygonal geometries: a valid (multi)polygon, empty for none.

    The same set as ``shapely.union_all``, with far less work when many of the
    polygons lie apart (hazards, their pieces in a tile, unions meeting a new batch):
    the polygons are split into groups that touch or overlap each other (connected
    components), each group of two or more is unioned on its own, and a polygon that
    meets no other is kept as it is (made valid if it is not). Groups never meet, so
    their polygons together make a valid multipolygon. Points and lines are dropped:
    they hold no area.
    """
    parts = shapely.get_parts(np.asarray(geoms, dtype=object).reshape(-1))
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    bad = invalid(parts)
    if bad.any():
        parts = np.concatenate([parts[~bad], _polygons(shapely.make_valid(parts[bad]))])
    if parts.size < 2:
        return parts[0] if parts.size else shapely.Polygon()
    tree = shapely.STRtree(parts)
    if _crowded(tree, parts):  # nearly all meet: one union is cheaper than finding groups
        return _as_one(_polygons(shapely.union_all(parts)))
    a, b = tree.query(parts, predicate="intersects")
    pair = a < b
    label = components(len(parts), a[pair], b[pair])
    order = np.argsort(label, kind="stable")
    cuts = np.flatnonzero(np.diff(label[order])) + 1
    out = []
    for group in np.split(order, cuts):
        if group.size == 1:
            out.append(parts[group])
            continue
        out.append(_polygons(shapely.union_all(parts[group])))
    return _as_one(np.concatenate(out))


#: Above this many other polygons' boxes met per polygon (on a sample), the polygons
#: are unioned at once: finding the groups would cost more than it saves.
CROWDED = 8


def _crowded(tree: shapely.STRtree, parts: np.ndarray) -> bool:
    """Whether the polygons' boxes meet many others' (a sample of up to 64 of them)."""
    step = max(1, len(parts) // 64)
    sample = parts[::step]
    hits = tree.query(sample)[0].size - sample.size  # less each one meeting itself
    return hits > CROWDED * sample.size


def _polygons(geoms: Any) -> np.ndarray:
    """The non-empty polygons of geometries (multipolygons split, the rest dropped)."""
    parts = shapely.get_parts(geoms)
    return parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]


def _as_one(polys: np.ndarray) -> shapely.Geometry:
    """Polygons that do not overlap as one geometry: a polygon, a multipolygon or empty."""
    if polys.size == 1:
        return polys[0]
    return shapely.multipolygons(polys) if polys.size else shapely.Polygon()


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes joined by the edges ``(a[i], b[i])``: each
    node's label is the smallest node of its component (label propagation with
    pointer jumping).
    """
    label = np.arange(n)
    while True:
        la, lb = label[a], label[b]
        low = np.minimum(la, lb)
        new = label.copy()
        for idx in (a, b, la, lb):  # the nodes and their labels' nodes take the lower label
            np.minimum.at(new, idx, low)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            return label
        label = new
