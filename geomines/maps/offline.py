"""What makes a map work with no network: vendored Leaflet assets and an offline basemap.

Folium maps load Leaflet, its plugins and tiles from CDNs, so in the field, with
no internet, they are blank. geomines maps carry their assets inline instead:
the files in ``geomines/static`` (from the npm registry, with their licences) go
into the HTML as ``<script>`` and ``<style>`` elements, with the images they
reference turned into data URIs. The basemap is Natural Earth's 1:50m country
outlines (public domain), shipped in ``geomines/data`` and clipped to the map.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from importlib import resources

import numpy as np
import shapely

__all__ = ["ASSETS", "asset_html", "countries", "external_urls", "png_bytes"]

#: (kind, file) in load order.
ASSETS: tuple[tuple[str, str], ...] = (
    ("css", "leaflet.css"),
    ("css", "Control.FullScreen.css"),
    ("css", "leaflet-measure.css"),
    ("js", "leaflet.js"),
    ("js", "Control.FullScreen.js"),
    ("js", "leaflet-measure.min.js"),
)

_MIME = {".png": "image/png", ".svg": "image/svg+xml"}


def _static(name: str) -> bytes:
    return resources.files("geomines.maps").joinpath("static", name).read_bytes()


def _data_uri(name: str) -> str:
    suffix = name[name.rfind(".") :]
    return f"data:{_MIME[suffix]};base64,{base64.b64encode(_static(name)).decode()}"


def _inline_css(text: str) -> str:
    def repl(match: re.Match) -> str:
        target = match.group(1).strip("'\"")
        if target.startswith(("data:", "#")):
            return match.group(0)
        return f"url({_data_uri(target)})"

    return re.sub(r"url\(([^)]*)\)", repl, text)


@lru_cache(maxsize=1)
def asset_html() -> str:
    """The ``<style>`` and ``<script>`` elements holding every vendored asset."""
    parts = []
    for kind, name in ASSETS:
        text = _static(name).decode("utf-8")
        if kind == "css":
            parts.append(f"<style>/* {name} */\n{_inline_css(text)}\n</style>")
        else:
            safe = text.replace("</script", "<\\/script")
            parts.append(f"<script>/* {name} */\n{safe}\n</script>")
    return "\n".join(parts)


_URL_ATTR = re.compile(
    r"""<(script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE
)


def external_urls(html: str) -> list[str]:
    """Elements in ``html`` that would load something from the network."""
    return [m.group(0) for m in _URL_ATTR.finditer(html)]


# --------------------------------------------------------------------------- basemap
def _decode_topojson(topo: dict, name: str) -> list[tuple[dict, shapely.Geometry]]:
    scale = topo["transform"]["scale"]
    translate = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        xy = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(xy * scale + translate)

    def ring(indexes: list[int]) -> np.ndarray:
        pts = []
        for k, i in enumerate(indexes):
            a = arcs[i] if i >= 0 else arcs[~i][::-1]
            pts.append(a if k == 0 else a[1:])
        return np.concatenate(pts)

    out = []
    for g in topo["objects"][name]["geometries"]:
        if g["type"] == "Polygon":
            rings = [ring(r) for r in g["arcs"]]
            geom = shapely.Polygon(rings[0], rings[1:])
        elif g["type"] == "MultiPolygon":
            geom = shapely.MultiPolygon(
                [shapely.Polygon(ring(p[0]), [ring(r) for r in p[1:]]) for p in g["arcs"]]
            )
        else:
            continue
        out.append((g.get("properties", {}), shapely.make_valid(geom)))
    return out


@lru_cache(maxsize=1)
def _world() -> tuple[list[str], np.ndarray]:
    text = resources.files("geomines.maps").joinpath("data", "countries-50m.json").read_text()
    decoded = _decode_topojson(json.loads(text), "countries")
    names = [p.get("name", "") for p, _ in decoded]
    return names, np.array([g for _, g in decoded], dtype=object)


def countries(
    bounds: tuple[float, float, float, float],
    *,
    margin_deg: float = 5.0,
    tolerance_deg: float = 0.01,
) -> list[tuple[str, shapely.Geometry]]:
    """Natural Earth country outlines clipped to ``(west, south, east, north)`` + margin."""
    names, geoms = _world()
    west, south, east, north = bounds
    box = (
        max(west - margin_deg, -180),
        max(south - margin_deg, -90),
        min(east + margin_deg, 180),
        min(north + margin_deg, 90),
    )
    clipped = shapely.clip_by_rect(geoms, *box)
    out = []
    for name, g in zip(names, clipped, strict=True):
        if g.is_empty:
            continue
        simple = shapely.simplify(g, tolerance_deg, preserve_topology=True)
        if not simple.is_empty:
            out.append((name, simple))
    return out


# --------------------------------------------------------------------------- PNG
def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 array as PNG (no imaging library needed)."""
    import struct
    import zlib

    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
