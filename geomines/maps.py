"""Folium maps of an assessment: hazards by class and status, rings, admin units, legend.

Every function takes an optional map ``m`` and returns it, so layers compose::

    m = exposure_map(result)                # everything
    m = hazard_layer(result, m=my_map)      # or one layer on your own map
"""

from __future__ import annotations

import html
import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template

from .assessment import Assessment, ring_column

__all__ = ["STYLE", "exposure_map", "hazard_layer", "legend", "ring_layer"]

#: Mine-action palette: confirmed red, suspected orange, released land muted and dashed.
STYLE: dict[str, dict[str, Any]] = {
    "CHA": {"color": "#b2182b", "fillColor": "#d6604d"},
    "SHA": {"color": "#e66101", "fillColor": "#fdb863"},
    "other": {"color": "#7b3294", "fillColor": "#c2a5cf"},
}
RELEASED = {"color": "#636363", "fillColor": "#bdbdbd", "dashArray": "6 4"}
RING_COLORS = ["#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7"]


def _esc(value: Any) -> Any:
    """Text from input files, escaped for HTML; numbers rounded for display."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return html.escape(str(value))


def _display_frame(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    shown = frame[[*columns, frame.geometry.name]].copy()
    for col in columns:
        shown[col] = [_esc(v) for v in shown[col]]
    shown = shown[~(shown.geometry.isna() | shown.geometry.is_empty)]
    return shown.to_crs(4326)


def _hazard_style(feature: dict[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    style = {"weight": 2, "fillOpacity": 0.55, "opacity": 0.9}
    style.update(STYLE.get(props.get("land_class"), STYLE["other"]))
    if props.get("status") != "open":
        style.update(RELEASED)
        style["fillOpacity"] = 0.25
    return style


def _new_map(bounds: np.ndarray | None = None) -> folium.Map:
    m = folium.Map(tiles=None, control_scale=True)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)").add_to(m)
    if bounds is not None and np.isfinite(bounds).all():
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def hazard_layer(assessment: Assessment, *, m: folium.Map | None = None) -> folium.Map:
    """Add the hazards, styled by land class and status, with tooltips."""
    frame = assessment.hazards
    m = m if m is not None else _new_map(frame.to_crs(4326).total_bounds)
    cols = ["hazard_id", "land_class", "contamination", "status", "people_inside",
            *[ring_column(d) for d in assessment.rings_m]]
    shown = _display_frame(frame, cols)
    aliases = ["id", "class", "contamination", "status", "people inside",
               *[f"within {d:g} m" for d in assessment.rings_m]]
    folium.GeoJson(
        json.loads(shown.to_json()),
        name="Hazards (illustrative data is labelled as such)",
        style_function=_hazard_style,
        tooltip=folium.GeoJsonTooltip(fields=cols, aliases=aliases),
    ).add_to(m)
    return m


def ring_layer(assessment: Assessment, *, m: folium.Map | None = None) -> folium.Map:
    """Add the exclusive distance bands around the dissolved counted hazards."""
    bands = assessment.bands
    m = m if m is not None else _new_map(bands.total_bounds)
    group = folium.FeatureGroup(name="Distance bands (dissolved)")
    for i, row in enumerate(bands.iloc[::-1].itertuples()):
        if row.geometry is None or row.geometry.is_empty:
            continue
        color = RING_COLORS[min(len(bands) - 1 - i, len(RING_COLORS) - 1)]
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=lambda _f, c=color: {"color": c, "weight": 1, "fillColor": c,
                                                "fillOpacity": 0.15},
            tooltip=f"{html.escape(row.band)}: {row.people:,.0f} people",
        ).add_to(group)
    group.add_to(m)
    return m


def admin_layer(assessment: Assessment, *, m: folium.Map | None = None) -> folium.Map:
    """Add admin units shaded by the share of their people inside or near hazards."""
    if assessment.admin is None or assessment.by_admin is None:
        return m if m is not None else _new_map()
    admin = assessment.admin.to_crs(4326)
    table = assessment.by_admin.set_index("admin_id")
    m = m if m is not None else _new_map(admin.total_bounds)
    key = ring_column(assessment.rings_m[-1]) if assessment.rings_m else "people_inside"
    shares = table[key] / table["population"].where(table["population"] > 0)
    top = float(np.nanmax(shares.to_numpy())) if len(shares) and np.isfinite(
        shares.to_numpy(dtype=float)).any() else 0.0
    group = folium.FeatureGroup(name="Admin units", show=False)
    for i, geom in enumerate(admin.geometry.values):
        share = float(shares.iloc[i]) if np.isfinite(shares.iloc[i]) else 0.0
        alpha = 0.05 + 0.6 * (share / top if top > 0 else 0)
        tip = (f"{html.escape(str(table['admin_name'].iloc[i]))}: "
               f"{table[key].iloc[i]:,.0f} of {table['population'].iloc[i]:,.0f} people "
               f"({share:.1%})")
        folium.GeoJson(geom.__geo_interface__,
                       style_function=lambda _f, a=alpha: {"color": "#333", "weight": 1,
                                                          "fillColor": "#54278f",
                                                          "fillOpacity": a},
                       tooltip=tip).add_to(group)
    group.add_to(m)
    return m


def legend(assessment: Assessment, *, m: folium.Map | None = None) -> folium.Map:
    """Add a legend and a panel with the headline numbers."""
    m = m if m is not None else _new_map()
    items = []
    for cls, style in STYLE.items():
        items.append(f"<li><span style='background:{style['fillColor']};border:2px solid "
                     f"{style['color']}'></span>{cls} (open)</li>")
    items.append(f"<li><span style='background:{RELEASED['fillColor']};border:2px dashed "
                 f"{RELEASED['color']}'></span>cancelled / reduced / cleared (not counted)</li>")
    for i, row in enumerate(assessment.bands.itertuples()):
        if i == 0:
            continue
        color = RING_COLORS[min(i - 1, len(RING_COLORS) - 1)]
        items.append(f"<li><span style='background:{color}'></span>{html.escape(row.band)}: "
                     f"{row.people:,.0f} people</li>")
    lines = [f"<b>{assessment.totals['inside']:,.0f}</b> people inside counted hazards"]
    for d in assessment.rings_m:
        lines.append(f"<b>{assessment.people_within(d):,.0f}</b> within {d:g} m")
    source = html.escape(assessment.population.name)
    panel = "<br>".join(lines) + f"<br><small>Population: {source}; exact pixel fractions; " \
        f"statuses counted: {html.escape(', '.join(assessment.method['counted_statuses']))}</small>"
    body = (
        "<div class='geomines-legend' style='position:fixed;bottom:30px;right:10px;z-index:9999;"
        "background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;"
        "font:12px sans-serif;max-width:320px'>"
        f"<div class='geomines-panel'>{panel}</div><hr style='margin:4px 0'>"
        "<ul style='list-style:none;padding:0;margin:0'>" + "".join(items) + "</ul></div>"
        "<style>.geomines-legend li span{display:inline-block;width:14px;height:10px;"
        "margin-right:6px;vertical-align:middle}</style>"
    )
    element = MacroElement()
    element._template = Template(
        "{% macro html(this, kwargs) %}" + body + "{% endmacro %}"
    )
    m.get_root().add_child(element)
    return m


def exposure_map(assessment: Assessment, *, m: folium.Map | None = None) -> folium.Map:
    """A complete map: admin units, rings, hazards, legend, panel and layer control.

    Parameters
    ----------
    assessment : Assessment
    m : folium.Map, optional
        Add to this map instead of a new one.

    Returns
    -------
    folium.Map
    """
    bounds = assessment.bands.total_bounds if len(assessment.bands) else None
    m = m if m is not None else _new_map(bounds)
    admin_layer(assessment, m=m)
    ring_layer(assessment, m=m)
    hazard_layer(assessment, m=m)
    legend(assessment, m=m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
