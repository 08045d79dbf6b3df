"""Population rasters: tiles, units, nodata, CRS, and refusal to resample."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Geod
from rasterio.transform import from_origin

from geomines import NodataWarning, RasterError, read_population, zonal_sum

from geomines.testing import write_raster


def test_metadata_without_reading_pixels(sao_count):
    r = read_population(sao_count)
    assert r.shape == (48, 96)
    assert r.crs.to_epsg() == 4326
    assert r.res == pytest.approx((1 / 120, 1 / 120))
    assert r.dtype == "float32"
    assert r.nodata == pytest.approx(-3.4028230607370965e38)
    assert r.bounds == pytest.approx((-25.9, 37.6, -25.1, 38.0))
    assert r.total() == pytest.approx(145_603, abs=1)


def _split(path, tmp_path, rows=2, cols=3):
    with rasterio.open(path) as src:
        data = src.read(1)
        profile = src.profile
        tr = src.transform
    h, w = data.shape
    paths = []
    for i, rs in enumerate(np.array_split(np.arange(h), rows)):
        for j, cs in enumerate(np.array_split(np.arange(w), cols)):
            p = tmp_path / f"tile_{i}_{j}.tif"
            sub = data[rs[0] : rs[-1] + 1, cs[0] : cs[-1] + 1]
            prof = dict(
                profile,
                height=sub.shape[0],
                width=sub.shape[1],
                transform=tr @ Affine.translation(cs[0], rs[0]),
            )
            with rasterio.open(p, "w", **prof) as dst:
                dst.write(sub, 1)
            paths.append(p)
    return paths


def test_tiles_give_the_same_numbers_as_one_file(sao_count, tmp_path):
    whole = read_population(sao_count)
    tiles = _split(sao_count, tmp_path)
    tiled = read_population(tiles[::-1])
    assert tiled.shape == whole.shape
    assert tiled.transform.almost_equals(whole.transform)
    assert tiled.total() == pytest.approx(whole.total(), rel=1e-12)
    g = shapely.Point(-25.5, 37.8).buffer(0.15)
    assert zonal_sum(g, tiled).people == pytest.approx(zonal_sum(g, whole).people, rel=1e-12)
    assert read_population(tmp_path).total() == pytest.approx(whole.total(), rel=1e-12)


def test_tiles_must_share_crs_resolution_and_grid(tmp_path):
    a = write_raster(tmp_path / "a.tif", np.ones((4, 4)), transform=from_origin(0, 4, 1, 1))
    b = write_raster(
        tmp_path / "b.tif", np.ones((4, 4)), transform=from_origin(4, 4, 1, 1), crs="EPSG:32634"
    )
    with pytest.raises(RasterError, match="share one CRS"):
        read_population([a, b])
    c = write_raster(tmp_path / "c.tif", np.ones((4, 4)), transform=from_origin(4, 4, 2, 2))
    with pytest.raises(RasterError, match="resolution"):
        read_population([a, c])
    d = write_raster(tmp_path / "d.tif", np.ones((4, 4)), transform=from_origin(4.5, 4, 1, 1))
    with pytest.raises(RasterError, match="not aligned"):
        read_population([a, d])
    e = write_raster(tmp_path / "e.tif", np.ones((4, 4)), transform=from_origin(2, 4, 1, 1))
    with pytest.raises(RasterError, match="overlap"):
        read_population([a, e])


def test_no_crs_is_an_error(tmp_path):
    p = tmp_path / "nocrs.tif"
    with rasterio.open(
        p,
        "w",
        driver="GTiff",
        height=2,
        width=2,
        count=1,
        dtype="float32",
        transform=from_origin(0, 2, 1, 1),
    ) as dst:
        dst.write(np.ones((1, 2, 2), dtype="float32"))
    with pytest.raises(RasterError, match="no CRS.*gdal_edit"):
        read_population(p)


def test_rotated_transform_is_an_error(tmp_path):
    p = write_raster(tmp_path / "rot.tif", np.ones((3, 3)), transform=Affine(1, 0.2, 0, 0.1, -1, 3))
    with pytest.raises(RasterError, match="rotated"):
        read_population(p)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_population(tmp_path / "nope.tif")
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(RasterError, match="zero-byte"):
        read_population(tmp_path / "empty.tif")
    (tmp_path / "text.tif").write_text("not a raster")
    with pytest.raises(RasterError, match="could not open"):
        read_population(tmp_path / "text.tif")


@pytest.mark.parametrize("fill", [np.nan, -3.4028234663852886e38, -9999.0, -1.0])
def test_fill_values_are_never_people(tmp_path, fill):
    data = np.full((4, 4), 2.0, dtype="float32")
    data[1, 1] = fill
    declared = write_raster(tmp_path / "d.tif", data, nodata=fill)
    assert read_population(declared).total() == pytest.approx(30)
    undeclared = write_raster(tmp_path / "u.tif", data)
    r = read_population(undeclared)
    if np.isnan(fill):
        assert r.total() == pytest.approx(30)
    else:
        with pytest.warns(NodataWarning, match="declares no nodata"):
            assert r.total() == pytest.approx(30)
        assert read_population(undeclared, nodata=fill).total() == pytest.approx(30)


def test_integer_raster_sums_do_not_overflow(tmp_path):
    data = np.full((300, 300), 60_000, dtype="uint16")
    r = read_population(write_raster(tmp_path / "big.tif", data, nodata=65535))
    assert r.total() == 60_000 * 90_000
    g = shapely.box(0, 0, 300, 300)
    assert zonal_sum(g, r).people == 60_000 * 90_000


def test_density_uses_each_pixels_geodesic_area(tmp_path):
    # 100 people per km² on a 1°×... grid at high latitude: the total is 100 × true area
    tr = from_origin(10, 70, 0.5, 0.5)
    p = write_raster(tmp_path / "dens.tif", np.full((20, 8), 100.0), transform=tr, crs="EPSG:4326")
    r = read_population(p, units="density")
    # independent: a geodesic polygon whose edges follow the parallels closely
    lon = np.linspace(10, 14, 2001)
    ring = np.concatenate(
        [
            np.column_stack([lon, np.full_like(lon, 60)]),
            np.column_stack([lon[::-1], np.full_like(lon, 70)]),
        ]
    )
    area_km2 = abs(Geod(ellps="WGS84").polygon_area_perimeter(ring[:, 0], ring[:, 1])[0]) / 1e6
    assert r.total() == pytest.approx(100 * area_km2, rel=1e-6)
    assert zonal_sum(shapely.box(10, 60, 14, 70), r).people == pytest.approx(r.total(), rel=1e-12)


def _geodesic_km2(crs, x0, y0, x1, y1, n=4000):
    """Area on the WGS 84 ellipsoid of a projected rectangle (edges densified), in km²."""
    from pyproj import Transformer

    t = np.linspace(0, 1, n)
    xs = np.concatenate([x0 + (x1 - x0) * t, np.full(n, x1), x1 - (x1 - x0) * t, np.full(n, x0)])
    ys = np.concatenate([np.full(n, y0), y0 + (y1 - y0) * t, np.full(n, y1), y1 - (y1 - y0) * t])
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
    return abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0]) / 1e6


def test_density_in_projected_crs_uses_true_ground_area(tmp_path):
    """UTM far from its central meridian (here ~495 km west of it) and Web Mercator at
    60° N: each pixel's true area, never the nominal one (independent: the geodesic
    area of the raster's extent)."""
    p = write_raster(
        tmp_path / "utm.tif",
        np.full((10, 10), 50.0),
        transform=from_origin(0, 10_000, 1000, 1000),
        crs="EPSG:32633",
    )
    utm = read_population(p, units="density")
    true_km2 = _geodesic_km2("EPSG:32633", 0, 0, 10_000, 10_000)
    assert true_km2 < 99.6  # the nominal 100 km² is 0.5% too much here
    assert utm.total() == pytest.approx(50 * true_km2, rel=1e-5)
    assert zonal_sum(shapely.box(0, 0, 10_000, 10_000), utm).people == pytest.approx(
        50 * true_km2, rel=1e-5
    )
    # Web Mercator: a 100 km square at 60° N covers about a quarter of its nominal area
    y0 = 8_399_737.89  # 60° N
    q = write_raster(
        tmp_path / "merc.tif",
        np.full((100, 100), 10.0),
        transform=from_origin(1_000_000, y0 + 100_000, 1000, 1000),
        crs="EPSG:3857",
    )
    merc = read_population(q, units="density")
    true_km2 = _geodesic_km2("EPSG:3857", 1_000_000, y0, 1_100_000, y0 + 100_000)
    assert true_km2 < 0.3 * 10_000
    assert merc.total() == pytest.approx(10 * true_km2, rel=1e-5)
    half = shapely.box(1_000_000, y0, 1_100_000, y0 + 50_000)
    assert zonal_sum(half, merc).people == pytest.approx(
        10 * _geodesic_km2("EPSG:3857", 1_000_000, y0, 1_100_000, y0 + 50_000), rel=1e-5
    )
    # count rasters are unaffected
    c = read_population(q)
    assert c.total() == pytest.approx(10 * 100 * 100)


def test_one_pass_reads_and_window_totals_match_the_pixels(tmp_path):
    """``read(keep=False)`` gives the same pixels without filling the block cache;
    ``total(window)`` is the sum of the window's pixels; ``drop_cache`` empties it."""
    rng = np.random.default_rng(4)
    data = rng.gamma(0.5, 10, (300, 260)).astype("float32")
    data[5:9, 7:30] = -9999
    path = write_raster(
        tmp_path / "p.tif",
        data,
        nodata=-9999,
        tiled=True,
        transform=from_origin(500_000, 5_000_000, 10, 10),
        crs="EPSG:32633",
    )
    r = read_population(path)
    once = r.read(3, 4, 200, 150, keep=False)
    assert r.__dict__.get("_cache_bytes", 0) == 0
    kept = r.read(3, 4, 200, 150)
    assert r.__dict__["_cache_bytes"] > 0
    np.testing.assert_array_equal(np.isnan(once), np.isnan(kept))
    np.testing.assert_allclose(once, kept)
    r.drop_cache()
    assert r.__dict__["_cache_bytes"] == 0
    valid = np.where(data == -9999, 0, data).astype("float64")
    assert r.total((3, 4, 200, 150)) == pytest.approx(valid[3:203, 4:154].sum(), rel=1e-12)
    assert r.total() == pytest.approx(valid.sum(), rel=1e-12)


def test_the_scan_on_threads_gives_the_same_total_and_counts(tmp_path, monkeypatch):
    """The whole-raster scan split over threads: the total and the pixel counts equal a
    plain numpy sum of the valid pixels, and the one-thread scan, to the last bit.
    """
    import geomines.io.population as population
    from geomines.engine.executors import map_threads

    monkeypatch.setattr(population, "SCAN_RUN", 3)  # many runs of blocks even here
    rng = np.random.default_rng(7)
    data = rng.uniform(0, 50, (700, 900)).astype("float32")
    data[rng.random(data.shape) < 0.05] = -9999.0
    path = write_raster(tmp_path / "scan.tif", data, nodata=-9999.0)
    expected = float(data[data != -9999.0].astype("float64").sum())
    one = read_population(path)
    many = read_population(path)
    assert one.total() == pytest.approx(expected, rel=1e-12)
    assert many.total(mapper=map_threads) == one.total()
    assert many.stats() == one.stats()
    assert one.stats()["nodata_pixels"] == int((data == -9999.0).sum())


@pytest.mark.parametrize("units", ["count", "density"])
def test_the_scan_reuses_the_blocks_reads_decoded(tmp_path, monkeypatch, units):
    """Blocks decoded by reads keep their statistics, and the whole-raster scan decodes
    only the others: its total and pixel counts equal a fresh raster's to the last bit
    (nodata, negative and fill-like values included), and equal a plain numpy count.
    """
    import geomines.io.population as population

    monkeypatch.setattr(population, "SCAN_RUN", 3)
    rng = np.random.default_rng(11)
    data = rng.uniform(0, 50, (90, 70)).astype("float32")
    data[rng.random(data.shape) < 0.05] = -9999.0
    data[rng.random(data.shape) < 0.02] = -5.0
    data[rng.random(data.shape) < 0.02] = -3.0e38
    data[rng.random(data.shape) < 0.02] = np.nan
    transform = from_origin(20.0, 50.0, 0.01, 0.01)
    path = write_raster(
        tmp_path / "s.tif", data, nodata=-9999.0, tiled=True, transform=transform, crs="EPSG:4326"
    )
    with pytest.warns(NodataWarning):
        fresh = read_population(path, units=units).stats()
    used = read_population(path, units=units)
    used.read(5, 7, 30, 25)  # some blocks decoded (and kept) by a read
    used.read(60, 40, 20, 20, keep=False)  # and some not kept
    decoded = []
    real = population._block_stats
    monkeypatch.setattr(population, "_block_stats", lambda *a: decoded.append(a[2]) or real(*a))
    with pytest.warns(NodataWarning):
        assert used.stats() == fresh
    bh, bw = used._tiles[0].block  # the blocks geomines reads (16-pixel tiles: columns)
    grid = {(r, c) for r in range(-(-90 // bh)) for c in range(-(-70 // bw))}
    touched = {
        (r // bh, c // bw)
        for r0, c0, h, w in ((5, 7, 30, 25), (60, 40, 20, 20))
        for r in range(r0, r0 + h)
        for c in range(c0, c0 + w)
    }
    assert 0 < len(decoded) == len(grid - touched) < len(grid)
    bad = (data == -9999.0) | ~np.isfinite(data) | (data < 0)
    assert fresh["nodata_pixels"] == int(bad.sum())
    assert fresh["fill_pixels"] == int((data <= -1e30).sum())
    assert fresh["negative_pixels"] == int(((data < 0) & (data > -1e30) & (data != -9999.0)).sum())
    if units == "count":
        assert fresh["total"] == pytest.approx(float(data[~bad].astype("float64").sum()), rel=1e-12)


@pytest.mark.parametrize("units", ["count", "density"])
def test_a_windows_total_is_its_pixels_sum_and_reuses_the_blocks_statistics(
    tmp_path, monkeypatch, units
):
    """A window's total (a Dask partition's) is the plain numpy sum of its valid pixels,
    for windows on block edges and windows cutting blocks, over one file and over tiles
    whose edges cut blocks; blocks wholly inside a window are counted from the statistics
    kept when they were decoded: the same window again decodes nothing."""
    import geomines.io.population as population

    rng = np.random.default_rng(5)
    data = rng.uniform(0, 50, (90, 70)).astype("float32")
    data[rng.random(data.shape) < 0.05] = -9999.0
    data[rng.random(data.shape) < 0.02] = np.nan
    transform = from_origin(20.0, 50.0, 0.01, 0.01)
    path = write_raster(
        tmp_path / "s.tif", data, nodata=-9999.0, tiled=True, transform=transform, crs="EPSG:4326"
    )
    paths = []
    for r0, r1 in ((0, 37), (37, 90)):
        for c0, c1 in ((0, 23), (23, 70)):
            paths.append(
                write_raster(
                    tmp_path / f"t{r0}_{c0}.tif",
                    data[r0:r1, c0:c1],
                    nodata=-9999.0,
                    tiled=True,
                    transform=transform * Affine.translation(c0, r0),
                    crs="EPSG:4326",
                )
            )
    valid = (data != -9999.0) & np.isfinite(data)
    people = np.where(valid, data, 0.0).astype("float64")
    if units == "density":
        # people per pixel: the density times the pixel's area
        people = people * read_population(path, units="density").cell_area_km2(0, 0, 90, 70)
    decoded = []
    real = population._decode
    monkeypatch.setattr(population, "_decode", lambda *a: decoded.append(a[2]) or real(*a))
    for source in (path, paths):
        raster = read_population(source, units=units)
        for window in ((0, 0, 32, 48), (5, 7, 30, 25), (16, 16, 64, 48), (0, 0, 90, 70)):
            r, c, h, w = window
            expected = float(people[r : r + h, c : c + w].sum())
            assert raster.total(window) == pytest.approx(expected, rel=1e-12), window
        if source is path:  # on the edges of the blocks geomines reads: none decoded again
            bh, bw = raster._tiles[0].block
            r, c, h, w = 0, bw, bh * (90 // bh), 2 * bw
            raster.total((r, c, h, w))
            decoded.clear()
            assert raster.total((r, c, h, w)) == pytest.approx(
                float(people[r : r + h, c : c + w].sum()), rel=1e-12
            )
            assert decoded == []
    parts = [raster.total((r, c, 32, 32)) for r in range(0, 90, 32) for c in range(0, 70, 32)]
    assert sum(parts) == pytest.approx(raster.total(), rel=1e-12)


def test_checksum_started_early_is_the_files_sha256(sao_count, tmp_path):
    """The checksum read beside the counting is hashlib's of the files' bytes in order,
    the same as one read on demand; a raster whose checksum is under way still pickles
    (for Dask workers) without it."""
    import hashlib
    import pickle

    data = np.arange(64 * 64, dtype="float32").reshape(64, 64)
    west = write_raster(tmp_path / "w.tif", data[:, :32], transform=from_origin(0, 64, 1, 1))
    east = write_raster(tmp_path / "e.tif", data[:, 32:], transform=from_origin(32, 64, 1, 1))
    want = hashlib.sha256(west.read_bytes() + east.read_bytes()).hexdigest()
    raster = read_population([str(west), str(east)])
    raster.start_sha256()
    raster.start_sha256()  # once
    copy = pickle.loads(pickle.dumps(raster))
    on_demand = read_population([str(west), str(east)]).sha256()
    assert raster.sha256() == want == copy.sha256() == on_demand
    single = read_population(sao_count)
    single.start_sha256()
    with open(sao_count, "rb") as fh:
        assert single.sha256() == hashlib.sha256(fh.read()).hexdigest()
