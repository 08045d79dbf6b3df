"""The engine interface and the engine on this machine (threads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..io.population import PopulationRaster
from .exact import LandRule, PixelRule, ZonalSums, zonal_sums
from .unions import UNION_TILE, UnionBuilder, UnionSum, union_sum, union_sums


class Engine(Protocol):
    """Computes sums for :func:`geomines.assess`: locally, or on Dask (same numbers)."""

    pixel_rule: PixelRule

    def sums(
        self, geoms: np.ndarray, raster: PopulationRaster, *, land_rule: LandRule = "land-first"
    ) -> ZonalSums:
        """People in each geometry."""
        ...

    def union(self, geoms: np.ndarray, raster: PopulationRaster) -> UnionSum:
        """People in the union of the geometries."""
        ...

    def unions(self, groups: Sequence[np.ndarray], raster: PopulationRaster) -> list[UnionSum]:
        """People in the union of each group."""
        ...

    def union_builder(
        self, raster: PopulationRaster, groups: int, *, tile: int | None = None
    ) -> Any:
        """Unions of several groups, fed batch by batch.

        An object with ``add(k, geoms)``, ``flush(keys, groups)`` and
        ``result(groups=None) -> list[UnionSum]``; ``tile`` asks for smaller union
        tiles (for unions whose totals alone are wanted: they close sooner).
        """
        ...

    def total(self, raster: PopulationRaster) -> float:
        """All the people in the raster."""
        ...


@dataclass
class LocalEngine:
    """The engine on this machine, with threads (:func:`zonal_sums`, :func:`union_sum`).

    ``union_tile`` and ``window_px`` default to :data:`UNION_TILE` and
    :data:`MAX_WINDOW_PIXELS`.
    """

    pixel_rule: PixelRule = "exact"
    union_tile: int | None = None
    window_px: int | None = None

    def sums(
        self, geoms: np.ndarray, raster: PopulationRaster, *, land_rule: LandRule = "land-first"
    ) -> ZonalSums:
        """People in each geometry."""
        return zonal_sums(
            geoms,
            raster,
            pixel_rule=self.pixel_rule,
            max_window_pixels=self.window_px,
            land_rule=land_rule,
        )

    def union(self, geoms: np.ndarray, raster: PopulationRaster) -> UnionSum:
        """People in the union of the geometries."""
        return union_sum(geoms, raster, pixel_rule=self.pixel_rule, tile=self.union_tile)

    def unions(self, groups: Sequence[np.ndarray], raster: PopulationRaster) -> list[UnionSum]:
        """People in the union of each group, counted in one pass."""
        return union_sums(groups, raster, pixel_rule=self.pixel_rule, tile=self.union_tile)

    def union_builder(
        self, raster: PopulationRaster, groups: int, *, tile: int | None = None
    ) -> UnionBuilder:
        """Unions of ``groups`` groups, fed batch by batch (bounded memory).

        A ``tile`` smaller than the engine's union tile gives smaller tiles (any size
        is exact).
        """
        side = self.union_tile or UNION_TILE
        return UnionBuilder(
            raster, groups, pixel_rule=self.pixel_rule, tile=min(tile, side) if tile else side
        )

    def total(self, raster: PopulationRaster) -> float:
        """All the people in the raster."""
        return raster.total()
