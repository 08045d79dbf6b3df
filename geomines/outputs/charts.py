"""Chart geometry for the reports' inline SVG (nothing fetched; print stays crisp)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LINE_COLORS", "bar_chart", "line_chart"]

LINE_COLORS = ["#b2182b", "#ef8a62", "#67a9cf", "#2166ac", "#1b7837", "#762a83"]


def bar_chart(
    labels: list[str], values: list[float], *, title: str, color: str = "#4a6fa5", width: int = 640
) -> dict[str, Any]:
    """A horizontal bar chart's geometry, for the template's inline SVG."""
    row, left, pad = 22, 190, 70
    finite = [v if np.isfinite(v) else 0.0 for v in values]
    top = max([*finite, 1.0])
    bars = [
        {
            "label": label if len(label) <= 28 else label[:27] + "…",
            "value": v,
            "width": (width - left - pad) * max(v, 0) / top,
            "y": 24 + i * row,
        }
        for i, (label, v) in enumerate(zip(labels, finite, strict=True))
    ]
    return {
        "title": title,
        "color": color,
        "width": width,
        "height": row * len(labels) + 30,
        "row": row,
        "left": left,
        "bars": bars,
    }


def line_chart(
    series: dict[str, list[float]],
    x_labels: list[str],
    *,
    title: str,
    x: list[float] | None = None,
    ticks: int = 6,
) -> dict[str, Any]:
    """A line chart's geometry (one line per series), for the templates' inline SVG.

    ``x``: positions of the points (default evenly spaced); ``x_labels`` label them,
    at most ``ticks`` labels shown.
    """
    left, top, width, height = 70, 30, 560, 240
    right, bottom = left + width, top + height
    values = [v for vs in series.values() for v in vs if np.isfinite(v)]
    peak = max([*values, 1.0])
    n = len(x_labels)
    xs = list(x) if x is not None else list(range(n))
    lo, hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    span = (hi - lo) or 1.0

    def px(v: float) -> float:
        return left + width * (v - lo) / span if n > 1 else left + width / 2

    def py(v: float) -> float:
        return bottom - height * v / peak

    lines = []
    for k, (label, vs) in enumerate(series.items()):
        dots = [
            {"x": px(xv), "y": py(v), "title": f"{xl}: {v:,.0f}"}
            for xv, xl, v in zip(xs, x_labels, vs, strict=True)
        ]
        lines.append(
            {
                "color": LINE_COLORS[k % len(LINE_COLORS)],
                "points": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots),
                "dots": dots if n <= 60 else [],
                "label": label,
                "label_y": dots[-1]["y"] if dots else top,
            }
        )
    every = max(1, int(np.ceil(n / ticks)))
    return {
        "title": title,
        "left": left, "top": top, "right": right, "bottom": bottom,
        "width": right + 120, "height": bottom + 34,
        "series": lines,
        "yticks": [
            {"y": py(peak * f), "label": f"{peak * f:,.0f}"} for f in (0, 0.25, 0.5, 0.75, 1)
        ],
        "xticks": [
            {"x": px(xs[i]), "label": x_labels[i]}
            for i in range(n)
            if i % every == 0 or i == n - 1
        ],
    }  # fmt: skip
