"""The engine interface, and the engine on this machine (threads)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .core import PartitionedEngine

#: What :func:`geomines.assess` runs on: :class:`LocalEngine` or
#: :class:`~geomines.engine.dask.DaskEngine`, one class with one set of tasks (see
#: :mod:`geomines.engine.core`); the interface is :class:`PartitionedEngine`'s.
Engine: TypeAlias = PartitionedEngine


@dataclass
class LocalEngine(PartitionedEngine):
    """The engine on this machine: the grid whole, the tasks run by ``executor``: each
    at once (:class:`~geomines.engine.executors.InlineExecutor`, the default here), or
    on task threads as their inputs are ready
    (:class:`~geomines.engine.executors.ThreadedExecutor`, what :func:`geomines.assess`
    uses with more than one thread); their work is spread over the shared thread pool.

    The same tasks as :class:`geomines.engine.dask.DaskEngine` (see
    :mod:`geomines.engine.core`); ``union_tile`` and ``window_px`` default to
    :data:`~geomines.engine.unions.UNION_TILE` and
    :data:`~geomines.engine.exact.MAX_WINDOW_PIXELS`.
    """
