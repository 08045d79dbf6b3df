"""assess(): per hazard, dissolved, rings, admin units; totals that reconcile."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

from geomines import (
    CRSError,
    InputError,
    NoOverlapError,
    ReprojectionWarning,
    assess,
    read_hazards,
    read_population,
    read_vector,
    zonal_sum,
)
from geomines.testing import write_raster

from .conftest import SAO_MIGUEL

INSCRIBED = 64 / (2 * math.pi) * math.sin(2 * math.pi / 64)  # 64-gon / circle area


@pytest.fixture
def uniform_utm(raster_factory):
    """1 person per 10 m pixel (10,000 per km²) over 20 km × 20 km in UTM 33N."""
    return raster_factory(
        np.ones((2000, 2000), dtype="float32"),
        transform=from_origin(400_000, 5_010_000, 10, 10),
        crs="EPSG:32633",
    )


def test_rings_around_a_point_match_pi_r_squared(uniform_utm):
    point = gpd.GeoDataFrame(
        {"hazard_id": ["P"]}, geometry=[shapely.Point(410_000, 5_000_000)], crs="EPSG:32633"
    )
    a = assess(point, uniform_utm, rings_m=(500, 1000, 5000))
    assert a.people_inside == 0
    for d in (500, 1000, 5000):
        expected = math.pi * d * d / 100 * INSCRIBED
        assert a.people_within(d) == pytest.approx(expected, rel=1e-3)
    assert a.checks["bands_add_up"]["ok"]
    bands = a.bands
    assert list(bands["band"]) == ["inside", "0-500 m", "500-1000 m", "1000-5000 m"]
    assert bands["people"].sum() == pytest.approx(a.people_within(5000))


def test_dissolved_counts_nobody_twice(uniform_utm):
    boxes = [
        shapely.box(405_000, 5_000_000, 406_000, 5_001_000),
        shapely.box(405_500, 5_000_000, 406_500, 5_001_000),
    ]  # overlap by half
    h = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"], "status": ["open", "open"]}, geometry=boxes, crs="EPSG:32633"
    )
    a = assess(h, uniform_utm, rings_m=(100,))
    assert list(a.hazards["people_inside"]) == pytest.approx([10_000, 10_000])
    assert a.people_inside == pytest.approx(15_000)
    assert a.checks["double_counting_factor"] == pytest.approx(20_000 / 15_000)
    assert a.summary()["people"]["sum_of_per_hazard_inside"] == pytest.approx(20_000)


def test_only_counted_statuses_enter_the_totals(uniform_utm):
    boxes = [
        shapely.box(405_000, 5_000_000, 406_000, 5_001_000),
        shapely.box(408_000, 5_000_000, 409_000, 5_001_000),
    ]
    h = gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"], "status": ["open", "cleared"]}, geometry=boxes, crs="EPSG:32633"
    )
    a = assess(h, uniform_utm, rings_m=(100,))
    assert a.people_inside == pytest.approx(10_000)
    assert list(a.hazards["counted"]) == [True, False]
    assert a.hazards["people_inside"].iloc[1] == pytest.approx(10_000)  # shown, not counted
    both = assess(h, uniform_utm, rings_m=(100,), count_status=("open", "cleared"))
    assert both.people_inside == pytest.approx(20_000)
    assert both.method["counted_statuses"] == ["open", "cleared"]
    with pytest.raises(InputError, match="count_status"):
        assess(h, uniform_utm, count_status=("bogus",))


def test_hazards_are_moved_into_the_raster_crs(uniform_utm):
    box = gpd.GeoDataFrame(
        {"hazard_id": ["A"]},
        geometry=[shapely.box(405_000, 5_000_000, 406_000, 5_001_000)],
        crs="EPSG:32633",
    )
    direct = assess(box, uniform_utm, rings_m=(250,))
    with pytest.warns(ReprojectionWarning):
        moved = assess(box.to_crs(4326), uniform_utm, rings_m=(250,))
    assert moved.people_inside == pytest.approx(direct.people_inside, rel=1e-4)
    assert moved.people_within(250) == pytest.approx(direct.people_within(250), rel=1e-3)


def test_no_crs_and_no_overlap_are_errors(uniform_utm):
    h = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(CRSError, match="no CRS"):
        assess(h, uniform_utm)
    far = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:32633")
    with pytest.raises(NoOverlapError, match="swapped"):
        assess(far, uniform_utm, rings_m=(100,))


def test_rings_at_high_latitude_are_metres_not_degrees(raster_factory):
    # 0.001° pixels at 70° N, density raster of 1000 people/km²: people = area × 1000
    path = raster_factory(
        np.full((400, 1200), 1000.0),
        crs="EPSG:4326",
        transform=from_origin(24.4, 70.2, 0.001, 0.001),
    )
    r = read_population(path, units="density")
    h = gpd.GeoDataFrame(geometry=[shapely.Point(25.0, 70.0)], crs=4326)
    a = assess(h, r, rings_m=(1000, 5000))
    for d in (1000, 5000):
        assert a.people_within(d) == pytest.approx(
            math.pi * (d / 1000) ** 2 * 1000 * INSCRIBED, rel=5e-3
        )


def test_sao_miguel_municipalities_reconcile(sao_count):
    admin = read_vector(SAO_MIGUEL / "concelhos.gpkg")
    with pytest.warns(UserWarning):
        hazards = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    a = assess(hazards, sao_count, admin=admin, admin_id="name")
    table = a.by_admin
    assert len(table) == 7 and table["admin_id"].iloc[-1] == "(outside)"
    assert table["population"].sum() == pytest.approx(a.totals["population"], rel=1e-12)
    assert table["people_inside"].sum() == pytest.approx(a.people_inside, rel=1e-9)
    for d in a.rings_m:
        col = f"people_within_{d:g}m"
        assert table[col].sum() == pytest.approx(a.people_within(d), rel=1e-9)
    assert a.checks["admin_units_add_up"]["ok"]
    # each municipality agrees with an independent sum
    r = read_population(sao_count)
    for geom, name in zip(admin.geometry, admin["name"], strict=True):
        row = table.set_index("admin_id").loc[name]
        assert row["population"] == pytest.approx(zonal_sum(geom, r).people, rel=1e-12)


def test_municipalities_agree_with_exactextract(sao_count):
    exactextract = pytest.importorskip("exactextract")
    admin = read_vector(SAO_MIGUEL / "concelhos.gpkg")
    theirs = exactextract.exact_extract(
        str(sao_count), admin, "sum", include_cols=["name"], output="pandas"
    ).set_index("name")["sum"]
    r = read_population(sao_count)
    for geom, name in zip(admin.geometry, admin["name"], strict=True):
        assert zonal_sum(geom, r).people == pytest.approx(theirs[name], rel=1e-6)


def test_coastal_pixels_with_land_area(sao_count):
    """GPW puts a coastal pixel's people on its land part: with the land area, the
    municipalities (which follow the coast) hold nearly everyone; the density raster
    gives nearly the same numbers (GPW's land areas exceed the ellipsoidal cell areas
    inland by up to ~0.1%, so density × area is a little under the count there; with
    the land area a wholly covered pixel holds exactly its count)."""
    admin = read_vector(SAO_MIGUEL / "concelhos.gpkg")
    hazards = gpd.GeoDataFrame(geometry=[shapely.Point(-25.67, 37.75).buffer(0.01)], crs=4326)
    plain = assess(hazards, sao_count, admin=admin, admin_id="name", rings_m=(500,))
    land = read_population(sao_count, land_area=SAO_MIGUEL / "gpw_v411_2020_land_area_2020.tif")
    coastal = assess(hazards, land, admin=admin, admin_id="name", rings_m=(500,))
    density = assess(
        hazards,
        read_population(SAO_MIGUEL / "gpw_v411_2020_density_2020.tif", units="density"),
        admin=admin,
        admin_id="name",
        rings_m=(500,),
    )
    units = slice(0, -1)
    assert plain.by_admin["population"].iloc[units].sum() < 0.91 * plain.totals["population"]
    assert coastal.by_admin["population"].iloc[units].sum() > 0.998 * coastal.totals["population"]
    np.testing.assert_allclose(
        coastal.by_admin["population"].iloc[units],
        density.by_admin["population"].iloc[units],
        rtol=2e-3,
    )
    # people outside every unit, counted from the region's own geometry: never negative
    outside = coastal.by_admin.iloc[-1]
    assert outside["admin_id"] == "(outside)" and 0 <= outside["population"] < 300
    assert coastal.checks["admin_units_add_up"]["ok"]
    assert coastal.totals["population"] == pytest.approx(plain.totals["population"])


def test_batches_of_hazards_change_nothing(monkeypatch):
    """The ring stage works on bounded batches; the numbers do not depend on them."""
    from geomines.assessment import batching

    with pytest.warns(UserWarning):
        hazards = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    raster = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
    whole = assess(hazards, raster)
    monkeypatch.setattr(batching, "BATCH_COORDS", 100)
    geoms = np.asarray(hazards.geometry.values)
    bounds, coords = shapely.bounds(geoms), shapely.get_num_coordinates(geoms)
    batches = batching.spatial_batches(bounds, coords, np.arange(len(hazards)))
    assert len(batches) >= 10
    # every hazard in exactly one batch
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(hazards)))
    batched = assess(hazards, raster)
    cols = [c for c in whole.hazards.columns if c.startswith("people_")]
    np.testing.assert_allclose(
        batched.hazards[cols].to_numpy(float),
        whole.hazards[cols].to_numpy(float),
        rtol=1e-9,
        atol=1e-9,
        equal_nan=True,
    )
    np.testing.assert_allclose(batched.bands["people"], whole.bands["people"], rtol=1e-9)
    np.testing.assert_allclose(
        batched.by_class.iloc[:, 5:].to_numpy(float),
        whole.by_class.iloc[:, 5:].to_numpy(float),
        rtol=1e-9,
    )


def test_a_buffer_does_not_depend_on_the_other_hazards():
    """Each hazard is buffered in the projection of its 0.5° cell, whoever is with it."""
    from geomines.engine.rings import buffers_m

    pts = gpd.GeoSeries(
        [shapely.Point(25.1, -3.2), shapely.Point(25.4, -3.4), shapely.Point(25.2, -3.1)],
        crs="EPSG:4326",
    )
    together = buffers_m(pts, [1000])[0]
    for i in range(len(pts)):
        alone = buffers_m(pts.iloc[[i]], [1000])[0]
        assert shapely.equals_exact(alone.iloc[0], together.iloc[i], tolerance=0)


@pytest.mark.parametrize("where", ["sao_miguel_lonlat", "utm"])
def test_class_unions_closed_early_give_the_same_numbers(where, tmp_path, monkeypatch):
    """Class-group union tiles that no later batch can reach are counted and dropped
    early (bounded memory); the numbers equal those of one batch."""
    from geomines.assessment import batching
    from geomines.engine import LocalEngine, UnionBuilder

    if where == "utm":
        rng = np.random.default_rng(5)
        data = rng.gamma(0.5, 20, (400, 500)).astype("float32")
        raster = write_raster(
            tmp_path / "pop.tif",
            data,
            tiled=True,
            transform=from_origin(400_000, 5_004_000, 10, 10),
            crs="EPSG:32633",
        )
        geoms = [
            shapely.Point(
                400_000 + rng.uniform(300, 4700), 5_004_000 - rng.uniform(300, 3700)
            ).buffer(rng.uniform(10, 150))
            for _ in range(80)
        ]
        hazards = gpd.GeoDataFrame(
            {
                "land_class": rng.choice(["CHA", "SHA"], 80),
                "contamination": rng.choice(["AP mine", "ERW"], 80),
            },
            geometry=geoms,
            crs="EPSG:32633",
        )
        rings, tile = (100, 300), 32
    else:
        with pytest.warns(UserWarning):
            hazards = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
        raster, rings, tile = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif", (500, 1000), 8
    whole = assess(hazards, raster, rings_m=rings, engine=LocalEngine(union_tile=tile))
    flushed = []
    real_flush = UnionBuilder.flush

    def recording_flush(self, keys, groups):
        flushed.append(len(keys))
        return real_flush(self, keys, groups)

    monkeypatch.setattr(UnionBuilder, "flush", recording_flush)
    monkeypatch.setattr(batching, "BATCH_COORDS", 200)
    batched = assess(hazards, raster, rings_m=rings, engine=LocalEngine(union_tile=tile))
    assert sum(flushed) > 0  # tiles were really closed early
    cols = [c for c in whole.by_class.columns if c.startswith("people_")]
    np.testing.assert_allclose(
        batched.by_class[cols].to_numpy(float),
        whole.by_class[cols].to_numpy(float),
        rtol=1e-9,
        atol=1e-9,
    )
    np.testing.assert_allclose(batched.bands["people"], whole.bands["people"], rtol=1e-9)


def test_groups_making_a_set_only_when_they_split_exactly():
    """Derived unions are used only when whole groups make up the set (else the members
    are unioned): a group partly in, or a member in no group, refuses."""
    from geomines.assessment.breakdowns import groups_making

    groups = [(("CHA",), np.array([0, 2])), (("SHA",), np.array([1])), (("other",), np.array([3]))]
    assert groups_making(np.array([True, False, True, False]), groups) == [0]
    assert groups_making(np.array([True, True, True, True]), groups) == [0, 1, 2]
    assert groups_making(np.array([False] * 4), groups) == []
    assert groups_making(np.array([True, False, False, False]), groups) is None  # half of 0
    assert groups_making(np.array([False, False, False, False, True]), groups) is None  # 4 in none


def test_dissolved_totals_equal_unions_of_the_counted_members(tmp_path):
    """The dissolved totals (built from the class groups' unions) equal the union of
    the counted hazards' own geometries and buffers, counted directly and checked
    against the exact reference of shapely's global union."""
    from geomines import buffer_m
    from geomines.engine import LocalEngine
    from geomines.engine.exact import reference_sum

    with pytest.warns(UserWarning):
        hazards = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    raster_path = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
    result = assess(hazards, raster_path, rings_m=(500, 2000))
    counted = result.hazards[result.hazards["counted"]]
    assert 0 < len(counted) < len(result.hazards)  # some hazards are not counted
    raster = read_population(raster_path)
    geoms = np.asarray(counted.to_crs(raster.crs).geometry.values, dtype=object)
    direct = LocalEngine().union(geoms, raster).total.people
    assert result.totals["inside"] == pytest.approx(direct, rel=1e-9)
    assert direct == pytest.approx(reference_sum(shapely.union_all(geoms), raster).people, rel=1e-9)
    for d in (500, 2000):
        buffers = np.asarray(buffer_m(counted.geometry, d, to_crs=raster.crs).values, dtype=object)
        ring = reference_sum(shapely.union_all(buffers), raster).people
        assert result.people_within(d) == pytest.approx(ring, rel=1e-9)
