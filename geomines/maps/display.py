"""Geometries and text prepared for display (never for counting): simplification within a
stated tolerance, rounding, escaping, and each feature's GeoJSON text within a size budget.
"""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..assessment.result import Assessment
from ..crs import to_lonlat
from ..engine.executors import map_array, release_memory
from ..shapes import with_shapes
from .elements import OfflineMap, feature_text, script_safe

__all__ = [
    "MAX_TOLERANCE_M",
    "DisplayOptions",
    "display",
    "esc",
    "feature_texts",
    "new_map",
    "simplify_parts",
    "tolerance_deg",
    "view_bounds",
]

#: Largest display simplification of hazards, in metres, whatever the size budget.
MAX_TOLERANCE_M = 100.0


@dataclass
class DisplayOptions:
    """How geometries are prepared for display (never for counting).

    Attributes
    ----------
    tolerance_m : float
        Simplification tolerance, in metres: GEOS's topology-preserving simplifier
        drops vertices within about this distance of the simplified line. It is not a
        strict bound: to keep a ring valid GEOS may leave a dropped vertex somewhat
        farther away (up to 1.7× the tolerance was seen, next to a ring's closing point).
    precision : int
        Decimal places of coordinates (5 ≈ 1 m).
    budget_mb : float
        Size budget for the hazards' vector data; the tolerance is raised (and
        said in the map) until they fit. Distance bands are simplified with a
        tolerance of 2% of their outer distance.
    canvas_above : int
        Draw on a canvas instead of SVG above this many hazards (faster).
    raster_px : int
        Longest side of the population image, in pixels.
    basemap : path, optional
        Raster tiles (an MBTiles file or a ``z/x/y`` directory) to embed as the offline
        base layer (:mod:`geomines.maps.tiles`).
    basemap_mb : float
        Size budget of the embedded tiles.
    """

    tolerance_m: float = 2.0
    precision: int = 5
    budget_mb: float = 12.0
    canvas_above: int = 2000
    raster_px: int = 1024
    basemap: str | os.PathLike | None = None
    basemap_mb: float = 15.0


def esc(value: Any) -> str:
    """Input text escaped for HTML; numbers rounded for display."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.date().isoformat()
    return html.escape(str(value))


def tolerance_deg(metres: float, lat: float) -> float:
    """Degrees that are at least ``metres`` at latitude ``lat`` (capped at 78°)."""
    return metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.2))


def display(geoms: np.ndarray, tolerance_m: float, precision: int) -> np.ndarray:
    """Simplify lon/lat geometries with a tolerance of ``tolerance_m`` metres (see
    :class:`DisplayOptions`) and round coordinates.
    """
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return geoms
    lat = float(np.nanmean(shapely.bounds(geoms)[:, [1, 3]])) if geoms.size else 0.0
    tol = tolerance_deg(tolerance_m, lat if np.isfinite(lat) else 0.0)

    def run(part: np.ndarray) -> np.ndarray:
        return shapely.transform(simplify_parts(part, tol), lambda xy: np.round(xy, precision))

    return map_array(run, geoms)  # slices of the geometries side by side


def simplify_parts(geoms: np.ndarray, tol: float) -> np.ndarray:
    """Each polygon of each geometry simplified on its own (topology kept within it).

    GEOS's topology-preserving simplifier slows down sharply with the number of rings
    in one geometry: a national band of thousands of parts took 48 s whole, 1.7 s
    part by part. Parts of a multipolygon are disjoint; simplified apart they may touch
    within the tolerance, which a display cannot show.
    """
    parts, index = shapely.get_parts(geoms, return_index=True)
    if parts.size == 0 or not np.all(shapely.get_type_id(parts) == 3):  # not all polygons
        return shapely.simplify(geoms, tol, preserve_topology=True)
    # the parts side by side (a national band is a few geometries of thousands of parts)
    simple = map_array(lambda p: shapely.simplify(p, tol, preserve_topology=True), parts)
    out = geoms.copy()
    multi = shapely.get_type_id(geoms) == 6
    single = np.isin(index, np.nonzero(~multi)[0])  # a polygon is its only part
    out[index[single]] = simple[single]
    if multi.any():
        sel = np.isin(index, np.nonzero(multi)[0])
        owners, dense = np.unique(index[sel], return_inverse=True)
        out[owners] = shapely.multipolygons(simple[sel], indices=dense)
    return out


#: Properties for styling (``_class``, ...) and the columns whose text they hold.
HAZARD_TAGS = {"_class": "land_class", "_status": "status", "_tier": "priority_tier"}


def _escaped(column: pd.Series) -> list[str]:
    """:func:`esc` of each value of a column, a column at a time (the same text)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "?"  # numpy's alone
    values = column.to_numpy().tolist() if kind in ("f", "i", "u", "b") else column.tolist()
    if kind == "f":
        return ["" if math.isnan(v) else f"{v:,.0f}" for v in values]
    if kind in ("i", "u"):
        return [f"{v:,}" for v in values]
    if kind == "b":
        return ["yes" if v else "no" for v in values]
    return [html.escape(v) if isinstance(v, str) else esc(v) for v in values]


def _property_texts(frame: pd.DataFrame, columns: list[str], tags: dict[str, Any]) -> Any:
    """Each row's properties as JSON text, safe in ``<script>``: the text of
    ``json.dumps({column: esc(value), ..., tag: text, ...})``, built a column at a time.
    """
    encode = json.encoder.encode_basestring_ascii  # json.dumps's own (ensure_ascii)
    for start in range(0, len(frame), _ROWS):  # a slice of rows at a time: bounded memory
        rows = frame.iloc[start : start + _ROWS]
        items: dict[str, list[str]] = {c: _escaped(rows[c]) for c in columns}
        for tag, texts in tags.items():  # a tag named like a column replaces its value
            items[tag] = (
                [texts] * len(rows)
                if isinstance(texts, str)
                else texts.iloc[start : start + _ROWS].tolist()
            )
        keyed = [[f"{encode(k)}: {encode(v)}" for v in values] for k, values in items.items()]
        del items
        for pairs in zip(*keyed, strict=True) if keyed else [()] * len(rows):
            yield script_safe("{" + ", ".join(pairs) + "}")


#: Rows whose property texts are built together (their column lists are held at once).
_ROWS = 2000


def feature_texts(
    frame: gpd.GeoDataFrame,
    columns: list[str],
    options: DisplayOptions,
    tags: dict[str, str] | None = None,
) -> tuple[list[str], float, np.ndarray]:
    """Features' GeoJSON texts for display within the size budget.

    ``tags``: extra properties for styling, each the raw text of a column (empty when
    the column is missing or the value is). Returns the texts, the tolerance used and
    the bounds of the features shown. Properties are written as text a row at a time:
    no dict per feature is kept.
    """
    # only the columns shown and the geometry are copied (not a whole national frame)
    tag_columns = [c for c in (HAZARD_TAGS if tags is None else tags).values() if c in frame]
    lonlat = pd.DataFrame({c: frame[c].array for c in dict.fromkeys(columns + tag_columns)})
    lonlat["geometry"] = to_lonlat(frame.geometry).values
    keep = ~(pd.isna(lonlat["geometry"]) | shapely.is_empty(lonlat["geometry"].to_numpy()))
    lonlat = lonlat[keep.to_numpy()]
    extra = {
        tag: lonlat[column].astype(object).where(lonlat[column].notna(), "").astype(str)
        if column in lonlat
        else ""
        for tag, column in (HAZARD_TAGS if tags is None else tags).items()
    }
    props: list[str | None] = list(_property_texts(lonlat, columns, extra))
    tolerance = options.tolerance_m
    budget = options.budget_mb * 1e6
    prop_size = np.array([len(p) for p in props])  # type: ignore[arg-type]
    overhead = len(feature_text("", "")) + 2  # and ", " between features
    geoms = np.asarray(lonlat["geometry"].to_numpy(), dtype=object)
    del lonlat, extra  # only the geometries are needed from here
    fixed = int(prop_size.sum()) + overhead * len(props)
    # the first tolerance to try: found on a sample (or, when the attributes alone are
    # over the budget and nothing can fit, the largest at once)
    if fixed > budget:
        while not _last(tolerance):
            tolerance *= 2
    else:
        tolerance = _sampled_tolerance(geoms, fixed, options)
    source = geoms
    while True:
        # each try is one simplification of the input: its distance to the input is the
        # tolerance stated (not a sum of rounds)
        geoms = display(source, tolerance, options.precision)
        release_memory()  # the last try's geometries, freed on several threads' heaps
        shown = np.nonzero(~shapely.is_empty(geoms))[0]
        # the texts' lengths alone (a slice's texts are dropped as they are measured)
        lengths = map_array(_text_lengths, geoms[shown])
        size = int(prop_size[shown].sum()) + int(lengths.sum()) + overhead * shown.size
        # stop when within budget or at MAX_TOLERANCE_M (the attributes set a floor)
        if size <= budget or _last(tolerance):
            break
        tolerance *= 2
    del source
    bounds = shapely.total_bounds(geoms[shown]) if shown.size else np.full(4, np.nan)
    features = []
    for start in range(0, shown.size, _ROWS):  # each part dropped as its feature is made
        rows = shown[start : start + _ROWS]
        for i, text in zip(rows, shapely.to_geojson(geoms[rows]), strict=True):
            features.append(feature_text(str(props[i]), str(text)))
            props[i] = None
    return features, tolerance, bounds


#: Geometries, evenly spread, on which a layer's tolerance is sought first.
SAMPLE = 1000


def _sampled_tolerance(geoms: np.ndarray, fixed: int, options: DisplayOptions) -> float:
    """The first tolerance of ``tolerance_m`` × 1, 2, 4, ... at which a sample of the
    geometries (up to about :data:`SAMPLE`, evenly spread), each simplified once and
    scaled up to the whole layer, brings the features within the budget (``fixed``:
    their bytes that are not geometry); the largest when none does.

    A starting point: :func:`feature_texts` measures every feature at it, and goes on
    doubling the tolerance while they are over the budget. Below twice the sample size
    the sample is the whole layer and the answer is exact.
    """
    sample = geoms[:: max(1, len(geoms) // SAMPLE)]
    scale = len(geoms) / max(len(sample), 1)
    tolerance = options.tolerance_m
    while True:
        simple = display(sample, tolerance, options.precision)
        size = fixed + float(_text_lengths(simple[~shapely.is_empty(simple)]).sum()) * scale
        if size <= options.budget_mb * 1e6 or _last(tolerance):
            return tolerance
        tolerance *= 2


def _last(tolerance: float) -> bool:
    """Whether no larger tolerance is tried: doubled, it would pass
    :data:`MAX_TOLERANCE_M` (or it is not positive, and doubling changes nothing).
    """
    return not 0 < tolerance * 2 <= MAX_TOLERANCE_M


def _text_lengths(geoms: np.ndarray) -> np.ndarray:
    """Lengths of the geometries' GeoJSON texts."""
    return np.fromiter(
        (len(t) for t in shapely.to_geojson(geoms)), dtype=np.int64, count=len(geoms)
    )


def new_map(bounds: np.ndarray | None = None) -> OfflineMap:
    """A new :class:`OfflineMap` fitted to ``(west, south, east, north)`` when given."""
    m = OfflineMap()
    if bounds is not None and np.isfinite(bounds).all():
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def view_bounds(assessment: Assessment) -> np.ndarray:
    """Lon/lat bounds of the bands (or of the hazards when there are none)."""
    b = assessment.bands.total_bounds if len(assessment.bands) else np.full(4, np.nan)
    if not np.isfinite(b).all():
        b = to_lonlat(with_shapes(assessment.hazards)).total_bounds
    return b
