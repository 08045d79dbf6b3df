"""A local plane's way out as a fitted polynomial, checked against PROJ before use.

Ring buffers are built in an azimuthal equidistant plane and moved back to lon/lat
(or on into a projected raster's CRS) vertex by vertex: millions of vertices, each a
geodesic problem for PROJ (about a third of the buffers' time). Over the few tens of
kilometres that one cluster of hazards and its rings span, the map is analytic and
nearly linear: its terms of degree *k* are of order (L/R)^k for a span L on an earth
of radius R, so a polynomial of degree :data:`DEGREE` fitted to PROJ at Chebyshev
nodes over the vertices' bounding box reproduces it to about 1e-12° (1e-7 m) there.

Every fit is checked against PROJ on a grid that includes the box's edges and
points between the nodes, and used only when its largest difference is below the
tolerance (:data:`TOLERANCE_DEG`, 1e-9°, about 0.1 mm on the ground, for lon/lat;
0.1 mm for a projected CRS); otherwise PROJ moves every vertex, as it would without
the fit (near a pole, across the antimeridian's seam, near a projection's edge, or
over a box too wide for the degree). The buffers therefore stay within 0.1 mm of
PROJ's, far below a pixel and below the buffers' own 64-segment approximation of a
circle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


class PlaneFit:
    """A polynomial stand-in for ``exact`` over a box of the plane, or unfit (``coef``
    None) where it is not within ``tolerance`` of ``exact`` on the check grid.

    Parameters
    ----------
    exact : callable
        ``exact(x, y) -> (u, v)``, arrays of plane coordinates to arrays (PROJ); a
        non-finite result anywhere refuses the fit.
    box : tuple of float
        ``(xmin, ymin, xmax, ymax)`` in the plane.
    tolerance : float
        Largest accepted difference from ``exact``, in its output's units.
    offset : tuple of float
        Subtracted from the outputs before fitting (a longitude's seam moved away).
    wrap : bool
        The first output is a longitude: fitted as its difference from ``offset[0]``
        taken within ±180°.
    """

    def __init__(
        self,
        exact: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]],
        box: tuple[float, float, float, float],
        tolerance: float,
        offset: tuple[float, float] = (0.0, 0.0),
        wrap: bool = False,
    ) -> None:
        x0, y0, x1, y1 = box
        self.centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
        self.half = (max((x1 - x0) / 2.0, 1.0), max((y1 - y0) / 2.0, 1.0))
        self.exact, self.offset, self.wrap = exact, offset, wrap
        nodes = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
        s, t = (a.ravel() for a in np.meshgrid(nodes, nodes))
        values = self._exact(s, t)
        self.coef: np.ndarray | None = None
        self.error = np.inf
        if values is None:
            return
        coef, *_ = np.linalg.lstsq(_design(s, t), values, rcond=None)
        self.coef = coef
        # c_ij as a (degree+1)² matrix per output, zero where i + j > degree
        self.square = np.zeros((2, DEGREE + 1, DEGREE + 1))
        for row, (i, j) in enumerate(_POWERS):
            self.square[:, i, j] = coef[row]
        edges = np.linspace(-1.0, 1.0, CHECK)
        s, t = (a.ravel() for a in np.meshgrid(edges, edges))
        truth = self._exact(s, t)
        if truth is not None:
            self.error = float(np.abs(self._poly(s, t) - truth).max())
        if not self.error < tolerance:
            self.coef = None

    def _exact(self, s: np.ndarray, t: np.ndarray) -> np.ndarray | None:
        """``exact`` at scaled points, less the offset; None if any is not finite."""
        u, v = self.exact(self.centre[0] + self.half[0] * s, self.centre[1] + self.half[1] * t)
        du = np.asarray(u, dtype=float) - self.offset[0]
        if self.wrap:
            du = (du + 180.0) % 360.0 - 180.0
        out = np.column_stack([du, np.asarray(v, dtype=float) - self.offset[1]])
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
        """The fitted map at plane points ``x``, ``y``: an (n × 2) array."""
        out = np.empty((len(x), 2))
        for lo in range(0, len(x), CHUNK):
            s = (x[lo : lo + CHUNK] - self.centre[0]) / self.half[0]
            t = (y[lo : lo + CHUNK] - self.centre[1]) / self.half[1]
            out[lo : lo + CHUNK] = self._poly(s, t)
        out += self.offset
        return out


def _design(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.column_stack([s**i * t**j for i, j in _POWERS])


def moved(
    geoms: np.ndarray,
    exact: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]],
    tolerance: float,
    offset: tuple[float, float] = (0.0, 0.0),
    wrap: bool = False,
) -> np.ndarray:
    """Geometries moved vertex by vertex by ``exact`` (see :class:`PlaneFit`): by the
    fitted polynomial where it is within ``tolerance`` of ``exact`` over the vertices'
    bounding box, else by ``exact`` itself.
    """
    geoms = np.asarray(geoms, dtype=object)
    xy = shapely.get_coordinates(geoms)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    fit = None
    if len(x) >= MIN_VERTICES:
        box = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
        if np.isfinite(box).all():  # min and max carry a NaN through
            fit = PlaneFit(exact, box, tolerance, offset, wrap)
    if fit is not None and fit.coef is not None:
        out = fit(x, y)
    else:
        u, v = exact(x, y)
        out = np.column_stack([u, v])
    return shapely.set_coordinates(geoms.copy(), out)


def plane_to_lonlat(geoms: np.ndarray, transformer: Transformer, lon0: float) -> np.ndarray:
    """Geometries in ``transformer``'s plane moved to lon/lat (its inverse), within
    :data:`TOLERANCE_DEG` of PROJ. Longitudes are whole turns from ``lon0`` as PROJ
    gives them, or near ``lon0`` (the caller unwraps them).
    """

    def inverse(x: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        return transformer.transform(x, y, direction="INVERSE")

    return moved(geoms, inverse, TOLERANCE_DEG, (lon0, 0.0), wrap=True)
