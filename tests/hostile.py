"""A corpus of hostile inputs and the exact outcome geomines owes each one.

Every case writes its file(s) into a directory (nothing big is committed) and states
what must happen, through the Python API and through the CLI alike:

- ``refuse``: a geomines error of the named class whose message matches, and exit
  code 1 with the same message from the CLI (never a traceback);
- ``repair``: a documented repair, reported per row in the load report;
- ``report``: the right number, with the problem reported (a note, a warning, a
  check in the summary).

``python -m tests.hostile`` prints the README's "What geomines refuses, repairs and
reports" table, which ``tests/test_hostile.py`` checks against the README.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.transform import from_origin

from geomines.testing import write_raster

WGS84 = "EPSG:4326"


@dataclass
class Case:
    """One hostile input and its expected outcome."""

    name: str
    what: str
    outcome: str  # "refuse" | "repair" | "report"
    make: Callable[[Path], dict[str, Any]]
    error: str | None = None  # exception class name, for "refuse"
    match: str = ""  # regex the message (or the report/note) must match
    expect: dict[str, Any] = field(default_factory=dict)
    doc: str = ""  # what geomines does, for the README


# --------------------------------------------------------------------------- helpers
def _box(x: float = 30.0, y: float = 48.0, d: float = 0.01) -> shapely.Polygon:
    return shapely.box(x, y, x + d, y + d)


def _geojson(path: Path, features: list[dict], extra: dict | None = None) -> Path:
    doc = {"type": "FeatureCollection", **(extra or {}), "features": features}
    path.write_text(json.dumps(doc))
    return path


def _feature(geometry: dict | None, **props: Any) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _poly_json(geom: shapely.Geometry) -> dict:
    return json.loads(shapely.to_geojson(geom))


def _frame(geoms: list, crs: str | None = WGS84, **cols: Any) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {"hazard_id": [f"H{i}" for i in range(n)]} | cols
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def _ones_raster(d: Path, **kwargs: Any) -> Path:
    """1 person per pixel of 0.001° over 29.99..30.11 E, 47.99..48.11 N."""
    return write_raster(
        d / "pop.tif",
        np.ones((120, 120), dtype="float32"),
        crs=WGS84,
        transform=from_origin(29.99, 48.11, 0.001, 0.001),
        **kwargs,
    )


# --------------------------------------------------------------------------- makers
def make_bowtie(d: Path) -> dict:
    coords = [[30, 48], [30.01, 48.01], [30.01, 48], [30, 48.01], [30, 48]]
    return {
        "hazards": _geojson(
            d / "bowtie.geojson",
            [_feature({"type": "Polygon", "coordinates": [coords]}, hazard_id="BT")],
        )
    }


def make_unclosed(d: Path) -> dict:
    ring = [[30, 48], [30.01, 48], [30.01, 48.01], [30, 48.01]]
    return {
        "hazards": _geojson(
            d / "unclosed.geojson",
            [_feature({"type": "Polygon", "coordinates": [ring]}, hazard_id="U")],
        )
    }


def make_too_short(d: Path) -> dict:
    return {
        "hazards": _geojson(
            d / "short.geojson",
            [
                _feature(
                    {"type": "Polygon", "coordinates": [[[30, 48], [30.01, 48]]]}, hazard_id="S"
                ),
                _feature(_poly_json(_box()), hazard_id="OK"),
            ],
        )
    }


def make_duplicate_points(d: Path) -> dict:
    ring = [[30, 48], [30, 48], [30.01, 48], [30.01, 48], [30.01, 48.01], [30, 48.01], [30, 48]]
    return {
        "hazards": _geojson(
            d / "dups.geojson",
            [_feature({"type": "Polygon", "coordinates": [ring]}, hazard_id="D")],
        )
    }


def make_empty_null(d: Path) -> dict:
    return {
        "hazards": _geojson(
            d / "empty.geojson",
            [
                _feature(None, hazard_id="NULL"),
                _feature({"type": "Polygon", "coordinates": []}, hazard_id="EMPTY"),
                _feature(_poly_json(_box()), hazard_id="OK"),
            ],
        )
    }


def make_collection(d: Path) -> dict:
    gc = shapely.GeometryCollection(
        [_box(), shapely.LineString([(30, 48), (30.1, 48.1)]), shapely.Point(30.05, 48.05)]
    )
    return {"hazards": _geojson(d / "gc.geojson", [_feature(_poly_json(gc), hazard_id="GC")])}


def make_z(d: Path) -> dict:
    ring = [[30, 48, 100], [30.01, 48, 101], [30.01, 48.01, 102], [30, 48, 100]]
    return {
        "hazards": _geojson(
            d / "z.geojson", [_feature({"type": "Polygon", "coordinates": [ring]}, hazard_id="Z")]
        )
    }


def make_huge(d: Path) -> dict:
    n = 1_000_000
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    poly = shapely.Polygon(np.column_stack([30.05 + 0.04 * np.cos(a), 48.05 + 0.04 * np.sin(a)]))
    path = d / "huge.gpkg"
    _frame([poly]).to_file(path)
    return {"hazards": path, "raster": _ones_raster(d)}


def make_tiny(d: Path) -> dict:
    path = d / "tiny.geojson"
    _frame([shapely.box(30.0501, 48.0501, 30.0501 + 1e-6, 48.0501 + 1e-6)]).to_file(path)
    return {"hazards": path, "raster": _ones_raster(d)}


def make_mixed_kinds(d: Path) -> dict:
    path = d / "mixed.geojson"
    _frame(
        [
            _box(30.02, 48.02),
            shapely.Point(30.08, 48.08),
            shapely.LineString([(30.03, 48.09), (30.06, 48.09)]),
        ]
    ).to_file(path)
    return {"hazards": path, "raster": _ones_raster(d)}


def make_no_crs(d: Path) -> dict:
    _frame([_box()]).to_file(d / "nocrs.shp")
    (d / "nocrs.prj").unlink()
    return {"hazards": d / "nocrs.shp"}


def make_projected_as_geojson(d: Path) -> dict:
    return {
        "hazards": _geojson(
            d / "utm.geojson",
            [
                _feature(
                    _poly_json(shapely.box(500_000, 5_300_000, 501_000, 5_301_000)), hazard_id="P"
                )
            ],
        )
    }


def make_legacy_crs(d: Path) -> dict:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32636"}}
    return {
        "hazards": _geojson(
            d / "legacy.geojson",
            [
                _feature(
                    _poly_json(shapely.box(500_000, 5_300_000, 501_000, 5_301_000)), hazard_id="L"
                )
            ],
            {"crs": crs},
        )
    }


def make_swapped_out_of_range(d: Path) -> dict:
    return {
        "hazards": _geojson(
            d / "swapped.geojson",
            [_feature(_poly_json(shapely.box(48, 100, 48.01, 100.01)), hazard_id="SW")],
        )
    }


def make_swapped_in_range(d: Path) -> dict:
    path = d / "swapped.geojson"
    _frame([shapely.box(48.02, 30.02, 48.03, 30.03)]).to_file(path)  # lat, lon order
    return {"hazards": path, "raster": _ones_raster(d)}


def make_zero_byte(d: Path) -> dict:
    (d / "zero.geojson").write_bytes(b"")
    return {"hazards": d / "zero.geojson"}


def make_truncated_geojson(d: Path) -> dict:
    full = json.dumps(
        {"type": "FeatureCollection", "features": [_feature(_poly_json(_box()), hazard_id="T")]}
    )
    (d / "trunc.geojson").write_text(full[: len(full) // 2])
    return {"hazards": d / "trunc.geojson"}


def make_truncated_gpkg(d: Path) -> dict:
    _frame([_box()]).to_file(d / "full.gpkg")
    data = (d / "full.gpkg").read_bytes()
    (d / "trunc.gpkg").write_bytes(data[: len(data) // 2])
    return {"hazards": d / "trunc.gpkg"}


def make_wrong_extension(d: Path) -> dict:
    path = d / "hazards.txt"
    path.write_text(_frame([_box()]).to_json())
    return {"hazards": path}


def make_unknown_format(d: Path) -> dict:
    path = d / "hazards.dat"
    path.write_bytes(b"\x00\x01not a vector file\x02")
    return {"hazards": path}


def make_directory(d: Path) -> dict:
    (d / "folder").mkdir()
    return {"hazards": d / "folder"}


def make_missing_sidecar(d: Path) -> dict:
    _frame([_box()]).to_file(d / "side.shp")
    (d / "side.dbf").unlink()
    return {"hazards": d / "side.shp"}


def make_latin1(d: Path) -> dict:
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [_feature(_poly_json(_box()), hazard_id="L1", name="__NAME__")],
        }
    )
    (d / "latin.geojson").write_bytes(text.replace("__NAME__", "été").encode("latin-1"))
    return {"hazards": d / "latin.geojson"}


def make_duplicate_ids(d: Path) -> dict:
    path = d / "dupe.geojson"
    _frame([_box(), _box(30.02), _box(30.04)], hazard_id=["A", "B", "A"]).to_file(path)
    return {"hazards": path}


def make_bad_wkt(d: Path) -> dict:
    path = d / "bad.csv"
    path.write_text(
        'id,wkt\nok1,"POLYGON((30 48,30.01 48,30.01 48.01,30 48))"\n'
        'bad1,POLYGON((30 48\nok2,"POLYGON((30.02 48,30.03 48,30.03 48.01,30.02 48))"\n'
        "bad2,NOT WKT\n"
    )
    return {"hazards": path, "kwargs": {"crs": WGS84}, "cli": ["--hazards-crs", WGS84]}


def make_zipped_without_shp(d: Path) -> dict:
    with zipfile.ZipFile(d / "nothing.zip", "w") as z:
        z.writestr("readme.txt", "no shapefile here")
    return {"hazards": d / "nothing.zip"}


# raster cases: hazards are one 0.01° box over the raster
def _raster_case(d: Path, data: np.ndarray, **kwargs: Any) -> dict:
    hazards = d / "h.geojson"
    _frame([_box(30.0, 48.0, 0.05)]).to_file(hazards)
    raster = write_raster(
        d / "pop.tif",
        data,
        crs=kwargs.pop("crs", WGS84),
        transform=kwargs.pop("transform", from_origin(29.99, 48.11, 0.001, 0.001)),
        **kwargs,
    )
    return {"hazards": hazards, "raster": raster}


def make_raster_fill_undeclared(d: Path) -> dict:
    data = np.ones((120, 120), dtype="float32")
    data[:10] = -3.4028234663852886e38
    return _raster_case(d, data)


def make_raster_nan(d: Path) -> dict:
    data = np.ones((120, 120), dtype="float32")
    data[50:60, 50:60] = np.nan
    return _raster_case(d, data)


def make_raster_negative_fill(d: Path) -> dict:
    data = np.ones((120, 120), dtype="float32")
    data[:, :5] = -9999
    return _raster_case(d, data, nodata=-9999)


def make_raster_uint16(d: Path) -> dict:
    return _raster_case(d, np.full((120, 120), 60_000, dtype="uint16"), nodata=65535)


def make_raster_float32_total(d: Path) -> dict:
    return _raster_case(
        d,
        np.full((1000, 1000), 0.1, dtype="float32"),
        transform=from_origin(29.99, 48.11, 0.0002, 0.0002),
    )


def make_raster_rotated(d: Path) -> dict:
    return _raster_case(
        d,
        np.ones((120, 120), dtype="float32"),
        transform=Affine(0.001, 0.0002, 29.99, 0.0002, -0.001, 48.11),
    )


def make_raster_no_crs(d: Path) -> dict:
    return _raster_case(d, np.ones((120, 120), dtype="float32"), crs=None)


def make_partly_outside(d: Path) -> dict:
    hazards = d / "h.geojson"
    _frame([shapely.box(30.10, 48.0, 30.12, 48.01)]).to_file(hazards)  # half east of 30.11
    return {"hazards": hazards, "raster": _ones_raster(d)}


def make_wholly_outside(d: Path) -> dict:
    hazards = d / "h.geojson"
    _frame([shapely.box(10, 10, 10.01, 10.01)]).to_file(hazards)
    return {"hazards": hazards, "raster": _ones_raster(d)}


def make_tiles_misaligned(d: Path) -> dict:
    a = write_raster(
        d / "a.tif",
        np.ones((60, 60), dtype="float32"),
        crs=WGS84,
        transform=from_origin(29.99, 48.11, 0.001, 0.001),
    )
    b = write_raster(
        d / "b.tif",
        np.ones((60, 60), dtype="float32"),
        crs=WGS84,
        transform=from_origin(30.0505, 48.11, 0.001, 0.001),
    )
    hazards = d / "h.geojson"
    _frame([_box()]).to_file(hazards)
    return {"hazards": hazards, "raster": [a, b]}


def make_mollweide(d: Path) -> dict:
    """A GHS-POP-like Mollweide raster of 100 m pixels, 1 person each; hazards in WGS 84."""
    moll = "ESRI:54009"
    x0, y0 = rasterio.warp.transform(WGS84, moll, [29.99], [48.11])
    raster = write_raster(
        d / "ghs.tif",
        np.ones((140, 110), dtype="float32"),
        crs=moll,
        transform=from_origin(x0[0], y0[0], 100, 100),
    )
    hazards = d / "h.geojson"
    _frame([_box(30.02, 48.02)]).to_file(hazards)
    return {"hazards": hazards, "raster": raster}


def make_truncated_tiff(d: Path) -> dict:
    full = write_raster(
        d / "full.tif",
        np.random.default_rng(0).random((512, 512)),
        crs=WGS84,
        transform=from_origin(29.99, 48.11, 0.0003, 0.0003),
        tiled=True,
    )
    data = full.read_bytes()
    (d / "trunc.tif").write_bytes(data[: int(len(data) * 0.6)])
    hazards = d / "h.geojson"
    _frame([_box(30.0, 48.0, 0.1)]).to_file(hazards)
    return {"hazards": hazards, "raster": d / "trunc.tif"}


def _global_ones(
    d: Path, res_x: float, res_y: float, south: float = -90.0, north: float = 90.0
) -> Path:
    """One person per pixel over every longitude, from ``south`` to ``north``."""
    width, height = round(360 / res_x), round((north - south) / res_y)
    return write_raster(
        d / "global.tif",
        np.ones((height, width), dtype="float32"),
        crs=WGS84,
        transform=from_origin(-180.0, north, res_x, res_y),
    )


def make_antimeridian(d: Path) -> dict:
    """A 1° × 1° field written across ±180° (179.5 … -179.5, as RFC 7946 writers do)."""
    ring = [[179.5, 10], [-179.5, 10], [-179.5, 11], [179.5, 11], [179.5, 10]]
    return {
        "hazards": _geojson(
            d / "am.geojson", [_feature({"type": "Polygon", "coordinates": [ring]}, hazard_id="AM")]
        ),
        "raster": _global_ones(d, 1.0, 1.0),
    }


def make_near_pole(d: Path) -> dict:
    """A field at 89.5-89.8° N, 10° of longitude wide, on a 1° × 0.1° grid of ones."""
    hazards = d / "pole.geojson"
    _frame([shapely.box(10, 89.5, 20, 89.8)]).to_file(hazards)
    return {"hazards": hazards, "raster": _global_ones(d, 1.0, 0.1, south=89.0)}


# --------------------------------------------------------------------------- real exports
CYRILLIC = "Минное поле у школы №2"


def _cyrillic_frame() -> gpd.GeoDataFrame:
    return _frame([_box(), _box(30.02)], name=[CYRILLIC, "Поле"])


def make_cp1251_geojson(d: Path) -> dict:
    text = _cyrillic_frame().to_json(ensure_ascii=False)
    (d / "cyr.geojson").write_bytes(text.encode("cp1251"))
    return {"hazards": d / "cyr.geojson"}


def make_shapefile_without_cpg(d: Path) -> dict:
    _cyrillic_frame().to_file(d / "cyr.shp", encoding="cp1251")
    (d / "cyr.cpg").unlink()
    return {"hazards": d / "cyr.shp"}


def make_shapefile_wrong_cpg(d: Path) -> dict:
    _cyrillic_frame().to_file(d / "cyr.shp", encoding="cp1251")
    (d / "cyr.cpg").write_text("UTF-8")
    return {"hazards": d / "cyr.shp"}


def make_csv_cp1251(d: Path) -> dict:
    text = f'id,name,wkt\nC1,{CYRILLIC},"{_box().wkt}"\nC2,Поле,"{_box(30.02).wkt}"\n'
    (d / "cyr.csv").write_bytes(text.encode("cp1251"))
    return {"hazards": d / "cyr.csv", "kwargs": {"crs": WGS84}, "cli": ["--hazards-crs", WGS84]}


def make_nan_vertex(d: Path) -> dict:
    path = d / "nan.csv"
    path.write_text(
        'id,wkt\nOK,"POLYGON((30 48,30.01 48,30.01 48.01,30 48))"\n'
        'NAN,"POLYGON((30 48,nan 48,30.01 48.01,30 48))"\n'
        'INF,"POLYGON((30 48,inf 48,30.01 48.01,30 48))"\n'
    )
    return {"hazards": path, "kwargs": {"crs": WGS84}, "cli": ["--hazards-crs", WGS84]}


def make_one_impossible_row(d: Path) -> dict:
    path = d / "one_bad.geojson"
    _frame([_box(), shapely.box(30.02, 95, 30.03, 95.01), _box(30.04)]).to_file(path)
    return {"hazards": path, "raster": _ones_raster(d)}


def make_unitless_area(d: Path) -> dict:
    path = d / "legacy.csv"
    path.write_text("id,lon,lat,area\nP1,30.05,48.05,40000\nP2,30.06,48.06,2.5\n")
    return {"hazards": path, "raster": _ones_raster(d)}


def make_dates_ambiguous(d: Path) -> dict:
    path = d / "dates.geojson"
    _frame([_box(), _box(30.02)], reported=["03/04/2020", "05/06/2021"]).to_file(path)
    return {"hazards": path}


def make_dates_day_first(d: Path) -> dict:
    path = d / "dates.geojson"
    _frame([_box(), _box(30.02)], reported=["03/04/2020", "25/06/2021"]).to_file(path)
    return {"hazards": path}


# --------------------------------------------------------------------------- numbers at the edges
def make_huge_hazard(d: Path) -> dict:
    """A 2,000 km polygon (2,000 vertices) over a 100 × 100 px raster of 0.0001° (~1 km)."""
    a = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    big = shapely.Polygon(np.column_stack([30.05 + 12 * np.cos(a), 48.05 + 8 * np.sin(a)]))
    hazards = d / "national.gpkg"
    _frame([big, shapely.box(30.002, 48.002, 30.003, 48.003)]).to_file(hazards)
    raster = write_raster(
        d / "tile.tif",
        np.ones((100, 100), dtype="float32"),
        crs=WGS84,
        transform=from_origin(30.0, 48.01, 0.0001, 0.0001),
    )
    return {"hazards": hazards, "raster": raster, "rings": "500,1000,5000"}


#: Polar stereographic north (NSIDC, EPSG:3413): the radius of the 80° N parallel, by PROJ.
RHO_80N = 1_085_920.2973930992


def make_polar_cap(d: Path) -> dict:
    """Everything north of 80° N written as a lon/lat box (-180..180, 80..90) over a
    polar stereographic raster of ones, 10 km pixels."""
    hazards = d / "arctic.geojson"
    _frame([shapely.box(-180, 80, 180, 90)]).to_file(hazards)
    raster = write_raster(
        d / "arctic.tif",
        np.ones((300, 300), dtype="float32"),
        crs="EPSG:3413",
        transform=from_origin(-1.5e6, 1.5e6, 10_000, 10_000),
    )
    return {"hazards": hazards, "raster": raster}


def make_raster_0_360(d: Path) -> dict:
    """A global 1° grid of ones whose longitudes run 0..360; hazards at -10° and across 0°."""
    raster = write_raster(
        d / "g360.tif",
        np.ones((180, 360), dtype="float32"),
        crs=WGS84,
        transform=from_origin(0.0, 90.0, 1.0, 1.0),
    )
    hazards = d / "west.geojson"
    _frame([shapely.box(-10, 10, -9, 11), shapely.box(-0.5, 20, 0.5, 21)]).to_file(hazards)
    return {"hazards": hazards, "raster": raster}


def make_density_web_mercator(d: Path) -> dict:
    """100 people per km² on a Web Mercator grid at 60° N; a 0.1° × 0.05° hazard."""
    y0 = 8_399_737.89  # 60° N
    raster = write_raster(
        d / "merc.tif",
        np.full((200, 200), 100.0, dtype="float32"),
        crs="EPSG:3857",
        transform=from_origin(2_000_000, y0 + 200_000, 1000, 1000),
    )
    hazards = d / "h.geojson"
    _frame([shapely.box(18.5, 60.5, 18.6, 60.55)]).to_file(hazards)
    return {"hazards": hazards, "raster": raster, "units": "density"}


def make_points_no_rings(d: Path) -> dict:
    path = d / "events.geojson"
    _frame(
        [shapely.Point(30.05, 48.05), shapely.LineString([(30.02, 48.02), (30.04, 48.04)])]
    ).to_file(path)
    return {"hazards": path, "raster": _ones_raster(d), "rings": ""}


def _box_people_per_km2(
    density: float, west: float, south: float, east: float, north: float
) -> float:
    """Independent: density × the geodesic area of a lon/lat box (edges along parallels)."""
    from pyproj import Geod

    lon = np.linspace(west, east, 2001)
    ring = np.concatenate(
        [
            np.column_stack([lon, np.full_like(lon, south)]),
            np.column_stack([lon[::-1], np.full_like(lon, north)]),
        ]
    )
    area = abs(Geod(ellps="WGS84").polygon_area_perimeter(ring[:, 0], ring[:, 1])[0])
    return density * area / 1e6


XSS = '<img src=x onerror="window.__xss=1">'


def make_markup_and_paths(d: Path) -> dict:
    """Attribute text with HTML and path-like ids, through every output (map, report)."""
    hazards = d / "h.geojson"
    frame = _frame(
        [_box(30.02, 48.02), _box(30.05, 48.05)],
        contamination=[XSS, "AP mine"],
        name=["<script>alert(1)</script>", "ok"],
    )
    frame["hazard_id"] = ["../../../escaped", "C:\\Windows\\x"]
    frame.to_file(hazards)
    return {"hazards": hazards, "raster": _ones_raster(d), "outputs": True}


CASES: list[Case] = [
    Case(
        "bowtie",
        "self-intersecting (bow-tie) polygon",
        "repair",
        make_bowtie,
        match="Self-intersection",
        expect={"repaired": 1, "usable": 1},
        doc="repaired with `make_valid` (polygonal parts kept), listed per row",
    ),
    Case(
        "unclosed_ring",
        "ring not closed",
        "repair",
        make_unclosed,
        match="not closed",
        expect={"repaired": 1, "usable": 1},
        doc="ring closed when decoding, listed as repaired",
    ),
    Case(
        "too_short_ring",
        "ring with two points",
        "repair",
        make_too_short,
        match="Too few points",
        expect={"excluded": 1, "usable": 1},
        doc="excluded from the numbers (no area), kept in outputs with the reason",
    ),
    Case(
        "duplicate_points",
        "repeated vertices",
        "report",
        make_duplicate_points,
        expect={"repaired": 0, "usable": 1},
        doc="valid as it is: counted unchanged",
    ),
    Case(
        "empty_and_null",
        "empty and null geometries",
        "repair",
        make_empty_null,
        match="null|empty",
        expect={"excluded": 2, "usable": 1},
        doc="excluded from the numbers, kept in outputs with the reason",
    ),
    Case(
        "geometry_collection",
        "GeometryCollection of polygon, line and point",
        "repair",
        make_collection,
        match="kept polygonal parts",
        expect={"repaired": 1, "usable": 1},
        doc="polygonal parts kept, with a warning naming the row",
    ),
    Case(
        "z_coordinates",
        "Z (and M) coordinates",
        "report",
        make_z,
        match="Z/M values dropped",
        expect={"usable": 1},
        doc="Z/M dropped, warned (`LoadWarning`) and noted in `summary.json`",
    ),
    Case(
        "huge_polygon",
        "one polygon of 1,000,000 vertices",
        "report",
        make_huge,
        expect={"usable": 1, "people_inside_rel": (np.pi * 0.04**2 / 1e-6, 1e-4)},
        doc="counted exactly (raster of ones: the area in pixels)",
    ),
    Case(
        "tiny_polygon",
        "polygon a millionth of a pixel",
        "report",
        make_tiny,
        expect={"usable": 1, "people_inside_rel": (1e-6, 1e-6)},
        doc="counted as its exact share of the pixel; counted in `hazards_smaller_than_one_pixel`",
    ),
    Case(
        "mixed_kinds",
        "polygons, points and lines in one layer",
        "report",
        make_mixed_kinds,
        expect={"usable": 3, "people_inside_rel": (100.0, 1e-9)},
        doc="points and lines hold nobody inside; rings are measured from them",
    ),
    Case(
        "no_crs",
        "shapefile without .prj",
        "refuse",
        make_no_crs,
        error="CRSError",
        match="no CRS.*--hazards-crs",
        doc="refused; the message names `--hazards-crs`",
    ),
    Case(
        "projected_geojson",
        "GeoJSON without `crs` holding projected coordinates",
        "refuse",
        make_projected_as_geojson,
        error="CRSError",
        match="look projected",
        doc="refused: coordinates impossible in degrees",
    ),
    Case(
        "legacy_crs_member",
        "GeoJSON with a legacy `crs` member (EPSG:32636)",
        "report",
        make_legacy_crs,
        match=r"legacy 'crs' member \(EPSG:32636\)",
        expect={"usable": 1, "crs": "EPSG:32636"},
        doc="the member is honoured, warned with the CRS it names, noted in `summary.json`",
    ),
    Case(
        "swapped_out_of_range",
        "lat/lon swapped (latitudes beyond 90°)",
        "refuse",
        make_swapped_out_of_range,
        error="CRSError",
        match="swapped",
        doc="refused: the message says lat/lon look swapped",
    ),
    Case(
        "swapped_in_range",
        "lat/lon swapped but within range",
        "refuse",
        make_swapped_in_range,
        error="CRSError",
        match="swapped",
        doc="refused when assessing: nothing on the raster, but swapped it would be",
    ),
    Case(
        "zero_byte",
        "zero-byte file",
        "refuse",
        make_zero_byte,
        error="InputError",
        match="empty",
        doc="refused",
    ),
    Case(
        "truncated_geojson",
        "truncated GeoJSON",
        "refuse",
        make_truncated_geojson,
        error="InputError",
        match="could not read",
        doc="refused with GDAL's reason",
    ),
    Case(
        "truncated_gpkg",
        "truncated GeoPackage",
        "refuse",
        make_truncated_gpkg,
        error="InputError",
        match="could not read",
        doc="refused with GDAL's reason",
    ),
    Case(
        "wrong_extension",
        "GeoJSON saved as .txt",
        "report",
        make_wrong_extension,
        expect={"usable": 1},
        doc="read by content (GDAL)",
    ),
    Case(
        "unknown_format",
        "binary junk as .dat",
        "refuse",
        make_unknown_format,
        error="InputError",
        match="not recognized",
        doc="refused",
    ),
    Case(
        "directory",
        "a directory instead of a file",
        "refuse",
        make_directory,
        error="InputError",
        match="directory",
        doc="refused",
    ),
    Case(
        "missing_sidecar",
        "shapefile without its .dbf",
        "refuse",
        make_missing_sidecar,
        error="InputError",
        match=r"sidecar.*\.dbf",
        doc="refused; the message names the file",
    ),
    Case(
        "zip_without_shapefile",
        "zip archive with no .shp inside",
        "refuse",
        make_zipped_without_shp,
        error="InputError",
        match="zipped shapefile",
        doc="refused",
    ),
    Case(
        "latin1_text",
        "GeoJSON attribute text in Latin-1",
        "report",
        make_latin1,
        match="not valid UTF-8; read as cp1252",
        expect={"usable": 1, "column": ("name", "été")},
        doc="read as Windows-1252 (guessed, a superset of Latin-1), `LoadWarning` names it; "
        "`--encoding` chooses",
    ),
    Case(
        "duplicate_ids",
        "duplicate hazard ids",
        "repair",
        make_duplicate_ids,
        match="repeated: 'A' ×2",
        expect={"usable": 3, "ids": ["A", "B", "A#2"]},
        doc="every row counted; repeats numbered `A#2`, ... (input id kept in "
        "`hazard_id_input`), `LoadWarning` names them; `--strict` refuses",
    ),
    Case(
        "bad_wkt_rows",
        "CSV with bad WKT in two rows",
        "repair",
        make_bad_wkt,
        match="line 3 of the CSV",
        expect={"excluded": 2, "usable": 2},
        doc="those rows excluded with their line numbers, the rest processed (`--strict` refuses)",
    ),
    Case(
        "raster_fill_undeclared",
        "raster with -3.4e38 fill and no declared nodata",
        "report",
        make_raster_fill_undeclared,
        match="declares no nodata",
        expect={"total": 110 * 120},
        doc="fill never counted as people; `NodataWarning` says how to declare it",
    ),
    Case(
        "raster_nan",
        "raster with NaN",
        "report",
        make_raster_nan,
        expect={"total": 120 * 120 - 100},
        doc="NaN never counted",
    ),
    Case(
        "raster_negative_fill",
        "raster with -9999 declared as nodata",
        "report",
        make_raster_negative_fill,
        expect={"total": 120 * 115},
        doc="nodata and negative values never counted",
    ),
    Case(
        "raster_uint16_overflow",
        "uint16 raster whose sum overflows uint16",
        "report",
        make_raster_uint16,
        expect={"total": 60_000 * 120 * 120},
        doc="accumulated in float64: exact",
    ),
    Case(
        "raster_float32_total",
        "float32 raster of 1,000,000 × 0.1",
        "report",
        make_raster_float32_total,
        expect={"total": float(np.float32(0.1)) * 1_000_000},
        doc="accumulated in float64: no float32 drift",
    ),
    Case(
        "raster_rotated",
        "rotated geotransform",
        "refuse",
        make_raster_rotated,
        error="RasterError",
        match="rotated",
        doc="refused (not supported exactly)",
    ),
    Case(
        "raster_no_crs",
        "raster without CRS",
        "refuse",
        make_raster_no_crs,
        error="RasterError",
        match="no CRS",
        doc="refused; the message names `gdal_edit.py`",
    ),
    Case(
        "partly_outside",
        "hazard half outside the raster",
        "report",
        make_partly_outside,
        expect={"share_outside": 0.5},
        doc="counted where covered; the share outside reported",
    ),
    Case(
        "wholly_outside",
        "hazards wholly outside the raster",
        "refuse",
        make_wholly_outside,
        error="NoOverlapError",
        match=r"wholly outside it \(H0\)",
        doc="refused: the message names the hazards and both extents",
    ),
    Case(
        "tiles_misaligned",
        "tiles on different pixel grids",
        "refuse",
        make_tiles_misaligned,
        error="RasterError",
        match="not aligned",
        doc="refused: never resampled",
    ),
    Case(
        "mollweide_raster",
        "GHS-POP-style Mollweide raster, hazards in WGS 84",
        "report",
        make_mollweide,
        match="moved into the population raster's CRS",
        expect={"inside_between": (70, 90)},
        doc="hazards moved into Mollweide (`ReprojectionWarning`); raster untouched",
    ),
    Case(
        "antimeridian",
        "polygon across the antimeridian (179.5° … -179.5°)",
        "report",
        make_antimeridian,
        expect={"people_inside_rel": (1.0, 1e-9)},
        doc="split at ±180°: its 1° × 1° counted (not a band around the globe)",
    ),
    Case(
        "near_pole",
        "polygon at 89.5-89.8° N",
        "report",
        make_near_pole,
        expect={"people_inside_rel": (30.0, 1e-9)},
        doc="counted exactly; rings in metres in a polar azimuthal projection",
    ),
    Case(
        "cp1251_geojson",
        "GeoJSON attribute text in Windows-1251 (Cyrillic)",
        "report",
        make_cp1251_geojson,
        match="read as cp1251",
        expect={"usable": 2, "column": ("name", CYRILLIC)},
        doc="read as Windows-1251 (guessed: Cyrillic letters stand in runs of bytes ≥ 0xC0), "
        "`LoadWarning` names it; `--encoding` chooses",
    ),
    Case(
        "shapefile_without_cpg",
        "shapefile in Windows-1251 without its .cpg",
        "report",
        make_shapefile_without_cpg,
        match="no .cpg file.*read as cp1251",
        expect={"usable": 2, "column": ("name", CYRILLIC)},
        doc="read as Windows-1251 (guessed), warned; `--encoding` chooses",
    ),
    Case(
        "shapefile_wrong_cpg",
        "shapefile in Windows-1251 whose .cpg says UTF-8",
        "report",
        make_shapefile_wrong_cpg,
        match="not valid UTF-8; read as cp1251",
        expect={"usable": 2, "column": ("name", CYRILLIC)},
        doc="the declared encoding fails: read as Windows-1251 (guessed), warned",
    ),
    Case(
        "csv_cp1251",
        "CSV in Windows-1251",
        "report",
        make_csv_cp1251,
        match="CSV text is not valid UTF-8; read as cp1251",
        expect={"usable": 2, "column": ("name", CYRILLIC)},
        doc="read as Windows-1251 (guessed), warned; `--encoding` chooses",
    ),
    Case(
        "nan_vertex",
        "NaN and infinite vertices",
        "repair",
        make_nan_vertex,
        match="NaN or infinite",
        expect={"usable": 1, "excluded": 2},
        doc="those rows excluded with the reason and named in a warning and in `summary.json`",
    ),
    Case(
        "one_impossible_row",
        "one row with a latitude of 95° among good rows",
        "repair",
        make_one_impossible_row,
        match=r"H1 \(row 2: impossible coordinates",
        expect={"usable": 2, "excluded": 1, "people_inside_rel": (200.0, 1e-9)},
        doc="that row excluded with its reason, the rest counted (a file is refused only "
        "when every row is implausible)",
    ),
    Case(
        "unitless_area",
        "point records with an `area` column that names no unit",
        "report",
        make_unitless_area,
        match="names no unit: ignored",
        expect={"usable": 2, "inside_total": 0.0},
        doc="never taken as m²: ignored with a warning (points stay points); "
        "`--area-column area --area-unit ha` maps it",
    ),
    Case(
        "dates_ambiguous",
        "dates like 03/04/2020 that nothing in the column decides",
        "report",
        make_dates_ambiguous,
        match="could be day-first or month-first",
        expect={"dates": [None, None]},
        doc="left empty with a warning; `--date-format %d/%m/%Y` reads them",
    ),
    Case(
        "dates_day_first",
        "dates like 03/04/2020 in a column holding 25/06/2021",
        "report",
        make_dates_day_first,
        expect={"dates": ["2020-04-03", "2021-06-25"]},
        doc="one convention for the whole column: a first field above 12 decides day-first",
    ),
    Case(
        "huge_hazard",
        "a 2,000 km hazard over a 100 × 100 px raster",
        "report",
        make_huge_hazard,
        expect={
            "people_inside_rel": (10_100.0, 1e-9),
            "max_seconds": 60,
            "share_outside_above": 0.9999,
        },
        doc="work bounded by the raster's extent: 0.15 s with rings of 500 m, 1 km and 5 km "
        "(was 260 s); the share of hazard area outside the raster reported (0.99999967)",
    ),
    Case(
        "polar_cap",
        "lon/lat box -180..180 × 80..90° N over a polar stereographic raster",
        "report",
        make_polar_cap,
        expect={"people_inside_rel": (math.pi * RHO_80N**2 / 1e8, 1e-6)},
        doc="edges densified before reprojection: the cap's footprint is right (37,046.4 "
        "people = π ρ(80°)² / pixel area, in 0.6 s), not a silent 0; rings built straight "
        "in the polar CRS",
    ),
    Case(
        "raster_0_360",
        "a raster whose longitudes run 0..360, hazards at -10° and across 0°",
        "report",
        make_raster_0_360,
        expect={"people_inside_rel": (2.0, 1e-9)},
        doc="longitudes moved into the raster's span (cut at its seam): counted once",
    ),
    Case(
        "density_web_mercator",
        "density raster (people per km²) in Web Mercator at 60° N",
        "report",
        make_density_web_mercator,
        expect={
            "inside_total": _box_people_per_km2(100.0, 18.5, 60.5, 18.6, 60.55),
            "inside_rel": 1e-5,
        },
        doc="each pixel's true ground area (its corners on the ellipsoid), not the nominal "
        "pixel area (4× too large here)",
    ),
    Case(
        "points_no_rings",
        "points and lines with no ring distances",
        "report",
        make_points_no_rings,
        expect={"inside_total": 0.0},
        doc="0 people inside (nobody lives in a point or line), no error",
    ),
    Case(
        "markup_and_paths",
        "HTML and path-like text in ids and attributes",
        "report",
        make_markup_and_paths,
        expect={"outputs_escaped": XSS},
        doc="escaped in the map and report; output file names never come from inputs",
    ),
    Case(
        "truncated_tiff",
        "truncated GeoTIFF",
        "refuse",
        make_truncated_tiff,
        error="RasterError",
        match="truncated or corrupt|could not open",
        doc="refused with the file and window named",
    ),
]


def markdown() -> str:
    """The README table."""
    lines = ["| input | outcome | what geomines does |", "|---|---|---|"]
    for c in CASES:
        lines.append(f"| {c.what} | {c.outcome} | {c.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
