"""The "where to go first" stage of an assessment: features of interest near each
hazard, communities near hazards, and the priority list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from ..engine.executors import release_memory
from ..shapes import shape_series
from .features import Features, feature_columns
from .places import Places, communities, people_on_grid
from .profile import Profile, default_profile, ranked_rows, ranking_columns, read_profile

if TYPE_CHECKING:  # the assessment package runs this stage: no import back at run time
    from ..assessment.result import Assessment

__all__ = ["where_first"]

ProfileLike = Profile | Mapping[str, Any] | str | os.PathLike | None


def where_first(
    result: Assessment,
    engine: Any,
    *,
    places: Places | None = None,
    features: Features | None = None,
    priority: ProfileLike = None,
    admin_id: str | None = None,
) -> Assessment:
    """Add features' distances to ``result.hazards``, the communities and the priority list.

    Parameters
    ----------
    result : Assessment
        A finished assessment; changed in place and returned.
    engine : Engine
        The engine that counted it (for the people of each place).
    places, features : optional
        Settlements, and features of interest with their class.
    priority : Profile, mapping, path or None
        The priority profile (TOML file or mapping); None for the default profile.
    admin_id : str, optional
        The admin units' id column (``result.admin``), to give each place its unit.
    """
    hazards = result.hazards
    usable = (hazards["load_status"] != "excluded").to_numpy()
    counted = hazards["counted"].to_numpy(dtype=bool)
    rings = result.rings_m
    classes: list[str] = []
    if features is not None:
        shapes = shape_series(hazards).set_axis(hazards.index)
        columns, counts = feature_columns(features, shapes, usable, rings)
        del shapes
        classes = sorted(counts)
        for name in columns.columns:
            hazards[name] = columns[name]
        result.extra["feature_counts"] = counts
    if places is not None:
        found = communities(
            places, hazards, counted, result.bands, rings, people_on_grid(engine, result.population)
        )
        if result.admin is not None and admin_id is not None:
            found["admin_id"] = _admin_of(found, result.admin, admin_id)
        result.communities = found
    profile = (
        priority
        if isinstance(priority, Profile)
        else default_profile(rings, classes)
        if priority is None
        else read_profile(priority)
    )
    # ranked from the columns it reads alone (not a copy of the counted hazards' frame)
    table, ranked = ranked_rows(
        hazards.loc[counted, ranking_columns(hazards, profile, rings)], profile, rings
    )
    result.priority = table
    result.priority_profile = profile
    row = np.empty(len(ranked), dtype=np.int64)  # each counted hazard's row in the table
    row[ranked] = np.arange(len(ranked))
    for column, name in (("rank", "priority_rank"), ("tier", "priority_tier")):
        values = pd.array(np.full(len(hazards), pd.NA), dtype="Int64")
        values[counted] = table[column].to_numpy()[row]
        hazards[name] = values
    score = np.full(len(hazards), np.nan)
    score[counted] = table["score"].to_numpy()[row]
    hazards["priority_score"] = score
    release_memory()  # the list's transient texts, freed into pyarrow's pool, go first
    why = _texts_by_hazard(table, row, counted)
    hazards["priority_why"] = pd.Series(why, index=hazards.index)
    return result


def _texts_by_hazard(table: pd.DataFrame, row: np.ndarray, counted: np.ndarray) -> Any:
    """Each hazard's text from the list's ``why`` (``row``: its row in the list; ``""``
    where not counted).

    With pandas' Arrow strings no Python string is made per hazard: the list's slices of
    texts are joined once, with ``""`` after them, the list keeps that one array (its
    slices go), and each hazard's text is taken from it. A take from the slices joined
    them again beside its result: on 1,000,000 hazards (700,000 texts counted) the
    priority stage's peak was ~510 MB above its start instead of ~400.
    """
    array = table["why"].array
    if not isinstance(array, pd.arrays.ArrowStringArray):  # Python strings: pointers taken
        take = np.full(len(counted), -1, dtype=np.intp)
        take[counted] = row
        return array.take(take, allow_fill=True, fill_value="")
    dtype, chunks = array.dtype, array.__arrow_array__()
    joined = pa.concat_arrays([*chunks.chunks, pa.array([""], type=chunks.type)])
    del chunks, array
    table["why"] = pd.array(joined.slice(0, len(table)), dtype=dtype)
    release_memory()  # the slices
    take = np.full(len(counted), len(table), dtype=np.int64)
    take[counted] = row
    return pd.array(joined.take(pa.array(take)), dtype=dtype)


def _admin_of(places: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, id_column: str) -> list[Any]:
    """The admin unit holding each place's representative point (None if in none)."""
    out: list[Any] = [None] * len(places)
    geoms = places.geometry.to_crs(admin.crs).values
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return out
    points = shapely.point_on_surface(geoms[ok])
    units = shapely.make_valid(np.asarray(admin.geometry.values, dtype=object))
    p_idx, u_idx = shapely.STRtree(units).query(points, predicate="intersects")
    ids = admin[id_column].astype(str).to_numpy()
    rows = np.nonzero(ok)[0]
    for p, u in zip(p_idx, u_idx, strict=True):
        if out[rows[p]] is None:
            out[rows[p]] = ids[u]
    return out
