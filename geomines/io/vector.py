"""Reading vector files: any format GDAL reads, zipped shapefiles, CSV with WKT or
lon/lat columns; text encodings declared, chosen or guessed and stated.
"""

from __future__ import annotations

import io
import math
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS

from ..crs import crs_label
from ..errors import InputError
from ..loadreport import LoadReport, warn_load
from ..schema import column_key
from .encoding import decode, gdal_encoding, guess_encoding, python_encoding, recode

WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "shape", "wkt_geom")


LON_COLUMNS = ("lon", "longitude", "long", "lng", "x_lon")


LAT_COLUMNS = ("lat", "latitude", "y_lat")


VECTOR_SUFFIXES = {
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".fgb",
    ".zip",
    ".csv",
    ".gml",
    ".kml",
    ".sqlite",
    ".parquet",
}


# --------------------------------------------------------------------------- reading
def read_frame(
    path: Path, layer: str | int | None, report: LoadReport, options: dict[str, Any]
) -> gpd.GeoDataFrame:
    """Read a vector file into a GeoDataFrame, noting what reading did in ``report``."""
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
        missing = [
            ext
            for ext in (".shx", ".dbf")
            if not any(path.with_suffix(e).exists() for e in (ext, ext.upper()))
        ]
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
                    "Choose another with layer=... / --layer.",
                    warn=True,
                )
                report.layer = str(layers[0][0])
                layer = layers[0][0]
        else:
            report.layer = str(layer)
        info = pyogrio.read_info(target, layer=layer)
        report.driver = info.get("driver") or suffix.lstrip(".")
        count = int(info.get("features", -1)) if report.driver in SEEKABLE else -1
        frame = _read_ogr(target, layer, report, options.get("encoding"), count)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(
            f"Expected a vector file (GeoJSON, GeoPackage, Shapefile, FlatGeobuf or CSV), "
            f"could not read {path.name}: {first_line(exc)}"
        ) from exc
    except (UnicodeDecodeError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"Could not read {path.name}: {first_line(exc)}. Expected a vector file GDAL can read."
        ) from exc
    if suffix in (".geojson", ".json"):
        _geojson_crs_note(path, frame, report)
    return frame


def _read_ogr(
    target: str,
    layer: str | int | None,
    report: LoadReport,
    encoding: str | None = None,
    count: int = -1,
) -> gpd.GeoDataFrame:
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
                frame = _read_pieces(
                    target,
                    count,
                    layer=layer,
                    on_invalid="ignore",
                    datetime_as_string=True,
                    encoding=gdal_enc,
                    **options,
                )
            break
        except UnicodeDecodeError as exc:
            if raw or encoding:
                raise InputError(
                    f"Attribute text could not be read as {encoding or 'declared'}: "
                    f"{first_line(exc)}. Pass the file's encoding with encoding=... "
                    "(--encoding), e.g. 'cp1251' or 'latin-1'."
                ) from None
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
        _recode_frame(frame, report, "has no .cpg file naming its encoding", keep_latin="cp1252")
    missing = frame.geometry.isna().to_numpy()
    if missing.any():
        frame = _decode_fixes(frame, target, layer, gdal_enc)
    return frame


#: drivers that reach a feature by its index without reading the ones before it
SEEKABLE = ("GPKG", "ESRI Shapefile", "FlatGeobuf")
#: features read at once from a longer layer of a :data:`SEEKABLE` driver
PIECE_ROWS = 250_000


def _read_pieces(target: str, count: int, **kwargs: Any) -> gpd.GeoDataFrame:
    """``pyogrio.read_dataframe``, a long layer :data:`PIECE_ROWS` features at a time
    (``count``: the layer's features, as the driver told them; -1 reads it whole).

    GDAL hands over every geometry as WKB before GEOS decodes them: read whole, a
    1,000,000-hazard layer's WKB and its decoded geometries are held at once (peak
    1,285 MB, against 1,051 MB read in pieces of 100,000; `read_hazards` as a whole
    1,904 -> 1,823 MB, its peak then set by the repairs and circles). The pieces keep the
    layer's order; their columns' types come from the layer's schema, so they concat
    to the frame a whole read gives (a text column that is null through a whole piece
    typed again).
    """
    if count <= PIECE_ROWS:
        return pyogrio.read_dataframe(target, **kwargs)
    pieces = [
        pyogrio.read_dataframe(target, skip_features=start, max_features=PIECE_ROWS, **kwargs)
        for start in range(0, count, PIECE_ROWS)
    ]
    frame = pd.concat(pieces, ignore_index=True)
    # a text column null through a whole piece came as objects there: typed as one read
    # types it (pandas' text type, missing values NaN)
    for column in frame.columns:
        if frame[column].dtype == object and len({str(p[column].dtype) for p in pieces}) > 1:
            frame[column] = frame[column].infer_objects()
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
    return [
        c
        for c in frame.columns
        if c != geometry
        and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype))
    ]


def _recode_frame(
    frame: pd.DataFrame, report: LoadReport, why: str, keep_latin: str | None = None
) -> None:
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
        report.note(
            f"attribute text {why}; read as ISO-8859-1 (GDAL's default for "
            "shapefiles). Pass encoding=... (--encoding) if names look wrong.",
            warn=True,
        )
        return
    for c in columns:
        frame[c] = frame[c].map(lambda v: recode(v, chosen) if isinstance(v, str) else v)
    report.encoding = chosen
    report.note(
        f"attribute text {why}; read as {chosen} (guessed from the text). Pass "
        "encoding=... (--encoding) to choose another.",
        warn=True,
    )


def _decode_fixes(
    frame: gpd.GeoDataFrame, target: str, layer: str | int | None, gdal_enc: str | None
) -> gpd.GeoDataFrame:
    """Geometries GDAL handed on but GEOS could not decode: fixed, or left empty."""
    missing = frame.geometry.isna().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's warnings were recorded above
        _, _, wkb, _ = pyogrio.raw.read(target, layer=layer, columns=[], encoding=gdal_enc)
    fixes = {}
    for j in np.nonzero(missing)[0]:
        if wkb[j] is None:
            continue  # a real null geometry
        fixes[int(j)] = shapely.from_wkb(wkb[j], on_invalid="fix")
    if fixes:
        geoms = np.asarray(frame.geometry.values, dtype=object).copy()
        for i, g in fixes.items():
            geoms[i] = g if g is not None else shapely.GeometryCollection()
        frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs))
        frame.attrs["decode_fixed"] = {i: g is not None for i, g in fixes.items()}
    return frame


def first_line(exc: BaseException) -> str:
    """The first line of an exception message (or its class name)."""
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
            CRS.from_user_input("OGC:CRS84"), ignore_axis_order=True
        )
        if wgs84:
            report.note("GeoJSON has a legacy 'crs' member naming WGS 84, as RFC 7946 assumes.")
        else:
            report.note(
                f"GeoJSON has a legacy 'crs' member ({crs_label(frame.crs)}); it was "
                "honoured, although RFC 7946 GeoJSON is always WGS 84 lon/lat.",
                warn=True,
            )
    else:
        report.crs_note = "GeoJSON without 'crs' member: WGS 84 lon/lat per RFC 7946"


def _csv_frame(path: Path, report: LoadReport, encoding: str | None) -> pd.DataFrame:
    """The CSV's cells as text: in ``encoding``, UTF-8, or the guessed encoding (noted)."""
    data = path.read_bytes()  # read once: decoded here, parsed by pandas from the text
    chosen = python_encoding(encoding) if encoding else "utf-8"
    try:
        text = data.decode("utf-8-sig" if chosen == "utf-8" else chosen)
    except UnicodeDecodeError as exc:
        if encoding:
            raise InputError(
                f"CSV {path.name} could not be parsed as {chosen}: {first_line(exc)}. "
                "Pass the file's encoding with encoding=... (--encoding)."
            ) from exc
        chosen = guess_encoding(data)
        text = decode(data, chosen)
        report.note(
            f"CSV text is not valid UTF-8; read as {chosen} (guessed from the text). Pass "
            "encoding=... (--encoding) to choose another.",
            warn=True,
        )
    report.encoding = chosen
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"CSV {path.name} is empty: expected a header row and records.") from exc
    except (pd.errors.ParserError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise InputError(
            f"CSV {path.name} could not be parsed as {report.encoding}: "
            f"{first_line(exc)}. Expected comma-separated text with a header "
            "row; pass encoding=... (--encoding) if the text is not UTF-8."
        ) from exc


def _read_csv(path: Path, report: LoadReport, options: dict[str, Any]) -> gpd.GeoDataFrame:
    df = _csv_frame(path, report, options.get("encoding"))
    keys = {column_key(c): c for c in df.columns}
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
        if options.get("crs") is None and column_key(lon_col) in LON_COLUMNS:
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


def read_vector(
    path: str | os.PathLike, *, layer: str | int | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read any vector layer (admin units, outlines) with the hazard reader's checks.

    Parameters
    ----------
    path : path
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf, or CSV with geometry.
    layer : str or int, optional
        Layer of a multi-layer file.
    encoding : str, optional
        The attributes' text encoding; by default the declared one, or a guess that
        is warned (:class:`geomines.LoadWarning`), as for hazards.

    Raises
    ------
    FileNotFoundError, InputError
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"Vector file not found: {str(p)!r}")
    if p.is_dir() or p.stat().st_size == 0:
        got = "a directory" if p.is_dir() else "an empty file"
        raise InputError(f"Expected a vector file, got {got}: {str(p)!r}.")
    report = LoadReport(source=p.name)
    frame = read_frame(p, layer, report, {"encoding": encoding})
    frame.attrs = {}
    warn_load(report, stacklevel=2)  # an encoding guess or a skipped layer: say so
    return frame


def read_layer(source: gpd.GeoDataFrame | str | os.PathLike, what: str) -> gpd.GeoDataFrame:
    """A frame as given, or read with :func:`read_vector`; refused without a CRS.

    ``what`` names the layer in the error (``"places"``, ``"features of interest"``).
    """
    frame = source if isinstance(source, gpd.GeoDataFrame) else read_vector(source)
    if frame.crs is None:
        raise InputError(
            f"Expected {what} with a CRS, got none; set one (e.g. EPSG:4326) in the file "
            "or with GeoDataFrame.set_crs."
        )
    return frame
