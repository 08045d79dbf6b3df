"""The report's range across population grids: a sentence and a chart per number."""

from __future__ import annotations

from typing import Any

from ..assessment.result import Assessment
from ..engine.rings import format_m
from ..uncertainty.sources import range_of
from .charts import bar_chart, line_chart
from .headline import round_headline

__all__ = ["curve_chart", "range_text", "source_charts"]


def range_text(assessment: Assessment) -> str | None:
    """The range across grids in words (between X and Y people); None for one grid."""
    if len(assessment.sources) < 2:
        return None
    span = range_of(assessment.sources, assessment.rings_m)
    names = ", ".join(s.name for s in assessment.sources)

    def between(pair: list[float]) -> str:
        return f"between {round_headline(pair[0]):,} and {round_headline(pair[1]):,}"

    text = (
        f"{between(span['inside']).capitalize()} people live inside counted hazards, "
        f"depending on the population grid ({len(assessment.sources)} grids: {names}; "
        f"{assessment.sources[0].name} is the main one)"
    )
    for d in assessment.rings_m:
        text += f"; {between(span['within_m'][format_m(d)])} within {format_m(d)} m"
    return text + "."


def source_charts(assessment: Assessment) -> list[dict[str, Any]]:
    """One bar chart per number (inside, each ring), a bar per population grid."""
    if len(assessment.sources) < 2:
        return []
    names = [s.name for s in assessment.sources]
    charts = [
        bar_chart(
            names,
            [s.people["inside"] for s in assessment.sources],
            color="#636363",
            title="People inside counted hazards, by population grid",
        )
    ]
    for d in assessment.rings_m:
        charts.append(
            bar_chart(
                names,
                [s.people["within_m"][format_m(d)] for s in assessment.sources],
                color="#969696",
                title=f"People within {format_m(d)} m, by population grid",
            )
        )
    return charts


def curve_chart(assessment: Assessment) -> list[dict[str, Any]]:
    """The distance curve as a line chart (none without a curve)."""
    curve = assessment.curve
    if curve is None or not len(curve):
        return []
    distances = curve["distance_m"].astype(float).tolist()
    return [
        line_chart(
            {"people within": curve["people_within"].astype(float).tolist()},
            [f"{format_m(d)} m" for d in distances],
            x=distances,
            title="People within each distance of the dissolved counted hazards",
        )
    ]
