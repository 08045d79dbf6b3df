"""Generate the ILLUSTRATIVE (fictional) hazard layer over São Miguel, deterministically.

São Miguel has no landmine contamination. These hazards are invented to exercise
every case geomines must handle; every feature says so in its properties.

    python sample_data/sao_miguel/make_hazards.py [OUT_DIR]

writes ``hazards_illustrative.geojson``, ``legacy_points_illustrative.csv`` and
``hazards_illustrative_2026.geojson`` (the same programme later: some hazards cleared,
reduced or cancelled, and one new).
Running it again gives byte-identical files (tests check this).
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
NOTE = "ILLUSTRATIVE: fictional hazard for demonstration; not a real survey"
SEED = 20261127

STATUSES = ["open"] * 6 + ["cancelled", "reduced", "cleared"]
CONTAMINATION = ["AP mine", "AT mine", "ERW", "CMR", "IED", "unknown", "AP mine; AT mine"]
EVIDENCE = ["direct", "indirect", "none"]


def _land() -> shapely.Geometry:
    """The island's land, from the municipalities, shrunk a little away from the coast."""
    frame = pyogrio.read_dataframe(HERE / "concelhos.gpkg")
    land = shapely.union_all(frame.geometry.values)
    return land.buffer(-0.01)


def _blob(rng: np.random.Generator, x: float, y: float, radius: float,
          n: int = 9) -> shapely.Polygon:
    """A random star-shaped polygon (lon/lat degrees), latitude-corrected."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = radius * rng.uniform(0.6, 1.0, n)
    kx = 1 / math.cos(math.radians(y))
    return shapely.Polygon(np.column_stack([x + kx * radii * np.cos(angles),
                                            y + radii * np.sin(angles)]))


def _points_on_land(rng: np.random.Generator, land: shapely.Geometry, n: int) -> list:
    minx, miny, maxx, maxy = land.bounds
    out = []
    prepared = shapely.prepared.prep(land)
    while len(out) < n:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if prepared.contains(p):
            out.append(p)
    return out


def _round(geom: shapely.Geometry) -> dict:
    return json.loads(json.dumps(shapely.geometry.mapping(
        shapely.transform(geom, lambda xy: np.round(xy, 6)))))


def build() -> tuple[list[dict], list[dict]]:
    """Return (GeoJSON features, CSV rows)."""
    rng = np.random.default_rng(SEED)
    land = _land()
    centres = _points_on_land(rng, land, 34)
    features = []

    def add(geom: dict, **props: object) -> None:
        hid = f"SMG-{len(features) + 1:03d}"
        features.append({"type": "Feature", "properties": {
            "hazard_id": hid, **props, "fictional": True, "note": NOTE}, "geometry": geom})

    for i, c in enumerate(centres):
        cls = "CHA" if i % 3 == 0 else "SHA"
        radius = float(rng.uniform(0.002, 0.012))
        if i in (5, 17):  # smaller than one ~0.7 km² pixel: a few hundred metres across
            radius = 0.0012
        if i == 23:  # far below one pixel: ~40 m across
            radius = 0.0002
        geom = _blob(rng, c.x, c.y, radius)
        add(_round(geom), land_class=cls, contamination=CONTAMINATION[i % len(CONTAMINATION)],
            status=STATUSES[i % len(STATUSES)], evidence=EVIDENCE[i % 3],
            reported=f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + (i * 7) % 28:02d}")
    # overlapping pair: a CHA inside part of a larger SHA
    c = centres[0]
    add(_round(_blob(rng, c.x + 0.004, c.y, 0.008)), land_class="SHA",
        contamination="AP mine", status="open", evidence="indirect", reported="2021-05-04")
    # a multipolygon: two fields of one hazard record
    c = centres[1]
    parts = shapely.MultiPolygon([_blob(rng, c.x - 0.01, c.y, 0.003),
                                  _blob(rng, c.x + 0.012, c.y + 0.004, 0.004)])
    add(_round(parts), land_class="SHA", contamination="CMR", status="open",
        evidence="direct", reported="2019-09-30")
    # a polygon with a hole (a cleared village inside a suspected area)
    c = centres[2]
    ring = shapely.Point(c.x, c.y).buffer(0.012, quad_segs=6)
    hole = shapely.Point(c.x, c.y).buffer(0.005, quad_segs=6)
    add(_round(shapely.Polygon(ring.exterior.coords, [hole.exterior.coords])),
        land_class="CHA", contamination="AT mine", status="open", evidence="direct",
        reported="2022-02-24")
    # a self-intersecting bow-tie (invalid on purpose: geomines repairs and reports it)
    c = centres[3]
    d = 0.006
    bowtie = {"type": "Polygon", "coordinates": [[
        [round(c.x - d, 6), round(c.y - d, 6)], [round(c.x + d, 6), round(c.y + d, 6)],
        [round(c.x + d, 6), round(c.y - d, 6)], [round(c.x - d, 6), round(c.y + d, 6)],
        [round(c.x - d, 6), round(c.y - d, 6)]]]}
    add(bowtie, land_class="SHA", contamination="unknown", status="open", evidence="none",
        reported="2018-07-12")
    # a contamination value outside the vocabulary, kept and reported
    c = centres[4]
    add(_round(_blob(rng, c.x, c.y - 0.01, 0.004)), land_class="SHA",
        contamination="booby trap", status="open", evidence="indirect", reported="2020-03-15")

    # legacy point records: a radius in metres, or an area in m²
    rows = []
    for j, p in enumerate(_points_on_land(rng, land, 8)):
        row = {"id": f"LEG-{j + 1:02d}", "lon": f"{p.x:.6f}", "lat": f"{p.y:.6f}",
               "hazard_type": "SHA", "contamination": CONTAMINATION[j % 6],
               "status": "open" if j % 4 else "cancelled",
               "radius_m": "", "area_m2": "", "date_reported": f"2015-0{1 + j % 9}-15",
               "fictional": "true", "note": NOTE}
        if j % 2 == 0:
            row["radius_m"] = str(int(rng.integers(100, 600)))
        else:
            row["area_m2"] = str(int(rng.integers(20_000, 400_000)))
        rows.append(row)
    return features, rows


#: The later snapshot: what happened to some hazards by mid-2026 (all fictional).
LATER_DATE = "2026-06-30"
CLEARED = ("SMG-004", "SMG-031")
CANCELLED = ("SMG-011",)
REDUCED = "SMG-028"  # its east half released by technical survey, the west half still open


def later(features: list[dict]) -> list[dict]:
    """The same programme a year later: two hazards cleared, one cancelled by
    non-technical survey, one reduced to its west half, and one new hazard."""
    out = []
    for f in features:
        props = dict(f["properties"])
        hid = props["hazard_id"]
        if hid in CLEARED + CANCELLED:
            props.update(status="cleared" if hid in CLEARED else "cancelled", reported=LATER_DATE)
        if hid == REDUCED:
            geom = shapely.geometry.shape(f["geometry"])
            w, s, e, n = geom.bounds
            mid = round((w + e) / 2, 6)
            west = shapely.clip_by_rect(geom, w - 1, s - 1, mid, n + 1)
            east = shapely.clip_by_rect(geom, mid, s - 1, e + 1, n + 1)
            out.append({"type": "Feature", "properties": {**props, "reported": LATER_DATE},
                        "geometry": _round(west)})
            out.append({"type": "Feature", "properties": {
                **props, "hazard_id": f"{hid}-R", "status": "reduced", "reported": LATER_DATE},
                "geometry": _round(east)})
            continue
        out.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    rng = np.random.default_rng(SEED + 1)
    c = _points_on_land(rng, _land(), 1)[0]
    out.append({"type": "Feature", "properties": {
        "hazard_id": "SMG-040", "land_class": "SHA", "contamination": "ERW", "status": "open",
        "evidence": "indirect", "reported": LATER_DATE, "fictional": True, "note": NOTE},
        "geometry": _round(_blob(rng, c.x, c.y, 0.006))})
    return out


def main(out_dir: Path = HERE) -> None:
    """Write the three files into ``out_dir``."""
    features, rows = build()
    doc = {"type": "FeatureCollection", "name": "hazards_illustrative",
           "features": features}
    (out_dir / "hazards_illustrative.geojson").write_text(
        json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    doc = {"type": "FeatureCollection", "name": "hazards_illustrative_2026",
           "features": later(features)}
    (out_dir / "hazards_illustrative_2026.geojson").write_text(
        json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with open(out_dir / "legacy_points_illustrative.csv", "w", newline="",
              encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
