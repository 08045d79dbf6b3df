"""Map at benchmark scale: size of map.html and drawing time in headless Chromium.

    python benchmarks/map_check.py [--data benchmarks/data]

Assesses the 20,000 generated hazards on the national raster, writes the map, and
opens it in Debian's chromium (network blocked), timing from navigation until the
page's load event and two animation frames after it (Leaflet draws synchronously
while the page loads). Prints size, time and the number of hazards drawn.
"""

from __future__ import annotations

import argparse
import shutil
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args()
    import geomines
    from playwright.sync_api import sync_playwright

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hazards = geomines.read_hazards(args.data / "hazards.gpkg")
        result = geomines.assess(
            hazards,
            args.data / "population.tif",
            admin=args.data / "admin.gpkg",
            admin_id="admin_id",
        )
    t = time.perf_counter()
    out = args.data / "map.html"
    m = geomines.exposure_map(result)
    m.save(str(out))
    build = time.perf_counter() - t
    size_mb = out.stat().st_size / 1e6
    chromium = shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        ctx = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t = time.perf_counter()
        page.goto(out.resolve().as_uri(), wait_until="load", timeout=120_000)
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        draw = time.perf_counter() - t
        drawn = page.evaluate("geominesLayers.hazards.getLayers().length")
        page.screenshot(path=str(args.data / "map_benchmark.png"))
        browser.close()
    tol = getattr(m, "geomines_display", {}).get("tolerance_m")
    print(
        f"map.html: {size_mb:.1f} MB (built in {build:.1f} s); drawn in {draw:.1f} s in "
        f"headless chromium; {drawn} of {len(result.hazards)} hazards drawn; display "
        f"tolerance {tol:g} m; page errors: {errors or 'none'}"
    )


if __name__ == "__main__":
    main()
