"""geomines: how many people live inside, and near, land contaminated by explosive ordnance.

The public API::

    hazards = geomines.read_hazards("hazards.gpkg")
    population = geomines.read_population("worldpop.tif")
    result = geomines.assess(hazards, population, rings_m=(500, 1000, 5000))
    result.totals, result.hazards, result.bands, result.by_admin
    geomines.write_outputs(result, "out/")
"""

from __future__ import annotations

from ._version import __version__
from .assessment import Assessment, assess
from .errors import (
    CoverageWarning,
    CRSError,
    GeominesError,
    InputError,
    InvalidGeometryError,
    LoadWarning,
    NoOverlapError,
    NodataWarning,
    OutputError,
    RasterError,
    RepairWarning,
    ReprojectionWarning,
)
from .exposure import coverage_fractions, zonal_sum
from .hazards import LoadReport, read_hazards, read_vector, validate_hazards
from .population import PopulationRaster, read_population
from .rings import buffer_m

__all__ = [
    "Assessment",
    "CRSError",
    "CoverageWarning",
    "GeominesError",
    "InputError",
    "InvalidGeometryError",
    "LoadReport",
    "LoadWarning",
    "NoOverlapError",
    "NodataWarning",
    "OutputError",
    "PopulationRaster",
    "RasterError",
    "RepairWarning",
    "ReprojectionWarning",
    "__version__",
    "assess",
    "buffer_m",
    "coverage_fractions",
    "exposure_map",
    "read_hazards",
    "read_population",
    "read_vector",
    "show_versions",
    "validate_hazards",
    "write_outputs",
    "zonal_sum",
]


def show_versions() -> None:
    """Print geomines', Python's and the geospatial stack's versions (for bug reports)."""
    from ._show_versions import show_versions as _show

    _show()


def __getattr__(name: str):  # lazy: folium and the writers load only when used
    if name == "exposure_map":
        from .maps import exposure_map

        return exposure_map
    if name == "write_outputs":
        from .export import write_outputs

        return write_outputs
    raise AttributeError(f"module 'geomines' has no attribute {name!r}")
