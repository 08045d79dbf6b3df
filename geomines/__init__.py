"""geomines: how many people live inside, and near, land contaminated by explosive ordnance.

The public API::

    hazards = geomines.read_hazards("hazards.gpkg")
    population = geomines.read_population("worldpop.tif")
    result = geomines.assess(hazards, population, rings_m=(500, 1000, 5000))
    result.totals, result.hazards, result.bands, result.by_admin
    geomines.write_outputs(result, "out/")

Everything below is importable from ``geomines``; the modules load when first used
(the errors and warnings load at once).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    CoverageWarning,
    CRSError,
    GeominesError,
    GeominesWarning,
    InputError,
    InvalidGeometryError,
    LoadWarning,
    MissingDependencyError,
    NodataWarning,
    NoOverlapError,
    OutputError,
    RasterError,
    RepairWarning,
    ReprojectionWarning,
)

if TYPE_CHECKING:  # what IDEs and type checkers see of the lazy exports
    from .assessment import Assessment, assess, ring_column
    from .assessment.records import Checks, Method, Reconciliation, Totals
    from .change.compare import Change, compare
    from .change.outputs import write_change, write_timeline
    from .change.timeline import timeline
    from .engine import (
        Engine,
        LocalEngine,
        PartitionedEngine,
        UnionSum,
        ZonalSum,
        ZonalSums,
        coverage_fractions,
        union_sum,
        union_sums,
        zonal_sum,
        zonal_sums,
    )
    from .engine.dask import DaskEngine, PartitionError, local_client
    from .engine.rings import area_m2, buffer_m, buffers_m, format_m, parse_rings
    from .hazards import LoadedHazards, load_hazards, read_hazards, validate_hazards
    from .io.population import PopulationRaster, read_population
    from .io.vector import read_vector
    from .loadreport import LoadReport
    from .maps import exposure_map
    from .outputs import write_outputs
    from .outputs.geojson import to_geojson
    from .outputs.headline import round_headline
    from .shapes import with_shapes

#: Each lazy export and the module that defines it.
_LAZY: dict[str, str] = {
    "Assessment": "assessment",
    "assess": "assessment",
    "ring_column": "assessment",
    "Reconciliation": "assessment.records",
    "Totals": "assessment.records",
    "Checks": "assessment.records",
    "Method": "assessment.records",
    "Engine": "engine",
    "LocalEngine": "engine",
    "PartitionedEngine": "engine",
    "UnionSum": "engine",
    "ZonalSum": "engine",
    "ZonalSums": "engine",
    "coverage_fractions": "engine",
    "union_sum": "engine",
    "union_sums": "engine",
    "zonal_sum": "engine",
    "zonal_sums": "engine",
    "DaskEngine": "engine.dask",
    "PartitionError": "engine.dask",
    "local_client": "engine.dask",
    "area_m2": "engine.rings",
    "buffer_m": "engine.rings",
    "buffers_m": "engine.rings",
    "format_m": "engine.rings",
    "parse_rings": "engine.rings",
    "read_hazards": "hazards",
    "load_hazards": "hazards",
    "LoadedHazards": "hazards",
    "validate_hazards": "hazards",
    "PopulationRaster": "io.population",
    "read_population": "io.population",
    "read_vector": "io.vector",
    "LoadReport": "loadreport",
    "exposure_map": "maps",
    "Change": "change.compare",
    "compare": "change.compare",
    "write_change": "change.outputs",
    "write_timeline": "change.outputs",
    "timeline": "change.timeline",
    "write_outputs": "outputs",
    "to_geojson": "outputs.geojson",
    "round_headline": "outputs.headline",
    "with_shapes": "shapes",
}

__all__ = [
    "Assessment",
    "CRSError",
    "Change",
    "Checks",
    "CoverageWarning",
    "DaskEngine",
    "Engine",
    "GeominesError",
    "GeominesWarning",
    "InputError",
    "InvalidGeometryError",
    "LoadReport",
    "LoadWarning",
    "LoadedHazards",
    "LocalEngine",
    "Method",
    "MissingDependencyError",
    "NoOverlapError",
    "NodataWarning",
    "OutputError",
    "PartitionError",
    "PartitionedEngine",
    "PopulationRaster",
    "RasterError",
    "Reconciliation",
    "RepairWarning",
    "ReprojectionWarning",
    "Totals",
    "UnionSum",
    "ZonalSum",
    "ZonalSums",
    "__version__",
    "area_m2",
    "assess",
    "buffer_m",
    "buffers_m",
    "compare",
    "coverage_fractions",
    "exposure_map",
    "format_m",
    "load_hazards",
    "local_client",
    "parse_rings",
    "read_hazards",
    "read_population",
    "read_vector",
    "ring_column",
    "round_headline",
    "show_versions",
    "timeline",
    "to_geojson",
    "union_sum",
    "union_sums",
    "validate_hazards",
    "with_shapes",
    "write_change",
    "write_outputs",
    "write_timeline",
    "zonal_sum",
    "zonal_sums",
]


def show_versions() -> None:
    """Print geomines', Python's and the geospatial stack's versions (for bug reports)."""
    from ._show_versions import show_versions as _show

    _show()


def __getattr__(name: str) -> Any:
    """Load a lazy export on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'geomines' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
