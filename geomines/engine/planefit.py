"""A local plane's inverse as a fitted polynomial, checked against PROJ before use.

Ring buffers are built in an azimuthal equidistant plane and moved back to lon/lat
vertex by vertex: millions of vertices, each a geodesic problem for PROJ (about a
third of the buffers' time). Over the few tens of kilometres that one cluster of
hazards and its rings span, the inverse is analytic and nearly linear: its terms
of degree *k* are of order (L/R)^k for a span L on an earth of radius R, so a
polynomial of degree :data:`DEGREE` fitted to PROJ at Chebyshev nodes over the
vertices' bounding box reproduces it to about 1e-12° there.

Every fit is checked against PROJ on a grid that includes the box's edges and
points between the nodes, and used only when its largest difference is below
:data:`TOLERANCE_DEG` (1e-9°, about 0.1 mm on the ground); otherwise PROJ moves
every vertex, as it would without the fit (near a pole, across the antimeridian's
seam, or over a box too wide for the degree). The buffers therefore stay within
0.1 mm of PROJ's, far below a pixel and below the buffers' own 64-segment
approximation of a circle.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer

#: total degree of the fitted polynomial in the plane's scaled coordinates
DEGREE = 6
#: Chebyshev nodes per axis of the fit (a tensor grid: NODES² PROJ calls)
NODES = 12
#: points per axis of the check grid, edges included (CHECK² PROJ calls)
CHECK = 15
#: largest accepted difference from PROJ, in degrees of longitude or latitude
TOLERANCE_DEG = 1e-9
#: fewer vertices than this go through PROJ directly (the fit would not pay)
MIN_VERTICES = 4096
#: vertices evaluated at once (the temporaries stay in cache)
CHUNK = 65_536

_POWERS = [(i, j) for i in range(DEGREE + 1) for j in range(DEGREE + 1 - i)]


class InverseFit:
    """The fitted inverse of ``transformer`` over a box of its plane, or None if unfit.

    Parameters
    ----------
    transformer : pyproj.Transformer
        lon/lat (degrees) to the plane (its inverse is fitted).
    box : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in the plane.
    lon0 : float
        Longitudes are fitted as differences from ``lon0`` (no seam inside a cluster).
    """

    def __init__(
        self, transformer: Transformer, box: tuple[float, float, float, float], lon0: float
    ) -> None:
        x0, y0, x1, y1 = box
        self.centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        self.half = (max((x1 - x0) / 2.0, 1.0), max((y1 - y0) / 2.0, 1.0))
        self.transformer, self.lon0 = transformer, lon0
        nodes = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
        s, t = (a.ravel() for a in np.meshgrid(nodes, nodes))
        exact = self._proj(s, t)
        self.coef: np.ndarray | None = None
        if exact is None:
            return
        coef, *_ = np.linalg.lstsq(_design(s, t), exact, rcond=None)
        self.coef = coef
        # c_ij as a (degree+1)² matrix per output, zero where i + j > degree
        self.square = np.zeros((2, DEGREE + 1, DEGREE + 1))
        for row, (i, j) in enumerate(_POWERS):
            self.square[:, i, j] = coef[row]
        edges = np.linspace(-1.0, 1.0, CHECK)
        s, t = (a.ravel() for a in np.meshgrid(edges, edges))
        truth = self._proj(s, t)
        self.error = np.inf if truth is None else float(np.abs(self._poly(s, t) - truth).max())
        if not self.error < TOLERANCE_DEG:
            self.coef = None

    def _proj(self, s: np.ndarray, t: np.ndarray) -> np.ndarray | None:
        """PROJ's inverse at scaled points, as (dlon, lat); None if any is not finite."""
        x = self.centre[0] + self.half[0] * s
        y = self.centre[1] + self.half[1] * t
        lon, lat = self.transformer.transform(x, y, direction="INVERSE")
        out = np.column_stack([(np.asarray(lon) - self.lon0 + 180.0) % 360.0 - 180.0, lat])
        return out if np.isfinite(out).all() else None

    def _poly(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The polynomial at scaled points: Horner in ``s`` over Horner in ``t``, per
        output, in place on contiguous arrays.
        """
        assert self.coef is not None
        out = np.empty((2, len(s)))
        inner = np.empty(len(s))
        for k in range(2):
            acc = out[k]
            acc.fill(0.0)
            for i in range(DEGREE, -1, -1):
                inner.fill(self.square[k, i, DEGREE - i])
                for j in range(DEGREE - i - 1, -1, -1):
                    np.multiply(inner, t, out=inner)
                    np.add(inner, self.square[k, i, j], out=inner)
                np.multiply(acc, s, out=acc)
                np.add(acc, inner, out=acc)
        return out.T

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """lon/lat (n × 2) of plane points ``x``, ``y``, longitudes near ``lon0``."""
        out = np.empty((len(x), 2))
        for lo in range(0, len(x), CHUNK):
            s = (x[lo : lo + CHUNK] - self.centre[0]) / self.half[0]
            t = (y[lo : lo + CHUNK] - self.centre[1]) / self.half[1]
            out[lo : lo + CHUNK] = self._poly(s, t)
        out[:, 0] += self.lon0
        return out


def _design(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.column_stack([s**i * t**j for i, j in _POWERS])


def plane_to_lonlat(geoms: np.ndarray, transformer: Transformer, lon0: float) -> np.ndarray:
    """Geometries in ``transformer``'s plane moved to lon/lat, vertex by vertex.

    The fitted inverse where it is within :data:`TOLERANCE_DEG` of PROJ over the
    vertices' bounding box, else PROJ itself. Longitudes are whole turns from
    ``lon0`` as PROJ gives them or near ``lon0`` (the caller unwraps them).
    """
    geoms = np.asarray(geoms, dtype=object)
    xy = shapely.get_coordinates(geoms)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    fit = None
    if len(x) >= MIN_VERTICES:
        box = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
        if np.isfinite(box).all():  # min and max carry a NaN through
            fit = InverseFit(transformer, box, lon0)
    if fit is not None and fit.coef is not None:
        lonlat = fit(x, y)
    else:
        lon, lat = transformer.transform(x, y, direction="INVERSE")
        lonlat = np.column_stack([lon, lat])
    return shapely.set_coordinates(geoms.copy(), lonlat)
