"""The map of a change between two snapshots: released land by how it was released,
newly counted land, the hazards that remain, and the hazards before (outlined).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
from branca.element import Element
from folium.plugins import Fullscreen, MeasureControl

from ..engine.rings import format_m
from ..shapes import with_shapes
from .display import DisplayOptions, feature_texts
from .elements import GeoJsonText, OfflineMap, collection_text, first_feature, register
from .layers import STYLE, basemap_layer, no_cdn, population_layer

if TYPE_CHECKING:  # the change package imports the maps lazily
    from ..change.compare import Change

__all__ = ["RELEASE_COLORS", "change_map"]

#: Fill of released land by how it was released; newly counted land.
RELEASE_COLORS = {
    "cleared": "#238b45",
    "reduced": "#74c476",
    "cancelled": "#bae4b3",
    "not recorded": "#fdd49e",
}
NEW_COLOR = "#d7301f"


def _release_key(transition: str) -> str:
    return transition.rsplit("→", 1)[-1].strip()


def _layer(
    m: folium.Map,
    key: str,
    frame: Any,
    cols: list[str],
    style: dict[str, Any],
    name: str,
    options: DisplayOptions,
    tags: dict[str, str] | None = None,
) -> None:
    features, _, bounds = feature_texts(frame, cols, options, tags)
    if not features:
        return
    first = first_feature(features)
    layer = GeoJsonText(
        collection_text(features),
        first=first,
        bounds=tuple(bounds),
        style=style,
        highlight={"weight": 4},
        name=name,
        popup=folium.GeoJsonPopup(fields=cols, aliases=[c.replace("_", " ") for c in cols]),
    )
    layer.add_to(m)
    register(m, key, layer)


def _bounds(change: Change) -> np.ndarray:
    boxes = [a.bands.total_bounds for a in (change.before, change.after) if len(a.bands)] + [
        with_shapes(a.hazards).to_crs(4326).total_bounds for a in (change.before, change.after)
    ]
    b = np.array([x for x in boxes if np.isfinite(x).all()])
    if not len(b):
        return np.full(4, np.nan)
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def change_map(change: Change, *, options: DisplayOptions | None = None) -> OfflineMap:
    """The offline map of a change, with its headline in a panel."""
    options = options or DisplayOptions()
    bounds = _bounds(change)
    m = OfflineMap()
    if np.isfinite(bounds).all():
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    basemap_layer(m=m, bounds=tuple(bounds))
    population_layer(change.after, m=m, options=options)
    before, after = (with_shapes(a.hazards) for a in (change.before, change.after))
    before, after = before[before["counted"]], after[after["counted"]]
    cols = ["hazard_id", "land_class", "status", "people_inside"]
    _layer(
        m, "before", before, cols,
        {"base": {"color": "#525252", "weight": 1.5, "dashArray": "4 3", "fillOpacity": 0}},
        f"Counted hazards before ({len(before)})", options,
    )  # fmt: skip
    released = change.released.assign(how=change.released["transition"].map(_release_key))
    _layer(
        m, "released", released, ["transition", "people", "area_m2"],
        {
            "base": {"color": "#006d2c", "weight": 1, "fillOpacity": 0.7},
            "by": "_how",
            "styles": {k: {"fillColor": v} for k, v in RELEASE_COLORS.items()},
        },
        "Released land (before, not after)", options, {"_how": "how"},
    )  # fmt: skip
    _layer(
        m, "new", change.new_land, ["transition", "people", "area_m2"],
        {"base": {"color": NEW_COLOR, "fillColor": NEW_COLOR, "weight": 1, "fillOpacity": 0.6}},
        "Newly counted land (after, not before)", options,
    )  # fmt: skip
    _layer(
        m, "after", after, cols,
        {
            "base": {"weight": 2, "fillOpacity": 0.45},
            "by": "_class",
            "styles": STYLE,
            "default": "other",
        },
        f"Counted hazards after ({len(after)})", options,
    )  # fmt: skip
    m.get_root().html.add_child(Element(_panel(change)), name="geomines_panel")  # type: ignore[attr-defined]
    no_cdn(Fullscreen(position="topleft")).add_to(m)
    no_cdn(MeasureControl(position="topleft", primary_length_unit="meters")).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _panel(change: Change) -> str:
    lines = [
        f"<b data-key='released_inside'>{change.people['inside']['released']:,.0f}</b> "
        "people no longer live inside counted hazards"
    ]
    for d, row in change.people["within_m"].items():
        lines.append(
            f"<b data-key='released_{d}'>{row['released']:,.0f}</b> no longer within "
            f"{html.escape(d)} m"
        )
    lines.append(
        f"<b>{change.people['inside']['newly_exposed']:,.0f}</b> newly inside counted hazards"
    )
    keys = (
        "".join(
            f"<br><span class='geomines-key' style='background:{c}'></span>released: {k}"
            for k, c in RELEASE_COLORS.items()
        )
        + f"<br><span class='geomines-key' style='background:{NEW_COLOR}'></span>newly counted"
    )
    rings = ", ".join(f"{format_m(d)} m" for d in change.rings_m)
    return (
        "<div class='geomines-box geomines-panel' style='position:fixed;top:10px;left:55px;"
        "z-index:1000;max-width:340px'><h4>What changed, in people</h4>"
        + "<br>".join(lines)
        + f"<br><small>Rings: {html.escape(rings)}; counted: "
        + html.escape(", ".join(change.before.method["counted_statuses"]))
        + "; released = before minus after, dissolved: nobody counted twice.</small>"
        + keys
        + "</div>"
    )
