"""Write an assessment: RFC 7946 GeoJSON, CSV tables, a JSON summary and the map."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .assessment import Assessment
from .errors import OutputError
from .rings import format_m

__all__ = ["HEADLINE_RULE", "OUTPUT_FILES", "round_headline", "to_geojson", "write_outputs"]

#: How headline numbers are rounded for display (files keep full precision).
HEADLINE_RULE = ("rounded to the nearest 10 below 1,000, to the nearest 100 below 100,000, "
                 "and to the nearest 1,000 above; rounded parts may not add up to the "
                 "rounded total")

#: HXL hashtags for the columns of the tables (HDX and OCHA tools read them).
HXL_TAGS = {
    "admin_id": "#adm1+code", "admin_name": "#adm1+name", "pcode": "#adm1+code+pcode",
    "population": "#population", "people_inside": "#affected+inside",
    "share_inside": "#affected+inside+pct", "band": "#description", "from_m": "#meta+from_m",
    "to_m": "#meta+to_m", "people": "#affected", "cumulative_people": "#affected+cumulative",
    "land_class": "#indicator+land_class", "contamination": "#indicator+contamination",
    "status": "#status", "hazards": "#meta+hazards", "area_m2": "#meta+area_m2",
    "part": "#description",
}

#: Files written by :func:`write_outputs` (``by_admin.csv`` and ``map.html`` when asked).
OUTPUT_FILES = ("summary.json", "summary.csv", "hazards.geojson", "rings.geojson",
                "by_admin.csv", "by_class.csv", "by_class_precedence.csv", "map.html",
                "report.html")


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return None if pd.isna(value) else value.isoformat()
    if value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value if isinstance(value, str | int | list | dict) else str(value)


def round_headline(value: float) -> int:
    """Round a people count for display by :data:`HEADLINE_RULE`.

    Examples
    --------
    >>> round_headline(2319.4), round_headline(8726), round_headline(111938)
    (2320, 8700, 112000)
    """
    step = 10 if value < 1_000 else 100 if value < 100_000 else 1_000
    return int(round(value / step) * step)


def headline(assessment: Assessment) -> dict[str, Any]:
    """Rounded headline numbers with the rule stated."""
    within = {k: round_headline(v) for k, v in assessment.totals["within_m"].items()}
    return {"people_inside": round_headline(assessment.totals["inside"]),
            "people_within_m": within, "rule": HEADLINE_RULE}


def hxl_tag(column: str) -> str:
    """The HXL hashtag for a table column."""
    if column in HXL_TAGS:
        return HXL_TAGS[column]
    if column.startswith("people_within_"):
        return f"#affected+within_{column.removeprefix('people_within_')}"
    if column.startswith("share_within_"):
        return f"#affected+within_{column.removeprefix('share_within_')}+pct"
    return ""


def _write_table(frame: pd.DataFrame, path: Path, hxl: bool) -> None:
    """CSV with full precision; with ``hxl`` a hashtag row under the header."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(frame.columns))
        if hxl:
            writer.writerow([hxl_tag(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            writer.writerow(["" if _json_value(v) is None else _json_value(v) for v in row])


def _round_coords(geom: shapely.Geometry, precision: int) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.round(xy, precision))


def to_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, precision: int = 6,
               id_column: str | None = None, foreign: dict[str, Any] | None = None) -> Path:
    """Write a GeoDataFrame as RFC 7946 GeoJSON.

    WGS 84 lon/lat whatever the input CRS, no ``crs`` member, exterior rings
    counter-clockwise and holes clockwise, a ``bbox``, coordinates rounded to
    ``precision`` decimals (6 ≈ 10 cm), NaN written as null, dates as ISO 8601.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features with a CRS.
    path : path
        Output file.
    precision : int, default 6
        Decimal places kept in coordinates.
    id_column : str, optional
        Column giving each feature's stable ``id``.
    foreign : dict, optional
        Extra top-level members (RFC 7946 "foreign members"), e.g. the method.

    Returns
    -------
    pathlib.Path
    """
    frame = gdf.to_crs(4326) if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") else gdf
    features = []
    props_cols = [c for c in frame.columns if c != frame.geometry.name]
    bounds = []
    for i, (geom, row) in enumerate(zip(frame.geometry.values,
                                        frame[props_cols].itertuples(index=False),
                                        strict=True)):
        geometry = None
        if geom is not None and not geom.is_empty and np.isfinite(
                shapely.get_coordinates(geom)).all():  # NaN/inf vertices: written as null
            g = shapely.orient_polygons(geom, exterior_cw=False)
            g = _round_coords(g, precision)
            geometry = shapely.geometry.mapping(g)
            bounds.append(g.bounds)
        props = {c: _json_value(v) for c, v in zip(props_cols, row, strict=True)}
        feature: dict[str, Any] = {"type": "Feature"}
        feature["id"] = props[id_column] if id_column else i
        feature["properties"] = props
        feature["geometry"] = geometry
        features.append(feature)
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if bounds:
        b = np.array(bounds)
        doc["bbox"] = [round(float(b[:, 0].min()), precision), round(float(b[:, 1].min()), precision),
                       round(float(b[:, 2].max()), precision), round(float(b[:, 3].max()), precision)]
    if foreign:
        doc.update(foreign)
    doc["features"] = features
    out = Path(path)
    out.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=False, default=_json_value),
                   encoding="utf-8")
    return out


def _prepare_dir(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"Output path {str(out_dir)!r} exists and is not a directory.")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise OutputError(
            f"Output directory {str(out_dir)!r} is not empty; expected a new or empty "
            "directory. Pass overwrite=True (--overwrite) to replace geomines' files in it."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES:
        target = out_dir / name
        if target.is_file():
            target.unlink()


def summary_rows(assessment: Assessment) -> list[dict[str, Any]]:
    """Rows of ``summary.csv``: one per exclusive band, then the total."""
    rows = []
    cumulative = 0.0
    for band, f, t, p in zip(assessment.bands["band"], assessment.bands["from_m"],
                             assessment.bands["to_m"], assessment.bands["people"], strict=True):
        cumulative += p
        rows.append({"band": band, "from_m": _json_value(f), "to_m": _json_value(t),
                     "people": p, "cumulative_people": cumulative})
    largest = assessment.rings_m[-1] if assessment.rings_m else 0
    rows.append({"band": f"total within {format_m(largest)} m", "from_m": None, "to_m": largest,
                 "people": cumulative, "cumulative_people": cumulative})
    return rows


def write_outputs(assessment: Assessment, out_dir: str | os.PathLike, *,
                  overwrite: bool = False, write_map: bool = True, write_report: bool = True,
                  precision: int = 6, hxl: bool = False,
                  provenance: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write every output of an assessment into a directory.

    Parameters
    ----------
    assessment : Assessment
    out_dir : path
        Created if missing. A non-empty directory is only written into with
        ``overwrite=True``, and then only geomines' own files are replaced.
    overwrite : bool, default False
    write_map : bool, default True
        Also write ``map.html``.
    write_report : bool, default True
        Also write ``report.html`` (with the map embedded when ``write_map``).
    precision : int, default 6
        Decimal places of GeoJSON coordinates.
    hxl : bool, default False
        Add an HXL hashtag row under the header of each CSV table.
    provenance : dict, optional
        Extra provenance for the report (e.g. the command line).

    Returns
    -------
    dict of str to pathlib.Path
        The files written, by name.

    Raises
    ------
    OutputError
        The directory is not empty and ``overwrite`` is False, or is a file.
    """
    out = Path(out_dir)
    _prepare_dir(out, overwrite)
    written: dict[str, Path] = {}
    summary = assessment.summary()
    summary["headline"] = headline(assessment)
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False,
                               default=_json_value), encoding="utf-8")
    written["summary.json"] = path
    tables = {"summary.csv": pd.DataFrame(summary_rows(assessment)),
              "by_admin.csv": assessment.by_admin, "by_class.csv": assessment.by_class,
              "by_class_precedence.csv": assessment.by_precedence}
    for name, table in tables.items():
        if table is not None:
            _write_table(table, out / name, hxl)
            written[name] = out / name
    path = out / "hazards.geojson"
    to_geojson(assessment.hazards, path, precision=precision, id_column="hazard_id",
               foreign={"geomines": assessment.method})
    written["hazards.geojson"] = path
    path = out / "rings.geojson"
    to_geojson(assessment.bands, path, precision=precision, id_column="band",
               foreign={"geomines": assessment.method})
    written["rings.geojson"] = path
    map_html = None
    if write_map:
        from .maps import exposure_map

        path = out / "map.html"
        exposure_map(assessment).save(str(path))
        written["map.html"] = path
        map_html = path.read_text(encoding="utf-8")
    if write_report:
        from .report import report_html

        path = out / "report.html"
        path.write_text(report_html(assessment, map_html=map_html, provenance=provenance),
                        encoding="utf-8")
        written["report.html"] = path
    return written
