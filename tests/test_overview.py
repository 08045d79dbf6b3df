"""The density overview kept as a raster's blocks are decoded (for the map's image)."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from rasterio.transform import from_origin

import geomines.io.overview as overview_mod
from geomines import NodataWarning, read_population
from geomines.testing import write_raster

ROWS, COLS = 45, 61  # not multiples of the 16-pixel blocks nor of the cells


def _data(seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.uniform(0, 80, (ROWS, COLS)).astype("float32")
    data[rng.random(data.shape) < 0.08] = -9999.0  # nodata
    data[rng.random(data.shape) < 0.03] = -4.0  # negative: not people
    data[:9, :13] = -9999.0  # a corner of cells with no valid pixel
    return data


def _row_km2(lat_top: float, res: float, rows: int) -> np.ndarray:
    """Area of one pixel in each row (WGS 84 geodesic, independent of geomines)."""
    geod = Geod(ellps="WGS84")
    out = []
    for r in range(rows):
        north, south = lat_top - r * res, lat_top - (r + 1) * res
        lon = np.linspace(0, res, 50)
        ring_lon = np.concatenate([lon, lon[::-1]])
        ring_lat = np.concatenate([np.full(50, south), np.full(50, north)])
        out.append(abs(geod.polygon_area_perimeter(ring_lon, ring_lat)[0]) / 1e6)
    return np.array(out)


@pytest.mark.parametrize(
    ("units", "max_cells", "f"),
    [("count", 100, 8), ("density", 100, 8), ("count", 200, 4), ("density", 4, 32)],
)
def test_the_overview_is_each_cells_mean_density_of_its_valid_pixels(
    tmp_path, monkeypatch, units, max_cells, f
):
    """After the raster's scan every block is in the overview, and each cell is the mean
    people per km² of its valid pixels, computed here from the array and geodesic pixel
    areas; cells with no valid pixel are NaN. Cells smaller than the 16-pixel blocks,
    and larger (a cell over several blocks), and blocks cut by the raster's edge."""
    monkeypatch.setattr(overview_mod, "MAX_CELLS", max_cells)
    data = _data()
    res, top = 0.01, 50.0
    path = write_raster(
        tmp_path / "p.tif",
        data,
        nodata=-9999.0,
        tiled=True,
        transform=from_origin(20.0, top, res, res),
        crs="EPSG:4326",
    )
    raster = read_population(path, units=units, nodata=-9999.0)
    overview = raster.overview()
    assert overview.factor == f and not overview.complete
    raster.read(3, 5, 20, 20)  # some blocks decoded by a read first
    with pytest.warns(NodataWarning):  # the negative values
        raster.total()
    assert overview.complete and overview.added == overview.blocks

    expected, counts = _expected(data, units, f, top, res)
    got = overview.mean(0, ROWS, 0, COLS)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    if f <= 8:
        assert np.isnan(got[0, 0])  # the corner with no valid pixel
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_array_equal(overview.counts, counts)  # each block added once
    # a window's cells start at the cell holding its first pixel
    window = overview.mean(17, 40, 9, 30)
    np.testing.assert_allclose(
        window, expected[17 // f : -(-40 // f), 9 // f : -(-30 // f)], rtol=1e-5
    )


def _expected(data, units, f, top, res):
    """Each f × f cell's mean density of valid pixels, and their number, from the array."""
    valid = (data != -9999.0) & (data >= 0)
    area = _row_km2(top, res, data.shape[0])[:, None]
    density = np.where(valid, data / area if units == "count" else data, 0.0)
    pad = ((0, -data.shape[0] % f), (0, -data.shape[1] % f))
    shape = (-(-data.shape[0] // f), f, -(-data.shape[1] // f), f)
    sums = np.pad(density, pad).reshape(shape).sum(axis=(1, 3))
    counts = np.pad(valid, pad).reshape(shape).sum(axis=(1, 3))
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), counts


def test_tiles_whose_edges_cut_the_cells_fill_the_same_overview(tmp_path, monkeypatch):
    """A raster of several files whose edges fall inside cells (rows from 23, columns
    from 21 and 41): each block's pixels go to their own cells."""
    import rasterio

    monkeypatch.setattr(overview_mod, "MAX_CELLS", 100)  # 8-pixel cells
    data = np.abs(_data(13))
    data[data > 1000] = -9999.0
    transform = from_origin(20.0, 50.0, 0.01, 0.01)
    paths = []
    for r0, r1 in ((0, 23), (23, ROWS)):
        for c0, c1 in ((0, 21), (21, 41), (41, COLS)):
            path = tmp_path / f"t{r0}_{c0}.tif"
            write_raster(
                path,
                data[r0:r1, c0:c1],
                nodata=-9999.0,
                tiled=True,
                transform=transform * rasterio.Affine.translation(c0, r0),
                crs="EPSG:4326",
            )
            paths.append(path)
    raster = read_population(paths, nodata=-9999.0)
    raster.total()
    overview = raster.overview()
    assert overview.factor == 8 and overview.complete
    expected, counts = _expected(data, "count", 8, 50.0, 0.01)
    np.testing.assert_array_equal(overview.counts, counts)
    np.testing.assert_allclose(overview.mean(0, ROWS, 0, COLS), expected, rtol=1e-5)


def test_a_block_decoded_twice_is_added_once(tmp_path):
    """Reads that decode the same blocks again (not kept, or on other threads) add nothing
    more: the overview's counts equal the valid pixels, one each."""
    data = _data(5)
    path = write_raster(
        tmp_path / "p.tif",
        data,
        nodata=-9999.0,
        tiled=True,
        transform=from_origin(20.0, 50.0, 0.01, 0.01),
        crs="EPSG:4326",
    )
    raster = read_population(path, nodata=-9999.0)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: raster.read(0, 0, ROWS, COLS, keep=False), range(8)))
    overview = raster.overview()
    assert overview.complete and overview.added == overview.blocks
    assert int(overview.counts.sum()) == int(((data != -9999.0) & (data >= 0)).sum())


def test_the_map_image_decodes_no_block_after_an_assessment(tmp_path, monkeypatch):
    """The map's population image comes from the overview the assessment filled: no
    block of the raster is decoded for it."""
    import shapely

    import geomines
    import geomines.io.population as population
    from geomines.maps import population_layer

    data = np.abs(_data(7))
    path = write_raster(
        tmp_path / "p.tif",
        data,
        nodata=-9999.0,
        tiled=True,
        transform=from_origin(20.0, 50.0, 0.01, 0.01),
        crs="EPSG:4326",
    )
    import geopandas as gpd

    gpd.GeoDataFrame(
        {"hazard_id": ["H1"]}, geometry=[shapely.box(20.1, 49.7, 20.2, 49.8)], crs="EPSG:4326"
    ).to_file(tmp_path / "h.geojson")
    result = geomines.assess(geomines.read_hazards(tmp_path / "h.geojson"), path, rings_m=[500])
    decoded = []
    real = population._block_stats
    monkeypatch.setattr(population, "_block_stats", lambda *a: decoded.append(a) or real(*a))
    reads = []
    real_read = population.PopulationRaster.read
    monkeypatch.setattr(
        population.PopulationRaster, "read", lambda *a, **k: reads.append(a) or real_read(*a, **k)
    )
    m = population_layer(result)
    assert "data:image/png;base64," in m.get_root().render()
    assert decoded == [] and reads == []
