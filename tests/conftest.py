"""Shared fixtures: tiny real GeoTIFFs and vector files written to tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geomines.testing import write_raster

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
SAO_MIGUEL = SAMPLE / "sao_miguel"


@pytest.fixture
def raster_factory(tmp_path):
    counter = {"n": 0}

    def make(data, **kwargs) -> Path:
        counter["n"] += 1
        return write_raster(tmp_path / f"r{counter['n']}.tif", data, **kwargs)

    return make


@pytest.fixture
def ones_4x4(raster_factory) -> Path:
    """A 4×4 raster of ones, pixel size 1, origin (0, 0) at the bottom-left."""
    return raster_factory(np.ones((4, 4), dtype="float32"))


@pytest.fixture
def sao_count() -> Path:
    return SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
