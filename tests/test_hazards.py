"""Hazard loading: formats, schema mapping, validation and repairs, all reported."""

from __future__ import annotations

import json
import math
import re
import warnings
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

import geomines
from geomines import (
    CRSError,
    InputError,
    InvalidGeometryError,
    LoadWarning,
    RepairWarning,
    read_hazards,
)
from geomines.hazards import validate_hazards

from .conftest import SAO_MIGUEL

GEOD = Geod(ellps="WGS84")


def _frame(n=3, crs="EPSG:4326", **cols):
    geoms = [shapely.box(30 + i * 0.01, 48, 30.005 + i * 0.01, 48.005) for i in range(n)]
    data = {"hazard_id": [f"A{i}" for i in range(n)], "status": ["open"] * n} | cols
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


@pytest.mark.parametrize(
    "ext,driver",
    [("geojson", "GeoJSON"), ("gpkg", "GPKG"), ("shp", "ESRI Shapefile"), ("fgb", "FlatGeobuf")],
)
def test_vector_formats(tmp_path, ext, driver):
    path = tmp_path / f"h.{ext}"
    _frame().to_file(path, driver=driver)
    h = read_hazards(path)
    assert sorted(h["hazard_id"]) == ["A0", "A1", "A2"]  # FlatGeobuf's index reorders
    assert h.crs.to_epsg() == 4326
    report = h.attrs["load_report"]
    assert report.rows == 3 and report.usable == 3 and report.ok


def test_zipped_shapefile(tmp_path):
    _frame().to_file(tmp_path / "h.shp")
    with zipfile.ZipFile(tmp_path / "h.zip", "w") as z:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            if (tmp_path / f"h.{ext}").exists():
                z.write(tmp_path / f"h.{ext}", f"h.{ext}")
    assert len(read_hazards(tmp_path / "h.zip")) == 3


def test_geopackage_any_layer(tmp_path):
    path = tmp_path / "multi.gpkg"
    _frame(2).to_file(path, layer="first")
    _frame(4).to_file(path, layer="second")
    assert len(read_hazards(path, layer="second")) == 4
    with pytest.warns(LoadWarning, match=r"2 layers in file; read the first \('first'\)"):
        h = read_hazards(path)
    assert len(h) == 2
    assert "2 layers" in str(h.attrs["load_report"])


def test_csv_with_wkt(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        'ref,WKT,Status\nX1,"POLYGON((30 48,30.01 48,30.01 48.01,30 48.01,30 48))",Open\n'
        "X2,POLYGON((not wkt)),open\n"
    )
    with pytest.raises(CRSError, match="no CRS"):
        read_hazards(path)
    with pytest.warns(LoadWarning, match=r"1 row\(s\) excluded from the numbers: X2 \(row 2"):
        h = read_hazards(path, crs="EPSG:4326")
    assert list(h["hazard_id"]) == ["X1", "X2"]
    assert list(h["load_status"]) == ["ok", "excluded"]
    assert "could not be parsed" in h["load_note"].iloc[1]
    assert h["status"].iloc[0] == "open"


def test_csv_points_with_radius_or_area_become_circles_in_metres(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text(
        "id,lon,lat,radius_m,area_m2\nP1,30.5,60.0,500,\nP2,30.6,60.1,,1000000\nP3,30.7,60.2,,\n"
    )
    with pytest.warns(LoadWarning, match=r"1 point or line hazard\(s\) in a polygon layer.*: P3\."):
        h = read_hazards(path)
    assert h.crs.to_epsg() == 4326
    assert "assumed" in h.attrs["load_report"].crs_note
    a1 = abs(GEOD.geometry_area_perimeter(h.geometry.iloc[0])[0])
    a2 = abs(GEOD.geometry_area_perimeter(h.geometry.iloc[1])[0])
    # 64-gon inscribed in the circle: area ratio (n/2π)·sin(2π/n) ≈ 0.99839
    inscribed = 64 / (2 * math.pi) * math.sin(2 * math.pi / 64)
    assert a1 == pytest.approx(math.pi * 500**2 * inscribed, rel=2e-3)
    assert a2 == pytest.approx(1_000_000 * inscribed, rel=2e-3)
    assert h.geometry.iloc[2].geom_type == "Point"
    assert h.attrs["load_report"].points == 1


def test_column_mapping_synonyms_case_insensitive_and_explicit(tmp_path):
    gdf = _frame()
    gdf = gdf.rename(columns={"hazard_id": "Hazard ID", "status": "STATUS"})
    gdf["Hazard Type"] = ["Suspected Hazardous Area", "CHA", "weird"]
    gdf["Contamination_Type"] = ["APM, ATM", "UXO", "sea mines"]
    gdf["Date Reported"] = ["2020-01-02", "2021-02-03", "yesterday"]
    gdf["my_class"] = ["CHA", "CHA", "CHA"]
    path = tmp_path / "h.gpkg"
    gdf.to_file(path)
    with pytest.warns(LoadWarning, match="1 reported date.*'yesterday'"):
        h = read_hazards(path)
    assert list(h["hazard_id"]) == ["A0", "A1", "A2"]
    assert list(h["land_class"]) == ["SHA", "CHA", "weird"]
    assert list(h["contamination"]) == ["AP mine; AT mine", "ERW", "sea mines"]
    assert str(h["reported"].iloc[0].date()) == "2020-01-02"
    assert h["reported"].isna().iloc[2]
    report = h.attrs["load_report"]
    assert report.unknown_values["land_class"] == ["weird"]
    assert report.unknown_values["contamination"] == ["sea mines"]
    assert "my_class" in h.columns  # other columns untouched
    with pytest.warns(LoadWarning, match="'yesterday'"):
        h2 = read_hazards(path, columns={"land_class": "my_class"})
    assert list(h2["land_class"]) == ["CHA", "CHA", "CHA"]
    with pytest.raises(InputError, match="no such column"):
        read_hazards(path, columns={"land_class": "nope"})
    assert "'yesterday'" in " ".join(report.notes)


def test_missing_ids_generated_and_duplicates_named(tmp_path):
    gdf = _frame(3)
    gdf["hazard_id"] = ["A", None, "H-0002"]
    gdf.to_file(tmp_path / "m.gpkg")
    h = read_hazards(tmp_path / "m.gpkg")
    assert h["hazard_id"].is_unique and h["hazard_id"].iloc[0] == "A"
    gdf["hazard_id"] = ["A", "B", "A"]
    gdf.to_file(tmp_path / "d.gpkg")
    with pytest.warns(LoadWarning, match="repeated: 'A' ×2"):
        d = read_hazards(tmp_path / "d.gpkg")
    assert list(d["hazard_id"]) == ["A", "B", "A#2"]
    assert list(d["hazard_id_input"]) == ["A", "B", "A"]
    assert d.attrs["load_report"].duplicate_ids == {"A": ["A", "A#2"]}
    assert (d["load_status"] == "ok").all()  # every row counted
    with pytest.raises(InputError, match="duplicates: 'A' ×2"):
        read_hazards(tmp_path / "d.gpkg", strict=True)
    # a generated repeat never collides with an id already in the file
    gdf["hazard_id"] = ["A", "A#2", "A"]
    gdf.to_file(tmp_path / "c.gpkg")
    with pytest.warns(LoadWarning):
        c = read_hazards(tmp_path / "c.gpkg")
    assert list(c["hazard_id"]) == ["A", "A#2", "A#3"]


def test_missing_crs_is_an_error_naming_the_fix(tmp_path):
    _frame().to_file(tmp_path / "h.shp")
    (tmp_path / "h.prj").unlink()
    with pytest.raises(CRSError, match=r"no CRS.*--hazards-crs"):
        read_hazards(tmp_path / "h.shp")
    assert read_hazards(tmp_path / "h.shp", crs="EPSG:4326").crs.to_epsg() == 4326


def test_swapped_lat_lon_and_projected_coordinates_are_errors(tmp_path):
    swapped = gpd.GeoDataFrame(geometry=[shapely.box(48, 100, 48.01, 100.01)], crs=4326)
    swapped.to_file(tmp_path / "s.geojson")
    with pytest.raises(CRSError, match="swapped"):
        read_hazards(tmp_path / "s.geojson")
    projected = gpd.GeoDataFrame(geometry=[shapely.box(500000, 5300000, 501000, 5301000)])
    (tmp_path / "p.geojson").write_text(projected.to_json())
    with pytest.raises(CRSError, match="look projected"):
        read_hazards(tmp_path / "p.geojson")
    h = read_hazards(tmp_path / "p.geojson", crs="EPSG:32636")
    assert h.crs.to_epsg() == 32636


def test_bow_tie_is_repaired_and_reported(tmp_path):
    bowtie = shapely.Polygon([(30, 48), (30.01, 48.01), (30.01, 48), (30, 48.01), (30, 48)])
    gdf = gpd.GeoDataFrame({"hazard_id": ["BT"]}, geometry=[bowtie], crs=4326)
    gdf.to_file(tmp_path / "b.gpkg")
    with pytest.warns(RepairWarning, match=r"row 1 \[BT\]"):
        h = read_hazards(tmp_path / "b.gpkg")
    g = h.geometry.iloc[0]
    assert g.is_valid and g.geom_type == "MultiPolygon"
    assert g.area == pytest.approx(0.01 * 0.01 / 2)
    assert h["load_status"].iloc[0] == "repaired"
    assert "Self-intersection" in h["load_note"].iloc[0]
    report = h.attrs["load_report"]
    assert report.repaired == 1 and "repaired" in str(report)
    with pytest.raises(InvalidGeometryError, match="strict=True"):
        read_hazards(tmp_path / "b.gpkg", strict=True)


def test_null_empty_z_points_lines_and_collections(tmp_path):
    geoms = [
        None,
        shapely.Polygon(),
        shapely.Polygon([(30, 48, 5), (30.01, 48, 5), (30, 48.01, 5)]),
        shapely.Point(30.2, 48.2),
        shapely.LineString([(30, 48), (30.1, 48.1)]),
        shapely.GeometryCollection(
            [shapely.box(30, 48, 30.01, 48.01), shapely.LineString([(30, 48), (31, 49)])]
        ),
    ]
    path = tmp_path / "mixed.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"hazard_id": f"M{i}"},
            "geometry": None if g is None else json.loads(shapely.to_geojson(g)),
        }
        for i, g in enumerate(geoms)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = read_hazards(path)
    text = " | ".join(str(w.message) for w in caught)
    assert re.search(r"row 6 \[M5\]", text)  # the repair
    assert "Z/M values dropped from 1 geometry" in text
    assert "2 row(s) excluded from the numbers: M0 (row 1: no geometry (null)), M1 (row 2" in text
    assert "2 point or line hazard(s) in a polygon layer" in text and "M3, M4." in text
    assert len(h) == 6  # nothing dropped
    assert list(h["load_status"]) == ["excluded", "excluded", "ok", "ok", "ok", "repaired"]
    assert "null" in h["load_note"].iloc[0] and "empty" in h["load_note"].iloc[1]
    assert not h.geometry.iloc[2].has_z
    assert h.geometry.iloc[3].geom_type == "Point"
    assert h.geometry.iloc[4].geom_type == "LineString"
    assert h.geometry.iloc[5].geom_type == "Polygon"
    report = h.attrs["load_report"]
    assert report.excluded == 2 and report.points == 1 and report.lines == 1
    assert any("Z/M" in n for n in report.notes)


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_hazards(tmp_path / "missing.geojson")
    (tmp_path / "empty.geojson").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_hazards(tmp_path / "empty.geojson")
    with pytest.raises(InputError, match="directory"):
        read_hazards(tmp_path)
    (tmp_path / "junk.geojson").write_text("{not json")
    with pytest.raises(InputError, match="could not read"):
        read_hazards(tmp_path / "junk.geojson")
    _frame().to_file(tmp_path / "h.shp")
    (tmp_path / "h.dbf").unlink()
    with pytest.raises(InputError, match=r"sidecar.*\.dbf"):
        read_hazards(tmp_path / "h.shp")


def test_sample_hazards_cover_every_case():
    with pytest.warns(RepairWarning):
        h = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    assert 35 <= len(h) <= 45
    assert set(h["land_class"]) == {"SHA", "CHA"}
    assert set(h["status"]) == {"open", "cancelled", "reduced", "cleared"}
    kinds = set("; ".join(h["contamination"]).split("; "))
    assert {"AP mine", "AT mine", "ERW", "CMR", "IED", "unknown"} <= kinds
    assert (h.geometry.geom_type == "MultiPolygon").any()
    assert any(len(g.interiors) for g in h.geometry if g.geom_type == "Polygon")
    assert (h["load_status"] == "repaired").sum() == 1
    assert h["fictional"].all()
    assert h.geometry.to_crs(32626).area.min() < 1000 * 900  # below one ~1 km pixel
    unioned = shapely.union_all(h.geometry.values)
    assert unioned.area < shapely.area(h.geometry.values).sum()  # overlapping hazards
    legacy = read_hazards(SAO_MIGUEL / "legacy_points_illustrative.csv")
    assert (legacy.geometry.geom_type == "Polygon").all()


def test_validate_returns_the_report():
    report = validate_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    d = report.to_dict()
    assert d["rows"] == report.usable + report.excluded
    assert d["ok"] is True
    json.dumps(d)


def test_negative_years_are_not_read_as_this_century(tmp_path):
    """pandas' mixed-format parser reads "-1-01-01" as 2001-01-01; geomines leaves it
    empty and reports it."""
    gdf = _frame()
    gdf["reported"] = ["-1-01-01", "2021-02-03", " -0005-06-07"]
    path = tmp_path / "h.gpkg"
    gdf.to_file(path)
    with pytest.warns(LoadWarning, match="2 reported date"):
        h = read_hazards(path)
    assert h["reported"].isna().tolist() == [True, False, True]
    assert "-1-01-01" in h.attrs["load_report"].unknown_values["reported"]


@pytest.mark.parametrize("ext", [".gpkg", ".fgb", ".shp"])
def test_a_long_layer_read_in_pieces_is_the_layer_read_whole(tmp_path, monkeypatch, ext):
    """A long layer is read a piece of features at a time (the WKB of every feature is not
    held beside the decoded geometries): the same frame, column types, repairs and report
    as one read, with pieces that differ in which columns have nulls (an integer column
    null only late, a text column null through the whole first piece), a bow-tie to
    repair and points with a radius."""
    from geopandas.testing import assert_geodataframe_equal

    from geomines.io import vector

    rng = np.random.default_rng(21)
    n = 1000
    xy = rng.uniform([10.0, 45.0], [11.0, 46.0], (n, 2))
    geoms = list(shapely.buffer(shapely.points(xy), rng.uniform(0.0005, 0.002, n), quad_segs=4))
    for i in range(0, n, 7) if ext != ".shp" else ():  # a shapefile holds one geometry type
        geoms[i] = shapely.Point(xy[i])  # legacy points, with a radius below
    geoms[500] = shapely.Polygon([(10, 45), (10.01, 45.01), (10.01, 45), (10, 45.01)])  # bow-tie
    frame = gpd.GeoDataFrame(
        {
            "hazard_id": [f"H-{i}" for i in range(n)],
            "land_class": rng.choice(["CHA", "SHA", "Suspected"], n),
            "status": rng.choice(["open", "cleared"], n),
            "devices": [None if i > 900 and i % 3 == 0 else i % 13 for i in range(n)],
            "note": [None if i < 300 else f"note {i}" for i in range(n)],
            "radius_m": np.where(np.arange(n) % 7 == 0, 50.0, np.nan),
            "reported": [f"2024-0{1 + i % 9}-1{i % 10}" for i in range(n)],
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    path = tmp_path / f"long{ext}"
    frame.to_file(path, engine="pyogrio")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole, whole_report = geomines.load_hazards(path)
        monkeypatch.setattr(vector, "PIECE_ROWS", 250)
        read = []
        real = vector.pyogrio.read_dataframe
        monkeypatch.setattr(
            vector.pyogrio, "read_dataframe", lambda *a, **k: read.append(k) or real(*a, **k)
        )
        pieces, pieces_report = geomines.load_hazards(path)
    assert [k.get("skip_features") for k in read] == [0, 250, 500, 750]  # really in pieces
    assert_geodataframe_equal(pieces, whole, check_less_precise=False)
    assert pieces_report.to_dict() == whole_report.to_dict()
    # the bow-tie repaired (into a multipolygon), every point with a radius a circle
    assert whole_report.repaired >= 1 and whole.geom_type.isin(["Polygon", "MultiPolygon"]).all()
