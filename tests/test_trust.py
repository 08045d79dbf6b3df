"""Trust on real exports: every repair stated, every special row named, every number at
the edges known by construction, and reconciliation checks that fire when broken.

Each item runs through the Python API and the command line, against answers derived
independently (pixel counts on rasters of ones, areas on the ellipsoid by pyproj).
"""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin

import geomines
from geomines.cli import cli
from geomines.testing import write_raster

WGS84 = "EPSG:4326"


def _ones(tmp_path, name="pop.tif"):
    """1 person per 0.001° pixel over 29.99..30.11 E, 47.99..48.11 N."""
    return write_raster(
        tmp_path / name,
        np.ones((120, 120), dtype="float32"),
        crs=WGS84,
        transform=from_origin(29.99, 48.11, 0.001, 0.001),
    )


def _box(x, y=48.0, d=0.01):
    return shapely.box(x, y, x + d, y + d)


def _assess(path, raster, out, *extra):
    """``geomines assess`` with one 100 m ring and no map or report."""
    return _run("assess", path, raster, "--rings", "100", "--out", out, "--no-map",
                "--no-report", *extra)


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, " | ".join(str(w.message) for w in caught)


# --------------------------------------------------------------------------- duplicates
def test_duplicate_ids_counted_once_each_and_numbered(tmp_path):
    """A multi-part hazard exported as two rows with one id, plus the same field twice:
    every row is counted, the dissolved numbers are those of the union."""
    path = tmp_path / "dupes.geojson"
    gpd.GeoDataFrame(
        {"hazard_id": ["H-1", "H-1", "H-2", "H-2"]},
        geometry=[_box(30.0), _box(30.02), _box(30.05), _box(30.05)],
        crs=WGS84,
    ).to_file(path)
    raster = _ones(tmp_path)
    hazards, text = _quiet(geomines.read_hazards, path)
    assert "'H-1' ×2, 'H-2' ×2" in text
    assert hazards["hazard_id"].tolist() == ["H-1", "H-1#2", "H-2", "H-2#2"]
    result = geomines.assess(hazards, raster, rings_m=(100,))
    # 3 distinct 10 × 10 px fields (one twice): 300 people dissolved, 400 summed per hazard
    assert result.people_inside == pytest.approx(300.0, rel=1e-12)
    assert result.hazards["people_inside"].sum() == pytest.approx(400.0, rel=1e-12)
    assert result.summary()["hazards"]["duplicate_ids"] == {
        "H-1": ["H-1", "H-1#2"],
        "H-2": ["H-2", "H-2#2"],
    }
    out = tmp_path / "out"
    res = _assess(path, raster, out)
    assert res.exit_code == 0 and "'H-1' ×2" in res.output
    ids = [f["id"] for f in json.loads((out / "hazards.geojson").read_text())["features"]]
    assert ids == ["H-1", "H-1#2", "H-2", "H-2#2"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people"]["inside"] == pytest.approx(300.0, rel=1e-12)
    strict = _run("assess", path, raster, "--out", tmp_path / "o2", "--strict")
    assert strict.exit_code == 1 and "expected unique hazard ids" in strict.output


# --------------------------------------------------------------------------- encodings
CYR = "Минное поле"


def _cp1251_shapefile(tmp_path, cpg):
    gpd.GeoDataFrame({"hazard_id": ["A"], "name": [CYR]}, geometry=[_box(30.0)], crs=WGS84).to_file(
        tmp_path / "h.shp", encoding="cp1251"
    )
    if cpg is None:
        (tmp_path / "h.cpg").unlink()
    else:
        (tmp_path / "h.cpg").write_text(cpg)
    return tmp_path / "h.shp"


@pytest.mark.parametrize("cpg", [None, "UTF-8"])
def test_encoding_explicit_wins_and_wrong_one_is_a_clear_error(tmp_path, cpg):
    path = _cp1251_shapefile(tmp_path, cpg)
    h = geomines.read_hazards(path, encoding="cp1251")
    assert h["name"].iloc[0] == CYR
    assert h.attrs["load_report"].encoding == "cp1251"
    res = _run("validate", path, "--encoding", "cp1251", "--json")
    assert res.exit_code == 0 and json.loads(res.output)["hazards"]["encoding"] == "cp1251"
    with pytest.raises(geomines.InputError, match="Expected a text encoding"):
        geomines.read_hazards(path, encoding="klingon")
    assert _run("validate", path, "--encoding", "klingon").exit_code == 1


def test_wrong_explicit_encoding_never_a_raw_decode_error(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes(f'id,name,wkt\nA,{CYR},"{_box(30.0).wkt}"\n'.encode("cp1251"))
    with pytest.raises(geomines.InputError, match=r"could not be parsed as utf-8.*--encoding"):
        geomines.read_hazards(path, crs=WGS84, encoding="utf-8")
    res = _run("validate", path, "--hazards-crs", WGS84, "--encoding", "utf-8")
    assert res.exit_code == 1 and "--encoding" in res.output
    h = geomines.read_hazards(path, crs=WGS84, encoding="cp1251")
    assert h["name"].iloc[0] == CYR


def test_guess_encoding_rule():
    from geomines.io.encoding import guess_encoding

    assert guess_encoding("Минное поле у школы".encode("cp1251")) == "cp1251"
    assert guess_encoding("Харків; Ізюм".encode("cp1251")) == "cp1251"
    assert guess_encoding("été à São Miguel".encode("latin-1")) == "cp1252"
    assert guess_encoding("Zürich Straße".encode("cp1252")) == "cp1252"
    assert guess_encoding("Минное".encode()) == "utf-8"


# --------------------------------------------------------------------------- notes
def test_file_notes_reach_stderr_and_summary(tmp_path):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32636"}}
    doc = {
        "type": "FeatureCollection",
        "crs": crs,
        "features": [
            {
                "type": "Feature",
                "properties": {"hazard_id": "L"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [500000, 5300000, 7],
                            [501000, 5300000, 7],
                            [501000, 5301000, 7],
                            [500000, 5300000, 7],
                        ]
                    ],
                },
            }
        ],
    }
    path = tmp_path / "legacy.geojson"
    path.write_text(json.dumps(doc))
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32636, 4326, always_xy=True).transform(500500, 5300500)
    raster = write_raster(
        tmp_path / "pop.tif",
        np.ones((100, 100), dtype="float32"),
        crs=WGS84,
        transform=from_origin(lon - 0.05, lat + 0.05, 0.001, 0.001),
    )
    out = tmp_path / "out"
    res = _assess(path, raster, out)
    assert res.exit_code == 0, res.output
    assert "warning: legacy.geojson: GeoJSON has a legacy 'crs' member (EPSG:32636)" in res.output
    assert "Z/M values dropped from 1 geometry" in res.output
    notes = json.loads((out / "summary.json").read_text())["hazards"]["notes"]
    assert any("legacy 'crs' member (EPSG:32636)" in n for n in notes)
    assert any("Z/M values dropped" in n for n in notes)


def test_excluded_and_special_rows_named_first_ten_and_count(tmp_path):
    rows = ["id,wkt"] + [f'OK{i},"{_box(30.0 + 0.011 * i).wkt}"' for i in range(3)]
    rows += [f"BAD{i},NOT WKT" for i in range(12)]
    rows += ['NAN,"POLYGON((30 48,nan 48,30.01 48.01,30 48))"', "PT,POINT (30.1 48.1)"]
    path = tmp_path / "h.csv"
    path.write_text("\n".join(rows) + "\n")
    raster = _ones(tmp_path)
    hazards, text = _quiet(geomines.read_hazards, path, crs=WGS84)
    assert "13 row(s) excluded from the numbers: BAD0 (row 4:" in text
    assert "BAD9 (row 13" in text and "and 3 more" in text and "BAD10" not in text
    assert "1 point or line hazard(s) in a polygon layer hold nobody inside" in text
    assert "PT." in text
    result = geomines.assess(hazards, raster, rings_m=(100,))
    summary = result.summary()["hazards"]
    assert [r["hazard_id"] for r in summary["excluded_rows"]] == [
        *[f"BAD{i}" for i in range(12)],
        "NAN",
    ]
    assert "NaN or infinite" in summary["excluded_rows"][-1]["reason"]
    assert summary["points_and_lines"] == ["PT"]
    out = tmp_path / "out"
    res = _assess(path, raster, out, "--hazards-crs", WGS84)
    assert res.exit_code == 0 and "and 3 more" in res.output and "PT." in res.output
    saved = json.loads((out / "summary.json").read_text())["hazards"]
    assert len(saved["excluded_rows"]) == 13 and saved["points_and_lines"] == ["PT"]


def test_hazards_partly_off_the_raster_named(tmp_path):
    path = tmp_path / "h.geojson"
    gpd.GeoDataFrame(
        {"hazard_id": ["ON", "OFF"]}, geometry=[_box(30.0), _box(10.0)], crs=WGS84
    ).to_file(path)
    with pytest.warns(
        geomines.CoverageWarning,
        match=r"1 counted hazard\(s\) lie wholly "
        r"outside the population raster pop.tif.*: OFF\.",
    ):
        result = geomines.assess(geomines.read_hazards(path), _ones(tmp_path), rings_m=(100,))
    assert result.summary()["hazards"]["outside_raster"] == ["OFF"]
    assert result.people_inside == pytest.approx(100.0, rel=1e-12)


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["03/04/2020", "12/25/2021"], ["2020-03-04", "2021-12-25"]),  # month-first column
        (["03.04.2020", "25.12.2021"], ["2020-04-03", "2021-12-25"]),  # day-first column
        (["2020-03-04", "25/12/2021"], ["2020-03-04", "2021-12-25"]),  # ISO always ISO
        (["12 March 2020", "2021-02-03T10:00:00"], ["2020-03-12", "2021-02-03"]),
        (["04/04/2020", "05/05/20"], ["2020-04-04", "2020-05-05"]),  # same either way
    ],
)
def test_dates_one_convention_per_column(tmp_path, values, expected):
    path = tmp_path / "d.gpkg"
    gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"], "reported": values}, geometry=[_box(30.0), _box(30.02)], crs=WGS84
    ).to_file(path)
    h = geomines.read_hazards(path)
    assert [str(v.date()) for v in h["reported"]] == expected


def test_ambiguous_dates_read_with_a_format(tmp_path):
    path = tmp_path / "d.gpkg"
    gpd.GeoDataFrame(
        {"hazard_id": ["A", "B"], "reported": ["03/04/2020", "05/06/2021"]},
        geometry=[_box(30.0), _box(30.02)],
        crs=WGS84,
    ).to_file(path)
    h, text = _quiet(geomines.read_hazards, path)
    assert h["reported"].isna().all() and "--date-format" in text
    h = geomines.read_hazards(path, date_format="%d/%m/%Y")
    assert [str(v.date()) for v in h["reported"]] == ["2020-04-03", "2021-06-05"]
    out = tmp_path / "out"
    res = _assess(path, _ones(tmp_path), out, "--date-format", "%m/%d/%Y")
    assert res.exit_code == 0, res.output
    props = [
        f["properties"]["reported"]
        for f in json.loads((out / "hazards.geojson").read_text())["features"]
    ]
    assert [p[:10] for p in props] == ["2020-03-04", "2021-05-06"]


# --------------------------------------------------------------------------- units
def test_unitless_area_mapped_with_its_unit(tmp_path):
    """An ``area`` column in hectares: mapped, the point becomes a circle of that area."""
    path = tmp_path / "p.csv"
    path.write_text("id,lon,lat,area\nP1,30.05,48.05,25\n")  # 25 ha = 250,000 m²
    h, text = _quiet(geomines.read_hazards, path)
    assert h.geometry.iloc[0].geom_type == "Point" and "names no unit" in text
    h = geomines.read_hazards(path, area_column="area", area_unit="ha")
    from pyproj import Geod

    area = abs(Geod(ellps="WGS84").geometry_area_perimeter(h.geometry.iloc[0])[0])
    inscribed = 64 / (2 * math.pi) * math.sin(2 * math.pi / 64)
    assert area == pytest.approx(250_000 * inscribed, rel=2e-3)
    out = tmp_path / "out"
    res = _assess(path, _ones(tmp_path), out, "--area-column", "area", "--area-unit", "ha")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people"]["inside"] > 0 and summary["hazards"]["points_and_lines"] == []


# --------------------------------------------------------------------------- rings
def test_ring_distances_with_decimals_and_beyond_1000_km(tmp_path):
    path = tmp_path / "h.geojson"
    gpd.GeoDataFrame({"hazard_id": ["A"]}, geometry=[_box(30.05, 48.05, 0.002)], crs=WGS84).to_file(
        path
    )
    raster = _ones(tmp_path)
    result = geomines.assess(geomines.read_hazards(path), raster, rings_m="0.5,1500000")
    assert set(result.totals["within_m"]) == {"0.5", "1500000"}
    assert result.people_within(1_500_000) == pytest.approx(120 * 120, rel=1e-9)
    assert "people_within_0.5m" in result.hazards.columns
    out = tmp_path / "out"
    res = _run("assess", path, raster, "--rings", "0.5,1500000", "--out", out)
    assert res.exit_code == 0, res.output
    assert "People within 0.5 m" in res.output and "People within 1500000 m" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["people"]["within_m"]) == {"0.5", "1500000"}
    header = (out / "summary.csv").read_text().splitlines()
    assert header[-1].startswith("total within 1500000 m")
    assert "people_within_0.5m" in (out / "by_class.csv").read_text().splitlines()[0]
    assert "within 1500000 m" in (out / "report.html").read_text()


# --------------------------------------------------------------------------- land area
def test_land_area_pixel_never_yields_more_than_it_holds(tmp_path):
    """One pixel of 10 people whose land is a quarter of its area (k = 4)."""
    tr = from_origin(0, 1000, 1000, 1000)
    pop = write_raster(
        tmp_path / "pop.tif",
        np.array([[10.0, 10.0]], dtype="float32"),
        crs="EPSG:6933",
        transform=tr,
    )  # equal-area: each pixel 1 km²
    land = write_raster(
        tmp_path / "land.tif",
        np.array([[0.25, 1.0]], dtype="float32"),
        crs="EPSG:6933",
        transform=tr,
    )
    r = geomines.read_population(pop, land_area=land)
    zs = geomines.zonal_sum
    # covering the coastal pixel whole: its 10 people, not 40
    assert zs(shapely.box(0, 0, 1000, 1000), r).people == pytest.approx(10.0, rel=1e-9)
    # half of it: its land first: min(1, 0.5 × 4) → 10
    assert zs(shapely.box(0, 0, 500, 1000), r).people == pytest.approx(10.0, rel=1e-9)
    # a tenth: 0.1 × 4 → 4
    assert zs(shapely.box(0, 0, 100, 1000), r).people == pytest.approx(4.0, rel=1e-9)
    # the inland pixel is as without land area
    assert zs(shapely.box(1000, 0, 1300, 1000), r).people == pytest.approx(3.0, rel=1e-9)
    from geomines.engine import zonal_sums

    # the region outside (water first): a tenth of the pixel holds max(0, 1 − 0.9 × 4) = 0,
    # nine tenths hold max(0, 1 − 0.1 × 4) = 0.6
    sea = zonal_sums(
        np.array([shapely.box(0, 0, 100, 1000), shapely.box(100, 0, 1000, 1000)]),
        r,
        land_rule="water-first",
    ).people
    np.testing.assert_allclose(sea, [0.0, 6.0], atol=1e-9)
    assert r.total() == pytest.approx(20.0)


# --------------------------------------------------------------------------- checks can fail
def test_reconciliation_checks_fire_on_broken_parts(tmp_path, monkeypatch):
    """Each check compares parts with a whole counted independently: break a part and
    it fires (not ok, with the relative difference)."""
    from geomines.assessment import checks, units

    raster = _ones(tmp_path)
    hazards = gpd.GeoDataFrame(
        {"hazard_id": ["C", "S", "O"], "land_class": ["CHA", "SHA", "other"]},
        geometry=[_box(30.02), _box(30.05), _box(30.08)],
        crs=WGS84,
    )
    admin = gpd.GeoDataFrame(
        {"id": ["W", "E"]},
        geometry=[shapely.box(29.99, 47.99, 30.05, 48.11), shapely.box(30.05, 47.99, 30.11, 48.11)],
        crs=WGS84,
    )
    good = geomines.assess(hazards, raster, rings_m=(500, 1000), admin=admin, admin_id="id")
    for key in ("bands_add_up", "classes_add_up", "admin_units_add_up"):
        assert good.checks[key]["ok"] and good.checks[key]["relative_difference"] < 1e-9, key

    real = checks.tile_pairs

    def lose_a_tile(pairs):  # a band or class part built without its last tile
        left, right, owner = real(pairs)
        keep = np.ones(len(left), dtype=bool)
        for k, (_, inner) in enumerate(pairs):
            if inner is not None and (owner == k).any():
                keep[np.flatnonzero(owner == k)[-1]] = False
        return left[keep], right[keep], owner[keep]

    monkeypatch.setattr(checks, "tile_pairs", lose_a_tile)
    broken = geomines.assess(hazards, raster, rings_m=(500, 1000), admin=admin, admin_id="id")
    for key in ("bands_add_up", "classes_add_up"):
        assert not broken.checks[key]["ok"], key
        assert broken.checks[key]["relative_difference"] > 1e-3, key
    monkeypatch.undo()

    real_region = checks.outside_region

    def outside_with_a_unit(units, raster_, side):  # the outside region overlapping a unit
        return [*real_region(units, raster_, side), shapely.box(29.99, 47.99, 30.0, 48.0)]

    monkeypatch.setattr(units, "outside_region", outside_with_a_unit)
    broken = geomines.assess(hazards, raster, rings_m=(500, 1000), admin=admin, admin_id="id")
    check = broken.checks["admin_units_add_up"]
    assert not check["ok"] and check["parts"] > check["whole"]
    assert check["relative_difference"] == pytest.approx(100 / (120 * 120), rel=1e-6)


def test_check_failure_shown_in_the_report(tmp_path):
    from geomines.outputs.report import _check_text

    text = _check_text(
        {"ok": False, "parts": 110.0, "whole": 100.0, "relative_difference": 0.1, "what": "x"}
    )
    assert text.startswith("DOES NOT ADD UP: parts 110.00 vs whole 100.00")
    assert "(relative difference 1.0e-01)" in text


def test_geojson_keeps_odd_text_and_nulls(tmp_path):
    """Line separators and quotes inside text, NaN, NaT and impossible geometry: valid JSON."""
    from geomines.outputs.geojson import to_geojson

    frame = gpd.GeoDataFrame(
        {"hazard_id": ['a"b', "c\u2028d", "e\nf"], "people": [1.5, np.nan, 2.0],
         "reported": [pd_ts("2020-03-04"), None, None]},
        geometry=[_box(30.0), None, shapely.box(30, 95, 31, 96)], crs=WGS84)
    path = to_geojson(frame, tmp_path / "x.geojson", id_column="hazard_id",
                      foreign={"geomines": {"note": "x\u2028y"}})
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert [f["id"] for f in doc["features"]] == ['a"b', "c\u2028d", "e\nf"]
    assert [f["properties"]["hazard_id"] for f in doc["features"]] == ['a"b', "c\u2028d", "e\nf"]
    assert doc["features"][1]["properties"]["people"] is None
    assert doc["features"][0]["properties"]["reported"] == "2020-03-04T00:00:00"
    assert doc["features"][1]["geometry"] is None and doc["features"][2]["geometry"] is None
    assert doc["bbox"] == [30.0, 48.0, 30.01, 48.01] and doc["geomines"]["note"] == "x\u2028y"


def pd_ts(text):
    import pandas as pd

    return pd.Timestamp(text)


def test_admin_units_in_cp1251_without_cpg_are_read_and_warned(tmp_path):
    """Admin unit names get the same encoding rule as hazards, and the guess is warned."""
    units = gpd.GeoDataFrame({"id": ["A"], "name": ["Харківська"]},
                             geometry=[shapely.box(29.99, 47.99, 30.11, 48.11)], crs=WGS84)
    units.to_file(tmp_path / "adm.shp", encoding="cp1251")
    (tmp_path / "adm.cpg").unlink()
    with pytest.warns(geomines.LoadWarning, match="read as cp1251"):
        frame = geomines.read_vector(tmp_path / "adm.shp")
    assert frame["name"].iloc[0] == "Харківська"
    assert geomines.read_vector(tmp_path / "adm.shp", encoding="cp1251")["name"].iloc[0] == \
        "Харківська"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"admin_id": "nope"}, r"Admin column 'nope' not found; columns are \['id'\]"),
        ({"admin_id": "id", "admin_name": "name"}, r"Admin column 'name' not found"),
        ({"admin_id": "id", "duplicate": True}, r"must be unique; duplicated: \['W'\]"),
    ],
)
def test_a_bad_admin_file_is_refused_before_any_counting(tmp_path, monkeypatch, kwargs, message):
    """Admin units are read and checked before the hazards are counted: a wrong column or
    a duplicated id is refused at once, saying what is there, not after the rings."""
    from geomines.assessment import stages

    raster = _ones(tmp_path)
    hazards = gpd.GeoDataFrame({"hazard_id": ["A"]}, geometry=[_box(30.02)], crs=WGS84)
    ids = ["W", "W"] if kwargs.pop("duplicate", False) else ["W", "E"]
    admin = gpd.GeoDataFrame(
        {"id": ids},
        geometry=[shapely.box(29.99, 47.99, 30.05, 48.11), shapely.box(30.05, 47.99, 30.11, 48.11)],
        crs=WGS84,
    )

    def no_counting(*args, **kw):
        raise AssertionError("the hazards were counted before the admin units were checked")

    monkeypatch.setattr(stages, "count_per_hazard", no_counting)
    with pytest.raises(geomines.InputError, match=message):
        geomines.assess(hazards, raster, rings_m=(500,), admin=admin, **kwargs)
