"""Fuzzing the hazard loaders: any bytes give a frame or a geomines error, nothing else.

``GEOMINES_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py`` runs longer.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import geomines

EXAMPLES = int(os.environ.get("GEOMINES_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TMP = Path(tempfile.mkdtemp(prefix="geomines-fuzz-"))


def _load(data: bytes, suffix: str) -> None:
    path = TMP / f"f{suffix}"
    path.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = geomines.read_hazards(path, crs="EPSG:4326")
        report = frame.attrs["load_report"]
        assert report.rows == report.usable + report.excluded == len(frame)
    except geomines.GeominesError:
        pass


@FUZZ
@given(st.binary(max_size=400))
def test_geojson_bytes(data):
    _load(data, ".geojson")


@FUZZ
@given(st.binary(max_size=400))
@example(b'"\x80')  # found by this test: a quoted field that is not UTF-8
def test_csv_bytes(data):
    _load(data, ".csv")


coords = st.lists(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000)),
        min_size=0,
        max_size=4,
    ),
    max_size=8,
)
geometry = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["Polygon", "MultiPolygon", "Point", "LineString", "GeometryCollection", "Nope"]
            ),
            "coordinates": st.one_of(coords, st.lists(coords, max_size=3)),
        }
    ),
)
properties = st.dictionaries(
    st.sampled_from(["hazard_id", "status", "land_class", "id", "contamination", "reported", "x"]),
    st.one_of(st.none(), st.text(max_size=12), st.integers(), st.floats(allow_nan=False)),
    max_size=5,
)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"type": st.just("Feature"), "properties": properties, "geometry": geometry}
        ),
        max_size=6,
    )
)
@example(
    [{"type": "Feature", "properties": {"reported": "-1-01-01"}, "geometry": None}]
)  # found by this test: a date GDAL cannot represent
def test_structured_geojson(features):
    doc = {"type": "FeatureCollection", "features": features}
    _load(json.dumps(doc).encode(), ".geojson")


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.text(max_size=8), st.text(max_size=60), st.one_of(st.none(), st.text(max_size=6))
        ),
        max_size=8,
    )
)
def test_structured_csv(rows):
    lines = ["id,wkt,status"]
    for rid, wkt, status in rows:
        lines.append(",".join(json.dumps(v or "") for v in (rid, wkt, status)))
    _load("\n".join(lines).encode(), ".csv")
