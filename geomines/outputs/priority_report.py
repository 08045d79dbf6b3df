"""The report's "Where to go first" and "Communities near hazards" sections."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..assessment.result import Assessment, ring_column
from ..engine.rings import format_m
from ..priorities.profile import label

__all__ = ["TOP", "where_first_sections"]

#: Hazards shown in "Where to go first"; places shown in "Communities near hazards".
TOP = 20
PLACES = 50


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 10 else f"{value:.3g}"
    return str(value)


def _section(title: str, text: str, frame: pd.DataFrame, columns: dict[str, str]) -> dict:
    cols = [c for c in columns if c in frame.columns]
    rows = [[_cell(v) for v in rec] for rec in frame[cols].itertuples(index=False)]
    return {
        "title": title,
        "text": text,
        "table": {"headers": [columns[c] for c in cols], "rows": rows},
    }


def where_first_sections(assessment: Assessment) -> list[dict[str, Any]]:
    """Sections for the report template: title, text, and a table each."""
    out = []
    table, profile = assessment.priority, assessment.priority_profile
    if table is not None and profile is not None and len(table):
        criteria = "; ".join(
            f"{label(c.name)} (weight {c.weight:g}, "
            + (
                ", ".join(f"{k} {v:g}" for k, v in c.values.items())
                if c.values is not None
                else f"{c.direction} first"
            )
            + ")"
            for c in profile.criteria
        )
        near = ring_column(min(assessment.rings_m)) if assessment.rings_m else "people_inside"
        text = (
            f"The {len(table)} counted hazards ranked by the {profile.source} priority profile: "
            f"{criteria}. Each criterion gives weight × its value normalised by "
            f"{profile.to_dict()['normalisation_text']}; the score is the sum, ties go to the "
            f"smaller hazard id. Tier 1 is the first {profile.tiers[0]:.0%} of the list, "
            f"tier 2 the next, to {profile.tiers[1]:.0%}. The first {min(TOP, len(table))}, "
            "with the points each criterion gave (priority.csv has them all):"
        )
        columns = {
            "rank": "rank",
            "hazard_id": "hazard",
            "score": "score",
            "tier": "tier",
            near: label(near),
            "why": "why",
        }
        out.append(_section("Where to go first", text, table.head(TOP), columns))
    places = assessment.communities
    if places is not None and len(places):
        reach = format_m(max(assessment.rings_m)) if assessment.rings_m else "0"
        near_rows = places[~places["band"].isin(["beyond", ""])]
        counts = places["band"].value_counts()
        by_band = ", ".join(f"{b}: {int(n)}" for b, n in counts.items() if b)
        text = (
            f"{len(near_rows)} of {len(places)} places lie inside or within {reach} m of a "
            f"counted hazard ({by_band}). Distances are metres on the ground (WGS 84 "
            "ellipsoid) from the place (its boundary, for polygons) to the nearest counted "
            f"hazard. The nearest {min(PLACES, len(near_rows))} (communities.csv has every place):"
        )
        columns = {
            "place_name": "place",
            "place_id": "id",
            "nearest_hazard_id": "nearest hazard",
            "nearest_hazard_m": "metres",
            "band": "band",
            **{
                f"hazards_within_{format_m(d)}m": f"hazards within {format_m(d)} m"
                for d in assessment.rings_m
            },
            "people": "people",
            "admin_id": "admin unit",
        }
        out.append(_section("Communities near hazards", text, near_rows.head(PLACES), columns))
    return out
