"""Chart geometry for the reports' inline SVG (nothing fetched; print stays crisp)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["bar_chart"]


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
