"""The one grid helper: bounds to windows and tiles, and back (known by construction)."""

from __future__ import annotations

import numpy as np
from affine import Affine

from geomines.grid import pixel_window, pixel_windows, tile_box, tile_range, tiles

# 10 × 20 pixels of 0.5 units, top-left corner at (100, 50): x 100..110, y 45..50
TR = Affine(0.5, 0, 100, 0, -0.5, 50)
SHAPE = (10, 20)


def test_pixel_windows():
    w = pixel_windows(np.array([[100.2, 47.1, 101.0, 49.9],   # inside
                                [99.0, 44.0, 120.0, 60.0],    # beyond: clipped to the grid
                                [103.0, 48.0, 103.0, 48.0],   # a point: one pixel
                                [200.0, 0.0, 201.0, 1.0]]),   # outside: empty
                      TR, SHAPE)
    assert w[0].tolist() == [0, 6, 0, 2]
    assert w[1].tolist() == [0, 10, 0, 20]
    assert w[2].tolist() == [4, 5, 6, 7]
    r0, r1, c0, c1 = w[3]
    assert r0 >= r1 or c0 >= c1
    assert pixel_window((200.0, 0.0, 201.0, 1.0), TR, SHAPE) is None
    assert pixel_window((100.2, 47.1, 101.0, 49.9), TR, SHAPE) == (0, 6, 0, 2)


def test_tiles_and_boxes():
    # tiles of 4 px (2 units): 3 rows × 5 cols of tiles over the 10 × 20 grid
    assert len(list(tiles(SHAPE, 4))) == 3 * 5
    assert tile_range((100.0, 45.0, 110.0, 50.0), TR, 4, SHAPE) == (0, 2, 0, 4)
    assert tile_range((90.0, 30.0, 130.0, 70.0), TR, 4, SHAPE) == (0, 2, 0, 4)
    # unclipped: y 70..30 is pixel rows -40..40, tiles -10..10; x 90..130 tiles -5..15
    assert tile_range((90.0, 30.0, 130.0, 70.0), TR, 4) == (-10, 10, -5, 15)
    assert tile_box((1, 2), TR, 4) == (104.0, 46.0, 106.0, 48.0)
    # each tile's box maps back to that tile alone (inset by a hair)
    for key in tiles(SHAPE, 4):
        x0, y0, x1, y1 = tile_box(key, TR, 4)
        r0, r1, c0, c1 = tile_range((x0 + 1e-9, y0 + 1e-9, x1 - 1e-9, y1 - 1e-9), TR, 4)
        assert (r0, c0) == key and (r1, c1) == key
