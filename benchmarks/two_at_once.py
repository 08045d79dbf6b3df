"""What two cores give two copies of the engine's work on this machine.

    python benchmarks/two_at_once.py [--rounds 3]

Runs the 20,000-hazard assessment on one thread (``GEOMINES_THREADS=1``: the work one
Dask worker does, with no cluster around it) alone, then two copies of it at once in
separate processes, alternately for a few rounds. Two copies at once that each take as
long as one alone would give 2 workers 2.0× one; the measured ratio, ``2 × alone /
pair``, is the most that two workers of the same work can give on this machine
however well the work is split, before any client, scheduler or transfer cost. The
data are ``benchmarks/make_data.py``'s; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: one assessment on one thread; prints its wall time (reading excluded)
_ONE = """
import time, warnings
warnings.simplefilter("ignore")
import geomines
data = {data!r}
frame = geomines.read_hazards(data + "/hazards.gpkg")
t = time.perf_counter()
geomines.assess(frame, data + "/population.tif", rings_m=(500, 1000, 5000),
                admin=data + "/admin.gpkg", admin_id="admin_id", progress=False)
print(time.perf_counter() - t)
"""


def _start(data: Path) -> subprocess.Popen:
    env = {**os.environ, "GEOMINES_THREADS": "1"}
    code = _ONE.format(data=str(data))
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )


def _seconds(proc: subprocess.Popen) -> float:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"an assessment failed (exit {proc.returncode})")
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args()
    alone, pairs = [], []
    for k in range(args.rounds):
        alone.append(_seconds(_start(args.data)))
        procs = [_start(args.data), _start(args.data)]
        pair = [_seconds(p) for p in procs]
        pairs.append(max(pair))
        print(
            f"round {k + 1}: alone {alone[-1]:.2f} s; two at once {pair[0]:.2f} and "
            f"{pair[1]:.2f} s: {2 * alone[-1] / max(pair):.2f}x "
            f"({time.strftime('%H:%M:%S')})",
            flush=True,
        )
    a, p = statistics.median(alone), statistics.median(pairs)
    print(
        f"median: alone {a:.2f} s, two at once {p:.2f} s (the slower of the two): two "
        f"processes do {2 * a / p:.2f}x the work of one in the same time"
    )


if __name__ == "__main__":
    main()
