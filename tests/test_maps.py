"""Maps in a real headless Chromium with every network request blocked.

The browser is Debian's ``chromium`` (``make test`` installs it), driven by
Playwright for Python with ``executable_path``. A screenshot of the demo map is
written to ``tests/artifacts/demo_map.png`` (not committed) for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geomines import assess, exposure_map, read_hazards, read_vector
from geomines.maps.offline import external_urls

from .conftest import SAO_MIGUEL

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail(
        "CI needs Debian's chromium for the map tests; `make test` installs it.", pytrace=False
    )
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_offline(browser, path: Path, *, size=(1280, 800)):
    """Open a local file with the network cut off; return page, console errors, requests."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, offline=True)
    page = ctx.new_page()
    errors, requests, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def route(r):
        requests.append(r.request.url)
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            r.abort()

    ctx.route("**/*", route)
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    return page, errors, requests, dialogs


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    with pytest.warns(UserWarning):
        hazards = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    result = assess(
        hazards,
        SAO_MIGUEL / "gpw_v411_2020_count_2020.tif",
        admin=read_vector(SAO_MIGUEL / "concelhos.gpkg"),
        admin_id="name",
    )
    path = out / "map.html"
    exposure_map(result).save(str(path))
    return result, path


def test_demo_map_renders_offline_and_complete(browser, demo):
    result, path = demo
    html = path.read_text()
    assert external_urls(html) == []
    page, errors, requests, _ = open_offline(browser, path)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo_map.png"))
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    with_geometry = int((~result.hazards.geometry.is_empty & result.hazards.geometry.notna()).sum())
    assert page.evaluate("geominesLayers.hazards.getLayers().length") == with_geometry
    assert page.locator("path.geomines-hazard").count() == with_geometry
    # legend, layer control and panel, with the right numbers
    panel = page.locator(".geomines-panel")
    assert panel.is_visible()
    assert panel.locator("b[data-key=inside]").inner_text() == f"{result.totals['inside']:,.0f}"
    for d in result.rings_m:
        assert (
            panel.locator(f"b[data-key='within_{d:g}']").inner_text()
            == f"{result.people_within(d):,.0f}"
        )
    assert "fictional" in panel.inner_text()
    legend = page.locator(".geomines-legend").inner_text()
    for band in result.bands.iloc[1:].itertuples():
        assert f"{band.band}: {band.people:,.0f} people" in legend
    assert "people per km²" in legend
    control = page.locator(".leaflet-control-layers").inner_text()
    for name in ("Offline basemap", "Population", "Admin units", "Distance bands", "Hazards"):
        assert name in control
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-fullscreen, .leaflet-control-zoom-fullscreen").count()
    assert page.locator(".leaflet-control-measure").count() == 1
    # the population image is drawn from an inline PNG
    assert page.evaluate("geominesLayers.population._url.startsWith('data:image/png')")
    # the basemap is drawn (countries around the hazards)
    assert page.locator(".leaflet-geomines-basemap-pane path").count() >= 1


def test_hazards_are_styled_by_class_and_status(browser, demo):
    """Each drawn hazard has the palette's style for its class, then its status."""
    from geomines.maps.layers import RELEASED, STYLE

    result, path = demo
    page, errors, _, _ = open_offline(browser, path)
    drawn = page.evaluate(
        "geominesLayers.hazards.getLayers().map(l => [l.feature.properties.hazard_id,"
        " l.options.color, l.options.fillColor, l.options.dashArray || null,"
        " l.options.fillOpacity])"
    )
    frame = result.hazards.set_index("hazard_id")
    seen = set()
    for hazard_id, color, fill, dash, opacity in drawn:
        row = frame.loc[hazard_id]
        expected = {"dashArray": None, "fillOpacity": 0.6}
        expected.update(STYLE.get(row["land_class"], STYLE["other"]))
        if row["status"] in RELEASED:
            expected.update(RELEASED[row["status"]], fillOpacity=0.35)
        assert (color, fill, dash, opacity) == (
            expected["color"],
            expected["fillColor"],
            expected["dashArray"],
            expected["fillOpacity"],
        ), hazard_id
        seen.add((row["land_class"], row["status"] in RELEASED))
    assert len(seen) >= 3 and errors == []  # the demo has several classes and statuses


def test_hostile_text_is_shown_as_text_and_runs_nothing(browser, tmp_path):
    payload = '<img src=x onerror="window.__xss=1;alert(1)">'
    frame = gpd.GeoDataFrame(
        {
            "hazard_id": [payload, "ok"],
            "contamination": [payload, "ERW"],
            "status": ["open", "open"],
        },
        geometry=[
            shapely.box(-25.70, 37.74, -25.69, 37.75),
            shapely.box(-25.6, 37.8, -25.59, 37.81),
        ],
        crs=4326,
    )
    result = assess(frame, SAO_MIGUEL / "gpw_v411_2020_count_2020.tif", rings_m=(500,))
    path = tmp_path / "xss.html"
    exposure_map(result).save(str(path))
    assert "<img src=x" not in path.read_text()
    page, errors, _, dialogs = open_offline(browser, path)
    page.evaluate(
        "(() => { const l = geominesLayers.hazards.getLayers()[0];"
        "l.fire('click', {latlng: l.getBounds().getCenter()}, true); })()"
    )
    page.wait_for_timeout(200)
    text = page.locator(".leaflet-popup-content").first.inner_text()
    assert payload in text
    assert page.evaluate("window.__xss === undefined")
    assert dialogs == [] and errors == []


def test_layers_compose_on_a_users_map(browser, demo, tmp_path):
    import folium

    from geomines.maps import OfflineMap, hazard_layer, ring_layer

    result, _ = demo
    m = ring_layer(result, m=OfflineMap(location=[37.78, -25.5], zoom_start=10))
    m = hazard_layer(result, m=m)
    folium.LayerControl().add_to(m)
    path = tmp_path / "mine.html"
    m.save(str(path))
    page, errors, requests, _ = open_offline(browser, path)
    assert errors == [] and page.evaluate("geominesLayers.hazards.getLayers().length") == 39
    # the notebook display is an iframe of the same self-contained page
    frame = m._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and external_urls(frame) == []
    assert re.search(r"leaflet\.js", frame)


def test_display_simplifies_each_part_within_the_tolerance():
    """Bands are simplified part by part: every part kept, each valid, each GEOS's
    simplification of that part alone (its outline within the tolerance), nulls and
    empties left alone."""
    import numpy as np

    from geomines.maps.display import simplify_parts as _simplify_parts

    rng = np.random.default_rng(2)
    parts = [
        shapely.Point(x, y).buffer(r, quad_segs=32).difference(shapely.Point(x, y).buffer(r / 3))
        for x, y, r in rng.uniform([0, 0, 1], [100, 100, 3], (30, 3))
    ]
    parts = list(shapely.get_parts(shapely.union_all(parts)))
    geoms = np.array(
        [shapely.MultiPolygon(parts[:-2]), parts[-1], None, shapely.Polygon()], dtype=object
    )
    out = _simplify_parts(geoms, 0.05)
    assert out[2] is None and out[3].is_empty
    assert len(shapely.get_parts(out[0])) == len(parts) - 2
    pairs = zip(shapely.get_parts(geoms[0]), shapely.get_parts(out[0]), strict=True)
    for before, after in pairs:
        assert after.is_valid
        # exactly GEOS's topology-preserving simplification of that polygon alone
        assert after.equals_exact(shapely.simplify(before, 0.05, preserve_topology=True), 0)
        assert shapely.hausdorff_distance(before.exterior, after.exterior) <= 0.05 + 1e-9
        assert shapely.get_num_coordinates(after) < shapely.get_num_coordinates(before)
    assert out[1].geom_type == "Polygon" and out[1].is_valid


def test_display_on_threads_is_each_parts_simplification(monkeypatch):
    """Thousands of parts are simplified in slices on the thread pool: the same parts,
    in the same order, each GEOS's simplification of that part alone, and the rounded
    coordinates those of a one-thread run."""
    import numpy as np

    from geomines.maps.display import display, simplify_parts

    rng = np.random.default_rng(5)
    centres = rng.uniform(0, 1000, (3000, 2))
    parts = shapely.buffer(shapely.points(centres), rng.uniform(0.5, 2, 3000), quad_segs=24)
    parts = np.asarray(shapely.get_parts(shapely.union_all(parts)), dtype=object)
    geoms = np.array([shapely.MultiPolygon(list(parts[:-500])), *parts[-500:]], dtype=object)
    out = simplify_parts(geoms, 0.05)
    got = shapely.get_parts(out[0])
    assert len(got) == len(parts) - 500
    want = shapely.simplify(parts, 0.05, preserve_topology=True)
    assert all(shapely.equals_exact(got, want[:-500], 0))
    assert all(shapely.equals_exact(out[1:], want[-500:], 0))
    threaded = display(geoms, 2.0, 5)
    monkeypatch.setenv("GEOMINES_THREADS", "1")
    alone = display(geoms, 2.0, 5)
    assert len(threaded) == len(geoms) and all(shapely.equals_exact(threaded, alone, 0))


def test_property_texts_are_json_of_the_escaped_values(monkeypatch):
    """Properties are built a column at a time; the text is json.dumps of each row's
    esc()'d values (the definition), for every kind of column a frame holds."""
    import json

    import numpy as np
    import pandas as pd

    from geomines.maps import display
    from geomines.maps.display import _property_texts, esc
    from geomines.maps.elements import script_safe

    n = 7
    frame = pd.DataFrame(
        {
            "id": pd.array(["<b>&", "o'k", None, "ü ñ", '"q"', "a</script>", "x"], "string"),
            "obj": [1.5, "t", None, np.nan, True, 3, pd.Timestamp("2021-03-04")],
            "f": [0.4, 1234.5, np.nan, -2.5, 1e9, np.inf, 0.0],
            "F": pd.array([1.2, None, 3.0, 4.0, 5.0, 6.0, 7.0], "Float64"),
            "i": np.arange(n) * 1000,
            "I": pd.array([1, None, 3, 4, 5, 6, 7], "Int64"),
            "b": [True, False] * 3 + [True],
            "t": pd.to_datetime(["2020-01-02"] * 6 + [None]),
        }
    )
    columns = list(frame.columns)
    tags = {"_class": frame["id"].astype(object).where(frame["id"].notna(), "").astype(str),
            "_tier": "", "i": pd.Series(["replaced"] * n)}  # fmt: skip
    want = [
        script_safe(
            json.dumps(
                {
                    **{c: esc(v) for c, v in zip(columns, row, strict=True)},
                    **{k: (t if isinstance(t, str) else t.iloc[j]) for k, t in tags.items()},
                }
            )
        )
        for j, row in enumerate(frame.itertuples(index=False))
    ]
    assert list(_property_texts(frame, columns, tags)) == want
    monkeypatch.setattr(display, "_ROWS", 3)  # in slices of rows: the same texts
    assert list(_property_texts(frame, columns, tags)) == want
    assert list(_property_texts(frame.iloc[:0], columns, {})) == []
    assert list(_property_texts(frame, [], {})) == ["{}"] * n


def test_size_budget_raises_the_tolerance_within_its_bound():
    """Over the size budget the tolerance doubles until the hazards fit, each try one
    simplification of the input (the map states that tolerance); when the attributes
    alone are over it, nothing can fit, and the largest tolerance is taken at once."""
    import numpy as np

    from geomines.maps.display import MAX_TOLERANCE_M, DisplayOptions, display, feature_texts

    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(30, 31, 400), rng.uniform(49, 50, 400)
    # wiggly rings: vertices 0-300 m off a 1 km circle, so every tolerance removes some
    angles = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    polys = [
        shapely.Polygon(
            np.column_stack(
                [x + (0.009 + rng.uniform(0, 0.003, 200)) * np.cos(angles) / np.cos(np.radians(y)),
                 y + (0.009 + rng.uniform(0, 0.003, 200)) * np.sin(angles)]
            )
        )
        for x, y in zip(lon, lat, strict=True)
    ]  # fmt: skip
    frame = gpd.GeoDataFrame(
        {"hazard_id": [f"H{i}" for i in range(400)], "note": ["x" * 400] * 400},
        geometry=polys,
        crs=4326,
    )

    free, tol_free, _ = feature_texts(frame, ["hazard_id"], DisplayOptions(budget_mb=50))
    assert tol_free == 2.0 and len(free) == 400
    small, tol_small, _ = feature_texts(frame, ["hazard_id"], DisplayOptions(budget_mb=0.6))
    assert 2.0 < tol_small <= MAX_TOLERANCE_M and len(small) == 400
    assert sum(map(len, small)) < sum(map(len, free))
    capped, tol_cap, _ = feature_texts(frame, ["note"], DisplayOptions(budget_mb=0.1))
    assert tol_cap == 64.0 and len(capped) == 400  # 400 x 400 characters of attributes
    # one simplification of the input at the tolerance stated (here the largest: these
    # wiggly rings are over 0.6 MB even then)
    geoms = display(np.asarray(polys, dtype=object), tol_small, 5)
    assert [_geometry_of(t) for t in small] == shapely.to_geojson(geoms).tolist()
    once = display(np.asarray(polys, dtype=object), 64.0, 5)
    assert [_geometry_of(t) for t in capped] == shapely.to_geojson(once).tolist()


def test_a_large_layers_tolerance_is_found_on_a_sample_then_checked_on_every_feature(
    monkeypatch,
):
    """Above twice the sample size the tolerances are tried on an evenly spread sample
    first; the whole layer is then simplified once at the one the sample found,
    measured, and the tolerance doubled while over the budget. On alike hazards the
    sample finds the tolerance that trying every feature finds (computed here with
    display and the texts' lengths), and the features fit the budget."""
    import numpy as np

    from geomines.maps import display as display_mod
    from geomines.maps.display import DisplayOptions, display, feature_texts

    monkeypatch.setattr(display_mod, "SAMPLE", 40)
    tried = []
    real = display_mod.display
    monkeypatch.setattr(display_mod, "display", lambda g, *a: tried.append(len(g)) or real(g, *a))
    rng = np.random.default_rng(9)
    angles = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    polys = np.array([
        shapely.Polygon(
            np.column_stack(
                [x + (0.009 + rng.uniform(0, 0.0003, 200)) * np.cos(angles) / np.cos(np.radians(y)),
                 y + (0.009 + rng.uniform(0, 0.0003, 200)) * np.sin(angles)]
            )
        )
        for x, y in zip(rng.uniform(30, 31, 400), rng.uniform(49, 50, 400), strict=True)
    ], dtype=object)  # fmt: skip
    frame = gpd.GeoDataFrame({"hazard_id": [f"H{i}" for i in range(400)]}, geometry=polys, crs=4326)
    free, _, _ = feature_texts(frame, ["hazard_id"], DisplayOptions(budget_mb=50))
    props = sum(len(t) - len(_geometry_of(t)) for t in free) + 2 * 399
    for budget_mb, expected in ((1.0, 8.0), (0.5, 16.0), (0.25, 32.0), (0.17, 64.0)):
        tried.clear()
        features, tolerance, _ = feature_texts(
            frame, ["hazard_id"], DisplayOptions(budget_mb=budget_mb)
        )
        assert len(features) == 400
        assert sum(map(len, features)) + 2 * 399 <= budget_mb * 1e6
        # trying every feature: the first of 2, 4, 8, ... m at which the layer fits
        sizes = {
            t: props + sum(len(x) for x in shapely.to_geojson(display(polys, t, 5)))
            for t in (2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
        }
        assert expected == min(t for t, size in sizes.items() if size <= budget_mb * 1e6)
        assert tolerance == expected
        once = display(polys, tolerance, 5)
        assert [_geometry_of(t) for t in features] == shapely.to_geojson(once).tolist()
        # the sample's tries, then one try of the whole layer
        assert tried[-1] == 400 and all(n == 40 for n in tried[:-1]) and len(tried) > 1


def _geometry_of(feature: str) -> str:
    return feature[feature.index('"geometry": ') + len('"geometry": ') : -1]


def test_saved_page_is_the_rendered_page(demo, tmp_path, monkeypatch):
    """save() streams the layers' data into the page: the file is exactly the page
    folium renders with the data inline, whatever the chunk size."""
    from geomines.maps import elements

    result, _ = demo
    monkeypatch.setattr(elements, "CHUNK_CHARS", 1000)
    exposure_map(result).save(str(tmp_path / "m.html"))
    saved = (tmp_path / "m.html").read_text(encoding="utf-8")
    # folium's render is not idempotent: compare with a second map's first render,
    # element names (random hex) normalised
    rendered = exposure_map(result).get_root().render()
    names = re.compile(r"_[0-9a-f]{32}(?![0-9a-f])")
    assert names.sub("_X", saved) == names.sub("_X", rendered)
    assert len(saved) > 100_000 and "geomines_data_" not in saved  # no token left


def test_bands_are_drawn_widest_first_in_graded_greys(browser, demo):
    from geomines.maps.layers import RING_COLORS

    result, path = demo
    page, errors, _, _ = open_offline(browser, path)
    drawn = page.evaluate(
        "geominesLayers.bands.getLayers().map(g => g.getLayers().map(l => l.options.color))"
    )
    bands = result.bands.iloc[1:]
    assert len(drawn) == len(bands) and all(len(d) == 1 for d in drawn)
    # narrowest band darkest, drawn last (on top)
    assert [d[0] for d in drawn] == RING_COLORS[: len(bands)][::-1]
    assert errors == []


def test_priority_tiers_and_communities_are_drawn(browser, tmp_path):
    """With places: a communities layer coloured by band, the counted hazards outlined by
    tier from the hazards' own data (held once), popups that say why."""
    from geomines.maps.priority import TIER_STYLE, _band_colors

    with pytest.warns(UserWarning):
        hazards = read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    result = assess(
        hazards,
        SAO_MIGUEL / "gpw_v411_2020_count_2020.tif",
        places=SAO_MIGUEL / "places_geonames.geojson",
        place_radius_m=1000,
    )
    path = tmp_path / "m.html"
    exposure_map(result).save(str(path))
    page, errors, _, _ = open_offline(browser, path)
    assert errors == []
    tiers = page.evaluate(
        "geominesLayers.priority.getLayers().map(l => [l.feature.properties.hazard_id,"
        " l.options.color, l.options.weight])"
    )
    expected = result.priority.set_index("hazard_id")["tier"]
    assert len(tiers) == len(expected) == int(result.hazards["counted"].sum())
    for hazard_id, color, weight in tiers:
        style = TIER_STYLE[str(expected[hazard_id])]
        assert (color, weight) == (style["color"], style["weight"]), hazard_id
    places = page.evaluate(
        "geominesLayers.communities.getLayers().map(l => [l.feature.properties.place_id,"
        " l.options.fillColor, l instanceof L.CircleMarker])"
    )
    colors = _band_colors(result)
    bands = result.communities.set_index("place_id")["band"]
    assert len(places) == len(bands)
    assert all(colors[bands[pid]] == fill and marker for pid, fill, marker in places)
    # the hazards' data is in the page once
    text = path.read_text()
    assert text.count('"hazard_id": "SMG-001"') == 1
    # the first hazard's priority popup says why it ranks first
    first = result.priority.iloc[0]
    page.evaluate(
        "(() => { const l = geominesLayers.priority.getLayers().find("
        f"l => l.feature.properties.hazard_id === {first['hazard_id']!r});"
        "l.fire('click', {latlng: l.getBounds().getCenter()}, true); })()"
    )
    page.wait_for_timeout(200)
    popup = page.locator(".leaflet-popup-content").first.inner_text()
    assert "why this rank" in popup and first["why"].split(":")[0] in popup
    legend = page.locator(".geomines-legend").inner_text()
    assert "Priority tiers" in legend and "Communities" in legend


def test_change_map_renders_offline(browser, tmp_path):
    """compare's map: released land by how, new land, before and after hazards, and the
    headline numbers in the panel; no network, no errors."""
    import warnings

    from geomines import compare
    from geomines.maps.change import change_map

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        change = compare(
            SAO_MIGUEL / "hazards_illustrative.geojson",
            SAO_MIGUEL / "hazards_illustrative_2026.geojson",
            SAO_MIGUEL / "gpw_v411_2020_count_2020.tif",
            rings_m=(500,),
        )
    path = tmp_path / "change.html"
    change_map(change).save(str(path))
    assert external_urls(path.read_text()) == []
    page, errors, requests, _ = open_offline(browser, path)
    assert errors == [] and [u for u in requests if not u.startswith(("file:", "data:"))] == []
    layers = page.evaluate(
        "Object.fromEntries(['before', 'released', 'new', 'after'].map("
        "k => [k, geominesLayers[k].getLayers().length]))"
    )
    assert layers == {
        "before": int(change.before.hazards["counted"].sum()),
        "released": len(change.released),
        "new": len(change.new_land),
        "after": int(change.after.hazards["counted"].sum()),
    }
    panel = page.locator(".geomines-panel")
    released = change.people["inside"]["released"]
    assert panel.locator("b[data-key=released_inside]").inner_text() == f"{released:,.0f}"


def _solid_tiles(path, bounds, zooms, rgb):
    """An MBTiles file of solid-colour PNG tiles over ``bounds`` (TMS rows), by sqlite3."""
    import sqlite3

    import numpy as np

    from geomines.maps.offline import png_bytes
    from geomines.maps.tiles import tile_range

    tile = np.zeros((256, 256, 4), dtype=np.uint8)
    tile[..., :3], tile[..., 3] = rgb, 255
    data = png_bytes(tile)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
            "tile_data BLOB)"
        )
        db.executemany(
            "INSERT INTO metadata VALUES (?, ?)",
            [("name", "solid"), ("format", "png"), ("minzoom", str(min(zooms))),
             ("maxzoom", str(max(zooms)))],  # fmt: skip
        )
        for z in zooms:
            x0, x1, y0, y1 = tile_range(bounds, z)
            for x in range(x0 - 1, x1 + 2):
                for y in range(y0 - 1, y1 + 2):
                    db.execute(
                        "INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, data)
                    )
    return path


def test_user_tiles_are_the_offline_basemap(browser, demo, tmp_path):
    """A map built from a generated MBTiles of solid-colour tiles draws them with the
    network blocked; the panel states the zooms and the size; the budget is kept."""
    from geomines.maps import DisplayOptions
    from geomines.maps.display import view_bounds
    from geomines.maps.layers import basemap_layer
    from geomines.maps.tiles import TileSource, embed_tiles

    result, _ = demo
    bounds = tuple(view_bounds(result))
    mbtiles = _solid_tiles(tmp_path / "solid.mbtiles", bounds, range(6, 13), (255, 0, 255))
    # a page with the basemap alone: the middle of the view is the tiles' colour
    only = basemap_layer(result, options=DisplayOptions(basemap=mbtiles))
    only.save(str(tmp_path / "only.html"))
    page, errors, requests, _ = open_offline(browser, tmp_path / "only.html")
    assert errors == [] and [u for u in requests if not u.startswith(("file:", "data:"))] == []
    page.wait_for_timeout(300)
    shot = page.screenshot(path=str(tmp_path / "only.png"))
    import warnings

    import numpy as np
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile

    with warnings.catch_warnings():  # a screenshot PNG, read by GDAL
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(shot) as mem, mem.open() as png:
            pixels = np.moveaxis(png.read()[:3], 0, -1)
    h, w, _ = pixels.shape
    middle = pixels[h // 2 - 50 : h // 2 + 50, w // 2 - 50 : w // 2 + 50].reshape(-1, 3)
    magenta = np.all(np.abs(middle.astype(int) - [255, 0, 255]) <= 8, axis=1)
    assert magenta.mean() > 0.9
    # the full map: the tiles are the default base layer; the panel says what was embedded
    full = exposure_map(result, options=DisplayOptions(basemap=mbtiles))
    full.save(str(tmp_path / "full.html"))
    page, errors, _, _ = open_offline(browser, tmp_path / "full.html")
    assert errors == [] and page.evaluate("!!geominesLayers.basemap")
    note = page.locator("small[data-key=basemap]").inner_text()
    assert "zooms 6-12" in note and "deepest zoom (12)" in note
    # a budget smaller than the deepest levels stops at whole zoom levels
    small = embed_tiles(TileSource.open(mbtiles), bounds, budget_mb=0.01)
    assert small.zooms and max(small.zooms) < 12 and small.bytes <= 0.01e6
    assert "budget" in small.note


def test_tile_directory_and_bad_basemaps(tmp_path):
    import numpy as np

    from geomines.errors import InputError
    from geomines.maps.offline import png_bytes
    from geomines.maps.tiles import TileSource, embed_tiles, tile_range

    bounds = (-25.9, 37.6, -25.1, 37.95)
    x0, x1, y0, y1 = tile_range(bounds, 8)
    data = png_bytes(np.full((256, 256, 4), 200, dtype=np.uint8))
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            (tmp_path / "tiles" / "8" / str(x)).mkdir(parents=True, exist_ok=True)
            (tmp_path / "tiles" / "8" / str(x) / f"{y}.png").write_bytes(data)
    tiles = embed_tiles(TileSource.open(tmp_path / "tiles"), bounds)
    assert tiles.zooms == [8] and len(tiles.urls) == (x1 - x0 + 1) * (y1 - y0 + 1)
    assert all(u.startswith("data:image/png;base64,") for u in tiles.urls.values())
    (tmp_path / "bad.mbtiles").write_text("not sqlite")
    with pytest.raises(InputError, match="MBTiles"):
        TileSource.open(tmp_path / "bad.mbtiles")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no tiles"):
        TileSource.open(tmp_path / "empty")


def test_basemap_outlines_are_repaired_where_they_are_cut():
    """Some shipped outlines are invalid (Croatia, Canada, the USA at 1:10m); each is
    repaired only where it is clipped to the view. The outlines are valid and the same
    (names and shapes) as repairing every country first and then clipping it."""
    import numpy as np
    import shapely

    from geomines.maps.offline import _world, countries

    names, geoms, _ = _world("10m")
    broken = {names[k] for k in np.nonzero(~shapely.is_valid(geoms))[0]}
    for view in [(15.7, 42.5, 19.7, 45.3), (-70, 44, -60, 50)]:
        got = dict(countries(view, margin_deg=0, tolerance_deg=0))
        assert broken & set(got)  # the view meets outlines that need repair
        want = {}
        for name, geom in zip(names, geoms, strict=True):
            whole = shapely.make_valid(geom) if name in broken else geom
            cut = shapely.clip_by_rect(whole, *view)
            if not cut.is_empty:
                want[name] = cut
        assert set(got) == set(want)
        for name, geom in got.items():
            assert geom.is_valid
            assert shapely.symmetric_difference(geom, want[name]).area <= 1e-12 * want[name].area


def test_builtin_basemap_is_finer_at_district_scale():
    """Natural Earth 1:10m for a district or province view (more vertices than 1:50m
    over the same view), 1:50m for a continent; the panel states the scale and size."""
    import shapely

    from geomines.maps.offline import countries, countries_scale

    district = (-25.9, 37.6, -25.1, 37.95)
    assert countries_scale(district) == "1:10m" and countries_scale((-20, 30, 40, 60)) == "1:50m"
    from geomines.maps.offline import _world

    box = shapely.box(*district)
    fine = sum(
        shapely.get_num_coordinates(g.intersection(box)) for _, g in countries(district)
    )
    coarse = sum(shapely.get_num_coordinates(g.intersection(box)) for g in _world("50m")[1])
    assert fine > 2 * coarse > 0
    wide = countries((-20, 30, 40, 60))
    assert {"France", "Spain"} <= {name for name, _ in wide}
