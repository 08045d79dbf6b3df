r"""Exact zonal sums of a population raster over polygons.

The people inside a polygon P are

.. math:: N(P) = \sum_i v_i \, f_i(P)

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

import threading
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import shapely
from affine import Affine
from rasterio.features import rasterize

from ..geometry import clip_rect, polygonal, polygonal_array
from ..grid import pixel_window, pixel_windows
from ..io.population import PopulationRaster
from .executors import map_threads

try:  # the compiled inner loop (geomines/engine/cgreen.c), built when geomines is installed
    from . import cgreen  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - no C compiler where geomines was installed
    cgreen = None

#: Whether the exact engine runs its compiled inner loop (else the numpy one: same sums).
COMPILED = cgreen is not None

__all__ = ["PixelRule", "ZonalSum", "ZonalSums", "coverage_fractions", "zonal_sum", "zonal_sums"]


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

    def add(self, other: ZonalSum) -> None:
        """Add another disjoint piece's sums to these (in place)."""
        self.people += other.people
        self.weight += other.weight
        self.weight_nodata += other.weight_nodata
        self.area += other.area
        self.area_in_raster += other.area_in_raster

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


def _dilate(mask: np.ndarray) -> np.ndarray:
    """Grow a boolean mask by one pixel in all eight directions."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


#: rasterio's ``rasterize`` wraps a dataset around its output inside
#: ``warnings.catch_warnings()``, which is not thread-safe: two calls at once on the
#: engine's threads can let its ``NotGeoreferencedWarning`` through (an error where
#: warnings are errors) and leave the caller's filters changed. One call at a time.
_RASTERIZE = threading.Lock()


def _rasterize(*args: Any, **kwargs: Any) -> np.ndarray:
    with _RASTERIZE:
        return rasterize(*args, **kwargs)


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
        return _rasterize(
            [(geom, 1)], out_shape=shape, transform=transform, fill=0, dtype="uint8"
        ).astype("float64")
    if pixel_rule == "all-touched":
        return _rasterize(
            [(geom, 1)],
            out_shape=shape,
            transform=transform,
            fill=0,
            dtype="uint8",
            all_touched=True,
        ).astype("float64")
    if pixel_rule != "exact":
        raise ValueError(f"pixel_rule must be one of {PIXEL_RULES}, got {pixel_rule!r}")

    frac = _rasterize(
        [(geom, 1)], out_shape=shape, transform=transform, fill=0, dtype="uint8"
    ).astype("float64")
    edge = _rasterize(
        [(geom.boundary, 1)],
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="uint8",
        all_touched=True,
    ).astype(bool)
    return _edge_fractions(geom, frac, _dilate(edge), transform)


def _edge_fractions(
    geom: shapely.Geometry, frac: np.ndarray, edge: np.ndarray, transform: Affine
) -> np.ndarray:
    """Exact fractions of the pixels ``edge`` marks (those the boundary may touch).

    The geometry is clipped to each row strip first, then the strip to each cell:
    each GEOS call then sees only the vertices near that row.
    """
    rows, cols = np.nonzero(edge)
    if rows.size == 0:
        return frac
    a, e = transform.a, transform.e
    cell_area = abs(a * e)
    xs = transform.c + cols * a
    for r in np.unique(rows):
        sel = rows == r
        ytop = transform.f + r * e
        ymin, ymax = min(ytop, ytop + e), max(ytop, ytop + e)
        strip = clip_rect(geom, xs[sel].min(), ymin, xs[sel].max() + a, ymax)
        if strip.is_empty:
            frac[r, cols[sel]] = 0.0
            continue
        areas = [clip_rect(strip, x, ymin, x + a, ymax).area for x in xs[sel]]
        frac[r, cols[sel]] = np.clip(np.asarray(areas) / cell_area, 0.0, 1.0)
    return frac


# --------------------------------------------------------------------------- the engine
#: Largest window, in pixels, worked on at once by :func:`zonal_sums` (512 × 512).
MAX_WINDOW_PIXELS = 1 << 18


@dataclass
class ZonalSums:
    """People in many geometries at once (arrays aligned with the input geometries)."""

    people: np.ndarray
    weight: np.ndarray
    weight_nodata: np.ndarray
    area: np.ndarray
    area_in_raster: np.ndarray

    def __len__(self) -> int:
        return len(self.people)

    def __getitem__(self, i: int) -> ZonalSum:
        return ZonalSum(
            float(self.people[i]),
            float(self.weight[i]),
            float(self.weight_nodata[i]),
            float(self.area[i]),
            float(self.area_in_raster[i]),
        )

    def total(self, mask: np.ndarray | None = None) -> ZonalSum:
        """The sums added up (over ``mask`` only, if given): people in disjoint pieces."""
        sel = slice(None) if mask is None else mask
        return ZonalSum(
            float(self.people[sel].sum()),
            float(self.weight[sel].sum()),
            float(self.weight_nodata[sel].sum()),
            float(self.area[sel].sum()),
            float(self.area_in_raster[sel].sum()),
        )


def clip_to_raster(geoms: np.ndarray, raster: PopulationRaster) -> np.ndarray:
    """Geometries cut to the raster's extent where they reach beyond it.

    Nothing outside the raster holds people, so the sums are unchanged; the work on
    a hazard (or buffer, or admin unit) far larger than the raster is then bounded
    by the raster, not by the hazard.
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return geoms
    west, south, east, north = raster.bounds
    b = shapely.bounds(geoms[ok])
    beyond = (b[:, 0] < west) | (b[:, 1] < south) | (b[:, 2] > east) | (b[:, 3] > north)
    if not beyond.any():
        return geoms
    out = geoms.copy()
    idx = np.nonzero(ok)[0][beyond]
    out[idx] = clip_rect(geoms[idx], west, south, east, north)
    return out


def areas_on_raster(
    geoms: np.ndarray, raster: PopulationRaster
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Polygonal parts cut to the raster, which have area, their planar areas (whole), and
    the areas inside the raster.
    """
    poly = polygonal_array(geoms)
    valid = np.array([g is not None for g in poly], dtype=bool)
    area = np.zeros(len(geoms))
    area_in = np.zeros(len(geoms))
    if valid.any():
        area[valid] = shapely.area(poly[valid])
        clipped = clip_to_raster(poly[valid], raster)
        area_in[valid] = shapely.area(clipped)
        poly[valid] = polygonal_array(clipped)
        valid = np.array([g is not None and not g.is_empty for g in poly], dtype=bool)
    return poly, valid, area, area_in


def _boundary_coords(
    geoms: np.ndarray, raster: PopulationRaster, row_off: int, col_off: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The polygons' boundaries in window pixel coordinates, exteriors anticlockwise.

    Returns ``u, w, seg, gid`` per vertex: ``u`` the column and ``w`` the row
    coordinate, ``seg`` whether the vertex and the next form a segment (same ring),
    ``gid`` the position of the vertex's geometry in ``geoms``.
    """
    oriented = shapely.orient_polygons(geoms, exterior_cw=False)
    parts, part_of = shapely.get_parts(oriented, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, coord_of = shapely.get_coordinates(rings, return_index=True)
    tr = raster.transform
    u = (xy[:, 0] - tr.c) / tr.a - col_off
    w = (xy[:, 1] - tr.f) / tr.e - row_off
    seg = np.zeros(len(u), dtype=bool)
    seg[:-1] = coord_of[1:] == coord_of[:-1]
    return u, w, seg, part_of[ring_of[coord_of]]


def _row_pieces(
    u: np.ndarray, w: np.ndarray, seg: np.ndarray, gid: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Boundary pieces (:func:`_boundary_coords`), split where they cross pixel rows.

    Returns ``gid, row, u_a, u_b, dw`` in window pixel coordinates: each piece lies
    within one pixel row; ``u`` are column coordinates of its ends and ``dw`` its
    signed extent in rows.
    """
    same = seg[:-1]
    u0, u1 = u[:-1][same], u[1:][same]
    w0, w1 = w[:-1][same], w[1:][same]
    g = gid[:-1][same]
    # integer row lines strictly between w0 and w1, in the order the segment meets them
    lo = np.floor(np.minimum(w0, w1)) + 1
    hi = np.ceil(np.maximum(w0, w1)) - 1
    n = np.maximum(hi - lo + 1, 0).astype(np.int64)
    total = int(n.sum())
    seg = np.repeat(np.arange(len(u0)), n)
    k = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
    down = w1[seg] > w0[seg]
    line = np.where(down, lo[seg] + k, hi[seg] - k)
    t = (line - w0[seg]) / (w1[seg] - w0[seg])
    # points of every segment in order: start, crossings, (end added below)
    npts = n + 1
    start = np.cumsum(npts) - npts
    m = int(npts.sum())
    pu = np.empty(m + 1)
    pw = np.empty(m + 1)
    pu[start] = u0
    pw[start] = w0
    cross_pos = np.repeat(start, n) + 1 + k
    pu[cross_pos] = u0[seg] + t * (u1[seg] - u0[seg])
    pw[cross_pos] = line
    # piece j of a segment goes from point j to point j+1; the last ends at the segment end
    last = start + n
    ua = pu[:m]
    wa = pw[:m]
    ub = np.empty(m)
    wb = np.empty(m)
    ub[:-1], wb[:-1] = pu[1:m], pw[1:m]
    ub[last], wb[last] = u1, w1
    gid = np.repeat(g, npts)
    row = np.floor((wa + wb) / 2).astype(np.int64)
    return gid, row, ua, ub, wb - wa


def _prefix(values: np.ndarray) -> np.ndarray:
    """Row prefix sums ``P[r, k] = Σ_{c<k} v[r, c]``, ``k = 0 … w``."""
    h, w = values.shape
    p = np.empty((h, w + 1))
    if cgreen is not None and w > 0:
        # the same sums in the same order, with the GIL released (numpy's cumsum holds
        # it: the engine's other threads would wait)
        cgreen.row_prefix(np.ascontiguousarray(values, dtype=np.float64), p, h, w)
        return p
    p[:, 0] = 0.0
    np.cumsum(values, axis=1, out=p[:, 1:])
    return p


def _piece_sums(
    row: np.ndarray, ua: np.ndarray, ub: np.ndarray, dw: np.ndarray, v: np.ndarray, p: np.ndarray
) -> np.ndarray:
    """``−dw · mean(P_cont)`` over each piece: its share of ∮ P_cont dw (Green's theorem).

    ``P_cont(r, x)`` is the people in row ``r`` left of ``x`` (piecewise linear in
    ``x``), from the row prefix sums ``p`` (:func:`_prefix`). The whole cells a piece
    spans between its two end cells are summed directly: their number is the
    boundary's length in pixels, not the window's area, so no second prefix (of the
    prefix) is needed.
    """
    w = v.shape[1]
    flat = v.reshape(-1)
    lo = np.minimum(ua, ub)
    hi = np.maximum(ua, ub)
    a = np.clip(lo, 0.0, w)
    b = np.clip(hi, 0.0, w)
    ca = np.minimum(np.floor(a), w - 1).astype(np.int64)
    cb = np.minimum(np.ceil(b) - 1, w - 1).astype(np.int64)
    cb = np.maximum(cb, ca)
    base = row * w
    k = len(row)
    pa, pb, pw = p[row, ca], p[row, cb], p[row, w]
    va, vb = flat[base + ca], flat[base + cb]
    same = ca == cb
    # one cell: P_cont is linear there, so its mean is its value at the midpoint
    mid = pa + va * ((a + b) / 2 - ca)
    integral_same = (b - a) * mid
    # several cells: partial first cell + whole cells + partial last cell; over the
    # whole cells ca+1 … cb−1, Σ (P + v/2) = n·P(ca+1) + Σ_j v_j (cb − j − ½)
    n = np.maximum(cb - ca - 1, 0)
    piece = np.repeat(np.arange(k), n)
    j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + np.repeat(ca + 1, n)
    spanned = np.bincount(piece, flat[base[piece] + j] * (cb[piece] - j - 0.5), k)
    left = pa * (ca + 1 - a) + va * (1 - (a - ca) ** 2) / 2
    middle = n * (pa + va) + spanned
    right = pb * (b - cb) + vb * (b - cb) ** 2 / 2
    integral = np.where(same, integral_same, left + middle + right)
    # beyond the right edge of the window P_cont is the row total
    beyond = np.clip(hi - np.maximum(lo, w), 0, None) * pw
    length = hi - lo
    vertical = length == 0
    safe = np.where(vertical, 1.0, length)
    mean = np.where(vertical, np.where(hi >= w, pw, mid), (integral + beyond) / safe)
    return -dw * mean


#: How a polygon covers a coastal pixel when a land-area raster is given: its land first
#: (hazards, admin units: ``min(1, f·k)``), its water first (the region outside every
#: admin unit, mostly sea: ``max(0, 1 − (1 − f)·k)``), or ``"plain"`` (``f``, as without a
#: land-area raster: additive over any partition, for the reconciliation checks).
LandRule = Literal["land-first", "water-first", "plain"]


def _land_correction(
    geoms: np.ndarray,
    gids: np.ndarray,
    raster: PopulationRaster,
    window: tuple[int, int, int, int],
    v: np.ndarray,
    land_rule: LandRule,
) -> tuple[np.ndarray, np.ndarray]:
    """``v · (g(f) − f)`` for coastal pixels that a boundary crosses: ``(gids, people)``.

    The linear sum gives ``Σ v · f``. With a land-area raster a coastal pixel (land
    less than its area, ``k = area / land > 1``) holds ``v · g(f)`` instead (see
    :data:`LandRule`); ``g(f) = f`` at ``f`` = 0 and 1, so only pixels the boundary
    crosses differ, and for those the exact fraction ``f`` is computed from the
    geometry clipped to the pixel.
    """
    r0, r1, c0, c1 = window
    k = raster.land_factor(r0, c0, r1 - r0, c1 - c0)
    coastal = (k > 1.0) & (v > 0)
    if not coastal.any():
        return np.empty(0, dtype=np.int64), np.empty(0)
    rr, cc = np.nonzero(coastal)
    tr = raster.window_transform(r0, c0)
    boxes = shapely.box(
        tr.c + cc * tr.a, tr.f + (rr + 1) * tr.e, tr.c + (cc + 1) * tr.a, tr.f + rr * tr.e
    )
    g_idx, b_idx = shapely.STRtree(boxes).query(shapely.boundary(geoms), predicate="intersects")
    if g_idx.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    f = shapely.area(shapely.intersection(geoms[g_idx], boxes[b_idx])) / abs(tr.a * tr.e)
    f = np.clip(f, 0.0, 1.0)
    kk = k[rr[b_idx], cc[b_idx]]
    g = (
        np.minimum(1.0, f * kk)
        if land_rule == "land-first"
        else np.maximum(0.0, 1.0 - (1.0 - f) * kk)
    )
    return gids[g_idx], v[rr[b_idx], cc[b_idx]] * (g - f)


def _green_sums(
    u: np.ndarray, w: np.ndarray, seg: np.ndarray, slot: np.ndarray, size: int, v: np.ndarray
) -> np.ndarray:
    """∮ P_cont dw over each slot's boundaries (the people of ``v`` inside them).

    The compiled loop (:data:`COMPILED`) where it was built, else the same arithmetic
    in numpy (:func:`_row_pieces`, :func:`_piece_sums`): the same sums, bit for bit.
    """
    h, width = v.shape
    p = _prefix(v)
    if cgreen is not None:
        out = np.zeros(size)
        cgreen.boundary_sums(u, w, seg, slot, out, v, p, h, width)
        return out
    pslot, row, ua, ub, dw = _row_pieces(u, w, seg, slot)
    keep = (row >= 0) & (row < h)
    pslot, row, ua, ub, dw = pslot[keep], row[keep], ua[keep], ub[keep], dw[keep]
    return np.bincount(pslot, _piece_sums(row, ua, ub, dw, v, p), size)


def _window_sums(
    geoms: np.ndarray,
    gids: np.ndarray,
    raster: PopulationRaster,
    window: tuple[int, int, int, int],
    land_rule: LandRule = "land-first",
) -> dict[str, np.ndarray]:
    """Sums for the geometries of one window: ``{name: (ids, values)}`` partials."""
    r0, r1, c0, c1 = window
    u, w, seg, gid_local = _boundary_coords(geoms, raster, r0, c0)
    out: dict[str, np.ndarray] = {}
    if not seg.any():
        return out
    ids, target = np.unique(gids, return_inverse=True)
    slot = np.ascontiguousarray(target[gid_local], dtype=np.int64)
    out["ids"] = ids
    size = len(ids)
    v = raster.read(r0, c0, r1 - r0, c1 - c0)  # a new array: nodata set to 0 in place
    nodata = np.isnan(v)
    np.copyto(v, 0.0, where=nodata)
    out["people"] = _green_sums(u, w, seg, slot, size, v)
    if raster.land_area is not None and land_rule != "plain":
        cid, cpeople = _land_correction(geoms, gids, raster, window, v, land_rule)
        pos = np.searchsorted(ids, cid)
        ok = (pos < size) & (ids[np.minimum(pos, size - 1)] == cid)
        out["people"] += np.bincount(pos[ok], cpeople[ok], size)
    if nodata.any():
        out["weight_nodata"] = _green_sums(u, w, seg, slot, size, nodata.astype(float))
    return out


def morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order key of non-negative integer cells (keeps nearby geometries together)."""
    key = np.zeros(len(x), dtype=np.int64)
    x = x.astype(np.int64)
    y = y.astype(np.int64)
    for bit in range(24):
        key |= ((x >> bit) & 1) << (2 * bit)
        key |= ((y >> bit) & 1) << (2 * bit + 1)
    return key


def _tiles_of(
    geom: shapely.Geometry, raster: PopulationRaster, window: np.ndarray, side: int
) -> list[shapely.Geometry]:
    """Cut a geometry larger than one window into pieces, one per ``side``² tile."""
    r0, r1, c0, c1 = (int(x) for x in window)
    pieces = []
    for wr in range(r0, r1, side):
        for wc in range(c0, c1, side):
            tr = raster.window_transform(wr, wc)
            h, w = min(side, r1 - wr), min(side, c1 - wc)
            piece = clip_rect(geom, tr.c, tr.f + h * tr.e, tr.c + w * tr.a, tr.f)
            if not piece.is_empty:
                pieces.append(polygonal(piece) or shapely.Polygon())
    return [p for p in pieces if not p.is_empty]


def _window_items(
    poly: np.ndarray, idx: np.ndarray, raster: PopulationRaster, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The geometries to count, each with its pixel window: those larger than ``limit``
    pixels cut into pieces of one window each. ``(geometries, owner ids, windows)``.
    """
    side = max(1, int(np.sqrt(limit)))
    windows = pixel_windows(shapely.bounds(poly[idx]), raster.transform, raster.shape)
    items_geom: list[shapely.Geometry] = []
    items_gid: list[int] = []
    items_win: list[np.ndarray] = []
    for j, i in enumerate(idx):
        win = windows[j]
        if (win[1] - win[0]) * (win[3] - win[2]) > limit:
            for piece in _tiles_of(poly[i], raster, win, side):
                items_geom.append(piece)
                items_gid.append(int(i))
                items_win.append(
                    pixel_windows(np.array(piece.bounds), raster.transform, raster.shape)[0]
                )
        else:
            items_geom.append(poly[i])
            items_gid.append(int(i))
            items_win.append(win)
    g_arr = np.empty(len(items_geom), dtype=object)
    g_arr[:] = items_geom
    return (
        g_arr,
        np.asarray(items_gid, dtype=np.int64),
        np.asarray(items_win, dtype=np.int64).reshape(-1, 4),
    )


def _window_groups(
    win_arr: np.ndarray, limit: int
) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """Items grouped, in Z-order, into shared windows of at most ``limit`` pixels: each
    group's window is read and prepared once for all its geometries.
    """
    cell = 256
    order = np.argsort(
        morton(
            (win_arr[:, 2] + win_arr[:, 3]) // (2 * cell),
            (win_arr[:, 0] + win_arr[:, 1]) // (2 * cell),
        ),
        kind="stable",
    )
    groups = []
    start = 0
    while start < len(order):
        r0, r1, c0, c1 = win_arr[order[start]]
        stop = start + 1
        while stop < len(order):
            wr0, wr1, wc0, wc1 = win_arr[order[stop]]
            nr0, nr1, nc0, nc1 = min(r0, wr0), max(r1, wr1), min(c0, wc0), max(c1, wc1)
            if (nr1 - nr0) * (nc1 - nc0) > limit:
                break
            r0, r1, c0, c1 = nr0, nr1, nc0, nc1
            stop += 1
        groups.append((order[start:stop], (int(r0), int(r1), int(c0), int(c1))))
        start = stop
    return groups


def zonal_sums(
    geoms: np.ndarray | list,
    raster: PopulationRaster,
    *,
    pixel_rule: PixelRule = "exact",
    max_window_pixels: int | None = None,
    land_rule: LandRule = "land-first",
) -> ZonalSums:
    """People inside each of many geometries (already in the raster's CRS).

    Parameters
    ----------
    geoms : array of shapely geometries
        Polygonal geometries; points, lines, None and empty hold nobody.
    raster : PopulationRaster
    pixel_rule : {"exact", "center", "all-touched"}
    max_window_pixels : int, optional
        Largest window read at once (default :data:`MAX_WINDOW_PIXELS`); bounds memory.
    land_rule : {"land-first", "water-first"}
        With a land-area raster: how a polygon covers a coastal pixel (:data:`LandRule`).

    Returns
    -------
    ZonalSums

    Notes
    -----
    ``"exact"`` uses Green's theorem: the people in a polygon A are
    ``∮_{∂A} P(x, y) dy`` where ``P`` is the people in the pixel row to the left
    of ``x`` (a piecewise-linear function of ``x`` within each row). The boundary is
    split where it crosses pixel rows; each piece's integral is exact from row
    prefix sums. Each window of the raster is read once for all the geometries in
    it, and no per-pixel coverage grid is built. The result equals
    ``Σ_i v_i · f_i(A)`` with ``f_i`` the exact covered fraction of pixel *i*.
    """
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    n = len(geoms)
    out = {k: np.zeros(n) for k in ("people", "weight", "weight_nodata")}
    poly, valid, area, area_in = areas_on_raster(geoms, raster)
    if pixel_rule != "exact":
        for i in np.nonzero(valid)[0]:
            z = _zonal_sum_raster(poly[i], raster, pixel_rule)
            out["people"][i], out["weight"][i], out["weight_nodata"][i] = (
                z.people,
                z.weight,
                z.weight_nodata,
            )
        return ZonalSums(out["people"], out["weight"], out["weight_nodata"], area, area_in)
    limit = max_window_pixels or MAX_WINDOW_PIXELS
    idx = np.nonzero(valid & (area_in > 0))[0]
    if idx.size == 0:
        return ZonalSums(out["people"], out["weight"], out["weight_nodata"], area, area_in)
    g_arr, gid_arr, win_arr = _window_items(poly, idx, raster, limit)
    groups = _window_groups(win_arr, limit)

    def run(group: tuple[np.ndarray, tuple[int, int, int, int]]) -> dict[str, np.ndarray]:
        members, window = group
        return _window_sums(g_arr[members], gid_arr[members], raster, window, land_rule)

    for part in map_threads(run, groups):
        if not part:
            continue
        for key in ("people", "weight", "weight_nodata"):
            if key in part:
                np.add.at(out[key], part["ids"], part[key])
    # Σ f over the raster's pixels is the area inside the raster in pixels (exactly:
    # the fractions of a polygon's pixels add up to its area), no second pass needed
    out["weight"] = area_in / abs(raster.res[0] * raster.res[1])
    # every term of Σ v·f is non-negative: a negative total is rounding (~1e-12), not people
    for key in ("people", "weight", "weight_nodata"):
        np.maximum(out[key], 0.0, out=out[key])
    return ZonalSums(out["people"], out["weight"], out["weight_nodata"], area, area_in)


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
    return zonal_sums(np.array([geom], dtype=object), raster, pixel_rule=pixel_rule)[0]


def _zonal_sum_raster(
    polygonal: shapely.Geometry, raster: PopulationRaster, pixel_rule: PixelRule
) -> ZonalSum:
    """Reference path: rasterized coverage grids, window by window (any pixel rule)."""
    result = ZonalSum()
    window = pixel_window(polygonal.bounds, raster.transform, raster.shape)
    if window is None:
        return result
    r0, r1, c0, c1 = window
    for wr in range(r0, r1, WINDOW):
        for wc in range(c0, c1, WINDOW):
            h, w = min(WINDOW, r1 - wr), min(WINDOW, c1 - wc)
            part = polygonal
            if (h, w) != (r1 - r0, c1 - c0):
                tr = raster.window_transform(wr, wc)
                part = clip_rect(polygonal, tr.c, tr.f + h * tr.e, tr.c + w * tr.a, tr.f)
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


def reference_sum(
    geom: shapely.Geometry, raster: PopulationRaster, pixel_rule: PixelRule = "exact"
) -> ZonalSum:
    """The same sum by explicit per-pixel coverage grids (slow; an independent check)."""
    poly = polygonal(geom) if geom is not None and not geom.is_empty else None
    if poly is None:
        return ZonalSum()
    z = _zonal_sum_raster(poly, raster, pixel_rule)
    z.area = float(poly.area)
    west, south, east, north = raster.bounds
    z.area_in_raster = float(clip_rect(poly, west, south, east, north).area)
    return z
