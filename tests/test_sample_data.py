"""Sample data: the illustrative hazards regenerate byte for byte, and are labelled."""

from __future__ import annotations

import subprocess
import sys

from .conftest import SAMPLE, SAO_MIGUEL


def test_make_hazards_is_deterministic(tmp_path):
    subprocess.run([sys.executable, str(SAO_MIGUEL / "make_hazards.py"), str(tmp_path)], check=True)
    for name in (
        "hazards_illustrative.geojson",
        "legacy_points_illustrative.csv",
        "hazards_illustrative_2026.geojson",
    ):
        assert (tmp_path / name).read_bytes() == (SAO_MIGUEL / name).read_bytes(), name


def test_sample_data_is_small_and_attributed():
    total = sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file())
    assert total < 3_000_000
    attribution = (SAMPLE / "ATTRIBUTION.md").read_text()
    for needle in ("CIESIN", "WorldPop", "UCDP", "Natural Earth", "CC BY 4.0", "illustrative"):
        assert needle.lower() in attribution.lower(), needle
