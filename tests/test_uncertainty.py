"""How sure: the range across population grids, against constant rasters."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

import geomines

X0, Y0 = 500_000.0, 5_000_000.0
SQUARE = shapely.box(X0, Y0, X0 + 300, Y0 + 300)  # aligned to 10 m and 20 m pixels


@pytest.fixture
def grids(raster_factory):
    """Ones per 10 m pixel, and threes per 20 m pixel (0.75 times the density), in UTM."""
    ones = raster_factory(
        np.ones((600, 600), dtype="float32"),
        transform=Affine(10, 0, X0 - 3000, 0, -10, Y0 + 3000),
        crs="EPSG:32633",
    )
    threes = raster_factory(
        np.full((300, 300), 3.0, dtype="float32"),
        transform=Affine(20, 0, X0 - 3000, 0, -20, Y0 + 3000),
        crs="EPSG:32633",
    )
    return ones, threes


def _hazards():
    return gpd.GeoDataFrame(
        {"hazard_id": ["H1"], "status": ["open"]}, geometry=[SQUARE], crs=32633
    )


def test_two_constant_grids_give_the_expected_range(grids):
    ones, threes = grids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(
            _hazards(),
            {"ones": ones, "threes": geomines.read_population(threes)},
            rings_m=(500,),
        )
    inside = 300 * 300 / 100  # 900 on the ones; 0.75 × on the threes
    assert result.totals.inside == pytest.approx(inside, abs=1e-6)  # the main grid
    summary = result.summary()
    assert [s["name"] for s in summary["sources"]] == ["ones", "threes"]
    assert summary["sources"][1]["people"]["inside"] == pytest.approx(0.75 * inside, abs=1e-6)
    assert summary["range"]["inside"] == pytest.approx([0.75 * inside, inside], abs=1e-6)
    # within 500 m of a 300 m square: (s² + 4sd + πd²) of true metres, scaled into the
    # UTM grid (k = 0.9996 on the central meridian), a 64-gon's πd²
    k = 0.9996
    area = 300**2 + 4 * 300 * 500 * k + 32 * (500 * k) ** 2 * math.sin(2 * math.pi / 64)
    low, high = summary["range"]["within_m"]["500"]
    assert high == pytest.approx(area / 100, rel=2e-3)
    assert low == pytest.approx(0.75 * area / 100, rel=2e-3)


def test_cli_also_population_writes_sources_and_range(grids, tmp_path):
    from click.testing import CliRunner

    from geomines.cli import cli

    ones, threes = grids
    _hazards().to_file(tmp_path / "h.gpkg")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli,
        ["-q", "assess", str(tmp_path / "h.gpkg"), str(ones), "--rings", "500",
         "--also-population", f"coarse={threes}", "--out", str(out), "--no-map"],  # fmt: skip
        obj={},
    )
    assert run.exit_code == 0, run.output
    assert "Between 680 and 900 people live inside counted hazards" in run.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sources"][0]["name"] == ones.stem and summary["sources"][1]["name"] == "coarse"
    table = pd.read_csv(out / "sources.csv")
    assert table["source"].tolist() == [ones.stem, "coarse"]
    assert table["people_inside"].tolist() == pytest.approx([900.0, 675.0])
    report = (out / "report.html").read_text()
    assert "depending on the population grid" in report and "by population grid" in report
    bad = CliRunner().invoke(cli, ["assess", str(tmp_path / "h.gpkg"), str(ones),
                                   "--also-population", "nofile"])  # fmt: skip
    assert bad.exit_code != 0 and "NAME=FILE" in bad.output


# --------------------------------------------------------------------------- the curve
def test_curve_around_a_square_matches_the_formula(grids):
    """On a raster of ones, people within d of a square of side s are
    (s² + 4sd + πd²) / pixel area, within 0.5% at every distance."""
    ones, _ = grids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(_hazards(), ones, rings_m=(500, 1000), curve_m="0:2000:100")
    curve = result.curve
    assert curve["distance_m"].tolist() == [100.0 * k for k in range(21)]
    s = 300.0
    for d, people in zip(curve["distance_m"], curve["people_within"], strict=True):
        expected = (s**2 + 4 * s * d + math.pi * d**2) / 100
        assert people == pytest.approx(expected, rel=5e-3), d
    assert (np.diff(curve["people_within"]) >= 0).all()
    # the same numbers as the rings where they meet
    by_d = dict(zip(curve["distance_m"], curve["people_within"], strict=True))
    assert by_d[500.0] == pytest.approx(result.people_within(500), rel=1e-12)
    assert by_d[0.0] == result.totals.inside
    assert result.summary()["curve"][5] == {"distance_m": 500.0, "people_within": by_d[500.0]}


def test_curve_options_are_checked(grids, tmp_path):
    from click.testing import CliRunner

    from geomines.cli import cli

    ones, _ = grids
    _hazards().to_file(tmp_path / "h.gpkg")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli,
        ["-q", "assess", str(tmp_path / "h.gpkg"), str(ones), "--rings", "500",
         "--curve", "0:1000:250", "--out", str(out), "--no-map"],  # fmt: skip
        obj={},
    )
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out / "curve.csv")
    assert table["distance_m"].tolist() == [0, 250, 500, 750, 1000]
    assert "People within each distance" in (out / "report.html").read_text()
    for bad in ("0:1000", "5:1:1", "0:100:0", "a:b:c"):
        run = CliRunner().invoke(cli, ["assess", str(tmp_path / "h.gpkg"), str(ones),
                                       "--curve", bad, "--out", str(tmp_path / bad)])  # fmt: skip
        assert run.exit_code != 0 and "START:STOP:STEP" in run.output, bad
