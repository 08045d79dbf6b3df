"""Who: people inside and near hazards by age and sex, from WorldPop's structure rasters.

WorldPop publishes one raster per sex and age bin, ``<iso3>_<f|m>_<age>_<year>.tif``
with bins starting at 0, 1, 5, 10, ..., 80 (80 and over). Each raster is counted on its
own grid over the same dissolved hazards and rings as the main population (the
geometry moved into its CRS when it differs; never resampled). WorldPop's bins often
do not add up exactly to its total raster: the difference is reported, never hidden
by rescaling.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS

from ..crs import move_to_grid
from ..engine.rings import format_m
from ..engine.unions import UnionSum
from ..errors import InputError
from ..io.population import PopulationRaster, read_population

__all__ = [
    "AgeSexFile",
    "age_sex_table",
    "children",
    "find_age_sex",
    "layer_names",
    "sum_check",
]

_NAME = re.compile(r"^([a-z]{3})_([fm])_(\d{1,2})_(\d{4})\.tiff?$", re.IGNORECASE)


@dataclass(frozen=True)
class AgeSexFile:
    """One structure raster: its sex, the first age of its bin, and its path."""

    sex: str
    age: int
    path: Path


def find_age_sex(directory: str | os.PathLike) -> list[AgeSexFile]:
    """The structure rasters in a directory, by sex then age (one country and year)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(f"Expected a directory of age and sex rasters, got {str(folder)!r}.")
    found = []
    keys = set()
    for path in sorted(folder.iterdir()):
        m = _NAME.match(path.name)
        if m:
            keys.add((m.group(1).lower(), m.group(4)))
            found.append(AgeSexFile(m.group(2).lower(), int(m.group(3)), path))
    if not found:
        raise InputError(
            f"Expected rasters named <iso3>_<f|m>_<age>_<year>.tif (WorldPop's age and sex "
            f"structures, e.g. ukr_f_0_2020.tif) in {str(folder)!r}; found none."
        )
    if len(keys) > 1:
        listed = ", ".join(f"{iso}/{year}" for iso, year in sorted(keys))
        raise InputError(
            f"Expected one country and year of age and sex rasters in {str(folder)!r}, got "
            f"{listed}; keep one set in the directory."
        )
    return sorted(found, key=lambda f: (f.sex, f.age))


def _pieces_on(pieces: np.ndarray, src: CRS, raster: PopulationRaster) -> np.ndarray:
    if CRS.from_user_input(raster.crs) == src:
        return pieces
    moved = move_to_grid(pieces, src, raster.crs, raster.bounds)
    return np.array([g for g in moved if g is not None and not g.is_empty], dtype=object)


def age_sex_table(
    files: list[AgeSexFile],
    layers: dict[str, UnionSum],
    crs: Any,
    engine: Any,
) -> pd.DataFrame:
    """``sex``, ``age_from``, ``age_to`` (empty for the last bin), then the people in each
    layer (``people_inside``, ``people_within_<d>m``), one row per raster.
    """
    src = CRS.from_user_input(crs)
    ages = sorted({f.age for f in files})
    rows = []
    moved: dict[tuple[str, tuple[float, ...]], tuple[np.ndarray, np.ndarray]] = {}
    for f in files:
        raster = read_population(f.path)
        row: dict[str, Any] = {"sex": f.sex, "age_from": f.age}
        later = [a for a in ages if a > f.age]
        row["age_to"] = later[0] - 1 if later else None
        # the layers' pieces moved once per grid, and every layer counted in one pass
        key = (CRS.from_user_input(raster.crs).to_wkt(), tuple(raster.bounds))
        if key not in moved:
            parts = [_pieces_on(u.pieces, src, raster) for u in layers.values()]
            owner = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
            moved[key] = (np.concatenate([np.asarray(p, dtype=object) for p in parts]), owner)
        pieces, owner = moved[key]
        people = engine.sums(pieces, raster).people if pieces.size else np.zeros(0)
        for name, value in zip(layers, np.bincount(owner, people, len(layers)), strict=True):
            row[name] = float(value)
        raster.close()
        rows.append(row)
    table = pd.DataFrame(rows)
    table["age_to"] = table["age_to"].astype("Int64")
    return table


def children(table: pd.DataFrame, under: int) -> dict[str, Any]:
    """People under an age, both sexes: ``inside`` and ``within_m``, and whether a bin
    had to be split (never done here: a bin straddling the age is reported instead).
    """
    columns = [c for c in table.columns if c.startswith("people_")]
    whole = table[table["age_to"].notna() & (table["age_to"] < under)]
    straddle = table[(table["age_from"] < under) & ~table.index.isin(whole.index)]
    out: dict[str, Any] = {
        "inside": float(whole["people_inside"].sum()),
        "within_m": {
            c.removeprefix("people_within_").removesuffix("m"): float(whole[c].sum())
            for c in columns
            if c != "people_inside"
        },
        "bins": sorted(
            {f"{a}-{b}" for a, b in zip(whole["age_from"], whole["age_to"], strict=True)}
        ),
    }
    if len(straddle):
        out["note"] = (
            f"the bins starting at {sorted(set(straddle['age_from']))} straddle age {under} "
            "and are not included (no bin is split)"
        )
    else:
        out["note"] = f"whole bins only: age {under} is a bin boundary, no bin is split"
    return out


def sum_check(table: pd.DataFrame, totals: dict[str, float]) -> dict[str, Any]:
    """Σ of the age and sex rasters against the main population, per layer."""
    out = {}
    for name, total in totals.items():
        parts = float(table[name].sum())
        out[name] = {
            "age_sex": parts,
            "total": float(total),
            "relative_difference": abs(parts - total) / abs(total) if total else abs(parts),
        }
    return out


def layer_names(rings_m: tuple[float, ...]) -> list[str]:
    """``people_inside`` and ``people_within_<d>m``, in order."""
    return ["people_inside", *[f"people_within_{format_m(d)}m" for d in rings_m]]
