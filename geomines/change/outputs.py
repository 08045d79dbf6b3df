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
from ..outputs.charts import line_chart
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
            "chart": line_chart(
                {labels.get(c, c): table[c].to_numpy(float).tolist() for c in columns},
                [str(d) or str(s) for d, s in zip(table["date"], table["snapshot"], strict=True)],
                title="People by snapshot",
            ),
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
