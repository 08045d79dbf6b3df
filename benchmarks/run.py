"""Benchmark geomines against its peers on the national-scale case, in one run.

    python benchmarks/make_data.py                 # once: generates benchmarks/data/
    python benchmarks/make_data.py --scale 2       # once: the 4x larger raster
    python benchmarks/run.py [--repeat 3] [--quick] [--out benchmarks/results.md]

Every case runs in its own fresh Python process (so peak memory is its own),
``--repeat`` times; the table gives the median wall time, the largest peak
resident memory, and the totals each produced. All cases start from the hazard
layer already loaded into a GeoDataFrame (loading is not timed) and read the same
files from the same (warm) page cache.

Peers: exactextract (feature-sequential, its default loop over features, and
raster-sequential, its fastest strategy here), rasterstats ``zonal_stats``,
popexposure, and the floor: decoding only the raster blocks the hazards touch.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RINGS = (500, 1000, 5000)


# --------------------------------------------------------------------------- cases
def _load(data: Path):
    import geopandas as gpd
    import shapely

    hazards = gpd.read_file(data / "hazards.gpkg")
    # every peer gets the same valid polygons (geomines repairs; peers need it done)
    # (polygonal parts only: exactextract cannot parse GeometryCollections)
    fixed = shapely.make_valid(hazards.geometry.values, method="structure", keep_collapsed=False)
    hazards["geometry"] = fixed
    return hazards


def case_floor(data: Path, raster: Path) -> dict:
    import rasterio
    import shapely

    hazards = _load(data)
    with rasterio.open(raster) as src:
        bh, bw = src.block_shapes[0]
        inv = ~src.transform
        touched = set()
        for minx, miny, maxx, maxy in shapely.bounds(hazards.geometry.values):
            c0, r0 = inv * (minx, maxy)
            c1, r1 = inv * (maxx, miny)
            for br in range(max(0, int(r0) // bh), min(src.height - 1, int(r1)) // bh + 1):
                for bc in range(max(0, int(c0) // bw), min(src.width - 1, int(c1)) // bw + 1):
                    touched.add((br, bc))
        t = time.perf_counter()
        total = 0.0
        for br, bc in sorted(touched):
            win = rasterio.windows.Window(bc * bw, br * bh, bw, bh)
            total += float(src.read(1, window=win, boundless=False).size)
        seconds = time.perf_counter() - t
        nblocks = (-(-src.height // bh)) * (-(-src.width // bw))
    return {"seconds": seconds, "note": f"{len(touched)} of {nblocks} blocks"}


def case_geomines_per_hazard(data: Path, raster: Path) -> dict:
    import geomines
    from geomines.engine import zonal_sums

    hazards = _load(data)
    t = time.perf_counter()
    pop = geomines.read_population(raster)
    sums = zonal_sums(np.asarray(hazards.geometry.values), pop)
    seconds = time.perf_counter() - t
    np.save(HERE / "data" / "_geomines_per_hazard.npy", sums.people)
    return {"seconds": seconds, "sum_per_hazard": float(sums.people.sum())}


def _ee(raster: Path, frame, strategy: str) -> np.ndarray:
    from exactextract import exact_extract

    out = exact_extract(str(raster), frame[["geometry"]], "sum", output="pandas", strategy=strategy)
    return out["sum"].to_numpy(dtype=float)


def case_exactextract_feature_seq(data: Path, raster: Path) -> dict:
    hazards = _load(data)
    t = time.perf_counter()
    values = _ee(raster, hazards, "feature-sequential")
    return {"seconds": time.perf_counter() - t, "sum_per_hazard": float(np.nansum(values))}


def case_exactextract_raster_seq(data: Path, raster: Path) -> dict:
    hazards = _load(data)
    t = time.perf_counter()
    values = _ee(raster, hazards, "raster-sequential")
    seconds = time.perf_counter() - t
    np.save(HERE / "data" / "_ee_per_hazard.npy", values)
    return {"seconds": seconds, "sum_per_hazard": float(np.nansum(values))}


def case_rasterstats(data: Path, raster: Path) -> dict:
    from rasterstats import zonal_stats

    hazards = _load(data)
    t = time.perf_counter()
    stats = zonal_stats(list(hazards.geometry.values), str(raster), stats=["sum"])
    seconds = time.perf_counter() - t
    values = np.array([s["sum"] or 0.0 for s in stats], dtype=float)
    np.save(HERE / "data" / "_rasterstats_per_hazard.npy", values)
    return {"seconds": seconds, "sum_per_hazard": float(values.sum())}


def _admin(data: Path):
    import geopandas as gpd

    return gpd.read_file(data / "admin.gpkg")


def _assess_file(data: Path, raster, hazards_file: str) -> tuple[float, object, int]:
    """Read and repair the hazard file, assess it (timed): seconds, result, hazards."""
    import geomines

    admin = _admin(data)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # as the CLI reads: point records' circles built where used (a slice at a time)
        frame = geomines.read_hazards(data / hazards_file, build_circles=False)
        result = geomines.assess(
            frame, geomines.read_population(raster), rings_m=RINGS, admin=admin, admin_id="admin_id"
        )
    return time.perf_counter() - t, result, len(frame)


def _full_row(seconds: float, result, note: str) -> dict:
    return {
        "seconds": seconds,
        "inside": result.totals["inside"],
        **{f"within_{d}": result.people_within(d) for d in RINGS},
        "sum_per_hazard": float(result.hazards["people_inside"].sum()),
        "note": note,
    }


def case_geomines_full(data: Path, raster: Path, save: str | None = None) -> dict:
    hazards = _load(data)  # held, as in every other case (the peers' starting point)
    seconds, result, _ = _assess_file(data, raster, "hazards.gpkg")
    del hazards
    if save or Path(raster).name == "population.tif":
        _save_columns(result, save or "_full_local.npy")
    return _full_row(seconds, result, "includes reading and repairing the hazard file")


def case_geomines_curve50(data: Path, raster: Path) -> dict:
    """The full assessment plus a distance curve of 50 distances (100 m to 5 km)."""
    import geomines

    admin = _admin(data)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = geomines.read_hazards(data / "hazards.gpkg")
        result = geomines.assess(
            frame,
            geomines.read_population(raster),
            rings_m=RINGS,
            admin=admin,
            admin_id="admin_id",
            curve_m="100:5000:100",
        )
    row = _full_row(time.perf_counter() - t, result, "3 rings and a 50-distance curve")
    curve = result.curve.set_index("distance_m")["people_within"]
    row["note"] += f"; curve at 5 km {curve[5000.0]:,.0f}"
    return row


def case_geomines_full_100k(data: Path, raster: Path) -> dict:
    """The load case: 100,000 hazards (make_data.py --load 100000), same raster."""
    seconds, result, n = _assess_file(data, raster, "hazards_100k.gpkg")
    return _full_row(seconds, result, f"{n:,} hazards; includes reading and repairing the file")


def case_geomines_full_1thread(data: Path, raster: Path) -> dict:
    """The full assessment on one thread (the baseline for one Dask worker)."""
    os.environ["GEOMINES_THREADS"] = "1"
    out = case_geomines_full(data, raster, save="_full_1thread.npy")
    out["note"] = "GEOMINES_THREADS=1"
    return out


def _cli(data: Path, raster: Path, hazards_file: str) -> dict:
    """The command a user runs, every output written (map and report included)."""
    import tempfile

    from geomines.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "-q", "assess", str(data / hazards_file), str(raster), "--rings",
            ",".join(str(d) for d in RINGS), "--admin", str(data / "admin.gpkg"),
            "--admin-id", "admin_id", "--out", tmp,
        ]  # fmt: skip
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cli.main(args=args, standalone_mode=False, obj={})
        seconds = time.perf_counter() - t
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        files = sorted(p.name for p in Path(tmp).iterdir())
    people = summary["people"]
    return {
        "seconds": seconds,
        "inside": people["inside"],
        **{f"within_{d}": people["within_m"][str(d)] for d in RINGS},
        "note": f"{summary['hazards']['count']:,} hazards; {len(files)} files written "
        "(map and report included); includes reading and repairing the file",
    }


def case_geomines_cli(data: Path, raster: Path) -> dict:
    return _cli(data, raster, "hazards.gpkg")


def case_geomines_cli_2k(data: Path, raster: Path) -> dict:
    return _cli(data, raster, "hazards_2k.gpkg")


def case_geomines_cli_100k(data: Path, raster: Path) -> dict:
    return _cli(data, raster, "hazards_100k.gpkg")


def _full_on_dask(
    data: Path, raster, workers: int, hazards_file: str = "hazards.gpkg", save: bool = True
) -> dict:
    import geomines
    from geomines.engine.dask import local_client

    admin = _admin(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = local_client(workers)
        frame = geomines.read_hazards(data / hazards_file, build_circles=False)
        n = len(frame)
        pop = geomines.read_population(raster)
        worker_cpu = client.run(_cpu_seconds)
        t, cpu = time.perf_counter(), _cpu_seconds()
        result = geomines.assess(
            frame, pop, rings_m=RINGS, admin=admin, admin_id="admin_id", client=client
        )
        seconds, cpu = time.perf_counter() - t, _cpu_seconds() - cpu
        worker_cpu = {w: v - worker_cpu[w] for w, v in client.run(_cpu_seconds).items()}
        if save:
            _save_columns(result, f"_full_dask{workers}.npy")
        worker_mb = client.run(_peak_mb)
        cluster = client.cluster
        client.close()
        cluster.close()
    peaks = ", ".join(f"{v:.0f}" for v in worker_mb.values())
    busy = ", ".join(f"{v:.1f}" for v in worker_cpu.values())
    row = _full_row(
        seconds,
        result,
        f"{n:,} hazards; LocalCluster, {workers} worker process(es); peak MB is "
        f"the client's, workers' peaks {peaks} MB; CPU s: client {cpu:.1f} (its "
        f"scheduler included), workers {busy}",
    )
    return {**row, "cpu_client": cpu, "cpu_workers": sum(worker_cpu.values())}


def case_geomines_dask_1m(data: Path, raster: Path) -> dict:
    """1,000,000 hazards, 30% legacy points with a radius (make_data.py --load 1000000
    --points 0.3), on a 2-worker LocalCluster; reading the file is not timed."""
    return _full_on_dask(data, raster, 2, "hazards_1000k.gpkg", save=False)


def _save_columns(result, name: str) -> None:
    """Per-hazard people (inside and within each distance) and the totals, for agreement."""
    cols = ["people_inside", *[f"people_within_{d}m" for d in RINGS]]
    per = result.hazards[cols].to_numpy(float).ravel()
    totals = [result.totals["inside"], *[result.people_within(d) for d in RINGS]]
    np.save(HERE / "data" / name, np.concatenate([per, totals]))


def _engine_loop() -> str:
    """Which inner loop the exact engine runs here (compiled C or numpy: same sums)."""
    from geomines.engine.exact import COMPILED

    return "compiled C" if COMPILED else "numpy (the C extension was not built)"


def _dask_ceiling(rows: list) -> list[str]:
    """The most 2 workers could gain over 1 here: the 1-worker run's CPU (workers and
    client, whose scheduler runs in it) spread over this machine's cores with nothing
    added by the spreading. On a machine whose cores the client shares with the
    workers, the 1-worker run has the client on a core of its own; 2 workers do not.
    """
    one = next((r for c, _, s, _, r in rows if c == "geomines_full_dask1" and s), None)
    if not one or "cpu_workers" not in one:
        return []
    cores = os.cpu_count() or 1
    need = one["cpu_workers"] + one["cpu_client"]
    return [
        f"- most geomines_full_dask1 / geomines_full_dask2 could be on {cores} cores "
        f"(the 1-worker run's {need:.1f} CPU s, client included, spread evenly over "
        f"{cores} cores, nothing added by spreading it): **{one['seconds'] * cores / need:.2f}×**"
    ]


def _cpu_seconds() -> float:
    """This process's CPU time (user and system, every thread)."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_geomines_full_dask1(data: Path, raster: Path) -> dict:
    return _full_on_dask(data, raster, 1)


def case_geomines_full_dask2(data: Path, raster: Path) -> dict:
    return _full_on_dask(data, raster, 2)


def case_geomines_full_tiles(data: Path, raster: Path) -> dict:
    tiles = sorted((data / "tiles").glob("*.tif"))
    out = case_geomines_full(data, tiles, save="_full_tiles.npy")
    out["note"] = f"the same raster as {len(tiles)} tiles"
    return out


def _user_buffers(hazards, distance: float):
    """What a careful user does today: buffer in a metric projection (UTM) and union."""
    utm = hazards.estimate_utm_crs()
    return hazards.to_crs(utm).buffer(distance, quad_segs=16).to_crs(hazards.crs)


def case_user_pipeline_full(data: Path, raster: Path) -> dict:
    import geopandas as gpd
    import shapely

    hazards = _load(data)
    admin = _admin(data)
    counted = hazards[hazards["status"] == "open"]
    t = time.perf_counter()
    out: dict = {}
    # per hazard: inside and within each distance
    per = {"inside": _ee(raster, hazards, "raster-sequential")}
    layers = {}
    for d in RINGS:
        buf = gpd.GeoDataFrame(geometry=_user_buffers(hazards, d), crs=hazards.crs)
        per[d] = _ee(raster, buf, "raster-sequential")
        layers[d] = buf.geometry.values[hazards["status"].to_numpy() == "open"]
    # dissolved: union of counted hazards and of their buffers, one call per layer
    unions = {"inside": shapely.union_all(counted.geometry.values)}
    for d in RINGS:
        unions[d] = shapely.union_all(layers[d])
    frame = gpd.GeoDataFrame(
        {"layer": [str(k) for k in unions]}, geometry=list(unions.values()), crs=hazards.crs
    )
    totals = _ee(raster, frame, "raster-sequential")
    # by admin: each unit intersected with each dissolved layer
    pieces = []
    for key, geom in unions.items():
        for aid, unit in zip(admin["admin_id"], admin.geometry.values, strict=True):
            piece = shapely.intersection(unit, geom)
            if not piece.is_empty:
                pieces.append((key, aid, piece))
    pframe = gpd.GeoDataFrame(
        {"layer": [str(p[0]) for p in pieces]}, geometry=[p[2] for p in pieces], crs=hazards.crs
    )
    _ee(raster, pframe, "raster-sequential")
    _ee(raster, admin, "raster-sequential")
    seconds = time.perf_counter() - t
    out.update(
        {
            "seconds": seconds,
            "inside": float(totals[0]),
            **{f"within_{d}": float(v) for d, v in zip(RINGS, totals[1:], strict=True)},
            "sum_per_hazard": float(np.nansum(per["inside"])),
        }
    )
    return out


def case_popexposure_full(data: Path, raster: Path) -> dict:
    import popexposure

    hazards = _load(data)
    counted = hazards[hazards["status"] == "open"].reset_index(drop=True)
    t = time.perf_counter()
    frame = counted[["hazard_id"]].rename(columns={"hazard_id": "ID_hazard"})
    frame = frame.set_geometry(counted.geometry.values, crs=counted.crs)
    frame = frame.rename_geometry("buffered_hazard_0")
    for d in RINGS:  # the user builds the buffers
        frame[f"buffered_hazard_{d}"] = _user_buffers(counted, d).values
    est = popexposure.PopEstimator(pop_data=str(raster))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per = est.est_exposed_pop(frame, hazard_specific=True)
        total = est.est_exposed_pop(frame, hazard_specific=False)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "inside": float(total["exposed_0"].iloc[0]),
        **{f"within_{d}": float(total[f"exposed_{d}"].iloc[0]) for d in RINGS},
        "sum_per_hazard": float(per["exposed_0"].sum()),
        "note": "counted (open) hazards only",
    }


CASES = {
    "floor": (case_floor, "decode only the blocks the hazards touch"),
    "geomines_per_hazard": (case_geomines_per_hazard, "geomines: per-hazard exact sums"),
    "exactextract_feature_seq": (
        case_exactextract_feature_seq,
        "exactextract, feature-sequential (its loop)",
    ),
    "exactextract_raster_seq": (
        case_exactextract_raster_seq,
        "exactextract, raster-sequential (fastest)",
    ),
    "rasterstats": (case_rasterstats, "rasterstats zonal_stats (centre rule)"),
    "geomines_full": (
        case_geomines_full,
        "geomines: full assessment (per hazard, dissolved, 3 rings, admin)",
    ),
    "user_pipeline_full": (
        case_user_pipeline_full,
        "exactextract + shapely: the same numbers as a user would",
    ),
    "popexposure_full": (
        case_popexposure_full,
        "popexposure: per hazard + dissolved, 3 user-built buffers",
    ),
    "geomines_full_100k": (
        case_geomines_full_100k,
        "geomines: full assessment, 100,000 hazards (load case)",
    ),
    "geomines_full_1thread": (
        case_geomines_full_1thread,
        "geomines: full assessment, one thread",
    ),
    "geomines_cli": (
        case_geomines_cli,
        "geomines assess (CLI), 20,000 hazards, every output written",
    ),
    "geomines_cli_2k": (
        case_geomines_cli_2k,
        "geomines assess (CLI), 2,000 hazards, every output written",
    ),
    "geomines_cli_100k": (
        case_geomines_cli_100k,
        "geomines assess (CLI), 100,000 hazards, every output written",
    ),
    "geomines_full_dask1": (case_geomines_full_dask1, "geomines full on Dask, 1 worker"),
    "geomines_full_dask2": (case_geomines_full_dask2, "geomines full on Dask, 2 workers"),
    "geomines_full_tiles": (case_geomines_full_tiles, "geomines full, raster as 16 tiles"),
    "geomines_curve50": (
        case_geomines_curve50,
        "geomines full + distance curve of 50 distances (100 m to 5 km)",
    ),
    "geomines_dask_1m": (
        case_geomines_dask_1m,
        "geomines full on Dask, 2 workers, 1,000,000 hazards (30% points with a radius)",
    ),
}
DEFAULT_CASES = (
    "floor,geomines_per_hazard,exactextract_feature_seq,exactextract_raster_seq,"
    "rasterstats,geomines_full,geomines_cli,user_pipeline_full,popexposure_full"
)


# --------------------------------------------------------------------------- driver
def run_child(case: str, data: Path, raster: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", case, "--data", str(data), "--raster", str(raster)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def agreement() -> dict:
    ours = HERE / "data" / "_geomines_per_hazard.npy"
    ee = HERE / "data" / "_ee_per_hazard.npy"
    rs = HERE / "data" / "_rasterstats_per_hazard.npy"
    out = {}
    if ours.exists() and ee.exists():
        a, b = np.load(ours), np.load(ee)
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1.0)
        out["max_rel_diff_vs_exactextract"] = float(np.nanmax(rel))
    if ours.exists() and rs.exists():
        a, c = np.load(ours), np.load(rs)
        err = np.abs(c - a) / np.maximum(a, 1e-9)
        out["rasterstats_median_rel_error"] = float(np.nanmedian(err))
        out["rasterstats_max_rel_error"] = float(np.nanmax(err[a > 1]))
    local = HERE / "data" / "_full_local.npy"
    if local.exists():
        a = np.load(local)
        for name in ("dask1", "dask2", "tiles"):
            other = HERE / "data" / f"_full_{name}.npy"
            if other.exists():
                b = np.load(other)
                if b.shape != a.shape:  # from another data set: not comparable
                    continue
                rel = np.abs(a - b) / np.maximum(np.abs(a), 1.0)
                out[f"max_rel_diff_{name}_vs_local"] = float(np.nanmax(rel))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", default=None)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--raster", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default=DEFAULT_CASES)
    parser.add_argument(
        "--dask",
        action="store_true",
        help="also run the full assessment on Dask (1 and 2 workers) and on "
        "the raster split into 16 tiles",
    )
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="also run geomines_full on population_x2.tif (4x the pixels)",
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="also run the full assessment on 100,000 hazards (make_data.py --load 100000 first)",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="also run the CLI on 2,000 and 100,000 hazards and on 4x the pixels "
        "(make_data.py --load 2000, --load 100000, --scale 2 first)",
    )
    parser.add_argument(
        "--curve", action="store_true", help="also run the full assessment with a 50-distance curve"
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="also run 1,000,000 hazards on a 2-worker LocalCluster "
        "(make_data.py --load 1000000 --points 0.3 first)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the table here too")
    args = parser.parse_args()
    raster = args.raster or args.data / "population.tif"
    if args.child:
        result = CASES[args.child][0](args.data, raster)
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    runs = [(c, raster) for c in args.cases.split(",")]
    if args.scaled:
        runs.append(("geomines_full", args.data / "population_x2.tif"))
    if args.load:
        runs.append(("geomines_full_100k", raster))
    if args.scaling:
        runs += [
            ("geomines_cli_2k", raster),
            ("geomines_cli_100k", raster),
            ("geomines_cli", args.data / "population_x2.tif"),
        ]
    if args.dask:
        runs += [
            ("geomines_full_1thread", raster),
            ("geomines_full_dask1", raster),
            ("geomines_full_dask2", raster),
            ("geomines_full_tiles", raster),
        ]
    if args.curve:
        runs.append(("geomines_curve50", raster))
    if args.million:
        runs.append(("geomines_dask_1m", raster))
    rows = []
    for case, path in runs:
        results = [run_child(case, args.data, path) for _ in range(args.repeat)]
        errors = [r["error"] for r in results if "error" in r]
        good = [r for r in results if "error" not in r]
        if not good:
            rows.append((case, path.name, None, None, {"error": errors[0]}))
            continue
        seconds = statistics.median(r["seconds"] for r in good)
        peak = max(r["peak_mb"] for r in good)
        rows.append((case, path.name, seconds, peak, good[0]))
        print(f"{case} on {path.name}: {seconds:.2f} s, {peak:.0f} MB", file=sys.stderr)
    times = {(c, p): s for c, p, s, _, _ in rows}
    base = raster.name
    lines = [
        f"Benchmark on {os.cpu_count()} cores, median of {args.repeat} runs each "
        f"(`python benchmarks/run.py --repeat {args.repeat}"
        f"{' --scaled' if args.scaled else ''}{' --load' if args.load else ''}"
        f"{' --dask' if args.dask else ''}{' --scaling' if args.scaling else ''}"
        f"{' --curve' if args.curve else ''}{' --million' if args.million else ''}`); "
        f"geomines' exact engine loop: {_engine_loop()}",
        "",
        "| case | raster | wall s | peak MB | inside | within 500 m | within 1 km | "
        "within 5 km | Σ per hazard | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, path, seconds, peak, r in rows:

        def fmt(key: str, r: dict = r) -> str:
            v = r.get(key)
            return f"{v:,.0f}" if isinstance(v, float) else ""

        lines.append(
            f"| {CASES[case][1]} | {path} | "
            f"{'' if seconds is None else f'{seconds:.2f}'} | "
            f"{'' if peak is None else f'{peak:.0f}'} | {fmt('inside')} | {fmt('within_500')} | "
            f"{fmt('within_1000')} | {fmt('within_5000')} | {fmt('sum_per_hazard')} | "
            f"{r.get('note', r.get('error', ''))} |"
        )
    ratios = []

    def ratio(a: str, b: str) -> None:
        if times.get((a, base)) and times.get((b, base)):
            ratios.append(f"- {b} / {a}: **{times[(b, base)] / times[(a, base)]:.2f}×**")

    ratio("geomines_per_hazard", "exactextract_raster_seq")
    ratio("geomines_per_hazard", "exactextract_feature_seq")
    ratio("geomines_per_hazard", "rasterstats")
    ratio("geomines_full", "user_pipeline_full")
    ratio("geomines_cli", "user_pipeline_full")
    ratio("geomines_full", "popexposure_full")
    ratio("geomines_full_dask2", "geomines_full_dask1")
    ratio("geomines_full_1thread", "geomines_full_dask1")
    ratio("geomines_full", "geomines_curve50")
    ratios += _dask_ceiling(rows)
    lines += ["", "Speed-up of geomines (peer time / geomines time, same run):", *ratios]
    agree = agreement()
    if agree:
        lines += ["", "Agreement: " + ", ".join(f"{k} = {v:.3g}" for k, v in agree.items())]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
