"""``geomines.xlsx``: the tables as an Excel workbook that is safe to open.

Sheets ``summary``, ``bands``, ``by_admin``, ``by_class``, ``hazards``, and ``priority``
and ``communities`` when they exist. Written by XlsxWriter, one typed call per cell:
numbers as numbers with a number format, booleans as booleans, dates as dates, and
every text as text (``write_string``), so a value from an input file that begins with
``=``, ``+``, ``-`` or ``@`` is never a formula. Header row frozen, widths set.

The CSV files keep input text exactly as it came (RFC 4180); this workbook is the file
to open in a spreadsheet.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..assessment.result import Assessment
from ..shapes import RADIUS
from .tables import summary_rows

__all__ = ["workbook_sheets", "write_xlsx"]

#: Widest column, in characters.
MAX_WIDTH = 60


def _attributes(hazards: pd.DataFrame) -> pd.DataFrame:
    """The hazards' columns but their geometry (and the radius of circles built when
    drawn: the sheet is the same whether they were built on reading or not).
    """
    drop = [c for c in (hazards.geometry.name, RADIUS) if c in hazards.columns]
    return pd.DataFrame(hazards.drop(columns=drop))


def workbook_sheets(assessment: Assessment) -> dict[str, pd.DataFrame]:
    """The sheets written, in order (those that exist)."""
    sheets: dict[str, pd.DataFrame | None] = {
        "summary": pd.DataFrame(summary_rows(assessment)),
        "bands": assessment.band_table,
        "by_admin": assessment.by_admin,
        "by_class": assessment.by_class,
        "hazards": _attributes(assessment.hazards),
        "priority": assessment.priority,
        "communities": (
            pd.DataFrame(assessment.communities.drop(columns="geometry"))
            if assessment.communities is not None
            else None
        ),
    }
    return {k: v for k, v in sheets.items() if v is not None}


def _number_format(column: str, values: pd.Series) -> str:
    if column.startswith("share_"):
        return "0.0%"
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    if column.endswith(("_m", "_m2")) or column.startswith(("people", "population", "score")):
        return "#,##0.0" if not column.startswith("score") else "0.000"
    return "General"


def _write_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any, date_fmt: Any) -> None:
    if value is None or value is pd.NA or value is pd.NaT:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool | np.bool_):
        sheet.write_boolean(row, col, bool(value))
    elif isinstance(value, int | np.integer):
        sheet.write_number(row, col, int(value), fmt)
    elif isinstance(value, float | np.floating):
        if math.isfinite(value):
            sheet.write_number(row, col, float(value), fmt)
        else:
            sheet.write_blank(row, col, None)
    elif isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        sheet.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), date_fmt)
    else:
        sheet.write_string(row, col, str(value))


def write_xlsx(assessment: Assessment, path: str | Path) -> Path:
    """Write the workbook (see the module notes); returns its path."""
    import xlsxwriter

    path = Path(path)
    options = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(str(path), {**options, "nan_inf_to_errors": False}) as book:
        header = book.add_format({"bold": True, "bg_color": "#F3F3F3", "border": 1})
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        formats: dict[str, Any] = {}
        for name, frame in workbook_sheets(assessment).items():
            sheet = book.add_worksheet(name)
            for c, column in enumerate(frame.columns):
                sheet.write_string(0, c, str(column), header)
                code = _number_format(str(column), frame[column])
                fmt = formats.setdefault(code, book.add_format({"num_format": code}))
                values = frame[column].astype(object).tolist()
                for r, value in enumerate(values, start=1):
                    _write_cell(sheet, r, c, value, fmt, date_fmt)
                width = max([len(str(column)), *(len(str(v)) for v in values[:500])])
                sheet.set_column(c, c, min(max(width + 2, 8), MAX_WIDTH))
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
    return path
