"""The assessment stage: :func:`assess` as named stages, its result, breakdowns and checks."""

from __future__ import annotations

from .result import Assessment, ring_column
from .stages import assess

__all__ = ["Assessment", "assess", "ring_column"]
