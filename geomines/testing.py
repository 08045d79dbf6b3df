"""Helpers for tests and examples: tiny real GeoTIFFs written through GDAL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine

__all__ = ["write_raster"]


def write_raster(
    path: str | os.PathLike,
    data: np.ndarray,
    *,
    transform: Affine | None = None,
    crs: Any = "EPSG:32633",
    nodata: float | None = None,
    dtype: str | None = None,
    tiled: bool = False,
) -> Path:
    """Write a single-band GeoTIFF and return its path.

    Parameters
    ----------
    path : path
    data : 2-D array
        Pixel values, row 0 at the top.
    transform : affine.Affine, optional
        Default: pixel size 1 with the bottom-left corner at (0, 0).
    crs : CRS-like, default "EPSG:32633"
        ``None`` writes a raster without CRS.
    nodata : float, optional
    dtype : str, optional
        Default: the array's dtype.
    tiled : bool, default False
        Write 16×16 deflate-compressed tiles.
    """
    data = np.asarray(data)
    if transform is None:
        transform = Affine(1, 0, 0, 0, -1, data.shape[0])
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": dtype or str(data.dtype),
        "transform": transform,
    }
    if crs is not None:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    if tiled:
        profile.update(tiled=True, blockxsize=16, blockysize=16, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(profile["dtype"]), 1)
    return Path(path)
