"""The whole machine's CPU time spent by one assessment, local or on Dask workers.

    python benchmarks/machine_cpu.py 0     # the local engine
    python benchmarks/machine_cpu.py 1     # a LocalCluster of 1 worker
    python benchmarks/machine_cpu.py 2     # ... of 2 workers

Prints the wall time of ``geomines.assess`` on the 20,000-hazard case, the CPU seconds
every process on the machine spent meanwhile (``/proc/stat``: client, scheduler and
workers together; run it on an otherwise idle machine), the share of the cores that is,
and the client's own CPU seconds. It bounds what more workers can give on this machine:
a run cannot take less than its CPU seconds divided by the cores.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
RINGS = (500, 1000, 5000)


def _busy() -> tuple[int, int]:
    """The machine's busy and total clock ticks so far."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return sum(ticks) - idle, sum(ticks)


def main() -> None:
    import geopandas as gpd

    import geomines
    from geomines.engine.dask import local_client

    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    data = HERE / "data"
    warnings.simplefilter("ignore")
    client = local_client(workers) if workers else None
    hazards = geomines.read_hazards(data / "hazards.gpkg")
    raster = geomines.read_population(data / "population.tif")
    admin = gpd.read_file(data / "admin.gpkg")
    busy0, total0 = _busy()
    own0, wall0 = sum(os.times()[:2]), time.perf_counter()
    geomines.assess(hazards, raster, rings_m=RINGS, admin=admin, admin_id="admin_id", client=client)
    wall = time.perf_counter() - wall0
    busy1, total1 = _busy()
    own = sum(os.times()[:2]) - own0
    tick = os.sysconf("SC_CLK_TCK")
    print(
        f"workers {workers}: wall {wall:.1f} s, machine busy {(busy1 - busy0) / tick:.1f} "
        f"CPU-s ({(busy1 - busy0) / (total1 - total0):.2f} of its cores), "
        f"this process {own:.1f} CPU-s"
    )
    if client is not None:
        client.close()


if __name__ == "__main__":
    main()
