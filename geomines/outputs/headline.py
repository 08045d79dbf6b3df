"""Headline numbers: rounded for display by one stated rule (files keep full precision)."""

from __future__ import annotations

from typing import Any

from ..assessment.result import Assessment

#: How headline numbers are rounded for display (files keep full precision).
HEADLINE_RULE = (
    "rounded to the nearest 10 below 1,000, to the nearest 100 below 100,000, "
    "and to the nearest 1,000 above; rounded parts may not add up to the "
    "rounded total"
)


def round_headline(value: float) -> int:
    """Round a people count for display by :data:`HEADLINE_RULE`.

    Examples
    --------
    >>> round_headline(2319.4), round_headline(8726), round_headline(111938)
    (2320, 8700, 112000)
    """
    step = 10 if value < 1_000 else 100 if value < 100_000 else 1_000
    return int(round(value / step) * step)


def headline(assessment: Assessment) -> dict[str, Any]:
    """Rounded headline numbers with the rule stated."""
    within = {k: round_headline(v) for k, v in assessment.totals["within_m"].items()}
    return {
        "people_inside": round_headline(assessment.totals["inside"]),
        "people_within_m": within,
        "rule": HEADLINE_RULE,
    }
