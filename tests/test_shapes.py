"""Point records with a radius kept as points (``read_hazards(..., build_circles=False)``):
every number and output is that of the circles built on reading, and an assessment
builds their circles a slice at a time."""

from __future__ import annotations

import json
from contextlib import nullcontext

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import geomines
from geomines import shapes as shapes_module
from geomines.assessment import batching, units
from geomines.errors import ReprojectionWarning
from geomines.outputs import write_outputs
from geomines.shapes import RADIUS, hazard_shapes, with_shapes

from .conftest import SAO_MIGUEL

RASTER = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"


def _layer(tmp_path, crs="EPSG:4326"):
    """São Miguel's hazards, 30 legacy points with a radius (or an area in ha) among
    them, and one stray point with neither, written to a GeoPackage in ``crs``."""
    with pytest.warns(UserWarning):
        polygons = geomines.read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    polygons = polygons[["hazard_id", "land_class", "status", "geometry"]]
    rng = np.random.default_rng(7)
    west, south, east, north = polygons.total_bounds
    n = 30
    points = gpd.GeoDataFrame(
        {
            "hazard_id": [f"P{i}" for i in range(n + 1)],
            "land_class": rng.choice(["CHA", "SHA", "other"], n + 1),
            "status": rng.choice(["open", "reduced", "cleared"], n + 1),
            "radius_m": [*rng.uniform(30, 900, n - 5), *[np.nan] * 6],
            "area_ha": [*[np.nan] * (n - 5), *rng.uniform(1, 40, 5), np.nan],
        },
        geometry=shapely.points(rng.uniform(west, east, n + 1), rng.uniform(south, north, n + 1)),
        crs="EPSG:4326",
    )
    frame = pd.concat([polygons, points], ignore_index=True).to_crs(crs)
    path = tmp_path / "hazards.gpkg"
    frame.to_file(path)
    return path


def _read(path, **kwargs):
    with pytest.warns(UserWarning):  # the stray point, and the illustrative ids
        return geomines.read_hazards(path, **kwargs)


def _assess(hazards, **kwargs):
    return geomines.assess(
        hazards,
        RASTER,
        rings_m=(500, 2000),
        admin=SAO_MIGUEL / "concelhos.gpkg",
        admin_id="name",
        **kwargs,
    )


def _same(lean, built, exact=True):
    """Two assessments' numbers: equal (``exact``), or to 1e-9."""
    a = lean.hazards.drop(columns=["geometry", RADIUS])
    b = built.hazards.drop(columns=["geometry"])
    if exact:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        for name in ("by_admin", "by_class", "by_precedence", "priority"):
            pd.testing.assert_frame_equal(
                getattr(lean, name), getattr(built, name), check_exact=True
            )
        assert lean.totals == built.totals
        assert lean.checks == built.checks
        assert shapely.equals(lean.bands.geometry.values, built.bands.geometry.values).all()
        return
    people = [c for c in b.columns if c.startswith("people_")] + ["area_m2"]
    # other batches read other raster windows: sums to rounding (as in test_assess.py)
    np.testing.assert_allclose(
        a[people].to_numpy(float), b[people].to_numpy(float), rtol=1e-9, atol=1e-9
    )
    assert list(a["admin_id"]) == list(b["admin_id"])
    np.testing.assert_allclose(lean.bands["people"], built.bands["people"], rtol=1e-9)
    numeric = lean.by_admin.select_dtypes("number").columns
    np.testing.assert_allclose(
        lean.by_admin[numeric].to_numpy(float), built.by_admin[numeric].to_numpy(float), rtol=1e-9
    )
    for key in ("bands_add_up", "classes_add_up", "admin_units_add_up"):
        assert lean.checks[key]["ok"], key


def test_points_kept_as_points_are_the_circles_built_on_reading(tmp_path):
    """The frame holds the points and their radius (an area's radius is sqrt(area/π));
    its shapes are, exactly, the circles read_hazards builds; the report counts them as
    areas, not as points."""
    path = _layer(tmp_path)
    built, lean = _read(path), _read(path, build_circles=False)
    kinds = shapely.get_type_id(lean.geometry.values)
    radius = lean[RADIUS].to_numpy(float)
    assert (np.isfinite(radius) == (kinds == 0) & (lean["hazard_id"] != "P30")).all()
    assert int(np.isfinite(radius).sum()) == 30
    area = lean["area_ha"].to_numpy(float) * 10_000
    from_area = np.isfinite(area)
    np.testing.assert_allclose(radius[from_area], np.sqrt(area[from_area] / np.pi), rtol=1e-12)
    got = with_shapes(lean)
    assert RADIUS not in got.columns
    assert list(got.columns) == list(built.columns)
    assert (shapely.to_wkb(got.geometry.values) == shapely.to_wkb(built.geometry.values)).all()
    assert (
        shapely.to_wkb(hazard_shapes(lean)[5:40]) == shapely.to_wkb(built.geometry.values[5:40])
    ).all()
    reports = [frame.attrs["load_report"] for frame in (lean, built)]
    assert reports[0].points == reports[1].points == 1  # the stray point alone
    assert any("kept as points" in note for note in reports[0].notes)
    assert any("turned into circles" in note for note in reports[1].notes)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32626"])
def test_an_assessment_of_points_kept_as_points_is_that_of_their_circles(tmp_path, crs):
    """Every number, table and check equal to those of the circles built on reading, in
    the raster's CRS and moved into it from UTM."""
    path = _layer(tmp_path, crs)
    moved = pytest.warns(ReprojectionWarning) if crs != "EPSG:4326" else nullcontext()
    with moved:
        built = _assess(_read(path))
    with moved:
        lean = _assess(_read(path, build_circles=False))
    assert np.isfinite(lean.hazards[RADIUS]).sum() == 30
    _same(lean, built)


def test_circles_built_a_slice_at_a_time(tmp_path, monkeypatch):
    """With slices of 7 hazards (the per-hazard sums and unions, the rings' batches, the
    hazards' admin units), no more than 7 circles are built at once, and the numbers are
    those of the circles built on reading."""
    path = _layer(tmp_path)
    built = _assess(_read(path))
    lean_frame = _read(path, build_circles=False)
    sizes = []
    real = shapes_module.build_circles

    def counted(points, radius, crs):
        sizes.append(len(points))
        return real(points, radius, crs)

    monkeypatch.setattr(shapes_module, "build_circles", counted)
    monkeypatch.setattr(shapes_module, "SLICE", 7)
    monkeypatch.setattr(units, "POINT_SLICE", 7)
    monkeypatch.setattr(batching, "BATCH_COORDS", 7 * (65 + 64))
    lean = _assess(lean_frame)
    assert sizes and max(sizes) <= 7 and sum(sizes) > 5 * 30
    _same(lean, built, exact=False)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32626"])
def test_outputs_of_points_kept_as_points_are_those_of_their_circles(tmp_path, crs, monkeypatch):
    """The GeoJSON (its circles built a chunk of 4 features at a time, moved to lon/lat
    from UTM), GeoPackage and workbook written: the circles, without the radius column,
    feature for feature as when they were built on reading."""
    from geomines.outputs import geojson

    monkeypatch.setattr(geojson, "CHUNK", 4)
    path = _layer(tmp_path, crs)
    out = {}
    for name, kwargs in (("built", {}), ("lean", {"build_circles": False})):
        with pytest.warns(ReprojectionWarning) if crs != "EPSG:4326" else nullcontext():
            result = _assess(_read(path, **kwargs))
        out[name] = tmp_path / name
        write_outputs(result, out[name], write_map=False, write_report=False, gpkg=True, xlsx=True)
    docs = [json.loads((out[k] / "hazards.geojson").read_text()) for k in ("lean", "built")]
    assert docs[0]["features"] == docs[1]["features"]
    assert docs[0]["bbox"] == docs[1]["bbox"]
    layers = [
        pyogrio.read_dataframe(out[k] / "geomines.gpkg", layer="hazards") for k in ("lean", "built")
    ]
    assert RADIUS not in layers[0].columns
    pd.testing.assert_frame_equal(
        layers[0].drop(columns="geometry"), layers[1].drop(columns="geometry")
    )
    assert (
        shapely.to_wkb(layers[0].geometry.values) == shapely.to_wkb(layers[1].geometry.values)
    ).all()
    sheets = [
        pd.read_excel(out[k] / "geomines.xlsx", sheet_name="hazards") for k in ("lean", "built")
    ]
    pd.testing.assert_frame_equal(sheets[0], sheets[1])


def test_spatial_slices_are_compact_and_hold_every_hazard_once():
    """A 40 x 40 grid of boxes (and 3 without bounds) in slices of 100: every position
    once, at most 100 per slice, those without bounds last; each slice covers a compact
    area: the Z-order's quadrants, so no slice's box spans more than half the grid."""
    from geomines.assessment.batching import spatial_slices

    rng = np.random.default_rng(3)
    xy = np.array([(i, j) for i in range(40) for j in range(40)], dtype=float)[
        rng.permutation(1600)
    ]
    bounds = np.column_stack([xy, xy + 0.5])
    bounds = np.vstack([bounds[:800], np.full((3, 4), np.nan), bounds[800:]])
    slices = spatial_slices(bounds, 100)
    assert sorted(np.concatenate(slices).tolist()) == list(range(1603))
    assert all(len(s) <= 100 and (np.diff(s) > 0).all() for s in slices)
    assert set(slices[-1]) >= {800, 801, 802}
    for s in slices[:-1]:
        b = bounds[s]
        assert b[:, 2].max() - b[:, 0].min() <= 20.5 or b[:, 3].max() - b[:, 1].min() <= 20.5
        assert (b[:, 2].max() - b[:, 0].min()) * (b[:, 3].max() - b[:, 1].min()) <= 21 * 21 * 2
