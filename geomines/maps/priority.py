"""Map layers of "where to go first": hazards outlined by priority tier, and the
communities coloured by their distance band.
"""

from __future__ import annotations

import html
from typing import Any

import folium

from ..assessment.result import Assessment
from ..shapes import with_shapes
from .display import DisplayOptions, feature_texts, new_map, view_bounds
from .elements import GeoJsonText, collection_text, first_feature, register

__all__ = ["BAND_COLORS", "TIER_STYLE", "communities_layer", "priority_items", "priority_layer"]

#: Outline of each priority tier (drawn over the hazards' class colours).
TIER_STYLE: dict[str, dict[str, Any]] = {
    "1": {"color": "#000000", "weight": 4},
    "2": {"color": "#2166ac", "weight": 3},
    "3": {"color": "#92c5de", "weight": 2},
}
#: Colours of the communities: inside, then each band outward, then beyond.
BAND_COLORS = ["#67000d", "#cb181d", "#fb6a4a", "#fcae91", "#fee5d9", "#fff5f0"]
BEYOND_COLOR = "#bdbdbd"


def _hazards_layer(m: folium.Map) -> GeoJsonText | None:
    for child in m._children.values():
        if isinstance(child, GeoJsonText) and getattr(child, "geomines_key", None) == "hazards":
            return child
    return None


def priority_layer(
    assessment: Assessment, *, m: folium.Map | None = None, options: DisplayOptions | None = None
) -> folium.Map:
    """Counted hazards outlined by priority tier; the popup says why each ranks where it does.

    Draws the data of the map's hazard layer when there is one (the page holds it once).
    """
    m = m if m is not None else new_map(view_bounds(assessment))
    if assessment.priority is None or not len(assessment.priority):
        return m
    frame = with_shapes(assessment.hazards)  # point records' circles built
    cols = [
        c
        for c in ("hazard_id", "priority_rank", "priority_tier", "priority_why", "land_class")
        if c in frame.columns
    ]
    source = _hazards_layer(m)
    first: dict[str, Any] | None
    if source is not None:
        text, first, bounds = None, source.data["features"][0], source._bounds
    else:
        features, _, box = feature_texts(frame, cols, options or DisplayOptions())
        first, bounds = first_feature(features), tuple(box)
        text = collection_text(features)
    n = len(assessment.priority)
    layer = GeoJsonText(
        text,
        data_of=source,
        only_with="_tier",
        first=first,
        bounds=bounds,
        style={
            "base": {"fillOpacity": 0, "opacity": 1, "className": "geomines-priority"},
            "by": "_tier",
            "styles": TIER_STYLE,
        },
        highlight={"weight": 6},
        name=f"Priority tiers ({n} counted hazards ranked)",
        tooltip=folium.GeoJsonTooltip(
            fields=["hazard_id", "priority_rank"], aliases=["id", "priority rank"]
        ),
        popup=folium.GeoJsonPopup(
            fields=cols,
            aliases=[
                {"priority_why": "why this rank", "hazard_id": "id"}.get(c, c.replace("_", " "))
                for c in cols
            ],
        ),
    )
    layer.add_to(m)
    register(m, "priority", layer)
    return m


def _band_colors(assessment: Assessment) -> dict[str, str]:
    labels = [str(b) for b in assessment.bands["band"]]
    colors = {b: BAND_COLORS[min(i, len(BAND_COLORS) - 1)] for i, b in enumerate(labels)}
    colors["beyond"] = BEYOND_COLOR
    return colors


def communities_layer(
    assessment: Assessment, *, m: folium.Map | None = None, options: DisplayOptions | None = None
) -> folium.Map:
    """Places coloured by their distance band to the counted hazards, with their numbers."""
    m = m if m is not None else new_map(view_bounds(assessment))
    frame = assessment.communities
    if frame is None or not len(frame):
        return m
    cols = [
        "place_name",
        "place_id",
        "band",
        "nearest_hazard_id",
        "nearest_hazard_m",
        *[c for c in frame.columns if str(c).startswith("hazards_within_")],
        "people",
        "admin_id",
    ]
    cols = [c for c in cols if c in frame.columns]
    features, _, bounds = feature_texts(frame, cols, options or DisplayOptions(), {"_band": "band"})
    style = {
        band: {"color": "#252525", "fillColor": color, "fillOpacity": 0.9, "weight": 1}
        for band, color in _band_colors(assessment).items()
    }
    first, count = first_feature(features), len(features)
    layer = GeoJsonText(
        collection_text(features),
        first=first,
        bounds=tuple(bounds),
        style={"base": {"className": "geomines-place"}, "by": "_band", "styles": style},
        highlight={"weight": 3},
        points=True,
        name=f"Communities ({count})",
        tooltip=folium.GeoJsonTooltip(fields=["place_name", "band"], aliases=["place", "band"]),
        popup=folium.GeoJsonPopup(
            fields=cols,
            aliases=[
                {
                    "place_name": "place",
                    "place_id": "id",
                    "nearest_hazard_id": "nearest hazard",
                    "nearest_hazard_m": "metres to it",
                }.get(c, c.replace("_", " "))
                for c in cols
            ],
        ),
    )
    layer.add_to(m)
    register(m, "communities", layer)
    return m


def priority_items(assessment: Assessment) -> list[str]:
    """Legend lines for the priority tiers and the communities."""
    items: list[str] = []
    table = assessment.priority
    if table is not None and len(table):
        low, high = assessment.priority_profile.tiers if assessment.priority_profile else (0, 0)
        labels = {
            "1": f"first {low:.0%} of the ranked hazards",
            "2": f"next, to {high:.0%}",
            "3": "the rest",
        }
        items.append("<b>Priority tiers</b> (outline)")
        for tier, style in TIER_STYLE.items():
            count = int((table["tier"].astype(str) == tier).sum())
            items.append(
                f"<span class='geomines-key' style='background:none;border:"
                f"{style['weight'] - 1}px solid {style['color']}'></span>"
                f"tier {tier}: {labels[tier]} ({count})"
            )
    frame = assessment.communities
    if frame is not None and len(frame):
        items.append("<b>Communities</b> (by distance to counted hazards)")
        counts = frame["band"].value_counts()
        for band, color in _band_colors(assessment).items():
            items.append(
                f"<span class='geomines-key' style='background:{color};border-radius:7px'></span>"
                f"{html.escape(band)}: {int(counts.get(band, 0))} places"
            )
    return items
