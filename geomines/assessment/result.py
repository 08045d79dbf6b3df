"""The result of an assessment: the :class:`Assessment` and the way its numbers are named
and written (ring column names, the JSON summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._version import __version__
from ..engine.rings import format_m
from ..io.population import PopulationRaster
from ..loadreport import LoadReport
from ..shapes import shape_kinds
from ..uncertainty.sources import range_of
from .records import Checks, Method, Totals

STATUSES = ("open", "cancelled", "reduced", "cleared")


def ring_column(distance_m: float) -> str:
    """Column name for people within a distance: ``people_within_500m``."""
    return f"people_within_{format_m(distance_m)}m"


@dataclass
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    hazards : geopandas.GeoDataFrame
        One row per input hazard (input CRS) with ``counted``, ``people_inside``
        and ``people_within_<d>m`` (cumulative, inside included).
    bands : geopandas.GeoDataFrame
        Exclusive bands around the dissolved counted hazards (EPSG:4326):
        ``band``, ``from_m``, ``to_m``, ``people``.
    totals : Totals
        ``inside``, ``within_m`` ({500.0: people, ...}, cumulative) and
        ``population`` (the raster's total).
    by_admin : pandas.DataFrame or None
        One row per admin unit plus one for people outside every unit.
    by_class : pandas.DataFrame
        Dissolved people per land class × contamination × status (groups overlap).
    by_precedence : pandas.DataFrame
        People inside CHA, then SHA, then other land, then each ring band: each
        person once, in the highest class that covers them; adds up to the total.
    checks : Checks
        Reconciliation and data-quality checks.
    method : Method
        What was counted and how.
    communities : geopandas.GeoDataFrame or None
        One row per place (``places=``), sorted by ``nearest_hazard_m``.
    priority : pandas.DataFrame or None
        The priority list of the counted hazards, by ``rank``, with each criterion's
        raw value and points.
    priority_profile : Profile or None
        The criteria, weights and normalisation that ranked them.
    """

    hazards: gpd.GeoDataFrame
    bands: gpd.GeoDataFrame
    totals: Totals
    rings_m: tuple[float, ...]
    population: PopulationRaster
    method: Method
    checks: Checks
    by_admin: pd.DataFrame | None = None
    admin: gpd.GeoDataFrame | None = None
    by_class: pd.DataFrame | None = None
    by_precedence: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: How the hazard file was read (None for a hand-made frame).
    load_report: LoadReport | None = None
    communities: gpd.GeoDataFrame | None = None
    priority: pd.DataFrame | None = None
    priority_profile: Any = None
    #: The population grids counted (the main one first), each with its numbers.
    sources: list[Any] = field(default_factory=list)
    #: People within each distance of the curve (``distance_m``, ``people_within``).
    curve: pd.DataFrame | None = None
    #: People by sex and age bin, inside and within each ring (``age_sex=``).
    by_age_sex: pd.DataFrame | None = None

    @property
    def people_inside(self) -> float:
        """People inside the dissolved counted hazards."""
        return float(self.totals.inside)

    def people_within(self, distance_m: float) -> float:
        """People within ``distance_m`` of the dissolved counted hazards (inside included)."""
        return float(self.totals.within_m[float(distance_m)])

    @property
    def band_table(self) -> pd.DataFrame:
        """The exclusive bands as a table, with a cumulative column and a total row."""
        table = pd.DataFrame(self.bands.drop(columns="geometry"))
        table["cumulative"] = table["people"].cumsum()
        return table

    def summary(self) -> dict[str, Any]:
        """The JSON summary written to ``summary.json``."""
        within = {format_m(k): float(v) for k, v in self.totals.within_m.items()}
        out: dict[str, Any] = {
            "geomines_version": __version__,
            "people": {
                "inside": float(self.totals.inside),
                "within_m": within,
                "rings": [
                    {"band": b, "from_m": _none(f), "to_m": _none(t), "people": float(p)}
                    for b, f, t, p in zip(
                        self.bands["band"],
                        self.bands["from_m"],
                        self.bands["to_m"],
                        self.bands["people"],
                        strict=True,
                    )
                ],
                "sum_of_per_hazard_inside": float(
                    self.hazards.loc[self.hazards["counted"], "people_inside"].sum()
                ),
            },
            "hazards": {
                "count": len(self.hazards),
                "counted": int(self.hazards["counted"].sum()),
                "by_status": {
                    str(k): int(v)
                    for k, v in self.hazards["status"].value_counts().sort_index().items()
                },
                "by_land_class": {
                    str(k): int(v)
                    for k, v in self.hazards["land_class"].value_counts().sort_index().items()
                },
                "excluded": int((self.hazards["load_status"] == "excluded").sum()),
                "repaired": int((self.hazards["load_status"] == "repaired").sum()),
                **self._load_notes(),
            },
            "population": {
                "total": float(self.totals.population),
                **self.population.describe(),
            },
            "checks": self.checks.to_dict(),
            "method": self.method.to_dict(),
        }
        if self.by_admin is not None:
            out["by_admin"] = _records(self.by_admin)
        if self.by_precedence is not None:
            out["by_class_precedence"] = _records(self.by_precedence)
        if self.by_class is not None:
            out["by_class"] = _records(self.by_class)
        out.update(self._where_first())
        if self.sources:
            out["sources"] = [
                {"name": s.name, "file": s.file, "people": s.people} for s in self.sources
            ]
            out["range"] = range_of(self.sources, self.rings_m)
        if self.by_age_sex is not None:
            out["people"].update(self._age_sex())
        if self.curve is not None:
            out["curve"] = [
                {"distance_m": float(d), "people_within": float(p)}
                for d, p in zip(self.curve["distance_m"], self.curve["people_within"], strict=True)
            ]
        return out

    def _age_sex(self) -> dict[str, Any]:
        """``by_age_sex`` rows, children under 5 and under 15, and the check of the sum."""
        from ..uncertainty.age_sex import children

        table = self.by_age_sex
        assert table is not None
        rows = [
            {k: (None if v is pd.NA else v) for k, v in rec.items()}
            for rec in table.astype(object).to_dict(orient="records")
        ]
        return {
            "by_age_sex": {"rows": rows, "sum_vs_total": self.extra.get("age_sex_check")},
            "children_under_5": children(table, 5),
            "children_under_15": children(table, 15),
        }

    def _where_first(self) -> dict[str, Any]:
        """The priority profile and top of the list; the communities by band."""
        out: dict[str, Any] = {}
        if self.priority is not None and self.priority_profile is not None:
            top = self.priority.head(20)
            out["priority"] = {
                **self.priority_profile.to_dict(),
                "hazards_ranked": len(self.priority),
                "top": [
                    {
                        "rank": int(r),
                        "hazard_id": str(h),
                        "score": float(sc),
                        "tier": int(t),
                        "why": str(w),
                    }
                    for r, h, sc, t, w in zip(
                        top["rank"],
                        top["hazard_id"],
                        top["score"],
                        top["tier"],
                        top["why"],
                        strict=True,
                    )
                ],
            }
        if self.communities is not None:
            frame = self.communities
            bands = [str(b) for b in self.bands["band"]] + ["beyond"]
            counts = frame["band"].value_counts()
            people = frame.groupby("band")["people"].sum(min_count=1)
            out["communities"] = {
                "places": len(frame),
                "by_band": [
                    {
                        "band": b,
                        "places": int(counts.get(b, 0)),
                        "people": _none(float(people.get(b, np.nan))),
                    }
                    for b in bands
                ],
            }
        if "feature_counts" in self.extra:
            out["features"] = {str(k): int(v) for k, v in self.extra["feature_counts"].items()}
        return out

    def _load_notes(self) -> dict[str, Any]:
        """What loading noted and which rows it excluded or found special, by id."""
        frame = self.hazards
        excluded = frame["load_status"].to_numpy() == "excluded"
        rows = [
            {"row": int(i) + 1, "hazard_id": str(h), "reason": str(n)}
            for i, (h, n) in enumerate(zip(frame["hazard_id"], frame["load_note"], strict=True))
            if excluded[i]
        ]
        kinds = shape_kinds(frame)  # a point whose circle is built where used: an area
        polygonal = np.char.find(kinds.astype(str), "Polygon") >= 0
        special = ~excluded & ~polygonal & (kinds != "")
        report = self.load_report
        return {
            "notes": list(report.notes) if report is not None else [],
            "encoding": report.encoding if report is not None else None,
            "duplicate_ids": dict(report.duplicate_ids) if report is not None else {},
            "excluded_rows": rows,
            "points_and_lines": [str(h) for h in frame.loc[special, "hazard_id"]]
            if polygonal[~excluded].any()
            else [],
            "outside_raster": list(self.extra.get("outside_raster", [])),
        }

    def _repr_html_(self) -> str:
        rows = [("People inside counted hazards", self.totals.inside)]
        for d in self.rings_m:
            rows.append((f"People within {format_m(d)} m", self.people_within(d)))
        rows.append(("Population in raster", self.totals.population))
        body = "".join(
            f"<tr><th style='text-align:left'>{label}</th><td>{value:,.0f}</td></tr>"
            for label, value in rows
        )
        return (
            "<table><caption>geomines assessment: "
            f"{int(self.hazards['counted'].sum())} of {len(self.hazards)} hazards counted"
            f"</caption>{body}</table>"
        )


def _none(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append(
            {
                k: (
                    None
                    if isinstance(v, float) and np.isnan(v)
                    else (float(v) if isinstance(v, np.floating) else v)
                )
                for k, v in rec.items()
            }
        )
    return out
