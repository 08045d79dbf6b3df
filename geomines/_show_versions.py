"""Versions of geomines and its dependencies, for bug reports."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

DEPENDENCIES = (
    "numpy",
    "pandas",
    "shapely",
    "geopandas",
    "pyogrio",
    "pyproj",
    "rasterio",
    "folium",
    "click",
    "exactextract",
)


def versions() -> dict[str, str | None]:
    """Versions as a dict: geomines, Python, platform, GDAL, PROJ, GEOS and packages."""
    from ._version import __version__

    out: dict[str, str | None] = {
        "geomines": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    from .engine.exact import COMPILED

    # the exact engine's inner loop: compiled C, or numpy where no compiler was found
    out["engine loop"] = "compiled" if COMPILED else "numpy (no C compiler at install)"
    try:
        import rasterio

        out["GDAL"] = rasterio.__gdal_version__
    except ImportError:  # pragma: no cover
        out["GDAL"] = None
    try:
        import pyproj

        out["PROJ"] = pyproj.proj_version_str
    except ImportError:  # pragma: no cover
        out["PROJ"] = None
    try:
        import shapely

        out["GEOS"] = shapely.geos_version_string
    except ImportError:  # pragma: no cover
        out["GEOS"] = None
    for name in DEPENDENCIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def show_versions() -> None:
    """Print :func:`versions` one per line."""
    for key, value in versions().items():
        print(f"{key:>14}: {value}")
