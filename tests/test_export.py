"""Outputs read back from disk: RFC 7946 GeoJSON, CSV tables, HXL, report, notebook repr."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re

import geojson
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from geomines.cli import cli
from geomines.outputs.headline import round_headline
from geomines.maps.offline import external_urls

from .conftest import SAO_MIGUEL

HAZARDS = SAO_MIGUEL / "hazards_illustrative.geojson"
COUNT = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
ADMIN = SAO_MIGUEL / "concelhos.gpkg"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(
        cli,
        [
            "-q",
            "assess",
            str(HAZARDS),
            str(COUNT),
            "--admin",
            str(ADMIN),
            "--admin-id",
            "name",
            "--out",
            str(out),
            "--hxl",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def _strict_json(path):
    def no_nan(token):
        raise AssertionError(f"{path.name} holds {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=no_nan)


def _decimals(coords):
    if isinstance(coords, float | int):
        text = repr(float(coords))
        return 0 if "e" in text else len(text.split(".")[1].rstrip("0"))
    return max((_decimals(c) for c in coords), default=0)


@pytest.mark.parametrize("name", ["hazards.geojson", "rings.geojson"])
def test_geojson_follows_rfc_7946(out, name):
    path = out / name
    doc = _strict_json(path)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert geojson.loads(path.read_text()).is_valid
    ids = [f["id"] for f in doc["features"]]
    assert len(ids) == len(set(ids))
    geoms = [shapely.geometry.shape(f["geometry"]) for f in doc["features"] if f["geometry"]]
    lo = [g.bounds for g in geoms]
    bbox = [
        min(b[0] for b in lo),
        min(b[1] for b in lo),
        max(b[2] for b in lo),
        max(b[3] for b in lo),
    ]
    assert doc["bbox"] == pytest.approx(bbox, abs=1e-6)
    assert -180 <= bbox[0] <= bbox[2] <= 180 and -90 <= bbox[1] <= bbox[3] <= 90
    for f in doc["features"]:
        if f["geometry"] is None:
            continue
        assert _decimals(f["geometry"]["coordinates"]) <= 6
        for poly in shapely.get_parts(shapely.geometry.shape(f["geometry"])):
            if poly.geom_type != "Polygon":
                continue
            assert poly.exterior.is_ccw, f"exterior of {f['id']} is not counter-clockwise"
            assert all(not ring.is_ccw for ring in poly.interiors)
    method = doc["geomines"]
    for key in (
        "geomines_version",
        "population_source",
        "population_sha256",
        "population_crs",
        "population_resolution",
        "rings_m",
        "dissolve_rule",
        "counted_statuses",
        "pixel_rule",
        "share_of_hazard_area_on_nodata",
    ):
        assert key in method, key
    assert method["population_sha256"] == hashlib.sha256(COUNT.read_bytes()).hexdigest()
    # GDAL reads it back
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == len(doc["features"])


def test_hazard_properties(out):
    doc = _strict_json(out / "hazards.geojson")
    props = doc["features"][0]["properties"]
    for key in (
        "hazard_id",
        "land_class",
        "contamination",
        "status",
        "evidence",
        "reported",
        "people_inside",
        "people_within_500m",
        "people_within_5000m",
        "load_status",
        "load_note",
        "counted",
        "admin_id",
    ):
        assert key in props, key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", props["reported"])
    assert {f["properties"]["load_status"] for f in doc["features"]} >= {"ok", "repaired"}
    admin_ids = {f["properties"]["admin_id"] for f in doc["features"]}
    assert admin_ids <= {
        "Lagoa",
        "Nordeste",
        "Ponta Delgada",
        "Povoação",
        "Ribeira Grande",
        "Vila Franca do Campo",
        None,
    }


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1], [dict(zip(rows[0], r, strict=True)) for r in rows[2:]]


def test_tables_reconcile_and_carry_hxl_tags(out):
    summary = _strict_json(out / "summary.json")
    header, tags, rows = _read_csv(out / "summary.csv")
    assert tags[header.index("people")] == "#affected"
    bands = [r for r in rows if not r["band"].startswith("total")]
    total = [r for r in rows if r["band"].startswith("total")][0]
    assert sum(float(r["people"]) for r in bands) == pytest.approx(float(total["people"]))
    assert float(total["people"]) == pytest.approx(summary["people"]["within_m"]["5000"])
    header, tags, rows = _read_csv(out / "by_admin.csv")
    assert tags[:2] == ["#adm1+code", "#adm1+name"]
    assert rows[-1]["admin_id"] == "(outside)"
    assert sum(float(r["population"]) for r in rows) == pytest.approx(
        summary["population"]["total"]
    )
    assert sum(float(r["people_inside"]) for r in rows) == pytest.approx(
        summary["people"]["inside"]
    )
    header, tags, rows = _read_csv(out / "by_class.csv")
    assert {"land_class", "contamination", "status", "people_inside"} <= set(header)
    header, tags, rows = _read_csv(out / "by_class_precedence.csv")
    assert sum(float(r["people"]) for r in rows) == pytest.approx(
        summary["people"]["within_m"]["5000"]
    )
    checks = summary["checks"]
    assert all(
        checks[k]["ok"] and checks[k]["relative_difference"] < 1e-9
        for k in ("bands_add_up", "admin_units_add_up", "classes_add_up")
    )
    assert checks["double_counting_factor"] >= 1


def test_headline_rounding_rule(out):
    assert round_headline(994) == 990 and round_headline(1_049) == 1_000
    assert round_headline(99_949) == 99_900 and round_headline(111_937.5) == 112_000
    summary = _strict_json(out / "summary.json")
    head = summary["headline"]
    assert head["people_inside"] == round_headline(summary["people"]["inside"])
    assert "may not add up" in head["rule"]


def test_report_is_self_contained_and_complete(out):
    text = (out / "report.html").read_text(encoding="utf-8")
    assert external_urls(text) == []
    assert "The question" in text and "Headline numbers" in text
    assert text.count("<svg") >= 3 and "<iframe" in text
    assert "By admin unit" in text and "Assumptions and caveats" in text
    assert "fictional" in text
    for path in (COUNT, HAZARDS, ADMIN):
        assert hashlib.sha256(path.read_bytes()).hexdigest() in text, path.name
    assert "geomines assess" in text and "GDAL" in text
    assert "coastal" in text  # count raster + admin units: the coastal caveat


def test_notebook_repr_is_a_headline_table():
    import warnings

    import geomines

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(geomines.read_hazards(HAZARDS), COUNT, rings_m=(1000,))
    html = result._repr_html_()
    assert "<table" in html and "within 1000 m" in html
    assert f"{result.totals['inside']:,.0f}" in html
    assert not math.isnan(result.people_within(1000))


def test_geojson_written_in_chunks_is_the_same_file(tmp_path, monkeypatch):
    """Big layers are encoded a chunk of features at a time: the file does not depend on
    the chunk size (ids, bbox, order, every feature), and no side file is left."""
    import geopandas as gpd

    from geomines.outputs import geojson as gj

    frame = gpd.read_file(HAZARDS)
    frame["n"] = range(len(frame))
    whole = gj.to_geojson(frame, tmp_path / "whole.geojson", id_column=None)
    monkeypatch.setattr(gj, "CHUNK", 4)
    chunked = gj.to_geojson(frame, tmp_path / "chunked.geojson", id_column=None)
    assert len(frame) > 8
    assert chunked.read_bytes() == whole.read_bytes()
    doc = json.loads(chunked.read_text(encoding="utf-8"))
    assert [f["id"] for f in doc["features"]] == list(range(len(frame)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.geojson", "whole.geojson"]


def test_big_multipolygons_are_written_in_slices_as_the_same_file(tmp_path, monkeypatch):
    """A geometry of more vertices than CHUNK_COORDS (a national band) is encoded a slice
    of its polygons at a time: the same bytes as encoding it whole (orientation,
    rounding, bbox), beside small rows, a null geometry, a polygon, and a multipolygon
    across the antimeridian (written whole: its longitudes are wrapped)."""
    import geopandas as gpd
    import numpy as np

    from geomines.outputs import geojson as gj

    rng = np.random.default_rng(8)
    rings = shapely.buffer(shapely.points(rng.uniform([30, 48], [32, 50], (60, 2))), 0.05)
    holed = [shapely.Polygon(r.exterior.coords[::-1], [r.buffer(-0.03).exterior.coords])
             for r in rings[:30]]  # exteriors clockwise, to be turned
    band = shapely.MultiPolygon([*holed, *rings[30:]])
    across = shapely.MultiPolygon([shapely.box(179.5, 0, 180.5, 1), shapely.box(170, 0, 171, 1)])
    frame = gpd.GeoDataFrame(
        {"band": ["a", "b", "c", "d", "e"]},
        geometry=[rings[0], band, None, band, across],
        crs=4326,
    )  # fmt: skip
    whole = gj.to_geojson(frame, tmp_path / "whole.geojson", id_column="band", precision=5)
    monkeypatch.setattr(gj, "CHUNK_COORDS", 500)  # band: 60 polygons, ~4,000 vertices
    original, sliced_rows = gj._big_geometry, []

    def recording(geom, precision):
        out = original(geom, precision)
        sliced_rows.append(out is not None and len(out[0]) > 3)  # head, slices, tail
        return out

    monkeypatch.setattr(gj, "_big_geometry", recording)
    sliced = gj.to_geojson(frame, tmp_path / "sliced.geojson", id_column="band", precision=5)
    assert sliced.read_bytes() == whole.read_bytes()
    assert sliced_rows.count(True) == 2  # both bands, in several slices each
    doc = json.loads(sliced.read_text(encoding="utf-8"))
    assert [f["id"] for f in doc["features"]] == ["a", "b", "c", "d", "e"]
    read = shapely.from_geojson(json.dumps(doc["features"][1]["geometry"]))
    assert shapely.get_num_geometries(read) == 60  # every polygon, each within rounding
    assert shapely.hausdorff_distance(read, band) <= 0.71e-5
    assert shapely.get_num_interior_rings(shapely.get_parts(read)).sum() == 30


def test_report_streams_the_map_into_the_same_page(tmp_path, monkeypatch, out):
    """write_report (the map read and escaped in chunks) writes the page report_html
    returns for the map's whole text: an odd chunk size splits escapes' neighbours."""
    import re
    import warnings

    import geomines
    from geomines.outputs import report

    page = (out / "map.html").read_text(encoding="utf-8")
    assert all(c in page for c in "<>&\"'")  # the escaping is exercised
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(geomines.read_hazards(HAZARDS), COUNT, rings_m=(1000,))
    monkeypatch.setattr(report, "CHUNK_CHARS", 7)
    path = report.write_report(result, tmp_path / "r.html", map_path=out / "map.html")
    whole = report.report_html(result, map_html=page)
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    streamed = stamp.sub("T", path.read_text(encoding="utf-8"))
    assert streamed == stamp.sub("T", whole)
    assert len(streamed) > len(page)
