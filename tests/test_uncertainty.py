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
    ones, threes = grids
    run, out = _cli_assess(
        tmp_path, ones, "--rings", "500", "--also-population", f"coarse={threes}", "--no-map"
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
    bad, _ = _cli_assess(tmp_path, ones, "--also-population", "nofile", out=tmp_path / "bad")
    assert bad.exit_code != 0 and "NAME=FILE" in bad.output


def _cli_assess(tmp_path, raster, *options, out=None):
    """``geomines -q assess`` of the test square (written to a file once) on ``raster``
    with ``options``: the click result and the output folder.
    """
    from click.testing import CliRunner

    from geomines.cli import cli

    hazards = tmp_path / "h.gpkg"
    if not hazards.exists():
        _hazards().to_file(hazards)
    out = out or tmp_path / "out"
    args = ["-q", "assess", str(hazards), str(raster), *options, "--out", str(out)]
    return CliRunner().invoke(cli, args, obj={}), out


# --------------------------------------------------------------------------- the curve
def test_curve_around_a_square_matches_the_formula(grids, monkeypatch):
    """On a raster of ones, people within d of a square of side s are
    (s² + 4sd + πd²) / pixel area, within 0.5% at every distance. The rings' distances
    are not counted again: the curve there is the rings' number."""
    import geomines.uncertainty.curve as curve_mod

    buffered = []
    real = curve_mod.buffers_m
    monkeypatch.setattr(
        curve_mod, "buffers_m", lambda g, ds, **k: buffered.extend(ds) or real(g, ds, **k)
    )
    ones, _ = grids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(_hazards(), ones, rings_m=(500, 1000), curve_m="0:2000:100")
    assert sorted(buffered) == [100.0 * k for k in range(1, 21) if k not in (5, 10)]
    curve = result.curve
    assert curve["distance_m"].tolist() == [100.0 * k for k in range(21)]
    s = 300.0
    for d, people in zip(curve["distance_m"], curve["people_within"], strict=True):
        expected = (s**2 + 4 * s * d + math.pi * d**2) / 100
        assert people == pytest.approx(expected, rel=5e-3), d
    assert (np.diff(curve["people_within"]) >= 0).all()
    # the same numbers as the rings where they meet
    by_d = dict(zip(curve["distance_m"], curve["people_within"], strict=True))
    assert by_d[500.0] == result.people_within(500)
    assert by_d[1000.0] == result.people_within(1000)
    assert by_d[0.0] == result.totals.inside
    assert result.summary()["curve"][5] == {"distance_m": 500.0, "people_within": by_d[500.0]}


def test_curve_options_are_checked(grids, tmp_path):
    ones, _ = grids
    run, out = _cli_assess(tmp_path, ones, "--rings", "500", "--curve", "0:1000:250", "--no-map")
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out / "curve.csv")
    assert table["distance_m"].tolist() == [0, 250, 500, 750, 1000]
    assert "People within each distance" in (out / "report.html").read_text()
    for bad in ("0:1000", "5:1:1", "0:100:0", "a:b:c"):
        run, _ = _cli_assess(tmp_path, ones, "--curve", bad, out=tmp_path / bad)
        assert run.exit_code != 0 and "START:STOP:STEP" in run.output, bad


# --------------------------------------------------------------------------- age and sex
AGES = [0, 1, *range(5, 85, 5)]


def test_age_and_sex_bins_exact_with_one_raster_on_another_grid(grids, tmp_path, raster_factory):
    """Constant structure rasters: each bin is its constant × the people of a raster of
    ones; one bin on a coarser grid is counted on its own grid; a sum that differs from
    the total is reported, not rescaled."""
    from geomines.testing import write_raster

    folder = tmp_path / "agesex"
    folder.mkdir()
    value = {}
    for sex in "fm":
        for k, age in enumerate(AGES):
            # the values as float32 stores them
            value[sex, age] = float(np.float32(0.01 * (k + 1) + (0.005 if sex == "m" else 0)))
            if (sex, age) == ("m", 80):  # 20 m pixels: 4 × the per-pixel value
                value[sex, age] = float(np.float32(4 * value[sex, age])) / 4
                write_raster(
                    folder / f"xyz_{sex}_{age}_2020.tif",
                    np.full((300, 300), 4 * value[sex, age], dtype="float32"),
                    transform=Affine(20, 0, X0 - 3000, 0, -20, Y0 + 3000),
                    crs="EPSG:32633",
                )
                continue
            write_raster(
                folder / f"xyz_{sex}_{age}_2020.tif",
                np.full((600, 600), value[sex, age], dtype="float32"),
                transform=Affine(10, 0, X0 - 3000, 0, -10, Y0 + 3000),
                crs="EPSG:32633",
            )
    (folder / "readme.txt").write_text("not a raster")
    ones, _ = grids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(_hazards(), ones, rings_m=(500,), age_sex=folder)
    table = result.by_age_sex
    assert len(table) == 36 and set(table["sex"]) == {"f", "m"}
    inside, ring = result.totals.inside, result.people_within(500)
    for row in table.itertuples():
        v = value[row.sex, row.age_from]
        assert row.people_inside == pytest.approx(v * inside, rel=1e-9), (row.sex, row.age_from)
        assert row.people_within_500m == pytest.approx(v * ring, rel=1e-9)
    first = table[(table["sex"] == "f") & (table["age_from"] == 1)].iloc[0]
    assert first["age_to"] == 4
    assert pd.isna(table[table["age_from"] == 80]["age_to"]).all()
    people = result.summary()["people"]
    under5 = sum(value[s, a] for s in "fm" for a in (0, 1)) * inside
    under15 = sum(value[s, a] for s in "fm" for a in (0, 1, 5, 10)) * inside
    assert people["children_under_5"]["inside"] == pytest.approx(under5, rel=1e-9)
    assert people["children_under_15"]["inside"] == pytest.approx(under15, rel=1e-9)
    assert "no bin is split" in people["children_under_15"]["note"]
    check = people["by_age_sex"]["sum_vs_total"]["people_inside"]
    assert check["age_sex"] == pytest.approx(sum(value.values()) * inside, rel=1e-9)
    assert check["relative_difference"] == pytest.approx(abs(sum(value.values()) - 1), rel=1e-6)


def test_age_sex_directories_that_cannot_be_read_say_why(grids, tmp_path):
    from geomines.errors import InputError

    ones, _ = grids
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="<iso3>_<f|m>_<age>_<year>.tif"):
        geomines.assess(_hazards(), ones, age_sex=empty)
    (empty / "abc_f_0_2019.tif").write_bytes(b"")
    (empty / "abc_f_0_2020.tif").write_bytes(b"")
    with pytest.raises(InputError, match="one country and year.*abc/2019, abc/2020"):
        geomines.assess(_hazards(), ones, age_sex=empty)


def test_cli_age_sex_writes_the_table(grids, tmp_path):
    from geomines.testing import write_raster

    ones, _ = grids
    folder = tmp_path / "structure"
    folder.mkdir()
    for name, v in (("abc_f_0_2020.tif", 0.25), ("abc_m_0_2020.tif", 0.5)):
        write_raster(
            folder / name,
            np.full((600, 600), v, dtype="float32"),
            transform=Affine(10, 0, X0 - 3000, 0, -10, Y0 + 3000),
            crs="EPSG:32633",
        )
    run, out = _cli_assess(
        tmp_path, ones, "--rings", "500", "--age-sex", str(folder), "--no-map", "--no-report"
    )
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out / "by_age_sex.csv", keep_default_na=False)
    assert table[["sex", "age_from", "age_to"]].values.tolist() == [["f", 0, ""], ["m", 0, ""]]
    assert table["people_inside"].tolist() == pytest.approx([225.0, 450.0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people"]["by_age_sex"]["sum_vs_total"]["people_inside"]["total"] == 900
