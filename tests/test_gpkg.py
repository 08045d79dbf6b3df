"""geomines.gpkg: every layer read back with GDAL, the same attributes as the GeoJSON,
and a QGIS style per layer that parses and refers only to the layer's own fields."""

from __future__ import annotations

import json
import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pyogrio
import pytest

import geomines

from .conftest import SAO_MIGUEL


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(
            geomines.read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson"),
            SAO_MIGUEL / "gpw_v411_2020_count_2020.tif",
            admin=geomines.read_vector(SAO_MIGUEL / "concelhos.gpkg"),
            admin_id="name",
            places=SAO_MIGUEL / "places_geonames.geojson",
            place_radius_m=1000,
        )
    geomines.write_outputs(result, folder, write_map=False, write_report=False, gpkg=True)
    return folder


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and np.isnan(a)):
        return b is None or (isinstance(b, float) and np.isnan(b))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == pytest.approx(b, rel=1e-12, abs=1e-9)
    return str(a) == str(b)


@pytest.mark.parametrize(
    ("layer", "geojson", "key"),
    [
        ("hazards", "hazards.geojson", "hazard_id"),
        ("bands", "rings.geojson", "band"),
        ("communities", "communities.geojson", "place_id"),
    ],
)
def test_layers_hold_the_geojson_attributes(out, layer, geojson, key):
    frame = pyogrio.read_dataframe(out / "geomines.gpkg", layer=layer)
    doc = json.loads((out / geojson).read_text())
    props = [f["properties"] for f in doc["features"]]
    assert len(frame) == len(props)
    assert set(props[0]) <= set(frame.columns)
    rows = frame.set_index(key).to_dict(orient="index")
    for p in props:
        row = rows[p[key]]
        for column, value in p.items():
            if column == key:
                continue
            got = row[column]
            got = None if got is pd.NaT else got
            if isinstance(got, pd.Timestamp):
                got = got.isoformat()
            assert _same(value, got.item() if hasattr(got, "item") else got), (p[key], column)


def test_admin_units_and_priority_layers(out):
    units = pyogrio.read_dataframe(out / "geomines.gpkg", layer="admin_units")
    table = pd.read_csv(out / "by_admin.csv").iloc[:-1]
    assert units["admin_id"].tolist() == table["admin_id"].tolist()
    np.testing.assert_allclose(units["people_within_5000m"], table["people_within_5000m"])
    priority = pyogrio.read_dataframe(out / "geomines.gpkg", layer="priority")
    csv = pd.read_csv(out / "priority.csv")
    assert priority["hazard_id"].tolist() == csv["hazard_id"].tolist()
    assert priority["rank"].tolist() == csv["rank"].tolist()
    assert priority.geometry.notna().all() and priority.crs.to_epsg() == 4326


def test_each_layer_has_a_default_qgis_style_on_its_own_fields(out):
    path = out / "geomines.gpkg"
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        contents = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    layers = {name for name, _ in pyogrio.list_layers(path)} - {"layer_styles"}
    assert {r[0] for r in rows} == layers == {
        "hazards", "bands", "admin_units", "communities", "priority"
    }  # fmt: skip
    assert "layer_styles" in contents
    for name, geom_col, text, default in rows:
        assert default == 1 and geom_col == geometry[name]
        root = ET.fromstring(text.split("\n", 1)[1])  # after the DOCTYPE line
        renderer = root.find("renderer-v2")
        assert renderer is not None and renderer.get("type") == "RuleRenderer"
        rules = renderer.findall("rules/rule")
        symbols = {s.get("name") for s in renderer.findall("symbols/symbol")}
        assert rules and all(r.get("symbol") in symbols for r in rules)
        fields = set(pyogrio.read_info(path, layer=name)["fields"])
        for rule in rules:
            used = set(re.findall(r'"([^"]+)"', rule.get("filter", "")))
            assert used <= fields, (name, used - fields)
        assert sum(r.get("filter") == "ELSE" for r in rules) <= 1


def test_hazard_style_matches_the_map(out):
    from geomines.maps.layers import RELEASED, STYLE
    from geomines.outputs.qml import hex_rgba

    with sqlite3.connect(out / "geomines.gpkg") as db:
        (text,) = db.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'hazards'"
        ).fetchone()
    root = ET.fromstring(text.split("\n", 1)[1])
    colours = {}
    for rule in root.findall("renderer-v2/rules/rule"):
        symbol = root.find(f"renderer-v2/symbols/symbol[@name='{rule.get('symbol')}']")
        props = {p.get("k"): p.get("v") for p in symbol.iter("prop")}
        colours[rule.get("label")] = (props["color"].rsplit(",", 1)[0], props["outline_color"])
    assert colours["CHA"][0] == hex_rgba(STYLE["CHA"]["fillColor"]).rsplit(",", 1)[0]
    assert colours["cleared (not counted)"][1] == hex_rgba(RELEASED["cleared"]["color"])
