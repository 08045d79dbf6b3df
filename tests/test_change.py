"""What changed between two snapshots, against answers known by construction.

A UTM raster of ones (10 m pixels: 0.01 people per m² of grid) near the zone's central
meridian. Hazards are boxes aligned to the pixels, so the people inside are their
areas / 100 exactly. Ring answers are derived with shapely buffers in the UTM plane by
500 m × the projection's scale factor there (0.9996 on the central meridian), which
geomines does not use (it buffers in a local azimuthal equidistant plane).
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

import geomines
from geomines.change.compare import compare

X0, Y0 = 500_000.0, 5_000_000.0  # on the central meridian of UTM 33N
K = 0.9996  # the scale factor there
D = 500.0


def _box(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


H1 = _box(0, 0, 200, 200)  # cleared
H2 = _box(3000, 0, 400, 200)  # reduced to its west half; the east half recorded reduced
H2_WEST, H2_EAST = _box(3000, 0, 200, 200), _box(3200, 0, 200, 200)
H3 = _box(500, 0, 100, 100)  # unchanged, 300 m east of H1: its ring overlaps H1's
H4 = _box(0, 3000, 300, 100)  # new


def _frame(rows) -> gpd.GeoDataFrame:
    ids, statuses, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"hazard_id": list(ids), "status": list(statuses)}, geometry=list(geoms), crs=32633
    )


BEFORE = _frame([("H1", "open", H1), ("H2", "open", H2), ("H3", "open", H3)])
AFTER = _frame(
    [
        ("H1", "cleared", H1),
        ("H2", "open", H2_WEST),
        ("H2-R", "reduced", H2_EAST),
        ("H3", "open", H3),
        ("H4", "open", H4),
    ]
)


@pytest.fixture
def ones(raster_factory):
    return raster_factory(
        np.ones((800, 800), dtype="float32"),
        transform=Affine(10, 0, X0 - 2000, 0, -10, Y0 + 6000),
        crs="EPSG:32633",
    )


def _people(geom) -> float:
    return geom.area / 100.0


def _ring(*geoms) -> shapely.Geometry:
    return shapely.union_all([g.buffer(D * K, quad_segs=16) for g in geoms])


@pytest.fixture
def change(ones):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compare(BEFORE, AFTER, ones, rings_m=(D,))


def test_people_released_and_newly_exposed_inside_exactly(change):
    inside = change.people["inside"]
    assert inside["before"] == pytest.approx(_people(shapely.union_all([H1, H2, H3])), abs=1e-6)
    assert inside["after"] == pytest.approx(_people(shapely.union_all([H2_WEST, H3, H4])), abs=1e-6)
    assert inside["released"] == pytest.approx(_people(H1) + _people(H2_EAST), abs=1e-6)  # 800
    assert inside["newly_exposed"] == pytest.approx(_people(H4), abs=1e-6)  # 300
    assert inside["before"] - inside["released"] + inside["newly_exposed"] == pytest.approx(
        inside["after"], abs=1e-6
    )
    assert all(check.ok for check in change.checks.values())


def test_a_person_still_within_another_hazards_ring_is_not_released(change):
    ring = change.people["within_m"]["500"]
    before, after = _ring(H1, H2, H3), _ring(H2_WEST, H3, H4)
    assert ring["before"] == pytest.approx(_people(before), rel=1e-3)
    assert ring["after"] == pytest.approx(_people(after), rel=1e-3)
    released = _people(before.difference(after))
    assert ring["released"] == pytest.approx(released, rel=1e-3)
    assert ring["newly_exposed"] == pytest.approx(_people(after.difference(before)), rel=1e-3)
    # counting H1's whole ring as released would count people still within 500 m of H3
    naive = _people(_ring(H1).difference(_ring(H2_WEST))) + _people(
        _ring(H2).difference(_ring(H2_WEST))
    )
    assert naive - released > 100  # the overlap with H3's ring, several hundred people
    assert ring["released"] < naive - 100


def test_each_hazard_its_transition_and_the_released_land(change):
    table = change.hazards.set_index("hazard_id")
    assert table.loc["H1", ["status_before", "status_after"]].tolist() == ["open", "cleared"]
    assert table.loc["H1", "people_released_inside"] == pytest.approx(400, abs=1e-6)
    assert table.loc["H2", "people_released_inside"] == pytest.approx(400, abs=1e-6)  # east half
    assert table.loc["H3", "people_released_inside"] == 0
    assert bool(table.loc["H2", "geometry_changed"]) and not bool(table.loc["H3", "geometry_changed"])
    assert table.loc["H2", "area_after_m2"] == pytest.approx(
        table.loc["H2", "area_before_m2"] / 2, rel=1e-3
    )
    assert table.loc["H4", "status_before"] == "" and table.loc["H4", "status_after"] == "open"
    steps = change.transitions.set_index("transition")
    assert steps.loc["open → cleared", "hazards"] == 1
    assert steps.loc["open → open", "hazards"] == 2
    assert steps.loc["open → open", "geometry_changed"] == 1
    assert steps.loc["absent → open", "hazards"] == 1
    assert steps.loc["absent → reduced", "hazards"] == 1
    assert change.ids["released"] == ["H1"] and change.ids["new"] == ["H2-R", "H4"]
    land = change.released.set_index("transition")
    assert land.loc["open → cleared", "people"] == pytest.approx(400, abs=1e-6)
    assert land.loc["open → reduced", "people"] == pytest.approx(400, abs=1e-6)
    assert "open → not recorded" not in land.index
    assert change.new_land["people"].sum() == pytest.approx(300, abs=1e-6)


def test_the_check_fires_when_a_difference_is_wrong(ones, monkeypatch):
    """The identity is checked against independent counts: a difference that loses land
    (its pieces shrunk by 5 m) breaks it."""
    from geomines.change import compare as module

    real = module.minus_pieces

    def lossy(pieces, others):
        return shapely.buffer(real(pieces, others), -5.0)

    monkeypatch.setattr(module, "minus_pieces", lossy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        broken = compare(BEFORE, AFTER, ones, rings_m=(D,))
    assert not all(check.ok for check in broken.checks.values())


def test_compare_command_writes_every_file(tmp_path, ones):
    from click.testing import CliRunner

    from geomines.cli import cli

    BEFORE.to_file(tmp_path / "before.gpkg")
    AFTER.to_file(tmp_path / "after.gpkg")
    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli,
        ["-q", "compare", str(tmp_path / "before.gpkg"), str(tmp_path / "after.gpkg"),
         str(ones), "--rings", "500", "--out", str(out)],  # fmt: skip
        obj={},
    )
    assert run.exit_code == 0, run.output
    assert "800 people no longer live inside counted hazards" in run.output
    doc = json.loads((out / "change.json").read_text())
    assert doc["people"]["inside"]["released"] == pytest.approx(800, abs=1e-6)
    assert doc["checks"]["change_adds_up_inside"]["ok"] is True
    assert doc["hazards"]["new"] == ["H2-R", "H4"]
    table = pd.read_csv(out / "change.csv", keep_default_na=False)
    assert list(table.columns[:7]) == [
        "hazard_id",
        "status_before",
        "status_after",
        "area_before_m2",
        "area_after_m2",
        "people_inside_before",
        "people_inside_after",
    ]
    released = json.loads((out / "released.geojson").read_text())
    people = {f["properties"]["transition"]: f["properties"]["people"] for f in released["features"]}
    assert people == pytest.approx({"open → cleared": 400.0, "open → reduced": 400.0})
    assert (out / "map.html").exists() and (out / "report.html").exists()
    assert "no longer live inside" in (out / "report.html").read_text()


# --------------------------------------------------------------------------- timeline
def test_timeline_rows_and_dates(tmp_path, ones):
    from click.testing import CliRunner

    from geomines.change.timeline import timeline
    from geomines.cli import cli

    third = _frame([("H4", "open", H4)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = timeline([BEFORE, AFTER, third], ones, rings_m=(D,), dates="2024,2025-06-30,2026")
    assert table["people_inside"].tolist() == pytest.approx([1300.0, 800.0, 300.0], abs=1e-6)
    assert table["date"].tolist() == ["2024", "2025-06-30", "2026"]
    assert table["counted"].tolist() == [3, 3, 1]
    ring = table["people_within_500m"].iloc[2]
    assert ring == pytest.approx(_people(_ring(H4)), rel=1e-3)
    # dates from the files: the latest report date, else a date in the name
    dated = BEFORE.assign(reported=["2021-03-04", "2023-12-31", None])
    dated.to_file(tmp_path / "programme.gpkg")
    AFTER.to_file(tmp_path / "snapshot_2025-06-30.gpkg")
    out = tmp_path / "tl"
    run = CliRunner().invoke(
        cli,
        ["-q", "timeline", str(tmp_path / "programme.gpkg"),
         str(tmp_path / "snapshot_2025-06-30.gpkg"), str(ones), "--rings", "500",
         "--out", str(out)],  # fmt: skip
        obj={},
    )
    assert run.exit_code == 0, run.output
    written = pd.read_csv(out / "timeline.csv")
    assert written["date"].tolist() == ["2023-12-31", "2025-06-30"]
    assert written["date_source"].tolist() == [
        "latest report date in the file",
        "date in the file name",
    ]
    report = (out / "report.html").read_text()
    assert report.count("<polyline") == 2  # inside, within 500 m
    bad = CliRunner().invoke(cli, ["timeline", str(tmp_path / "programme.gpkg"), str(ones)])
    assert bad.exit_code != 0 and "two or more snapshots" in bad.output
