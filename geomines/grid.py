"""A raster's pixel grid, written once: bounds to pixel windows, tiles of ``side`` pixels,
and back to coordinates.

Windows are ``(r0, r1, c0, c1)``: rows ``r0 .. r1 - 1`` and columns ``c0 .. c1 - 1``.
Tiles are keyed ``(row, col)`` from the grid's top-left corner, each ``side`` × ``side``
pixels; tile ranges are inclusive ``(r0, r1, c0, c1)``. The grid is north-up
(``transform.e < 0``), as :func:`geomines.read_population` ensures.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from affine import Affine

__all__ = ["pixel_window", "pixel_windows", "tile_box", "tile_range", "tile_ranges", "tiles"]


def pixel_windows(bounds: np.ndarray, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """The pixel window each ``(west, south, east, north)`` touches, clipped to the grid.

    A degenerate (zero-width) extent still touches one row or column. Returns an
    ``(n, 4)`` int64 array of ``(r0, r1, c0, c1)``; empty windows have ``r0 >= r1`` or
    ``c0 >= c1``.
    """
    b = np.asarray(bounds, dtype=float).reshape(-1, 4)
    tr = transform
    c0 = np.floor((b[:, 0] - tr.c) / tr.a)
    c1 = np.ceil((b[:, 2] - tr.c) / tr.a)
    r0 = np.floor((b[:, 3] - tr.f) / tr.e)
    r1 = np.ceil((b[:, 1] - tr.f) / tr.e)
    c1 = np.maximum(c1, c0 + 1)
    r1 = np.maximum(r1, r0 + 1)
    height, width = shape
    out = np.column_stack(
        [
            np.clip(r0, 0, height),
            np.clip(r1, 0, height),
            np.clip(c0, 0, width),
            np.clip(c1, 0, width),
        ]
    )
    return out.astype(np.int64)


def pixel_window(
    bounds: tuple[float, float, float, float], transform: Affine, shape: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """:func:`pixel_windows` of one extent, or None when it misses the grid."""
    r0, r1, c0, c1 = (int(v) for v in pixel_windows(np.array([bounds]), transform, shape)[0])
    return None if r0 >= r1 or c0 >= c1 else (r0, r1, c0, c1)


def tile_ranges(bounds: np.ndarray, transform: Affine, side: int) -> np.ndarray:
    """The tiles each extent reaches: an ``(n, 4)`` array of inclusive ``(r0, r1, c0, c1)``
    (not clipped to the grid).
    """
    b = np.asarray(bounds, dtype=float).reshape(-1, 4)
    tr = transform
    c0 = np.floor((b[:, 0] - tr.c) / tr.a / side)
    c1 = np.floor((b[:, 2] - tr.c) / tr.a / side)
    r0 = np.floor((b[:, 3] - tr.f) / tr.e / side)
    r1 = np.floor((b[:, 1] - tr.f) / tr.e / side)
    return np.column_stack([r0, r1, c0, c1]).astype(np.int64)


def tile_range(
    bounds: tuple[float, float, float, float],
    transform: Affine,
    side: int,
    shape: tuple[int, int] | None = None,
) -> tuple[int, int, int, int]:
    """:func:`tile_ranges` of one extent; clipped to the grid's tiles when ``shape`` is given
    (then empty when ``r0 > r1`` or ``c0 > c1``).
    """
    r0, r1, c0, c1 = (int(v) for v in tile_ranges(np.array([bounds]), transform, side)[0])
    r0, r1 = min(r0, r1), max(r0, r1)
    c0, c1 = min(c0, c1), max(c0, c1)
    if shape is not None:
        r0, r1 = max(r0, 0), min(r1, (shape[0] - 1) // side)
        c0, c1 = max(c0, 0), min(c1, (shape[1] - 1) // side)
    return r0, r1, c0, c1


def tile_box(
    key: tuple[int, int], transform: Affine, side: int
) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of tile ``(row, col)``."""
    tr = transform
    left = tr.c + key[1] * side * tr.a
    top = tr.f + key[0] * side * tr.e
    return left, top + side * tr.e, left + side * tr.a, top


def tile_boxes(rows: np.ndarray, cols: np.ndarray, transform: Affine, side: int) -> np.ndarray:
    """:func:`tile_box` of many tiles at once: an ``(n, 4)`` array, the same numbers."""
    tr = transform
    left = tr.c + np.asarray(cols) * side * tr.a
    top = tr.f + np.asarray(rows) * side * tr.e
    return np.column_stack([left, top + side * tr.e, left + side * tr.a, top])


def tiles(shape: tuple[int, int], side: int) -> Iterator[tuple[int, int]]:
    """Every tile key of a grid of ``shape`` pixels, row by row."""
    for r in range(-(-shape[0] // side)):
        for c in range(-(-shape[1] // side)):
            yield r, c
