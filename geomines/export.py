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

__all__ = ["OUTPUT_FILES", "to_geojson", "write_outputs"]

#: Files written by :func:`write_outputs` (``by_admin.csv`` and ``map.html`` when asked).
OUTPUT_FILES = ("summary.json", "summary.csv", "hazards.geojson", "rings.geojson",
                "by_admin.csv", "by_class.csv", "by_class_precedence.csv", "map.html")


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
        if geom is not None and not geom.is_empty:
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
    rows.append({"band": f"total within {largest:g} m", "from_m": None, "to_m": largest,
                 "people": cumulative, "cumulative_people": cumulative})
    return rows


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def write_outputs(assessment: Assessment, out_dir: str | os.PathLike, *,
                  overwrite: bool = False, write_map: bool = True,
                  precision: int = 6) -> dict[str, Path]:
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
    precision : int, default 6
        Decimal places of GeoJSON coordinates.

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
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False,
                               default=_json_value), encoding="utf-8")
    written["summary.json"] = path
    path = out / "summary.csv"
    _write_csv(path, summary_rows(assessment))
    written["summary.csv"] = path
    path = out / "hazards.geojson"
    to_geojson(assessment.hazards, path, precision=precision, id_column="hazard_id",
               foreign={"geomines": assessment.method})
    written["hazards.geojson"] = path
    path = out / "rings.geojson"
    to_geojson(assessment.bands, path, precision=precision, id_column="band",
               foreign={"geomines": assessment.method})
    written["rings.geojson"] = path
    if assessment.by_admin is not None:
        path = out / "by_admin.csv"
        assessment.by_admin.to_csv(path, index=False)
        written["by_admin.csv"] = path
    if assessment.by_class is not None:
        path = out / "by_class.csv"
        assessment.by_class.to_csv(path, index=False)
        written["by_class.csv"] = path
    if assessment.by_precedence is not None:
        path = out / "by_class_precedence.csv"
        assessment.by_precedence.to_csv(path, index=False)
        written["by_class_precedence.csv"] = path
    if write_map:
        from .maps import exposure_map

        path = out / "map.html"
        exposure_map(assessment).save(str(path))
        written["map.html"] = path
    return written
