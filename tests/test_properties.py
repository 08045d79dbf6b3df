"""Invariants that hold for any raster and any polygons (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from geomines import read_population
from geomines.engine import union_sum, zonal_sums
from geomines.engine.rings import buffers_m
from geomines.testing import write_raster

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _raster(
    tmp_path,
    seed,
    shape=(40, 50),
    origin=(500_000.0, 5_000_000.0),
    res=10.0,
    name="r.tif",
    ones=False,
):
    rng = np.random.default_rng(seed)
    data = np.ones(shape) if ones else rng.gamma(0.6, 30, shape)
    transform = from_origin(origin[0], origin[1], res, res)
    path = write_raster(tmp_path / name, data, transform=transform, crs="EPSG:32633")
    return read_population(path), data


def _polygons(seed, n, raster, *, min_r=1.0, max_r=150.0):
    rng = np.random.default_rng(seed)
    west, south, east, north = raster.bounds
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(west - 50, east + 50), rng.uniform(south - 50, north + 50)
        k = int(rng.integers(3, 14))
        a = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = rng.uniform(min_r, max_r) * rng.uniform(0.3, 1.0, k)
        p = shapely.make_valid(
            shapely.Polygon(np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)]))
        )
        if rng.random() < 0.3:
            p = p.difference(shapely.Point(cx, cy).buffer(r.min() * 0.4))
        out.append(p)
    return np.array(out, dtype=object)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 40))
def test_polygons_that_tile_the_raster_sum_to_its_total(tmp_path, seed, n):
    raster, data = _raster(tmp_path, seed)
    rng = np.random.default_rng(seed)
    extent = shapely.box(*raster.bounds)
    pts = shapely.MultiPoint(rng.uniform(raster.bounds[:2], raster.bounds[2:], (n, 2)))
    cells = [c.intersection(extent) for c in shapely.voronoi_polygons(pts, extend_to=extent).geoms]
    sums = zonal_sums(np.array(cells, dtype=object), raster)
    assert sums.people.sum() == pytest.approx(data.sum(), rel=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 25))
def test_union_between_largest_and_sum(tmp_path, seed, n):
    raster, data = _raster(tmp_path, seed)
    polys = _polygons(seed, n, raster)
    per = zonal_sums(polys, raster).people
    union = union_sum(polys, raster, tile=16).total.people
    # what float64 coordinates allow: clipping at a tile border puts a vertex within
    # eps·|x| metres of its true place (1e-9 m at 5e6 m), which moves at most
    # eps·|x|·perimeter m² of area, each m² holding at most the densest pixel's people
    grid = raster.transform
    coord = max(abs(v) for v in raster.bounds)
    densest = float(data.max()) / abs(grid.a * grid.e)
    slack = np.finfo(float).eps * coord * float(shapely.length(polys).sum()) * densest
    assert union <= per.sum() * (1 + 1e-9) + 1e-9 + slack
    assert union >= per.max() * (1 - 1e-9) - 1e-9 - slack
    # the tile size never changes the union's count (beyond that rounding)
    assert union == pytest.approx(
        union_sum(polys, raster, tile=1024).total.people, rel=1e-9, abs=1e-9 + slack
    )


@SETTINGS
@given(
    seed=st.integers(0, 2**31 - 1),
    d=st.lists(st.floats(1, 400), min_size=2, max_size=4, unique=True),
)
def test_more_distance_never_fewer_people(tmp_path, seed, d):
    import geopandas as gpd

    raster, _ = _raster(tmp_path, seed)
    polys = _polygons(seed, 5, raster, max_r=60)
    dists = sorted(d)
    rings = buffers_m(gpd.GeoSeries(polys, crs="EPSG:32633"), dists)
    previous = zonal_sums(polys, raster).people
    for ring in rings:
        current = zonal_sums(np.asarray(ring.values), raster).people
        assert (current >= previous - 1e-9 * (1 + previous)).all()
        previous = current


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), dx=st.integers(-7, 7), dy=st.integers(-7, 7))
def test_translating_by_whole_pixels_changes_nothing(tmp_path, seed, dx, dy):
    raster, _ = _raster(tmp_path, seed, name="a.tif")
    moved, _ = _raster(
        tmp_path, seed, name="b.tif", origin=(500_000.0 + 10 * dx, 5_000_000.0 + 10 * dy)
    )
    polys = _polygons(seed, 8, raster)
    shifted = shapely.transform(polys, lambda xy: xy + np.array([10.0 * dx, 10.0 * dy]))
    a = zonal_sums(polys, raster).people
    b = zonal_sums(shifted, moved).people
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_reprojecting_hazards_first_changes_little(tmp_path, seed):
    """Hazards above 100 pixels: assessed from UTM or from WGS 84, within 0.5%."""
    import geopandas as gpd

    raster, _ = _raster(tmp_path, seed, shape=(80, 80))
    polys = _polygons(seed, 4, raster, min_r=120, max_r=300)
    utm = gpd.GeoSeries(polys, crs="EPSG:32633")
    back = np.asarray(utm.to_crs(4326).to_crs(32633).values)  # vertices through WGS 84
    a = zonal_sums(polys, raster)
    b = zonal_sums(back, raster)
    big = a.weight > 100
    np.testing.assert_allclose(b.people[big], a.people[big], rtol=5e-3)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), cut=st.floats(0.05, 0.95))
def test_splitting_a_polygon_leaves_the_total_unchanged(tmp_path, seed, cut):
    raster, _ = _raster(tmp_path, seed)
    poly = _polygons(seed, 1, raster, min_r=50, max_r=250)[0]
    minx, miny, maxx, maxy = poly.bounds
    x = minx + cut * (maxx - minx)
    left = shapely.clip_by_rect(poly, minx - 1, miny - 1, x, maxy + 1)
    right = shapely.clip_by_rect(poly, x, miny - 1, maxx + 1, maxy + 1)
    whole, a, b = zonal_sums(np.array([poly, left, right], dtype=object), raster).people
    assert a + b == pytest.approx(whole, rel=1e-9, abs=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_raster_of_ones_gives_area_in_pixels(tmp_path, seed):
    raster, _ = _raster(tmp_path, seed, ones=True)
    polys = _polygons(seed, 10, raster)
    sums = zonal_sums(polys, raster)
    west, south, east, north = raster.bounds
    inside = shapely.area(shapely.clip_by_rect(polys, west, south, east, north)) / 100.0
    np.testing.assert_allclose(sums.people, inside, rtol=1e-9, atol=1e-9)
