"""Distances in metres on the ground from each of some geometries to the nearest of others.

Never in degrees. Each source geometry is measured in the azimuthal equidistant
plane of its ~0.5° cluster (as buffers are, :mod:`geomines.engine.rings`): within
~40 km of the plane's centre its distances are true to 2e-5. The distance to the
nearest target is then taken again on the WGS 84 ellipsoid (a geodesic between the
two nearest points found in the plane), so it stays true however far that target is.

Candidates are found in lon/lat with a spatial index and a search box that is
conservative in degrees: the nearest target by degrees gives an upper bound U (in
metres) on the nearest distance, and every target within ``max(U, largest distance
asked)`` metres lies in a box of that many metres converted to degrees with the
smallest length of a degree there. The nearest and the counts are then taken among
those candidates in metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from ..crs import apply_transform
from ..engine.rings import aeqd, by_cluster, lonlat_dense

__all__ = ["GEOD", "Nearest", "nearest"]

GEOD = Geod(ellps="WGS84")

#: Fewest metres in a degree of latitude (at the equator) and of longitude at the
#: equator (WGS 84); a degree of longitude at latitude φ is at least this × cos φ.
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_319.0


@dataclass
class Nearest:
    """For each source: its nearest target and how many targets lie within distances.

    Attributes
    ----------
    index : numpy.ndarray of int
        Position (0-based, in the targets given) of the nearest target; -1 when the
        source is empty or there is no target.
    metres : numpy.ndarray of float
        Metres on the ellipsoid to that target; 0 when they touch or overlap; NaN
        when there is none.
    within : dict of float to numpy.ndarray of int
        For each distance d, the number of targets at most d metres away.
    """

    index: np.ndarray
    metres: np.ndarray
    within: dict[float, np.ndarray]


def nearest(
    sources: gpd.GeoSeries, targets: gpd.GeoSeries, within_m: Sequence[float] = ()
) -> Nearest:
    """The nearest target of each source, in metres on the ground, and counts within.

    Parameters
    ----------
    sources, targets : geopandas.GeoSeries
        Geometries of any type, each with a CRS. Null or empty ones are skipped.
    within_m : sequence of float
        Distances (metres) at which to count the targets (a target counts when its
        nearest point is at most that far).

    Returns
    -------
    Nearest
        Ties between equally near targets go to the first in ``targets``.
    """
    n = len(sources)
    within_m = [float(d) for d in within_m]
    out = Nearest(
        np.full(n, -1, dtype=np.int64),
        np.full(n, np.nan),
        {d: np.zeros(n, dtype=np.int64) for d in within_m},
    )
    ok_t, targets_ll = lonlat_dense(targets)
    if n == 0 or not ok_t.any():
        return out
    target_pos = np.nonzero(ok_t)[0]
    tree = shapely.STRtree(targets_ll)
    reach = max(within_m, default=0.0)

    def run(members: np.ndarray, idx: np.ndarray, lon: float, lat: float):
        return _measure(members, lon, lat, tree, targets_ll, reach, within_m)

    for idx, (index, metres, counts) in by_cluster(sources, run):
        out.index[idx] = np.where(index >= 0, target_pos[np.maximum(index, 0)], -1)
        out.metres[idx] = metres
        for d in within_m:
            out.within[d][idx] = counts[d]
    return out


def _measure(
    members: np.ndarray,
    lon: float,
    lat: float,
    tree: shapely.STRtree,
    targets_ll: np.ndarray,
    reach: float,
    within_m: list[float],
) -> tuple[np.ndarray, np.ndarray, dict[float, np.ndarray]]:
    """One cluster of sources (lon/lat): nearest target, geodesic metres, counts."""
    local = aeqd(lon, lat)
    plane = apply_transform(members, local)
    # an upper bound on each nearest distance: the metres to the target nearest (by
    # degrees) to a point of the source (a point query is cheap; any target gives a bound)
    first = tree.query_nearest(shapely.point_on_surface(members), all_matches=False)
    bound = np.zeros(len(members))
    bound[first[0]] = shapely.distance(
        plane[first[0]], apply_transform(targets_ll[first[1]], local)
    )
    boxes = _search_boxes(members, np.maximum(bound, reach) * 1.001 + 1.0)
    src, tgt = tree.query(boxes)
    wanted, inverse = np.unique(tgt, return_inverse=True)
    near = apply_transform(targets_ll[wanted], local)[inverse]
    dist = shapely.distance(plane[src], near)
    # pairs within the plane's error of a distance asked are measured on the ellipsoid,
    # so that counts agree with the metres reported
    edge = np.zeros(len(dist), dtype=bool)
    for d in within_m:
        edge |= np.abs(dist - d) <= 1e-4 * d + 0.01
    if edge.any():
        dist[edge] = _geodesic(plane[src[edge]], near[edge], dist[edge], local)
    counts = {d: np.bincount(src[dist <= d], minlength=len(members)) for d in within_m}
    # the nearest per source: smallest distance, then first target
    order = np.lexsort((tgt, dist, src))
    firsts = order[np.r_[True, src[order][1:] != src[order][:-1]]]
    index = np.full(len(members), -1, dtype=np.int64)
    metres = np.full(len(members), np.nan)
    index[src[firsts]] = tgt[firsts]
    metres[src[firsts]] = _geodesic(plane[src[firsts]], near[firsts], dist[firsts], local)
    return index, metres, counts


def _search_boxes(geoms: np.ndarray, radius_m: np.ndarray) -> np.ndarray:
    """Lon/lat boxes around each geometry holding every point within ``radius_m``."""
    b = shapely.bounds(geoms)
    dlat = radius_m / _M_PER_DEG_LAT
    top = np.minimum(np.maximum(np.abs(b[:, 1]), np.abs(b[:, 3])) + dlat, 90.0)
    cos = np.cos(np.radians(top))
    with np.errstate(divide="ignore"):
        dlon = np.where(cos > 1e-6, radius_m / (_M_PER_DEG_LON * cos), 360.0)
    dlon = np.minimum(dlon, 360.0)
    return shapely.box(b[:, 0] - dlon, b[:, 1] - dlat, b[:, 2] + dlon, b[:, 3] + dlat)


def _geodesic(a: np.ndarray, b: np.ndarray, planar: np.ndarray, local) -> np.ndarray:
    """Metres on the ellipsoid between the nearest points of plane geometries a and b."""
    out = np.zeros(len(a))
    apart = planar > 0
    if not apart.any():
        return out
    lines = shapely.shortest_line(a[apart], b[apart])
    xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    lon1, lat1 = local.transform(xy[:, 0, 0], xy[:, 0, 1], direction="INVERSE")
    lon2, lat2 = local.transform(xy[:, 1, 0], xy[:, 1, 1], direction="INVERSE")
    _, _, metres = GEOD.inv(lon1, lat1, lon2, lat2)
    out[apart] = metres
    return out
