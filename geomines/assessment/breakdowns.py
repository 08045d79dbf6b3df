"""Breakdowns of the dissolved numbers: by admin unit (with the people outside every
unit, counted from its own geometry), by land class × contamination × status, by
class precedence, and the exclusive bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..crs import to_lonlat
from ..engine.local import Engine
from ..engine.rings import format_m
from ..engine.unions import UnionSum
from ..io.population import PopulationRaster
from ..shapes import Shapes
from .result import ring_column

#: Land classes from highest to lowest: a person covered by several is counted once,
#: in the highest.
CLASS_PRECEDENCE = ("CHA", "SHA", "other")


def _rank(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Each hazard's rank in :data:`CLASS_PRECEDENCE` (0 = CHA)."""
    classes = frame["land_class"].to_numpy(dtype=object)
    return np.where(classes == "CHA", 0, np.where(classes == "SHA", 1, 2))


def precedence_masks(frame: gpd.GeoDataFrame, counted: np.ndarray) -> dict[str, np.ndarray]:
    """The counted hazards of each precedence level but the last: ``level0`` (CHA),
    ``level1`` (CHA or SHA), ...
    """
    rank = _rank(frame)
    return {f"level{k}": counted & (rank <= k) for k in range(len(CLASS_PRECEDENCE) - 1)}


def groups_making(
    mask: np.ndarray, groups: list[tuple[tuple[Any, ...], np.ndarray]]
) -> list[int] | None:
    """The groups whose members are exactly the hazards in ``mask``, or None when the
    groups do not split that way (a group partly in, or a hazard in no group).
    """
    chosen, covered = [], np.zeros(len(mask), dtype=bool)
    for k, (_key, pos) in enumerate(groups):
        inside = mask[pos]
        if inside.all() and pos.size:
            chosen.append(k)
            covered[pos] = True
        elif inside.any():
            return None
    return chosen if np.array_equal(covered, mask) else None


def precedence_table(
    frame: gpd.GeoDataFrame,
    geoms_r: np.ndarray | Shapes,
    counted: np.ndarray,
    union_u: UnionSum,
    rings: tuple[float, ...],
    ring_u: dict[float, UnionSum],
    raster: PopulationRaster,
    engine: Engine,
    known: Sequence[UnionSum | None] = (),
) -> tuple[pd.DataFrame, list[UnionSum]]:
    """People by land class with precedence (CHA over SHA over other over ring bands).

    ``N(CHA)``, ``N(CHA ∪ SHA) − N(CHA)``, ``N(all) − N(CHA ∪ SHA)``, then the
    exclusive ring bands: the rows add up to the people within the largest ring.
    ``known``: the levels' unions where already built (from the class groups' unions).
    """
    rank = _rank(frame)
    rows = []
    previous = 0.0
    masks = list(precedence_masks(frame, counted).values())
    given = list(known) + [None] * (len(masks) - len(known))
    missing = [k for k, u in enumerate(given) if u is None]
    built = engine.unions([geoms_r[masks[k]] for k in missing], raster) if missing else []
    for k, union in zip(missing, built, strict=True):
        given[k] = union
    levels = [u for u in given if u is not None]
    for level, name in enumerate(CLASS_PRECEDENCE):
        if level == len(CLASS_PRECEDENCE) - 1:
            people = union_u.total.people
        else:
            people = levels[level].total.people
        rows.append(
            {
                "part": f"inside {name}",
                "from_m": None,
                "to_m": 0.0,
                "people": people - previous,
                "hazards": int((counted & (rank == level)).sum()),
            }
        )
        previous = people
    prev_d = 0.0
    for d in rings:
        people = ring_u[d].total.people
        rows.append(
            {
                "part": f"{format_m(prev_d)}-{format_m(d)} m",
                "from_m": prev_d,
                "to_m": d,
                "people": people - previous,
                "hazards": None,
            }
        )
        previous, prev_d = people, d
    return pd.DataFrame(rows), levels


def class_groups(
    frame: gpd.GeoDataFrame, usable: np.ndarray
) -> list[tuple[tuple[Any, ...], np.ndarray]]:
    """Usable hazards grouped by land class × contamination × status: (key, positions)."""
    keys = ["land_class", "contamination", "status"]
    table = frame.loc[usable, keys]
    return [
        (values if isinstance(values, tuple) else (values,), frame.index.get_indexer(idx))
        for values, idx in table.groupby(keys, sort=True).groups.items()
    ]


def class_table(
    frame: gpd.GeoDataFrame,
    groups: list[tuple[tuple[Any, ...], np.ndarray]],
    columns: dict[str, list[float]],
    rings: tuple[float, ...],
) -> pd.DataFrame:
    """Dissolved people per land class × contamination × status group.

    Each group is dissolved on its own, so a group's numbers count nobody twice;
    groups overlap each other, so they do not add up to the total (see
    :attr:`Assessment.by_precedence` for a breakdown that does).
    """
    keys = ["land_class", "contamination", "status"]
    rows = []
    for k, (values, pos) in enumerate(groups):
        row = dict(zip(keys, values, strict=True))
        row["hazards"] = len(pos)
        row["area_m2"] = float(np.nansum(frame["area_m2"].to_numpy()[pos]))
        for column, people in columns.items():
            row[column] = people[k]
        rows.append(row)
    names = [*keys, "hazards", "area_m2", "people_inside", *[ring_column(d) for d in rings]]
    return pd.DataFrame(rows, columns=names)


def band_frame(
    union: UnionSum,
    rings: tuple[float, ...],
    ring_u: dict[float, UnionSum],
    crs: CRS,
    bands: list[list[shapely.Geometry]],
) -> gpd.GeoDataFrame:
    """Exclusive bands: the union, then each ring minus the previous one (``bands``: each
    band's tile pieces, see :func:`~geomines.assessment.checks.band_parts_later`).

    ``bands`` is emptied as the bands are made: each band's pieces are let go once its
    geometry (a copy) is built, so a caller holding them by this list alone never holds
    every band twice.
    """
    if len(bands) != len(rings):
        raise ValueError(f"band_frame: {len(rings)} rings but {len(bands)} bands of pieces")
    names, froms, tos = ["inside"], [np.nan], [0.0]
    people, geoms = [union.total.people], [union.geometry()]
    prev, prev_d = union, 0.0
    for k, d in enumerate(rings):
        parts, bands[k] = bands[k], []
        cur = ring_u[d]
        polys = (
            [
                p
                for p in shapely.get_parts(np.array(parts, dtype=object))
                if p.geom_type == "Polygon" and not p.is_empty
            ]
            if parts
            else []
        )
        names.append(f"{format_m(prev_d)}-{format_m(d)} m")
        froms.append(prev_d)
        tos.append(d)
        people.append(cur.total.people - prev.total.people)
        geoms.append(shapely.MultiPolygon(polys) if polys else shapely.Polygon())
        del parts, polys
        prev, prev_d = cur, d
    frame = gpd.GeoDataFrame(
        {"band": names, "from_m": froms, "to_m": tos, "people": people},
        geometry=gpd.GeoSeries(geoms, crs=crs),
    )
    return to_lonlat(frame)
