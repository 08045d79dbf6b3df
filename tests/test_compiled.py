"""The compiled inner loop (geomines/engine/cgreen.c) against the numpy one it replaces.

The two do the same arithmetic in the same order, so their sums are equal bit for bit;
the numpy loop is itself checked against known areas, exactextract and per-pixel
coverage grids elsewhere (test_exposure, test_properties).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from geomines import read_population
from geomines.engine import exact, zonal_sums
from geomines.testing import write_raster

from .test_properties import _polygons


def _raster_with_nodata(tmp_path, seed, name="r.tif"):
    rng = np.random.default_rng(seed)
    data = rng.gamma(0.6, 30, (40, 50))
    data[rng.random(data.shape) < 0.05] = -9999.0  # nodata pixels, for weight_nodata
    transform = from_origin(500_000.0, 5_000_000.0, 10.0, 10.0)
    path = write_raster(
        tmp_path / name, data, transform=transform, crs="EPSG:32633", nodata=-9999.0
    )
    return read_population(path)


def _both(polys, raster, monkeypatch, **kw):
    compiled = zonal_sums(polys, raster, **kw)
    with monkeypatch.context() as m:
        m.setattr(exact, "cgreen", None)
        plain = zonal_sums(polys, raster, **kw)
    return compiled, plain


def test_the_compiled_loop_is_built():
    # `make test` installs geomines with its extension; without it every other test
    # here would compare the numpy loop with itself
    assert exact.COMPILED, (
        "geomines/engine/cgreen.c was not built (pip install -e . with a C compiler)"
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**31 - 1), n=st.integers(1, 30), window=st.sampled_from([None, 64, 300])
)
def test_compiled_and_numpy_loops_agree_bit_for_bit(tmp_path, monkeypatch, seed, n, window):
    raster = _raster_with_nodata(tmp_path, seed)
    polys = _polygons(seed, n, raster)  # holes, multipolygons, parts beyond the raster
    compiled, plain = _both(polys, raster, monkeypatch, max_window_pixels=window)
    np.testing.assert_array_equal(compiled.people, plain.people)
    np.testing.assert_array_equal(compiled.weight_nodata, plain.weight_nodata)
    assert compiled.weight_nodata.sum() > 0 or plain.weight_nodata.sum() == 0


def test_compiled_loop_on_pixel_lines_and_corners(tmp_path, monkeypatch):
    raster = _raster_with_nodata(tmp_path, 7)
    x0, y0 = 500_000.0, 5_000_000.0
    polys = np.array(
        [
            shapely.box(x0 + 10, y0 - 200, x0 + 120, y0 - 30),  # edges on pixel lines
            shapely.box(x0 - 30, y0 - 410, x0 + 520, y0 + 20),  # the whole raster and beyond
            shapely.Polygon([(x0 + 20, y0 - 20), (x0 + 60, y0 - 60), (x0 + 20, y0 - 100)]),
            shapely.Polygon([(x0 + 495, y0 - 5), (x0 + 505, y0 - 5), (x0 + 500, y0 - 15)]),
        ],
        dtype=object,
    )
    compiled, plain = _both(polys, raster, monkeypatch)
    np.testing.assert_array_equal(compiled.people, plain.people)
    np.testing.assert_array_equal(compiled.weight_nodata, plain.weight_nodata)
    # the first box: 11 x 17 whole pixels, known by construction
    data = raster.read(0, 0, 40, 50)
    expected = np.nansum(data[3:20, 1:12])
    assert compiled.people[0] == pytest.approx(expected, rel=1e-12)


def test_compiled_loop_rejects_what_would_corrupt_memory():
    v = np.ones((2, 3))
    p = np.zeros((2, 4))
    u = np.array([0.5, 1.5, 0.5])
    w = np.array([0.5, 1.5, 1.5])
    seg = np.array([True, True, False])
    out = np.zeros(1)
    with pytest.raises(ValueError, match=r"slot outside 0\.\.0"):
        exact.cgreen.boundary_sums(u, w, seg, np.array([0, 1, 0]), out, v, p, 2, 3)
    with pytest.raises(ValueError, match="not finite"):
        exact.cgreen.boundary_sums(
            np.array([0.5, np.nan, 0.5]), w, seg, np.zeros(3, np.int64), out, v, p, 2, 3
        )
    with pytest.raises(ValueError, match="h x width"):
        exact.cgreen.boundary_sums(u, w, seg, np.zeros(3, np.int64), out, v, p, 3, 3)
    with pytest.raises(TypeError, match="expected a contiguous array of 'd'"):
        exact.cgreen.boundary_sums(u.astype("f4"), w, seg, np.zeros(3, np.int64), out, v, p, 2, 3)


def test_compiled_row_prefix_is_numpys_cumsum_bit_for_bit():
    rng = np.random.default_rng(3)
    # magnitudes far apart: a sum in another order would round differently
    v = rng.gamma(0.3, 50, (37, 129)) * 10.0 ** rng.integers(-6, 9, (37, 129))
    want = np.zeros((37, 130))
    np.cumsum(v, axis=1, out=want[:, 1:])
    got = np.full((37, 130), np.nan)
    exact.cgreen.row_prefix(v, got, 37, 129)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(exact._prefix(v), want)
    with pytest.raises(ValueError, match="h x width"):
        exact.cgreen.row_prefix(v, np.zeros((37, 129)), 37, 129)
    with pytest.raises(TypeError, match="expected a contiguous array of 'd'"):
        exact.cgreen.row_prefix(v.astype("f4"), got, 37, 129)
