"""Offline maps: folium layers (hazards, bands, population, admin units, basemap), legend
and panel, with every asset inside the page.
"""

from __future__ import annotations

from .display import DisplayOptions
from .elements import OfflineMap
from .layers import (
    STYLE,
    admin_layer,
    basemap_layer,
    exposure_map,
    hazard_layer,
    legend,
    population_layer,
    ring_layer,
)
from .priority import communities_layer, priority_layer

__all__ = [
    "STYLE",
    "DisplayOptions",
    "OfflineMap",
    "admin_layer",
    "basemap_layer",
    "communities_layer",
    "exposure_map",
    "hazard_layer",
    "legend",
    "population_layer",
    "priority_layer",
    "ring_layer",
]
