"""Generate the national-scale benchmark case, deterministically.

    python benchmarks/make_data.py [--out benchmarks/data] [--scale 1] [--hazards 20000]
    python benchmarks/make_data.py --load 100000    # the load case: hazards_100k.gpkg
    python benchmarks/make_data.py --load 1000000 --points 0.3   # the cluster case

Writes ``population.tif`` (about 12,000 × 7,000 pixels of 0.001°, ≈ 74 m × 111 m at
48° N, a Ukraine-sized WorldPop-like grid: tiled 256 × 256, deflate, float32,
heavy-tailed people per pixel, WorldPop's -3.4e38 nodata over a "sea" and a border
strip) and ``hazards.gpkg`` (20,000 hazards clustered along a front line: many
overlapping, sub-pixel ones, multipolygons, holes, some invalid bow-ties, some
partly outside the raster). ``--scale 2`` doubles each side (4× the pixels) over
the same place, for the memory-independence check. Memory stays bounded: the raster
is written block row by block row.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.windows import Window

NODATA = -3.4028234663852886e38
WEST, NORTH = 26.0, 52.0
WIDTH, HEIGHT = 12_000, 7_000
RES = 0.001


def _front(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A sinuous front line across the grid, t in [0, 1]."""
    lon = WEST + 1.0 + 10.5 * t
    lat = NORTH - 3.5 + 1.6 * np.sin(2.4 * np.pi * t) + 0.4 * np.sin(9 * np.pi * t)
    return lon, lat


def write_population(path: Path, scale: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    width, height, res = WIDTH * scale, HEIGHT * scale, RES / scale
    # towns: centres with heavy-tailed sizes; people fall off with distance
    n_towns = 900
    town_lon = rng.uniform(WEST, WEST + WIDTH * RES, n_towns)
    town_lat = rng.uniform(NORTH - HEIGHT * RES, NORTH, n_towns)
    town_pop = (rng.pareto(1.1, n_towns) + 1) * 300
    town_r = 0.004 + 0.002 * np.sqrt(town_pop / 300)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "nodata": NODATA,
        "transform": from_origin(WEST, NORTH, res, res),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "IF_SAFER",
    }
    lon = WEST + (np.arange(width) + 0.5) * res
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, height, 256):
            h = min(256, height - r0)
            lat = NORTH - (r0 + np.arange(h) + 0.5) * res
            block = (rng.gamma(0.3, 2.0, (h, width)) * (res / RES) ** 2).astype("float64")
            near = np.nonzero((town_lat > lat.min() - 0.1) & (town_lat < lat.max() + 0.1))[0]
            for i in near:
                c0 = max(0, int((town_lon[i] - 4 * town_r[i] - WEST) / res))
                c1 = min(width, int((town_lon[i] + 4 * town_r[i] - WEST) / res) + 1)
                if c1 <= c0:
                    continue
                dx = (lon[c0:c1][None, :] - town_lon[i]) * math.cos(math.radians(48))
                dy = lat[:, None] - town_lat[i]
                dens = np.exp(-(dx * dx + dy * dy) / (2 * town_r[i] ** 2))
                block[:, c0:c1] += town_pop[i] * dens * (res / RES) ** 2 / 40
            # the sea in the south-east corner and a border strip: nodata
            sea = (lat[:, None] < NORTH - 6.2 + 0.3 * np.sin(lon[None, :] * 3)) & (
                lon[None, :] > WEST + 7.5
            )
            block[sea] = NODATA
            block[:, : max(1, width // 400)] = NODATA
            dst.write(block.astype("float32"), 1, window=Window(0, r0, width, h))


def _blob(rng: np.random.Generator, x: float, y: float, r: float, n: int) -> shapely.Polygon:
    a = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = r * rng.uniform(0.55, 1.0, n)
    k = 1 / math.cos(math.radians(y))
    return shapely.Polygon(np.column_stack([x + k * rad * np.cos(a), y + rad * np.sin(a)]))


def write_hazards(path: Path, n: int, seed: int = 11, points: float = 0.0) -> None:
    """``n`` hazards; a share ``points`` of them legacy points with a ``radius_m``."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 1, n)
    lon, lat = _front(t)
    # distance from the front: most hazards within 20 km, a tail to 80 km
    off = rng.normal(0, 0.12, n) + rng.choice([0, 1], n, p=[0.9, 0.1]) * rng.normal(0, 0.4, n)
    lat = lat + off
    lon = lon + rng.normal(0, 0.05, n)
    # sizes: log-uniform radius from 20 m (sub-pixel) to 3 km
    radius_deg = np.exp(rng.uniform(np.log(0.0002), np.log(0.027), n))
    geoms = []
    kinds = rng.random(n)
    for i in range(n):
        r = radius_deg[i]
        g = _blob(rng, lon[i], lat[i], r, int(rng.integers(6, 24)))
        if kinds[i] < 0.05:  # multipolygon: two fields
            g = shapely.MultiPolygon([g, _blob(rng, lon[i] + 2.5 * r, lat[i] + r, r * 0.6, 8)])
        elif kinds[i] < 0.09:  # a hole
            g = shapely.make_valid(g).difference(shapely.Point(lon[i], lat[i]).buffer(r * 0.3))
        elif kinds[i] < 0.10:  # an invalid bow-tie
            g = shapely.Polygon(
                [
                    (lon[i] - r, lat[i] - r),
                    (lon[i] + r, lat[i] + r),
                    (lon[i] + r, lat[i] - r),
                    (lon[i] - r, lat[i] + r),
                ]
            )
        geoms.append(g)
    # some partly outside the raster: shift a few across the west edge
    for i in rng.choice(n, 40, replace=False):
        geoms[i] = shapely.affinity.translate(geoms[i], WEST - shapely.bounds(geoms[i])[0] - 0.01)
    status = rng.choice(["open", "cancelled", "reduced", "cleared"], n, p=[0.8, 0.08, 0.06, 0.06])
    land_class = np.where(rng.random(n) < 0.35, "CHA", "SHA")
    contamination = rng.choice(["AP mine", "AT mine", "ERW", "CMR", "IED", "unknown"], n)
    columns = {
        "hazard_id": [f"BM-{i:05d}" for i in range(n)],
        "land_class": land_class,
        "contamination": contamination,
        "status": status,
    }
    if points:  # drawn last, so the files without points stay as they were
        is_point = rng.random(n) < points
        columns["radius_m"] = np.where(is_point, np.round(radius_deg * 111_320.0, 1), np.nan)
        for i in np.nonzero(is_point)[0]:
            geoms[i] = shapely.Point(lon[i], lat[i])
    frame = gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4326")
    frame.to_file(path, driver="GPKG")


def write_admin(path: Path, n: int = 24, seed: int = 3) -> None:
    """Admin units: a Voronoi partition of the raster's extent (like oblasts)."""
    rng = np.random.default_rng(seed)
    extent = shapely.box(WEST, NORTH - HEIGHT * RES, WEST + WIDTH * RES, NORTH)
    pts = shapely.MultiPoint(
        np.column_stack(
            [rng.uniform(WEST, WEST + WIDTH * RES, n), rng.uniform(NORTH - HEIGHT * RES, NORTH, n)]
        )
    )
    cells = [c.intersection(extent) for c in shapely.voronoi_polygons(pts, extend_to=extent).geoms]
    frame = gpd.GeoDataFrame(
        {
            "admin_id": [f"UA-{i:02d}" for i in range(len(cells))],
            "admin_name": [f"Region {i}" for i in range(len(cells))],
        },
        geometry=cells,
        crs="EPSG:4326",
    )
    frame.to_file(path, driver="GPKG")


def write_tiles(src_path: Path, out: Path, n: int = 4) -> None:
    """Split the raster into n × n GeoTIFF tiles on the same grid."""
    out.mkdir(exist_ok=True)
    with rasterio.open(src_path) as src:
        profile = src.profile
        rows = np.array_split(np.arange(src.height), n)
        cols = np.array_split(np.arange(src.width), n)
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                window = Window(int(c[0]), int(r[0]), len(c), len(r))
                data = src.read(1, window=window)
                prof = dict(
                    profile, width=len(c), height=len(r), transform=src.window_transform(window)
                )
                with rasterio.open(out / f"tile_{i}_{j}.tif", "w", **prof) as dst:
                    dst.write(data, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--hazards", type=int, default=20_000)
    parser.add_argument(
        "--load",
        type=int,
        default=None,
        help="only write hazards_<N/1000>k.gpkg with N hazards (same generator)",
    )
    parser.add_argument(
        "--points",
        type=float,
        default=0.0,
        help="with --load: this share of the hazards are legacy points with a radius_m",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.load:
        path = args.out / f"hazards_{args.load // 1000}k.gpkg"
        if not path.exists():
            write_hazards(path, args.load, points=args.points)
            print(f"wrote {path}")
        return
    pop = args.out / ("population.tif" if args.scale == 1 else f"population_x{args.scale}.tif")
    if not pop.exists():
        write_population(pop, args.scale)
        print(f"wrote {pop}")
    adm = args.out / "admin.gpkg"
    if not adm.exists():
        write_admin(adm)
        print(f"wrote {adm}")
    tiles = args.out / "tiles"
    if args.scale == 1 and not tiles.exists():
        write_tiles(pop, tiles)
        print(f"wrote {tiles}/ (16 tiles)")
    haz = args.out / "hazards.gpkg"
    if not haz.exists():
        write_hazards(haz, args.hazards)
        print(f"wrote {haz}")


if __name__ == "__main__":
    main()
