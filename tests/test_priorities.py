"""Where to go first: communities, features of interest and the priority list, against
answers known by construction.

Distances are constructed on the WGS 84 ellipsoid with pyproj's geodesic (``Geod.fwd``
from a point of a hazard's edge, at right angles to it), never with geomines' own code.
People are constructed on a UTM raster of ones per 10 m pixel (0.01 people per m² of
the grid).
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Geod, Proj, Transformer

import geomines
from geomines.errors import InputError
from geomines.priorities.distances import nearest
from geomines.priorities.profile import read_profile

GEOD = Geod(ellps="WGS84")
#: A square hazard 0.01° on a side at 45° N, 15° E (the centre of UTM zone 33).
SQUARE = shapely.box(15.0, 45.0, 15.01, 45.01)
RINGS = (500.0, 1000.0, 5000.0)


def _west_of(square: shapely.Polygon, metres: float) -> shapely.Point:
    """A point ``metres`` due west of the middle of the square's west edge (a meridian):
    the geodesic leaves the meridian at right angles, so it is the shortest way."""
    w, s, _, n = square.bounds
    lon, lat, _ = GEOD.fwd(w, (s + n) / 2, 270.0, metres)
    return shapely.Point(lon, lat)


def _north_of(square: shapely.Polygon, metres: float) -> shapely.Point:
    """A point ``metres`` due north of the middle of the north edge (along a meridian)."""
    w, _, e, n = square.bounds
    lon, lat, _ = GEOD.fwd((w + e) / 2, n, 0.0, metres)
    return shapely.Point(lon, lat)


@pytest.fixture
def utm_ones(raster_factory):
    """Ones per 10 m pixel over 20 km around the square, in UTM 33N."""
    to_utm = Transformer.from_crs(4326, 32633, always_xy=True)
    x, y = to_utm.transform(15.005, 45.005)
    x0, y0 = math.floor(x / 10) * 10 - 10_000, math.floor(y / 10) * 10 + 10_000
    return raster_factory(
        np.ones((2000, 2000), dtype="float32"),
        transform=Affine(10, 0, x0, 0, -10, y0),
        crs="EPSG:32633",
    )


def _hazards(geoms, **columns) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {"hazard_id": [f"H-{i + 1}" for i in range(n)], "status": ["open"] * n, **columns}
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def _assess(hazards, raster, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return geomines.assess(hazards, raster, rings_m=RINGS, **kwargs)


# --------------------------------------------------------------------------- distances
def test_nearest_distances_are_geodesic_metres_within_0_1_percent():
    far = shapely.box(16.5, 44.0, 16.51, 44.01)  # farther from every point than SQUARE
    targets = gpd.GeoSeries([SQUARE, far], crs=4326)
    metres = [0.0, 3.0, 250.0, 499.0, 1200.0, 4999.0, 30_000.0, 120_000.0]
    points = [_west_of(SQUARE, m) for m in metres] + [_north_of(SQUARE, m) for m in metres]
    expected = np.array(metres + metres)
    # the same points given in a projected CRS: distances do not depend on the CRS
    for sources in (
        gpd.GeoSeries(points, crs=4326),
        gpd.GeoSeries(points, crs=4326).to_crs(32633),
        gpd.GeoSeries(points, crs=4326).to_crs(3857),
    ):
        got = nearest(sources, targets, RINGS)
        assert np.all(got.index == 0)
        np.testing.assert_allclose(got.metres, expected, rtol=1e-3, atol=0.05)
        for d in RINGS:
            np.testing.assert_array_equal(got.within[d], (expected <= d).astype(int))


def test_nearest_counts_every_target_within_and_breaks_ties_by_order():
    # four squares around a point, 300 m, 700 m, 700 m and 2 km away
    centre = shapely.Point(15.0, 45.0)
    squares = []
    for az, m in ((90, 300), (270, 700), (0, 700), (180, 2000)):
        lon, lat, _ = GEOD.fwd(15.0, 45.0, az, m)
        squares.append(shapely.Point(lon, lat).buffer(1e-9))  # a tiny polygon at the point
    got = nearest(gpd.GeoSeries([centre, None], crs=4326), gpd.GeoSeries(squares, crs=4326), RINGS)
    assert got.index.tolist() == [0, -1] and math.isnan(got.metres[1])
    assert abs(got.metres[0] - 300) < 0.3
    assert [got.within[d][0] for d in RINGS] == [1, 3, 4]
    # equally near: the first given
    tie = nearest(
        gpd.GeoSeries([centre], crs=4326), gpd.GeoSeries([squares[2], squares[1]], crs=4326)
    )
    assert tie.index.tolist() == [0]


# --------------------------------------------------------------------------- communities
def test_communities_distance_band_counts_and_people(utm_ones, tmp_path):
    second = shapely.box(15.05, 45.0, 15.06, 45.01)  # ~3.9 km east of the first
    hazards = _hazards([SQUARE, second, shapely.box(15.02, 45.02, 15.021, 45.021)])
    hazards.loc[2, "status"] = "cleared"  # not counted: never the nearest
    to_utm = Transformer.from_crs(4326, 32633, always_xy=True)
    # a polygon place aligned to the raster's pixels, 200 m × 300 m, inside nothing
    x, y = to_utm.transform(*_west_of(SQUARE, 2500).coords[0])
    x, y = math.floor(x / 10) * 10, math.floor(y / 10) * 10
    village = shapely.box(x, y, x + 200, y + 300)
    village_ll = gpd.GeoSeries([village], crs=32633).to_crs(4326).iloc[0]
    places = gpd.GeoDataFrame(
        {
            "pcode": ["P1", "P2", "P3", "P4", "P5"],
            "name": ["west 300", "north 800", "inside", "village", "far"],
        },
        geometry=[
            _west_of(SQUARE, 300),
            _north_of(SQUARE, 800),
            shapely.Point(15.005, 45.005),
            village_ll,
            _west_of(SQUARE, 9000),
        ],
        crs=4326,
    )
    path = tmp_path / "places.geojson"
    places.to_file(path)
    result = _assess(hazards, utm_ones, places=path, place_radius_m=100)
    table = result.communities.set_index("place_id")
    assert list(result.communities["place_id"]) == ["P3", "P1", "P2", "P4", "P5"]  # by distance
    assert table.loc["P3", "nearest_hazard_m"] == 0 and table.loc["P3", "band"] == "inside"
    assert table.loc["P1", "band"] == "0-500 m" and table.loc["P2", "band"] == "500-1000 m"
    assert table.loc["P4", "band"] == "1000-5000 m" and table.loc["P5", "band"] == "beyond"
    for pid, metres in (("P1", 300), ("P2", 800), ("P5", 9000)):
        assert table.loc[pid, "nearest_hazard_m"] == pytest.approx(metres, rel=1e-3)
        assert table.loc[pid, "nearest_hazard_id"] == "H-1"
    # the village polygon: its nearest edge is ≤ 2500 m from the hazard (its corner)
    assert 2200 < table.loc["P4", "nearest_hazard_m"] <= 2500
    # H-2 lies ~3.9 km east of H-1: within 5 km of the inside place, not of the far one
    assert table.loc["P3", "hazards_within_5000m"] == 2
    assert table.loc["P3", "hazards_within_500m"] == 1
    assert table.loc["P5", "hazards_within_5000m"] == 0
    assert table.loc["P4", "people"] == pytest.approx(600.0, rel=1e-9)  # 200×300 m / 100 m²
    # points: a 64-gon of radius 100 m (true metres), its area scaled into the UTM grid
    k = Proj(CRS(32633)).get_factors(*places.geometry[0].coords[0]).areal_scale
    gon = 32 * 100.0**2 * math.sin(2 * math.pi / 64)
    assert table.loc["P1", "people"] == pytest.approx(gon * k / 100, rel=2e-3)


def test_points_without_a_radius_have_no_people_and_bad_columns_say_so(utm_ones):
    places = gpd.GeoDataFrame(
        {"id": ["A"], "label": ["a"]}, geometry=[_west_of(SQUARE, 100)], crs=4326
    )
    result = _assess(_hazards([SQUARE]), utm_ones, places=places, place_name="label")
    row = result.communities.iloc[0]
    assert row["place_id"] == "A" and row["place_name"] == "a" and math.isnan(row["people"])
    with pytest.raises(InputError, match=r"place id column 'code'.*'label'"):
        _assess(_hazards([SQUARE]), utm_ones, places=places, place_id="code")


# --------------------------------------------------------------------------- features
def test_feature_distances_and_counts_per_class(utm_ones):
    w, s, e, n = SQUARE.bounds
    school_a, school_b = _west_of(SQUARE, 200), _north_of(SQUARE, 1500)
    # a road along a meridian 700 m east of the east edge
    lon, _, _ = GEOD.fwd(e, (s + n) / 2, 90.0, 700)
    road = shapely.LineString([(lon, s - 0.05), (lon, n + 0.05)])
    farm = shapely.box(w - 0.001, s - 0.001, w + 0.002, s + 0.002)  # overlaps the hazard
    features = gpd.GeoDataFrame(
        {"kind": ["School", "school", "Main Road", "farmland", None]},
        geometry=[school_a, school_b, road, farm, shapely.Point(15, 45)],
        crs=4326,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = geomines.assess(
            _hazards([SQUARE]), utm_ones, rings_m=RINGS, features=features, feature_class="kind"
        )
    messages = " ".join(str(w.message) for w in caught if w.category is geomines.LoadWarning)
    assert "rows 5" in messages and "School + school" in messages
    h = result.hazards.iloc[0]
    assert h["nearest_school_m"] == pytest.approx(200, rel=1e-3)
    assert h["nearest_main_road_m"] == pytest.approx(700, rel=1e-3)
    assert h["nearest_farmland_m"] == 0
    assert [h[f"school_within_{d:g}m"] for d in RINGS] == [1, 1, 2]
    assert [h[f"main_road_within_{d:g}m"] for d in RINGS] == [0, 1, 1]
    # and the table of the priority list can use them
    profile = {"criteria": {"nearest_school_m": {"weight": 1.0, "direction": "lower"}}}
    ranked = _assess(
        _hazards([SQUARE]),
        utm_ones,
        features=features.iloc[:4],
        feature_class="kind",
        priority=profile,
    ).priority
    assert ranked.loc[0, "nearest_school_m"] == pytest.approx(200, rel=1e-3)


# --------------------------------------------------------------------------- priority
def _many_hazards(n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon = 15.0 + rng.uniform(-0.05, 0.05, n)
    lat = 45.0 + rng.uniform(-0.05, 0.05, n)
    size = rng.uniform(0.0005, 0.004, n)
    geoms = [shapely.box(x, y, x + s, y + s) for x, y, s in zip(lon, lat, size, strict=True)]
    frame = _hazards(
        geoms,
        land_class=rng.choice(["CHA", "SHA"], n),
        evidence=rng.choice(["direct", "indirect", "none"], n),
    )
    frame["hazard_id"] = [f"H-{i:03d}" for i in rng.permutation(n)]
    return frame


@pytest.mark.parametrize(
    ("criterion", "direction"),
    [("people_within_500m", "higher"), ("area_m2", "lower"), ("people_inside", "higher")],
)
def test_one_criterion_ranks_as_sorting_by_it(utm_ones, criterion, direction):
    hazards = _many_hazards(40, seed=5)
    profile = {"criteria": {criterion: {"weight": 2.5, "direction": direction}}}
    result = _assess(hazards, utm_ones, priority=profile)
    frame = result.hazards[result.hazards["counted"]]
    expected = frame.sort_values(
        [criterion, "hazard_id"], ascending=[direction == "lower", True], kind="stable"
    )["hazard_id"].tolist()
    table = result.priority
    assert table["hazard_id"].tolist() == expected
    assert table["rank"].tolist() == list(range(1, len(frame) + 1))
    # the top hazard beats every other one: full weight; the last beats none: 0
    assert table["score"].iloc[0] == 2.5 and table["score"].iloc[-1] == 0


def test_points_add_up_to_the_score_and_ties_go_by_id(utm_ones):
    result = _assess(_many_hazards(30, seed=9), utm_ones)  # the default profile
    table = result.priority
    points = table[[c for c in table.columns if c.endswith("_points")]]
    assert len(points.columns) == 5
    np.testing.assert_allclose(points.sum(axis=1), table["score"], rtol=1e-12)
    # categories: CHA 1 × weight 1, SHA 0.5; direct 1, indirect 0.5, none 0
    expected = table["land_class"].map({"CHA": 1.0, "SHA": 0.5})
    np.testing.assert_allclose(table["land_class_points"], expected)
    # ranks follow the score, then the id
    order = table.sort_values(["score", "hazard_id"], ascending=[False, True])
    assert order["rank"].tolist() == list(range(1, len(table) + 1))
    # two identical hazards tie: the smaller id first
    same = _hazards([SQUARE, SQUARE], land_class=["CHA", "CHA"])
    same["hazard_id"] = ["B", "A"]
    tied = _assess(same, utm_ones).priority
    assert tied["hazard_id"].tolist() == ["A", "B"] and tied["score"].nunique() == 1
    # hazards get their rank, tier and reasons; uncounted ones none
    assert result.hazards["priority_rank"].notna().all()
    assert set(table["tier"]) == {1, 2, 3} and (table["tier"].diff().dropna() >= 0).all()
    assert table["why"].iloc[0].startswith("people within 500 m")


def test_profiles_from_toml_and_their_errors(tmp_path, utm_ones):
    path = tmp_path / "p.toml"
    path.write_text(
        'normalisation = "minmax"\ntiers = [0.2, 0.5]\n'
        "[criteria.people_within_1000m]\nweight = 2\n"
        "[criteria.land_class]\nweight = 1\nvalues = { CHA = 1.0, SHA = 0.0 }\n"
    )
    profile = read_profile(path)
    assert [c.name for c in profile.criteria] == ["people_within_1000m", "land_class"]
    result = _assess(_many_hazards(20, seed=2), utm_ones, priority=path)
    table = result.priority
    people = table["people_within_1000m"]
    np.testing.assert_allclose(
        table["people_within_1000m_points"],
        2 * (people - people.min()) / (people.max() - people.min()),
    )
    assert set(table.loc[table["land_class"] == "SHA", "land_class_points"]) == {0.0}
    assert (table["tier"] == 1).sum() == 4
    for text, match in (
        ("[criteria.nope]\nweight = 1\n", "Unknown priority criterion 'nope'.*people_per_ha"),
        ("[criteria.people_inside]\nweight = 1\ndirection = 'up'\n", "direction"),
        ("[criteria.people_inside]\nweight = -1\n", "weight to be a number >= 0"),
        ("weight = 1\n", r"\[criteria.<name>\]"),
        ("[criteria.people_inside\n", "not valid TOML"),
    ):
        path.write_text(text)
        with pytest.raises(InputError, match=match):
            _assess(_hazards([SQUARE]), utm_ones, priority=path)


def test_the_default_profile_is_stated(utm_ones):
    result = _assess(_hazards([SQUARE]), utm_ones)
    stated = result.priority_profile.to_dict()
    assert stated["source"] == "default" and "percentile" in stated["normalisation_text"]
    assert [c["name"] for c in stated["criteria"]] == [
        "people_within_500m",
        "people_inside",
        "people_per_ha",
        "land_class",
        "evidence",
    ]
    assert isinstance(result.priority, pd.DataFrame) and len(result.priority) == 1


# --------------------------------------------------------------------------- command line
def test_cli_writes_communities_features_and_priority(tmp_path, utm_ones):
    import json

    from click.testing import CliRunner

    from geomines.cli import cli

    hazards = _many_hazards(12, seed=4)
    hazards.to_file(tmp_path / "h.geojson")
    places = gpd.GeoDataFrame(
        {"code": ["A", "B"], "village": ["Alpha", "=cmd|' /C calc'!A0"]},
        geometry=[_west_of(SQUARE, 300), shapely.Point(15.3, 45.3)],
        crs=4326,
    )
    places.to_file(tmp_path / "places.gpkg")
    features = gpd.GeoDataFrame(
        {"type": ["school", "health post"]},
        geometry=[shapely.Point(15.0, 45.0), shapely.Point(15.02, 45.02)],
        crs=4326,
    )
    features.to_file(tmp_path / "features.geojson")
    (tmp_path / "p.toml").write_text(
        "[criteria.nearest_health_post_m]\nweight = 1\ndirection = 'lower'\n"
    )
    out = tmp_path / "out"
    args = [
        "-q", "assess", str(tmp_path / "h.geojson"), str(utm_ones), "--places",
        str(tmp_path / "places.gpkg"), "--place-id", "code", "--place-name", "village",
        "--place-radius", "250", "--features", str(tmp_path / "features.geojson"),
        "--feature-class", "type", "--priority", str(tmp_path / "p.toml"), "--out", str(out),
    ]  # fmt: skip
    run = CliRunner().invoke(cli, args, obj={})
    assert run.exit_code == 0, run.output
    assert "First to clear" in run.output and "Communities: 1 of 2 places" in run.output
    priority = pd.read_csv(out / "priority.csv")
    assert list(priority.columns[:4]) == ["rank", "hazard_id", "score", "tier"]
    assert priority["nearest_health_post_m"].is_monotonic_increasing  # the only criterion
    communities = pd.read_csv(out / "communities.csv", keep_default_na=False)
    assert communities["place_id"].tolist() == ["A", "B"]
    assert communities.loc[1, "place_name"] == "=cmd|' /C calc'!A0"  # text kept as it came
    doc = json.loads((out / "communities.geojson").read_text())
    assert [f["properties"]["place_id"] for f in doc["features"]] == ["A", "B"]
    hazards_doc = json.loads((out / "hazards.geojson").read_text())
    props = hazards_doc["features"][0]["properties"]
    assert {"nearest_school_m", "health_post_within_500m", "priority_rank"} <= set(props)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["priority"]["criteria"][0]["name"] == "nearest_health_post_m"
    assert summary["priority"]["top"][0]["hazard_id"] == priority.loc[0, "hazard_id"]
    assert summary["communities"]["places"] == 2
    assert summary["features"] == {"health_post": 1, "school": 1}
    report = (out / "report.html").read_text()
    assert "Where to go first" in report and "Communities near hazards" in report
    # --features without --feature-class is refused with the fix
    bad = CliRunner().invoke(cli, [*args[:-8], "--features", args[-7], "--out", str(out)])
    assert bad.exit_code != 0 and "--feature-class" in bad.output


def test_priority_table_carries_the_features_near_each_hazard(utm_ones):
    features = gpd.GeoDataFrame(
        {"kind": ["well"]}, geometry=[_west_of(SQUARE, 700)], crs=4326
    )
    table = _assess(_hazards([SQUARE]), utm_ones, features=features, feature_class="kind").priority
    assert table.loc[0, "nearest_well_m"] == pytest.approx(700, rel=1e-3)
    assert [table.loc[0, f"well_within_{d:g}m"] for d in RINGS] == [0, 1, 1]
    assert table.columns[-1] == "why"


def test_each_hazard_gets_its_own_rows_rank_even_with_repeated_ids(utm_ones):
    hazards = _many_hazards(30, seed=11)
    hazards["hazard_id"] = [f"H-{i % 7}" for i in range(30)]  # a hand-made frame: ids repeat
    hazards["depth_m"] = np.arange(30.0)
    profile = {"criteria": {"depth_m": {"weight": 1.0}}}
    result = _assess(hazards, utm_ones, priority=profile)
    table, frame = result.priority, result.hazards
    # depth ranks the hazards one by one: rank k is the hazard of the k-th largest depth
    assert frame["priority_rank"].tolist() == list(range(30, 0, -1))
    assert table["depth_m"].tolist() == list(np.arange(30.0)[::-1])
    for _, hazard in frame.iterrows():
        row = table.iloc[int(hazard["priority_rank"]) - 1]
        assert row["depth_m"] == hazard["depth_m"]
        assert row["score"] == hazard["priority_score"] and row["why"] == hazard["priority_why"]
    # an unknown criterion names every one the hazards offer, not only those ranked on
    with pytest.raises(InputError, match="Unknown priority criterion 'nope'.*depth_m"):
        _assess(hazards, utm_ones, priority={"criteria": {"nope": {"weight": 1.0}}})


def test_each_hazards_why_is_its_rows_and_blank_where_not_counted(utm_ones, monkeypatch):
    """The hazards' priority_why is the text of their row in the list, "" where not
    counted, whatever the frame's index; the list's texts, made a slice of rows at a
    time, are kept as one array (each hazard's text is taken from it, not from the
    slices joined again beside the result)."""
    from geomines.priorities import profile as profile_module

    monkeypatch.setattr(profile_module, "_WHY_ROWS", 7)  # texts made 7 rows at a time
    hazards = _many_hazards(30, seed=13)
    hazards["status"] = ["open", "open", "closed"] * 10
    hazards.index = np.random.default_rng(13).permutation(30) + 100  # not 0..n-1
    result = _assess(hazards, utm_ones)
    table, frame = result.priority, result.hazards
    counted = frame["counted"].to_numpy(bool)
    assert counted.sum() == 20 and len(table) == 20
    assert list(frame.index) == list(hazards.index)
    assert (frame.loc[~counted, "priority_why"] == "").all()
    text_of = dict(zip(table["hazard_id"], table["why"], strict=True))
    ids, whys = frame.loc[counted, "hazard_id"], frame.loc[counted, "priority_why"]
    for hazard_id, why in zip(ids, whys, strict=True):
        assert why == text_of[hazard_id] and why != ""
    # the reasons follow each row's points: the criterion with most points leads
    for _, row in table.iterrows():
        points = {c[: -len("_points")]: row[c] for c in table.columns if c.endswith("_points")}
        top = max(points, key=lambda c: points[c])
        if points[top] > 0:
            assert row["why"].startswith(profile_module.label(top))
    if isinstance(table["why"].array, pd.arrays.ArrowStringArray):
        assert table["why"].array.__arrow_array__().num_chunks == 1
        assert frame["priority_why"].array.__arrow_array__().num_chunks == 1


def test_why_lists_the_criteria_that_gave_points_most_first():
    """The reasons text, per hazard: each criterion that gave points, most points first
    (ties in the profile's order), as '<label> <value>: <points> of <weight>'; none
    gave points: 'no criterion gave points'. Checked against hand-written texts and,
    over many hazards, against that definition applied row by row."""
    from geomines.priorities.profile import Criterion, Profile, ranked_rows

    profile = Profile(
        [
            Criterion("people_inside", 2.0),
            Criterion("land_class", 1.0, values={"CHA": 1.0, "SHA": 0.5}),
            Criterion("depth_m", 2.0, "lower"),
        ],
        "test",
        normalisation="minmax",
    )
    frame = pd.DataFrame(
        {
            "hazard_id": ["a", "b", "c", "d"],
            "people_inside": [1234.5, 0.0, 5.0, 0.0],
            "land_class": ["CHA", "SHA", "CHA", "other"],
            "depth_m": [3.0, 1.0, 2.0, 3.0],
        }
    )
    table = ranked_rows(frame, profile, ())[0].set_index("hazard_id")
    assert table.loc["a", "why"] == "people inside 1,234: 2.00 of 2; land class CHA: 1.00 of 1"
    # 2 points from depth, then the class's 0.5
    assert table.loc["b", "why"] == "depth m 1: 2.00 of 2; land class SHA: 0.50 of 1"
    # a tie at 1.00 goes in the profile's order: land class before depth
    assert table.loc["c", "why"] == (
        "land class CHA: 1.00 of 1; depth m 2: 1.00 of 2; people inside 5: 0.01 of 2"
    )
    assert table.loc["d", "why"] == "no criterion gave points"

    rng = np.random.default_rng(4)
    n = 3000
    many = pd.DataFrame(
        {
            "hazard_id": [f"H{i:05d}" for i in range(n)],
            "people_inside": np.round(rng.gamma(0.5, 300, n)) * (rng.random(n) < 0.7),
            "land_class": rng.choice(["CHA", "SHA", "other"], n),
            # 2, 1 or 0 points: ties with a CHA's 1 point
            "depth_m": rng.choice([0.5, 4.25, 8.0], n),
        }
    )
    table = ranked_rows(many, Profile(profile.criteria, "test"), ())[0]
    names = {"people_inside": "people inside", "land_class": "land class", "depth_m": "depth m"}
    weights = {c.name: c.weight for c in profile.criteria}
    for row in table.itertuples(index=False):
        given = [
            (-getattr(row, f"{name}_points"), k, name)
            for k, name in enumerate(names)
            if getattr(row, f"{name}_points") > 0
        ]
        texts = []
        for minus, _, name in sorted(given):
            value = getattr(row, name)
            shown = (
                (f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}")
                if isinstance(value, float)
                else str(value)
            )
            texts.append(f"{names[name]} {shown}: {-minus:.2f} of {weights[name]:g}")
        assert row.why == ("; ".join(texts) if texts else "no criterion gave points")
