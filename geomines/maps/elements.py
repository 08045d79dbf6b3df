"""A folium GeoJSON layer whose data is JSON text, styled in the browser.

``folium.GeoJson`` keeps its data as Python dicts and, to style them, writes a
``switch`` with one ``case`` per feature. For a national layer of 100,000 hazards the
dicts and that switch cost about 900 MB of memory (measured). :class:`GeoJsonText`
takes the layer as text written once, keeps only its first feature as a dict (for
folium's tooltip and popup, which read the field names from it), and styles features
in JavaScript from a small table keyed by two properties.
"""

from __future__ import annotations

import html
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template
from folium.utilities import get_obj_in_upper_tree

from .offline import asset_html

__all__ = [
    "GeoJsonText",
    "OfflineMap",
    "collection_text",
    "feature_text",
    "first_feature",
    "register",
    "save_streamed",
    "script_safe",
]

#: Characters of a layer's text written at a time by :func:`save_streamed`.
CHUNK_CHARS = 1 << 20

# as jinja2's ``tojson`` filter escapes JSON for a <script> element
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def script_safe(text: str) -> str:
    """JSON text made safe inside ``<script>``: ``<``, ``>``, ``&`` and ``'`` escaped.

    The escapes are JSON string escapes, so the text parses to the same values. Text
    with none of them is returned as it is (no copy of a national layer's text).
    """
    if not any(c in text for c in "<>&'"):
        return text
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
    data_of : GeoJsonText, optional
        Draw the features of this other layer (rendered before this one) instead of
        ``text``: the page holds the data once.
    only_with : str, optional
        Draw only the features whose property of this name is not empty.
    points : bool, default False
        Draw points as circle markers (styled like the other features).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_style = {{ this.style_table|tojson }};
        function {{ this.get_name() }}_styler(feature) {
            var t = {{ this.get_name() }}_style, p = feature.properties || {};
            var own = function(o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
            var styles = t.styles || {}, overrides = t.overrides || {};
            var key = own(styles, p[t.by]) ? p[t.by] : t.default;
            var s = Object.assign({}, t.base, styles[key]);
            if (t.then && own(overrides, p[t.then])) {
                Object.assign(s, overrides[p[t.then]]);
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
            {%- if this.only_with %}
            filter: function(f) { return !!(f.properties || {})[{{ this.only_with|tojson }}]; },
            {%- endif %}
            {%- if this.points %}
            pointToLayer: function(f, latlng) { return L.circleMarker(latlng, {radius: 7}); },
            {%- endif %}
            ...{{ this.options|tojavascript }}
        });
        {%- if this.data_of %}
        {{ this.get_name() }}.addData({{ this.data_of.get_name() }}_data);
        {%- else %}
        var {{ this.get_name() }}_data =
            {%- if this.deferred %} {{ this.token }}{% else %} {{ this.text }}{% endif %};
        {{ this.get_name() }}.addData({{ this.get_name() }}_data);
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        text: str | list[str] | None,
        *,
        first: dict[str, Any] | None,
        bounds: tuple[float, float, float, float],
        style: dict[str, Any],
        highlight: dict[str, Any],
        data_of: GeoJsonText | None = None,
        only_with: str | None = None,
        points: bool = False,
        **kwargs: Any,
    ) -> None:
        sample = {"type": "FeatureCollection", "features": [first] if first else []}
        super().__init__(sample, **kwargs)
        self._name = "GeoJson"
        if (text is None) == (data_of is None):
            raise ValueError("GeoJsonText takes a text or data_of, one of them.")
        pieces = [text] if isinstance(text, str) else text
        self.pieces = [script_safe(p) for p in pieces] if pieces is not None else None
        self.data_of = data_of
        self.only_with = only_with
        self.points = points
        # while a page is saved by save_streamed, a token stands for the text
        self.deferred = False
        self.token = f"geomines_data_{uuid.uuid4().hex}"
        self.style_table = style
        self.highlight_style = highlight
        self._bounds = bounds

    @property
    def text(self) -> str | None:
        """The layer's whole text (for a page rendered in memory; saving streams pieces)."""
        return "".join(self.pieces) if self.pieces is not None else None

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


#: Features joined into one piece of a layer's text.
PIECE = 10_000


def collection_text(features: list[str]) -> list[str]:
    """A FeatureCollection from its features' JSON texts, as pieces (joined, they are the
    collection's text). The list given is emptied piece by piece: its strings are freed
    as the pieces are made, so a national layer is never held twice.
    """
    pieces = ['{"type": "FeatureCollection", "features": [']
    for k in range(0, len(features), PIECE):
        pieces.append((", " if k else "") + ", ".join(features[k : k + PIECE]))
        features[k : k + PIECE] = [""] * len(features[k : k + PIECE])
    pieces.append("]}")
    features.clear()
    return pieces


def first_feature(features: list[str]) -> dict[str, Any] | None:
    """The first feature's text as a dict; None when there are no features."""
    return json.loads(features[0]) if features else None


class OfflineMap(folium.Map):
    """A ``folium.Map`` that carries its own Leaflet assets: no CDN, no network.

    Use it like ``folium.Map``; plugins added through geomines' layer functions
    are inlined too. ``save`` writes one self-contained HTML file, and the
    notebook display is an ``<iframe srcdoc>`` of the same HTML.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("tiles", None)
        kwargs.setdefault("control_scale", True)
        super().__init__(**kwargs)
        self.default_js = []
        self.default_css = []
        root: Any = self.get_root()
        root.header.add_child(Element(asset_html()), name="geomines_assets")
        root.header.add_child(
            Element(
                "<style>.leaflet-container{background:#d4e6f1}"
                ".geomines-box{background:#fff;padding:6px 9px;border:1px solid #999;"
                "border-radius:4px;font:12px/1.35 sans-serif;box-shadow:0 1px 4px #0003}"
                ".geomines-box h4{margin:0 0 4px;font-size:13px}"
                ".geomines-key{display:inline-block;width:14px;height:10px;margin-right:6px;"
                "vertical-align:middle;border:1px solid #555}</style>"
            ),
            name="geomines_style",
        )

    def save(self, outfile: Any, close_file: bool = True, **kwargs: Any) -> None:
        """Write the page; to a path, the hazards' and bands' data are streamed in."""
        if isinstance(outfile, str | os.PathLike):
            save_streamed(self, outfile, **kwargs)
        else:
            super().save(outfile, close_file=close_file, **kwargs)

    def _repr_html_(self, **kwargs: Any) -> str:
        page = self.get_root().render()
        return (
            f'<iframe srcdoc="{html.escape(page)}" style="width:100%;height:600px;'
            'border:none" sandbox="allow-scripts allow-same-origin"></iframe>'
        )


def register(m: folium.Map, key: str, layer: folium.Element) -> None:
    """Expose a layer to scripts and tests as ``window.geominesLayers[key]``."""
    element = MacroElement()
    element._template = Template(
        "{% macro script(this, kwargs) %}window.geominesLayers = window.geominesLayers || {};"
        f"window.geominesLayers[{json.dumps(key)}] = {layer.get_name()};"
        "{% endmacro %}"
    )
    m.add_child(element)


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
    layers = {
        e.token: e for e in _walk(m.get_root()) if isinstance(e, GeoJsonText) and e.text is not None
    }
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
            texts = (layers[piece].pieces or []) if piece in layers else [piece]
            for text in texts:
                for start in range(0, len(text), CHUNK_CHARS):
                    out.write(text[start : start + CHUNK_CHARS])
    return path
