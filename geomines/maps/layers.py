"""Maps of an assessment that a planner can open anywhere, even with no network.

Every layer function takes an optional map ``m`` and returns it, so layers
compose with your own folium maps::

    m = exposure_map(result)                       # everything, offline
    m = hazard_layer(result, m=folium.Map())       # or one layer on your own map

:func:`exposure_map` returns an :class:`OfflineMap`: a ``folium.Map`` whose HTML
carries Leaflet, its plugins and an offline basemap inline (see
:mod:`geomines.maps.offline`), so ``m.save("map.html")`` is one self-contained file and
the map also displays in Jupyter with no network. Online tile layers are offered
as extra choices that stay blank without a network.

Text from input files is HTML-escaped everywhere it is shown.
"""

from __future__ import annotations

import base64
import html
import json
import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import folium
import numpy as np
import rasterio
import shapely
from affine import Affine
from branca.element import Element
from folium.plugins import Fullscreen, MeasureControl
from rasterio.warp import Resampling, reproject, transform_bounds

from ..assessment.result import Assessment, ring_column
from ..crs import to_lonlat
from ..engine.executors import map_threads
from ..engine.rings import format_m
from ..grid import pixel_window
from ..shapes import with_shapes
from .display import DisplayOptions, display, esc, feature_texts, new_map, view_bounds
from .elements import (
    GeoJsonText,
    OfflineMap,
    collection_text,
    feature_text,
    first_feature,
    register,
)
from .offline import countries, countries_scale, png_bytes
from .priority import communities_layer, priority_items, priority_layer
from .tiles import EmbeddedTileLayer, TileSource, embed_tiles

__all__ = [
    "RELEASED",
    "RING_COLORS",
    "STYLE",
    "admin_layer",
    "basemap_layer",
    "exposure_map",
    "hazard_layer",
    "legend",
    "no_cdn",
    "population_layer",
    "ring_layer",
]

#: Mine-action palette: confirmed red, suspected orange, released land muted and dashed.
STYLE: dict[str, dict[str, Any]] = {
    "CHA": {"color": "#b2182b", "fillColor": "#e34a33"},
    "SHA": {"color": "#d95f0e", "fillColor": "#fdae6b"},
    "other": {"color": "#6a51a3", "fillColor": "#bcbddc"},
}
RELEASED: dict[str, dict[str, Any]] = {
    "cancelled": {"color": "#737373", "fillColor": "#d9d9d9", "dashArray": "2 4"},
    "reduced": {"color": "#737373", "fillColor": "#bdbdbd", "dashArray": "6 4"},
    "cleared": {"color": "#41ab5d", "fillColor": "#c7e9c0", "dashArray": "6 4"},
}
RING_COLORS = ["#252525", "#525252", "#737373", "#969696", "#bdbdbd", "#d9d9d9"]
#: People per km² classes of the population layer, and their colours (YlGn).
POP_BREAKS = (1, 10, 100, 1_000, 10_000)
POP_COLORS = ["#ffffcc", "#d9f0a3", "#addd8e", "#78c679", "#31a354", "#006837"]
ADMIN_BREAKS = (0.01, 0.05, 0.2, 0.5)
ADMIN_COLORS = ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"]


def no_cdn(plugin: Any) -> Any:
    """A folium plugin with its CDN assets removed (OfflineMap carries them inline)."""
    plugin.default_js = []
    plugin.default_css = []
    return plugin


# --------------------------------------------------------------------------- layers
def basemap_layer(
    assessment: Assessment | None = None,
    *,
    m: folium.Map | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    options: DisplayOptions | None = None,
) -> folium.Map:
    """Offline basemaps: the user's tiles when given (``options.basemap``, the default
    base layer), Natural Earth outlines, and OpenStreetMap for when online.
    """
    if bounds is None:
        bounds = tuple(view_bounds(assessment)) if assessment is not None else (-180, -90, 180, 90)
    m = m if m is not None else new_map(np.asarray(bounds))
    own = _tiles_layer(m, bounds, options)
    shapes = countries(bounds)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": html.escape(name)},
                "geometry": json.loads(
                    shapely.to_geojson(shapely.transform(g, lambda xy: np.round(xy, 4)))
                ),
            }
            for name, g in shapes
        ],
    }
    folium.map.CustomPane("geomines-basemap", z_index=150).add_to(m)
    scale = countries_scale(bounds)
    size = len(json.dumps(doc))
    display = getattr(m, "geomines_display", {})
    display.setdefault("basemap", f"Offline basemap: Natural Earth {scale} ({size / 1e3:,.0f} kB).")
    m.geomines_display = display  # type: ignore[attr-defined]
    base = folium.FeatureGroup(
        name=f"Offline basemap (Natural Earth {scale})", overlay=False, control=True, show=not own
    )
    folium.GeoJson(
        doc,
        style_function=lambda _f: {
            "color": "#8c8c8c",
            "weight": 0.8,
            "fillColor": "#f5f3ee",
            "fillOpacity": 1,
        },
        interactive=False,
        pane="geomines-basemap",
    ).add_to(base)
    base.add_to(m)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap (online only)", overlay=False, show=False, control=True
    ).add_to(m)
    return m


def _tiles_layer(m: folium.Map, bounds: tuple[float, ...], options: DisplayOptions | None) -> bool:
    """The user's tiles over the view as the first base layer; whether there are any."""
    if options is None or options.basemap is None:
        return False
    source = TileSource.open(options.basemap)
    tiles = embed_tiles(source, tuple(bounds), options.basemap_mb)  # type: ignore[arg-type]
    display = getattr(m, "geomines_display", {})
    display["basemap"] = tiles.note
    m.geomines_display = display  # type: ignore[attr-defined]
    if not tiles.zooms:
        return False
    EmbeddedTileLayer(tiles, f"Offline basemap ({source.name})").add_to(m)
    register(m, "basemap", m._children[next(reversed(m._children))])
    return True


def hazard_layer(
    assessment: Assessment,
    *,
    m: folium.Map | None = None,
    options: DisplayOptions | None = None,
    texts: HazardTexts | None = None,
) -> folium.Map:
    """Hazards styled by land class and status, with tooltips and popups.

    ``texts``: :func:`hazard_texts` built earlier, when given.
    """
    options = options or DisplayOptions()
    m = m if m is not None else new_map(view_bounds(assessment))
    texts = texts if texts is not None else hazard_texts(assessment, options)
    cols, aliases = texts.columns, texts.aliases
    first, count = first_feature(texts.features), len(texts.features)
    text = collection_text(texts.features)  # empties features: the pieces alone are held
    layer = GeoJsonText(
        text,
        first=first,
        bounds=tuple(texts.bounds),
        style={
            "base": {"weight": 2, "fillOpacity": 0.6, "opacity": 1, "className": "geomines-hazard"},
            "by": "_class",
            "styles": STYLE,
            "default": "other",
            "then": "_status",
            "overrides": {k: {**v, "fillOpacity": 0.35} for k, v in RELEASED.items()},
        },
        highlight={"weight": 4},
        name=f"Hazards ({count})",
        tooltip=folium.GeoJsonTooltip(
            fields=["hazard_id", "land_class", "status"], aliases=["id", "class", "status"]
        ),
        popup=folium.GeoJsonPopup(fields=cols, aliases=[aliases.get(c, c) for c in cols]),
    )
    del text
    layer.add_to(m)
    layer.geomines_key = "hazards"  # type: ignore[attr-defined]
    register(m, "hazards", layer)
    display = getattr(m, "geomines_display", {})
    display.update(tolerance_m=texts.tolerance, precision=options.precision)
    m.geomines_display = display  # type: ignore[attr-defined]
    return m


@dataclass
class HazardTexts:
    """The hazard layer's features as text, before they are added to a map."""

    features: list[str]
    tolerance: float
    bounds: np.ndarray
    columns: list[str]
    aliases: dict[str, str]


def hazard_texts(assessment: Assessment, options: DisplayOptions) -> HazardTexts:
    """The hazards' features for display (:func:`feature_texts`) and the columns shown."""
    frame = with_shapes(assessment.hazards)  # point records' circles built
    rings = [ring_column(d) for d in assessment.rings_m]
    cols = [
        "hazard_id",
        "land_class",
        "contamination",
        "status",
        "evidence",
        "area_m2",
        "counted",
        "people_inside",
        *rings,
        *[c for c in frame.columns if str(c).startswith("nearest_") and str(c).endswith("_m")],
        "priority_rank",
        "priority_tier",
        "priority_why",
        "load_status",
    ]
    cols = [c for c in cols if c in frame.columns]
    aliases = {
        "priority_rank": "priority rank",
        "priority_tier": "priority tier",
        "priority_why": "why this rank",
        "hazard_id": "id",
        "land_class": "class",
        "area_m2": "area (m²)",
        "people_inside": "people inside",
        "load_status": "input",
        **{ring_column(d): f"people within {format_m(d)} m" for d in assessment.rings_m},
    }
    features, tolerance, bounds = feature_texts(frame, cols, options)
    return HazardTexts(features, tolerance, bounds, cols, aliases)


def ring_layer(
    assessment: Assessment,
    *,
    m: folium.Map | None = None,
    options: DisplayOptions | None = None,
    shapes: Future[list[Any]] | None = None,
) -> folium.Map:
    """The exclusive distance bands around the dissolved counted hazards.

    ``shapes``: :func:`band_shapes` started earlier (on another thread), when given.
    """
    options = options or DisplayOptions()
    m = m if m is not None else new_map(view_bounds(assessment))
    group = folium.FeatureGroup(name="Distance bands (dissolved, counted hazards)")
    for color, row, geom in band_shapes(assessment, options) if shapes is None else shapes.result():
        GeoJsonText(
            collection_text([feature_text("{}", shapely.to_geojson(geom))]),
            first={"type": "Feature", "properties": {}, "geometry": None},
            bounds=tuple(shapely.bounds(geom)),
            style={
                "base": {
                    "color": color,
                    "weight": 1,
                    "dashArray": "4 3",
                    "fillColor": color,
                    "fillOpacity": 0.18,
                },
                "styles": {},
            },
            highlight={"weight": 2},
            tooltip=f"{html.escape(row.band)}: {row.people:,.0f} people",
        ).add_to(group)
    group.add_to(m)
    register(m, "bands", group)
    return m


def band_shapes(assessment: Assessment, options: DisplayOptions) -> list[Any]:
    """Each distance band as shown, widest first (so narrower bands lie on top): its
    colour, its row of ``assessment.bands`` and its geometry simplified for display.
    """
    shown = assessment.bands.iloc[1:].iloc[::-1]
    out = []
    for i, row in enumerate(shown.itertuples()):
        if row.geometry is None or row.geometry.is_empty:
            continue
        color = RING_COLORS[min(len(shown) - 1 - i, len(RING_COLORS) - 1)]
        # a band is simplified with a tolerance of 2% of its outer distance (≥ 5× the
        # hazards' tolerance)
        tolerance = max(options.tolerance_m * 5, float(row.to_m) / 50)
        geom = display(np.array([row.geometry], dtype=object), tolerance, options.precision)[0]
        out.append((color, row, geom))
    return out


def _pop_rgba(density: np.ndarray) -> np.ndarray:
    rgba = np.zeros((*density.shape, 4), dtype=np.uint8)
    valid = np.isfinite(density) & (density > 0)
    klass = np.digitize(np.where(valid, density, 0), POP_BREAKS)
    for k, color in enumerate(POP_COLORS):
        sel = valid & (klass == k)
        rgba[sel, 0] = int(color[1:3], 16)
        rgba[sel, 1] = int(color[3:5], 16)
        rgba[sel, 2] = int(color[5:7], 16)
        rgba[sel, 3] = 170
    return rgba


def population_layer(
    assessment: Assessment, *, m: folium.Map | None = None, options: DisplayOptions | None = None
) -> folium.Map:
    """The population raster as a semi-transparent image (people per km², nodata clear).

    For display only: the raster is averaged down and warped to Web Mercator here,
    which geomines never does for counting.
    """
    options = options or DisplayOptions()
    raster = assessment.population
    m = m if m is not None else new_map(view_bounds(assessment))
    view = view_bounds(assessment)
    pad_x, pad_y = (view[2] - view[0]) * 0.3 + 0.02, (view[3] - view[1]) * 0.3 + 0.02
    west, south, east, north = transform_bounds(raster.crs, "EPSG:4326", *raster.bounds)
    box = (
        max(view[0] - pad_x, west),
        max(view[1] - pad_y, south),
        min(view[2] + pad_x, east),
        min(view[3] + pad_y, north),
    )
    if box[0] >= box[2] or box[1] >= box[3]:
        return m
    image = _population_image(raster, box, options.raster_px)
    if image is None:
        return m
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()
    folium.map.CustomPane("geomines-population", z_index=350).add_to(m)
    overlay = folium.raster_layers.ImageOverlay(
        uri,
        bounds=[[box[1], box[0]], [box[3], box[2]]],
        opacity=1.0,
        mercator_project=False,
        name="Population (people per km²)",
        interactive=False,
        pane="geomines-population",
    )
    overlay.add_to(m)
    register(m, "population", overlay)
    return m


def _population_image(
    raster: Any, box: tuple[float, float, float, float], size: int
) -> np.ndarray | None:
    """People per km² over ``box`` (lon/lat) on a Web Mercator grid, as RGBA."""
    merc = transform_bounds("EPSG:4326", "EPSG:3857", *box)
    aspect = (merc[2] - merc[0]) / max(merc[3] - merc[1], 1e-9)
    width = max(2, int(size if aspect >= 1 else size * aspect))
    height = max(2, int(size / aspect if aspect >= 1 else size))
    dst = np.full((height, width), np.nan, dtype="float64")
    dst_transform = rasterio.transform.from_bounds(*merc, width, height)
    src_box = transform_bounds("EPSG:4326", raster.crs, *box)
    window = pixel_window(src_box, raster.transform, raster.shape)
    if window is None:
        return None
    coarse, coarse_transform = _coarse_density(raster, window, size)
    reproject(
        coarse,
        dst,
        src_transform=coarse_transform,
        src_crs=raster.crs,
        dst_transform=dst_transform,
        dst_crs="EPSG:3857",
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    return _pop_rgba(dst)


def _coarse_density(
    raster: Any, window: tuple[int, int, int, int], size: int
) -> tuple[np.ndarray, Affine]:
    """Mean people per km² of the valid pixels in cells of the window, at least ``size``
    cells on its longer side, and the cells' transform.

    From the raster's overview (:mod:`geomines.io.overview`) when it is complete (after
    an assessment's count, which decoded every block) and fine enough (cells no larger
    than the read's, or ``size`` of them across): no block is decoded again. Otherwise
    read once, averaging ``step × step`` pixels.
    """
    r0, r1, c0, c1 = window
    step = max(1, math.ceil(max(r1 - r0, c1 - c0) / (2 * size)))
    overview = raster.overview()
    f = overview.factor
    if overview.complete and (f <= step or max(r1 - r0, c1 - c0) / f >= size):
        cells = raster.window_transform(r0 // f * f, c0 // f * f) @ Affine.scale(f, f)
        return overview.mean(r0, r1, c0, c1), cells
    # one pass, not cached: bands of whole step-rows at least a block high, so each
    # block of the file is decoded once or twice; the bands side by side on threads
    band = step * max(1, math.ceil(512 / step))

    def run(b: int) -> list[np.ndarray]:
        rows = []
        strip = raster.read(b, c0, min(band, r1 - b), c1 - c0, keep=False)
        for r in range(b, min(b + band, r1), step):  # average step × step source pixels
            h = min(step, r1 - r)
            area = raster.cell_area_km2(r, c0, h, c1 - c0)
            density = strip[r - b : r - b + h] / area  # people per km²
            pad = (-density.shape[1]) % step
            if pad:
                density = np.pad(density, ((0, 0), (0, pad)), constant_values=np.nan)
            blocks = density.reshape(h, -1, step)
            with np.errstate(all="ignore"):
                sums = np.nansum(blocks, axis=(0, 2))
                counts = np.sum(~np.isnan(blocks), axis=(0, 2))
                rows.append(np.where(counts > 0, sums / counts, np.nan))  # all-NaN stays NaN
        return rows

    coarse = np.vstack([row for rows in map_threads(run, range(r0, r1, band)) for row in rows])
    coarse_transform = raster.window_transform(r0, c0) @ Affine.scale(step, step)
    return coarse, coarse_transform


def admin_layer(
    assessment: Assessment, *, m: folium.Map | None = None, options: DisplayOptions | None = None
) -> folium.Map:
    """Admin units shaded by the share of their people within the largest ring."""
    if assessment.admin is None or assessment.by_admin is None:
        return m if m is not None else new_map(view_bounds(assessment))
    options = options or DisplayOptions()
    m = m if m is not None else new_map(view_bounds(assessment))
    table = assessment.by_admin.iloc[:-1]  # the last row is "outside every unit"
    admin = to_lonlat(assessment.admin)
    key = ring_column(assessment.rings_m[-1]) if assessment.rings_m else "people_inside"
    share_key = key.replace("people_", "share_")
    label = f"within {format_m(assessment.rings_m[-1])} m" if assessment.rings_m else "inside"
    geoms = display(
        shapely.make_valid(admin.geometry.values), options.tolerance_m * 10, options.precision
    )
    features = []
    for g, row in zip(geoms, table.itertuples(index=False), strict=True):
        rec = row._asdict()
        share = rec.get(share_key)
        share = float(share) if share is not None and np.isfinite(share) else 0.0
        color = ADMIN_COLORS[int(np.digitize(share, ADMIN_BREAKS))]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(g)),
                "properties": {
                    "name": esc(rec["admin_name"]),
                    "population": esc(float(rec["population"])),
                    "inside": esc(float(rec["people_inside"])),
                    "near": esc(float(rec[key])),
                    "share": f"{share:.1%}",
                    "_color": color,
                },
            }
        )
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=f"Admin units: share of people {label}",
        style_function=lambda f: {
            "color": "#525252",
            "weight": 1,
            "fillColor": f["properties"]["_color"],
            "fillOpacity": 0.6,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "population", "inside", "near", "share"],
            aliases=["unit", "population", "people inside", f"people {label}", f"share {label}"],
        ),
        show=False,
    )
    layer.add_to(m)
    register(m, "admin", layer)
    return m


def _legend_items(assessment: Assessment) -> list[str]:
    items = ["<b>Hazards</b>"]
    for cls, style in STYLE.items():
        items.append(
            f"<span class='geomines-key' style='background:{style['fillColor']};"
            f"border-color:{style['color']}'></span>{cls}, open (counted)"
        )
    for status, style in RELEASED.items():
        items.append(
            f"<span class='geomines-key' style='background:{style['fillColor']};"
            f"border:1px dashed {style['color']}'></span>{status} (not counted)"
        )
    if len(assessment.bands) > 1:
        items.append("<b>Distance bands</b>")
        for i, row in enumerate(assessment.bands.iloc[1:].itertuples()):
            color = RING_COLORS[min(i, len(RING_COLORS) - 1)]
            items.append(
                f"<span class='geomines-key' style='background:{color}'></span>"
                f"{html.escape(row.band)}: {row.people:,.0f} people"
            )
    items.append("<b>Population</b> (people per km²)")
    edges = ["0", *[f"{b:,}" for b in POP_BREAKS]]
    for k, color in enumerate(POP_COLORS):
        text = f"{edges[k]}–{edges[k + 1]}" if k + 1 < len(edges) else f"> {edges[-1]}"
        items.append(f"<span class='geomines-key' style='background:{color}'></span>{text}")
    if assessment.by_admin is not None:
        label = f"{format_m(assessment.rings_m[-1])} m" if assessment.rings_m else "inside"
        items.append(f"<b>Admin units</b> (share within {label})")
        edges_a = ["0", *[f"{b:.0%}" for b in ADMIN_BREAKS]]
        for k, color in enumerate(ADMIN_COLORS):
            text = f"{edges_a[k]}–{edges_a[k + 1]}" if k + 1 < len(edges_a) else f"> {edges_a[-1]}"
            items.append(f"<span class='geomines-key' style='background:{color}'></span>{text}")
    items.extend(priority_items(assessment))
    return items


def legend(assessment: Assessment, *, m: folium.Map | None = None) -> folium.Map:
    """A summary panel (headline numbers, source, method) and a legend for every layer."""
    m = m if m is not None else new_map(view_bounds(assessment))
    display = {"tolerance_m": DisplayOptions().tolerance_m, **getattr(m, "geomines_display", {})}
    lines = [
        f"<b data-key='inside'>{assessment.totals['inside']:,.0f}</b> people inside counted hazards"
    ]
    for d in assessment.rings_m:
        lines.append(
            f"<b data-key='within_{format_m(d)}'>{assessment.people_within(d):,.0f}</b> "
            f"within {format_m(d)} m"
        )
    method = assessment.method
    lines.append(
        f"<small>Population: {html.escape(assessment.population.name)} "
        f"({html.escape(str(method.get('population_crs', '')))}); "
        f"{'exact pixel fractions' if method['pixel_rule'] == 'exact' else method['pixel_rule']}"
        f"; counted: {html.escape(', '.join(method['counted_statuses']))}; dissolved, nobody "
        f"counted twice. Display simplified with a tolerance of {display['tolerance_m']:g} m "
        "(bands: 2% of their distance).</small>"
    )
    if "basemap" in display:
        lines.append(f"<small data-key='basemap'>{html.escape(display['basemap'])}</small>")
    fictional = (
        "fictional" in assessment.hazards.columns
        and assessment.hazards["fictional"].astype(str).str.lower().eq("true").any()
    )
    if fictional:
        lines.append(
            "<small style='color:#b2182b'><b>Illustrative data:</b> these hazards "
            "are fictional.</small>"
        )
    panel = (
        "<div class='geomines-box geomines-panel' style='position:fixed;top:10px;"
        "left:55px;z-index:1000;max-width:330px'><h4>People inside and near hazards</h4>"
        + "<br>".join(lines)
        + "</div>"
    )
    legend_html = (
        "<div class='geomines-box geomines-legend' style='position:fixed;"
        "bottom:28px;right:10px;z-index:1000;max-height:60vh;overflow:auto'>"
        + "<br>".join(_legend_items(assessment))
        + "</div>"
    )
    m.get_root().html.add_child(  # type: ignore[attr-defined]
        Element(panel + legend_html), name="geomines_panel"
    )
    return m


def exposure_map(
    assessment: Assessment, *, m: folium.Map | None = None, options: DisplayOptions | None = None
) -> folium.Map:
    """The complete map: basemap, population, admin units, bands, hazards, legend, panel.

    Parameters
    ----------
    assessment : Assessment
    m : folium.Map, optional
        Add to this map instead of a new :class:`OfflineMap`.
    options : DisplayOptions, optional
        Display simplification, precision and size budget.

    Returns
    -------
    folium.Map
        With layer control, scale bar, fullscreen and measure controls, fitted to
        the hazards and their rings.
    """
    options = options or DisplayOptions()
    bounds = view_bounds(assessment)
    if m is None:
        n = len(assessment.hazards)
        m = OfflineMap(prefer_canvas=n > options.canvas_above)
        if np.isfinite(bounds).all():
            m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    # the bands' simplification (GEOS, on the thread pool) runs while the layers
    # beneath them are built (mostly Python)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geomines-map") as side:
        bands = side.submit(band_shapes, assessment, options)
        basemap_layer(assessment, m=m, options=options)
        population_layer(assessment, m=m, options=options)
        admin_layer(assessment, m=m, options=options)
        texts = hazard_texts(assessment, options)  # drawn above the bands, built now
        ring_layer(assessment, m=m, options=options, shapes=bands)
    hazard_layer(assessment, m=m, options=options, texts=texts)
    priority_layer(assessment, m=m, options=options)
    communities_layer(assessment, m=m, options=options)
    legend(assessment, m=m)
    no_cdn(Fullscreen(position="topleft")).add_to(m)
    no_cdn(
        MeasureControl(
            position="topleft", primary_length_unit="meters", primary_area_unit="sqmeters"
        )
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
