"""The command line: exit codes, one-line errors, outputs, logging on stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from geomines import __version__
from geomines.cli import cli

from .conftest import SAO_MIGUEL

HAZARDS = str(SAO_MIGUEL / "hazards_illustrative.geojson")
COUNT = str(SAO_MIGUEL / "gpw_v411_2020_count_2020.tif")
ADMIN = str(SAO_MIGUEL / "concelhos.gpkg")


@pytest.fixture
def runner():
    return CliRunner()


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_assess_writes_every_output(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        cli, ["assess", HAZARDS, COUNT, "--admin", ADMIN, "--admin-id", "name", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "People inside counted hazards" in result.stdout
    assert "repaired" in result.stderr  # the bow-tie warning goes to stderr
    for name in (
        "summary.json",
        "summary.csv",
        "hazards.geojson",
        "rings.geojson",
        "by_admin.csv",
        "map.html",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    people = summary["people"]
    assert set(people["within_m"]) == {"500", "1000", "5000"}
    assert people["within_m"]["500"] >= people["inside"] > 0
    assert [b["to_m"] for b in people["rings"]] == [0, 500, 1000, 5000]
    assert sum(b["people"] for b in people["rings"]) == pytest.approx(people["within_m"]["5000"])
    assert summary["hazards"]["count"] == 39
    assert summary["population"]["total"] == pytest.approx(145_603, abs=1)
    assert summary["method"]["pixel_rule"] == "exact"
    assert summary["method"]["counted_statuses"] == ["open"]
    assert "geomines assess" in summary["method"]["command"]
    hazards = gpd.read_file(out / "hazards.geojson")
    assert len(hazards) == 39
    assert {
        "hazard_id",
        "people_inside",
        "people_within_500m",
        "people_within_1000m",
        "people_within_5000m",
        "load_status",
        "load_note",
    } <= set(hazards.columns)
    # a second run refuses to overwrite, then replaces with --overwrite
    again = runner.invoke(cli, ["assess", HAZARDS, COUNT, "--out", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    again = runner.invoke(
        cli, ["-q", "assess", HAZARDS, COUNT, "--out", str(out), "--overwrite", "--no-map"]
    )
    assert again.exit_code == 0
    assert not (out / "map.html").exists()
    assert again.stderr == ""  # -q: nothing on stderr


def test_bad_input_is_one_line_exit_1(runner, tmp_path):
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    gdf.to_file(tmp_path / "h.shp")
    (tmp_path / "h.prj").unlink()
    result = runner.invoke(
        cli, ["assess", str(tmp_path / "h.shp"), COUNT, "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "no CRS" in result.output and "--hazards-crs" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_usage_errors_exit_2(runner, tmp_path):
    assert runner.invoke(cli, ["assess", str(tmp_path / "missing.geojson"), COUNT]).exit_code == 2
    assert runner.invoke(cli, ["assess", HAZARDS, COUNT, "--pixel-rule", "x"]).exit_code == 2
    result = runner.invoke(cli, ["assess", HAZARDS, COUNT, "--admin", ADMIN])
    assert result.exit_code == 2 and "--admin-id" in result.output


def test_validate(runner, tmp_path):
    result = runner.invoke(cli, ["validate", HAZARDS, COUNT])
    assert result.exit_code == 0
    assert "row 38 [SMG-038]: repaired" in result.stdout
    assert "Population:" in result.stdout
    as_json = runner.invoke(cli, ["validate", "--json", HAZARDS])
    data = json.loads(as_json.stdout)
    assert data["hazards"]["rows"] == 39 and data["hazards"]["ok"]
    empty = tmp_path / "none.geojson"
    empty.write_text(
        '{"type": "FeatureCollection", "features": '
        '[{"type": "Feature", "properties": {}, "geometry": null}]}'
    )
    result = runner.invoke(cli, ["validate", str(empty)])
    assert result.exit_code == 1 and "NOT usable" in result.stdout


def test_console_script_runs_as_a_real_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "geomines.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and __version__ in result.stdout
