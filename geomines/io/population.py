"""Population rasters: one GeoTIFF or many aligned tiles, read window by window.

A population raster is never resampled or reprojected by geomines: resampling
changes totals. Vector data are moved into the raster's CRS instead.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.windows import Window

from ..crs import crs_label
from ..errors import NodataWarning, RasterError
from .areas import GridAreas
from .overview import Overview

__all__ = ["PopulationRaster", "read_population"]

Units = Literal["count", "density"]

#: GDAL's own block cache while geomines reads (MB): geomines keeps decoded blocks
#: itself, so GDAL's default (5% of RAM) would only hold the same pixels twice.
GDAL_CACHE_MB = 32

#: Values at or below this are fill values (WorldPop writes -3.4e38), never people.
FILL_FLOOR = -1e30


@dataclass
class _Tile:
    path: str
    row_off: int
    col_off: int
    height: int
    width: int
    nodata: float | None
    dtype: str
    block: tuple[int, int] = (256, 256)


#: Files larger than this in all get no checksum (reading them again would cost more).
SHA256_MAX_BYTES = 4 << 30


@dataclass
class PopulationRaster:
    """A population grid on one pixel grid, made of one or more GeoTIFF tiles.

    Attributes
    ----------
    paths : list of str
        The files read, in the order given.
    crs : pyproj.CRS
        The raster's coordinate reference system.
    transform : affine.Affine
        Pixel to CRS transform of the whole grid (north-up).
    width, height : int
        Size of the whole grid in pixels.
    nodata : float or None
        The declared nodata value (of the first tile, or the override).
    dtype : str
        Data type of the first tile.
    units : {"count", "density"}
        ``"count"``: people per pixel. ``"density"``: people per km², turned
        into counts with each pixel's true area.
    """

    paths: list[str]
    crs: CRS
    transform: Affine
    width: int
    height: int
    nodata: float | None
    dtype: str
    units: Units = "count"
    band: int = 1
    nodata_declared: bool = True
    nodata_override: float | None = None
    #: Land area (km²) per pixel, on the same grid, for count rasters over coastlines.
    land_area: PopulationRaster | None = None
    #: Bytes of decoded blocks kept in memory (least recently used dropped first).
    cache_bytes: int = 128 * 1024 * 1024
    _tiles: list[_Tile] = field(default_factory=list, repr=False)
    _total: float | None = field(default=None, repr=False)
    _stats: dict | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ geometry
    @property
    def res(self) -> tuple[float, float]:
        """Pixel size ``(x, y)`` in CRS units, both positive."""
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the whole grid in CRS units."""
        west, north = self.transform.c, self.transform.f
        east = west + self.width * self.transform.a
        south = north + self.height * self.transform.e
        return (west, south, east, north)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return (self.height, self.width)

    @property
    def is_geographic(self) -> bool:
        """True when the CRS is in degrees."""
        return bool(self.crs.is_geographic)

    @property
    def name(self) -> str:
        """A short name for the source: the file name, or the first tile and a count."""
        first = Path(self.paths[0]).name
        return first if len(self.paths) == 1 else f"{first} (+{len(self.paths) - 1} tiles)"

    def window_transform(self, row_off: int, col_off: int) -> Affine:
        """Transform of a window whose top-left pixel is ``(row_off, col_off)``."""
        return self.transform @ Affine.translation(col_off, row_off)

    # ------------------------------------------------------------------ pixel areas
    @property
    def areas(self) -> GridAreas:
        """The true areas of this grid's pixels (see :mod:`geomines.io.areas`)."""
        areas = self.__dict__.get("_areas")
        if areas is None:
            areas = self.__dict__.setdefault(
                "_areas", GridAreas(self.crs, self.transform, (self.height, self.width))
            )
        return areas

    def cell_area_km2(self, row_off: int, col_off: int, height: int, width: int) -> np.ndarray:
        """True ground area of each pixel of a window, in km² (:meth:`GridAreas.cell_km2`)."""
        return self.areas.cell_km2(row_off, col_off, height, width)

    def pixel_area_km2(self, row_off: int, height: int) -> np.ndarray:
        """Area of one pixel in each of rows ``row_off .. row_off+height`` (km²)."""
        return self.areas.row_km2(row_off, height)

    def land_factor(self, row_off: int, col_off: int, height: int, width: int) -> np.ndarray:
        """``k = pixel area / land area`` of each pixel (1 where there is no land raster,
        no land, or land covers the pixel): how much more densely a coastal pixel's
        people live on its land part than over the whole pixel.
        """
        if self.land_area is None:
            return np.ones((height, width))
        land = self.land_area.read(row_off, col_off, height, width)
        area = np.broadcast_to(self.cell_area_km2(row_off, col_off, height, width), (height, width))
        coastal = np.isfinite(land) & (land > 0) & (land < area)
        return np.where(coastal, area / np.where(coastal, land, 1.0), 1.0)

    # ------------------------------------------------------------------ reading
    def _nodata_of(self, tile: _Tile) -> float | None:
        return self.nodata_override if self.nodata_override is not None else tile.nodata

    def _dataset(self, index: int) -> rasterio.io.DatasetReader:
        """An open handle on tile ``index``, one per thread (GDAL handles are not shared)."""
        local = self.__dict__.setdefault("_local", threading.local())
        handles = getattr(local, "handles", None)
        if handles is None:
            handles = local.handles = {}
            with self._lock():
                self.__dict__.setdefault("_all_handles", []).append(handles)
        src = handles.get(index)
        if src is None or src.closed:
            src = rasterio.open(self._tiles[index].path)
            handles[index] = src
        return src

    def _lock(self) -> threading.Lock:
        lock = self.__dict__.get("_mutex")
        if lock is None:
            lock = self.__dict__.setdefault("_mutex", threading.Lock())
        return lock

    def _block(self, index: int, brow: int, bcol: int, keep: bool = True) -> np.ndarray:
        """One decoded block of a tile, invalid pixels NaN; cached (LRU, bounded bytes)
        unless ``keep`` is False (a scan that will not come back).
        """
        cache: OrderedDict = self.__dict__.setdefault("_cache", OrderedDict())
        key = (index, brow, bcol)
        with self._lock():
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                return hit
        tile = self._tiles[index]
        window = _block_window(tile, brow, bcol)
        data = _decode(self, index, window)
        # the raster's statistics from this block, so that its scan need not decode it again
        _keep_stats(self, index, (brow, bcol), window, data)
        exact32 = (data.dtype.kind in "iu" and data.dtype.itemsize <= 2) or data.dtype == "float32"
        exact32 = exact32 and self.units != "density"  # densities × areas need float64
        block = data.astype("float32" if exact32 else "float64")
        nodata = self._nodata_of(tile)
        invalid = ~np.isfinite(block) | (block < 0)
        if nodata is not None and not math.isnan(nodata):
            invalid |= data == np.asarray(nodata).astype(data.dtype, copy=False)
        block[invalid] = np.nan
        if self.units == "density":  # people per pixel, with each pixel's true area, once
            block *= self.cell_area_km2(
                tile.row_off + window.row_off,
                tile.col_off + window.col_off,
                window.height,
                window.width,
            )
        if not keep:
            return block
        with self._lock():
            if key not in cache:
                cache[key] = block
                self.__dict__["_cache_bytes"] = self.__dict__.get("_cache_bytes", 0) + block.nbytes
            while self.__dict__["_cache_bytes"] > self.cache_bytes and len(cache) > 1:
                _, old = cache.popitem(last=False)
                self.__dict__["_cache_bytes"] -= old.nbytes
        return block

    def read(
        self, row_off: int, col_off: int, height: int, width: int, *, keep: bool = True
    ) -> np.ndarray:
        """People per pixel in a window of the whole grid, as float64.

        Pixels outside every tile, nodata, NaN, fill values and negative values are
        NaN. Density rasters are converted to people per pixel as each block is decoded,
        with each pixel's true area (:meth:`cell_area_km2`). Each block of
        a file is decoded once and kept in a bounded cache (``cache_bytes``); with
        ``keep=False`` (one pass over many blocks) blocks read now are not kept.
        """
        out = np.full((height, width), np.nan, dtype="float64")
        for index, tile in enumerate(self._tiles):
            r0 = max(row_off, tile.row_off)
            c0 = max(col_off, tile.col_off)
            r1 = min(row_off + height, tile.row_off + tile.height)
            c1 = min(col_off + width, tile.col_off + tile.width)
            if r0 >= r1 or c0 >= c1:
                continue
            bh, bw = tile.block
            lr0, lr1 = r0 - tile.row_off, r1 - tile.row_off
            lc0, lc1 = c0 - tile.col_off, c1 - tile.col_off
            for br in range(lr0 // bh, (lr1 - 1) // bh + 1):
                for bc in range(lc0 // bw, (lc1 - 1) // bw + 1):
                    block = self._block(index, br, bc, keep)
                    ar0, ac0 = br * bh, bc * bw
                    sr0, sr1 = max(lr0, ar0), min(lr1, ar0 + block.shape[0])
                    sc0, sc1 = max(lc0, ac0), min(lc1, ac0 + block.shape[1])
                    out[
                        sr0 + tile.row_off - row_off : sr1 + tile.row_off - row_off,
                        sc0 + tile.col_off - col_off : sc1 + tile.col_off - col_off,
                    ] = block[sr0 - ar0 : sr1 - ar0, sc0 - ac0 : sc1 - ac0]
        return out

    @property
    def token(self) -> str:
        """A unique, never reused identifier of this raster object (for caches)."""
        token = self.__dict__.get("_token")
        if token is None:
            import uuid

            token = self.__dict__.setdefault("_token", uuid.uuid4().hex)
        return token

    def release(self) -> None:
        """Close the file handles this thread opened (other threads' stay open).

        For tasks that share one raster object between the threads of a worker: a
        task never closes a handle another thread is reading. The block cache is
        shared and bounded, and stays.
        """
        if self.land_area is not None:
            self.land_area.release()
        local = self.__dict__.get("_local")
        handles = getattr(local, "handles", None) if local is not None else None
        if not handles:
            return
        for src in list(handles.values()):
            src.close()
        handles.clear()

    def drop_cache(self) -> None:
        """Drop the decoded blocks (safe while other threads read: they read again)."""
        with self._lock():
            self.__dict__["_cache"] = OrderedDict()
            self.__dict__["_cache_bytes"] = 0

    def close(self) -> None:
        """Close open file handles and drop the block cache (no other thread may be reading)."""
        for handles in self.__dict__.pop("_all_handles", []):
            for src in handles.values():
                src.close()
        self.__dict__.pop("_local", None)
        self.__dict__.pop("_cache", None)
        self.__dict__["_cache_bytes"] = 0

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for key in _NOT_PICKLED:
            state.pop(key, None)
        return state

    def overview(self) -> Overview:
        """The raster's density overview, filled as its blocks are decoded (for display;
        :mod:`geomines.io.overview`). Complete once every block was decoded, as after
        :meth:`total`.
        """
        overview = self.__dict__.get("_overview")
        if overview is None:
            blocks = sum(math.prod(_block_grid(tile)) for tile in self._tiles)
            with self._lock():
                overview = self.__dict__.setdefault("_overview", Overview(self.shape, blocks))
        return overview

    def iter_windows(self, size: int = 1024) -> Iterator[tuple[int, int, int, int]]:
        """Yield ``(row_off, col_off, height, width)`` windows covering the grid."""
        for r in range(0, self.height, size):
            for c in range(0, self.width, size):
                yield r, c, min(size, self.height - r), min(size, self.width - c)

    def _scan(self, mapper: Callable = map) -> dict:
        """One pass over the raster: total people and nodata statistics (cached);
        ``mapper`` runs its parts (``map``, or a thread pool's).
        """
        if self._stats is None:
            self._stats = _scan_tiles(self, mapper)
            _warn_nodata(self, self._stats)
        return self._stats

    def total(
        self, window: tuple[int, int, int, int] | None = None, *, mapper: Callable = map
    ) -> float:
        """Total people in the raster, or in a pixel ``window`` (row, col, height, width)
        of its grid, accumulated block by block in float64; ``mapper`` runs the parts of
        the whole raster's scan (``map``, or a thread pool's).
        """
        if window is None:
            return self._scan(mapper)["total"]
        return sum(_window_parts(self, window))

    def stats(self) -> dict:
        """Total people and counts of valid, nodata, negative and fill pixels."""
        return dict(self._scan())

    def sha256(self, *, max_bytes: int = SHA256_MAX_BYTES) -> str | None:
        """SHA-256 of the files' bytes, in order (one file: that file's checksum).

        None for remote files (``/vsi...``, URLs) or above ``max_bytes`` in all, where
        reading every byte again would cost more than the assessment. The answer of
        :meth:`start_sha256` when it was started (with the default ``max_bytes``).
        """
        started = self.__dict__.get("_sha256")
        if started is not None and max_bytes == SHA256_MAX_BYTES:
            return started.result()
        return _sha256(self.paths, max_bytes)

    def start_sha256(self) -> None:
        """Start :meth:`sha256` on a thread of its own: the files are read again while
        the counting runs (hashlib releases the GIL), not after it.
        """
        with self._lock():
            if "_sha256" in self.__dict__:
                return
            started: Future[str | None] = Future()
            self.__dict__["_sha256"] = started

        def run() -> None:
            try:
                started.set_result(_sha256(self.paths, SHA256_MAX_BYTES))
            except BaseException as exc:  # taken by sha256()
                started.set_exception(exc)

        threading.Thread(target=run, name="geomines-sha256", daemon=True).start()

    def describe(self) -> dict:
        """A JSON-ready description: files, CRS, resolution, units, nodata."""
        return {
            "name": self.name,
            "files": [Path(p).name for p in self.paths],
            "crs": crs_label(self.crs),
            "resolution": list(self.res),
            "shape": [self.height, self.width],
            "bounds": list(self.bounds),
            "units": ("people per pixel" if self.units == "count" else "people per km²")
            + (
                f", spread over the land area in {self.land_area.name}"
                if self.land_area is not None
                else ""
            ),
            "nodata": None if self.nodata is None or math.isnan(self.nodata) else self.nodata,
            "nodata_declared": self.nodata_declared,
            "dtype": self.dtype,
        }


#: What a raster object keeps for this process only (handles, locks, what it decoded).
_NOT_PICKLED = (
    "_local",
    "_all_handles",
    "_mutex",
    "_cache",
    "_cache_bytes",
    "_block_stats",
    "_overview",
    "_sha256",
)


def _sha256(paths: list[str], max_bytes: int) -> str | None:
    """:meth:`PopulationRaster.sha256` of these files."""
    if any(p.startswith("/vsi") or "://" in p for p in paths):
        return None
    if sum(Path(p).stat().st_size for p in paths) > max_bytes:
        return None
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _read_error(path: str, window: Window, exc: Exception) -> RasterError:
    """The error for a block GDAL could not read: the file, the window, what to do."""
    return RasterError(
        f"Could not read {path!r} ({_window_text(window)}): {exc}. The file may be "
        "truncated or corrupt; re-export or re-download it."
    )


def _window_text(window: Window) -> str:
    """A window as readable text: ``rows 256-511, columns 0-255``."""
    r0, c0 = int(window.row_off), int(window.col_off)
    return f"rows {r0}-{r0 + int(window.height) - 1}, columns {c0}-{c0 + int(window.width) - 1}"


def _scan_tiles(raster: PopulationRaster, mapper: Callable = map) -> dict[str, Any]:
    """Every block of every tile once: the total (float64) and counts of valid, nodata,
    negative and fill-like pixels. ``mapper`` (``map``, or a thread pool's) runs the
    runs of blocks; their partial sums are added in order, so the total is the same
    however they ran.
    """
    jobs = []
    for index, tile in enumerate(raster._tiles):
        rows, cols = _block_grid(tile)
        blocks = [(r, c) for r in range(rows) for c in range(cols)]
        jobs += [(index, blocks[i : i + SCAN_RUN]) for i in range(0, len(blocks), SCAN_RUN)]
    stats: dict[str, Any] = {}
    for part in mapper(lambda job: _scan_run(raster, *job), jobs):
        for key, value in part.items():
            stats[key] = stats.get(key, 0) + value
    return stats or _scan_run(raster, 0, [])


#: Blocks read by one task of the scan.
SCAN_RUN = 64


def _scan_run(
    raster: PopulationRaster, index: int, blocks: list[tuple[int, int]]
) -> dict[str, Any]:
    """:func:`_scan_tiles` over some blocks of one tile (its own handle on the file).

    A block already decoded by a read (its statistics kept by :meth:`PopulationRaster._block`)
    is not decoded again; the statistics are the same either way, added in block order.
    """
    tile = raster._tiles[index]
    stats: dict[str, Any] = dict.fromkeys(STAT_KEYS, 0)
    stats["total"] = 0.0
    known = raster.__dict__.get("_block_stats", {}).get(index)
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), rasterio.open(tile.path) as src:
        for block in blocks:
            part = known[block] if known is not None else None
            if part is None or np.isnan(part[0]):
                window = _block_window(tile, *block)
                try:
                    raw = src.read(raster.band, window=window)
                except rasterio.errors.RasterioError as exc:
                    raise _read_error(tile.path, window, exc) from exc
                part = _keep_stats(raster, index, block, window, raw)
            for k, name in enumerate(STAT_KEYS):
                stats[name] += int(part[k])
            stats["total"] += float(part[len(STAT_KEYS)])
    return stats


def _decode(raster: PopulationRaster, index: int, window: Window) -> np.ndarray:
    """A window of tile ``index`` as stored (this thread's handle on the file)."""
    try:
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB):
            return raster._dataset(index).read(raster.band, window=window)
    except rasterio.errors.RasterioError as exc:
        raise _read_error(raster._tiles[index].path, window, exc) from exc


def _window_parts(raster: PopulationRaster, window: tuple[int, int, int, int]) -> Iterator[float]:
    """The people in a pixel window of the grid, block by block (float64): a block wholly
    inside it from the statistics kept when it was decoded (decoded now only if no read
    has), a block the window cuts from its pixels in the window.
    """
    row, col, height, width = window
    for index, tile in enumerate(raster._tiles):
        r0, r1 = (
            max(row, tile.row_off) - tile.row_off,
            min(row + height, tile.row_off + tile.height) - tile.row_off,
        )
        c0, c1 = (
            max(col, tile.col_off) - tile.col_off,
            min(col + width, tile.col_off + tile.width) - tile.col_off,
        )
        if r0 >= r1 or c0 >= c1:
            continue
        bh, bw = tile.block
        for br in range(r0 // bh, (r1 - 1) // bh + 1):
            for bc in range(c0 // bw, (c1 - 1) // bw + 1):
                w = _block_window(tile, br, bc)
                top, left = int(w.row_off), int(w.col_off)
                bottom, right = top + int(w.height), left + int(w.width)
                if r0 <= top and bottom <= r1 and c0 <= left and right <= c1:
                    known = raster.__dict__.get("_block_stats", {}).get(index)
                    part = known[br, bc] if known is not None else None
                    if part is None or np.isnan(part[0]):
                        part = _keep_stats(raster, index, (br, bc), w, _decode(raster, index, w))
                    yield float(part[len(STAT_KEYS)])
                    continue
                sr0, sr1, sc0, sc1 = max(r0, top), min(r1, bottom), max(c0, left), min(c1, right)
                pixels = raster.read(
                    sr0 + tile.row_off, sc0 + tile.col_off, sr1 - sr0, sc1 - sc0, keep=False
                )
                yield float(np.nansum(pixels))


def _block_grid(tile: _Tile) -> tuple[int, int]:
    """Rows and columns of the blocks geomines reads a tile by (:meth:`PopulationRaster._block`)."""
    return -(-tile.height // tile.block[0]), -(-tile.width // tile.block[1])


def _block_window(tile: _Tile, brow: int, bcol: int) -> Window:
    """The window of block ``(brow, bcol)`` of a tile (edge blocks cut to the tile)."""
    bh, bw = tile.block
    return Window(
        bcol * bw, brow * bh, min(bw, tile.width - bcol * bw), min(bh, tile.height - brow * bh)
    )


#: The pixel counts of a raster's statistics, in the order :func:`_block_stats` gives them
#: (the total people follows).
STAT_KEYS = ("valid_pixels", "nodata_pixels", "negative_pixels", "fill_pixels")


def _block_stats(
    raster: PopulationRaster, tile: _Tile, window: Window, raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One block's counts of valid, nodata, negative and fill-like pixels and its total
    people (float64), from its values as stored; and, for the overview, each pixel's
    people per km² and which pixels are valid.
    """
    nodata = raster._nodata_of(tile)
    block = raw.astype("float64", copy=False)
    bad = ~np.isfinite(block)
    if nodata is not None and not math.isnan(nodata):
        bad |= raw == np.asarray(nodata).astype(raw.dtype, copy=False)
    negative = fill = 0
    low = block < 0  # fill-like and other negative values (most blocks have none)
    if low.any():
        low &= ~bad
        fills = low & (block <= FILL_FLOOR)
        fill = int(fills.sum())
        negative = int(low.sum()) - fill
        bad |= low
    valid = ~bad
    n_valid = int(valid.sum())
    area = raster.cell_area_km2(
        tile.row_off + window.row_off, tile.col_off + window.col_off, window.height, window.width
    )
    if raster.units == "density":
        density, block = block, block * area
    else:
        with np.errstate(all="ignore"):  # invalid pixels' values are never used
            density = block / area
    people = block[valid].sum(dtype="float64")
    stats = np.array([n_valid, valid.size - n_valid, negative, fill, people], dtype="float64")
    return stats, density, valid


def _keep_stats(
    raster: PopulationRaster, index: int, key: tuple[int, int], window: Window, raw: np.ndarray
) -> np.ndarray:
    """A decoded block's statistics, computed once and kept (five numbers per block), and
    its densities added to the raster's :class:`~geomines.io.overview.Overview` (once,
    even when two threads decode the block at the same time).
    """
    table = raster.__dict__.setdefault("_block_stats", {})
    tile = raster._tiles[index]
    known = table.get(index)
    if known is None:
        known = table.setdefault(index, np.full((*_block_grid(tile), len(STAT_KEYS) + 1), np.nan))
    if not np.isnan(known[key][0]):
        return known[key]
    stats, density, valid = _block_stats(raster, tile, window, raw)
    with raster._lock():
        fresh = bool(np.isnan(known[key][0]))
        if fresh:
            known[key] = stats
    if fresh:
        overview = raster.overview()
        overview.add(tile.row_off + window.row_off, tile.col_off + window.col_off, density, valid)
    return known[key]


def _warn_nodata(raster: PopulationRaster, stats: dict[str, Any]) -> None:
    """A :class:`NodataWarning` when fill-like or negative values were found."""
    negative, fill_like = stats["negative_pixels"], stats["fill_pixels"]
    if not raster.nodata_declared and (negative or fill_like):
        warnings.warn(
            f"{raster.name} declares no nodata value but holds {fill_like} fill-like "
            f"values (<= -1e30) and {negative} negative values; they are not counted "
            "as people. Declare the nodata value to silence this: "
            "read_population(..., nodata=VALUE) or --nodata VALUE.",
            NodataWarning,
            stacklevel=4,
        )
    elif negative:
        warnings.warn(
            f"{raster.name} holds {negative} negative values besides its nodata value "
            f"{raster.nodata}; they are not counted as people.",
            NodataWarning,
            stacklevel=4,
        )


def _expand_paths(path_or_paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    if isinstance(path_or_paths, str | os.PathLike):
        items = [path_or_paths]
    else:
        items = list(path_or_paths)
    paths: list[str] = []
    for item in items:
        text = os.fspath(item)
        if text.startswith("/vsi") or "://" in text:  # GDAL virtual file systems, URLs
            paths.append(text)
            continue
        p = Path(item)
        if p.is_dir():
            found = sorted(
                str(f) for f in p.iterdir() if f.suffix.lower() in {".tif", ".tiff", ".vrt"}
            )
            if not found:
                raise RasterError(
                    f"Expected GeoTIFF tiles (*.tif) in directory {str(p)!r}, found none."
                )
            paths.extend(found)
        elif not p.exists():
            raise FileNotFoundError(f"Population raster not found: {str(p)!r}")
        else:
            paths.append(str(p))
    if not paths:
        raise RasterError("Expected at least one population raster path, got none.")
    return paths


def read_population(
    path_or_paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    band: int = 1,
    nodata: float | None = None,
    units: Units = "count",
    land_area: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
) -> PopulationRaster:
    """Open a population raster (one GeoTIFF, a directory of tiles, or a list of tiles).

    Only the headers are read: no pixel is loaded until a window is asked for.

    Parameters
    ----------
    path_or_paths : path, directory or sequence of paths
        GeoTIFF (or any GDAL raster) files on one common pixel grid.
    band : int, default 1
        The band holding people (1-based, as in rasterio).
    nodata : float, optional
        Override or declare the nodata value. NaN, WorldPop's -3.4e38 fill and
        negative values are never counted as people, whatever is declared.
    units : {"count", "density"}, default "count"
        ``"count"``: people per pixel (WorldPop ppp, GHS-POP, GPW count).
        ``"density"``: people per km², converted with each pixel's true area
        (geodesic for geographic CRSs).
    land_area : path(s), optional
        For a count raster over a coastline: a raster of land area per pixel
        (km², e.g. GPW's land area), on the same grid. A coastal pixel's people
        live on its land part, and a polygon is taken to cover the pixel's land
        first: of a pixel with ``v`` people, ``k = pixel km² / land km²`` and a
        covered fraction ``f``, a polygon holds ``v · min(1, f · k)`` (its density
        on land times the area covered, never more than the pixel holds). Right
        for polygons that follow the coast (admin units); the raster's total stays
        the sum of counts, and pixels wholly covered count ``v``.

    Returns
    -------
    PopulationRaster

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    RasterError
        A file is not a raster, has no CRS, is rotated, or the tiles do not share
        one CRS, resolution and pixel grid.
    """
    if units not in ("count", "density"):
        raise RasterError(f"Expected units 'count' or 'density', got {units!r}.")
    paths = _expand_paths(path_or_paths)
    metas = [_meta(p, band) for p in paths]
    for meta in metas:
        _check_tile(meta, metas[0], band)
    tiles, west, north, rows, cols = _layout(metas)
    first = metas[0]
    crs = CRS.from_user_input(first.crs)
    transform = Affine(first.transform.a, 0.0, west, 0.0, first.transform.e, north)
    return PopulationRaster(
        paths=paths,
        crs=crs,
        transform=transform,
        width=cols,
        height=rows,
        nodata=float(nodata) if nodata is not None else first.nodata,
        dtype=str(first.dtype),
        units=units,
        band=band,
        nodata_declared=nodata is not None or first.nodata is not None,
        nodata_override=float(nodata) if nodata is not None else None,
        land_area=_land_area(land_area, paths, crs, transform, (rows, cols), units),
        _tiles=tiles,
    )


class _Meta(NamedTuple):
    """What a tile's header says."""

    path: str
    crs: Any
    transform: Affine
    width: int
    height: int
    nodata: float | None
    dtype: str | None
    bands: int
    block: tuple[int, int]


def _meta(path: str, band: int) -> _Meta:
    """Open a tile's header (no pixels read)."""
    if not path.startswith("/vsi") and Path(path).is_file() and Path(path).stat().st_size == 0:
        raise RasterError(f"Population raster {path!r} is an empty (zero-byte) file.")
    try:
        with rasterio.open(path) as src:
            ok = band <= src.count
            return _Meta(
                path,
                src.crs,
                src.transform,
                src.width,
                src.height,
                src.nodata,
                src.dtypes[band - 1] if ok else None,
                src.count,
                tuple(src.block_shapes[band - 1]) if ok else (1, 1),
            )
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(
            f"Expected a GeoTIFF population raster, could not open {path!r}: {exc}"
        ) from exc


def _check_tile(meta: _Meta, first: _Meta, band: int) -> None:
    """A tile geomines can count exactly: the band, a CRS, north-up, on the first's grid."""
    p, tr, tr0 = meta.path, meta.transform, first.transform
    if meta.dtype is None:
        raise RasterError(f"{p!r} has {meta.bands} band(s); band {band} was asked for.")
    if meta.crs is None:
        raise RasterError(
            f"Population raster {p!r} has no CRS. Expected a georeferenced GeoTIFF; "
            "assign one with `gdal_edit.py -a_srs EPSG:4326 FILE` (or the right EPSG)."
        )
    if tr.b != 0 or tr.d != 0:
        raise RasterError(
            f"Population raster {p!r} has a rotated or sheared geotransform {tuple(tr)[:6]}; "
            "geomines needs a north-up grid. Warp it once with "
            "`gdalwarp` to a north-up grid and check that the total is unchanged."
        )
    if tr.e >= 0:
        raise RasterError(
            f"Population raster {p!r} is not north-up (pixel height {tr.e} >= 0); "
            "flip it with gdalwarp first."
        )
    if CRS.from_user_input(meta.crs) != CRS.from_user_input(first.crs):
        raise RasterError(
            f"Tiles must share one CRS: {Path(first.path).name} is {first.crs}, "
            f"{Path(p).name} is {meta.crs}. Population rasters are never resampled by "
            "geomines; warp the tiles yourself."
        )
    if not (math.isclose(tr.a, tr0.a, rel_tol=1e-9) and math.isclose(tr.e, tr0.e, rel_tol=1e-9)):
        raise RasterError(
            f"Tiles must share one resolution: {Path(first.path).name} has {(tr0.a, -tr0.e)}, "
            f"{Path(p).name} has {(tr.a, -tr.e)}. Resampling changes totals, so geomines "
            "does not do it."
        )


def _layout(metas: list[_Meta]) -> tuple[list[_Tile], float, float, int, int]:
    """Each tile's place on the whole grid: ``(tiles, west, north, rows, cols)``."""
    tr0 = metas[0].transform
    west = min(m.transform.c for m in metas)
    north = max(m.transform.f for m in metas)
    tiles = []
    rows = cols = 0
    for m in metas:
        col_f = (m.transform.c - west) / tr0.a
        row_f = (m.transform.f - north) / tr0.e
        col_off, row_off = round(col_f), round(row_f)
        if abs(col_f - col_off) > 1e-6 or abs(row_f - row_off) > 1e-6:
            raise RasterError(
                f"Tile {Path(m.path).name} is not aligned with {Path(metas[0].path).name}'s "
                f"pixel grid (offset of {col_f:.4f}, {row_f:.4f} pixels). Tiles must share "
                "one grid."
            )
        # strips of one row are read in bands of rows, to keep calls few
        bh, bw = m.block
        if bh < 64:
            bh = min(m.height, max(bh, (1 << 18) // max(bw, 1)))
        tiles.append(
            _Tile(m.path, row_off, col_off, m.height, m.width, m.nodata, str(m.dtype), (bh, bw))
        )
        rows = max(rows, row_off + m.height)
        cols = max(cols, col_off + m.width)
    _check_overlaps(tiles)
    return tiles, west, north, rows, cols


def _land_area(
    path: Any, paths: list[str], crs: CRS, transform: Affine, shape: tuple[int, int], units: str
) -> PopulationRaster | None:
    if path is None:
        return None
    if units != "count":
        raise RasterError(
            "land_area= goes with a count raster (units='count'); a density "
            "raster already holds people per km² of land."
        )
    land = read_population(path)
    if land.crs != crs or not land.transform.almost_equals(transform) or land.shape != shape:
        raise RasterError(
            f"The land-area raster {land.name} must share the population raster's grid "
            f"({Path(paths[0]).name}: {shape[1]}×{shape[0]} px, {transform.a:g} per pixel); "
            f"got {land.width}×{land.height} px, {land.transform.a:g} per pixel."
        )
    return land


def _check_overlaps(tiles: list[_Tile]) -> None:
    for i, a in enumerate(tiles):
        for b in tiles[i + 1 :]:
            if (
                a.row_off < b.row_off + b.height
                and b.row_off < a.row_off + a.height
                and a.col_off < b.col_off + b.width
                and b.col_off < a.col_off + a.width
            ):
                raise RasterError(
                    f"Tiles {Path(a.path).name} and {Path(b.path).name} overlap; people "
                    "would be counted twice. Pass tiles that partition the grid."
                )
