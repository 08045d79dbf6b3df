"""Write a change: change.json, change.csv, released.geojson, the map and the report."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..engine.executors import release_memory
from ..outputs import prepare_dir
from ..outputs.geojson import json_value, to_geojson
from ..outputs.headline import HEADLINE_RULE, round_headline
from ..outputs.report import CSS, template, write_streamed
from ..outputs.tables import write_table
from .compare import Change

__all__ = [
    "CHANGE_FILES",
    "TIMELINE_FILES",
    "change_summary",
    "headline_text",
    "write_change",
    "write_timeline",
]

#: Files written by :func:`write_change`.
CHANGE_FILES = (
    "change.json",
    "change.csv",
    "change_by_admin.csv",
    "released.geojson",
    "map.html",
    "report.html",
)


def headline_text(change: Change) -> str:
    """``N people no longer live inside (within d of) counted hazards``, rounded."""
    inside = change.people["inside"]["released"]
    text = f"{round_headline(inside):,} people no longer live inside counted hazards"
    rings = change.people["within_m"]
    if rings:
        d = max(rings, key=float)
        text += f" ({round_headline(rings[d]['released']):,} no longer within {d} m of them)"
    return text


def change_summary(change: Change) -> dict[str, Any]:
    """What ``change.json`` holds."""
    steps = change.transitions
    return {
        "geomines_version": __version__,
        "headline": {
            "text": headline_text(change),
            "released_inside": round_headline(change.people["inside"]["released"]),
            "rule": HEADLINE_RULE,
        },
        "people": change.people,
        "hazards": {
            "before": {
                "count": len(change.before.hazards),
                "counted": int(change.before.hazards["counted"].sum()),
            },
            "after": {
                "count": len(change.after.hazards),
                "counted": int(change.after.hazards["counted"].sum()),
            },
            "matched": len(change.ids["matched"]),
            "released_ids": change.ids["released"],
            "new": change.ids["new"],
            "only_before": change.ids["only_before"],
            "only_after": change.ids["only_after"],
            "transitions": steps.to_dict(orient="records"),
        },
        "released_land": [
            {"transition": t, "people": float(p), "area_m2": float(a)}
            for t, p, a in zip(
                change.released["transition"],
                change.released["people"],
                change.released["area_m2"],
                strict=True,
            )
        ],
        "checks": {k: v.to_dict() for k, v in change.checks.items()},
        "method": change.method,
        **(
            {"by_admin": change.by_admin.to_dict(orient="records")}
            if change.by_admin is not None
            else {}
        ),
    }


def write_change(
    change: Change,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    write_map: bool = True,
    write_report: bool = True,
    hxl: bool = False,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write every output of a change into a directory (see :data:`CHANGE_FILES`)."""
    out = Path(out_dir)
    prepare_dir(out, overwrite, CHANGE_FILES)
    written: dict[str, Path] = {"change.json": out / "change.json"}
    written["change.json"].write_text(
        json.dumps(
            change_summary(change),
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
            default=json_value,
        ),
        encoding="utf-8",
    )
    columns = [
        "hazard_id", "status_before", "status_after", "area_before_m2", "area_after_m2",
        "people_inside_before", "people_inside_after", "people_released_inside",
        "counted_before", "counted_after", "geometry_changed",
    ]  # fmt: skip
    write_table(change.hazards[columns], out / "change.csv", hxl)
    written["change.csv"] = out / "change.csv"
    if change.by_admin is not None:
        write_table(change.by_admin, out / "change_by_admin.csv", hxl)
        written["change_by_admin.csv"] = out / "change_by_admin.csv"
    written["released.geojson"] = to_geojson(
        change.released,
        out / "released.geojson",
        id_column=None,
        foreign={"geomines": change.method},
    )
    if write_map:
        from ..maps.change import change_map

        written["map.html"] = out / "map.html"
        change_map(change).save(str(written["map.html"]))
        release_memory()
    if write_report:
        token = f"geomines-map-{uuid.uuid4().hex}" if write_map else None
        written["report.html"] = write_streamed(
            template("change.html.j2"),
            _context(change, token, provenance or {}),
            out / "report.html",
            token,
            written.get("map.html"),
        )
    return written


def _n(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:,.0f}"
    return str(value)


def _table(frame: pd.DataFrame, columns: dict[str, str]) -> dict[str, Any]:
    cols = [c for c in columns if c in frame.columns]
    return {
        "headers": [columns[c] for c in cols],
        "rows": [[_n(v) for v in rec] for rec in frame[cols].itertuples(index=False)],
    }


def _context(change: Change, token: str | None, provenance: dict[str, Any]) -> dict[str, Any]:
    rows = [("inside counted hazards", change.people["inside"])] + [
        (f"within {d} m", row) for d, row in change.people["within_m"].items()
    ]
    people = pd.DataFrame(
        [{"layer": name, **row} for name, row in rows],
        columns=["layer", "before", "released", "newly_exposed", "after"],
    )
    ids = change.ids
    hz = change.before.hazards
    return {
        "css": CSS,
        "version": __version__,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "fictional": "fictional" in hz.columns
        and hz["fictional"].astype(str).str.lower().eq("true").any(),
        "headline": headline_text(change),
        "headline_rule": HEADLINE_RULE,
        "cards": [
            {"value": round_headline(row["released"]), "label": f"released, {name}"}
            for name, row in rows
        ]
        + [
            {
                "value": round_headline(change.people["inside"]["newly_exposed"]),
                "label": "newly inside counted hazards",
            }
        ],
        "people": _table(
            people,
            {
                "layer": "people",
                "before": "before",
                "released": "released",
                "newly_exposed": "newly exposed",
                "after": "after",
            },
        ),
        "map_html": token,
        "transitions": _table(
            change.transitions,
            {
                "transition": "transition",
                "hazards": "hazards",
                "geometry_changed": "geometry changed",
                "area_before_m2": "area before m²",
                "area_after_m2": "area after m²",
                "people_released_inside": "people released (per hazard, may overlap)",
            },
        ),
        "released": _table(
            change.released, {"transition": "how", "people": "people", "area_m2": "area m²"}
        ),
        "hazard_text": (
            f"{len(change.before.hazards)} hazards before, {len(change.after.hazards)} after; "
            f"{len(ids['matched'])} matched by id. Released (counted before, not after): "
            f"{', '.join(ids['released']) or 'none'}. Only before: "
            f"{', '.join(ids['only_before']) or 'none'}. Only after: "
            f"{', '.join(ids['only_after']) or 'none'}."
        ),
        "by_admin": _table(change.by_admin, {c: c.replace("_", " ") for c in change.by_admin})
        if change.by_admin is not None
        else None,
        "checks": [
            (k, f"{'ok' if v.ok else 'FAILED'} (relative difference {v.relative_difference:.2e})")
            for k, v in change.checks.items()
        ],
        "method": [
            (k, json.dumps(v, default=json_value) if isinstance(v, dict | list) else v)
            for k, v in {**change.method, **provenance}.items()
        ],
    }


#: Files written by :func:`write_timeline`.
TIMELINE_FILES = ("timeline.csv", "report.html")
LINE_COLORS = ["#b2182b", "#ef8a62", "#67a9cf", "#2166ac", "#1b7837", "#762a83"]


def _line_chart(table: pd.DataFrame, columns: list[str], labels: dict[str, str]) -> dict:
    """Series of points for an inline SVG line chart, one series per column."""
    left, top, width, height = 70, 20, 560, 260
    right, bottom = left + width, top + height
    peak = float(table[columns].to_numpy(float).max()) if len(table) else 0.0
    peak = peak if peak > 0 else 1.0
    n = len(table)

    def x(i: int) -> float:
        return left + (width * i / (n - 1) if n > 1 else width / 2)

    def y(v: float) -> float:
        return bottom - height * v / peak

    series = []
    for k, col in enumerate(columns):
        values = table[col].to_numpy(float)
        dots = [
            {"x": x(i), "y": y(v), "title": f"{table['snapshot'].iloc[i]}: {v:,.0f}"}
            for i, v in enumerate(values)
        ]
        series.append(
            {
                "color": LINE_COLORS[k % len(LINE_COLORS)],
                "points": " ".join(f"{d['x']:.1f},{d['y']:.1f}" for d in dots),
                "dots": dots,
                "label": labels.get(col, col),
                "label_y": dots[-1]["y"] if dots else top,
            }
        )
    ticks = [peak * f for f in (0, 0.25, 0.5, 0.75, 1.0)]
    return {
        "left": left, "top": top, "right": right, "bottom": bottom,
        "width": right + 110, "height": bottom + 30,
        "series": series,
        "yticks": [{"y": y(t), "label": f"{t:,.0f}"} for t in ticks],
        "xticks": [
            {"x": x(i), "label": str(d) or str(s)}
            for i, (d, s) in enumerate(zip(table["date"], table["snapshot"], strict=True))
        ],
    }  # fmt: skip


def write_timeline(
    table: pd.DataFrame,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    write_report: bool = True,
    hxl: bool = False,
    statuses: tuple[str, ...] = ("open",),
    fictional: bool = False,
) -> dict[str, Path]:
    """``timeline.csv`` and a report with the chart."""
    out = Path(out_dir)
    prepare_dir(out, overwrite, TIMELINE_FILES)
    write_table(table, out / "timeline.csv", hxl)
    written = {"timeline.csv": out / "timeline.csv"}
    if write_report:
        labels = table.attrs.get("labels", {})
        columns = [c for c in labels if c in table.columns]
        context = {
            "css": CSS,
            "version": __version__,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "fictional": fictional,
            "chart": _line_chart(table, columns, labels),
            "statuses": ", ".join(statuses),
            "date_rule": "; ".join(
                f"{s}: {src}"
                for s, src in zip(table["snapshot"], table["date_source"], strict=True)
            ),
            "headers": list(table.columns),
            "rows": [[_n(v) for v in rec] for rec in table.itertuples(index=False)],
        }
        written["report.html"] = write_streamed(
            template("timeline.html.j2"), context, out / "report.html", None, None
        )
    return written
