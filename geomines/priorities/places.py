"""Communities near hazards: for each settlement, its nearest counted hazard, its band,
the hazards within each ring distance, and its people.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..crs import move_to_grid
from ..engine.rings import buffer_m, format_m
from ..errors import InputError, LoadWarning
from ..io.vector import read_layer
from ..shapes import shape_series
from .distances import nearest

__all__ = ["PLACE_ID_COLUMNS", "PLACE_NAME_COLUMNS", "Places", "band_of", "communities"]

#: Id columns tried, in order, when none is named (case-insensitive).
PLACE_ID_COLUMNS = ("place_id", "pcode", "p_code", "id", "geonameid", "osm_id", "code", "fid")
#: Name columns tried, in order, when none is named (case-insensitive).
PLACE_NAME_COLUMNS = ("place_name", "name", "name_en", "placename", "settlement", "locality")


@dataclass
class Places:
    """Settlements as given to :func:`geomines.assess` (``places=``) and how to read them.

    Attributes
    ----------
    frame : GeoDataFrame or path
        Points or polygons (an OSM or HDX export of populated places, a P-coded list).
    id_column, name_column : str, optional
        Their id and name columns; guessed from :data:`PLACE_ID_COLUMNS` and
        :data:`PLACE_NAME_COLUMNS` when not named (row numbers when no id is found).
    radius_m : float, optional
        People are counted within this radius of a point place (polygons: inside).
    """

    frame: gpd.GeoDataFrame | str | os.PathLike
    id_column: str | None = None
    name_column: str | None = None
    radius_m: float | None = None

    def read(self) -> gpd.GeoDataFrame:
        """The places as a frame with a CRS (read from the path when one was given)."""
        frame = read_layer(self.frame, "places")
        if self.radius_m is not None and not (np.isfinite(self.radius_m) and self.radius_m > 0):
            raise InputError(f"Expected a place radius in metres > 0, got {self.radius_m!r}.")
        return frame


def _column(frame: pd.DataFrame, given: str | None, tried: Sequence[str], what: str) -> str | None:
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if given is not None:
        if given not in frame.columns:
            raise InputError(f"Expected the {what} column {given!r} in the places; got {columns}.")
        return given
    lower = {c.lower(): c for c in columns}
    return next((lower[t] for t in tried if t in lower), None)


def band_of(metres: np.ndarray, bands: pd.DataFrame) -> np.ndarray:
    """Band label of each distance: ``inside`` at 0, the exclusive band holding it
    (``from_m < d <= to_m``), or ``beyond``; empty for NaN.
    """
    out = np.full(len(metres), "beyond", dtype=object)
    rings = bands.iloc[1:]
    for label, to in zip(rings["band"][::-1], rings["to_m"][::-1], strict=True):
        out[metres <= to] = label
    out[metres == 0] = "inside"
    out[np.isnan(metres)] = ""
    return out


def communities(
    places: Places,
    hazards: gpd.GeoDataFrame,
    counted: np.ndarray,
    bands: pd.DataFrame,
    rings_m: Sequence[float],
    people_of: object,
) -> gpd.GeoDataFrame:
    """One row per place, sorted by ``nearest_hazard_m`` (then ``place_id``).

    Parameters
    ----------
    places : Places
    hazards : GeoDataFrame
        The assessed hazards (``hazard_id``, geometry); only ``counted`` ones are near.
    counted : numpy.ndarray of bool
    bands : DataFrame
        The assessment's bands (``band``, ``from_m``, ``to_m``), for the band labels.
    rings_m : sequence of float
    people_of : callable
        ``people_of(geoms, crs) -> numpy.ndarray``: people in each geometry.

    Returns
    -------
    GeoDataFrame
        ``place_id``, ``place_name``, ``nearest_hazard_id``, ``nearest_hazard_m``,
        ``band``, ``hazards_within_<d>m``, ``people``, in the places' CRS.
    """
    frame = places.read()
    id_col = _column(frame, places.id_column, PLACE_ID_COLUMNS, "place id")
    name_col = _column(frame, places.name_column, PLACE_NAME_COLUMNS, "place name")
    ids = (
        frame[id_col].astype(str).to_numpy()
        if id_col is not None
        else np.array([f"P-{i + 1}" for i in range(len(frame))], dtype=object)
    )
    _warn_places(frame, ids)
    near = nearest(frame.geometry, shape_series(hazards, counted), rings_m)
    hazard_ids = hazards["hazard_id"].to_numpy(dtype=object)[counted]
    out = gpd.GeoDataFrame(
        {
            "place_id": ids,
            "place_name": frame[name_col].astype(str).to_numpy()
            if name_col is not None
            else np.full(len(frame), "", dtype=object),
            "nearest_hazard_id": np.where(near.index >= 0, hazard_ids[near.index], None)
            if len(hazard_ids)
            else None,
            "nearest_hazard_m": near.metres,
            "band": band_of(near.metres, bands),
            **{f"hazards_within_{format_m(d)}m": near.within[float(d)] for d in rings_m},
            "people": _people(frame, places.radius_m, people_of),
        },
        geometry=frame.geometry.values,
        crs=frame.crs,
    )
    out = out.sort_values(["nearest_hazard_m", "place_id"], na_position="last", kind="stable")
    return out.reset_index(drop=True)


def _people(frame: gpd.GeoDataFrame, radius_m: float | None, people_of) -> np.ndarray:
    """People inside each polygon place, or within ``radius_m`` of other places."""
    geoms = frame.geometry
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    polygonal = ok & geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    areas = np.array([shapely.Polygon()] * len(frame), dtype=object)
    areas[polygonal] = geoms.values[polygonal]
    others = ok & ~polygonal
    if radius_m is not None and others.any():
        areas[others] = buffer_m(geoms[others], float(radius_m)).values
    counted = polygonal | (others if radius_m is not None else np.zeros_like(ok))
    out = np.full(len(frame), np.nan)
    if counted.any():
        out[counted] = people_of(areas[counted], frame.crs)
    return out


def _warn_places(frame: gpd.GeoDataFrame, ids: np.ndarray) -> None:
    geoms = frame.geometry
    empty = np.nonzero((geoms.isna() | geoms.is_empty).to_numpy())[0]
    if empty.size:
        warnings.warn(
            f"{empty.size} place(s) without geometry are listed with no distance: rows "
            f"{', '.join(str(i + 1) for i in empty[:20])}{' ...' if empty.size > 20 else ''}.",
            LoadWarning,
            stacklevel=4,
        )
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        names = sorted(set(ids[dup]))
        warnings.warn(
            f"Place ids repeat ({', '.join(map(str, names[:20]))}); each row is kept.",
            LoadWarning,
            stacklevel=4,
        )


def people_on_grid(engine, raster):
    """``people_of`` for :func:`communities`: exact sums of geometries on the raster."""

    def people_of(geoms: np.ndarray, crs) -> np.ndarray:
        moved = move_to_grid(np.asarray(geoms, dtype=object), crs, raster.crs, raster.bounds)
        return np.asarray(engine.sums(moved, raster).people, dtype=float)

    return people_of
