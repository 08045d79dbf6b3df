"""Hazard layers: read, map to the mine-action schema, repair and report (the loading stage).

Schema (following IMSMA / IMAS 07.11 usage)
-------------------------------------------
``hazard_id``      str, unique; generated (``H-<row>``) where missing
``land_class``     ``SHA`` | ``CHA`` | ``other``
``contamination``  ``AP mine``, ``AT mine``, ``ERW``, ``CMR``, ``IED``, ``unknown``;
                   several joined by ``"; "``
``status``         ``open`` | ``cancelled`` | ``reduced`` | ``cleared``
``evidence``       ``direct`` | ``indirect`` | ``none``
``reported``       date
``load_status``    ``ok`` | ``repaired`` | ``excluded``
``load_note``      why a row was repaired or excluded ("" when ok)

All other input columns are kept untouched. Values outside the vocabulary are
kept as they are and listed in the load report, never guessed.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from .crs import crs_label
from .errors import CRSError, InputError, LoadWarning, RepairWarning
from .io.encoding import python_encoding
from .io.vector import read_frame
from .loadreport import LoadReport, warn_load
from .repair import check_coordinates, points_to_circles, repair_geometries
from .schema import map_columns, normalise_schema
from .shapes import shape_kinds

__all__ = [
    "LoadedHazards",
    "load_hazards",
    "load_report",
    "read_hazards",
    "report_json",
    "validate_hazards",
]


# --------------------------------------------------------------------------- public
def read_hazards(
    path: str | os.PathLike,
    *,
    layer: str | int | None = None,
    crs: Any = None,
    columns: Mapping[str, str] | None = None,
    radius_column: str | None = None,
    area_column: str | None = None,
    wkt: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    strict: bool = False,
    encoding: str | None = None,
    date_format: str | None = None,
    area_unit: str = "m2",
    build_circles: bool = True,
) -> gpd.GeoDataFrame:
    """Read a hazard layer into the mine-action schema, repairing and reporting.

    Parameters
    ----------
    path : path
        GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped), FlatGeobuf, or CSV
        with a WKT column or lon/lat columns.
    layer : str or int, optional
        Layer of a multi-layer file (default: the first, with a warning).
    crs : CRS-like, optional
        The coordinates' CRS when the file has none (an error otherwise) or a wrong one.
    columns : mapping, optional
        ``{schema_field: input_column}``; others matched by name and synonyms.
    radius_column, area_column : str, optional
        For points: a radius in metres, or an area in ``area_unit`` (``area_m2``,
        ``area_ha``, ``area_km2`` by name; never a bare ``area``). Such points become
        circles built in metres; others stay points.
    wkt, lon, lat : str, optional
        CSV geometry columns whose names are not recognised.
    strict : bool, default False
        Refuse instead of repairing or excluding, and refuse repeated ids.
    encoding : str, optional
        The attributes' text encoding (``"cp1251"``, ``"latin-1"``); by default the
        declared one, or a guess named in a warning when that fails.
    date_format : str, optional
        ``strptime`` format of non-ISO report dates (``"%d/%m/%Y"``); by default
        one day/month order is decided for the whole column.
    area_unit : {"m2", "ha", "km2"}, default "m2"
        Unit of ``area_column``.
    build_circles : bool, default True
        False keeps such points, the radius in ``circle_radius_m`` (:mod:`geomines.shapes`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row, in the schema, in the input CRS; the
        :class:`LoadReport` in ``attrs["load_report"]`` (or use :func:`load_hazards`).

    Raises
    ------
    FileNotFoundError, InputError
        The path does not exist; the file cannot be read or has no geometry.
    CRSError
        No CRS, or every row impossible for it (swapped lat/lon, projected).
    InvalidGeometryError
        ``strict=True`` and a geometry needed a repair.
    """
    p = _hazard_path(path)
    report = LoadReport(source=p.name, path=str(p.resolve()))
    options: dict[str, Any] = {"wkt": wkt, "lon": lon, "lat": lat, "crs": crs, "encoding": encoding}
    if encoding:
        python_encoding(encoding)  # a clear error for an unknown name
    frame, bad_rows, decode_fixed = _read(p, layer, report, options)
    frame = _with_crs(frame, crs, options.get("assumed_crs"), report, p)
    frame = map_columns(frame, columns, report)
    frame = normalise_schema(frame, report, strict, date_format)
    frame = repair_geometries(frame, report, strict, bad_rows, decode_fixed)
    frame = check_coordinates(frame, p, strict)
    circles = (radius_column, area_column, area_unit)
    return _reported(points_to_circles(frame, report, *circles, build=build_circles), report)


def _reported(frame: gpd.GeoDataFrame, report: LoadReport) -> gpd.GeoDataFrame:
    """The frame, accounted in its report (kept in ``attrs``), the report's warnings given."""
    _account(frame, report)
    frame.attrs["load_report"] = report
    warn_load(report)
    return frame


def _read(
    p: Path, layer: str | int | None, report: LoadReport, options: dict[str, Any]
) -> tuple[gpd.GeoDataFrame, list[int], dict[int, bool]]:
    """The file's rows, and the rows whose geometry text or bytes needed fixing."""
    frame = read_frame(p, layer, report, options)
    bad_rows = list(frame.attrs.get("bad_geometry_rows", []))
    decode_fixed = dict(frame.attrs.get("decode_fixed", {}))
    frame.attrs = {}
    report.rows = len(frame)
    return frame, bad_rows, decode_fixed


def _hazard_path(path: str | os.PathLike) -> Path:
    """The path, checked before any parsing: it exists, is a file, is not empty."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"Hazard file not found: {str(p)!r}")
    if p.is_dir():
        raise InputError(f"Expected a hazard file, got a directory: {str(p)!r}.")
    if p.stat().st_size == 0:
        raise InputError(f"Hazard file {p.name} is empty (zero bytes).")
    return p


def _with_crs(
    frame: gpd.GeoDataFrame, crs: Any, assumed: Any, report: LoadReport, p: Path
) -> gpd.GeoDataFrame:
    """The frame with its CRS: the one given, the file's, or the one its columns imply."""
    if crs is not None:
        try:
            target = CRS.from_user_input(crs)
        except ProjCRSError as exc:
            raise CRSError(f"Expected a CRS such as 'EPSG:4326', got {crs!r}: {exc}") from exc
        if frame.crs is not None and CRS.from_user_input(frame.crs) != target:
            report.note(f"file CRS {frame.crs.to_string()} overridden by {target}")
        frame = frame.set_crs(target, allow_override=True)
        report.crs_note = "given explicitly"
    elif frame.crs is None and assumed:
        frame = frame.set_crs(assumed)
    if frame.crs is None:
        raise CRSError(
            f"Hazards in {p.name} have no CRS. Expected a CRS in the file (a .prj for "
            "shapefiles); got none. Pass it explicitly: read_hazards(..., crs='EPSG:4326') "
            "or --hazards-crs EPSG:4326 (use the file's real CRS)."
        )
    report.crs = crs_label(frame.crs)
    return frame


def _account(frame: gpd.GeoDataFrame, report: LoadReport) -> None:
    """Every row into the report: repaired and excluded rows, counts, points and lines."""
    for i, (st, note) in enumerate(zip(frame["load_status"], frame["load_note"], strict=True)):
        if st != "ok":
            report.add(i + 1, frame["hazard_id"].iloc[i], st, note)
    kinds = shape_kinds(frame)  # points whose circles are built where used: areas
    usable = frame["load_status"].to_numpy() != "excluded"
    report.usable = int(usable.sum())
    report.repaired = int((frame["load_status"] == "repaired").sum())
    report.excluded = int((~usable).sum())
    report.points = int((usable & np.isin(kinds, ["Point", "MultiPoint"])).sum())
    report.lines = int((usable & (np.char.find(kinds, "LineString") >= 0)).sum())
    polygons = usable & (np.char.find(kinds, "Polygon") >= 0)
    if polygons.any() and (report.points or report.lines):
        special = usable & ~polygons & (kinds != "")
        report.points_and_lines = frame.loc[special, "hazard_id"].astype(str).tolist()


class LoadedHazards(NamedTuple):
    """A hazard layer and the report of how it was read (see :func:`load_hazards`)."""

    hazards: gpd.GeoDataFrame
    report: LoadReport


def load_hazards(path: str | os.PathLike, **kwargs: Any) -> LoadedHazards:
    """Read a hazard layer and return it with its :class:`LoadReport`.

    The same as :func:`read_hazards` (whose keywords it takes), with the report
    returned rather than only attached to ``hazards.attrs``, which pandas drops on
    concat; pass it on with ``assess(..., load_report=report)``.

    Examples
    --------
    >>> hazards, report = load_hazards("hazards.gpkg")  # doctest: +SKIP
    """
    frame = read_hazards(path, **kwargs)
    return LoadedHazards(frame, frame.attrs["load_report"])


def validate_hazards(path: str | os.PathLike, **kwargs: Any) -> LoadReport:
    """Load a hazard file and return only its :class:`LoadReport`.

    Parameters
    ----------
    path : path
    **kwargs
        As for :func:`read_hazards`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepairWarning)
        warnings.simplefilter("ignore", LoadWarning)  # the report holds every note
        return read_hazards(path, **kwargs).attrs["load_report"]


def load_report(hazards: gpd.GeoDataFrame) -> LoadReport | None:
    """The :class:`LoadReport` attached to a frame by :func:`read_hazards`, if any."""
    report = hazards.attrs.get("load_report")
    return report if isinstance(report, LoadReport) else None


def report_json(report: LoadReport) -> str:
    """The load report as indented JSON text."""
    return json.dumps(report.to_dict(), indent=2, default=str)
