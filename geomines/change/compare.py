"""What changed between two hazard snapshots, counted in people.

Let B be the union of the counted hazards before and A after, and B_d, A_d their
buffers by each ring distance d. For each layer (inside, and each d):

- ``before`` = N(B), ``after`` = N(A);
- ``released`` = N(B ∖ A): people in the before set who are outside the after set,
  counted on the difference geometry;
- ``newly_exposed`` = N(A ∖ B).

So ``before − released + newly_exposed = after`` exactly; the four numbers are
counted from four different geometries and the identity is checked (the relative
difference is reported). A person released from one hazard but still within another
hazard's ring is still within the after ring: not released from that ring.

Hazards are matched by ``hazard_id`` (or ``match_by``) only to report what happened to
each one; the people counts come from the geometries, so a hazard that changed its
geometry but kept its id is handled by the geometry.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..assessment.records import Reconciliation
from ..assessment.result import Assessment
from ..assessment.stages import AdminUnits, Dissolved, count_stages, options_of
from ..engine.exact import PixelRule
from ..engine.rings import format_m
from ..engine.unions import UnionSum
from ..errors import InputError, LoadWarning
from ..hazards import read_hazards
from ..io.population import PopulationRaster, read_population
from .parts import (
    by_admin,
    hazard_table,
    id_lists,
    land_frame,
    minus_pieces,
    released_land,
    transitions,
)

__all__ = ["Change", "compare"]


@dataclass
class Change:
    """Result of :func:`compare`.

    Attributes
    ----------
    before, after : Assessment
        The two snapshots, each assessed in full.
    people : dict
        ``{"inside": {...}, "within_m": {"500": {...}}}``, each with ``before``,
        ``after``, ``released`` and ``newly_exposed``.
    checks : dict of str to Reconciliation
        ``before − released + newly_exposed`` against ``after``, per layer.
    hazards : pandas.DataFrame
        One row per hazard id (``change.csv``).
    transitions : pandas.DataFrame
        Status transitions with their number of hazards and areas.
    released : geopandas.GeoDataFrame
        The released land (before ∖ after), dissolved, one row per transition, with
        its people (EPSG:4326).
    new_land : geopandas.GeoDataFrame
        The newly counted land (after ∖ before), with its people (EPSG:4326).
    by_admin : pandas.DataFrame or None
    ids : dict
        ``matched``, ``released``, ``new``, ``only_before``, ``only_after`` id lists.
    """

    before: Assessment
    after: Assessment
    people: dict[str, Any]
    checks: dict[str, Reconciliation]
    hazards: pd.DataFrame
    transitions: pd.DataFrame
    released: gpd.GeoDataFrame
    new_land: gpd.GeoDataFrame
    ids: dict[str, list[str]]
    by_admin: pd.DataFrame | None = None
    method: dict[str, Any] = field(default_factory=dict)

    @property
    def rings_m(self) -> tuple[float, ...]:
        """The ring distances."""
        return self.before.rings_m


def _read(frame: gpd.GeoDataFrame | str | os.PathLike, what: str) -> gpd.GeoDataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        return frame
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_hazards(frame)
    for w in caught:  # say which snapshot each warning is about
        warnings.warn(f"{what}: {w.message}", w.category, stacklevel=3)
    return out


def _keys(frame: gpd.GeoDataFrame, match_by: str | None, what: str) -> pd.Series:
    if match_by is None:
        return frame["hazard_id"].astype(str)
    if match_by not in frame.columns:
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        raise InputError(
            f"Expected the match column {match_by!r} in the {what} hazards; got {columns}."
        )
    keys = frame[match_by].astype(str)
    dup = keys[keys.duplicated(keep=False)]
    if len(dup):
        warnings.warn(
            f"{what}: {match_by} repeats ({', '.join(sorted(set(dup))[:20])}); the first row "
            "of each is matched.",
            LoadWarning,
            stacklevel=3,
        )
    return keys


def compare(
    before: gpd.GeoDataFrame | str | os.PathLike,
    after: gpd.GeoDataFrame | str | os.PathLike,
    population: PopulationRaster | str | os.PathLike | Sequence[str],
    *,
    rings_m: Sequence[float] | str | None = (500, 1000, 5000),
    admin: gpd.GeoDataFrame | str | os.PathLike | None = None,
    admin_id: str | None = None,
    admin_name: str | None = None,
    count_status: Collection[str] = ("open",),
    match_by: str | None = None,
    pixel_rule: PixelRule = "exact",
    client: Any = None,
    engine: Any = None,
    progress: bool = False,
) -> Change:
    """People released from (and newly exposed to) counted hazards between two snapshots.

    Parameters
    ----------
    before, after : GeoDataFrame or path
        Two hazard snapshots of the same programme (read with
        :func:`geomines.read_hazards` when paths).
    population : PopulationRaster, path or paths
        One population raster, used for both.
    rings_m, admin, admin_id, admin_name, count_status, pixel_rule, client, engine
        As for :func:`geomines.assess`.
    match_by : str, optional
        Column matching hazards across the snapshots (default ``hazard_id``).

    Returns
    -------
    Change
    """
    raster = population if isinstance(population, PopulationRaster) else read_population(population)
    options = options_of(rings_m, count_status, pixel_rule, engine, client)
    units = AdminUnits(admin, admin_id, admin_name) if admin is not None else None
    frames = {"before": _read(before, "before"), "after": _read(after, "after")}
    runs: dict[str, tuple[Assessment, Dissolved]] = {
        k: count_stages(f, raster, options, units, None, progress) for k, f in frames.items()
    }
    (a_before, d_before), (a_after, d_after) = runs["before"], runs["after"]
    keys = {k: _keys(a.hazards, match_by, k) for k, (a, _) in runs.items()}
    layers = {"inside": (d_before.union, d_after.union)}
    layers.update({format_m(d): (d_before.rings[d], d_after.rings[d]) for d in options.rings})
    people, checks, pieces = _people(layers, raster, options.engine)
    engine = options.engine
    hazards = hazard_table(a_before, a_after, keys, d_after.union.pieces, raster, engine)
    released = released_land(pieces["inside"][0], a_after, raster, engine, options.statuses)
    checks["released_land_adds_up"] = Reconciliation(
        float(released["people"].sum()),
        people["inside"]["released"],
        "released land split by transition, against the released people inside",
    )
    return Change(
        before=a_before,
        after=a_after,
        people=people,
        checks=checks,
        hazards=hazards,
        transitions=transitions(hazards),
        released=released,
        new_land=land_frame([pieces["inside"][1]], ["newly counted"], raster, engine),
        ids=id_lists(hazards),
        by_admin=by_admin(a_before, a_after, pieces, raster, engine),
        method={
            **a_before.method.to_dict(),
            "compare": {
                "before": a_before.extra.get("hazard_path"),
                "after": a_after.extra.get("hazard_path"),
                "match_by": match_by or "hazard_id",
                "rule": "released = N(before minus after), newly_exposed = N(after minus "
                "before), on the dissolved counted hazards and on each ring",
            },
        },
    )


def _count(pieces: np.ndarray, raster: PopulationRaster, engine: Any) -> float:
    if pieces.size == 0:
        return 0.0
    return float(np.sum(engine.sums(pieces, raster).people))


def _people(
    layers: dict[str, tuple[UnionSum, UnionSum]], raster: PopulationRaster, engine: Any
) -> tuple[dict[str, Any], dict[str, Reconciliation], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Before, after, released and newly exposed per layer, and the identity checked."""
    out: dict[str, Any] = {"inside": {}, "within_m": {}}
    checks: dict[str, Reconciliation] = {}
    pieces: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, (b, a) in layers.items():
        gone, new = minus_pieces(b.pieces, a.pieces), minus_pieces(a.pieces, b.pieces)
        pieces[name] = (gone, new)
        row = {
            "before": float(b.total.people),
            "after": float(a.total.people),
            "released": _count(gone, raster, engine),
            "newly_exposed": _count(new, raster, engine),
        }
        if name == "inside":
            out["inside"] = row
        else:
            out["within_m"][name] = row
        where = "inside" if name == "inside" else f"within {name} m"
        checks[f"change_adds_up_{'inside' if name == 'inside' else 'within_' + name}"] = (
            Reconciliation(
                row["before"] - row["released"] + row["newly_exposed"],
                row["after"],
                f"before - released + newly exposed, {where}, against after",
            )
        )
    return out, checks, pieces
