"""A priority list that explains itself: criteria, weights and points per hazard.

A profile names criteria, each with a ``weight`` and a ``direction``::

    [criteria.people_within_500m]
    weight = 1.0
    direction = "higher"      # a higher value gives a higher priority ("lower" for distances)

Each counted hazard gets, per criterion, ``points = weight × normalised value`` with the
value normalised to 0..1 among the counted hazards:

- ``percentile`` (default): the share of the other counted hazards with a value that
  this one beats (strictly lower value for ``higher``, strictly higher for ``lower``);
- ``minmax``: ``(v - min) / (max - min)`` (reversed for ``lower``);
- ``land_class`` and ``evidence`` are categories: their value is looked up in
  ``values`` (default CHA 1, SHA 0.5, other 0; direct 1, indirect 0.5, none 0).

A hazard without a value for a criterion gets 0 points for it. ``score`` is the sum
of the points; ``rank`` 1 is the highest score, ties broken by ``hazard_id``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..engine.rings import format_m
from ..errors import InputError

__all__ = [
    "CATEGORIES",
    "Criterion",
    "Profile",
    "criterion_values",
    "default_profile",
    "label",
    "rank_hazards",
    "ranked_rows",
    "ranking_columns",
    "read_profile",
]

#: Categorical criteria and the value of each category (0..1).
CATEGORIES: dict[str, dict[str, float]] = {
    "land_class": {"CHA": 1.0, "SHA": 0.5, "other": 0.0},
    "evidence": {"direct": 1.0, "indirect": 0.5, "none": 0.0},
}
NORMALISATIONS = ("percentile", "minmax")
NORMALISATION_TEXT = {
    "percentile": "percentile rank among the counted hazards: the share of the others "
    "that a hazard beats (0 to 1); categories by their stated values",
    "minmax": "(value - min) / (max - min) among the counted hazards (reversed for "
    "'lower'); categories by their stated values",
}


@dataclass(frozen=True)
class Criterion:
    """One criterion of a profile."""

    name: str
    weight: float
    direction: str = "higher"
    values: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """As written in ``summary.json``."""
        out: dict[str, Any] = {
            "name": self.name,
            "weight": self.weight,
            "direction": self.direction,
        }
        if self.values is not None:
            out["values"] = dict(self.values)
        return out


@dataclass
class Profile:
    """Criteria and weights, the normalisation, and the tier cut-offs.

    ``tiers``: the shares of counted hazards (by rank) in tier 1 and in tiers 1-2.
    """

    criteria: list[Criterion]
    source: str = "default"
    normalisation: str = "percentile"
    tiers: tuple[float, float] = (0.1, 0.3)
    why: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As written in ``summary.json``."""
        return {
            "source": self.source,
            "normalisation": self.normalisation,
            "normalisation_text": NORMALISATION_TEXT[self.normalisation],
            "tiers": list(self.tiers),
            "criteria": [c.to_dict() for c in self.criteria],
        }


def default_profile(rings_m: Sequence[float], feature_classes: Sequence[str] = ()) -> Profile:
    """The default profile (see the README for why each weight)."""
    near = f"people_within_{format_m(min(rings_m))}m" if rings_m else None
    criteria = [Criterion(near, 3.0)] if near else []
    criteria += [
        Criterion("people_inside", 2.0),
        Criterion("people_per_ha", 2.0),
        Criterion("land_class", 1.0, values=CATEGORIES["land_class"]),
        Criterion("evidence", 1.0, values=CATEGORIES["evidence"]),
    ]
    criteria += [Criterion(f"nearest_{c}_m", 1.0, "lower") for c in feature_classes]
    why = {
        near or "": "people living within the smallest ring walk, farm and collect water "
        "there every day (GICHD PriSMA criteria use 0.5-1 km of villages)",
        "people_inside": "people living on contaminated land are the most exposed",
        "people_per_ha": "people reached per hectare cleared: the benefit per unit of effort",
        "land_class": "a confirmed hazard area (CHA) holds evidence of explosive ordnance; "
        "clearing it is more certain to remove a threat than a suspected one",
        "evidence": "direct evidence is more certain than indirect",
        **{
            f"nearest_{c}_m": f"a {c.replace('_', ' ')} near a hazard draws people to it"
            for c in feature_classes
        },
    }
    return Profile(criteria, "default", why={k: v for k, v in why.items() if k})


def read_profile(profile: str | os.PathLike | Mapping[str, Any]) -> Profile:
    """A profile from a TOML file, or from a mapping in the same form."""
    source = "mapping"
    if not isinstance(profile, Mapping):
        path = Path(profile)
        if not path.is_file():
            raise InputError(f"Expected a priority profile (.toml) file, got {str(path)!r}.")
        try:
            data: Mapping[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(
                f"The priority profile {path.name!r} is not valid TOML: {exc}"
            ) from None
        source = str(path)
    else:
        data = profile
    criteria_in = data.get("criteria")
    if not isinstance(criteria_in, Mapping) or not criteria_in:
        raise InputError(
            "Expected a [criteria.<name>] table for each criterion in the priority profile, "
            f"got {sorted(data)}. Example: [criteria.people_within_500m] weight = 1.0"
        )
    criteria = [_criterion(name, spec) for name, spec in criteria_in.items()]
    normalisation = str(data.get("normalisation", "percentile"))
    if normalisation not in NORMALISATIONS:
        raise InputError(f"Expected normalisation one of {NORMALISATIONS}, got {normalisation!r}.")
    tiers = data.get("tiers", (0.1, 0.3))
    if (
        not isinstance(tiers, Sequence)
        or len(tiers) != 2
        or not all(isinstance(t, int | float) for t in tiers)
        or not 0 < tiers[0] <= tiers[1] <= 1
    ):
        raise InputError(
            f"Expected tiers = [share in tier 1, share in tiers 1-2], 0 < a <= b <= 1, "
            f"got {tiers!r}."
        )
    return Profile(criteria, source, normalisation, (float(tiers[0]), float(tiers[1])))


def _criterion(name: str, spec: Any) -> Criterion:
    if not isinstance(spec, Mapping):
        raise InputError(f"Expected criteria.{name} to be a table with weight =, got {spec!r}.")
    weight = spec.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
        raise InputError(f"Expected criteria.{name}.weight to be a number >= 0, got {weight!r}.")
    direction = spec.get("direction", "higher")
    if direction not in ("higher", "lower"):
        raise InputError(
            f'Expected criteria.{name}.direction "higher" or "lower", got {direction!r}.'
        )
    values = spec.get("values", CATEGORIES.get(name))
    if values is not None:
        if name not in CATEGORIES and "values" in spec:
            raise InputError(
                f"values = {{...}} is for the categorical criteria {sorted(CATEGORIES)}, "
                f"not {name!r}."
            )
        bad = {k: v for k, v in dict(values).items() if not isinstance(v, int | float)}
        if bad:
            raise InputError(f"Expected numbers in criteria.{name}.values, got {bad}.")
        values = {str(k): float(v) for k, v in dict(values).items()}
    return Criterion(name, float(weight), direction, values)


def criterion_values(
    hazards: pd.DataFrame, criterion: Criterion, rings_m: Sequence[float]
) -> pd.Series:
    """Each hazard's raw value of a criterion (NaN or None when it has none)."""
    name = criterion.name
    if name == "people_per_ha":
        people = hazards[
            f"people_within_{format_m(min(rings_m))}m" if rings_m else "people_inside"
        ].astype(float)
        hectares = hazards["area_m2"].astype(float) / 10_000
        return (people / hectares.where(hectares > 0)).rename(name)
    if name in hazards.columns:
        column = hazards[name]
        if criterion.values is not None:
            return column.astype(object).rename(name)
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            return column.astype(float).rename(name)
    raise InputError(
        f"Unknown priority criterion {name!r}; available: "
        f"{', '.join(available_criteria(hazards, rings_m))}."
    )


def ranking_columns(hazards: pd.DataFrame, profile: Profile, rings_m: Sequence[float]) -> list[str]:
    """The columns :func:`rank_hazards` reads: the ids, each criterion's column (its
    inputs for ``people_per_ha``) and the features of interest's. So the hazards can
    be ranked from those alone, not from a copy of every column and the geometries.

    Raises InputError, as :func:`criterion_values` does, for an unknown criterion.
    """
    wanted = ["hazard_id"]
    for criterion in profile.criteria:
        name = criterion.name
        if name == "people_per_ha":
            ring = f"people_within_{format_m(min(rings_m))}m" if rings_m else "people_inside"
            wanted += [ring, "area_m2"]
        elif name in hazards.columns:
            wanted.append(name)
        else:
            criterion_values(hazards.iloc[:0], criterion, rings_m)  # raises, naming the rest
    wanted += [str(c) for c in hazards.columns if _feature_column(str(c))]
    return [c for c in dict.fromkeys(wanted) if c in hazards.columns]


def _feature_column(name: str) -> bool:
    """A features-of-interest column (``nearest_<class>_m``, ``<class>_within_<d>m``)."""
    near = name.startswith("nearest_") and name.endswith("_m")
    return near or ("_within_" in name and not name.startswith("people_"))


def available_criteria(hazards: pd.DataFrame, rings_m: Sequence[float]) -> list[str]:
    """Criteria a profile may name for these hazards."""
    numeric = [
        str(c)
        for c in hazards.columns
        if pd.api.types.is_numeric_dtype(hazards[c]) and not pd.api.types.is_bool_dtype(hazards[c])
    ]
    return sorted({*numeric, "people_per_ha", *CATEGORIES})


def _normalised(values: pd.Series, criterion: Criterion, method: str) -> np.ndarray:
    """0..1 per hazard (NaN where it has no value)."""
    if criterion.values is not None:
        table = criterion.values
        # each distinct value looked up once (classes repeat)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        found = np.array([table.get(str(v), np.nan) for v in uniques], dtype=float)
        return found[codes]
    v = values.to_numpy(dtype=float)
    if criterion.direction == "lower":
        v = -v
    has = np.isfinite(v)
    out = np.full(len(v), np.nan)
    if not has.any():
        return out
    if method == "minmax":
        lo, hi = v[has].min(), v[has].max()
        out[has] = (v[has] - lo) / (hi - lo) if hi > lo else 1.0
        return out
    known = np.sort(v[has])
    others = has.sum() - 1
    beaten = np.searchsorted(known, v[has], side="left")  # values strictly lower
    out[has] = beaten / others if others else 1.0
    return out


def rank_hazards(hazards: pd.DataFrame, profile: Profile, rings_m: Sequence[float]) -> pd.DataFrame:
    """The priority list of the hazards given (the counted ones).

    Returns a frame sorted by ``rank`` with ``rank``, ``hazard_id``, ``score``,
    ``tier``, and per criterion its raw value ``<criterion>`` and its points
    ``<criterion>_points``, the features of interest's columns (``nearest_<class>_m``,
    ``<class>_within_<d>m``), then ``why`` (the criteria that gave points, most first).
    """
    return ranked_rows(hazards, profile, rings_m)[0]


def ranked_rows(
    hazards: pd.DataFrame, profile: Profile, rings_m: Sequence[float]
) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`rank_hazards`'s table, and for each of its rows the position of the
    hazard it ranks among those given (whatever their ids).
    """
    ids = hazards["hazard_id"].astype(str)
    points = np.zeros((len(hazards), len(profile.criteria)))
    raws = []
    for k, criterion in enumerate(profile.criteria):
        raw = criterion_values(hazards, criterion, rings_m).reset_index(drop=True)
        norm = _normalised(raw, criterion, profile.normalisation)
        points[:, k] = np.nan_to_num(norm * criterion.weight, nan=0.0)
        raws.append(raw)
    score = points.sum(axis=1)
    # highest score first, ties by hazard_id (each id's place in the ids sorted by Arrow:
    # no Python string per hazard, and no hash table of them, which pd.factorize built:
    # 700,000 ids, ~120 MB at its peak against ~30); each column is then taken once in
    # that order (not a finished table sorted, which copied every column)
    by_id = pc.sort_indices(pa.array(ids.array)).to_numpy()
    id_place = np.empty(len(by_id), dtype=np.int64)
    id_place[by_id] = np.arange(len(by_id))
    order = np.lexsort((id_place, -score))
    del by_id, id_place
    n = len(order)
    first, second = (math.ceil(t * n) for t in profile.tiers)
    rank = np.arange(1, n + 1)
    out = pd.DataFrame(
        {
            "rank": rank,
            "hazard_id": ids.array.take(order),
            "score": score[order],
            "tier": np.where(rank <= first, 1, np.where(rank <= second, 2, 3)),
        }
    )
    points = points[order]
    for k, (criterion, raw) in enumerate(zip(profile.criteria, raws, strict=True)):
        out[criterion.name] = raw.take(order).reset_index(drop=True)
        out[f"{criterion.name}_points"] = points[:, k]
    del raws
    # the features of interest near each hazard, when not criteria already
    for column in hazards.columns:
        if _feature_column(str(column)) and str(column) not in out:
            out[str(column)] = hazards[column].to_numpy()[order]
    out["why"] = _why(profile, [out[c.name].to_numpy() for c in profile.criteria], points).array
    return out, order


def label(name: str) -> str:
    """A criterion's name for people: ``people_within_500m`` → ``people within 500 m``."""
    if m := re.fullmatch(r"nearest_(.+)_m", name):
        return f"nearest {m.group(1).replace('_', ' ')} (m)"
    if m := re.fullmatch(r"(.+)_within_(.+)m", name):
        return f"{m.group(1).replace('_', ' ')} within {m.group(2)} m"
    return name.replace("_", " ")


def _value_text(raw: Any) -> str:
    if isinstance(raw, float):
        return f"{raw:,.0f}" if abs(raw) >= 10 else f"{raw:.3g}"
    return str(raw)


def _pieces(head: str, values: list[Any], points: list[float], tail: str) -> list[str]:
    """``<head><value>: <points><tail>`` for each value (:func:`_value_text`)."""
    return [f"{head}{_value_text(v)}: {p:.2f}{tail}" for v, p in zip(values, points, strict=True)]


def _why(profile: Profile, raw: list[np.ndarray], points: np.ndarray) -> pd.Series:
    """Per hazard, the criteria that gave points, most first, in words.

    Built a slice of rows at a time: each criterion's piece of text for those rows,
    then the pieces joined in each row's order by numpy (no list per row: 700,000
    hazards took 10-12 s and 0.3 GB above their table built a list per row). Each
    slice becomes pandas' text column as it is done, so with Arrow strings only one
    slice is held as Python strings (700,000 hazards: ~146 MB of them otherwise).
    """
    n, count = points.shape
    heads = [f"{label(c.name)} " for c in profile.criteria]
    tails = [f" of {c.weight:g}" for c in profile.criteria]
    out: list[pd.Series] = []
    for start in range(0, n, _WHY_ROWS):
        pts = points[start : start + _WHY_ROWS]
        pieces = np.empty(pts.shape, dtype=object)
        for k in range(count):
            given = np.flatnonzero(pts[:, k] > 0)
            pieces[given, k] = _pieces(
                heads[k], raw[k][start + given].tolist(), pts[given, k].tolist(), tails[k]
            )
        # most points first (ties in the profile's order): those that gave points lead
        ranked = np.take_along_axis(pieces, np.argsort(-pts, axis=1, kind="stable"), axis=1)
        gave = (pts > 0).sum(axis=1)
        text = np.full(len(pts), "no criterion gave points", dtype=object)
        for m in range(1, count + 1):
            rows = np.flatnonzero(gave == m)
            if rows.size:
                joined = ranked[rows, 0]
                for j in range(1, m):
                    joined = joined + "; " + ranked[rows, j]
                text[rows] = joined
        out.append(pd.Series(text))
    if not out:
        return pd.Series(np.empty(0, dtype=object))
    return pd.concat(out, ignore_index=True)


#: Hazards whose reasons are built together (their pieces of text are held at once).
_WHY_ROWS = 50_000
