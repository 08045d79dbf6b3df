"""Hazard layers: read any vector format, map to the mine-action schema, validate.

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

import datetime as dt
import json
import math
import os
import re
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from .encoding import gdal_encoding, guess_encoding, python_encoding, recode
from .errors import CRSError, InputError, InvalidGeometryError, LoadWarning, RepairWarning
from .rings import buffer_m, transform_geoms

__all__ = ["SCHEMA", "LoadReport", "read_hazards", "read_vector", "validate_hazards"]

SCHEMA = ("hazard_id", "land_class", "contamination", "status", "evidence", "reported")

#: Column synonyms, matched case-insensitively, ignoring spaces, dashes and underscores.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "hazard_id": ("hazard_id", "hazardid", "id", "hazard_ref", "hazardref", "ref", "reference",
                  "local_id", "localid", "hazard_local_id", "imsma_id", "hazard_code", "code",
                  "guid"),
    "land_class": ("land_class", "landclass", "class", "hazard_class", "hazard_type",
                   "hazardtype", "area_type", "type", "category", "classification"),
    "contamination": ("contamination", "contamination_type", "contaminationtype",
                      "device_type", "devicetype", "ordnance", "ordnance_type", "threat",
                      "threat_type", "explosive_type", "hazard_contamination"),
    "status": ("status", "hazard_status", "hazardstatus", "state", "land_status"),
    "evidence": ("evidence", "evidence_type", "evidence_level", "evidencetype"),
    "reported": ("reported", "date_reported", "reported_date", "report_date", "reportdate",
                 "date", "date_of_report", "survey_date", "recorded", "date_recorded"),
}

LAND_CLASS_VALUES = {
    "sha": "SHA", "suspected hazardous area": "SHA", "suspected": "SHA",
    "cha": "CHA", "confirmed hazardous area": "CHA", "confirmed": "CHA",
    "other": "other",
}
CONTAMINATION_VALUES = {
    "ap mine": "AP mine", "apm": "AP mine", "ap": "AP mine", "anti-personnel mine": "AP mine",
    "antipersonnel mine": "AP mine", "anti personnel mine": "AP mine",
    "at mine": "AT mine", "atm": "AT mine", "at": "AT mine", "anti-tank mine": "AT mine",
    "antitank mine": "AT mine", "anti tank mine": "AT mine", "anti-vehicle mine": "AT mine",
    "erw": "ERW", "uxo": "ERW", "axo": "ERW", "unexploded ordnance": "ERW",
    "abandoned explosive ordnance": "ERW", "explosive remnants of war": "ERW",
    "cmr": "CMR", "cluster munition remnants": "CMR", "cluster munitions": "CMR",
    "cluster": "CMR", "submunitions": "CMR",
    "ied": "IED", "improvised explosive device": "IED",
    "unknown": "unknown",
}
STATUS_VALUES = {
    "open": "open", "active": "open",
    "cancelled": "cancelled", "canceled": "cancelled",
    "reduced": "reduced",
    "cleared": "cleared",
}
EVIDENCE_VALUES = {"direct": "direct", "indirect": "indirect", "none": "none", "no": "none"}

WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape", "wkt_geom")
LON_COLUMNS = ("lon", "longitude", "long", "lng", "x_lon")
LAT_COLUMNS = ("lat", "latitude", "y_lat")
RADIUS_COLUMNS = ("radius_m", "radius", "buffer_m", "radius_metres", "radius_meters")
AREA_COLUMNS = {"area_m2": 1.0, "area_sqm": 1.0, "area_ha": 1e4, "area_hectares": 1e4,
                "area_km2": 1e6}
#: Area units for an explicitly mapped area column: m² per unit.
AREA_UNITS = {"m2": 1.0, "ha": 1e4, "km2": 1e6}
#: Area columns whose unit is not in their name: never guessed, only mapped.
UNITLESS_AREA_COLUMNS = ("area", "size", "surface", "superficie", "area_size")

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".fgb", ".zip", ".csv", ".gml",
                   ".kml", ".sqlite", ".parquet"}


def _key(name: str) -> str:
    return re.sub(r"[\s\-_]+", "_", str(name).strip().lower())


@dataclass
class RowIssue:
    """One row that was repaired or excluded."""

    row: int
    hazard_id: str
    action: str  # "repaired" | "excluded"
    reason: str


@dataclass
class LoadReport:
    """Accounts for every input row of a hazard layer.

    Printing it gives a readable summary; :meth:`to_dict` gives JSON.
    """

    source: str
    path: str = ""
    driver: str = ""
    layer: str | None = None
    crs: str | None = None
    crs_note: str = ""
    rows: int = 0
    usable: int = 0
    repaired: int = 0
    excluded: int = 0
    points: int = 0
    lines: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    issues: list[RowIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown_values: dict[str, list[str]] = field(default_factory=dict)
    #: The notes that are also warnings (encoding fallback, legacy ``crs``, Z/M dropped, ...).
    warned: list[str] = field(default_factory=list)
    #: The text encoding the attributes were read in (None: not text-based or ASCII only).
    encoding: str | None = None
    encoding_declared: str | None = None
    #: Repeated input ids and the unique ids given to their rows (``H-1``, ``H-1#2``).
    duplicate_ids: dict[str, list[str]] = field(default_factory=dict)
    #: Ids of usable points and lines in a layer that also holds polygons.
    points_and_lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when at least one hazard geometry can be used."""
        return self.usable > 0

    def note(self, text: str, *, warn: bool = False) -> None:
        """Add a file-level note; ``warn`` also makes it a warning when loading ends."""
        self.notes.append(text)
        if warn:
            self.warned.append(text)

    @property
    def excluded_rows(self) -> list[dict[str, Any]]:
        """Rows excluded from the numbers: ``{"row", "hazard_id", "reason"}``."""
        return [{"row": i.row, "hazard_id": i.hazard_id, "reason": i.reason}
                for i in self.issues if i.action == "excluded"]

    def add(self, row: int, hazard_id: str, action: str, reason: str) -> None:
        """Record a repaired or excluded row."""
        self.issues.append(RowIssue(row, hazard_id, action, reason))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "source": self.source,
            "driver": self.driver,
            "layer": self.layer,
            "crs": self.crs,
            "crs_note": self.crs_note,
            "rows": self.rows,
            "usable": self.usable,
            "repaired": self.repaired,
            "excluded": self.excluded,
            "points_without_area": self.points,
            "lines": self.lines,
            "columns": self.columns,
            "issues": [vars(i) for i in self.issues],
            "notes": self.notes,
            "unknown_values": self.unknown_values,
            "encoding": self.encoding,
            "duplicate_ids": self.duplicate_ids,
            "excluded_rows": self.excluded_rows,
            "points_and_lines": self.points_and_lines,
            "ok": self.ok,
        }

    def __str__(self) -> str:
        lines = [
            f"Hazards: {self.source}" + (f" (layer {self.layer})" if self.layer else ""),
            f"  format: {self.driver}; CRS: {self.crs}" + (
                f" ({self.crs_note})" if self.crs_note else ""),
            f"  rows: {self.rows}; usable: {self.usable} (of which repaired: {self.repaired}, "
            f"points without area: {self.points}, lines: {self.lines}); "
            f"excluded: {self.excluded}",
        ]
        if self.columns:
            mapped = ", ".join(f"{v} <- {k!r}" for k, v in self.columns.items())
            lines.append(f"  columns: {mapped}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        for col, vals in self.unknown_values.items():
            lines.append(f"  values outside the {col} vocabulary (kept as is): {', '.join(vals)}")
        for issue in self.issues:
            lines.append(
                f"  row {issue.row} [{issue.hazard_id}]: {issue.action}: {issue.reason}"
            )
        lines.append("  result: " + ("usable" if self.ok else "NOT usable: no hazard geometry"))
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading
def _read_frame(path: Path, layer: str | int | None, report: LoadReport,
                options: dict[str, Any]) -> gpd.GeoDataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        report.driver = "CSV"
        return _read_csv(path, report, options)
    target = str(path)
    if suffix == ".zip":
        try:
            names = zipfile.ZipFile(path).namelist()
        except zipfile.BadZipFile as exc:
            raise InputError(f"{path.name} is not a readable zip archive: {exc}.") from exc
        shp = [n for n in names if n.lower().endswith(".shp")]
        if not shp:
            raise InputError(
                f"Expected a zipped shapefile (.shp inside) in {path.name}, found {names[:5]}."
            )
        target = f"/vsizip/{path}/{shp[0]}"
    if suffix == ".shp":
        missing = [ext for ext in (".shx", ".dbf") if not any(
            path.with_suffix(e).exists() for e in (ext, ext.upper()))]
        if missing:
            raise InputError(
                f"Shapefile {path.name} is missing its sidecar file(s) {', '.join(missing)}; "
                "a shapefile needs .shp, .shx and .dbf (and .prj for its CRS) side by side. "
                "Copy them all, or send the layer as GeoPackage or zipped shapefile."
            )
    try:
        if layer is None:
            layers = pyogrio.list_layers(target)
            if len(layers) > 1:
                report.note(
                    f"{len(layers)} layers in file; read the first ({layers[0][0]!r}). "
                    "Choose another with layer=... / --layer.", warn=True
                )
                report.layer = str(layers[0][0])
                layer = layers[0][0]
        else:
            report.layer = str(layer)
        info = pyogrio.read_info(target, layer=layer)
        report.driver = info.get("driver") or suffix.lstrip(".")
        frame = _read_ogr(target, layer, report, options.get("encoding"))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            f"Expected a vector file (GeoJSON, GeoPackage, Shapefile, FlatGeobuf or CSV), "
            f"could not read {path.name}: {_first_line(exc)}"
        ) from exc
    except (UnicodeDecodeError, ValueError, RuntimeError) as exc:
        raise InputError(f"Could not read {path.name}: {_first_line(exc)}. Expected a "
                         "vector file GDAL can read.") from exc
    if suffix in (".geojson", ".json"):
        _geojson_crs_note(path, frame, report)
    return frame


def _read_ogr(target: str, layer: str | int | None, report: LoadReport,
              encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read through GDAL, keeping rows whose geometry GEOS cannot decode as-is.

    GDAL accepts rings that are not closed or too short and hands them on; such
    geometries are decoded with GEOS's fixes (rings closed) and marked repaired,
    or left null and marked excluded. GDAL's warnings go into the report.

    Text: ``encoding`` when given; otherwise the file's declared encoding (GDAL's
    reading of a ``.cpg`` or the format's rule). When that does not decode the
    bytes, or a shapefile declares none, the raw bytes are read and the encoding
    is chosen by :func:`geomines.encoding.guess_encoding`, with a warning naming it.
    """
    options: dict[str, str] = {}
    gdal_enc = gdal_encoding(encoding) if encoding else None
    raw = False
    for _attempt in range(3):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frame = pyogrio.read_dataframe(target, layer=layer, on_invalid="ignore",
                                               datetime_as_string=True,
                                               encoding=gdal_enc, **options)
            break
        except UnicodeDecodeError as exc:
            if raw or encoding:
                raise InputError(
                    f"Attribute text could not be read as {encoding or 'declared'}: "
                    f"{_first_line(exc)}. Pass the file's encoding with encoding=... "
                    "(--encoding), e.g. 'cp1251' or 'latin-1'.") from None
            raw, gdal_enc = True, "ISO-8859-1"  # one character per byte: recoded below
            report.encoding_declared = report.encoding_declared or "UTF-8"
        except ValueError as exc:
            # a date GDAL detected but cannot represent (e.g. year -1): read dates as text
            if "out of range" not in str(exc) or options or report.driver != "GeoJSON":
                raise
            options = {"DATE_AS_STRING": "YES"}
            report.note("dates read as text (one is outside the representable range)")
    for w in caught:
        text = "GDAL: " + str(w.message).split(". To avoid")[0]
        if text not in report.notes:
            report.note(text)
    if encoding:
        report.encoding = python_encoding(encoding)
    elif raw:
        _recode_frame(frame, report, "is not valid UTF-8")
    elif report.driver == "ESRI Shapefile" and not _has_cpg(target):
        # no .cpg: GDAL read the bytes as ISO-8859-1 (or the DBF's code page mark)
        _recode_frame(frame, report, "has no .cpg file naming its encoding",
                      keep_latin="cp1252")
    missing = frame.geometry.isna().to_numpy()
    if missing.any():
        frame = _decode_fixes(frame, target, layer, gdal_enc)
    return frame


def _has_cpg(target: str) -> bool:
    if target.startswith("/vsizip/"):
        archive, _, inner = target.removeprefix("/vsizip/").partition(".zip/")
        try:
            names = zipfile.ZipFile(archive + ".zip").namelist()
        except (OSError, zipfile.BadZipFile):
            return False
        stem = inner.rsplit(".", 1)[0].lower()
        return any(n.lower() == stem + ".cpg" for n in names)
    path = Path(target)
    return any(path.with_suffix(e).exists() for e in (".cpg", ".CPG"))


def _text_columns(frame: pd.DataFrame) -> list[str]:
    geometry = getattr(frame, "_geometry_column_name", None)
    return [c for c in frame.columns if c != geometry and (
        frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype))]


def _recode_frame(frame: pd.DataFrame, report: LoadReport, why: str,
                  keep_latin: str | None = None) -> None:
    """Text read one character per byte, decoded as the guessed encoding (in place)."""
    columns = _text_columns(frame)
    sample = bytearray()
    for c in columns:
        for v in frame[c].dropna().unique()[:5000]:
            if isinstance(v, str):
                sample += v.encode("latin-1", errors="ignore") + b" "
    if not any(b >= 0x80 for b in sample):
        return  # ASCII only: every encoding reads it the same
    chosen = guess_encoding(bytes(sample))
    if chosen == keep_latin:
        report.encoding = "iso8859-1"
        report.note(f"attribute text {why}; read as ISO-8859-1 (GDAL's default for "
                    "shapefiles). Pass encoding=... (--encoding) if names look wrong.",
                    warn=True)
        return
    for c in columns:
        frame[c] = frame[c].map(lambda v: recode(v, chosen) if isinstance(v, str) else v)
    report.encoding = chosen
    report.note(f"attribute text {why}; read as {chosen} (guessed from the text). Pass "
                "encoding=... (--encoding) to choose another.", warn=True)


def _decode_fixes(frame: gpd.GeoDataFrame, target: str, layer: str | int | None,
                  gdal_enc: str | None) -> gpd.GeoDataFrame:
    """Geometries GDAL handed on but GEOS could not decode: fixed, or left empty."""
    missing = frame.geometry.isna().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's warnings were recorded above
        _, _, wkb, _ = pyogrio.raw.read(target, layer=layer, columns=[], encoding=gdal_enc)
    fixes = {}
    for i in np.nonzero(missing)[0]:
        if wkb[i] is None:
            continue  # a real null geometry
        fixes[int(i)] = shapely.from_wkb(wkb[i], on_invalid="fix")
    if fixes:
        geoms = np.asarray(frame.geometry.values, dtype=object).copy()
        for i, g in fixes.items():
            geoms[i] = g if g is not None else shapely.GeometryCollection()
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
        frame.attrs["decode_fixed"] = {i: g is not None for i, g in fixes.items()}
    return frame


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _geojson_crs_note(path: Path, frame: gpd.GeoDataFrame, report: LoadReport) -> None:
    """GDAL gives GeoJSON EPSG:4326 when it names no CRS (RFC 7946); say so."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16).decode("utf-8", "replace")
    except OSError:
        return
    if '"crs"' in head:
        wgs84 = frame.crs is not None and CRS.from_user_input(frame.crs).equals(
            CRS.from_user_input("OGC:CRS84"), ignore_axis_order=True)
        if wgs84:
            report.note("GeoJSON has a legacy 'crs' member naming WGS 84, as RFC 7946 assumes.")
        else:
            report.note(f"GeoJSON has a legacy 'crs' member ({_crs_label(frame.crs)}); it was "
                        "honoured, although RFC 7946 GeoJSON is always WGS 84 lon/lat.",
                        warn=True)
    else:
        report.crs_note = "GeoJSON without 'crs' member: WGS 84 lon/lat per RFC 7946"


def _csv_frame(path: Path, report: LoadReport, encoding: str | None) -> pd.DataFrame:
    """The CSV's cells as text: in ``encoding``, UTF-8, or the guessed encoding (noted)."""
    chosen = python_encoding(encoding) if encoding else "utf-8-sig"
    if not encoding:
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            chosen = guess_encoding(path.read_bytes())
            if chosen == "cp1252":
                try:
                    path.read_bytes().decode("cp1252")
                except UnicodeDecodeError:
                    chosen = "latin-1"  # bytes cp1252 leaves undefined
            report.note(f"CSV text is not valid UTF-8; read as {chosen} (guessed from the "
                        "text). Pass encoding=... (--encoding) to choose another.", warn=True)
    report.encoding = "utf-8" if chosen == "utf-8-sig" else chosen
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           encoding=chosen)
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"CSV {path.name} is empty: expected a header row and records.") from exc
    except (pd.errors.ParserError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise InputError(f"CSV {path.name} could not be parsed as {report.encoding}: "
                         f"{_first_line(exc)}. Expected comma-separated text with a header "
                         "row; pass encoding=... (--encoding) if the text is not UTF-8."
                         ) from exc


def _read_csv(path: Path, report: LoadReport, options: dict[str, Any]) -> gpd.GeoDataFrame:
    df = _csv_frame(path, report, options.get("encoding"))
    keys = {_key(c): c for c in df.columns}
    wkt_col = options.get("wkt") or next((keys[k] for k in WKT_COLUMNS if k in keys), None)
    lon_col = options.get("lon") or next((keys[k] for k in LON_COLUMNS if k in keys), None)
    lat_col = options.get("lat") or next((keys[k] for k in LAT_COLUMNS if k in keys), None)
    if wkt_col is None and (lon_col is None or lat_col is None):
        for xk, yk in (("x", "y"), ("easting", "northing")):
            if xk in keys and yk in keys:
                lon_col, lat_col = keys[xk], keys[yk]
                report.note(f"point coordinates from columns {lon_col!r}, {lat_col!r}")
                break
    geoms = np.array([None] * len(df), dtype=object)
    bad: list[int] = []
    if wkt_col is not None:
        for i, text in enumerate(df[wkt_col].tolist()):
            if text is None or (isinstance(text, float) and math.isnan(text)):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # NaN: excluded later
                    geoms[i] = shapely.from_wkt(str(text))
            except shapely.errors.ShapelyError:
                bad.append(i)
        df = df.drop(columns=[wkt_col])
        report.note(f"geometry from WKT column {wkt_col!r}")
    elif lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(df[lon_col], errors="coerce").to_numpy()
        lat = pd.to_numeric(df[lat_col], errors="coerce").to_numpy()
        for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
            if np.isfinite(x) and np.isfinite(y):
                geoms[i] = shapely.Point(x, y)
            elif not (pd.isna(df[lon_col].iloc[i]) and pd.isna(df[lat_col].iloc[i])):
                bad.append(i)
        if options.get("crs") is None and _key(lon_col) in LON_COLUMNS:
            options["assumed_crs"] = "EPSG:4326"
            report.crs_note = (
                f"CSV columns {lon_col!r}/{lat_col!r} are longitude/latitude: WGS 84 assumed"
            )
    else:
        raise InputError(
            f"CSV {path.name} has no geometry: expected a WKT column ({', '.join(WKT_COLUMNS)}) "
            f"or lon/lat columns; got columns {list(df.columns)}. Name them with "
            "wkt=... or lon=..., lat=... (--wkt-column, --lon-column, --lat-column)."
        )
    frame = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms), crs=None)
    frame.attrs["bad_geometry_rows"] = bad
    return frame


# --------------------------------------------------------------------------- schema
def _map_columns(frame: gpd.GeoDataFrame, columns: Mapping[str, str] | None,
                 report: LoadReport) -> gpd.GeoDataFrame:
    rename: dict[str, str] = {}
    taken: set[str] = set()
    explicit = dict(columns or {})
    lookup = {_key(c): c for c in frame.columns if c != frame.geometry.name}
    for target, source in explicit.items():
        if target not in SCHEMA:
            raise InputError(f"Column mapping targets must be among {SCHEMA}, got {target!r}.")
        if source not in frame.columns:
            real = lookup.get(_key(source))
            if real is None:
                raise InputError(
                    f"Column mapping {target}={source!r}: no such column; "
                    f"columns are {[c for c in frame.columns if c != frame.geometry.name]}."
                )
            source = real
        rename[source] = target
        taken.add(target)
    for target in SCHEMA:
        if target in taken:
            continue
        for syn in SYNONYMS[target]:
            source = lookup.get(syn)
            if source is not None and source not in rename:
                rename[source] = target
                taken.add(target)
                break
    for source, target in rename.items():
        if source != target:
            report.columns[source] = target
    # an input column already named like a schema field but not chosen is kept aside
    clash = [c for c in frame.columns if c in SCHEMA and c not in rename and c in taken]
    frame = frame.rename(columns={c: f"{c}_input" for c in clash})
    return frame.rename(columns=rename)


def _normalise_vocab(values: pd.Series, vocab: Mapping[str, str], name: str,
                     report: LoadReport, default: str) -> pd.Series:
    out = []
    unknown: set[str] = set()
    missing = 0
    for v in values.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            out.append(default)
            missing += 1
            continue
        key = str(v).strip().lower()
        if key in vocab:
            out.append(vocab[key])
        else:
            out.append(str(v))
            unknown.add(str(v))
    if unknown:
        report.unknown_values[name] = sorted(unknown)
    if missing and missing < len(out):
        report.note(f"{missing} row(s) without {name}: set to {default!r}")
    return pd.Series(out, index=values.index, dtype=object)


def _normalise_contamination(values: pd.Series, report: LoadReport) -> pd.Series:
    out = []
    unknown: set[str] = set()
    for v in values.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            out.append("unknown")
            continue
        parts = [p.strip() for p in re.split(r"[;,|/+]", str(v)) if p.strip()]
        mapped = []
        for p in parts:
            m = CONTAMINATION_VALUES.get(p.lower())
            if m is None:
                unknown.add(p)
                m = p
            if m not in mapped:
                mapped.append(m)
        out.append("; ".join(mapped) if mapped else "unknown")
    if unknown:
        report.unknown_values["contamination"] = sorted(unknown)
    return pd.Series(out, index=values.index, dtype=object)


def _unique_ids(ids: list[str], report: LoadReport, strict: bool) -> list[str]:
    """Ids made unique: the first row of a repeated id keeps it, later rows get ``#2``, ...

    Real exports repeat ids (a multi-part hazard as several rows, one hazard in two
    surveys). Every row is counted (the dissolved numbers do not change); the rows
    get ids that tell them apart, and the report lists them. ``strict`` refuses.
    """
    counts = pd.Series(ids).value_counts()
    dupes = counts[counts > 1]
    if not len(dupes):
        return ids
    listing = ", ".join(f"{k!r} ×{v}" for k, v in dupes.head(10).items()) + (
        f" and {len(dupes) - 10} more" if len(dupes) > 10 else "")
    if strict:
        raise InputError(
            f"strict=True: expected unique hazard ids, got duplicates: {listing}. Fix the ids, "
            "map another column with columns={'hazard_id': ...}, or load without strict to "
            "number the repeats (H-1, H-1#2).")
    taken = set(ids)
    seen: dict[str, int] = {}
    out = []
    for value in ids:
        seen[value] = seen.get(value, 0) + 1
        new = value
        if seen[value] > 1:
            k = seen[value]
            new = f"{value}#{k}"
            while new in taken:
                k += 1
                new = f"{value}#{k}"
            taken.add(new)
            report.duplicate_ids.setdefault(value, [value]).append(new)
        out.append(new)
    report.note(f"{len(dupes)} hazard id(s) repeated: {listing}. Every row is counted; repeats "
                "are numbered '<id>#2', '<id>#3', ... in the outputs (the input id is kept in "
                "'hazard_id_input').", warn=True)
    return out


def _normalise_schema(frame: gpd.GeoDataFrame, report: LoadReport,
                      strict: bool = False, date_format: str | None = None
                      ) -> gpd.GeoDataFrame:
    n = len(frame)
    # ids
    if "hazard_id" in frame.columns:
        raw = frame["hazard_id"]
        ids = [None if (v is None or (isinstance(v, float) and math.isnan(v))
                        or str(v).strip() == "") else str(v).strip() for v in raw.tolist()]
    else:
        ids = [None] * n
    present = {i for i in ids if i is not None}
    generated = 0
    for row, value in enumerate(ids):
        if value is None:
            candidate = f"H-{row + 1:04d}"
            while candidate in present:
                candidate += "x"
            ids[row] = candidate
            present.add(candidate)
            generated += 1
    if generated:
        report.note(f"{generated} hazard id(s) generated as H-<row number>")
    original = list(ids)
    ids = _unique_ids(ids, report, strict)
    if ids != original:
        frame["hazard_id_input"] = pd.Series(original, index=frame.index, dtype=object)
    frame["hazard_id"] = pd.Series(ids, index=frame.index, dtype=object)

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name]
        return pd.Series([None] * n, index=frame.index, dtype=object)

    if "land_class" not in frame.columns:
        report.note("no land class column: every hazard is 'other'")
    frame["land_class"] = _normalise_vocab(column("land_class"), LAND_CLASS_VALUES,
                                           "land_class", report, "other")
    if "contamination" not in frame.columns:
        report.note("no contamination column: every hazard is 'unknown'")
    frame["contamination"] = _normalise_contamination(column("contamination"), report)
    if "status" not in frame.columns:
        report.note("no status column: every hazard is treated as 'open'")
    frame["status"] = _normalise_vocab(column("status"), STATUS_VALUES, "status", report,
                                       "open")
    frame["evidence"] = _normalise_vocab(column("evidence"), EVIDENCE_VALUES, "evidence",
                                         report, "none") if "evidence" in frame.columns \
        else pd.Series(["none"] * n, index=frame.index, dtype=object)
    frame["reported"] = _parse_dates(column("reported"), report, date_format)
    ordered = [*SCHEMA, *[c for c in frame.columns if c not in SCHEMA]]
    return frame[ordered]


def _one_date(value: Any) -> pd.Timestamp:
    """One value as a date, or NaT (unparseable or outside pandas' 1677-2262 range)."""
    try:
        ts = pd.to_datetime(value, errors="coerce", utc=True)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        return pd.NaT
    try:
        return ts.tz_localize(None).as_unit("ns")
    except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return pd.NaT


#: Year first (ISO 8601 and its slash/dot variants): never ambiguous.
_YEAR_FIRST = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[T\s])")
#: Day and month first, in an order a column decides: ``03/04/2020``, ``3.4.20``.
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:$|[T\s])")


def _date_convention(texts: list[str], date_format: str | None, report: LoadReport
                     ) -> str | None:
    """``"%d"`` (day first) or ``"%m"`` for the whole column, or None when undecidable.

    A first field above 12 anywhere in the column decides day-first; else a second
    field above 12 decides month-first. Dates whose day and month are equal read the
    same either way.
    """
    if date_format:
        return None
    pairs = [(int(m.group(1)), int(m.group(3))) for t in texts
             if (m := _NUMERIC_DATE.match(t))]
    if not pairs:
        return None
    if any(a > 12 for a, _ in pairs):
        return "%d"
    if any(b > 12 for _, b in pairs):
        return "%m"
    ambiguous = [t for t in texts if (m := _NUMERIC_DATE.match(t)) and m.group(1) != m.group(3)
                 and int(m.group(1)) != int(m.group(3))]
    if ambiguous:
        report.note(
            f"reported dates such as {ambiguous[0]!r} could be day-first or month-first and no "
            "date in the column decides; those dates were left empty. Pass the format with "
            "date_format='%d/%m/%Y' (--date-format) to read them.", warn=True)
        return "?"
    return "%d"


def _one_text_date(text: str, convention: str | None, date_format: str | None
                   ) -> pd.Timestamp:
    """One date by the column's convention; NaT when it does not fit."""
    if (m := _YEAR_FIRST.match(text)) is not None:
        try:
            return pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except (ValueError, OverflowError):
            return pd.NaT
    if date_format:
        try:
            return pd.Timestamp(dt.datetime.strptime(text.strip(), date_format))
        except (ValueError, OverflowError):
            return pd.NaT
    if (m := _NUMERIC_DATE.match(text)) is not None:
        if convention == "?":
            a, b = int(m.group(1)), int(m.group(3))
            if a != b:
                return pd.NaT
        first, _, second, year = m.group(1), m.group(2), m.group(3), m.group(4)
        day, month = (first, second) if convention != "%m" else (second, first)
        y = int(year) if len(year) == 4 else 2000 + int(year) if int(year) < 70 else \
            1900 + int(year)
        try:
            return pd.Timestamp(y, int(month), int(day))
        except (ValueError, OverflowError):
            return pd.NaT
    if re.fullmatch(r"\s*\d{1,2}[-/.]\d{1,2}\s*", text) or re.fullmatch(r"\s*\d+\s*", text):
        return pd.NaT  # no year, or a bare number (an Excel serial?): not a date we can state
    # month names ("12 March 2020", "March 12, 2020"): unambiguous
    return _one_date(text)


def _parse_dates(values: pd.Series, report: LoadReport,
                 date_format: str | None = None) -> pd.Series:
    """Report dates, with one day/month convention for the whole column.

    ISO 8601 (year first) is always read as such. Other numeric dates follow the
    column's convention (:func:`_date_convention`) or ``date_format``; never row by
    row. Dates that cannot be read are left empty, listed in a note.
    """
    if values.isna().all():
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, utc=True).dt.tz_localize(None)
        return parsed.astype("datetime64[ns]")
    texts = {v: str(v) for v in values.dropna().unique()}
    convention = _date_convention(list(texts.values()), date_format, report)
    table = {}
    for v, t in texts.items():
        # a negative year ("-1-01-01") is no report date
        table[v] = pd.NaT if t.strip().startswith("-") else _one_text_date(t, convention,
                                                                            date_format)
    parsed = pd.Series([table.get(v, pd.NaT) if v is not None and not (
        isinstance(v, float) and math.isnan(v)) else pd.NaT for v in values.tolist()],
        index=values.index, dtype="datetime64[ns]")
    bad = values.notna() & parsed.isna()
    if bad.any():
        examples = ", ".join(repr(str(v)) for v in values[bad].head(5))
        report.unknown_values["reported"] = [str(v) for v in values[bad].head(20)]
        rule = {"%d": "day first", "%m": "month first"}.get(convention or "", "")
        report.note(f"{int(bad.sum())} reported date(s) not understood or out of range "
                    f"(left empty){f'; the column reads {rule}' if rule else ''}: {examples}",
                    warn=True)
    return parsed


# --------------------------------------------------------------------------- geometry
def _implausible_rows(geoms: np.ndarray, crs: CRS) -> dict[int, str]:
    """Rows whose coordinates are impossible in ``crs``, with the reason."""
    out: dict[int, str] = {}
    ok = np.array([g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not ok.any():
        return out
    idx = np.nonzero(ok)[0]
    b = shapely.bounds(geoms[idx])
    if crs.is_geographic:
        for i, (minx, miny, maxx, maxy) in zip(idx, b, strict=True):
            if abs(miny) > 90 or abs(maxy) > 90:
                out[int(i)] = (f"latitude {miny if abs(miny) > 90 else maxy:.4f} outside ±90 "
                               "(swapped lat/lon, or projected coordinates?)")
            elif minx < -180 or maxx > 360:
                out[int(i)] = (f"longitude {minx if minx < -180 else maxx:.4f} outside "
                               "-180..360")
        return out
    try:
        lonlat = transform_geoms(geoms[idx], crs, "EPSG:4326")
        lb = shapely.bounds(lonlat)
        bad = ~np.isfinite(lb).all(axis=1)
    except (ProjCRSError, ValueError):
        bad = np.ones(len(idx), dtype=bool)
    for i, flag, (minx, miny, maxx, maxy) in zip(idx, bad, b, strict=True):
        if flag:
            out[int(i)] = (f"coordinates {minx:.1f}..{maxx:.1f}, {miny:.1f}..{maxy:.1f} "
                           f"outside the valid area of {crs.name}")
    return out


def _check_coordinates(frame: gpd.GeoDataFrame, path: Path, strict: bool = False
                       ) -> gpd.GeoDataFrame:
    """Exclude rows with impossible coordinates; refuse a file where every row is.

    One bad row is one bad row (excluded with its reason). Only a file whose every
    usable row is implausible is refused, with the likely cause (swapped lat/lon,
    projected coordinates labelled as degrees).
    """
    status = frame["load_status"].to_numpy(dtype=object).copy()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = status != "excluded"
    bad = _implausible_rows(np.where(usable, geoms, None), CRS.from_user_input(frame.crs))
    if not bad:
        return frame
    if len(bad) == int(usable.sum()):
        _refuse_file(geoms[usable], CRS.from_user_input(frame.crs), path)
    ids = frame["hazard_id"].tolist()
    if strict:
        listing = "; ".join(f"row {i + 1} [{ids[i]}]: {r}" for i, r in list(bad.items())[:10])
        raise InvalidGeometryError(
            f"strict=True: expected possible coordinates in every row, got {len(bad)} "
            f"impossible: {listing}. Fix them in the source, or load without strict to "
            "exclude those rows.")
    notes = frame["load_note"].to_numpy(dtype=object).copy()
    for i, reason in bad.items():
        status[i], notes[i] = "excluded", f"impossible coordinates: {reason}"
    out = frame.copy()
    out["load_status"] = status
    out["load_note"] = notes
    return out


def _refuse_file(geoms: np.ndarray, crs: CRS, path: Path) -> None:
    """Every row is implausible: say why, as a whole."""
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geoms))
    if crs.is_geographic:
        if abs(miny) > 90 or abs(maxy) > 90:
            if max(abs(minx), abs(maxx)) <= 90 and max(abs(miny), abs(maxy)) <= 180:
                raise CRSError(
                    f"{path.name}: latitudes outside ±90 ({miny:.4f}..{maxy:.4f}) while "
                    f"longitudes are within ±90: the coordinates look like lat/lon swapped. "
                    "Write them as lon, lat (x, y) in the file."
                )
            raise CRSError(
                f"{path.name}: coordinates {minx:.1f}..{maxx:.1f}, {miny:.1f}..{maxy:.1f} are "
                f"outside the valid range of {crs.name} (degrees); they look projected. "
                "Pass the real CRS with crs=... (--hazards-crs), e.g. 'EPSG:32636'."
            )
        raise CRSError(
            f"{path.name}: longitudes {minx:.1f}..{maxx:.1f} are outside -180..180. "
            "Pass the real CRS with crs=... (--hazards-crs) if they are projected."
        )
    raise CRSError(
        f"{path.name}: coordinates {minx:.1f}..{maxx:.1f}, {miny:.1f}..{maxy:.1f} are outside "
        f"the valid area of {crs.name}. Check the CRS; pass the right one with crs=..."
    )


def _non_finite_rows(geoms: np.ndarray) -> set[int]:
    """Rows with a NaN or infinite x or y."""
    ok = np.array([g is not None for g in geoms], dtype=bool)
    if not ok.any():
        return set()
    idx = np.nonzero(ok)[0]
    xy, owner = shapely.get_coordinates(geoms[idx], return_index=True)
    bad = ~np.isfinite(xy).all(axis=1)
    return {int(idx[j]) for j in np.unique(owner[bad])}


def _polygonal_parts(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom)
             if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts) if len(parts) > 1 else parts[0]


def _repair_geometries(frame: gpd.GeoDataFrame, report: LoadReport,
                       strict: bool, bad_rows: list[int],
                       decode_fixed: dict[int, bool] | None = None) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    status = np.array(["ok"] * len(frame), dtype=object)
    notes = np.array([""] * len(frame), dtype=object)
    ids = frame["hazard_id"].tolist()
    repairs: list[str] = []
    line = 2 if report.driver == "CSV" else None
    for i in bad_rows:
        where = f" (line {i + line} of the CSV)" if line else ""
        status[i], notes[i] = "excluded", f"geometry text could not be parsed{where}"
    for i, ok in (decode_fixed or {}).items():
        if ok:
            status[i] = "repaired"
            notes[i] = "ring not closed or too short: closed when decoding"
            repairs.append(f"row {i + 1} [{ids[i]}]")
        else:
            status[i], notes[i] = "excluded", "geometry could not be decoded"
    for i in _non_finite_rows(geoms):
        if status[i] != "excluded":
            status[i], notes[i] = "excluded", "a coordinate is NaN or infinite"
    has_z = 0
    for i, g in enumerate(geoms):
        if status[i] == "excluded":
            continue
        if g is None:
            status[i], notes[i] = "excluded", "no geometry (null)"
            continue
        if g.is_empty:
            status[i], notes[i] = "excluded", "empty geometry"
            continue
        if shapely.has_z(g):
            g = shapely.force_2d(g)
            has_z += 1
        kind = g.geom_type
        if kind == "GeometryCollection":
            poly = _polygonal_parts(g)
            if not poly.is_empty:
                dropped = [p.geom_type for p in shapely.get_parts(g)
                           if p.geom_type not in ("Polygon", "MultiPolygon")]
                if dropped:
                    notes[i] = f"GeometryCollection: kept polygonal parts, dropped {dropped}"
                    status[i] = "repaired"
                    repairs.append(f"row {i + 1} [{ids[i]}]")
                g = poly
            else:
                lines = [p for p in shapely.get_parts(g) if "LineString" in p.geom_type]
                points = [p for p in shapely.get_parts(g) if "Point" in p.geom_type]
                g = shapely.union_all(lines) if lines else shapely.union_all(points)
                status[i] = "repaired"
                notes[i] = "GeometryCollection without polygons: kept its lines or points"
                repairs.append(f"row {i + 1} [{ids[i]}]")
        if not g.is_valid:
            reason = shapely.is_valid_reason(g)
            fixed = shapely.make_valid(g)
            if kind in ("Polygon", "MultiPolygon", "GeometryCollection"):
                fixed = _polygonal_parts(fixed)
            if fixed.is_empty:
                status[i], notes[i] = "excluded", f"invalid geometry ({reason}) with no area " \
                    "left after repair"
                continue
            status[i] = "repaired"
            notes[i] = (notes[i] + "; " if notes[i] else "") + \
                f"invalid geometry ({reason}) repaired with make_valid"
            repairs.append(f"row {i + 1} [{ids[i]}]")
            g = fixed
        geoms[i] = g
    if has_z:
        report.note(f"Z/M values dropped from {has_z} geometr{'y' if has_z == 1 else 'ies'}",
                    warn=True)
    if strict:
        problems = [f"row {i + 1} [{ids[i]}]: {notes[i]}" for i in range(len(geoms))
                    if status[i] != "ok"]
        if problems:
            raise InvalidGeometryError(
                "strict=True: expected every geometry valid, got "
                f"{len(problems)} to repair or exclude: " + "; ".join(problems[:10])
                + ". Fix them in the source, or load without strict to repair and report."
            )
    if repairs:
        warnings.warn(
            f"{len(repairs)} hazard geometr{'y was' if len(repairs) == 1 else 'ies were'} "
            f"repaired: {', '.join(repairs[:10])}" + (" ..." if len(repairs) > 10 else "")
            + ". See the load report.",
            RepairWarning,
            stacklevel=3,
        )
    out = frame.copy()
    out["load_status"] = status
    out["load_note"] = notes
    out = out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
    return out


def _points_to_circles(frame: gpd.GeoDataFrame, report: LoadReport,
                       radius_column: str | None, area_column: str | None,
                       area_unit: str = "m2") -> gpd.GeoDataFrame:
    keys = {_key(c): c for c in frame.columns}
    rcol = radius_column or next((keys[k] for k in RADIUS_COLUMNS if k in keys), None)
    if area_unit not in AREA_UNITS:
        raise InputError(f"Expected area_unit among {tuple(AREA_UNITS)}, got {area_unit!r}.")
    acol, factor = area_column, AREA_UNITS[area_unit]
    if acol is not None and acol not in frame.columns:
        raise InputError(f"area_column {acol!r} not found; columns are "
                         f"{[c for c in frame.columns if c != frame.geometry.name]}.")
    if acol is None:
        for k, f in AREA_COLUMNS.items():
            if k in keys:
                acol, factor = keys[k], f
                break
    is_point = np.array([g is not None and g.geom_type == "Point" for g in frame.geometry])
    unitless = next((keys[k] for k in UNITLESS_AREA_COLUMNS if k in keys), None)
    if acol is None and unitless is not None and is_point.any():
        report.note(f"column {unitless!r} looks like an area but names no unit: ignored (units "
                    "are never guessed). Map it with area_column=..., area_unit='m2'|'ha'|'km2' "
                    "(--area-column, --area-unit), or name it area_m2, area_ha or area_km2.",
                    warn=True)
    if rcol is None and acol is None:
        return frame
    if not is_point.any():
        return frame
    radius = pd.to_numeric(frame[rcol], errors="coerce").to_numpy(dtype=float) \
        if rcol is not None else np.full(len(frame), np.nan)
    if acol is not None:
        area = pd.to_numeric(frame[acol], errors="coerce").to_numpy(dtype=float) * factor
        from_area = ~np.isfinite(radius) & np.isfinite(area)
        radius = np.where(from_area, np.sqrt(np.clip(area, 0, None) / math.pi), radius)
    status = frame["load_status"].to_numpy(dtype=object).copy()
    notes = frame["load_note"].to_numpy(dtype=object).copy()
    make = is_point & np.isfinite(radius) & (radius > 0) & (status != "excluded")
    bad = is_point & np.isfinite(radius) & (radius < 0)
    for i in np.nonzero(bad)[0]:
        status[i], notes[i] = "excluded", f"negative radius or area ({radius[i]})"
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    if make.any():
        circles = buffer_m(gpd.GeoSeries(geoms[make], crs=frame.crs), radius[make])
        geoms[make] = circles.values
        report.note(
            f"{int(make.sum())} point record(s) turned into circles of their radius"
            + (f" (column {rcol!r})" if rcol else "")
            + (f" or area (column {acol!r}, radius = sqrt(area/π))" if acol else "")
            + ", built in metres"
        )
    out = frame.copy()
    out["load_status"] = status
    out["load_note"] = notes
    return out.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))


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
) -> gpd.GeoDataFrame:
    """Read a hazard layer into the mine-action schema, repairing and reporting.

    Parameters
    ----------
    path : path
        GeoJSON, GeoPackage, Shapefile (``.shp`` or zipped), FlatGeobuf, or CSV
        with a WKT column or lon/lat columns.
    layer : str or int, optional
        Layer of a multi-layer file (default: the first, noted in the report).
    crs : CRS-like, optional
        The CRS of the coordinates, when the file has none or the wrong one.
        A file without CRS is an error unless this is given.
    columns : mapping, optional
        Explicit ``{schema_field: input_column}``; other fields are matched by
        name and common synonyms, case-insensitively.
    radius_column, area_column : str, optional
        For point records: a radius in metres, or an area in ``area_unit``
        (``area_m2``, ``area_ha`` and ``area_km2`` columns are recognised by name;
        a bare ``area`` column is never guessed to be m²: it is ignored with a
        note unless mapped here). Points become circles built in metres. Points
        without either are kept as points.
    wkt, lon, lat : str, optional
        CSV geometry columns, when their names are not recognised.
    strict : bool, default False
        Turn every repair or exclusion into an :class:`InvalidGeometryError`, and
        repeated ids into an :class:`InputError`.
    encoding : str, optional
        The attributes' text encoding (e.g. ``"cp1251"``, ``"latin-1"``). By
        default the file's declared encoding; when that does not decode the text
        (or a shapefile declares none), one is guessed and named in a warning.
    date_format : str, optional
        ``strptime`` format of non-ISO report dates (e.g. ``"%d/%m/%Y"``). By
        default one day/month order is decided for the whole column.
    area_unit : {"m2", "ha", "km2"}, default "m2"
        Unit of ``area_column``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per input row, in the schema (see module notes), in the input
        CRS. ``gdf.attrs["load_report"]`` holds the :class:`LoadReport`.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    InputError
        The file cannot be read, has no geometry column, or has duplicate ids.
    CRSError
        No CRS, or coordinates impossible for the CRS (swapped lat/lon, projected
        coordinates labelled as degrees).
    InvalidGeometryError
        ``strict=True`` and a geometry needed a repair.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"Hazard file not found: {str(p)!r}")
    if p.is_dir():
        raise InputError(f"Expected a hazard file, got a directory: {str(p)!r}.")
    if p.stat().st_size == 0:
        raise InputError(f"Hazard file {p.name} is empty (zero bytes).")
    report = LoadReport(source=p.name, path=str(p.resolve()))
    options: dict[str, Any] = {"wkt": wkt, "lon": lon, "lat": lat, "crs": crs,
                               "encoding": encoding}
    if encoding:
        python_encoding(encoding)  # a clear error for an unknown name
    frame = _read_frame(p, layer, report, options)
    bad_rows = list(frame.attrs.get("bad_geometry_rows", []))
    decode_fixed = dict(frame.attrs.get("decode_fixed", {}))
    frame.attrs = {}
    report.rows = len(frame)
    if crs is not None:
        try:
            target = CRS.from_user_input(crs)
        except ProjCRSError as exc:
            raise CRSError(f"Expected a CRS such as 'EPSG:4326', got {crs!r}: {exc}") from exc
        if frame.crs is not None and CRS.from_user_input(frame.crs) != target:
            report.note(f"file CRS {frame.crs.to_string()} overridden by {target}")
        frame = frame.set_crs(target, allow_override=True)
        report.crs_note = "given explicitly"
    elif frame.crs is None and options.get("assumed_crs"):
        frame = frame.set_crs(options["assumed_crs"])
    if frame.crs is None:
        raise CRSError(
            f"Hazards in {p.name} have no CRS. Expected a CRS in the file (a .prj for "
            "shapefiles); got none. Pass it explicitly: read_hazards(..., crs='EPSG:4326') "
            "or --hazards-crs EPSG:4326 (use the file's real CRS)."
        )
    report.crs = _crs_label(frame.crs)
    frame = _map_columns(frame, columns, report)
    frame = _normalise_schema(frame, report, strict, date_format)
    frame = _repair_geometries(frame, report, strict, bad_rows, decode_fixed)
    frame = _check_coordinates(frame, p, strict)
    frame = _points_to_circles(frame, report, radius_column, area_column, area_unit)
    for i, (st, note) in enumerate(zip(frame["load_status"], frame["load_note"], strict=True)):
        if st != "ok":
            report.add(i + 1, frame["hazard_id"].iloc[i], st, note)
    kinds = np.array([g.geom_type if g is not None and not g.is_empty else ""
                      for g in frame.geometry])
    usable = frame["load_status"].to_numpy() != "excluded"
    report.usable = int(usable.sum())
    report.repaired = int((frame["load_status"] == "repaired").sum())
    report.excluded = int((~usable).sum())
    report.points = int((usable & np.isin(kinds, ["Point", "MultiPoint"])).sum())
    report.lines = int((usable & (np.char.find(kinds.astype(str), "LineString") >= 0)).sum())
    polygons = usable & (np.char.find(kinds.astype(str), "Polygon") >= 0)
    if polygons.any() and (report.points or report.lines):
        special = usable & ~polygons & (kinds != "")
        report.points_and_lines = frame.loc[special, "hazard_id"].astype(str).tolist()
    frame.attrs["load_report"] = report
    warn_load(report)
    return frame


def _listing(items: list[str], limit: int = 10) -> str:
    """The first ``limit`` items and a count of the rest."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def warn_load(report: LoadReport, *, stacklevel: int = 3) -> None:
    """Warn (:class:`LoadWarning`) the file-level notes and the rows excluded or special.

    Each warning names the rows: the first ten ids, and how many more.
    """
    for text in report.warned:
        warnings.warn(f"{report.source}: {text}", LoadWarning, stacklevel=stacklevel)
    excluded = [f"{r['hazard_id']} (row {r['row']}: {r['reason']})"
                for r in report.excluded_rows]
    if excluded:
        warnings.warn(
            f"{report.source}: {len(excluded)} row(s) excluded from the numbers: "
            f"{_listing(excluded)}. They stay in the outputs with load_status='excluded'.",
            LoadWarning, stacklevel=stacklevel)
    if report.points_and_lines:
        warnings.warn(
            f"{report.source}: {len(report.points_and_lines)} point or line hazard(s) in a "
            f"polygon layer hold nobody inside (rings are measured from them): "
            f"{_listing(report.points_and_lines)}. Give points a radius_m or area_m2 column "
            "to make them areas.", LoadWarning, stacklevel=stacklevel)


def read_vector(path: str | os.PathLike, *, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read any vector layer (admin units, outlines) with the hazard reader's checks.

    Parameters
    ----------
    path : path
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf, or CSV with geometry.
    layer : str or int, optional
        Layer of a multi-layer file.

    Raises
    ------
    FileNotFoundError, InputError
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"Vector file not found: {str(p)!r}")
    if p.is_dir() or p.stat().st_size == 0:
        raise InputError(f"Expected a vector file, got {'a directory' if p.is_dir() else 'an empty file'}: {str(p)!r}.")
    frame = _read_frame(p, layer, LoadReport(source=p.name), {})
    frame.attrs = {}
    return frame


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


def _crs_label(crs: Any) -> str:
    c = CRS.from_user_input(crs)
    auth = c.to_authority(min_confidence=90)
    return f"{auth[0]}:{auth[1]}" if auth else c.name


def load_report(hazards: gpd.GeoDataFrame) -> LoadReport | None:
    """The :class:`LoadReport` attached to a frame by :func:`read_hazards`, if any."""
    report = hazards.attrs.get("load_report")
    return report if isinstance(report, LoadReport) else None


def report_json(report: LoadReport) -> str:
    """The load report as indented JSON text."""
    return json.dumps(report.to_dict(), indent=2, default=str)
