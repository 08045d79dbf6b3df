"""The geometry helpers the unions rest on, against GEOS's own union."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geomines.geometry import components, invalid, union_polygons


def test_components_by_construction():
    # 0-5 and 1-3-4 joined, 2 alone; edges given in both directions and repeated
    a = np.array([0, 3, 4, 5, 1])
    b = np.array([5, 1, 3, 0, 3])
    assert components(6, a, b).tolist() == [0, 1, 2, 1, 1, 0]
    # a long chain joined from its far end still ends in one component
    n = 1000
    chain = components(n, np.arange(n - 1)[::-1], np.arange(1, n)[::-1])
    assert (chain == 0).all()
    assert components(3, np.array([], dtype=int), np.array([], dtype=int)).tolist() == [0, 1, 2]


@pytest.mark.parametrize("seed", range(8))
def test_union_polygons_is_geos_union(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    centres = shapely.points(rng.uniform(0, 100, (n, 2)))
    geoms = shapely.buffer(centres, rng.uniform(0.2, 6, n), quad_segs=4)
    mine = union_polygons(geoms)
    geos = shapely.union_all(geoms)
    assert shapely.is_valid(mine)
    assert mine.area == pytest.approx(geos.area, rel=1e-12)
    assert shapely.symmetric_difference(mine, geos).area < 1e-9 * geos.area


def test_union_polygons_edges():
    a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)  # touching: merged
    assert union_polygons([a, b]).equals(shapely.box(0, 0, 2, 1))
    apart = union_polygons([a, shapely.box(5, 5, 6, 6)])  # apart: kept as they are
    assert apart.geom_type == "MultiPolygon" and apart.area == 2
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])  # invalid: made valid
    fixed = union_polygons([bowtie, shapely.LineString([(9, 9), (10, 10)]), None])
    assert shapely.is_valid(fixed) and fixed.area == pytest.approx(2.0)
    assert union_polygons([]).is_empty and union_polygons([shapely.Point(0, 0)]).is_empty
    assert invalid(np.array([a, bowtie])).tolist() == [False, True]


@pytest.mark.parametrize("seed", range(4))
def test_union_of_union_pieces_is_geos_union(seed):
    """Pieces of earlier unions (each valid, its own polygons apart) merged again."""
    rng = np.random.default_rng(100 + seed)
    groups = []
    for _ in range(int(rng.integers(2, 12))):
        n = int(rng.integers(1, 80))
        centres = shapely.points(rng.uniform(0, 100, (n, 2)))
        groups.append(shapely.union_all(shapely.buffer(centres, rng.uniform(0.5, 8, n))))
    mine = union_polygons(groups)
    geos = shapely.union_all(groups)
    assert shapely.is_valid(mine)
    assert shapely.symmetric_difference(mine, geos).area < 1e-9 * geos.area


@pytest.mark.parametrize("crowded", [True, False])
def test_crowded_and_sparse_sets_both_give_geos_union(crowded, monkeypatch):
    import geomines.geometry as geometry

    calls = []
    real = geometry._crowded
    monkeypatch.setattr(geometry, "_crowded", lambda t, p: calls.append(real(t, p)) or calls[-1])
    rng = np.random.default_rng(5)
    spread = 40 if crowded else 4000
    centres = shapely.points(rng.uniform(0, spread, (300, 2)))
    geoms = shapely.buffer(centres, 15, quad_segs=4)
    mine = union_polygons(geoms)
    geos = shapely.union_all(geoms)
    assert calls == [crowded]  # the path taken is the one this set calls for
    assert shapely.is_valid(mine)
    assert shapely.symmetric_difference(mine, geos).area < 1e-9 * geos.area


def test_map_array_slices_on_threads_keep_order(monkeypatch):
    """map_array gives func(items) whatever the thread count: slices in order, each
    element's result where it was (here: to_geojson of each geometry)."""
    from geomines.engine.executors import map_array

    rng = np.random.default_rng(11)
    geoms = shapely.buffer(shapely.points(rng.uniform(0, 100, (2001, 2))), 1.0, quad_segs=2)
    want = shapely.to_geojson(geoms)
    seen = []

    def func(part):
        seen.append(len(part))
        return shapely.to_geojson(part)

    for n in ("1", "2", "3", "8"):
        monkeypatch.setenv("GEOMINES_THREADS", n)
        seen.clear()
        got = map_array(func, geoms)
        assert list(got) == list(want)
        assert sum(seen) == len(geoms) and (len(seen) == 1) == (n == "1")
    assert list(map_array(func, geoms[:3])) == list(want[:3])  # too few to slice


def test_area_m2_a_chunk_at_a_time_gives_the_same_areas(monkeypatch):
    """Areas are computed a chunk at a time (bounded copies); a geometry's area is the
    same whichever chunk it falls in, nulls and empties stay NaN, the index is kept
    apart from the positions, and the areas are pyproj's geodesic ones to 1e-4."""
    import geopandas as gpd
    from pyproj import Geod

    from geomines.engine import rings

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-60, 60, 60), rng.uniform(-60, 60, 60)
    geoms = list(shapely.buffer(shapely.points(lon, lat), rng.uniform(0.001, 0.3, 60)))
    geoms[5], geoms[17] = None, shapely.Polygon()
    series = gpd.GeoSeries(geoms, index=np.arange(60)[::-1] * 3, crs="EPSG:4326")
    whole = rings.area_m2(series)
    monkeypatch.setattr(rings, "AREA_CHUNK", 7)
    chunked = rings.area_m2(series)
    np.testing.assert_array_equal(chunked, whole)
    assert np.isnan(chunked[[5, 17]]).all() and np.isfinite(np.delete(chunked, [5, 17])).all()
    geod = Geod(ellps="WGS84")
    for i in (0, 23, 59):
        expected = abs(geod.geometry_area_perimeter(geoms[i])[0])
        assert chunked[i] == pytest.approx(expected, rel=1e-4)
    square = gpd.GeoSeries([shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    assert rings.area_m2(square)[0] == pytest.approx(
        abs(geod.geometry_area_perimeter(shapely.box(0, 0, 1, 1))[0]), rel=1e-4
    )


@pytest.mark.parametrize("lat", [0.25, 48.25, 70.25, -60.25, 85.25, 89.75])
def test_ring_buffers_leave_the_plane_within_a_tenth_of_a_millimetre_of_proj(lat):
    """The buffers' way back to lon/lat (a polynomial fitted to PROJ where it fits, PROJ
    itself elsewhere) lands every vertex within 1e-9° of PROJ's own inverse, and every
    vertex of a point's 5 km buffer is 5 km from it on the ellipsoid (pyproj's
    geodesic), at the equator, mid and high latitudes and next to a pole."""
    from pyproj import Geod

    from geomines.engine.planefit import plane_to_lonlat
    from geomines.engine.rings import aeqd

    rng = np.random.default_rng(int(abs(lat) * 100))
    lon0 = 30.25
    local = aeqd(lon0, lat)
    lon = lon0 + rng.uniform(-0.25, 0.25, 300)
    lat_pts = np.clip(lat + rng.uniform(-0.25, 0.25, 300), -89.99, 89.99)
    fwd = local.transform(lon, lat_pts)
    buffered = shapely.buffer(shapely.points(*fwd), 5000.0, quad_segs=16)
    got = shapely.get_coordinates(plane_to_lonlat(buffered, local, lon0))
    xy = shapely.get_coordinates(buffered)
    want = np.column_stack(local.transform(xy[:, 0], xy[:, 1], direction="INVERSE"))
    dlon = (got[:, 0] - want[:, 0] + 180.0) % 360.0 - 180.0
    assert np.abs(dlon).max() < 1e-9 and np.abs(got[:, 1] - want[:, 1]).max() < 1e-9
    owner = np.repeat(np.arange(300), shapely.get_num_coordinates(buffered))
    _, _, dist = Geod(ellps="WGS84").inv(lon[owner], lat_pts[owner], got[:, 0], got[:, 1])
    # the polygon's vertices lie on the circle (GEOS puts them at the radius)
    np.testing.assert_allclose(dist, 5000.0, rtol=2e-5)


def test_the_fit_is_refused_where_it_cannot_stand_in_for_proj():
    """The check can fail: over a box 4,000 km wide, or one holding a pole, the fitted
    polynomial is off PROJ by more than the tolerance, so it is refused and PROJ moves
    the vertices (the result equals PROJ's exactly)."""
    from geomines.engine.planefit import TOLERANCE_DEG, PlaneFit, plane_to_lonlat
    from geomines.engine.rings import aeqd

    def inverse_of(transformer):
        return lambda x, y: transformer.transform(x, y, direction="INVERSE")

    local = aeqd(30.0, 45.0)
    wide = PlaneFit(inverse_of(local), (-2e6, -2e6, 2e6, 2e6), TOLERANCE_DEG, (30.0, 0.0), True)
    assert wide.coef is None and wide.error > 1e-9
    near = PlaneFit(inverse_of(local), (-4e4, -4e4, 4e4, 4e4), TOLERANCE_DEG, (30.0, 0.0), True)
    assert near.coef is not None and near.error < 1e-9
    polar = aeqd(0.0, 89.75)
    at_pole = PlaneFit(inverse_of(polar), (-5e4, -5e4, 5e4, 5e4), TOLERANCE_DEG, (0.0, 0.0), True)
    assert at_pole.coef is None
    grid = np.linspace(-2e6, 2e6, 90)
    pts = shapely.points(*(a.ravel() for a in np.meshgrid(grid, grid)))
    got = shapely.get_coordinates(plane_to_lonlat(pts, local, 30.0))
    xy = shapely.get_coordinates(pts)
    want = np.column_stack(local.transform(xy[:, 0], xy[:, 1], direction="INVERSE"))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("crs", ["ESRI:54009", "EPSG:32636", "EPSG:3035"])
def test_buffers_into_a_projected_grid_stay_within_a_tenth_of_a_millimetre_of_proj(crs):
    """Buffers moved into a projected raster's CRS (Mollweide, as GHSL; UTM; LAEA Europe)
    through the fitted map land every vertex within 1e-4 m of PROJ's own chain (aeqd
    inverse, then the CRS), and their vertices stay 5 km from the point on the ellipsoid."""
    import geopandas as gpd
    from pyproj import Geod, Transformer

    from geomines.crs import DENSIFY_M
    from geomines.engine import rings

    rng = np.random.default_rng(11)
    lon, lat = 32.0 + rng.uniform(0, 0.45, 400), 48.0 + rng.uniform(0, 0.45, 400)
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326")
    got = rings.buffers_m(pts, [5000.0], to_crs=crs)[0].values
    # the same chain with PROJ alone, vertex by vertex
    local = rings.aeqd(32.25, 48.25)  # the 0.5° cell's centre
    plane = shapely.buffer(
        shapely.points(np.column_stack(local.transform(lon, lat))), 5000.0, quad_segs=16
    )
    dense = shapely.segmentize(plane, DENSIFY_M)
    xy = shapely.get_coordinates(dense)
    to_dst = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    want = np.column_stack(to_dst.transform(*local.transform(xy[:, 0], xy[:, 1], direction="INVERSE")))
    from geomines.engine.planefit import PlaneFit

    def chain(x, y):
        return to_dst.transform(*local.transform(x, y, direction="INVERSE"))

    box = (*xy.min(axis=0), *xy.max(axis=0))
    assert PlaneFit(chain, box, rings.TOLERANCE_M).coef is not None  # the fit is what ran
    got_xy = shapely.get_coordinates(got)
    assert got_xy.shape == want.shape
    assert np.abs(got_xy - want).max() < 1e-4
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    glon, glat = back.transform(got_xy[:, 0], got_xy[:, 1])
    owner = np.repeat(np.arange(400), shapely.get_num_coordinates(got))
    _, _, dist = Geod(ellps="WGS84").inv(lon[owner], lat[owner], glon, glat)
    assert dist.max() < 5000.0 * (1 + 2e-5) and dist.min() > 5000.0 * np.cos(np.pi / 64) * (1 - 2e-5)
