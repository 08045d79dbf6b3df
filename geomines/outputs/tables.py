"""CSV tables: full precision, RFC 4180, with an optional HXL hashtag row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..assessment.result import Assessment
from ..engine.rings import format_m
from .geojson import json_value

#: HXL hashtags for the columns of the tables (HDX and OCHA tools read them).
HXL_TAGS = {
    "admin_id": "#adm1+code",
    "admin_name": "#adm1+name",
    "pcode": "#adm1+code+pcode",
    "population": "#population",
    "people_inside": "#affected+inside",
    "share_inside": "#affected+inside+pct",
    "band": "#description",
    "from_m": "#meta+from_m",
    "to_m": "#meta+to_m",
    "people": "#affected",
    "cumulative_people": "#affected+cumulative",
    "land_class": "#indicator+land_class",
    "contamination": "#indicator+contamination",
    "status": "#status",
    "hazards": "#meta+hazards",
    "area_m2": "#meta+area_m2",
    "part": "#description",
    "place_id": "#loc+code",
    "place_name": "#loc+name",
    "hazard_id": "#meta+id",
    "nearest_hazard_id": "#meta+hazard+id",
    "nearest_hazard_m": "#meta+hazard+distance_m",
    "rank": "#priority+rank",
    "score": "#priority+score",
    "tier": "#priority+tier",
    "why": "#description+priority",
}


def hxl_tag(column: str) -> str:
    """The HXL hashtag for a table column."""
    if column in HXL_TAGS:
        return HXL_TAGS[column]
    if column.startswith("people_within_"):
        return f"#affected+within_{column.removeprefix('people_within_')}"
    if column.startswith("share_within_"):
        return f"#affected+within_{column.removeprefix('share_within_')}+pct"
    return ""


def write_table(frame: pd.DataFrame, path: Path, hxl: bool) -> None:
    """CSV (RFC 4180, UTF-8) with full precision, empty cells for missing values, text as it
    came; with ``hxl`` a hashtag row under the header. Written by pandas.
    """
    table = frame
    if hxl:
        tags = pd.DataFrame([[hxl_tag(str(c)) for c in frame.columns]], columns=frame.columns)
        table = pd.concat([tags, frame.astype(object)], ignore_index=True)
    table.to_csv(path, index=False, encoding="utf-8", na_rep="", lineterminator="\r\n")


def summary_rows(assessment: Assessment) -> list[dict[str, Any]]:
    """Rows of ``summary.csv``: one per exclusive band, then the total."""
    rows = []
    cumulative = 0.0
    for band, f, t, p in zip(
        assessment.bands["band"],
        assessment.bands["from_m"],
        assessment.bands["to_m"],
        assessment.bands["people"],
        strict=True,
    ):
        cumulative += p
        rows.append(
            {
                "band": band,
                "from_m": json_value(f),
                "to_m": json_value(t),
                "people": p,
                "cumulative_people": cumulative,
            }
        )
    largest = assessment.rings_m[-1] if assessment.rings_m else 0
    rows.append(
        {
            "band": f"total within {format_m(largest)} m",
            "from_m": None,
            "to_m": largest,
            "people": cumulative,
            "cumulative_people": cumulative,
        }
    )
    return rows
