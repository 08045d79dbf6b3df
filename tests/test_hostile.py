"""Every hostile input gets the exact outcome in tests/hostile.py, via the API and the CLI."""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import geomines
from geomines.cli import cli

from .hostile import CASES, Case, markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def _api(case: Case, made: dict):
    kwargs = made.get("kwargs", {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hazards = geomines.read_hazards(made["hazards"], **kwargs)
        result = None
        if "raster" in made:
            raster = made["raster"]
            if "units" in made:
                raster = geomines.read_population(raster, units=made["units"])
            result = geomines.assess(hazards, raster, rings_m=made.get("rings", (100,)))
    messages = " | ".join(str(w.message) for w in caught)
    return hazards, result, messages


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_api(case: Case, tmp_path):
    made = case.make(tmp_path)
    if case.outcome == "refuse":
        with pytest.raises(getattr(geomines, case.error), match=case.match) as info:
            _api(case, made)
        assert not any(r in str(info.value) for r in ("np.float64", "np.int64", "Window("))
        return
    start = time.perf_counter()
    hazards, result, messages = _api(case, made)
    seconds = time.perf_counter() - start
    report = hazards.attrs["load_report"]
    text = f"{report}\n{messages}"
    if case.match:
        assert re.search(case.match, text), text
    expect = case.expect
    for key in ("usable", "repaired", "excluded"):
        if key in expect:
            assert getattr(report, key) == expect[key], (key, str(report))
    assert report.rows == report.usable + report.excluded  # nothing dropped silently
    if "crs" in expect:
        assert report.crs == expect["crs"]
    if "ids" in expect:
        assert hazards["hazard_id"].tolist() == expect["ids"]
    if "column" in expect:
        col, value = expect["column"]
        assert hazards[col].iloc[0] == value
    if "people_inside_rel" in expect:
        value, rel = expect["people_inside_rel"]
        assert result.hazards["people_inside"].sum() == pytest.approx(value, rel=rel)
    if "total" in expect:
        assert result.totals["population"] == pytest.approx(expect["total"], rel=1e-12)
    if "share_outside" in expect:
        assert result.checks["share_of_hazard_area_outside_raster"] == pytest.approx(
            expect["share_outside"], rel=1e-6
        )
    if "inside_total" in expect:
        value = expect["inside_total"]
        assert result.people_inside == pytest.approx(
            value, rel=expect.get("inside_rel", 1e-9), abs=1e-9
        )
    if "dates" in expect:
        got = [None if pd.isna(v) else str(v.date()) for v in hazards["reported"]]
        assert got == expect["dates"]
    if "max_seconds" in expect:
        assert seconds < expect["max_seconds"], seconds
    if "share_outside_above" in expect:
        assert result.checks["share_of_hazard_area_outside_raster"] > expect["share_outside_above"]
    if result is not None:  # every check shown to users holds on these inputs
        for key in ("bands_add_up", "classes_add_up"):
            if key in result.checks:
                assert result.checks[key]["ok"], (key, result.checks[key])
    if "inside_between" in expect:
        lo, hi = expect["inside_between"]
        assert lo < result.people_inside < hi


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli(case: Case, tmp_path):
    made = case.make(tmp_path)
    extra = made.get("cli", [])
    out = tmp_path / "out"
    if "raster" in made:
        rasters = made["raster"] if isinstance(made["raster"], list) else [made["raster"]]
        outputs = [] if made.get("outputs") else ["--no-map", "--no-report"]
        rings = made.get("rings", "100")
        units = ["--units", made["units"]] if "units" in made else []
        args = [
            "assess",
            str(made["hazards"]),
            *map(str, rasters),
            "--rings",
            rings,
            "--out",
            str(out),
            *outputs,
            *units,
            *extra,
        ]
    else:
        args = ["validate", str(made["hazards"]), *extra]
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.output
    assert "np.float64" not in result.output and "np.int64" not in result.output
    if case.outcome == "refuse":
        assert result.exit_code == 1, result.output
        assert re.search(case.match, result.output), result.output
        assert result.output.strip().startswith("Error:")
    else:
        assert result.exit_code == 0, result.output
        if case.match:  # what the API reports reaches the command line's stderr too
            assert re.search(case.match, result.output), result.output
    if "inside_total" in case.expect and "raster" in made:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["people"]["inside"] == pytest.approx(
            case.expect["inside_total"], rel=case.expect.get("inside_rel", 1e-9), abs=1e-9
        )
    if "outputs_escaped" in case.expect:
        _check_outputs(out, tmp_path, case.expect["outputs_escaped"])


def _check_outputs(out: Path, root: Path, markup: str) -> None:
    """Only the fixed output files, all inside ``out``; no input markup live in HTML."""
    from geomines.outputs import OUTPUT_FILES

    names = {p.name for p in out.iterdir()}
    assert names <= set(OUTPUT_FILES) and {"map.html", "report.html"} <= names, names
    written = {p for p in root.rglob("*") if p.is_file() and out not in p.parents}
    assert not [p for p in written if "escaped" in p.name or "Windows" in p.name]
    for name in ("map.html", "report.html"):
        html = (out / name).read_text(encoding="utf-8")
        assert markup not in html and "<script>alert(1)</script>" not in html, name
    # the text is still there, as text
    assert "onerror" in (out / "report.html").read_text(encoding="utf-8") or "onerror" in (
        out / "map.html"
    ).read_text(encoding="utf-8")


def test_bad_wkt_rows_refused_when_strict(tmp_path):
    made = next(c for c in CASES if c.name == "bad_wkt_rows").make(tmp_path)
    with pytest.raises(geomines.InvalidGeometryError, match="line 3 of the CSV"):
        geomines.read_hazards(made["hazards"], strict=True, **made["kwargs"])
    result = CliRunner().invoke(cli, ["validate", str(made["hazards"]), "--strict", *made["cli"]])
    assert result.exit_code == 1 and "line 5 of the CSV" in result.output


def test_readme_lists_the_corpus():
    assert markdown() in README.read_text(encoding="utf-8"), (
        "README's 'What geomines refuses, repairs and reports' table is out of date: "
        "paste the output of `python -m tests.hostile`"
    )
