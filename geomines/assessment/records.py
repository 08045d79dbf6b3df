"""The typed records of an assessment: totals, checks, method, and reconciliations.

Each is a frozen dataclass; it also reads as the mapping that ``summary.json`` holds
(``record["field"]``, ``dict(record)``, :meth:`~_Record.to_dict`), with ring distances
keyed by number in Python and by :func:`geomines.format_m` text in files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..engine.rings import format_m

__all__ = ["RTOL", "Checks", "Method", "Reconciliation", "Totals"]

#: Largest relative difference a reconciliation passes with (float rounding is ~1e-12).
RTOL = 1e-6


@dataclass(frozen=True)
class Reconciliation:
    """Disjoint parts, each counted from its own geometry, against the whole.

    Attributes
    ----------
    parts : float
        Σ people of the parts.
    whole : float
        People of the whole, counted independently.
    what : str
        What the parts and the whole are.
    """

    parts: float
    whole: float
    what: str = ""

    @property
    def relative_difference(self) -> float:
        """``|parts − whole| / whole`` (absolute difference when the whole is 0)."""
        diff = abs(self.parts - self.whole)
        return diff / abs(self.whole) if self.whole else diff

    @property
    def ok(self) -> bool:
        """Whether the parts add up to the whole within :data:`RTOL`."""
        return bool(self.relative_difference <= RTOL or abs(self.parts - self.whole) < 1e-6)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``ok``, ``parts``, ``whole``, ``relative_difference``, ``what``."""
        return {
            "ok": self.ok,
            "parts": float(self.parts),
            "whole": float(self.whole),
            "relative_difference": float(self.relative_difference),
            "what": self.what,
        }

    def __bool__(self) -> bool:
        return self.ok


class _Record(Mapping[str, Any]):
    """A frozen record that also reads like the JSON it is written as.

    ``record.field`` is the typed value; ``record["field"]``, ``dict(record)`` and
    :meth:`to_dict` give what the files hold (ring distances as text keys by
    :func:`geomines.format_m`, reconciliations as dicts, absent values left out).
    """

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, as written to ``summary.json``."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            out[f.name] = _json_ready(value)
        return out

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def _json_ready(value: Any) -> Any:
    if isinstance(value, Reconciliation):
        return value.to_dict()
    if isinstance(value, dict):
        return {format_m(k) if isinstance(k, float | int) else k: v for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class Totals(_Record):
    """The dissolved people: inside the counted hazards, within each ring distance (keyed by
    metres, cumulative, inside included), and in the whole raster.
    """

    inside: float
    within_m: dict[float, float]
    population: float


@dataclass(frozen=True)
class Checks(_Record):
    """Data-quality facts and the reconciliations that can fail (see :mod:`.checks`)."""

    sum_of_per_hazard_inside: float
    double_counting_factor: float | None
    hazards_smaller_than_one_pixel: int
    share_of_hazard_area_outside_raster: float
    share_of_hazard_area_on_nodata: float
    classes_add_up: Reconciliation | None = None
    bands_add_up: Reconciliation | None = None
    admin_units_add_up: Reconciliation | None = None
    people_outside_every_admin_unit: float | None = None
    admin_units_overlap: bool | None = None


@dataclass(frozen=True)
class Method(_Record):
    """What was counted and how (``summary.json``'s ``method``, the report's Method table)."""

    question: str
    counted_statuses: tuple[str, ...]
    dissolve_rule: str
    rings_m: tuple[float, ...]
    ring_construction: str
    pixel_rule: str
    pixel_rule_text: str
    population_source: str
    population_sha256: str | None
    population_crs: str
    population_resolution: tuple[float, float]
    population_units: str
    vectors_moved_to_raster_crs: bool
    raster_resampled: bool
    hazard_source: str | None
    hazards_counted: int
    geomines_version: str
    share_of_hazard_area_on_nodata: float
    share_of_hazard_area_outside_raster: float
    command: str | None = None
