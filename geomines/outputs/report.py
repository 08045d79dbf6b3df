"""A readable, printable, self-contained HTML report of an assessment.

Headline numbers, charts (inline SVG, so nothing is fetched and print is crisp),
the map embedded, the tables, caveats generated from the data, and provenance
(input files with sizes and SHA-256, versions, command line). All text that comes
from input files is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import numpy as np
import pandas as pd

from .._show_versions import versions
from ..assessment.result import Assessment, ring_column
from ..engine.rings import format_m
from .charts import bar_chart
from .headline import HEADLINE_RULE, round_headline
from .priority_report import where_first_sections
from .sources_report import curve_chart, range_text, source_charts

__all__ = ["report_html", "template", "write_report", "write_streamed"]

#: Characters of the map page read, escaped and written at a time by :func:`write_report`.
CHUNK_CHARS = 1 << 20

CSS = """
body{font:14px/1.45 system-ui,sans-serif;max-width:1050px;margin:24px auto;padding:0 16px;
color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid
#ccc;padding-bottom:3px}table{border-collapse:collapse;margin:8px 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.headline{display:flex;gap:14px;flex-wrap:wrap}
.card{border:1px solid #ccc;border-radius:6px;padding:8px 12px;min-width:150px}
.card b{font-size:22px;display:block}.muted{color:#666;font-size:12px}
iframe{width:100%;height:560px;border:1px solid #ccc}
.fictional{background:#fde0dd;border:1px solid #b2182b;padding:6px 10px;border-radius:4px}
@media print{iframe{height:480px;page-break-inside:avoid}h2{page-break-after:avoid}}
"""


def _n(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return str(value)


def _pct(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{v:.1%}" if np.isfinite(v) else ""


def _table(
    title: str, frame: pd.DataFrame | None, columns: dict[str, str], *, shares: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A table for the template: title, headers and formatted cells."""
    if frame is None or frame.empty:
        return {"title": title, "headers": [], "rows": []}
    cols = [c for c in columns if c in frame.columns]
    rows = [
        [_pct(rec[c]) if c in shares else _n(rec[c]) for c in cols]
        for rec in frame[cols].to_dict(orient="records")
    ]
    return {"title": title, "headers": [columns[c] for c in cols], "rows": rows}


def _file_facts(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    p = Path(path)
    if not p.is_file():
        return {"name": p.name, "size": None, "sha256": None}
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"name": p.name, "size": p.stat().st_size, "sha256": digest.hexdigest()}


def _population_facts(assessment: Assessment) -> dict[str, Any]:
    """The population files' row: reuses the checksum the assessment already took.

    Hashing a national or global raster again would read every byte a second time;
    ``method["population_sha256"]`` is the checksum of the files in order (of the
    file itself for one file), or None for remote or very large inputs.
    """
    paths = assessment.population.paths
    local = [Path(p) for p in paths if not p.startswith("/vsi") and "://" not in p]
    size = sum(p.stat().st_size for p in local if p.is_file()) if local else None
    name = (
        Path(paths[0]).name
        if len(paths) == 1
        else (f"{Path(paths[0]).name} and {len(paths) - 1} more tiles (checksum of all, in order)")
    )
    return {
        "name": name,
        "size": size,
        "sha256": assessment.method.get("population_sha256")
        or "not computed (remote or over 4 GB)",
    }


#: Said in every report: the formula-injection decision.
CSV_CAVEAT = (
    "The CSV files keep every text from the input files exactly as it came (RFC 4180): "
    "a spreadsheet may run a cell that begins with =, +, - or @ as a formula. Open "
    "geomines.xlsx (--xlsx) in a spreadsheet instead: its text cells are text, never "
    "formulas."
)


def caveats(assessment: Assessment) -> list[str]:
    """Assumptions and caveats generated from the data of this assessment."""
    out = []
    pop = assessment.population
    year = re.search(r"(19|20)\d\d", pop.name)
    out.append(
        f"Population source: {pop.name!s} ({pop.describe()['crs']!s}, "
        f"{pop.res[0]:g} × {pop.res[1]:g} per pixel, {pop.describe()['units']!s})"
        + (
            f"; year {year.group(0)} (from the file name)"
            if year
            else "; year unknown (not in the file name)"
        )
        + "."
    )
    checks = assessment.checks
    out.append(
        f"{_pct(checks['share_of_hazard_area_on_nodata'])} of the counted hazards' "
        f"pixel coverage falls on nodata pixels and "
        f"{_pct(checks['share_of_hazard_area_outside_raster'])} of their area lies "
        "outside the raster: nobody is counted there."
    )
    sub = checks["hazards_smaller_than_one_pixel"]
    if sub:
        out.append(
            f"{sub} counted hazard(s) are smaller than one pixel: their people are a "
            "share of a pixel's, as exact as the raster allows but no finer."
        )
    hz = assessment.hazards
    repaired = hz[hz["load_status"] == "repaired"]
    excluded = hz[hz["load_status"] == "excluded"]
    if len(repaired):
        out.append(
            f"{len(repaired)} hazard geometr{'y was' if len(repaired) == 1 else 'ies were'}"
            " repaired: "
            + "; ".join(
                f"{r.hazard_id!s} ({r.load_note!s})" for r in repaired.head(10).itertuples()
            )
            + "."
        )
    if len(excluded):
        out.append(
            f"{len(excluded)} input row(s) were excluded from the numbers (kept in "
            "hazards.geojson with their reason): "
            + "; ".join(
                f"{r.hazard_id!s} ({r.load_note!s})" for r in excluded.head(10).itertuples()
            )
            + "."
        )
    factor = checks.get("double_counting_factor")
    if factor:
        out.append(
            f"Per-hazard counts overlap: their sum is {factor:.2f}× the dissolved total."
            " Totals here are dissolved, so nobody is counted twice."
        )
    not_counted = int((~hz["counted"] & (hz["load_status"] != "excluded")).sum())
    if not_counted:
        out.append(
            f"{not_counted} hazard(s) with statuses other than "
            f"{', '.join(assessment.method['counted_statuses'])!s} are shown but not "
            "counted."
        )
    if pop.units == "count" and pop.land_area is None:
        outside = checks.get("people_outside_every_admin_unit")
        text = (
            "Count rasters put a coastal pixel's people on its land part; weighting such "
            "a pixel by the share of it that a polygon covers undercounts coastal units. "
            "Where a land-area raster exists, pass it (land_area=, --land-area); or assess "
            "a density raster (people per km² of land) with units='density' "
            "(--units density)."
        )
        if outside:
            text += (
                f" Here {outside:,.0f} people of the raster fall outside every admin unit, "
                "largely in coastal pixels."
            )
        out.append(text)
    out.append(CSV_CAVEAT)
    return out


def _check_text(value: Any) -> str:
    """A check's value as text; reconciliations as 'ok: parts … vs whole … (difference …)'."""
    if isinstance(value, dict) and "relative_difference" in value:
        verdict = "adds up" if value["ok"] else "DOES NOT ADD UP"
        return (
            f"{verdict}: parts {value['parts']:,.2f} vs whole {value['whole']:,.2f} "
            f"(relative difference {value['relative_difference']:.1e}); {value['what']}"
        )
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:20]) + (" ..." if len(value) > 20 else "")
    return str(value)


def report_html(
    assessment: Assessment, *, map_html: str | None = None, provenance: dict[str, Any] | None = None
) -> str:
    """The report as one self-contained HTML page (a jinja2 template with autoescape).

    Parameters
    ----------
    assessment : Assessment
    map_html : str, optional
        The self-contained map page, embedded as an ``<iframe srcdoc>``.
    provenance : dict, optional
        Extra facts (``command``, ``admin_path``) for the provenance section.

    Returns
    -------
    str
    """
    return _template().render(**_context(assessment, map_html, provenance))


def write_report(
    assessment: Assessment,
    path: str | Path,
    *,
    map_path: str | Path | None = None,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write the report to ``path``, with the map page at ``map_path`` embedded.

    The same page as :func:`report_html` with ``map_html`` the text of ``map_path``,
    written a piece at a time: the map is read and escaped in chunks of
    :data:`CHUNK_CHARS`, never held whole (a national map is tens of MB).
    """
    token = f"geomines-map-{uuid.uuid4().hex}" if map_path is not None else None
    return write_streamed(
        _template(), _context(assessment, token, provenance), path, token, map_path
    )


def write_streamed(
    template: jinja2.Template,
    context: dict[str, Any],
    path: str | Path,
    token: str | None,
    map_path: str | Path | None,
) -> Path:
    """Render ``template`` to ``path`` a piece at a time; where the rendered text holds
    ``token`` (a value no input can contain, given as ``map_html``), the page at
    ``map_path`` is streamed in, read and escaped in chunks of :data:`CHUNK_CHARS`.
    """
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as out:
        for piece in template.generate(**context):
            if token is None or token not in piece:
                out.write(piece)
                continue
            head, tail = piece.split(token, 1)
            out.write(head)
            with Path(map_path).open(encoding="utf-8", newline="") as page:  # type: ignore[arg-type]
                while chunk := page.read(CHUNK_CHARS):
                    # escaping is character by character, so chunks escape independently
                    out.write(markupsafe.escape(chunk))
            out.write(tail)
    return path


def _context(
    assessment: Assessment, map_html: str | None, provenance: dict[str, Any] | None
) -> dict[str, Any]:
    provenance = dict(provenance or {})
    method = assessment.method
    totals = assessment.totals
    hz = assessment.hazards
    context: dict[str, Any] = {
        "css": CSS,
        "version": method["geomines_version"],
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "fictional": "fictional" in hz.columns
        and hz["fictional"].astype(str).str.lower().eq("true").any(),
        "question": _question(assessment),
        "cards": _cards(assessment),
        "headline_rule": HEADLINE_RULE,
        "precise": "; ".join(
            [f"inside {totals['inside']:,.2f}"]
            + [
                f"within {format_m(d)} m {assessment.people_within(d):,.2f}"
                for d in assessment.rings_m
            ]
        ),
        "population": totals["population"],
        "charts": _charts(assessment) + source_charts(assessment) + curve_chart(assessment),
        "range_text": range_text(assessment),
        "map_html": map_html,
        "tables": _tables(assessment),
        "sections": where_first_sections(assessment),
        "caveats": caveats(assessment),
        "method": [(k, v) for k, v in method.items() if k != "command"],
        "checks": [(k, _check_text(v)) for k, v in assessment.checks.items()],
        "files": _files(assessment, provenance),
        "command": provenance.get("command") or method.get("command") or "(Python API)",
        "versions": list(versions().items()),
    }
    return context


def _template(name: str = "report.html.j2") -> jinja2.Template:
    return template(name)


def template(name: str) -> jinja2.Template:
    """One of geomines' report templates (jinja2, autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("geomines.outputs", "templates"),
        autoescape=True,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    return env.get_template(name)


def _question(assessment: Assessment) -> str:
    hz, rings = assessment.hazards, assessment.rings_m
    return (
        f"How many people live inside, and within {', '.join(format_m(d) for d in rings)}"
        f" metres of, the {int(hz['counted'].sum())} hazards with status "
        f"{', '.join(assessment.method['counted_statuses'])} (of {len(hz)} in the input)?"
    )


def _cards(assessment: Assessment) -> list[dict[str, Any]]:
    cards = [
        {
            "value": round_headline(assessment.totals["inside"]),
            "label": "people inside counted hazards",
        }
    ]
    for d in assessment.rings_m:
        cards.append(
            {
                "value": round_headline(assessment.people_within(d)),
                "label": f"people within {format_m(d)} m",
            }
        )
    return cards


def _charts(assessment: Assessment) -> list[dict[str, Any]]:
    bands, rings = assessment.bands, assessment.rings_m
    charts = [
        bar_chart(
            list(bands["band"]), list(bands["people"]), title="People by exclusive distance band"
        )
    ]
    if assessment.by_precedence is not None:
        prec = assessment.by_precedence
        charts.append(
            bar_chart(
                list(prec["part"]),
                list(prec["people"]),
                color="#b2182b",
                title="People by land class (CHA over SHA over other), then band",
            )
        )
    if assessment.by_class is not None and len(assessment.by_class):
        bc = assessment.by_class
        labels = [f"{r.land_class} · {r.status} · {r.contamination}" for r in bc.itertuples()]
        charts.append(
            bar_chart(
                labels,
                list(bc["people_inside"]),
                color="#d95f0e",
                title="People inside, by land class · status · contamination "
                "(each group dissolved; groups overlap)",
            )
        )
    if assessment.by_admin is not None:
        ba = assessment.by_admin.sort_values("people_inside", ascending=False).head(15)
        key = ring_column(rings[-1]) if rings else "people_inside"
        title = (
            f"People within {format_m(rings[-1])} m by admin unit"
            if rings
            else "People inside by admin unit"
        )
        charts.append(
            bar_chart(
                list(ba["admin_name"].astype(str)), list(ba[key]), color="#54278f", title=title
            )
        )
    return [c for c in charts if c["bars"]]


def _tables(assessment: Assessment) -> list[dict[str, Any]]:
    rings = assessment.rings_m
    ring_cols = {ring_column(d): f"within {format_m(d)} m" for d in rings}
    share_cols = {f"share_within_{format_m(d)}m": f"share within {format_m(d)} m" for d in rings}
    tables = [
        _table(
            "Exclusive distance bands (dissolved)",
            assessment.bands.drop(columns="geometry"),
            {"band": "band", "from_m": "from m", "to_m": "to m", "people": "people"},
        )
    ]
    if assessment.by_admin is not None:
        tables.append(
            _table(
                "By admin unit",
                assessment.by_admin,
                {
                    "admin_id": "id",
                    "admin_name": "name",
                    "pcode": "P-code",
                    "population": "population",
                    "people_inside": "inside",
                    **ring_cols,
                    "share_inside": "share inside",
                    **share_cols,
                },
                shares=("share_inside", *share_cols),
            )
        )
    tables.append(
        _table(
            "By land class × contamination × status",
            assessment.by_class,
            {
                "land_class": "class",
                "contamination": "contamination",
                "status": "status",
                "hazards": "hazards",
                "area_m2": "area m²",
                "people_inside": "inside",
                **ring_cols,
            },
        )
    )
    return tables


def _files(assessment: Assessment, provenance: dict[str, Any]) -> list[dict[str, Any]]:
    files = [
        _population_facts(assessment),
        _file_facts(assessment.extra.get("hazard_path")),
        _file_facts(provenance.get("admin_path") or assessment.extra.get("admin_path")),
    ]
    return [
        {"name": f["name"], "size": _n(f["size"]), "sha256": f["sha256"] or ""} for f in files if f
    ]
