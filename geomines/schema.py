"""The mine-action vocabulary (IMSMA / IMAS 07.11 usage) and the mapping of input columns
and values onto it: ids, land class, contamination, status, evidence, report dates.

Values outside the vocabulary are kept as they are and listed in the load report,
never guessed. Report dates get one day/month convention per column.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .loadreport import LoadReport

SCHEMA = ("hazard_id", "land_class", "contamination", "status", "evidence", "reported")


#: Column synonyms, matched case-insensitively, ignoring spaces, dashes and underscores.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "hazard_id": (
        "hazard_id",
        "hazardid",
        "id",
        "hazard_ref",
        "hazardref",
        "ref",
        "reference",
        "local_id",
        "localid",
        "hazard_local_id",
        "imsma_id",
        "hazard_code",
        "code",
        "guid",
    ),
    "land_class": (
        "land_class",
        "landclass",
        "class",
        "hazard_class",
        "hazard_type",
        "hazardtype",
        "area_type",
        "type",
        "category",
        "classification",
    ),
    "contamination": (
        "contamination",
        "contamination_type",
        "contaminationtype",
        "device_type",
        "devicetype",
        "ordnance",
        "ordnance_type",
        "threat",
        "threat_type",
        "explosive_type",
        "hazard_contamination",
    ),
    "status": ("status", "hazard_status", "hazardstatus", "state", "land_status"),
    "evidence": ("evidence", "evidence_type", "evidence_level", "evidencetype"),
    "reported": (
        "reported",
        "date_reported",
        "reported_date",
        "report_date",
        "reportdate",
        "date",
        "date_of_report",
        "survey_date",
        "recorded",
        "date_recorded",
    ),
}


LAND_CLASS_VALUES = {
    "sha": "SHA",
    "suspected hazardous area": "SHA",
    "suspected": "SHA",
    "cha": "CHA",
    "confirmed hazardous area": "CHA",
    "confirmed": "CHA",
    "other": "other",
}


CONTAMINATION_VALUES = {
    "ap mine": "AP mine",
    "apm": "AP mine",
    "ap": "AP mine",
    "anti-personnel mine": "AP mine",
    "antipersonnel mine": "AP mine",
    "anti personnel mine": "AP mine",
    "at mine": "AT mine",
    "atm": "AT mine",
    "at": "AT mine",
    "anti-tank mine": "AT mine",
    "antitank mine": "AT mine",
    "anti tank mine": "AT mine",
    "anti-vehicle mine": "AT mine",
    "erw": "ERW",
    "uxo": "ERW",
    "axo": "ERW",
    "unexploded ordnance": "ERW",
    "abandoned explosive ordnance": "ERW",
    "explosive remnants of war": "ERW",
    "cmr": "CMR",
    "cluster munition remnants": "CMR",
    "cluster munitions": "CMR",
    "cluster": "CMR",
    "submunitions": "CMR",
    "ied": "IED",
    "improvised explosive device": "IED",
    "unknown": "unknown",
}


STATUS_VALUES = {
    "open": "open",
    "active": "open",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "reduced": "reduced",
    "cleared": "cleared",
}


EVIDENCE_VALUES = {"direct": "direct", "indirect": "indirect", "none": "none", "no": "none"}


RADIUS_COLUMNS = ("radius_m", "radius", "buffer_m", "radius_metres", "radius_meters")


AREA_COLUMNS = {
    "area_m2": 1.0,
    "area_sqm": 1.0,
    "area_ha": 1e4,
    "area_hectares": 1e4,
    "area_km2": 1e6,
}


#: Area units for an explicitly mapped area column: m² per unit.
AREA_UNITS = {"m2": 1.0, "ha": 1e4, "km2": 1e6}


#: Area columns whose unit is not in their name: never guessed, only mapped.
UNITLESS_AREA_COLUMNS = ("area", "size", "surface", "superficie", "area_size")


def column_key(name: str) -> str:
    """A column name compared case-insensitively, spaces, dashes and underscores alike."""
    return re.sub(r"[\s\-_]+", "_", str(name).strip().lower())


# --------------------------------------------------------------------------- schema
def map_columns(
    frame: gpd.GeoDataFrame, columns: Mapping[str, str] | None, report: LoadReport
) -> gpd.GeoDataFrame:
    """Rename input columns onto the schema: explicit mapping first, then synonyms."""
    rename: dict[str, str] = {}
    taken: set[str] = set()
    explicit = dict(columns or {})
    lookup = {column_key(c): c for c in frame.columns if c != frame.geometry.name}
    for target, given in explicit.items():
        if target not in SCHEMA:
            raise InputError(f"Column mapping targets must be among {SCHEMA}, got {target!r}.")
        source = given if given in frame.columns else lookup.get(column_key(given))
        if source is None:
            raise InputError(
                f"Column mapping {target}={given!r}: no such column; "
                f"columns are {[c for c in frame.columns if c != frame.geometry.name]}."
            )
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


def _normalise_vocab(
    values: pd.Series, vocab: Mapping[str, str], name: str, report: LoadReport, default: str
) -> pd.Series:
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
        f" and {len(dupes) - 10} more" if len(dupes) > 10 else ""
    )
    if strict:
        raise InputError(
            f"strict=True: expected unique hazard ids, got duplicates: {listing}. Fix the ids, "
            "map another column with columns={'hazard_id': ...}, or load without strict to "
            "number the repeats (H-1, H-1#2)."
        )
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
    report.note(
        f"{len(dupes)} hazard id(s) repeated: {listing}. Every row is counted; repeats "
        "are numbered '<id>#2', '<id>#3', ... in the outputs (the input id is kept in "
        "'hazard_id_input').",
        warn=True,
    )
    return out


def normalise_schema(
    frame: gpd.GeoDataFrame,
    report: LoadReport,
    strict: bool = False,
    date_format: str | None = None,
) -> gpd.GeoDataFrame:
    """Ids, vocabularies and report dates of the schema columns, with what was done noted."""
    n = len(frame)
    # ids
    if "hazard_id" in frame.columns:
        raw = frame["hazard_id"]
        ids = [
            None
            if (v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "")
            else str(v).strip()
            for v in raw.tolist()
        ]
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
    original = [str(i) for i in ids]
    unique = _unique_ids(original, report, strict)
    if unique != original:
        frame["hazard_id_input"] = pd.Series(original, index=frame.index, dtype=object)
    ids = list(unique)
    frame["hazard_id"] = pd.Series(ids, index=frame.index, dtype=object)

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name]
        return pd.Series([None] * n, index=frame.index, dtype=object)

    if "land_class" not in frame.columns:
        report.note("no land class column: every hazard is 'other'")
    frame["land_class"] = _normalise_vocab(
        column("land_class"), LAND_CLASS_VALUES, "land_class", report, "other"
    )
    if "contamination" not in frame.columns:
        report.note("no contamination column: every hazard is 'unknown'")
    frame["contamination"] = _normalise_contamination(column("contamination"), report)
    if "status" not in frame.columns:
        report.note("no status column: every hazard is treated as 'open'")
    frame["status"] = _normalise_vocab(column("status"), STATUS_VALUES, "status", report, "open")
    frame["evidence"] = (
        _normalise_vocab(column("evidence"), EVIDENCE_VALUES, "evidence", report, "none")
        if "evidence" in frame.columns
        else pd.Series(["none"] * n, index=frame.index, dtype=object)
    )
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


def _date_convention(texts: list[str], date_format: str | None, report: LoadReport) -> str | None:
    """``"%d"`` (day first) or ``"%m"`` for the whole column, or None when undecidable.

    A first field above 12 anywhere in the column decides day-first; else a second
    field above 12 decides month-first. Dates whose day and month are equal read the
    same either way.
    """
    if date_format:
        return None
    pairs = [(int(m.group(1)), int(m.group(3))) for t in texts if (m := _NUMERIC_DATE.match(t))]
    if not pairs:
        return None
    if any(a > 12 for a, _ in pairs):
        return "%d"
    if any(b > 12 for _, b in pairs):
        return "%m"
    ambiguous = [
        t for t in texts if (m := _NUMERIC_DATE.match(t)) and int(m.group(1)) != int(m.group(3))
    ]
    if ambiguous:
        report.note(
            f"reported dates such as {ambiguous[0]!r} could be day-first or month-first and no "
            "date in the column decides; those dates were left empty. Pass the format with "
            "date_format='%d/%m/%Y' (--date-format) to read them.",
            warn=True,
        )
        return "?"
    return "%d"


def _strptime(text: str, fmt: str) -> pd.Timestamp:
    """``strptime`` as a timestamp, NaT when the text does not fit the format."""
    try:
        return pd.Timestamp(dt.datetime.strptime(text, fmt))
    except (ValueError, OverflowError):
        return pd.NaT


def _one_text_date(text: str, convention: str | None, date_format: str | None) -> pd.Timestamp:
    """One date by the column's convention; NaT when it does not fit."""
    if (m := _YEAR_FIRST.match(text)) is not None:
        try:
            return pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except (ValueError, OverflowError):
            return pd.NaT
    if date_format:
        return _strptime(text.strip(), date_format)
    if (m := _NUMERIC_DATE.match(text)) is not None:
        first, sep, second, year = m.groups()
        if convention == "?" and int(first) != int(second):
            return pd.NaT
        order = "%m{0}%d" if convention == "%m" else "%d{0}%m"
        fmt = order.format(sep) + sep + ("%Y" if len(year) == 4 else "%y")
        return _strptime(f"{first}{sep}{second}{sep}{year}", fmt)
    if re.fullmatch(r"\s*\d{1,2}[-/.]\d{1,2}\s*", text) or re.fullmatch(r"\s*\d+\s*", text):
        return pd.NaT  # no year, or a bare number (an Excel serial?): not a date we can state
    # month names ("12 March 2020", "March 12, 2020"): unambiguous
    return _one_date(text)


def _parse_dates(
    values: pd.Series, report: LoadReport, date_format: str | None = None
) -> pd.Series:
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
        table[v] = (
            pd.NaT if t.strip().startswith("-") else _one_text_date(t, convention, date_format)
        )
    parsed = pd.Series(
        [
            table.get(v, pd.NaT)
            if v is not None and not (isinstance(v, float) and math.isnan(v))
            else pd.NaT
            for v in values.tolist()
        ],
        index=values.index,
        dtype="datetime64[ns]",
    )
    bad = values.notna() & parsed.isna()
    if bad.any():
        examples = ", ".join(repr(str(v)) for v in values[bad].head(5))
        report.unknown_values["reported"] = [str(v) for v in values[bad].head(20)]
        rule = {"%d": "day first", "%m": "month first"}.get(convention or "", "")
        report.note(
            f"{int(bad.sum())} reported date(s) not understood or out of range "
            f"(left empty){f'; the column reads {rule}' if rule else ''}: {examples}",
            warn=True,
        )
    return parsed
