"""Features of interest near hazards: schools, health posts, water points, roads, farmland.

For each hazard and each feature class: metres to the nearest feature of that class
(``nearest_<class>_m``) and how many lie within each ring distance
(``<class>_within_<d>m``).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from ..engine.rings import format_m
from ..errors import InputError, LoadWarning
from ..io.vector import read_layer
from .distances import nearest

__all__ = ["Features", "feature_columns", "slug"]


def slug(value: object) -> str:
    """``<class>`` in column names: lower case, anything but letters and digits as ``_``."""
    return re.sub(r"[\W_]", "_", str(value).strip().lower())


@dataclass
class Features:
    """Features of interest as given to :func:`geomines.assess` (``features=``).

    Attributes
    ----------
    frame : GeoDataFrame or path
        Points, lines or polygons with a class column.
    class_column : str
        The column naming each feature's class (``school``, ``health``, ``road``...).
    """

    frame: gpd.GeoDataFrame | str | os.PathLike
    class_column: str

    def read(self) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        """The features with a class and a geometry, and each one's class slug."""
        frame = read_layer(self.frame, "features of interest")
        if self.class_column not in frame.columns:
            columns = [str(c) for c in frame.columns if c != frame.geometry.name]
            raise InputError(
                f"Expected the feature class column {self.class_column!r}; got {columns}. "
                "Name it with --feature-class / feature_class=."
            )
        raw = frame[self.class_column]
        blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
        geoms = frame.geometry
        empty = (geoms.isna() | geoms.is_empty).to_numpy()
        skipped = np.nonzero(blank | empty)[0]
        if skipped.size:
            rows = ", ".join(str(i + 1) for i in skipped[:20]) + (
                " ..." if skipped.size > 20 else ""
            )
            warnings.warn(
                f"{skipped.size} feature(s) of interest without a class or a geometry are "
                f"skipped: rows {rows}.",
                LoadWarning,
                stacklevel=4,
            )
        keep = ~(blank | empty)
        frame = frame[keep].reset_index(drop=True)
        classes = np.array([slug(v) for v in frame[self.class_column]], dtype=object)
        _warn_merged(frame[self.class_column].astype(str).to_numpy(), classes)
        return frame, classes


def _warn_merged(values: np.ndarray, classes: np.ndarray) -> None:
    pairs = pd.DataFrame({"value": values, "slug": classes}).drop_duplicates()
    merged = pairs[pairs["slug"].duplicated(keep=False)]
    if len(merged):
        groups = merged.groupby("slug")["value"].apply(lambda v: " + ".join(sorted(v)))
        warnings.warn(
            "Feature classes that differ only in case or punctuation are one class: "
            + "; ".join(f"{k} = {v}" for k, v in groups.items()),
            LoadWarning,
            stacklevel=5,
        )


def feature_columns(
    features: Features, hazards: gpd.GeoSeries, usable: np.ndarray, rings_m: Sequence[float]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """``nearest_<class>_m`` and ``<class>_within_<d>m`` for each hazard.

    Hazards that are not ``usable`` (excluded on loading) get NaN. Returns the columns
    (index as ``hazards``) and the number of features of each class.
    """
    frame, classes = features.read()
    columns: dict[str, object] = {}
    counts: dict[str, int] = {}
    shown = hazards[usable].reset_index(drop=True)
    for cls in sorted(set(classes)):
        members = frame.geometry[classes == cls].reset_index(drop=True)
        counts[cls] = len(members)
        near = nearest(shown, members, rings_m)
        metres = np.full(len(hazards), np.nan)
        metres[usable] = near.metres
        columns[f"nearest_{cls}_m"] = metres
        for d in rings_m:
            within = pd.array(np.full(len(hazards), pd.NA), dtype="Int64")
            within[usable] = near.within[float(d)]
            columns[f"{cls}_within_{format_m(d)}m"] = within
    return pd.DataFrame(columns, index=hazards.index), counts
