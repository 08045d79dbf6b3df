"""The distance curve: people within d of the dissolved counted hazards, for many d.

It answers "what does 'around' mean for the headline?". Each distance is counted as the
rings are: the union of the hazards' buffers in true metres (local azimuthal
equidistant planes), dissolved tile by tile, nobody counted twice. Distances are
counted a few at a time in one pass over the raster.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ..engine.rings import buffers_m, onto_grid
from ..errors import InputError
from ..io.population import PopulationRaster

__all__ = ["CHUNK", "distance_curve", "parse_curve"]

#: Distances whose buffers are built and counted together (bounds the memory).
CHUNK = 4
#: The most distances a curve may have.
MAX_POINTS = 1000


def parse_curve(spec: str | Sequence[float]) -> np.ndarray:
    """``"START:STOP:STEP"`` (metres; STOP included when on a step) or a list of distances."""
    if isinstance(spec, str):
        parts = spec.split(":")
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            raise InputError(
                f"Expected --curve START:STOP:STEP in metres (e.g. 0:5000:100), got {spec!r}."
            ) from None
        if step <= 0 or stop < start or start < 0:
            raise InputError(
                "Expected --curve START:STOP:STEP with 0 <= START <= STOP and STEP > 0, "
                f"got {spec!r}."
            )
        count = int(np.floor((stop - start) / step + 1e-9)) + 1
        distances = start + step * np.arange(count)
    else:
        distances = np.asarray(sorted({float(d) for d in spec}), dtype=float)
        if (distances < 0).any():
            raise InputError(f"Expected distances >= 0 in the curve, got {list(spec)}.")
    if not 0 < len(distances) <= MAX_POINTS:
        raise InputError(f"Expected 1 to {MAX_POINTS} curve distances, got {len(distances)}.")
    return distances


def distance_curve(
    hazards: gpd.GeoSeries,
    raster: PopulationRaster,
    engine,
    distances: np.ndarray,
    inside: float,
    known: Mapping[float, float] | None = None,
) -> pd.DataFrame:
    """``distance_m`` and ``people_within`` (dissolved; at 0, the people inside).

    ``hazards``: the counted hazards' geometries (with a CRS). ``known``: people within
    distances already counted the same way (the assessment's rings), taken as they are
    rather than counted again, so the curve at a ring's distance is that ring's number.
    The curve is non-decreasing by construction; a decrease beyond rounding would be a
    defect and is warned, never hidden.
    """
    people = np.zeros(len(distances))
    values: dict[float, float] = {float(d): float(v) for d, v in (known or {}).items()}
    positive = [float(d) for d in distances if d > 0 and float(d) not in values]
    people[distances == 0] = inside
    if len(hazards):
        for k in range(0, len(positive), CHUNK):
            chunk = positive[k : k + CHUNK]
            buffers = buffers_m(hazards, chunk, to_crs=raster.crs)
            groups = [onto_grid(np.asarray(b.values, dtype=object), raster) for b in buffers]
            for d, union in zip(chunk, engine.unions(groups, raster), strict=True):
                values[d] = float(union.total.people)
        people = np.array([values.get(float(d), inside) if d > 0 else inside for d in distances])
    drops = np.diff(people) < -1e-9 * max(1.0, float(np.max(people, initial=0.0)))
    if drops.any():
        warnings.warn(
            f"The distance curve decreases at {distances[1:][drops].tolist()} m; "
            "please report this with the inputs.",
            RuntimeWarning,
            stacklevel=2,
        )
    return pd.DataFrame({"distance_m": distances, "people_within": people})
