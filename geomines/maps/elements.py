"""A folium GeoJSON layer whose data is JSON text, styled in the browser.

``folium.GeoJson`` keeps its data as Python dicts and, to style them, writes a
``switch`` with one ``case`` per feature. For a national layer of 100,000 hazards the
dicts and that switch cost about 900 MB of memory (measured). :class:`GeoJsonText`
takes the layer as text written once, keeps only its first feature as a dict (for
folium's tooltip and popup, which read the field names from it), and styles features
in JavaScript from a small table keyed by two properties.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
from branca.element import Element
from folium.map import Layer
from folium.template import Template
from folium.utilities import get_obj_in_upper_tree

__all__ = [
    "GeoJsonText",
    "collection_text",
    "feature_text",
    "first_feature",
    "save_streamed",
    "script_safe",
]

#: Characters of a layer's text written at a time by :func:`save_streamed`.
CHUNK_CHARS = 1 << 20

# as jinja2's ``tojson`` filter escapes JSON for a <script> element
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def script_safe(text: str) -> str:
    """JSON text made safe inside ``<script>``: ``<``, ``>``, ``&`` and ``'`` escaped.

    The escapes are JSON string escapes, so the text parses to the same values.
    """
    return text.translate(_SCRIPT_ESCAPES)


class GeoJsonText(folium.GeoJson):
    """A GeoJSON layer from a FeatureCollection's text.

    Parameters
    ----------
    text : str
        A GeoJSON FeatureCollection, as text.
    first : dict or None
        Its first feature as a dict (None when it has none): folium's
        ``GeoJsonTooltip`` and ``GeoJsonPopup`` check their fields against it.
    bounds : sequence of float
        ``(west, south, east, north)`` of the features, for ``fit_bounds``.
    style : dict
        ``{"base": {...}, "by": "prop", "styles": {value: {...}}, "default": "value",
        "then": "prop2", "overrides": {value: {...}}}``: each feature's style is
        ``base``, updated by ``styles[properties[by]]`` (or ``styles[default]``), then by
        ``overrides[properties[then]]`` when present.
    highlight : dict
        Style set while the pointer is over a feature.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_style = {{ this.style_table|tojson }};
        function {{ this.get_name() }}_styler(feature) {
            var t = {{ this.get_name() }}_style, p = feature.properties || {};
            var own = function(o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
            var key = own(t.styles, p[t.by]) ? p[t.by] : t.default;
            var s = Object.assign({}, t.base, t.styles[key]);
            if (t.then && own(t.overrides, p[t.then])) {
                Object.assign(s, t.overrides[p[t.then]]);
            }
            return s;
        }
        function {{ this.get_name() }}_onEachFeature(feature, layer) {
            layer.on({
                mouseout: function(e) {
                    if (typeof e.target.setStyle === "function") {
                        {{ this.get_name() }}.resetStyle(e.target);
                    }
                },
                mouseover: function(e) {
                    if (typeof e.target.setStyle === "function") {
                        e.target.setStyle({{ this.highlight_style|tojson }});
                    }
                },
            });
        }
        var {{ this.get_name() }} = L.geoJson(null, {
            onEachFeature: {{ this.get_name() }}_onEachFeature,
            style: {{ this.get_name() }}_styler,
            ...{{ this.options|tojavascript }}
        });
        {{ this.get_name() }}.addData(
            {%- if this.deferred %}{{ this.token }}{% else %}{{ this.text }}{% endif %});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        text: str,
        *,
        first: dict[str, Any] | None,
        bounds: tuple[float, float, float, float],
        style: dict[str, Any],
        highlight: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        sample = {"type": "FeatureCollection", "features": [first] if first else []}
        super().__init__(sample, **kwargs)
        self._name = "GeoJson"
        self.text = script_safe(text)
        # while a page is saved by save_streamed, a token stands for the text
        self.deferred = False
        self.token = f"geomines_data_{uuid.uuid4().hex}"
        self.style_table = style
        self.highlight_style = highlight
        self._bounds = bounds

    def _get_self_bounds(self) -> list[list[float | None]]:
        w, s, e, n = self._bounds
        return [[s, w], [n, e]]

    def render(self, **kwargs: Any) -> Any:
        """Render as a plain layer: the styles are computed in the browser.

        (``folium.GeoJson.render`` would build its per-feature style maps.)
        """
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)  # type: ignore[assignment]
        return Layer.render(self, **kwargs)


def feature_text(properties: str, geometry: str) -> str:
    """One GeoJSON Feature from its properties' and geometry's JSON texts."""
    return '{"type": "Feature", "properties": ' + properties + ', "geometry": ' + geometry + "}"


def collection_text(features: list[str]) -> str:
    """A FeatureCollection from its features' JSON texts."""
    return '{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}"


def first_feature(features: list[str]) -> dict[str, Any] | None:
    """The first feature's text as a dict; None when there are no features."""
    return json.loads(features[0]) if features else None


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def save_streamed(m: Element, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Save ``m``'s page as ``Element.save`` does, its GeoJsonText layers' data streamed.

    The page is rendered with a token in place of each layer's text, then written
    piece by piece: the layers' text (tens of MB for a national map) is never copied
    into the page's string, nor encoded whole.
    """
    layers = {e.token: e for e in _walk(m.get_root()) if isinstance(e, GeoJsonText)}
    for layer in layers.values():
        layer.deferred = True
    try:
        page = m.get_root().render(**kwargs)
    finally:
        for layer in layers.values():
            layer.deferred = False
    path = Path(path)
    pieces = re.split("(" + "|".join(layers) + ")", page) if layers else [page]
    with path.open("w", encoding="utf-8", newline="") as out:
        for piece in pieces:
            text = layers[piece].text if piece in layers else piece
            for start in range(0, len(text), CHUNK_CHARS):
                out.write(text[start : start + CHUNK_CHARS])
    return path
