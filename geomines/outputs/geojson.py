"""RFC 7946 GeoJSON: WGS 84, counter-clockwise exteriors, a bbox, no NaN, the method as a
foreign member; encoded by GEOS and pandas, vectorised.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import wrap_longitudes
from ..shapes import circle_radius, with_shapes


def json_value(value: Any) -> Any:
    """A value as JSON: NaN and NaT as null, numpy scalars as Python numbers, dates as ISO 8601."""
    if value is None:
        return None
    if isinstance(value, Mapping):  # the typed records (Method, Checks, Totals)
        return dict(value)
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
    Geometries are encoded by GEOS (``shapely.to_geojson``) and properties by
    pandas (``to_json``), both vectorised: no per-feature Python encoding.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features with a CRS.
    path : path
        Output file.
    precision : int, default 6
        Decimal places kept in coordinates.
    id_column : str, optional
        Column giving each feature's stable ``id`` (kept in the properties too).
    foreign : dict, optional
        Extra top-level members (RFC 7946 "foreign members"), e.g. the method.

    Returns
    -------
    pathlib.Path
    """
    # point records kept as points with a radius: their circles, built a chunk at a time
    # in the frame's CRS (then moved, as the frame's other geometries are)
    move = gdf.crs is not None and not gdf.crs.equals("EPSG:4326")
    pending = circle_radius(gdf) is not None
    frame = gdf.to_crs(4326) if move and not pending else gdf
    out = Path(path)
    tmp = out.with_name(out.name + ".features.tmp")
    west, south, east, north = np.inf, np.inf, -np.inf, -np.inf
    try:
        # the features go to a side file a chunk at a time (memory: one chunk's text),
        # then after the head, whose bbox is known only once every chunk is done
        with open(tmp, "w", encoding="utf-8") as fh:
            for start, stop in _chunks(frame.geometry.values):
                part = frame.iloc[start:stop]
                if pending:
                    part = with_shapes(part)
                    part = part.to_crs(4326) if move else part
                pieces, bbox = _features(part, precision, id_column, start)
                fh.write(",\n" if start else "")
                fh.writelines(pieces)
                del pieces
                if bbox is not None:
                    west, south = min(west, bbox[0]), min(south, bbox[1])
                    east, north = max(east, bbox[2]), max(north, bbox[3])
        head: dict[str, Any] = {"type": "FeatureCollection"}
        if np.isfinite(west):
            head["bbox"] = [west, south, east, north]
        head.update(foreign or {})
        text = json.dumps(head, ensure_ascii=False, allow_nan=False, default=json_value)
        with open(out, "w", encoding="utf-8") as dst, open(tmp, encoding="utf-8") as src:
            dst.write(f'{text[:-1]},"features":[\n')
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.write("\n]}\n")
    finally:
        tmp.unlink(missing_ok=True)
    return out


#: Features encoded at once when writing GeoJSON (bounds the memory of big layers)...
CHUNK = 10_000
#: ...and vertices: a geometry with more (a national band) is encoded a slice of its
#: polygons at a time.
CHUNK_COORDS = 250_000


def _chunks(geoms: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges of at most CHUNK rows and about CHUNK_COORDS vertices (a row with
    more is a range of its own).
    """
    n = len(geoms)
    coords = np.asarray(shapely.get_num_coordinates(np.asarray(geoms, dtype=object)))
    out, start, total = [], 0, 0
    for i in range(n):
        if i > start and (i - start >= CHUNK or total + coords[i] > CHUNK_COORDS):
            out.append((start, i))
            start, total = i, 0
        total += int(coords[i])
    if start < n:
        out.append((start, n))
    return out


def _features(
    frame: gpd.GeoDataFrame, precision: int, id_column: str | None, offset: int
) -> tuple[list[str], list[float] | None]:
    """Some features as pieces of GeoJSON text (comma-separated) and their bbox."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    big = _big_geometry(geoms[0], precision) if len(geoms) == 1 else None
    geometry, bbox = ([], big[1]) if big is not None else _geometries(geoms, precision)
    props = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    properties = (
        props.to_json(
            orient="records",
            lines=True,
            date_format="iso",
            date_unit="s",
            double_precision=15,
            force_ascii=False,
        ).split("\n")[: len(frame)]  # JSON escapes "\n"; not splitlines (U+2028 is text)
        if len(props.columns)
        else ["{}"] * len(frame)
    )
    ids = (
        [json.dumps(json_value(v), ensure_ascii=False) for v in frame[id_column]]
        if id_column is not None
        else [str(offset + i) for i in range(len(frame))]
    )
    if big is not None:  # one feature, its geometry's text in pieces
        head = f'{{"type":"Feature","id":{ids[0]},"properties":{properties[0]},"geometry":'
        return [head, *big[0], "}"], bbox
    text = ",\n".join(
        f'{{"type":"Feature","id":{i},"properties":{p},"geometry":{g}}}'
        for i, p, g in zip(ids, properties, geometry, strict=True)
    )
    return [text], bbox


#: GEOS's text of a polygon before its coordinates' text (and "}" after).
_POLYGON = '{"type":"Polygon","coordinates":'


def _oriented_rounded(geoms: np.ndarray, precision: int) -> np.ndarray:
    """RFC 7946's winding (exteriors counter-clockwise) and coordinates rounded."""
    kept = shapely.orient_polygons(geoms, exterior_cw=False)
    return shapely.transform(kept, lambda xy: np.round(xy, precision))


def _big_geometry(geom: Any, precision: int) -> tuple[list[str], list[float]] | None:
    """A MultiPolygon of more than CHUNK_COORDS vertices as pieces of text, a slice of
    its polygons at a time (the same text as :func:`_geometries`, without every step's
    copy of the whole), and its bbox; None for any other geometry (written whole).
    """
    if (
        geom is None
        or shapely.get_type_id(geom) != 6
        or shapely.get_num_coordinates(geom) <= CHUNK_COORDS
    ):
        return None
    west, south, east, north = shapely.bounds(geom)
    # longitudes to wrap or coordinates written as null: the whole-geometry path
    if not (np.isfinite([west, south, east, north]).all() and -180 <= west and east <= 180):
        return None
    if south < -90 or north > 90:
        return None
    parts = shapely.get_parts(geom)
    coords = np.cumsum(shapely.get_num_coordinates(parts))
    cuts = np.searchsorted(coords, np.arange(CHUNK_COORDS, coords[-1], CHUNK_COORDS))
    pieces, bounds = ['{"type":"MultiPolygon","coordinates":['], []
    for k, chunk in enumerate(np.split(parts, np.unique(cuts[cuts > 0]))):
        kept = _oriented_rounded(chunk, precision)
        texts = shapely.to_geojson(kept)
        pieces.append(("," if k else "") + ",".join(t[len(_POLYGON) : -1] for t in texts))
        bounds.append(shapely.total_bounds(kept))
    pieces.append("]}")
    b = np.array(bounds)
    box = [b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()]
    return pieces, [round(float(v), precision) for v in box]


def _geometries(geoms: np.ndarray, precision: int) -> tuple[list[str], list[float] | None]:
    """Each geometry as RFC 7946 GeoJSON text (``null`` when empty, NaN or impossible),
    and the collection's bbox.
    """
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if ok.any():  # NaN, infinite or impossible vertices (an excluded row): written as null
        xy, owner = shapely.get_coordinates(geoms[ok], return_index=True)
        impossible = ~np.isfinite(xy).all(axis=1) | (np.abs(xy[:, 1]) > 90)
        ok[np.nonzero(ok)[0][np.unique(owner[impossible])]] = False
    text = ["null"] * len(geoms)
    if not ok.any():
        return text, None
    kept = _oriented_rounded(wrap_longitudes(geoms[ok], -180.0), precision)  # into ±180
    for i, g in zip(np.nonzero(ok)[0], shapely.to_geojson(kept), strict=True):
        text[i] = g
    bounds = shapely.total_bounds(kept)
    return text, [round(float(b), precision) for b in bounds]
