"""Exact zonal sums of a population raster over polygons.

The people inside a polygon P are

.. math:: N(P) = \\sum_i v_i \\, f_i(P)

where :math:`v_i` is the people in pixel *i* and :math:`f_i(P)` is the fraction of
the pixel's area that P covers (``pixel_rule="exact"``, the same weighting as
exactextract). ``"center"`` sets :math:`f_i` to 1 when the pixel centre is in P,
``"all-touched"`` to 1 when P touches the pixel at all; both are for comparison
with other tools.

Geometries must already be in the raster's CRS. Work is done window by window
(at most ``WINDOW`` × ``WINDOW`` pixels at a time), so memory stays bounded
whatever the size of the polygon or the raster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from rasterio.features import rasterize

from .population import PopulationRaster

__all__ = ["PixelRule", "ZonalSum", "coverage_fractions", "zonal_sum"]

PixelRule = Literal["exact", "center", "all-touched"]
PIXEL_RULES: tuple[str, ...] = ("exact", "center", "all-touched")

#: Largest window side, in pixels, worked on at once.
WINDOW = 1024


@dataclass
class ZonalSum:
    """People in one geometry and how much of it the raster covered.

    Attributes
    ----------
    people : float
        Σ value × weight over pixels with data.
    weight : float
        Σ weight over all raster pixels (pixels of area covered, for ``"exact"``).
    weight_nodata : float
        Σ weight over nodata pixels.
    area : float
        Planar area of the geometry in the raster's CRS units.
    area_in_raster : float
        Planar area of the part of the geometry inside the raster's extent.
    """

    people: float = 0.0
    weight: float = 0.0
    weight_nodata: float = 0.0
    area: float = 0.0
    area_in_raster: float = 0.0

    @property
    def share_outside(self) -> float:
        """Share of the geometry's area outside the raster's extent (0 for no area)."""
        if self.area <= 0:
            return 0.0
        return max(0.0, 1.0 - self.area_in_raster / self.area)

    @property
    def share_nodata(self) -> float:
        """Share of the covered pixels' weight that fell on nodata pixels."""
        return self.weight_nodata / self.weight if self.weight > 0 else 0.0


def _pixel_window(
    bounds: tuple[float, float, float, float], raster: PopulationRaster
) -> tuple[int, int, int, int] | None:
    """Pixel rows and columns ``(r0, r1, c0, c1)`` of the raster that ``bounds`` touches."""
    minx, miny, maxx, maxy = bounds
    tr = raster.transform
    c0 = int(np.floor((minx - tr.c) / tr.a))
    c1 = int(np.ceil((maxx - tr.c) / tr.a))
    r0 = int(np.floor((maxy - tr.f) / tr.e))
    r1 = int(np.ceil((miny - tr.f) / tr.e))
    # a degenerate (zero-width) extent still touches one column or row
    c1 = max(c1, c0 + 1)
    r1 = max(r1, r0 + 1)
    c0, c1 = max(c0, 0), min(c1, raster.width)
    r0, r1 = max(r0, 0), min(r1, raster.height)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, r1, c0, c1


def _dilate(mask: np.ndarray) -> np.ndarray:
    """Grow a boolean mask by one pixel in all eight directions."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


def coverage_fractions(
    geom: shapely.Geometry,
    raster: PopulationRaster,
    row_off: int,
    col_off: int,
    height: int,
    width: int,
    *,
    pixel_rule: PixelRule = "exact",
) -> np.ndarray:
    """Fraction of each pixel of a window that a polygonal geometry covers.

    Parameters
    ----------
    geom : shapely geometry
        A valid polygonal geometry in the raster's CRS.
    raster : PopulationRaster
        Gives the pixel grid.
    row_off, col_off, height, width : int
        The window, in pixels of the whole grid.
    pixel_rule : {"exact", "center", "all-touched"}
        How a pixel is weighted (see the module notes).

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` float64 weights in [0, 1].

    Notes
    -----
    Exact fractions: pixels whose centre is inside and that the boundary does not
    touch are covered fully; pixels that the boundary touches (found by
    rasterizing the boundary with ``all_touched`` and growing that by one pixel,
    so no touched pixel is missed) get the area of the geometry clipped to the
    pixel, divided by the pixel's area.
    """
    transform = raster.window_transform(row_off, col_off)
    shape = (height, width)
    if geom is None or geom.is_empty:
        return np.zeros(shape)
    if pixel_rule == "center":
        return rasterize([(geom, 1)], out_shape=shape, transform=transform,
                         fill=0, dtype="uint8").astype("float64")
    if pixel_rule == "all-touched":
        return rasterize([(geom, 1)], out_shape=shape, transform=transform,
                         fill=0, dtype="uint8", all_touched=True).astype("float64")
    if pixel_rule != "exact":
        raise ValueError(f"pixel_rule must be one of {PIXEL_RULES}, got {pixel_rule!r}")

    frac = rasterize([(geom, 1)], out_shape=shape, transform=transform,
                     fill=0, dtype="uint8").astype("float64")
    edge = rasterize([(geom.boundary, 1)], out_shape=shape, transform=transform,
                     fill=0, dtype="uint8", all_touched=True).astype(bool)
    edge = _dilate(edge)
    rows, cols = np.nonzero(edge)
    if rows.size == 0:
        return frac
    a, e = transform.a, transform.e
    x0, y0 = transform.c, transform.f
    cell_area = abs(a * e)
    xs = x0 + cols * a
    # clip the geometry to each row strip first, then the strip to each cell:
    # each GEOS call then sees only the vertices near that row.
    for r in np.unique(rows):
        sel = rows == r
        ytop = y0 + r * e
        ybot = ytop + e
        ymin, ymax = min(ytop, ybot), max(ytop, ybot)
        strip = shapely.clip_by_rect(geom, xs[sel].min(), ymin,
                                     xs[sel].max() + a, ymax)
        if strip.is_empty:
            frac[r, cols[sel]] = 0.0
            continue
        cx0 = xs[sel]
        areas = [shapely.clip_by_rect(strip, x, ymin, x + a, ymax).area for x in cx0]
        frac[r, cols[sel]] = np.clip(np.asarray(areas) / cell_area, 0.0, 1.0)
    return frac


def zonal_sum(
    geom: shapely.Geometry,
    raster: PopulationRaster,
    *,
    pixel_rule: PixelRule = "exact",
) -> ZonalSum:
    """People inside one polygonal geometry (already in the raster's CRS).

    Parameters
    ----------
    geom : shapely geometry
        A valid polygonal geometry; points and lines hold nobody and give 0.
    raster : PopulationRaster
    pixel_rule : {"exact", "center", "all-touched"}

    Returns
    -------
    ZonalSum
        People, covered weight, nodata weight and areas.

    Examples
    --------
    A 4×4 raster of ones with pixel size 1 and ``box(0.5, 0.5, 2.0, 2.0)`` holds
    exactly 1.5 × 1.5 = 2.25 people (see ``tests/test_exposure.py``).
    """
    result = ZonalSum()
    if geom is None or geom.is_empty:
        return result
    polygonal = _polygonal(geom)
    if polygonal is None:
        return result
    result.area = float(polygonal.area)
    west, south, east, north = raster.bounds
    inside = shapely.clip_by_rect(polygonal, west, south, east, north)
    result.area_in_raster = float(inside.area)
    window = _pixel_window(polygonal.bounds, raster)
    if window is None or inside.is_empty:
        return result
    r0, r1, c0, c1 = window
    for wr in range(r0, r1, WINDOW):
        for wc in range(c0, c1, WINDOW):
            h, w = min(WINDOW, r1 - wr), min(WINDOW, c1 - wc)
            part = polygonal
            if (h, w) != (r1 - r0, c1 - c0):
                tr = raster.window_transform(wr, wc)
                part = shapely.clip_by_rect(
                    polygonal, tr.c, tr.f + h * tr.e, tr.c + w * tr.a, tr.f
                )
                if part.is_empty:
                    continue
            frac = coverage_fractions(part, raster, wr, wc, h, w, pixel_rule=pixel_rule)
            if not frac.any():
                continue
            values = raster.read(wr, wc, h, w)
            nodata = np.isnan(values)
            result.people += float(np.sum(np.where(nodata, 0.0, values) * frac))
            result.weight += float(frac.sum())
            result.weight_nodata += float(frac[nodata].sum())
    return result


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygonal part of a geometry, or None when it has no area."""
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        if parts:
            return shapely.union_all(parts)
    return None
