"""RFC 7946 GeoJSON: WGS 84, counter-clockwise exteriors, a bbox, no NaN, the method as a
foreign member.
"""

from __future__ import annotations

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


def json_value(value: Any) -> Any:
    """A value as JSON: NaN and NaT as null, numpy scalars as Python numbers, dates as ISO 8601."""
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


def to_geojson(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    precision: int = 6,
    id_column: str | None = None,
    foreign: dict[str, Any] | None = None,
) -> Path:
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
    for i, (geom, row) in enumerate(
        zip(frame.geometry.values, frame[props_cols].itertuples(index=False), strict=True)
    ):
        geometry = None
        if (
            geom is not None
            and not geom.is_empty
            and np.isfinite(shapely.get_coordinates(geom)).all()
        ):  # NaN/inf vertices: written as null
            g = shapely.orient_polygons(geom, exterior_cw=False)
            g = _round_coords(g, precision)
            geometry = shapely.geometry.mapping(g)
            bounds.append(g.bounds)
        props = {c: json_value(v) for c, v in zip(props_cols, row, strict=True)}
        feature: dict[str, Any] = {"type": "Feature"}
        feature["id"] = props[id_column] if id_column else i
        feature["properties"] = props
        feature["geometry"] = geometry
        features.append(feature)
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if bounds:
        b = np.array(bounds)
        doc["bbox"] = [
            round(float(b[:, 0].min()), precision),
            round(float(b[:, 1].min()), precision),
            round(float(b[:, 2].max()), precision),
            round(float(b[:, 3].max()), precision),
        ]
    if foreign:
        doc.update(foreign)
    doc["features"] = features
    out = Path(path)
    out.write_text(
        json.dumps(doc, ensure_ascii=False, allow_nan=False, default=json_value), encoding="utf-8"
    )
    return out
