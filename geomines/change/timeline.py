"""People inside and near counted hazards across several snapshots of a programme."""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ..assessment.result import ring_column
from ..assessment.stages import count_stages, options_of
from ..engine.exact import PixelRule
from ..engine.rings import format_m
from ..errors import InputError
from ..hazards import read_hazards
from ..io.population import PopulationRaster, read_population

__all__ = ["snapshot_date", "timeline"]

_DATE_IN_NAME = re.compile(
    r"(?<!\d)((?:19|20)\d\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)"
)
_YEAR_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def snapshot_date(frame: gpd.GeoDataFrame, name: str) -> tuple[str, str]:
    """A snapshot's date and where it came from: the latest report date in the file,
    else a date (or year) in the file name, else none.
    """
    if "reported" in frame.columns:
        dates = pd.to_datetime(frame["reported"], errors="coerce").dropna()
        if len(dates):
            return dates.max().date().isoformat(), "latest report date in the file"
    if m := _DATE_IN_NAME.search(name):
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}", "date in the file name"
    if m := _YEAR_IN_NAME.search(name):
        return m.group(1), "year in the file name"
    return "", "none found"


def _parse_dates(dates: Sequence[str] | str | None, n: int) -> list[str] | None:
    if dates is None:
        return None
    items = [d.strip() for d in dates.split(",")] if isinstance(dates, str) else list(dates)
    if len(items) != n:
        raise InputError(f"Expected {n} dates (one per snapshot), got {len(items)}: {items}.")
    for d in items:
        try:
            dt.date.fromisoformat(d) if len(d) == 10 else int(d)
        except ValueError:
            raise InputError(f"Expected dates as YYYY-MM-DD or YYYY, got {d!r}.") from None
    return [str(d) for d in items]


def timeline(
    snapshots: Sequence[gpd.GeoDataFrame | str | os.PathLike],
    population: PopulationRaster | str | os.PathLike | Sequence[str],
    *,
    dates: Sequence[str] | str | None = None,
    rings_m: Sequence[float] | str | None = (500, 1000, 5000),
    count_status: Collection[str] = ("open",),
    pixel_rule: PixelRule = "exact",
    client: Any = None,
    engine: Any = None,
) -> pd.DataFrame:
    """One row per snapshot: its date, hazards, and people inside and within each ring.

    Parameters
    ----------
    snapshots : sequence of GeoDataFrame or path
        Hazard snapshots in order (two or more).
    population : PopulationRaster, path or paths
        One population raster for every snapshot.
    dates : sequence of str or str, optional
        One date per snapshot (``YYYY-MM-DD`` or ``YYYY``), or comma-separated; by
        default :func:`snapshot_date` of each.

    Returns
    -------
    pandas.DataFrame
        ``snapshot``, ``date``, ``date_source``, ``hazards``, ``counted``,
        ``people_inside``, ``people_within_<d>m``.
    """
    if len(snapshots) < 2:
        raise InputError(f"Expected two or more snapshots, got {len(snapshots)}.")
    given = _parse_dates(dates, len(snapshots))
    raster = population if isinstance(population, PopulationRaster) else read_population(population)
    options = options_of(rings_m, count_status, pixel_rule, engine, client)
    rows = []
    for k, snap in enumerate(snapshots):
        name = Path(snap).name if not isinstance(snap, gpd.GeoDataFrame) else f"snapshot {k + 1}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = snap if isinstance(snap, gpd.GeoDataFrame) else read_hazards(snap)
        for w in caught:
            warnings.warn(f"{name}: {w.message}", w.category, stacklevel=2)
        result, _ = count_stages(frame, raster, options, None, None, False)
        date, source = (given[k], "given") if given else snapshot_date(result.hazards, name)
        rows.append(
            {
                "snapshot": name,
                "date": date,
                "date_source": source,
                "hazards": len(result.hazards),
                "counted": int(result.hazards["counted"].sum()),
                "people_inside": result.totals.inside,
                **{ring_column(d): result.people_within(d) for d in options.rings},
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["rings_m"] = options.rings
    table.attrs["labels"] = {
        "people_inside": "inside",
        **{ring_column(d): f"within {format_m(d)} m" for d in options.rings},
    }
    return table
