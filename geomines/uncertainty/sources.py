"""Several population grids in one run: the range a headline spans across grids.

WorldPop, GHS-POP, GPW and HRSL disagree by tens of percent in rural areas. Each grid
named here gets the full assessment in its own CRS and resolution (never resampled);
the main grid (the first) drives the map and the tables, and every grid's dissolved
numbers go into ``summary.json`` (``sources`` and ``range``) and ``sources.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..engine.rings import format_m
from ..errors import InputError
from ..io.population import PopulationRaster, read_population

__all__ = ["Source", "parse_sources", "range_of", "source_row", "sources_table"]

PopulationLike = PopulationRaster | str | os.PathLike | Sequence[str | os.PathLike]


@dataclass
class Source:
    """One population grid: its name, the file(s) and the numbers counted on it."""

    name: str
    raster: PopulationRaster
    people: dict[str, Any] | None = None

    @property
    def file(self) -> str:
        """The file (or first tile, with the number of tiles) it was read from."""
        return self.raster.name


def _name_of(raster: PopulationRaster) -> str:
    return Path(raster.paths[0]).stem


def _raster(value: PopulationLike) -> PopulationRaster:
    return value if isinstance(value, PopulationRaster) else read_population(value)


def parse_sources(population: Any) -> list[Source]:
    """The population argument as sources, the main one first.

    - a mapping ``{name: raster or path or tiles}``: one source each, in order;
    - a list of rasters, or of ``(name, raster or path)`` pairs: one source each;
    - anything else (a raster, a path, a directory, a list of tile paths): one source.
    """
    if isinstance(population, Mapping):
        items = list(population.items())
    elif (
        isinstance(population, list | tuple)
        and population
        and all(
            isinstance(p, PopulationRaster) or (isinstance(p, tuple) and len(p) == 2)
            for p in population
        )
    ):
        items = [p if isinstance(p, tuple) else (None, p) for p in population]
    else:
        raster = _raster(population)
        return [Source(_name_of(raster), raster)]
    if not items:
        raise InputError("Expected at least one population grid, got none.")
    sources = []
    for name, value in items:
        raster = _raster(value)
        sources.append(Source(str(name) if name else _name_of(raster), raster))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise InputError(f"Expected a distinct name for each population grid, got {names}.")
    return sources


def source_row(totals: Any, rings_m: Sequence[float]) -> dict[str, Any]:
    """``{inside, within_m: {"500": ...}}`` from an assessment's totals."""
    return {
        "inside": float(totals.inside),
        "within_m": {format_m(d): float(totals.within_m[float(d)]) for d in rings_m},
    }


def range_of(sources: Sequence[Source], rings_m: Sequence[float]) -> dict[str, Any]:
    """``{inside: [min, max], within_m: {"<d>": [min, max]}}`` across the sources."""
    people = [s.people for s in sources if s.people is not None]
    inside = [p["inside"] for p in people]
    return {
        "inside": [min(inside), max(inside)],
        "within_m": {
            format_m(d): [
                min(p["within_m"][format_m(d)] for p in people),
                max(p["within_m"][format_m(d)] for p in people),
            ]
            for d in rings_m
        },
    }


def sources_table(sources: Sequence[Source], rings_m: Sequence[float]) -> pd.DataFrame:
    """``sources.csv``: one row per grid, the main one first."""
    rows = []
    for k, s in enumerate(sources):
        p = s.people or {"inside": float("nan"), "within_m": {}}
        rows.append(
            {
                "source": s.name,
                "main": k == 0,
                "file": s.file,
                "crs": s.raster.describe().get("crs"),
                "people_inside": p["inside"],
                **{
                    f"people_within_{format_m(d)}m": p["within_m"].get(format_m(d)) for d in rings_m
                },
            }
        )
    return pd.DataFrame(rows)
