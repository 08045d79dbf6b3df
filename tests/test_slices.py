"""Long runs of parts counted a slice at a time, and hazards given their admin unit a
slice at a time: the same numbers as all at once, known by construction."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

import geomines
from geomines.assessment import checks, units
from geomines.engine import LocalEngine
from geomines.testing import write_raster


def _ones(tmp_path):
    """A raster of ones, 1 m pixels: a pixel-aligned box holds its area in people."""
    path = write_raster(
        tmp_path / "ones.tif", np.ones((60, 80), "float32"), transform=from_origin(0, 60, 1, 1)
    )
    return geomines.read_population(path)


def test_parts_counted_a_slice_at_a_time_give_each_groups_people(tmp_path, monkeypatch):
    """Groups of pixel-aligned boxes on a raster of ones: each group's people are the
    sum of its boxes' areas (by construction), counted in many slices; and the
    countings started are as many as the slices, not one per part or group."""
    raster = _ones(tmp_path)
    engine = LocalEngine()
    groups, expected = [], []
    for k in range(6):  # group k: k + 1 boxes of 1 x (k + 1) m, one row each
        boxes = [shapely.box(2 * j, 10 + k, 2 * j + 1, 11 + k + k) for j in range(k + 1)]
        groups.append(boxes)
        expected.append(float((k + 1) * (k + 1)))
    groups.insert(2, [])  # an empty group keeps its place
    expected.insert(2, 0.0)
    groups.append([shapely.box(70, 0, 73, 2)])  # waits until the counting is taken
    expected.append(6.0)
    started = []
    real = engine.sums_later

    def spy(geoms, raster, **kwargs):
        started.append(len(geoms))
        return real(geoms, raster, **kwargs)

    monkeypatch.setattr(engine, "sums_later", spy)
    monkeypatch.setattr(checks, "SLICE_COORDS", 12)  # a box has 5 coordinates
    counts = checks.PartCounts(engine, raster)
    for group in groups:
        counts.add(group)
    later = counts.later()
    people = np.bincount(counts.owners(), later(), len(groups))
    np.testing.assert_allclose(people, expected, rtol=1e-12, atol=1e-9)
    assert sum(started) == sum(len(g) for g in groups) == 22
    # a group is started once 12 coordinates wait, and never cut: 1 + 2 boxes (15), then
    # each group of 3 boxes or more (15 coordinates or more) on its own, then the last box
    assert started == [3, 3, 4, 5, 6, 1]


def _pairs():
    """Pixel-aligned boxes whose pairwise intersections have areas known by construction."""
    left = np.array([shapely.box(0, 0, 40, 30), shapely.box(40, 0, 80, 30)], dtype=object)
    right = np.array(
        [shapely.box(10 * j, 5, 10 * j + 15, 25) for j in range(7)], dtype=object
    )  # 15 x 20 m boxes every 10 m: each meets one or both halves
    li, ri = shapely.STRtree(right).query(left, predicate="intersects")
    # the overlap of [10j, 10j + 15] with [0, 40] or [40, 80], times 20 m
    want = [
        20.0 * max(0.0, min(10 * j + 15, 40 * (i + 1)) - max(10 * j, 40 * i))
        for i, j in zip(li, ri, strict=True)
    ]
    return left, right, li, ri, np.array(want)


def test_pair_sums_are_each_intersections_people(tmp_path):
    """On a raster of ones each pair's people are its intersection's area; the
    geometries passed as ``also`` lead the row with their own areas."""
    raster = _ones(tmp_path)
    left, right, li, ri, want = _pairs()
    assert len(li) == 9 and (want == 0).sum() == 1  # one box only touches the left half
    rows = LocalEngine().pair_sums_later(left, right, li, ri, raster, also=left)()
    assert rows.shape == (1, 2 + len(li))
    np.testing.assert_allclose(rows[0, :2], [1200.0, 1200.0], rtol=1e-12)
    np.testing.assert_allclose(rows[0, 2:], want, rtol=1e-12)
    none = LocalEngine().pair_sums_later(left, right, li[:0], ri[:0], raster)()
    assert none.shape == (1, 0)


def _differences():
    """Pixel-aligned boxes minus boxes whose areas are known by construction: 40 x 30 m
    halves, each minus a 15 x 20 m box at its own x (or nothing: an empty geometry)."""
    left = np.array([shapely.box(0, 0, 40, 30), shapely.box(40, 0, 80, 30)], dtype=object)
    right = np.array(
        [shapely.box(10 * j, 5, 10 * j + 15, 25) for j in range(7)] + [shapely.Polygon()],
        dtype=object,
    )
    li = np.array([0, 0, 1, 1, 1, 0])
    ri = np.array([0, 7, 4, 6, 7, 2])
    # 1200 minus the overlap of [10j, 10j + 15] with the half, times 20 m
    want = [
        1200.0 - 20.0 * max(0.0, min(10 * j + 15, 40 * (i + 1)) - max(10 * j, 40 * i))
        if j < 7
        else 1200.0
        for i, j in zip(li, ri, strict=True)
    ]
    return left, right, li, ri, np.array(want)


def assert_overlays(parts, left, right, li, ri):
    """Each part is its pair's difference (the left box as it is where the right is empty)."""
    assert len(parts) == len(li)
    for part, i, j in zip(parts, li, ri, strict=True):
        expected = left[i] if right[j].is_empty else shapely.difference(left[i], right[j])
        assert shapely.equals(part, expected), (i, j)


def test_overlays_are_made_and_counted_and_given_back(tmp_path):
    """On a raster of ones each difference's people are its area, under each land rule,
    and the differences come back in the pairs' order, empty ones included."""
    raster = _ones(tmp_path)
    left, right, li, ri, want = _differences()
    later = LocalEngine().overlays_later(
        left, right, li, ri, raster, land_rules=["land-first", "plain"], op="difference"
    )
    people, parts = later()
    assert people.shape == (2, len(li))
    for row in people:
        np.testing.assert_allclose(row, want, rtol=1e-12)
    assert_overlays(parts, left, right, li, ri)
    people, parts = LocalEngine().overlays_later(left, right, li[:0], ri[:0], raster)()
    assert people.shape == (1, 0) and len(parts) == 0


def test_admin_of_hazards_a_slice_at_a_time_is_each_point_in_its_unit(monkeypatch):
    """A grid of square units; each hazard's unit is found by testing its representative
    point against every unit (brute force), whatever the slice."""
    rng = np.random.default_rng(3)
    grid = np.array([shapely.box(x, y, x + 10, y + 10) for x in range(0, 50, 10) for y in (0, 10)])
    ids = np.array([f"U{i}" for i in range(len(grid))], dtype=object)
    centres = rng.uniform(-5, 55, (250, 2))
    geoms = np.array(
        [shapely.Point(x, y).buffer(rng.uniform(0.2, 3), quad_segs=3) for x, y in centres],
        dtype=object,
    )
    geoms[[4, 77]] = None
    geoms[100] = shapely.Polygon()
    want = []
    for g in geoms:
        if g is None or g.is_empty:
            want.append(None)
            continue
        point = shapely.point_on_surface(g)
        inside = [ids[u] for u, unit in enumerate(grid) if shapely.within(point, unit)]
        want.append(inside[0] if inside else None)
    assert sum(w is None for w in want) > 3 and len({w for w in want if w}) == len(grid)
    monkeypatch.setattr(units, "POINT_SLICE", 7)
    assert units.admin_of_hazards(geoms, grid, ids) == want


def assert_same_by_admin(result, expected, rtol):
    """Every number of ``result.by_admin`` is ``expected``'s, to ``rtol`` (1e-9 people)."""
    numeric = expected.by_admin.select_dtypes("number").columns
    np.testing.assert_allclose(
        result.by_admin[numeric].to_numpy(float),
        expected.by_admin[numeric].to_numpy(float),
        rtol=rtol,
        atol=1e-9,
    )


def test_an_assessment_counted_in_small_slices_is_the_whole_counting(monkeypatch, tmp_path):
    """The sample data with admin units: the region outside's parts counted a few
    coordinates at a time, the hazards given their unit 5 at a time (and the overlays
    made where they are counted) give the numbers of one counting for all (summation
    order aside), and the checks add up."""
    from .conftest import SAO_MIGUEL

    with pytest.warns(UserWarning):
        hazards = geomines.read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    admin = gpd.read_file(SAO_MIGUEL / "concelhos.gpkg")
    raster = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
    whole = geomines.assess(hazards, raster, admin=admin, admin_id="name")
    calls = []
    real = checks.PartCounts._start

    def counted(self):
        if self.waiting:
            calls.append(id(self))
        return real(self)

    monkeypatch.setattr(checks.PartCounts, "_start", counted)
    monkeypatch.setattr(checks, "SLICE_COORDS", 200)
    monkeypatch.setattr(units, "POINT_SLICE", 5)
    sliced = geomines.assess(hazards, raster, admin=admin, admin_id="name")
    # the region outside's counting started (its one group is never cut); the bands are
    # made and counted where the engine runs (test_overlays_are_made_and_counted_...)
    assert calls
    assert len(hazards) > 4 * units.POINT_SLICE  # the hazards' units in several slices
    assert list(sliced.bands["band"]) == list(whole.bands["band"])
    assert shapely.equals(sliced.bands.geometry.values, whole.bands.geometry.values).all()
    assert_same_by_admin(sliced, whole, rtol=1e-12)
    assert list(sliced.by_admin["admin_id"]) == list(whole.by_admin["admin_id"])
    assert list(sliced.hazards["admin_id"]) == list(whole.hazards["admin_id"])
    for key in ("bands_add_up", "classes_add_up", "admin_units_add_up"):
        assert sliced.checks[key]["ok"], sliced.checks[key]
        assert sliced.checks[key]["parts"] == pytest.approx(whole.checks[key]["parts"], rel=1e-12)


def test_band_frame_builds_each_band_from_its_pieces_and_lets_them_go():
    """Boxes whose union and differences are known by construction: the inside band is
    the union's pieces, each ring band the pieces given for it (a multipolygon of them,
    a multipolygon's parts flattened, empties dropped), its people the ring's total less
    the one before; the list of pieces is emptied as the bands are made (their memory is
    the frame's alone), and a list that does not match the rings is refused."""
    from geomines.assessment.breakdowns import band_frame
    from geomines.engine.exact import ZonalSum
    from geomines.engine.unions import UnionSum

    inner = shapely.box(0, 0, 2, 2)
    union = UnionSum(np.array([inner], dtype=object), [(0, 0)], ZonalSum(people=4.0))
    rings = (1.0, 2.0)
    ring_u = {
        1.0: UnionSum(
            np.array([shapely.box(-1, -1, 3, 3)], dtype=object), [(0, 0)], ZonalSum(16.0)
        ),
        2.0: UnionSum(
            np.array([shapely.box(-2, -2, 4, 4)], dtype=object), [(0, 0)], ZonalSum(36.0)
        ),
    }
    first = [shapely.box(-1, -1, 3, 0), shapely.box(-1, 2, 3, 3), shapely.box(-1, 0, 0, 2),
             shapely.box(2, 0, 3, 2)]  # fmt: skip
    second = [
        shapely.MultiPolygon([shapely.box(-2, -2, 4, -1), shapely.box(-2, 3, 4, 4)]),
        shapely.box(-2, -1, -1, 3),
        shapely.box(3, -1, 4, 3),
        shapely.Polygon(),
    ]
    pieces = [list(first), list(second)]
    frame = band_frame(union, rings, ring_u, "EPSG:4326", pieces)
    assert pieces == [[], []]
    assert list(frame["band"]) == ["inside", "0-1 m", "1-2 m"]
    assert list(frame["people"]) == [4.0, 12.0, 20.0]
    areas = shapely.area(frame.geometry.values)
    np.testing.assert_allclose(areas, [4.0, 12.0, 20.0])
    assert [len(shapely.get_parts(g)) for g in frame.geometry.values] == [1, 4, 4]
    assert shapely.equals(shapely.union_all(frame.geometry.values), shapely.box(-2, -2, 4, 4))
    with pytest.raises(ValueError, match="2 rings but 1 bands"):
        band_frame(union, rings, ring_u, "EPSG:4326", [list(first)])
