"""``geomines.gpkg``: every layer in one GeoPackage, with QGIS styles that match the map.

Layers (EPSG:4326, as the GeoJSON): ``hazards``, ``bands``, ``admin_units`` (the units
with their table), ``communities`` and ``priority`` (the ranked counted hazards) when
they exist. Written by GDAL (pyogrio); the ``layer_styles`` table QGIS reads from a
GeoPackage then holds one default style per layer (``styleQML``, ``useAsDefault = 1``),
registered in ``gpkg_contents`` as QGIS registers it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..assessment.result import Assessment
from ..engine.rings import format_m
from ..maps.layers import ADMIN_BREAKS, ADMIN_COLORS, RELEASED, RING_COLORS, STYLE
from ..maps.priority import BAND_COLORS, BEYOND_COLOR, TIER_STYLE
from ..shapes import with_shapes
from .qml import Rule, literal, qml, quoted

__all__ = ["gpkg_layers", "layer_styles", "write_gpkg"]

_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GDAL writes faithfully: nullable integers as floats when they hold NULLs,
    object columns of mixed values as text.
    """
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if isinstance(s.dtype, pd.Int64Dtype):
            out[col] = s.astype("float64") if s.isna().any() else s.astype("int64")
        elif s.dtype == object:
            out[col] = s.map(lambda v: None if v is None or v is pd.NA else str(v))
    return out.to_crs(4326)


def gpkg_layers(assessment: Assessment) -> dict[str, gpd.GeoDataFrame]:
    """The layers written, by name."""
    hazards = with_shapes(assessment.hazards)  # point records' circles built
    layers = {"hazards": hazards, "bands": assessment.bands}
    if assessment.admin is not None and assessment.by_admin is not None:
        table = assessment.by_admin.iloc[:-1].reset_index(drop=True)  # not "outside"
        layers["admin_units"] = gpd.GeoDataFrame(
            table, geometry=assessment.admin.geometry.reset_index(drop=True).values,
            crs=assessment.admin.crs,
        )  # fmt: skip
    if assessment.communities is not None:
        layers["communities"] = assessment.communities
    if assessment.priority is not None and len(assessment.priority):
        geoms = hazards.geometry.set_axis(hazards["hazard_id"].astype(str))
        layers["priority"] = gpd.GeoDataFrame(
            assessment.priority,
            geometry=geoms.reindex(assessment.priority["hazard_id"]).values,
            crs=hazards.crs,
        )
    return layers


def _not_released() -> str:
    return f"{quoted('status')} NOT IN ({', '.join(literal(s) for s in RELEASED)})"


def layer_styles(assessment: Assessment, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """One QML per layer, matching the web map."""
    styles = {}
    hazard_rules = [
        Rule(f"{quoted('status')} = {literal(s)}", f"{s} (not counted)", v["fillColor"],
             v["color"], dash=True, alpha=0.35)
        for s, v in RELEASED.items()
    ] + [
        Rule(f"{quoted('land_class')} = {literal(c)} AND {_not_released()}", f"{c}",
             STYLE[c]["fillColor"], STYLE[c]["color"])
        for c in ("CHA", "SHA")
    ] + [Rule(None, "other", STYLE["other"]["fillColor"], STYLE["other"]["color"])]  # fmt: skip
    styles["hazards"] = qml(hazard_rules)
    band_rules = [
        Rule(f"{quoted('band')} = {literal(str(b))}", str(b),
             "#b2182b" if i == 0 else RING_COLORS[min(i - 1, len(RING_COLORS) - 1)],
             "#525252", dash=i > 0, alpha=0.6 if i == 0 else 0.18)
        for i, b in enumerate(assessment.bands["band"])
    ]  # fmt: skip
    styles["bands"] = qml(band_rules)
    if "admin_units" in layers:
        styles["admin_units"] = qml(_admin_rules(assessment))
    if "communities" in layers:
        frame = layers["communities"]
        points = bool(len(frame)) and frame.geom_type.isin(["Point", "MultiPoint"]).all()
        bands = [*map(str, assessment.bands["band"]), "beyond"]
        rules = [
            Rule(f"{quoted('band')} = {literal(b)}", b,
                 BAND_COLORS[min(i, len(BAND_COLORS) - 1)] if b != "beyond" else BEYOND_COLOR,
                 "#252525", alpha=0.9)
            for i, b in enumerate(bands)
        ]  # fmt: skip
        styles["communities"] = qml(rules, "point" if points else "polygon")
    if "priority" in layers:
        rules = [
            Rule(f"{quoted('tier')} = {tier}", f"tier {tier}", None, s["color"],
                 width_mm=0.3 * s["weight"])
            for tier, s in TIER_STYLE.items()
        ]  # fmt: skip
        styles["priority"] = qml(rules)
    return styles


def _admin_rules(assessment: Assessment) -> list[Rule]:
    rings = assessment.rings_m
    field = f"share_within_{format_m(rings[-1])}m" if rings else "share_inside"
    edges = [None, *ADMIN_BREAKS, None]
    rules = []
    for k, color in enumerate(ADMIN_COLORS):
        lo, hi = edges[k], edges[k + 1]
        parts = ([f"{quoted(field)} >= {lo}"] if lo is not None else []) + (
            [f"{quoted(field)} < {hi}"] if hi is not None else []
        )
        label = f"{lo or 0:.0%}–{hi:.0%}" if hi is not None else f"> {lo:.0%}"
        rules.append(Rule(" AND ".join(parts), label, color, "#525252", alpha=0.6))
    rules.append(Rule(None, "no people", "#ffffff", "#525252", alpha=0.0))
    return rules


def write_gpkg(assessment: Assessment, path: str | Path) -> Path:
    """Write ``geomines.gpkg`` (see the module notes); returns its path."""
    path = Path(path)
    path.unlink(missing_ok=True)
    layers = gpkg_layers(assessment)
    for name, frame in layers.items():
        pyogrio.write_dataframe(_plain(frame), path, layer=name, driver="GPKG")
    styles = layer_styles(assessment, layers)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        geometry_columns = dict(
            db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall()
        )
        db.execute(_STYLES_DDL)
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', "
            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        )
        for name, text in styles.items():
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
                (name, geometry_columns.get(name, "geom"), f"geomines {name}", text,
                 "geomines: matches the web map"),
            )  # fmt: skip
    return path
