"""The engine interface, and the engine on this machine (threads)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..io.population import PopulationRaster
from .core import PartitionedEngine
from .exact import LandRule, PixelRule, ZonalSums
from .unions import UnionSum


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

    def unions(
        self,
        groups: Sequence[np.ndarray],
        raster: PopulationRaster,
        *,
        derived: Sequence[Sequence[int]] = (),
    ) -> list[UnionSum]:
        """People in the union of each group (then of each ``derived`` list of groups)."""
        ...

    def union_builder(
        self,
        raster: PopulationRaster,
        groups: int,
        *,
        tile: int | None = None,
        pieces_of: Collection[int] = (),
    ) -> Any:
        """Unions of several groups, fed batch by batch.

        An object with ``add(k, geoms)``, ``add_buffers(batch, members)``,
        ``flush(keys, groups)``, ``result(groups=None) -> list[UnionSum]`` and
        ``side``; ``tile`` asks for smaller union tiles (for unions whose totals alone
        are wanted: they close sooner), except for the groups in ``pieces_of``.
        """
        ...

    def buffer_batch(
        self, geoms: np.ndarray, crs: Any, distance: float, raster: PopulationRaster
    ) -> Any:
        """A handle on a batch of hazards buffered by ``distance`` metres on the grid."""
        ...

    def batch_people(self, batch: Any, raster: PopulationRaster) -> Any:
        """A handle on the people within each buffer of a batch."""
        ...

    def gather(self, handles: list[Any]) -> list[Any]:
        """The values of handles."""
        ...

    @property
    def lookahead(self) -> int:
        """Batches worth starting ahead of the one being merged."""
        ...

    def total(self, raster: PopulationRaster) -> float:
        """All the people in the raster."""
        ...


@dataclass
class LocalEngine(PartitionedEngine):
    """The engine on this machine: the grid whole, each task run at once on threads.

    The same tasks as :class:`geomines.engine.dask.DaskEngine` (see
    :mod:`geomines.engine.core`); ``union_tile`` and ``window_px`` default to
    :data:`~geomines.engine.unions.UNION_TILE` and
    :data:`~geomines.engine.exact.MAX_WINDOW_PIXELS`.
    """
