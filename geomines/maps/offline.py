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
import re
import warnings
from functools import lru_cache
from importlib import resources

import numpy as np
import pyogrio
import shapely
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

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
@lru_cache(maxsize=1)
def _world() -> tuple[list[str], np.ndarray]:
    """Natural Earth's countries, read from the bundled TopoJSON by GDAL."""
    path = resources.files("geomines.maps").joinpath("data", "countries-50m.json")
    with resources.as_file(path) as local:
        frame = pyogrio.read_dataframe(local, layer="countries")
    names = frame["name"].fillna("").astype(str).tolist() if "name" in frame else [""] * len(frame)
    return names, np.asarray(shapely.make_valid(frame.geometry.values), dtype=object)


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
    """Encode an ``(h, w, 4)`` uint8 array as PNG, with GDAL's PNG driver (in memory)."""
    h, w, _ = rgba.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # an image, not a raster
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=w, height=h, count=4, dtype="uint8") as dst:
                dst.write(np.moveaxis(np.ascontiguousarray(rgba, dtype=np.uint8), 2, 0))
            return bytes(mem.read())
