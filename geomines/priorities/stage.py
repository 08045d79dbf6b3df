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
    # taken from the table's own array ("" where not counted): with pandas' Arrow
    # strings no Python string is made per hazard (700,000 texts: ~146 MB)
    release_memory()  # the list's transient texts, freed into pyarrow's pool, go first
    take = np.full(len(hazards), -1, dtype=np.intp)
    take[counted] = row
    why = table["why"].array.take(take, allow_fill=True, fill_value="")
    hazards["priority_why"] = pd.Series(why, index=hazards.index)
    return result


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
