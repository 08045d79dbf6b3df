"""Write an assessment: RFC 7946 GeoJSON, CSV tables, a JSON summary, the map and the
report.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..assessment.result import Assessment
from ..engine.executors import release_memory
from ..errors import OutputError
from ..uncertainty.sources import sources_table
from .geojson import json_value, to_geojson
from .headline import headline
from .tables import summary_rows, write_table

__all__ = ["HEADLINE_RULE", "OUTPUT_FILES", "round_headline", "to_geojson", "write_outputs"]


#: Files written by :func:`write_outputs` (``by_admin.csv`` and ``map.html`` when asked).
OUTPUT_FILES = (
    "summary.json",
    "summary.csv",
    "hazards.geojson",
    "rings.geojson",
    "by_admin.csv",
    "by_class.csv",
    "by_class_precedence.csv",
    "priority.csv",
    "sources.csv",
    "curve.csv",
    "by_age_sex.csv",
    "communities.csv",
    "communities.geojson",
    "geomines.gpkg",
    "geomines.xlsx",
    "map.html",
    "report.html",
)


def prepare_dir(out_dir: Path, overwrite: bool, files: tuple[str, ...] | None = None) -> None:
    """Make ``out_dir`` ready: new or empty, or (``overwrite``) with geomines' own
    ``files`` (default :data:`OUTPUT_FILES`) removed.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"Output path {str(out_dir)!r} exists and is not a directory.")
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise OutputError(
            f"Output directory {str(out_dir)!r} is not empty; expected a new or empty "
            "directory. Pass overwrite=True (--overwrite) to replace geomines' files in it."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in files if files is not None else OUTPUT_FILES:
        target = out_dir / name
        if target.is_file():
            target.unlink()


def write_outputs(
    assessment: Assessment,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    write_map: bool = True,
    write_report: bool = True,
    precision: int = 6,
    hxl: bool = False,
    provenance: dict[str, Any] | None = None,
    gpkg: bool = False,
    xlsx: bool = False,
    basemap: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """Write every output of an assessment into a directory.

    Parameters
    ----------
    assessment : Assessment
    out_dir : path
        Created if missing. A non-empty directory is only written into with
        ``overwrite=True``, and then only geomines' own files are replaced.
    overwrite : bool, default False
    write_map : bool, default True
        Also write ``map.html``.
    write_report : bool, default True
        Also write ``report.html`` (with the map embedded when ``write_map``).
    precision : int, default 6
        Decimal places of GeoJSON coordinates.
    hxl : bool, default False
        Add an HXL hashtag row under the header of each CSV table.
    provenance : dict, optional
        Extra provenance for the report (e.g. the command line).
    gpkg : bool, default False
        Also write ``geomines.gpkg``: every layer, with QGIS styles (:mod:`.gpkg`).
    xlsx : bool, default False
        Also write ``geomines.xlsx``: the tables, safe to open (:mod:`.xlsx`).
    basemap : path, optional
        MBTiles file or ``z/x/y`` tile directory embedded as the map's offline basemap.

    Returns
    -------
    dict of str to pathlib.Path
        The files written, by name.

    Raises
    ------
    OutputError
        The directory is not empty and ``overwrite`` is False, or is a file.
    """
    out = Path(out_dir)
    prepare_dir(out, overwrite)
    written = {"summary.json": _write_summary(assessment, out)}
    written.update(_write_tables(assessment, out, hxl))
    # the files (GDAL, GEOS and pandas at work) are written on a thread of their own
    # while this one builds the map and the report (mostly Python): they overlap
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="geomines-out") as files:
        layers = files.submit(_write_files, assessment, out, precision, gpkg, xlsx)
        pages = _write_pages(assessment, out, write_map, write_report, provenance, basemap)
        written.update(layers.result())
    written.update(pages)
    return written


def _write_files(
    assessment: Assessment, out: Path, precision: int, gpkg: bool, xlsx: bool
) -> dict[str, Path]:
    """The GeoJSON layers, and the GeoPackage and workbook when asked."""
    written = {}
    layers: list[tuple[str, gpd.GeoDataFrame, str | None]] = [
        ("hazards.geojson", assessment.hazards, "hazard_id"),
        ("rings.geojson", assessment.bands, "band"),
    ]
    if assessment.communities is not None:
        layers.append(("communities.geojson", assessment.communities, None))
    for name, frame, id_column in layers:
        written[name] = to_geojson(
            frame,
            out / name,
            precision=precision,
            id_column=id_column,
            foreign={"geomines": assessment.method},
        )
        release_memory()  # each output's temporaries go before the next is built
    if gpkg:
        from .gpkg import write_gpkg

        written["geomines.gpkg"] = write_gpkg(assessment, out / "geomines.gpkg")
    if xlsx:
        from .xlsx import write_xlsx

        written["geomines.xlsx"] = write_xlsx(assessment, out / "geomines.xlsx")
    return written


def _write_pages(
    assessment: Assessment,
    out: Path,
    write_map: bool,
    write_report: bool,
    provenance: dict[str, Any] | None,
    basemap: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """``map.html`` and ``report.html`` (the map streamed into the report)."""
    written: dict[str, Path] = {}
    if write_map:
        from ..maps import DisplayOptions, exposure_map

        written["map.html"] = out / "map.html"
        options = DisplayOptions(basemap=basemap)
        exposure_map(assessment, options=options).save(str(written["map.html"]))
        release_memory()
    if write_report:
        from . import report

        written["report.html"] = report.write_report(
            assessment,
            out / "report.html",
            map_path=written.get("map.html"),
            provenance=provenance,
        )
    return written


def _write_summary(assessment: Assessment, out: Path) -> Path:
    """``summary.json``: the assessment's summary with the rounded headline."""
    summary = assessment.summary()
    summary["headline"] = headline(assessment)
    path = out / "summary.json"
    path.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False, default=json_value),
        encoding="utf-8",
    )
    return path


def _write_tables(assessment: Assessment, out: Path, hxl: bool) -> dict[str, Path]:
    """The CSV tables that exist for this assessment."""
    tables = {
        "summary.csv": pd.DataFrame(summary_rows(assessment)),
        "by_admin.csv": assessment.by_admin,
        "by_class.csv": assessment.by_class,
        "by_class_precedence.csv": assessment.by_precedence,
        "priority.csv": assessment.priority,
        "sources.csv": sources_table(assessment.sources, assessment.rings_m)
        if assessment.sources
        else None,
        "curve.csv": assessment.curve,
        "by_age_sex.csv": assessment.by_age_sex,
        "communities.csv": (
            pd.DataFrame(assessment.communities.drop(columns="geometry"))
            if assessment.communities is not None
            else None
        ),
    }
    written = {}
    for name, table in tables.items():
        if table is not None:
            write_table(table, out / name, hxl)
            written[name] = out / name
    return written
