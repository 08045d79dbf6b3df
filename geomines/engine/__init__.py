"""The exact engine: sums by Green's theorem, unions tile by tile, rings in metres, and
one interface for running them on local threads or a Dask cluster.
"""

from __future__ import annotations

from .core import PartitionedEngine, UnionBuilder, union_sum, union_sums
from .exact import (
    PIXEL_RULES,
    PixelRule,
    ZonalSum,
    ZonalSums,
    coverage_fractions,
    zonal_sum,
    zonal_sums,
)
from .executors import Executor, InlineExecutor, ThreadedExecutor
from .local import Engine, LocalEngine
from .unions import UnionSum

__all__ = [
    "PIXEL_RULES",
    "Engine",
    "Executor",
    "InlineExecutor",
    "LocalEngine",
    "PartitionedEngine",
    "PixelRule",
    "ThreadedExecutor",
    "UnionBuilder",
    "UnionSum",
    "ZonalSum",
    "ZonalSums",
    "coverage_fractions",
    "union_sum",
    "union_sums",
    "zonal_sum",
    "zonal_sums",
]
