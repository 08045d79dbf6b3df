"""What makes a map work with no network: vendored Leaflet assets and an offline basemap.

Folium maps load Leaflet, its plugins and tiles from CDNs, so in the field, with
no internet, they are blank. geomines maps carry their assets inline instead:
the files in ``geomines/static`` (from the npm registry, with their licences) go
into the HTML as ``<script>`` and ``<style>`` elements, with the images they
reference turned into data URIs. The basemap is Natural Earth's country outlines
(public domain), 1:10m for district and province views and 1:50m for wider ones,
shipped in ``geomines/maps/data`` and clipped to the map.
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

__all__ = [
    "ASSETS",
    "DETAILED_BELOW_DEG",
    "asset_html",
    "countries",
    "countries_scale",
    "external_urls",
    "png_bytes",
]

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
#: Views (with their margin) narrower than this many degrees get the 1:10m outlines.
DETAILED_BELOW_DEG = 20.0


@lru_cache(maxsize=2)
def _world(scale: str = "50m") -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Natural Earth's countries at ``scale`` (``10m`` or ``50m``), read by GDAL: names,
    geometries as shipped (not repaired: see :func:`_valid_in`) and their bounds.
    """
    path = resources.files("geomines.maps").joinpath("data", f"countries-{scale}.json")
    with resources.as_file(path) as local:
        frame = pyogrio.read_dataframe(local, layer="countries")
    names = frame["name"].fillna("").astype(str).tolist() if "name" in frame else [""] * len(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return tuple(names), geoms, shapely.bounds(geoms)


def _valid_in(geom: shapely.Geometry, box: tuple[float, float, float, float]) -> shapely.Geometry:
    """A country's outline within ``box``, valid.

    Some of the shipped outlines are invalid (52 of the 1:10m ones: self-touching rings).
    Repairing a whole country is slow (Canada 2 s, the 52 together 8 s), so the part
    in the box is cut out first and only that part is repaired when it needs it.
    The clip is GEOS's rectangle clip, which takes invalid input; the whole country
    is repaired first only if it refuses.
    """
    try:
        part = shapely.clip_by_rect(geom, *box)
    except shapely.errors.GEOSException:
        part = shapely.clip_by_rect(shapely.make_valid(geom), *box)
    return part if shapely.is_valid(part) else shapely.make_valid(part)


def countries(
    bounds: tuple[float, float, float, float],
    *,
    margin_deg: float | None = None,
    tolerance_deg: float | None = None,
) -> list[tuple[str, shapely.Geometry]]:
    """Natural Earth country outlines (land and coastlines) clipped to the view + margin.

    A view narrower than :data:`DETAILED_BELOW_DEG` gets the 1:10m outlines simplified
    by at most 1/2,000 of the view's width (about 50 m at district scale); a wider one
    gets 1:50m, simplified by 0.01°. The margin is half the view (at most 5°).
    """
    west, south, east, north = bounds
    span = max(east - west, north - south, 0.01)
    margin = min(span / 2, 5.0) if margin_deg is None else margin_deg
    detailed = span + 2 * margin < DETAILED_BELOW_DEG
    names, geoms, extents = _world("10m" if detailed else "50m")
    tolerance = (span / 2000 if detailed else 0.01) if tolerance_deg is None else tolerance_deg
    box = (
        max(west - margin, -180),
        max(south - margin, -90),
        min(east + margin, 180),
        min(north + margin, 90),
    )
    # the countries whose extent meets the box (a test on bounds: the outlines as
    # shipped may be invalid, and each is repaired only where it is cut to the box)
    candidates = np.nonzero(
        (extents[:, 0] <= box[2])
        & (extents[:, 2] >= box[0])
        & (extents[:, 1] <= box[3])
        & (extents[:, 3] >= box[1])
    )[0]
    out = []
    for k in candidates:
        g = _valid_in(geoms[k], box)
        if g.is_empty:
            continue
        simple = shapely.simplify(g, tolerance, preserve_topology=True)
        if not simple.is_empty:
            out.append((names[k], simple))
    return out


def countries_scale(bounds: tuple[float, float, float, float]) -> str:
    """``1:10m`` or ``1:50m``: the Natural Earth scale :func:`countries` uses for a view."""
    west, south, east, north = bounds
    span = max(east - west, north - south, 0.01)
    return "1:10m" if span + 2 * min(span / 2, 5.0) < DETAILED_BELOW_DEG else "1:50m"


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 array as PNG, with GDAL's PNG driver (in memory)."""
    h, w, _ = rgba.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # an image, not a raster
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=w, height=h, count=4, dtype="uint8") as dst:
                dst.write(np.moveaxis(np.ascontiguousarray(rgba, dtype=np.uint8), 2, 0))
            return bytes(mem.read())
