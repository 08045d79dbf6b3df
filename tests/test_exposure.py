"""Exact sums: known answers by construction, conservation, and exactextract agreement."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

from geomines import read_population, zonal_sum
from geomines.engine import exact as exposure_mod


def test_box_in_ones_holds_exactly_2_25(ones_4x4):
    r = read_population(ones_4x4)
    z = zonal_sum(shapely.box(0.5, 0.5, 2.0, 2.0), r)
    assert z.people == pytest.approx(2.25, abs=1e-12)
    assert z.weight == pytest.approx(2.25, abs=1e-12)


def test_pixel_rules_differ_as_documented(ones_4x4):
    r = read_population(ones_4x4)
    g = shapely.box(0.5, 0.5, 2.0, 2.0)
    # centres (0.5,0.5),(1.5,0.5),(0.5,1.5),(1.5,1.5): (0.5, y) lie on the edge
    assert zonal_sum(g, r, pixel_rule="center").people in (1.0, 2.0, 4.0)
    assert zonal_sum(shapely.box(0.2, 0.2, 1.8, 1.8), r, pixel_rule="center").people == 4
    assert zonal_sum(g, r, pixel_rule="all-touched").people == 4
    assert zonal_sum(shapely.box(0.4, 0.4, 0.6, 0.6), r, pixel_rule="center").people == 1
    assert zonal_sum(shapely.box(0.4, 0.4, 0.6, 0.6), r).people == pytest.approx(0.04)


def test_polygons_that_tile_the_raster_sum_to_its_total(raster_factory):
    rng = np.random.default_rng(1)
    data = rng.gamma(0.5, 20, (37, 53))
    r = read_population(raster_factory(data, transform=from_origin(0, 37, 1, 1)))
    # an irregular tiling: a Voronoi partition of the raster's extent
    pts = shapely.MultiPoint(rng.uniform([0, 0], [53, 37], (40, 2)))
    extent = shapely.box(0, 0, 53, 37)
    cells = [c.intersection(extent) for c in shapely.voronoi_polygons(pts, extend_to=extent).geoms]
    total = sum(zonal_sum(c, r).people for c in cells)
    assert total == pytest.approx(data.sum(), rel=1e-9)
    assert r.total() == pytest.approx(data.sum(), rel=1e-12)


def test_polygon_with_hole_and_multipolygon(ones_4x4):
    r = read_population(ones_4x4)
    holed = shapely.box(0, 0, 4, 4).difference(shapely.box(1, 1, 3, 3))
    assert zonal_sum(holed, r).people == pytest.approx(12)
    multi = shapely.MultiPolygon([shapely.box(0, 0, 0.5, 0.5), shapely.box(3, 3, 4, 3.5)])
    assert zonal_sum(multi, r).people == pytest.approx(0.75)


def test_outside_raster_counts_nothing_and_is_reported(ones_4x4):
    r = read_population(ones_4x4)
    z = zonal_sum(shapely.box(10, 10, 11, 11), r)
    assert z.people == 0 and z.share_outside == 1
    half = zonal_sum(shapely.box(3, 0, 5, 1), r)
    assert half.people == pytest.approx(1)
    assert half.share_outside == pytest.approx(0.5)


def test_points_and_lines_hold_nobody(ones_4x4):
    r = read_population(ones_4x4)
    assert zonal_sum(shapely.Point(1, 1), r).people == 0
    assert zonal_sum(shapely.LineString([(0, 0), (4, 4)]), r).people == 0


def test_nodata_pixels_are_not_people_and_are_reported(raster_factory):
    data = np.ones((4, 4), dtype="float32")
    data[0, 0] = -99
    r = read_population(raster_factory(data, nodata=-99))
    z = zonal_sum(shapely.box(0, 3, 2, 4), r)  # top row, two pixels, one nodata
    assert z.people == pytest.approx(1)
    assert z.share_nodata == pytest.approx(0.5)


def test_windowed_processing_matches_single_window(raster_factory, monkeypatch):
    rng = np.random.default_rng(2)
    data = rng.uniform(0, 10, (60, 70))
    r = read_population(raster_factory(data, transform=from_origin(0, 60, 1, 1)))
    g = shapely.Point(35, 30).buffer(27.3)
    whole = zonal_sum(g, r).people
    monkeypatch.setattr(exposure_mod, "WINDOW", 7)
    assert zonal_sum(g, r).people == pytest.approx(whole, rel=1e-12)


def test_agrees_with_exactextract_on_random_data(raster_factory, tmp_path):
    exactextract = pytest.importorskip("exactextract")
    import geopandas as gpd

    rng = np.random.default_rng(3)
    data = (rng.pareto(1.5, (120, 150)) * 10).astype("float32")
    data[rng.random(data.shape) < 0.05] = -99
    path = raster_factory(data, transform=from_origin(500, 3000, 10, 10), nodata=-99, tiled=True)
    r = read_population(path)
    polys = []
    for _ in range(60):
        cx, cy = rng.uniform(400, 2100), rng.uniform(1700, 3100)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 9))
        radii = rng.uniform(1, 250) * rng.uniform(0.3, 1.0, 9)
        star = shapely.Polygon(
            np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        )
        polys.append(shapely.make_valid(star))
    polys.append(shapely.box(505, 2995, 506, 2996))  # far below one pixel
    polys.append(shapely.box(300, 2000, 700, 2400))  # partly outside
    gdf = gpd.GeoDataFrame(geometry=polys, crs="EPSG:32633")
    ours = np.array([zonal_sum(g, r).people for g in polys])
    theirs = exactextract.exact_extract(str(path), gdf, "sum", output="pandas")["sum"].to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def _discs(
    rng: np.random.Generator, top: float, n: int, lo: float, hi: float, r_max: float, **buffer
) -> np.ndarray:
    """``n`` random discs (centres in ``lo..hi`` px from the raster's west and top edges,
    radius 2..``r_max``) on a raster of 1-unit pixels whose top edge is ``top``.
    """
    return np.array(
        [
            shapely.Point(rng.uniform(lo, hi), top - rng.uniform(lo, hi)).buffer(
                rng.uniform(2, r_max), **buffer
            )
            for _ in range(n)
        ],
        dtype=object,
    )


def test_unions_built_in_batches_equal_the_union_and_reference(raster_factory):
    """UnionBuilder: a union fed in batches is the union (exact reference, no double count)."""
    from geomines.engine import UnionBuilder, union_sum
    from geomines.engine.exact import reference_sum

    rng = np.random.default_rng(8)
    path = raster_factory(rng.gamma(0.6, 5, (300, 300)).astype("float32"))
    raster = read_population(path)
    top = raster.bounds[3]
    geoms = _discs(rng, top, 80, 20, 280, 25, quad_segs=6)
    builder = UnionBuilder(raster, 2, tile=32)
    for part in np.array_split(np.arange(80), 9):
        builder.add(0, geoms[part])
        builder.add(1, geoms[part[part % 2 == 0]])
    batched, evens = builder.result()
    whole = union_sum(geoms, raster, tile=32)
    assert batched.total.people == pytest.approx(whole.total.people, rel=1e-12)
    expected = reference_sum(shapely.union_all(geoms), raster)
    assert batched.total.people == pytest.approx(expected.people, rel=1e-9)
    assert evens.total.people == pytest.approx(
        reference_sum(shapely.union_all(geoms[::2]), raster).people, rel=1e-9
    )
    # the pieces partition the union over the raster (work is bounded by the raster's
    # extent): no overlap between tiles
    assert shapely.area(batched.pieces).sum() == pytest.approx(
        shapely.clip_by_rect(shapely.union_all(geoms), *raster.bounds).area, rel=1e-12
    )


def test_union_tiles_are_the_unions_pieces_and_read_no_pixel(raster_factory, monkeypatch):
    """engine.union_tiles: the pieces and tiles of engine.union, without counting (no
    block of the raster decoded); their area is the union's over the raster.
    """
    from geomines.engine import LocalEngine
    from geomines.io.population import PopulationRaster

    rng = np.random.default_rng(5)
    raster = read_population(raster_factory(rng.gamma(0.6, 5, (200, 200)).astype("float32")))
    top = raster.bounds[3]
    geoms = _discs(rng, top, 60, 0, 200, 30)
    engine = LocalEngine(union_tile=32)
    counted = engine.union(geoms, raster)
    decoded = []
    real = PopulationRaster._block
    monkeypatch.setattr(
        PopulationRaster, "_block", lambda *a, **k: decoded.append(a) or real(*a, **k)
    )
    raster.drop_cache()
    tiles = engine.union_tiles(geoms, raster)
    assert decoded == []
    assert tiles.keys == counted.keys and len(tiles.keys) > 4
    assert all(a.equals_exact(b, 0) for a, b in zip(tiles.pieces, counted.pieces, strict=True))
    on_raster = shapely.union_all(geoms).intersection(shapely.box(*raster.bounds))
    assert shapely.area(tiles.pieces).sum() == pytest.approx(on_raster.area, rel=1e-9)


def test_unions_keep_only_the_pieces_asked_for_and_every_total(raster_factory):
    """pieces_of: the unions listed come back whole; the others with their totals and no
    pieces (on one partition and on several), so a union whose total alone is wanted
    never travels back from the workers.
    """
    from geomines.engine import LocalEngine
    from geomines.engine.core import PartitionedEngine
    from geomines.engine.exact import reference_sum

    rng = np.random.default_rng(34)
    raster = read_population(raster_factory(rng.gamma(0.6, 5, (200, 200)).astype("float32")))
    top = raster.bounds[3]
    geoms = _discs(rng, top, 70, 10, 190, 30, quad_segs=6)
    group = rng.integers(0, 3, 70)
    groups = [geoms[group == k] for k in range(3)]
    for engine in (LocalEngine(union_tile=32), PartitionedEngine(union_tile=32, partition_px=64)):
        full = engine.unions(groups, raster, derived=[[0, 1]])
        lean = engine.unions_later(groups, raster, derived=[[0, 1]], pieces_of=[1, 3])()
        assert len(lean) == 4
        for k, (a, b) in enumerate(zip(full, lean, strict=True)):
            assert b.total.people == a.total.people  # the same counting, to the bit
            if k in (1, 3):
                assert b.keys == a.keys and len(b.keys) > 1
                assert all(x.equals_exact(y, 0) for x, y in zip(a.pieces, b.pieces, strict=True))
            else:
                assert b.pieces.size == 0 and b.keys == []
        union_01 = shapely.union_all(geoms[group != 2])
        assert lean[3].total.people == pytest.approx(
            reference_sum(union_01, raster).people, rel=1e-9
        )
        on_raster = union_01.intersection(shapely.box(*raster.bounds))
        assert shapely.area(lean[3].pieces).sum() == pytest.approx(on_raster.area, rel=1e-9)


def test_unions_of_unions_equal_the_union_of_members(raster_factory):
    """A derived union (built from groups' tile pieces, in tiles 4× the groups', fed as
    the groups' tiles close) counts the people of the union of all members: checked
    against the exact reference of shapely's union, and nobody counted twice."""
    from geomines.engine import LocalEngine
    from geomines.engine.exact import reference_sum

    rng = np.random.default_rng(21)
    path = raster_factory(rng.gamma(0.6, 5, (300, 300)).astype("float32"))
    raster = read_population(path)
    top = raster.bounds[3]
    geoms = _discs(rng, top, 90, 20, 280, 40, quad_segs=6)
    group = rng.integers(0, 3, 90)
    expected = reference_sum(shapely.union_all(geoms[group != 2]), raster).people
    # derived in one go, same tiles (the engine's unions(derived=...))
    engine = LocalEngine(union_tile=32)
    *parts, both = engine.unions([geoms[group == k] for k in range(3)], raster, derived=[[0, 1]])
    assert both.total.people == pytest.approx(expected, rel=1e-9)
    assert both.total.people < parts[0].total.people + parts[1].total.people  # overlaps
    # derived into tiles 4× larger, tile by tile as the groups' tiles are flushed
    builder = engine.union_builder(raster, 3, tile=8, pieces_of=[2])
    assert builder.sides == [8, 8, 32]
    for k in range(2):
        builder.add(k, geoms[group == k])
    tiles = sorted({key for k in range(2) for key in builder.state[(0, 0)].tiles[k]})
    for chunk in np.array_split(np.arange(len(tiles)), 5):
        keys = [tiles[i] for i in chunk]
        builder.derive(2, [0, 1], keys)
        builder.flush(keys, [0, 1])
    g0, _g1, derived = builder.result()
    assert derived.total.people == pytest.approx(expected, rel=1e-9)
    assert g0.total.people == pytest.approx(parts[0].total.people, rel=1e-9)
    # the derived pieces are disjoint and cover the union over the raster
    area = shapely.area(derived.pieces).sum()
    on_raster = shapely.union_all(geoms[group != 2]).intersection(shapely.box(*raster.bounds))
    assert area == pytest.approx(on_raster.area, rel=1e-9)
