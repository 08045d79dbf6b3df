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

from ..crs import (
    DENSIFY_M,
    WGS84,
    apply_transform,
    crs_key,
    densify,
    get_transformer,
    metres_per_unit,
    split_antimeridian,
    transform_geoms,
    unwrap_antimeridian,
    wrap_longitudes,
)
from ..errors import InputError
from ..geometry import valid_polygonal
from .executors import map_threads
from .planefit import moved, plane_to_lonlat

#: Size, in degrees, of the clusters that share one local projection.
CLUSTER_DEG = 0.5


#: Segments per quarter circle of a buffer (64 per full circle).
QUAD_SEGS = 16
#: geometries whose areas are computed together (bounds the transient copies)
AREA_CHUNK = 50_000


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
    items = (
        [x for x in rings.replace(";", ",").split(",") if x.strip()]
        if isinstance(rings, str)
        else list(rings)
    )
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


#: largest accepted difference, in metres, of a fitted map into a projected CRS from
#: PROJ's (see :mod:`geomines.engine.planefit`)
TOLERANCE_M = 1e-4


def _apply_via_lonlat(
    geoms: np.ndarray, local: Transformer, to_dst: Transformer, unit_m: float = 1.0
) -> np.ndarray:
    """Local plane → lon/lat → ``to_dst``, point by point (no lon/lat geometry between):
    through a polynomial fitted to PROJ's composite where it is within
    :data:`TOLERANCE_M` of it (``unit_m``: metres per unit of the destination).
    """

    def composite(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        lon, lat = local.transform(x, y, direction="INVERSE")
        return to_dst.transform(lon, lat)

    return moved(geoms, composite, TOLERANCE_M / unit_m)


@lru_cache(maxsize=4096)
def aeqd(lon: float, lat: float) -> Transformer:
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
    to_dst = None if dst == WGS84 else get_transformer(crs_key(WGS84), crs_key(dst))
    unit_m = 1.0 if dst.is_geographic else metres_per_unit(dst)

    def run(lonlat: np.ndarray, idx: np.ndarray, lon: float, lat: float) -> list[np.ndarray]:
        local = aeqd(lon, lat)
        projected = apply_transform(lonlat, local)
        result = []
        for dist in dists:
            buffered = shapely.buffer(projected, dist[idx], quad_segs=QUAD_SEGS)
            if to_dst is not None and not dst.is_geographic:
                # straight into the projected CRS, vertex by vertex: a buffer around a
                # pole has no lon/lat polygon to pass through
                dense = shapely.segmentize(buffered, DENSIFY_M)
                result.append(valid_polygonal(_apply_via_lonlat(dense, local, to_dst, unit_m)))
                continue
            back = _unwrap_around(plane_to_lonlat(buffered, local, lon), lon)
            back = split_antimeridian(back)
            result.append(back if to_dst is None else apply_transform(densify(back, WGS84), to_dst))
        return result

    outs = [np.array([shapely.Polygon()] * n, dtype=object) for _ in dists]
    for idx, result in by_cluster(geoms, run):
        for out, back in zip(outs, result, strict=True):
            out[idx] = back
    return [gpd.GeoSeries(out, index=geoms.index, crs=dst) for out in outs]


def by_cluster(geoms: gpd.GeoSeries, func: Callable[..., R]) -> list[tuple[np.ndarray, R]]:
    """Call ``func(lonlat_geoms, indices, lon, lat)`` per ~CLUSTER_DEG cluster, on threads.

    Null and empty geometries are skipped. Returns ``(indices, result)`` pairs.
    """
    ok, lonlat = lonlat_dense(geoms)
    if not ok.any():
        return []
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


def lonlat_dense(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """The non-null, non-empty geometries in WGS 84 lon/lat, densified and continuous
    across the antimeridian: ``(mask of those rows, their lon/lat geometries)``.
    """
    values = np.asarray(geoms.values, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in values], dtype=bool)
    if not ok.any():
        return ok, values[:0]
    lonlat = densify(
        unwrap_antimeridian(transform_geoms(values[ok], geoms.crs, WGS84, dense=True)), WGS84
    )
    return ok, lonlat


def _unwrap_around(geoms: np.ndarray, lon0: float) -> np.ndarray:
    """Shift longitudes by whole turns so each lies within 180° of ``lon0`` (no jumps)."""

    def shift(xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        out[:, 0] = xy[:, 0] + 360.0 * np.round((lon0 - xy[:, 0]) / 360.0)
        return out

    return shapely.transform(geoms, shift)


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
        return shapely.area(apply_transform(lonlat, _laea(lon, lat)))

    # a chunk at a time: the densified lon/lat copies are held for one chunk, not for
    # every hazard (a geometry's area depends only on its own cluster cell)
    for start in range(0, len(geoms), AREA_CHUNK):
        chunk = geoms.iloc[start : start + AREA_CHUNK]
        for idx, areas in by_cluster(chunk, run):
            out[start + idx] = areas
    return out


def onto_grid(geoms: np.ndarray, raster: Any) -> np.ndarray:
    """Lon/lat geometries moved into a geographic grid's 360° span when it is not
    -180..180 (``raster``: a :class:`~geomines.io.population.PopulationRaster`).
    """
    west, _, east, _ = raster.bounds
    if raster.is_geographic and (west < -180 - 1e-9 or east > 180 + 1e-9):
        return wrap_longitudes(geoms, west)
    return geoms


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
    return buffers_m(geoms, [distance_m], to_crs=to_crs)[0]  # type: ignore[list-item]
