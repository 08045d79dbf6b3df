"""A coarse picture of a population raster's density, kept as its blocks are decoded.

For display only (the map's population image), never for counting. An assessment
decodes every block of the raster once (its total and statistics need them), so the
image of people per km² can be made from what was decoded then, instead of decoding
the whole raster a second time for the map.

Each cell of the overview covers ``factor × factor`` pixels of the grid (``factor`` a
power of two chosen so the overview has at most :data:`MAX_CELLS` cells, whatever the
raster's size): it holds the sum of the valid pixels' densities and their number, so
the cell's value is the mean density of its valid pixels, the same as averaging the
pixels read again.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

__all__ = ["MAX_CELLS", "Overview"]

#: Largest number of cells of an overview (two 4-byte numbers each: 16 MB at most).
MAX_CELLS = 1 << 21


class Overview:
    """Sums and counts of valid pixels' densities, ``factor × factor`` pixels per cell.

    Parameters
    ----------
    shape : (int, int)
        Height and width of the raster's grid, in pixels.
    blocks : int
        How many blocks make up the raster: the overview is :attr:`complete` once that
        many distinct blocks were added.
    """

    def __init__(self, shape: tuple[int, int], blocks: int) -> None:
        height, width = shape
        factor = 1
        while math.ceil(height / factor) * math.ceil(width / factor) > MAX_CELLS:
            factor *= 2
        self.factor = factor
        self.shape = (math.ceil(height / factor), math.ceil(width / factor))
        self.sums = np.zeros(self.shape, dtype="float32")
        self.counts = np.zeros(self.shape, dtype="int32")
        self.blocks = blocks
        self.added = 0
        self._lock = threading.Lock()

    @property
    def complete(self) -> bool:
        """Whether every block of the raster was added."""
        return self.added >= self.blocks

    def add(self, row: int, col: int, density: np.ndarray, valid: np.ndarray) -> None:
        """Add one block (each block once): its top-left pixel ``(row, col)`` in the
        grid, each pixel's people per km², and which pixels hold people (not nodata).
        """
        f = self.factor
        values = np.where(valid, density, 0.0)
        sums = _cell_sums(_cell_sums(values, row, f, 0), col, f, 1)
        counts = _cell_sums(_cell_sums(valid.view(np.uint8), row, f, 0, np.int32), col, f, 1)
        r0, c0 = row // f, col // f
        with self._lock:
            self.sums[r0 : r0 + sums.shape[0], c0 : c0 + sums.shape[1]] += sums
            self.counts[r0 : r0 + counts.shape[0], c0 : c0 + counts.shape[1]] += counts
            self.added += 1

    def mean(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Mean density (people per km²) of the cells over pixel rows ``r0:r1`` and columns
        ``c0:c1``, NaN where a cell has no valid pixel. The cells start at pixel
        ``(r0 // factor * factor, c0 // factor * factor)``.
        """
        f = self.factor
        rows = slice(r0 // f, -(-r1 // f))
        cols = slice(c0 // f, -(-c1 // f))
        counts = self.counts[rows, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, self.sums[rows, cols] / counts, np.nan)


def _cell_sums(
    values: np.ndarray, offset: int, factor: int, axis: int, dtype: Any = None
) -> np.ndarray:
    """Sums of ``values`` along ``axis`` over the overview's cells: pixel ``offset + i``
    of the grid falls in cell ``(offset + i) // factor``.
    """
    n = values.shape[axis]
    if offset % factor == 0 and n % factor == 0:  # whole cells: a reshape, far faster
        shape = (*values.shape[:axis], n // factor, factor, *values.shape[axis + 1 :])
        return values.reshape(shape).sum(axis=axis + 1, dtype=dtype)
    cells = (offset + np.arange(n)) // factor
    starts = np.flatnonzero(np.diff(cells, prepend=-1))
    return np.add.reduceat(values, starts, axis=axis, dtype=dtype)
