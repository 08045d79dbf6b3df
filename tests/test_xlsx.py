"""geomines.xlsx read back with openpyxl (an independent reader): the sheets, numbers as
numbers, every input text as text, and no formula anywhere, whatever the text says."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

import geomines

from .conftest import SAO_MIGUEL

HOSTILE = ["=cmd|' /C calc'!A0", "+41 22", "-2+3", "@SUM(A1:A2)", "=HYPERLINK(\"x\")"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xlsx")
    boxes = [shapely.box(-25.70 + 0.02 * i, 37.74, -25.69 + 0.02 * i, 37.75) for i in range(5)]
    hazards = gpd.GeoDataFrame(
        {"hazard_id": HOSTILE, "contamination": HOSTILE[::-1], "status": ["open"] * 5},
        geometry=boxes,
        crs=4326,
    )
    places = gpd.GeoDataFrame(
        {"name": ["=1+1", "Ponta"]}, geometry=[shapely.Point(-25.68, 37.76)] * 2, crs=4326
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = geomines.assess(
            hazards,
            SAO_MIGUEL / "gpw_v411_2020_count_2020.tif",
            admin=geomines.read_vector(SAO_MIGUEL / "concelhos.gpkg"),
            admin_id="name",
            places=places,
        )
    written = geomines.write_outputs(
        result, folder, write_map=False, write_report=False, xlsx=True
    )
    return result, openpyxl.load_workbook(written["geomines.xlsx"])


def test_sheets_and_layout(book):
    _, wb = book
    assert wb.sheetnames == [
        "summary", "bands", "by_admin", "by_class", "hazards", "priority", "communities"
    ]  # fmt: skip
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1] if c.value is not None)
        assert ws.column_dimensions["A"].width > 8


def test_no_formula_and_text_kept_exactly(book):
    result, wb = book
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    hazards = wb["hazards"]
    header = [c.value for c in hazards[1]]
    ids = [r[header.index("hazard_id")] for r in hazards.iter_rows(min_row=2, values_only=True)]
    assert ids == HOSTILE
    names = [c.value for c in wb["communities"]["B"][1:]]
    assert "=1+1" in names


def test_numbers_are_numbers_with_formats(book):
    result, wb = book
    ws = wb["hazards"]
    header = [c.value for c in ws[1]]
    col = header.index("people_inside") + 1
    cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "n" and isinstance(c.value, float) for c in cells)
    assert cells[0].number_format == "#,##0.0"
    expected = result.hazards["people_inside"].to_numpy()
    np.testing.assert_allclose([c.value for c in cells], expected, rtol=1e-12)
    admin = wb["by_admin"]
    head = [c.value for c in admin[1]]
    share = admin.cell(row=2, column=head.index("share_inside") + 1)
    assert share.number_format == "0.0%" and share.data_type == "n"
    counted = ws.cell(row=2, column=header.index("counted") + 1)
    assert counted.data_type == "b" and counted.value is True
    table = pd.DataFrame(wb["bands"].iter_rows(min_row=2, values_only=True))
    assert table[table.columns[-1]].iloc[-1] == pytest.approx(result.people_within(5000))


def test_cli_writes_the_workbook_and_the_geopackage(tmp_path):
    from click.testing import CliRunner

    from geomines.cli import cli

    out = tmp_path / "out"
    run = CliRunner().invoke(
        cli,
        ["-q", "assess", str(SAO_MIGUEL / "hazards_illustrative.geojson"),
         str(SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"), "--rings", "500",
         "--gpkg", "--xlsx", "--no-map", "--no-report", "--out", str(out)],  # fmt: skip
        obj={},
    )
    assert run.exit_code == 0, run.output
    assert openpyxl.load_workbook(out / "geomines.xlsx").sheetnames[0] == "summary"
    import pyogrio

    assert "hazards" in {name for name, _ in pyogrio.list_layers(out / "geomines.gpkg")}
