"""The public surface: every export resolves, IDEs see it, the load report is returned."""

from __future__ import annotations

import warnings

import pandas as pd

import geomines

from .conftest import SAO_MIGUEL


def test_every_export_resolves_and_is_listed():
    for name in geomines.__all__:
        assert getattr(geomines, name) is not None, name
    assert set(geomines.__all__) <= set(dir(geomines))
    for name in ("assess", "Assessment", "LocalEngine", "DaskEngine", "Reconciliation",
                 "LoadReport", "load_hazards", "PopulationRaster", "LoadWarning",
                 "CoverageWarning", "to_geojson", "write_outputs", "exposure_map"):
        assert name in geomines.__all__, name


def test_load_report_returned_and_passed_on():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hazards, report = geomines.load_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    assert isinstance(report, geomines.LoadReport) and report.rows == len(hazards) == 39
    # a frame rebuilt without attrs (as some pandas operations do) loses the report ...
    bare = hazards.iloc[:6].copy()
    bare.attrs = {}
    raster = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lost = geomines.assess(bare, raster, rings_m=(500,))
        kept = geomines.assess(bare, raster, rings_m=(500,), load_report=report)
    assert lost.load_report is None and lost.summary()["hazards"]["notes"] == []
    # ... and assess(load_report=) carries it into the summary
    assert kept.load_report is report
    assert kept.summary()["hazards"]["notes"] == report.notes
    assert kept.method["hazard_source"] == "hazards_illustrative.geojson"
    assert isinstance(pd.concat([hazards, hazards]), pd.DataFrame)


def test_typed_results_keyed_by_number_and_written_by_one_rule(tmp_path):
    import dataclasses
    import json

    import pytest

    raster = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hazards = geomines.read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
        result = geomines.assess(hazards, raster, rings_m=(500, 2500.5))
    totals = result.totals
    assert set(totals.within_m) == {500.0, 2500.5}  # numbers in Python
    assert result.people_within(2500.5) == totals.within_m[2500.5] >= totals.inside
    assert dict(totals)["within_m"] == {"500": totals.within_m[500.0],  # text in files
                                        "2500.5": totals.within_m[2500.5]}
    assert isinstance(result.checks.bands_add_up, geomines.Reconciliation)
    assert result.checks.bands_add_up.ok and result.checks.admin_units_add_up is None
    assert "admin_units_add_up" not in result.checks.to_dict()
    assert result.method.rings_m == (500.0, 2500.5) and result.method.command is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.totals.inside = 0.0  # type: ignore[misc]
    geomines.write_outputs(result, tmp_path, write_map=False, write_report=False)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["people"]["within_m"] == dict(totals)["within_m"]
    assert summary["checks"] == json.loads(json.dumps(result.checks.to_dict()))
    assert summary["method"]["rings_m"] == [500.0, 2500.5]
    assert "people_within_2500.5m" in result.hazards.columns
