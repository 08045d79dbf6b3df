"""What was counted and how: the method block of ``summary.json`` and the report."""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from .._version import __version__
from ..engine.rings import CLUSTER_DEG
from ..io.population import PopulationRaster
from .records import Checks, Method

DISSOLVE_RULE = (
    "union of the counted hazards' polygons; ring d is the union of each counted hazard's "
    "buffer of d metres (= buffer of the union); bands are the differences of these nested "
    "sets, so nobody is counted twice"
)


def method_block(
    raster: PopulationRaster,
    rings: tuple[float, ...],
    statuses: tuple[str, ...],
    pixel_rule: str,
    report: Any,
    frame: gpd.GeoDataFrame,
    checks: Checks,
) -> Method:
    """What was counted and how, for ``summary.json`` and the report."""
    return Method(
        question="people living inside, and within given distances of, counted hazards",
        counted_statuses=tuple(statuses),
        dissolve_rule=DISSOLVE_RULE,
        rings_m=tuple(float(d) for d in rings),
        ring_construction="buffers in metres in a local azimuthal equidistant projection "
        f"per {CLUSTER_DEG:g}° cell of hazards (never in degrees)",
        pixel_rule=pixel_rule,
        pixel_rule_text={
            "exact": "each pixel weighted by the exact fraction of its area covered",
            "center": "pixels whose centre is covered count fully",
            "all-touched": "every pixel touched counts fully",
        }[pixel_rule],
        population_source=raster.name,
        population_sha256=raster.sha256(),
        population_crs=raster.describe()["crs"],
        population_resolution=(float(raster.res[0]), float(raster.res[1])),
        population_units=raster.describe()["units"],
        vectors_moved_to_raster_crs=True,
        raster_resampled=False,
        hazard_source=report.source if report is not None else None,
        hazards_counted=int(frame["counted"].sum()),
        geomines_version=__version__,
        share_of_hazard_area_on_nodata=checks.share_of_hazard_area_on_nodata,
        share_of_hazard_area_outside_raster=checks.share_of_hazard_area_outside_raster,
    )
