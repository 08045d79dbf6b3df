"""True areas of a raster's pixels: exact per row for lon/lat grids, from each cell's
corners on the ellipsoid for projected grids (equal-area projections keep the nominal
area). Used to turn densities into counts and to spread coastal pixels over their land.
"""

from __future__ import annotations

import numpy as np
from affine import Affine
from pyproj import CRS

from ..crs import crs_key, get_transformer, metres_per_unit

__all__ = ["GridAreas"]


class GridAreas:
    """The true ground areas (km²) of the pixels of one grid.

    Parameters
    ----------
    crs : pyproj.CRS
    transform : affine.Affine
        North-up pixel to CRS transform.
    shape : (int, int)
        ``(height, width)`` in pixels.
    """

    def __init__(self, crs: CRS, transform: Affine, shape: tuple[int, int]) -> None:
        self.crs = crs
        self.transform = transform
        self.shape = shape
        self.__dict__["_scale_mode_cache"] = None

    def cell_km2(self, row_off: int, col_off: int, height: int, width: int) -> np.ndarray:
        """True ground area of each pixel of a window, in km² (broadcasts to the window).

        Geographic grids: the cell's exact area on the CRS's ellipsoid (one value per
        row). Projected grids: the area on the ellipsoid of the cell's four corners
        (moved to lon/lat, then into authalic coordinates ``(λ, q(φ))``, where area is
        ``a²/2 · dλ · dq``), so a Web Mercator or far-from-meridian UTM pixel gets its
        real area; equal-area projections keep the nominal area.
        """
        if self.crs.is_geographic:
            return self.row_km2(row_off, height)[:, None]
        mode = self._scale_mode()
        if mode == "equal-area":
            return self.row_km2(row_off, height)[:, None]
        if mode == "rows":
            return self._corner_areas(row_off, col_off, height, 1)
        return self._corner_areas(row_off, col_off, height, width)

    def _corner_areas(self, row_off: int, col_off: int, height: int, width: int) -> np.ndarray:
        """Ellipsoidal area (km²) of each cell of a window, from its corners."""
        tr = self.transform
        cols, rows = np.meshgrid(col_off + np.arange(width + 1), row_off + np.arange(height + 1))
        to_lonlat = get_transformer(crs_key(self.crs), crs_key(self.crs.geodetic_crs))
        lon, lat = to_lonlat.transform(tr.c + cols * tr.a, tr.f + rows * tr.e)
        a, e2 = _ellipsoid(self.crs)
        lam = np.radians(np.asarray(lon, dtype=float))
        q = _authalic_q(np.radians(np.clip(np.asarray(lat, dtype=float), -90, 90)), e2)

        def wrap(d: np.ndarray) -> np.ndarray:
            return (d + np.pi) % (2 * np.pi) - np.pi

        # the cell's two diagonals in (λ, q): area = |d1 × d2| / 2
        d1l, d1q = wrap(lam[1:, 1:] - lam[:-1, :-1]), q[1:, 1:] - q[:-1, :-1]
        d2l, d2q = wrap(lam[1:, :-1] - lam[:-1, 1:]), q[1:, :-1] - q[:-1, 1:]
        area = np.abs(d1l * d2q - d1q * d2l) / 2 * a * a / 2 / 1e6
        return np.where(np.isfinite(area), area, np.nan)

    def _scale_mode(self) -> str:
        """``"equal-area"``, ``"rows"`` (cell area varies only by row: Mercator) or ``"grid"``."""
        mode = self.__dict__.get("_scale_mode_cache")
        if mode is not None:
            return mode
        rows = np.linspace(0, self.shape[0] - 1, 7).astype(int)
        cols = np.linspace(0, self.shape[1] - 1, 7).astype(int)
        sample = np.array(
            [[self._corner_areas(int(r), int(c), 1, 1)[0, 0] for c in cols] for r in rows]
        )
        nominal = self.row_km2(0, 1)[0]
        if np.allclose(sample, nominal, rtol=1e-7, atol=0):
            mode = "equal-area"
        elif np.allclose(sample, sample[:, :1], rtol=1e-9, atol=0):
            mode = "rows"
        else:
            mode = "grid"
        self.__dict__["_scale_mode_cache"] = mode
        return mode

    def row_km2(self, row_off: int, height: int) -> np.ndarray:
        """Area of one pixel in each of rows ``row_off .. row_off+height``, in km².

        Geographic grids use geodesic areas on the CRS's ellipsoid; projected grids
        the nominal pixel size in metres (see :meth:`cell_area_km2` for true areas).
        """
        if self.crs.is_geographic:
            a, e2 = _ellipsoid(self.crs)
            top = self.transform.f + row_off * self.transform.e
            lats = np.clip(top + np.arange(height + 1) * self.transform.e, -90.0, 90.0)
            q = _authalic_q(np.radians(lats), e2)
            dlon = np.radians(abs(self.transform.a))
            return a * a / 2.0 * dlon * np.abs(np.diff(q)) / 1e6
        factor = metres_per_unit(self.crs)
        area = abs(self.transform.a * self.transform.e) * factor * factor / 1e6
        return np.full(height, area)


def _ellipsoid(crs: CRS) -> tuple[float, float]:
    """Semi-major axis (m) and squared eccentricity of a CRS's ellipsoid (WGS 84 if none)."""
    ell = crs.ellipsoid
    if ell is None:
        return 6378137.0, 0.0066943799901413165
    a = ell.semi_major_metre
    b = ell.semi_minor_metre
    return a, 1.0 - (b * b) / (a * a)


def _authalic_q(phi: np.ndarray, e2: float) -> np.ndarray:
    """``q(φ)``: the area between the equator and latitude φ is ``a² q(φ) / 2`` per radian.

    Exact for an ellipsoid of revolution (Snyder 1987, eq. 3-12); the area of a
    lat/lon cell is ``a²/2 · Δλ · |q(φ2) − q(φ1)|``.
    """
    s = np.sin(phi)
    if e2 == 0:
        return 2.0 * s
    e = np.sqrt(e2)
    return (1 - e2) * (s / (1 - e2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))
