"""Buffers in true metres on the ground, and exclusive distance bands.

A buffer is never built in degrees, nor in a world projection whose distances
are distorted (Mollweide, Web Mercator). Each geometry is buffered in an
azimuthal equidistant projection centred near it: geometries are grouped into
cells of 0.5° (by the centre of their bounding box) and each cell gets one
projection centred on the cell, so every geometry's centre lies within ~40 km of
its projection's centre, where the projection's distance error is below 2e-5.
The centre depends only on the cell, so a hazard's buffer never depends on which
other hazards were buffered with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from pyproj import CRS, Transformer

from ._parallel import map_threads
from .errors import InputError

__all__ = ["area_m2", "buffer_m", "buffers_m", "densify", "format_m", "move_to_grid",
           "parse_rings", "split_antimeridian", "transform_geoms", "unwrap_antimeridian",
           "wrap_longitudes"]

#: Longest edge, in degrees, of lon/lat geometries moved into another CRS: an edge is
#: straight in lon/lat (RFC 7946), so it is densified before its vertices are moved.
DENSIFY_DEG = 0.01
#: Longest edge, in metres, of projected geometries moved into another CRS.
DENSIFY_M = 1000.0

#: Size, in degrees, of the clusters that share one local projection.
CLUSTER_DEG = 0.5
#: Segments per quarter circle of a buffer (64 per full circle).
QUAD_SEGS = 16

_WGS84 = CRS.from_epsg(4326)
R = TypeVar("R")


def format_m(distance_m: float) -> str:
    """A distance in metres as text, one rule for every key, column and label.

    Whole metres without decimals, others in plain positional notation (never an
    exponent): ``500``, ``2.5``, ``1500000``.

    Examples
    --------
    >>> format_m(500.0), format_m(2.5), format_m(1.5e6), format_m(0.1)
    ('500', '2.5', '1500000', '0.1')
    """
    d = float(distance_m)
    if d.is_integer():
        return str(int(d))
    return np.format_float_positional(d, trim="-")


def parse_rings(rings: str | Sequence[float] | None) -> tuple[float, ...]:
    """Ring distances in metres, sorted, from ``"500,1000,5000"`` or a sequence.

    Raises
    ------
    InputError
        A distance is not a positive finite number, or one is repeated.
    """
    if rings is None:
        return ()
    items = [x for x in rings.replace(";", ",").split(",") if x.strip()] if isinstance(
        rings, str) else list(rings)
    out = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise InputError(
                f"Expected ring distances in metres such as '500,1000,5000', got {item!r}."
            ) from None
        if not np.isfinite(value) or value <= 0:
            raise InputError(f"Ring distances must be positive metres, got {item!r}.")
        out.append(value)
    if len(set(out)) != len(out):
        raise InputError(f"Ring distances must be distinct, got {items}.")
    return tuple(sorted(out))


@lru_cache(maxsize=256)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst),
                                always_xy=True)


def _crs_key(crs: Any) -> str:
    return CRS.from_user_input(crs).to_wkt()


def _apply(geoms: np.ndarray, transformer: Transformer, inverse: bool = False) -> np.ndarray:
    direction = "INVERSE" if inverse else "FORWARD"

    def _tr(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1], direction=direction)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _tr)


def _apply_via_lonlat(geoms: np.ndarray, local: Transformer, to_dst: Transformer
                      ) -> np.ndarray:
    """Local plane → lon/lat → ``to_dst``, point by point (no lon/lat geometry between)."""

    def _tr(xy: np.ndarray) -> np.ndarray:
        lon, lat = local.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
        x, y = to_dst.transform(lon, lat)
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
    if c.is_geographic:
        step = DENSIFY_DEG
    else:
        factor = c.axis_info[0].unit_conversion_factor if c.axis_info else 1.0
        step = DENSIFY_M / (factor or 1.0)
    return shapely.segmentize(np.asarray(geoms, dtype=object), step)


def transform_geoms(geoms: np.ndarray, src: Any, dst: Any, *, dense: bool = False
                    ) -> np.ndarray:
    """Move an array of shapely geometries from one CRS to another (x/y order).

    ``dense=True`` densifies the edges first (:func:`densify`), so that polygons keep
    their footprint in a CRS where the source's straight edges are curves.
    """
    if CRS.from_user_input(src) == CRS.from_user_input(dst):
        return geoms
    if dense:
        geoms = densify(geoms, src)
    return _apply(geoms, _transformer(_crs_key(src), _crs_key(dst)))


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
            piece = shapely.clip_by_rect(g, lo, -90, lo + 360, 90)
            if not piece.is_empty:
                parts.append(shapely.affinity.translate(piece, -360 * k))
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def move_to_grid(geoms: np.ndarray, src: Any, dst: Any,
                 bounds: tuple[float, float, float, float]) -> np.ndarray:
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
        moved = _valid_polygonal(moved)
    return moved


def _valid_polygonal(geoms: np.ndarray) -> np.ndarray:
    """Invalid polygons made valid (their polygonal parts), others untouched."""
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
        if geoms[i].geom_type in ("Polygon", "MultiPolygon"):
            parts = [p for p in shapely.get_parts(fixed)
                     if p.geom_type in ("Polygon", "MultiPolygon")]
            fixed = shapely.union_all(parts) if parts else shapely.Polygon()
        out[i] = fixed
    return out


@lru_cache(maxsize=4096)
def _aeqd(lon: float, lat: float) -> Transformer:
    """WGS 84 lon/lat (degrees) to an azimuthal equidistant plane (metres) at lon, lat."""
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={lat:.6f} +lon_0={lon:.6f} +ellps=WGS84"
    )


def buffers_m(
    geoms: gpd.GeoSeries, distances_m: Sequence[float], *, to_crs: Any = None
) -> list[gpd.GeoSeries]:
    """Buffer each geometry by several distances in metres on the ground.

    Each geometry is projected once into the azimuthal equidistant plane of its
    cluster (see module notes), buffered by every distance there, and moved
    into ``to_crs`` (default: the input's CRS).

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries in any CRS (with a CRS set). Points and lines are valid.
    distances_m : sequence of float
        Distances in metres.
    to_crs : CRS-like, optional
        CRS of the returned buffers.

    Returns
    -------
    list of geopandas.GeoSeries
        The buffers for each distance, in order, index preserved; null or empty
        inputs give empty polygons.
    """
    if geoms.crs is None:
        raise InputError("Expected geometries with a CRS to buffer in metres, got none.")
    n = len(geoms)
    dists = [np.broadcast_to(np.asarray(d, dtype=float), (n,)) for d in distances_m]
    dst = CRS.from_user_input(to_crs) if to_crs is not None else CRS.from_user_input(geoms.crs)
    to_dst = None if dst == _WGS84 else _transformer(_crs_key(_WGS84), _crs_key(dst))

    def run(lonlat: np.ndarray, idx: np.ndarray, lon: float, lat: float) -> list[np.ndarray]:
        local = _aeqd(lon, lat)
        projected = _apply(lonlat, local)
        result = []
        for dist in dists:
            buffered = shapely.buffer(projected, dist[idx], quad_segs=QUAD_SEGS)
            if to_dst is not None and not dst.is_geographic:
                # straight into the projected CRS, vertex by vertex: a buffer around a
                # pole has no lon/lat polygon to pass through
                dense = shapely.segmentize(buffered, DENSIFY_M)
                result.append(_valid_polygonal(_apply_via_lonlat(dense, local, to_dst)))
                continue
            back = _unwrap_around(_apply(buffered, local, inverse=True), lon)
            back = split_antimeridian(back)
            result.append(back if to_dst is None else _apply(densify(back, _WGS84), to_dst))
        return result

    outs = [np.array([shapely.Polygon()] * n, dtype=object) for _ in dists]
    for idx, result in _by_cluster(geoms, run):
        for out, back in zip(outs, result, strict=True):
            out[idx] = back
    return [gpd.GeoSeries(out, index=geoms.index, crs=dst) for out in outs]


def _by_cluster(geoms: gpd.GeoSeries, func: Callable[..., R]) -> list[tuple[np.ndarray, R]]:
    """Call ``func(lonlat_geoms, indices, lon, lat)`` per ~CLUSTER_DEG cluster, on threads.

    Null and empty geometries are skipped. Returns ``(indices, result)`` pairs.
    """
    values = np.asarray(geoms.values, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in values], dtype=bool)
    if not ok.any():
        return []
    lonlat = densify(unwrap_antimeridian(transform_geoms(values[ok], geoms.crs, _WGS84,
                                                         dense=True)), _WGS84)
    centres = shapely.centroid(shapely.envelope(lonlat))
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)
    keys = np.floor(np.column_stack([cx, cy]) / CLUSTER_DEG).astype(np.int64)
    idx_ok = np.nonzero(ok)[0]
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = np.asarray(group).reshape(-1)
    order = np.argsort(group, kind="stable")
    clusters = np.split(order, np.flatnonzero(np.diff(group[order])) + 1)

    def run(members: np.ndarray) -> R:
        # the cell's centre, not the members' mean: a hazard's buffer does not depend
        # on which other hazards were buffered with it
        kx, ky = keys[members[0]]
        lon = (kx + 0.5) * CLUSTER_DEG
        lat = min(max((ky + 0.5) * CLUSTER_DEG, -90.0), 90.0)
        return func(lonlat[members], idx_ok[members], lon, lat)

    return [(idx_ok[m], r) for m, r in zip(clusters, map_threads(run, clusters), strict=True)]


def _unwrap_around(geoms: np.ndarray, lon0: float) -> np.ndarray:
    """Shift longitudes by whole turns so each lies within 180° of ``lon0`` (no jumps)."""

    def shift(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        out[:, 0] = xy[:, 0] + 360.0 * np.round((lon0 - xy[:, 0]) / 360.0)
        return out

    return shapely.transform(geoms, shift)


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
        parts = [shapely.clip_by_rect(g, -180, -90, 180, 90),
                 shapely.affinity.translate(shapely.clip_by_rect(g, 180, -90, 540, 90), -360),
                 shapely.affinity.translate(shapely.clip_by_rect(g, -540, -90, -180, 90), 360)]
        parts = [p for p in parts if not p.is_empty]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


@lru_cache(maxsize=4096)
def _laea(lon: float, lat: float) -> Transformer:
    """WGS 84 lon/lat (degrees) to a Lambert azimuthal equal-area plane (metres)."""
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +ellps=WGS84"
    )


def area_m2(geoms: gpd.GeoSeries) -> np.ndarray:
    """Area of each geometry in m², in a local equal-area projection (0 for no area).

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries with a CRS.

    Returns
    -------
    numpy.ndarray
        m² per geometry; NaN for null or empty geometries.
    """
    out = np.full(len(geoms), np.nan)

    def run(lonlat: np.ndarray, idx: np.ndarray, lon: float, lat: float) -> np.ndarray:
        return shapely.area(_apply(lonlat, _laea(lon, lat)))

    for idx, areas in _by_cluster(geoms, run):
        out[idx] = areas
    return out


def buffer_m(
    geoms: gpd.GeoSeries, distance_m: float | np.ndarray, *, to_crs: Any = None
) -> gpd.GeoSeries:
    """Buffer each geometry by a distance in metres on the ground.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries in any CRS (with a CRS set). Points and lines are valid.
    distance_m : float or array of float
        Buffer distance in metres (one, or one per geometry), applied in a local
        azimuthal equidistant projection around each cluster of geometries.
    to_crs : CRS-like, optional
        Return the buffers in this CRS (default: the input's).

    Returns
    -------
    geopandas.GeoSeries
        The buffers, index preserved. Null or empty geometries give empty polygons.
    """
    return buffers_m(geoms, [distance_m], to_crs=to_crs)[0]
