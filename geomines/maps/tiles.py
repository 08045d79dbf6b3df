"""An offline street basemap from the user's own raster tiles (MBTiles or ``z/x/y``).

A planner carries an OSM extract exported from QGIS, or a humanitarian tile pack, as an
MBTiles file (SQLite, TMS rows) or a directory of ``z/x/y.png|jpg|webp`` tiles. The map
embeds the tiles that cover the assessed extent, zoom level by zoom level from the
file's smallest, while they fit a size budget (and up to the file's largest zoom), as
data URIs behind a Leaflet tile layer that never asks the network. Leaflet scales the
deepest embedded zoom for closer views.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from folium.map import Layer
from folium.template import Template

from ..errors import InputError

__all__ = ["EmbeddedTileLayer", "EmbeddedTiles", "TileSource", "embed_tiles", "tile_range"]

_MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
_MAGIC = {b"\x89PNG": "png", b"\xff\xd8\xff": "jpg", b"RIFF": "webp"}


def _kind(data: bytes) -> str | None:
    return next((k for magic, k in _MAGIC.items() if data.startswith(magic)), None)


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """XYZ tile columns and rows ``(x0, x1, y0, y1)`` covering lon/lat bounds at zoom z."""
    west, south, east, north = bounds
    n = 2**z

    def x_of(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180.0) / 360.0 * n)))

    def y_of(lat: float) -> int:
        lat = max(min(lat, 85.0511), -85.0511)
        r = math.radians(lat)
        return min(n - 1, max(0, int((1 - math.asinh(math.tan(r)) / math.pi) / 2 * n)))

    return x_of(west), x_of(east), y_of(north), y_of(south)


@dataclass
class TileSource:
    """Raster tiles in an MBTiles file or a ``z/x/y`` directory."""

    path: Path
    zooms: list[int] = field(default_factory=list)
    name: str = ""

    @classmethod
    def open(cls, path: str | os.PathLike) -> TileSource:
        """Check the file or directory and list its zoom levels."""
        p = Path(path)
        if p.is_dir():
            zooms = sorted(int(d.name) for d in p.iterdir() if d.is_dir() and d.name.isdigit())
        elif p.is_file():
            try:
                with sqlite3.connect(f"file:{p}?mode=ro", uri=True) as db:
                    zooms = [z for (z,) in db.execute(
                        "SELECT DISTINCT zoom_level FROM tiles ORDER BY zoom_level")]  # fmt: skip
            except sqlite3.DatabaseError as exc:
                raise InputError(
                    f"Expected an MBTiles file (SQLite with a tiles table) or a z/x/y tile "
                    f"directory for --basemap, got {p.name!r}: {exc}."
                ) from None
        else:
            raise InputError(f"--basemap: no such file or directory {str(p)!r}.")
        if not zooms:
            raise InputError(f"--basemap {p.name!r} holds no tiles.")
        return cls(p, zooms, p.stem)

    def tiles(self, z: int, box: tuple[int, int, int, int]) -> Iterator[tuple[int, int, bytes]]:
        """``(x, y, data)`` of the tiles at zoom z within the XYZ box (x0, x1, y0, y1)."""
        x0, x1, y0, y1 = box
        if self.path.is_dir():
            for x in range(x0, x1 + 1):
                for y in range(y0, y1 + 1):
                    for ext in ("png", "jpg", "jpeg", "webp"):
                        f = self.path / str(z) / str(x) / f"{y}.{ext}"
                        if f.is_file():
                            yield x, y, f.read_bytes()
                            break
            return
        n = 2**z  # MBTiles rows count from the south (TMS)
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = ? AND "
                "tile_column BETWEEN ? AND ? AND tile_row BETWEEN ? AND ?",
                (z, x0, x1, n - 1 - y1, n - 1 - y0),
            )
            for x, row, data in rows:
                yield x, n - 1 - row, bytes(data)


@dataclass
class EmbeddedTiles:
    """The tiles chosen for a map, and what was left out."""

    urls: dict[str, str]
    zooms: list[int]
    bytes: int
    max_zoom: int
    budget_mb: float
    source: str

    @property
    def note(self) -> str:
        """What the map's panel says about the basemap."""
        if not self.zooms:
            return f"Basemap {self.source}: no tile fits the {self.budget_mb:g} MB budget."
        deepest = max(self.zooms)
        limit = (
            f"the file's deepest zoom ({self.max_zoom})"
            if deepest == self.max_zoom
            else f"the {self.budget_mb:g} MB budget (the file goes to zoom {self.max_zoom})"
        )
        return (
            f"Basemap: {self.source}, zooms {min(self.zooms)}-{deepest} "
            f"({self.bytes / 1e6:.1f} MB of tiles), limited by {limit}."
        )


def embed_tiles(
    source: TileSource, bounds: tuple[float, float, float, float], budget_mb: float = 15.0
) -> EmbeddedTiles:
    """The tiles over ``bounds`` (lon/lat), whole zoom levels while within the budget."""
    urls: dict[str, str] = {}
    zooms: list[int] = []
    total = 0
    for z in source.zooms:
        level = {}
        size = 0
        for x, y, data in source.tiles(z, tile_range(bounds, z)):
            kind = _kind(data)
            if kind is None:
                continue
            level[f"{z}/{x}/{y}"] = f"data:{_MIME[kind]};base64,{base64.b64encode(data).decode()}"
            size += len(data)
        if total + size > budget_mb * 1e6:
            break
        urls.update(level)
        total += size
        if level:
            zooms.append(z)
    return EmbeddedTiles(urls, zooms, total, max(source.zooms), budget_mb, source.name)


class EmbeddedTileLayer(Layer):
    """A Leaflet tile layer drawn from embedded data URIs (never the network)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_tiles = {{ this.urls|tojson }};
        var {{ this.get_name() }} = new (L.TileLayer.extend({
            getTileUrl: function(c) {
                return {{ this.get_name() }}_tiles[c.z + '/' + c.x + '/' + c.y] ||
                    'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
            }
        }))('', {{ this.options|tojavascript }});
        {% endmacro %}
        """
    )

    def __init__(self, tiles: EmbeddedTiles, name: str) -> None:
        super().__init__(name=name, overlay=False, control=True, show=True)
        self._name = "EmbeddedTiles"
        self.urls = tiles.urls
        deepest = max(tiles.zooms) if tiles.zooms else 0
        self.options = {
            "minZoom": 0,
            "maxZoom": 22,
            "maxNativeZoom": deepest,
            "attribution": json.dumps(tiles.source)[1:-1],
        }
