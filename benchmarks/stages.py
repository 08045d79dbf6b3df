"""Where one assessment spends its time and memory, stage by stage.

    python benchmarks/stages.py [--hazards hazards_1000k.gpkg] [--workers 2] [--cli]

For each stage of :func:`geomines.assess` (and, with ``--cli``, each output that the
CLI writes) it prints the wall time, the process's CPU time (user + system: above
the wall time when threads overlap), the resident memory before and after, and the
highest resident memory sampled (every 50 ms) while the stage ran; with ``--trim``,
also the resident memory after glibc's ``malloc_trim`` (what objects still hold). With
``--workers N`` the engine runs on a LocalCluster of N worker processes and their
peaks are printed at the end. The data are ``benchmarks/make_data.py``'s.

This is a profiling aid for the performance issues, not a benchmark: the figures in
the README come from ``run.py``, each case in a fresh process with its peers.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
PROC = psutil.Process()
_PEAK = [0]


def _sample() -> None:
    while True:
        _PEAK[0] = max(_PEAK[0], PROC.memory_info().rss)
        time.sleep(0.05)


def _mb(n: float) -> str:
    return f"{n / 2**20:7.0f}"


def _timed(module: Any, name: str, label: str) -> None:
    """Replace ``module.name`` with a wrapper that prints its stage line."""
    func = getattr(module, name)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        before = PROC.memory_info().rss
        _PEAK[0] = before
        wall, cpu = time.perf_counter(), sum(os.times()[:2])
        start = time.time()
        try:
            return func(*args, **kwargs)
        finally:
            _SPANS.append((label, start, time.time()))
            if _CLIENT:  # the workers' peaks so far: which stage set them
                peaks = _CLIENT[0].run(_peak_mb)
                print(f"{'':28s} workers' peaks so far (MB): {_listing(peaks)}", flush=True)
            seconds, used = time.perf_counter() - wall, sum(os.times()[:2]) - cpu
            after = PROC.memory_info().rss
            trimmed = _trimmed_rss() if _TRIM else None
            print(
                f"{label:28s} {seconds:7.2f} s  cpu {used:7.2f} s  rss {_mb(before)} ->"
                f"{_mb(after)} MB  peak {_mb(_PEAK[0])} MB"
                + (f"  trimmed {_mb(trimmed)} MB" if trimmed is not None else ""),
                flush=True,
            )

    setattr(module, name, wrapper)


#: with ``--trim``: glibc's malloc_trim after each stage, to tell the memory still held
#: by objects from the freed memory glibc keeps (the run is otherwise unchanged, but the
#: next stage starts from a trimmed heap)
_TRIM: list[bool] = []


def _trimmed_rss() -> int:
    from geomines.engine.executors import release_memory

    release_memory()
    return PROC.memory_info().rss


#: the Dask client, when the run is on workers
_CLIENT: list[Any] = []


def _peak_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _listing(values: dict) -> str:
    return ", ".join(f"{v:.0f}" for v in values.values())


#: (stage, start, stop) in wall-clock seconds, for the workers' task stream
_SPANS: list[tuple[str, float, float]] = []


def _print_tasks(records: list[dict]) -> None:
    """Per stage: the workers' compute seconds by task kind, and how busy each was."""
    print("workers' compute time per stage (task kind: seconds, tasks; busy share per worker)")
    for label, start, stop in _SPANS:
        kinds: dict[str, list[float]] = {}
        busy: dict[str, float] = {}
        for rec in records:
            for ss in rec.get("startstops", ()):
                if ss["action"] != "compute":
                    continue
                lo, hi = max(ss["start"], start), min(ss["stop"], stop)
                if hi <= lo:
                    continue
                kind = str(rec["key"]).rsplit("-", 1)[0]
                entry = kinds.setdefault(kind, [0.0, 0])
                entry[0] += hi - lo
                entry[1] += 1
                busy[rec["worker"]] = busy.get(rec["worker"], 0.0) + hi - lo
        if not kinds:
            continue
        span = max(stop - start, 1e-9)
        shares = ", ".join(f"{v / span:.0%}" for _, v in sorted(busy.items()))
        listing = ", ".join(
            f"{k} {v[0]:.1f} s/{v[1]}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1][0])
        )
        print(f"  {label.strip():24s} busy {shares}: {listing}")


def _cpu() -> float:
    """This process's CPU time so far (user + system), in seconds."""
    return sum(os.times()[:2])


def _instrument() -> None:
    from geomines import outputs
    from geomines.assessment import stages

    for name in ("project", "count_per_hazard", "count_rings", "dissolve", "break_down"):
        _timed(stages, name, name)
    for name in ("count_population", "assemble", "where_first"):
        _timed(stages, name, name)
    for name in ("precedence_table", "band_parts_later", "reconcile_rings", "admin_table"):
        _timed(stages, name, f"  {name}")
    for name in ("_write_summary", "_write_tables", "to_geojson", "_write_pages"):
        _timed(outputs, name, f"output {name.lstrip('_')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hazards", default="hazards.gpkg", help="file in benchmarks/data")
    parser.add_argument("--raster", default="population.tif", help="file in benchmarks/data")
    parser.add_argument("--workers", type=int, default=0, help="Dask workers (0: local)")
    parser.add_argument("--partition-px", type=int, default=None, help="Dask partition side")
    parser.add_argument(
        "--tasks", action="store_true", help="with --workers: the task stream per stage"
    )
    parser.add_argument("--cli", action="store_true", help="also write every output")
    parser.add_argument(
        "--trim", action="store_true", help="after each stage, the resident size once trimmed"
    )
    parser.add_argument(
        "--build-circles",
        action="store_true",
        help="build point records' circles on reading (default: where used, as the CLI)",
    )
    args = parser.parse_args()
    if args.trim:
        _TRIM.append(True)
    warnings.simplefilter("ignore")
    threading.Thread(target=_sample, daemon=True).start()
    import geomines
    from geomines.outputs import write_outputs

    _instrument()
    data = HERE / "data"
    client = None
    if args.workers:
        from geomines.engine.dask import local_client

        client = local_client(args.workers)
        _CLIENT.append(client)
    start = time.perf_counter()
    frame = geomines.read_hazards(data / args.hazards, build_circles=args.build_circles)
    print(
        f"{'read_hazards':28s} {time.perf_counter() - start:7.2f} s  "
        f"rss {_mb(PROC.memory_info().rss)} MB  ({len(frame):,} hazards)",
        flush=True,
    )
    engine = None
    if client is not None and args.partition_px:
        from geomines.engine.dask import DaskEngine

        engine = DaskEngine(client, partition_px=args.partition_px)
    cpu0 = client.run(_cpu) if client is not None else {}
    stream = None
    if client is not None and args.tasks:
        from dask.distributed import get_task_stream

        stream = get_task_stream(client)
        stream.__enter__()
    t = time.perf_counter()
    result = geomines.assess(
        frame,
        data / args.raster,
        rings_m=(500, 1000, 5000),
        admin=data / "admin.gpkg",
        admin_id="admin_id",
        client=client if engine is None else None,
        engine=engine,
    )
    print(f"{'assess':28s} {time.perf_counter() - t:7.2f} s", flush=True)
    if stream is not None:
        stream.__exit__(None, None, None)
        _print_tasks(stream.data)
    if client is not None:
        cpu1 = client.run(_cpu)
        used = ", ".join(f"{cpu1[w] - cpu0[w]:.1f}" for w in cpu1)
        print(f"workers' CPU during assess (s): {used}", flush=True)
    if args.cli:
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            write_outputs(result, out)
        print(f"{'write_outputs':28s} {time.perf_counter() - t:7.2f} s", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak (ru_maxrss) {peak:.0f} MB")
    if client is not None:
        print("workers' peaks (MB):", _listing(client.run(_peak_mb)))
        client.close()


if __name__ == "__main__":
    main()
