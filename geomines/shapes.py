"""Each hazard's shape: its geometry, or, for a point record with a radius whose circle
is not built yet, that circle (built in metres, as :func:`~geomines.read_hazards` builds
it).

``read_hazards(..., build_circles=False)`` keeps point records with a radius (or an
area) as points, their radius in metres in the column :data:`RADIUS`: 300,000 such
circles hold about 0.5 GB as geometries. Every geomines function that needs a hazard's
area, people or outline takes it from here, a slice of hazards at a time where it can,
so the circles exist only while they are used. A circle depends on its point and
radius alone (see :mod:`geomines.engine.rings`), so it is the same whenever, and with
whichever other hazards, it is built: the numbers are those of a frame whose circles
were built on reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .engine.rings import buffer_m
from .geometry import object_array

__all__ = [
    "RADIUS",
    "SLICE",
    "Shapes",
    "circle_radius",
    "hazard_shapes",
    "shape_kinds",
    "shape_series",
    "with_shapes",
]

#: The column of a circle's radius in metres, on rows whose circle is not built.
RADIUS = "circle_radius_m"

#: Hazards whose circles are built together (their geometries held at once). Building
#: 100,000 circles (multi-threaded) raised the resident size by ~400 MB beyond what they
#: hold, 20,000 by ~110 MB (1,000,000-hazard layer, 300,000 circles: project() peaks
#: +597 MB and +250 MB above the frame).
SLICE = 20_000


def circle_radius(frame: gpd.GeoDataFrame) -> np.ndarray | None:
    """Each row's radius in metres where its circle is still to be built (a point with a
    finite positive :data:`RADIUS`), NaN elsewhere; None when no row has one.
    """
    if RADIUS not in frame.columns or not len(frame):
        return None
    radius = np.asarray(frame[RADIUS].to_numpy(dtype=float, na_value=np.nan), dtype=float)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    pending = np.isfinite(radius) & (radius > 0) & (shapely.get_type_id(geoms) == 0)
    if not pending.any():
        return None
    return np.where(pending, radius, np.nan)


def shape_kinds(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Each row's shape type as text (``""`` for none): a point whose circle is pending
    is a ``"Polygon"``.
    """
    kinds = np.array(
        [g.geom_type if g is not None and not g.is_empty else "" for g in frame.geometry]
    ).astype(str)
    radius = circle_radius(frame)
    if radius is not None:
        kinds[np.isfinite(radius)] = "Polygon"
    return kinds


def build_circles(points: np.ndarray, radius: np.ndarray, crs: Any) -> np.ndarray:
    """Circles of ``radius`` metres around ``points`` (in ``crs``), built in metres."""
    if not len(points):
        return object_array([])
    circles = buffer_m(gpd.GeoSeries(points, crs=crs), radius)
    return np.asarray(circles.values, dtype=object)


class Shapes:
    """Hazard shapes as an array whose circles are built when indexed.

    ``shapes[key]`` (an index, a slice, an integer array or a boolean mask) gives a
    new object array: each row's geometry, the circle where a radius is pending.
    ``move``, when given, takes circles (built in ``crs``) to where the other rows'
    geometries already are (for instance onto a raster's grid).
    """

    def __init__(
        self,
        geoms: np.ndarray,
        radius: np.ndarray | None,
        crs: Any,
        move: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.geoms = np.asarray(geoms, dtype=object)
        self.radius = radius
        self.crs = crs
        self.move = move

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def circles(self) -> np.ndarray:
        """Which rows are circles to build."""
        if self.radius is None:
            return np.zeros(len(self.geoms), dtype=bool)
        return np.isfinite(self.radius)

    def __getitem__(self, key: Any) -> np.ndarray:
        out = np.array(self.geoms[key], dtype=object, copy=True, ndmin=1)
        if self.radius is None:
            return out
        radius = np.asarray(self.radius[key], dtype=float).reshape(-1)
        pending = np.isfinite(radius)
        if pending.any():
            circles = build_circles(out[pending], radius[pending], self.crs)
            out[pending] = self.move(circles) if self.move is not None else circles
        return out

    def slices(
        self, positions: np.ndarray | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(positions, shapes)`` a slice of at most :data:`SLICE` hazards at a time (all
        at once when no circle is pending).
        """
        pos = np.arange(len(self.geoms)) if positions is None else np.asarray(positions)
        if self.radius is None:
            yield pos, self.geoms[pos]
            return
        for start in range(0, max(len(pos), 1), SLICE):
            part = pos[start : start + SLICE]
            yield part, self[part]


def hazard_shapes(frame: gpd.GeoDataFrame) -> Shapes:
    """The frame's hazard shapes (circles built when indexed), in its CRS."""
    return Shapes(np.asarray(frame.geometry.values, dtype=object), circle_radius(frame), frame.crs)


def shape_series(frame: gpd.GeoDataFrame, rows: Any = None) -> gpd.GeoSeries:
    """The hazard shapes of the frame's ``rows`` (a mask or positions; default all) as a
    GeoSeries in its CRS, indexed from 0 (circles built).
    """
    shapes = hazard_shapes(frame)
    return gpd.GeoSeries(shapes[:] if rows is None else shapes[rows], crs=frame.crs)


def with_shapes(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with its circles built (and without :data:`RADIUS`), as written and
    drawn; the frame itself when none is pending.
    """
    shapes = hazard_shapes(frame)
    if shapes.radius is None:
        return frame.drop(columns=[RADIUS]) if RADIUS in frame.columns else frame
    out = frame.drop(columns=[RADIUS])
    return out.set_geometry(gpd.GeoSeries(shapes[:], index=frame.index, crs=frame.crs))
