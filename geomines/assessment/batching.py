"""The ring stage's batches: hazards buffered a bounded batch at a time, in Z-order, and
the union tiles that no later batch can reach (counted and dropped early).
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from ..crs import WGS84, crs_key, get_transformer
from ..engine.exact import morton
from ..engine.rings import QUAD_SEGS
from ..grid import tile_range
from ..io.population import PopulationRaster

#: Side, in pixels, of the union tiles of the class groups' rings (only their totals
#: are kept, so small tiles that close early, counted and dropped, bound the memory).
CLASS_TILE = 256


#: Input coordinates per batch of hazards buffered at once (plus a circle's worth per
#: hazard): bounds the memory of the ring stage, whatever the number of hazards.
BATCH_COORDS = 500_000


def spatial_batches(
    bounds: np.ndarray, coords: np.ndarray, positions: np.ndarray
) -> list[np.ndarray]:
    """``positions`` in spatially coherent batches of at most ~BATCH_COORDS coordinates
    (``bounds``, ``coords``: each geometry's bounds and coordinates).

    Hazards are ordered along a Z-order curve of their bounding-box centres, so a
    batch covers a compact area (few union tiles, shared raster windows).
    """
    if positions.size == 0:
        return []
    order = _z_order(bounds[positions])
    weight = coords[positions[order]] + 4 * QUAD_SEGS
    cuts = np.flatnonzero(np.diff(np.cumsum(weight) // BATCH_COORDS)) + 1
    return [np.sort(part) for part in np.split(positions[order], cuts)]


def spatial_slices(bounds: np.ndarray, size: int) -> list[np.ndarray]:
    """Every position (``bounds``: each geometry's, NaN for none) in slices of at most
    ``size``, each a compact area (Z-order): merged into tile-wise unions a slice at a
    time, each tile is merged from few slices. Geometries without bounds come last.
    """
    has = np.isfinite(bounds).all(axis=1)
    where = np.nonzero(has)[0]
    order = np.concatenate([where[_z_order(bounds[where])], np.nonzero(~has)[0]])
    return [np.sort(order[i : i + size]) for i in range(0, max(len(order), 1), size)]


def _z_order(b: np.ndarray) -> np.ndarray:
    """An ordering of boxes along a Z-order curve of their centres (stable)."""
    if not len(b):
        return np.zeros(0, dtype=np.int64)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    span = max(float(np.ptp(cx)), float(np.ptp(cy)), 1e-12)
    scale = 65535 / span
    return np.argsort(
        morton(
            ((cx - cx.min()) * scale).astype(np.int64), ((cy - cy.min()) * scale).astype(np.int64)
        ),
        kind="stable",
    )


#: Metres per degree of latitude, a lower bound (WGS 84: 110,574 at the equator).
_M_PER_DEG_LAT = 110_000.0


#: Metres per degree of longitude at the equator, a lower bound (WGS 84: 111,319.5).
_M_PER_DEG_LON = 111_000.0


def reach_boxes(
    bounds: np.ndarray,
    batches: list[np.ndarray],
    distance_m: float,
    crs: CRS,
    raster: PopulationRaster,
) -> list[tuple[float, float, float, float] | None]:
    """For each batch, a box in the raster's CRS holding every point within
    ``distance_m`` of its geometries (so every buffer's piece on the grid), or None
    where that cannot be bounded (``bounds``: each geometry's bounds, NaN for none).

    The batch's lon/lat box is grown by ``distance_m`` (with lower bounds on the length
    of a degree, so the growth is never too small), moved into the raster's CRS with
    densified edges and grown by 1%. None near a pole, across ±180°, for a CRS that
    does not transform, and on a geographic grid whose longitudes do not run within
    -180..180 (buffers are moved onto its span, :func:`~geomines.engine.rings.onto_grid`).
    """
    west, _, east, _ = raster.bounds
    if raster.is_geographic and (west < -180 - 1e-9 or east > 180 + 1e-9):
        return [None for _ in batches]
    return [_reach_box(bounds[pos], distance_m, crs, raster.crs) for pos in batches]


def closing_tiles(
    boxes: list[tuple[float, float, float, float] | None],
    raster: PopulationRaster,
    side: int | None,
) -> list[set[tuple[int, int]]]:
    """For each batch, the union tiles that no later batch's buffers can reach
    (``boxes``: each batch's :func:`reach_boxes`; a batch without one reaches every
    tile, and nothing closes before it).
    """
    out: list[set[tuple[int, int]]] = [set() for _ in boxes]
    if side is None or len(boxes) < 2:
        return out
    last: dict[tuple[int, int], int] = {}
    for b, box in enumerate(boxes):
        if box is None:
            last = {key: b for key in last}  # everything stays open until this batch
            continue
        # union tiles exist only over the raster (geometries are cut to it)
        r0, r1, c0, c1 = tile_range(box, raster.transform, side, raster.shape)
        if (r1 - r0 + 1) * (c1 - c0 + 1) > 100_000:  # a batch spread over the globe
            return [set() for _ in boxes]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                last[(r, c)] = b
    for key, b in last.items():
        out[b].add(key)
    out[-1] = set()  # the last batch: result() counts what is left
    return out


def _reach_box(
    bounds: np.ndarray, distance_m: float, crs: CRS, dst: CRS
) -> tuple[float, float, float, float] | None:
    """A box in ``dst`` holding every point within ``distance_m`` of the geometries whose
    ``bounds`` are given (as :func:`shapely.total_bounds` of them would be).
    """
    ok = np.isfinite(bounds).all(axis=1)
    if not ok.any():
        return None
    west, south = bounds[ok, 0].min(), bounds[ok, 1].min()
    east, north = bounds[ok, 2].max(), bounds[ok, 3].max()
    if crs != WGS84:
        try:
            to_lonlat = get_transformer(crs_key(crs), crs_key(WGS84))
            west, south, east, north = to_lonlat.transform_bounds(
                west, south, east, north, densify_pts=21
            )
        except Exception:
            return None
    if not np.all(np.isfinite([west, south, east, north])):
        return None
    dlat = distance_m / _M_PER_DEG_LAT
    south, north = south - dlat, north + dlat
    if south < -89 or north > 89:
        return None
    # a path of length d moves at most d / (m per degree of longitude at its most
    # poleward latitude) in longitude
    dlon = distance_m / (_M_PER_DEG_LON * np.cos(np.radians(max(-south, north))))
    west, east = west - dlon, east + dlon
    if west < -180 or east > 180:
        return None
    if dst == WGS84:
        return west, south, east, north
    try:
        x0, y0, x1, y1 = get_transformer(crs_key(WGS84), crs_key(dst)).transform_bounds(
            west, south, east, north, densify_pts=21
        )
    except Exception:
        return None
    if not np.all(np.isfinite([x0, y0, x1, y1])):
        return None
    gx, gy = 0.01 * (x1 - x0), 0.01 * (y1 - y0)
    return x0 - gx, y0 - gy, x1 + gx, y1 + gy
