"""QGIS layer styles (QML) that match the web map, for the GeoPackage's ``layer_styles``.

Each style is a rule-based renderer whose rules are mutually exclusive filters on the
layer's own fields, written with ``xml.etree`` (QGIS reads the legacy ``<prop k v>``
symbol properties from 3.4 to today).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Rule", "hex_rgba", "qml", "quoted"]


@dataclass(frozen=True)
class Rule:
    """One rule: a QGIS filter expression (None: ELSE), its label and its symbol."""

    filter: str | None
    label: str
    fill: str | None  # "#rrggbb" or None for no fill
    outline: str
    width_mm: float = 0.4
    dash: bool = False
    alpha: float = 0.6


def hex_rgba(color: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` → QGIS's ``r,g,b,a``."""
    c = color.lstrip("#")
    r, g, b = (int(c[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def quoted(field: str) -> str:
    """A field name as a QGIS expression: ``"field"``."""
    return '"' + field.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A string literal in a QGIS expression: ``'value'``."""
    return "'" + value.replace("'", "''") + "'"


def _props(layer: ET.Element, props: dict[str, str]) -> None:
    for k, v in props.items():
        ET.SubElement(layer, "prop", k=k, v=v)


def _symbol(parent: ET.Element, name: str, rule: Rule, geometry: str) -> None:
    kind = {"point": "marker", "line": "line"}.get(geometry, "fill")
    symbol = ET.SubElement(
        parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    if kind == "fill":
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill"}, enabled="1", pass_="0")
        _props(
            layer,
            {
                "color": hex_rgba(rule.fill or "#000000", rule.alpha if rule.fill else 0.0),
                "style": "solid" if rule.fill else "no",
                "outline_color": hex_rgba(rule.outline),
                "outline_style": "dash" if rule.dash else "solid",
                "outline_width": f"{rule.width_mm:g}",
                "outline_width_unit": "MM",
            },
        )
    elif kind == "marker":
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleMarker"}, enabled="1", pass_="0")
        _props(
            layer,
            {
                "name": "circle",
                "color": hex_rgba(rule.fill or "#ffffff", 1.0),
                "outline_color": hex_rgba(rule.outline),
                "outline_width": "0.3",
                "size": "3",
                "size_unit": "MM",
            },
        )
    else:
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleLine"}, enabled="1", pass_="0")
        _props(
            layer,
            {
                "line_color": hex_rgba(rule.outline),
                "line_width": f"{rule.width_mm:g}",
                "line_style": "dash" if rule.dash else "solid",
            },
        )


def qml(rules: Sequence[Rule], geometry: str = "polygon") -> str:
    """A QML document with a rule-based renderer of ``rules`` (in order)."""
    root = ET.Element("qgis", version="3.22.0-Białowieża", styleCategories="Symbology")
    renderer = ET.SubElement(
        root,
        "renderer-v2",
        type="RuleRenderer",
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
    )
    rules_el = ET.SubElement(renderer, "rules", key="{geomines-root}")
    symbols = ET.SubElement(renderer, "symbols")
    for k, rule in enumerate(rules):
        attrs = {"key": f"{{geomines-{k}}}", "symbol": str(k), "label": rule.label}
        attrs["filter"] = rule.filter if rule.filter is not None else "ELSE"
        ET.SubElement(rules_el, "rule", attrs)
        _symbol(symbols, str(k), rule, geometry)
    text = ET.tostring(root, encoding="unicode").replace('pass_="0"', 'pass="0"')
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + text + "\n"
