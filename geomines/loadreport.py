"""The load report: an account of every input row of a hazard layer, and the warnings
that carry it to the user.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import LoadWarning


@dataclass
class RowIssue:
    """One row that was repaired or excluded."""

    row: int
    hazard_id: str
    action: str  # "repaired" | "excluded"
    reason: str


@dataclass
class LoadReport:
    """Accounts for every input row of a hazard layer.

    Printing it gives a readable summary; :meth:`to_dict` gives JSON.
    """

    source: str
    path: str = ""
    driver: str = ""
    layer: str | None = None
    crs: str | None = None
    crs_note: str = ""
    rows: int = 0
    usable: int = 0
    repaired: int = 0
    excluded: int = 0
    points: int = 0
    lines: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    issues: list[RowIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    #: The notes that are also warnings (encoding fallback, legacy ``crs``, Z/M dropped, ...).
    warned: list[str] = field(default_factory=list)
    #: The text encoding the attributes were read in (None: not text-based or ASCII only).
    encoding: str | None = None
    encoding_declared: str | None = None
    #: Repeated input ids and the unique ids given to their rows (``H-1``, ``H-1#2``).
    duplicate_ids: dict[str, list[str]] = field(default_factory=dict)
    #: Ids of usable points and lines in a layer that also holds polygons.
    points_and_lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when at least one hazard geometry can be used."""
        return self.usable > 0

    def note(self, text: str, *, warn: bool = False) -> None:
        """Add a file-level note; ``warn`` also makes it a warning when loading ends."""
        self.notes.append(text)
        if warn:
            self.warned.append(text)

    @property
    def excluded_rows(self) -> list[dict[str, Any]]:
        """Rows excluded from the numbers: ``{"row", "hazard_id", "reason"}``."""
        return [
            {"row": i.row, "hazard_id": i.hazard_id, "reason": i.reason}
            for i in self.issues
            if i.action == "excluded"
        ]

    def add(self, row: int, hazard_id: str, action: str, reason: str) -> None:
        """Record a repaired or excluded row."""
        self.issues.append(RowIssue(row, hazard_id, action, reason))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "source": self.source,
            "driver": self.driver,
            "layer": self.layer,
            "crs": self.crs,
            "crs_note": self.crs_note,
            "rows": self.rows,
            "usable": self.usable,
            "repaired": self.repaired,
            "excluded": self.excluded,
            "points_without_area": self.points,
            "lines": self.lines,
            "columns": self.columns,
            "issues": [vars(i) for i in self.issues],
            "notes": self.notes,
            "unknown_values": self.unknown_values,
            "encoding": self.encoding,
            "duplicate_ids": self.duplicate_ids,
            "excluded_rows": self.excluded_rows,
            "points_and_lines": self.points_and_lines,
            "ok": self.ok,
        }

    def __str__(self) -> str:
        lines = [
            f"Hazards: {self.source}" + (f" (layer {self.layer})" if self.layer else ""),
            f"  format: {self.driver}; CRS: {self.crs}"
            + (f" ({self.crs_note})" if self.crs_note else ""),
            f"  rows: {self.rows}; usable: {self.usable} (of which repaired: {self.repaired}, "
            f"points without area: {self.points}, lines: {self.lines}); "
            f"excluded: {self.excluded}",
        ]
        if self.columns:
            mapped = ", ".join(f"{v} <- {k!r}" for k, v in self.columns.items())
            lines.append(f"  columns: {mapped}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        for col, vals in self.unknown_values.items():
            lines.append(f"  values outside the {col} vocabulary (kept as is): {', '.join(vals)}")
        for issue in self.issues:
            lines.append(f"  row {issue.row} [{issue.hazard_id}]: {issue.action}: {issue.reason}")
        lines.append("  result: " + ("usable" if self.ok else "NOT usable: no hazard geometry"))
        return "\n".join(lines)


def listing(items: list[str], limit: int = 10) -> str:
    """The first ``limit`` items and a count of the rest."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def warn_load(report: LoadReport, *, stacklevel: int = 3) -> None:
    """Warn (:class:`LoadWarning`) the file-level notes and the rows excluded or special.

    Each warning names the rows: the first ten ids, and how many more.
    """
    for text in report.warned:
        warnings.warn(f"{report.source}: {text}", LoadWarning, stacklevel=stacklevel)
    excluded = [f"{r['hazard_id']} (row {r['row']}: {r['reason']})" for r in report.excluded_rows]
    if excluded:
        warnings.warn(
            f"{report.source}: {len(excluded)} row(s) excluded from the numbers: "
            f"{listing(excluded)}. They stay in the outputs with load_status='excluded'.",
            LoadWarning,
            stacklevel=stacklevel,
        )
    if report.points_and_lines:
        warnings.warn(
            f"{report.source}: {len(report.points_and_lines)} point or line hazard(s) in a "
            f"polygon layer hold nobody inside (rings are measured from them): "
            f"{listing(report.points_and_lines)}. Give points a radius_m or area_m2 column "
            "to make them areas.",
            LoadWarning,
            stacklevel=stacklevel,
        )
