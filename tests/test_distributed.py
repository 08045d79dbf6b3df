"""The engine on a Dask LocalCluster (2 worker processes) gives the local numbers."""

from __future__ import annotations

import contextlib
import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.transform import from_origin

import geomines
from geomines.engine import LocalEngine
from geomines.testing import write_raster

from .conftest import SAMPLE, SAO_MIGUEL

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from geomines.engine.dask import local_client

        c = local_client(2)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


@contextlib.contextmanager
def _own_cluster(**kwargs):
    """A LocalCluster of the test's own (its start-up warnings quiet) and a client on it,
    both closed after."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(dashboard_address=None, **kwargs)
        c = distributed.Client(cluster)
    try:
        yield c, cluster
    finally:
        c.close()
        cluster.close()


def _compare(a, b, rel=1e-9):
    cols = [c for c in a.hazards.columns if c.startswith("people_")]
    np.testing.assert_allclose(
        b.hazards[cols].to_numpy(float), a.hazards[cols].to_numpy(float), rtol=rel, atol=1e-9
    )
    assert b.totals["inside"] == pytest.approx(a.totals["inside"], rel=rel, abs=1e-9)
    for k, v in a.totals["within_m"].items():
        assert b.totals["within_m"][k] == pytest.approx(v, rel=rel)
    assert b.totals["population"] == pytest.approx(a.totals["population"], rel=rel)
    np.testing.assert_allclose(b.bands["people"], a.bands["people"], rtol=rel, atol=1e-6)
    if a.by_admin is not None:
        np.testing.assert_allclose(b.by_admin["population"], a.by_admin["population"], rtol=rel)
        np.testing.assert_allclose(
            b.by_admin["people_inside"], a.by_admin["people_inside"], rtol=rel, atol=1e-9
        )


def test_sample_data_same_numbers(client):
    with pytest.warns(UserWarning):
        hazards = geomines.read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    admin = geomines.read_vector(SAO_MIGUEL / "concelhos.gpkg")
    raster = SAO_MIGUEL / "gpw_v411_2020_count_2020.tif"
    local = geomines.assess(hazards, raster, admin=admin, admin_id="name")
    remote = geomines.assess(hazards, raster, admin=admin, admin_id="name", client=client)
    _compare(local, remote)


def _synthetic(tmp_path):
    rng = np.random.default_rng(4)
    data = rng.gamma(0.5, 20, (600, 700)).astype("float32")
    data[rng.random(data.shape) < 0.02] = -1
    path = write_raster(
        tmp_path / "pop.tif",
        data,
        nodata=-1,
        tiled=True,
        transform=from_origin(400_000, 5_006_000, 10, 10),
        crs="EPSG:32633",
    )
    geoms = []
    for k in range(60):
        # centred near partition borders (every 128 px = 1,280 m) so many cross them
        bx = 400_000 + 1280 * rng.integers(1, 5) + rng.normal(0, 80)
        by = 5_006_000 - 1280 * rng.integers(1, 4) + rng.normal(0, 80)
        r = rng.uniform(20, 400)
        geoms.append(
            shapely.Point(bx, by).buffer(r, quad_segs=4)
            if k % 3
            else shapely.box(bx - r, by - r / 2, bx + r, by + r / 2)
        )
    geoms.append(shapely.LineString([(401_000, 5_001_000), (406_500, 5_000_500)]))
    geoms.append(shapely.Point(403_840, 5_002_160))  # exactly on a partition corner
    hazards = gpd.GeoDataFrame(
        {
            "hazard_id": [f"S{i}" for i in range(len(geoms))],
            "land_class": ["CHA", "SHA", "other"] * (len(geoms) // 3) + ["SHA"] * (len(geoms) % 3),
        },
        geometry=geoms,
        crs="EPSG:32633",
    )
    return hazards, path


def test_hazards_across_partition_borders_counted_once(client, tmp_path):
    from geomines.engine.dask import DaskEngine

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    local = geomines.assess(
        hazards, raster, rings_m=(100, 500), engine=LocalEngine(union_tile=64, window_px=4096)
    )
    engine = DaskEngine(client, union_tile=64, partition_px=128, window_px=4096)
    remote = geomines.assess(hazards, raster, rings_m=(100, 500), engine=engine)
    assert engine.executor.tasks > 10  # really partitioned
    _compare(local, remote)
    # and the same as the default tiles on one machine, to rounding
    default = geomines.assess(hazards, raster, rings_m=(100, 500))
    _compare(default, remote, rel=1e-9)


def test_many_tiles_give_the_same_totals(client, tmp_path):
    hazards, path = _synthetic(tmp_path)
    with rasterio.open(path) as src:
        data, profile, tr = src.read(1), src.profile, src.transform
    tiles = []
    for i, rows in enumerate(np.array_split(np.arange(600), 4)):
        for j, cols in enumerate(np.array_split(np.arange(700), 4)):
            sub = data[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            t = tmp_path / f"tile_{i}_{j}.tif"
            with rasterio.open(
                t,
                "w",
                **dict(
                    profile,
                    height=sub.shape[0],
                    width=sub.shape[1],
                    transform=tr @ Affine.translation(cols[0], rows[0]),
                ),
            ) as d:
                d.write(sub, 1)
            tiles.append(t)
    single = geomines.assess(hazards, path, rings_m=(500,))
    tiled = geomines.assess(hazards, geomines.read_population(tiles), rings_m=(500,), client=client)
    _compare(single, tiled)


def test_points_with_rings_on_real_data(client):
    events = gpd.read_file(SAMPLE / "burundi" / "ucdp_ged221_burundi.gpkg")
    raster = SAMPLE / "burundi" / "burundi_worldpop.tif"
    local = geomines.assess(events, raster, rings_m=(10_000,))
    remote = geomines.assess(events, raster, rings_m=(10_000,), client=client)
    _compare(local, remote)


def test_a_failed_task_names_partition_and_file(client, tmp_path):
    from geomines.engine.dask import DaskEngine, PartitionError

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # truncated after the header was read
    engine = DaskEngine(client, union_tile=64, partition_px=128)
    with pytest.raises(PartitionError, match=r"partition rows \d+-\d+, cols \d+-\d+ of pop\.tif"):
        engine.sums(np.asarray(hazards.geometry.values), raster)


def test_hazards_in_small_batches_give_the_same_numbers(client, tmp_path, monkeypatch):
    """Rings are built batch by batch; unions merged across batches on the workers."""
    from geomines.assessment import batching
    from geomines.engine.dask import DaskEngine

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    whole = geomines.assess(hazards, raster, rings_m=(100, 500))
    monkeypatch.setattr(batching, "BATCH_COORDS", 150)  # a few hazards per batch
    geoms = np.asarray(hazards.geometry.values)
    bounds, coords = shapely.bounds(geoms), shapely.get_num_coordinates(geoms)
    assert len(batching.spatial_batches(bounds, coords, np.arange(len(hazards)))) > 10
    engine = DaskEngine(client, union_tile=64, partition_px=128, window_px=4096)
    batched = geomines.assess(hazards, raster, rings_m=(100, 500), engine=engine)
    _compare(whole, batched)
    np.testing.assert_allclose(
        batched.by_class["people_within_500m"], whole.by_class["people_within_500m"], rtol=1e-9
    )


def _engine_sending(client):
    """A Dask engine of small partitions, and the names of the tasks it sends (a list)."""
    from geomines.engine.dask import DaskEngine

    engine = DaskEngine(client, union_tile=16, partition_px=32)
    sent = []
    real = engine.submit
    engine.submit = lambda *a, **k: (sent.append(a[0].__name__), real(*a, **k))[1]
    return engine, sent


def test_pair_sums_in_chunks_on_the_workers_are_each_intersections_people(client, tmp_path):
    """Pairs of pixel-aligned boxes on a raster of ones, sent out in several chunks:
    each pair's people are its intersection's area, in the order given, after the
    geometries counted first (``also``)."""
    from .test_slices import _ones, _pairs

    raster = _ones(tmp_path)
    left, right, li, ri, want = _pairs()
    engine, sent = _engine_sending(client)
    rows = engine.pair_sums_later(
        left, right, li, ri, raster, land_rules=["land-first", "plain"], also=left
    )()
    assert sent.count("_task_pair_sums") > 2
    assert rows.shape == (2, 2 + len(li))
    for row in rows:
        np.testing.assert_allclose(row[:2], [1200.0, 1200.0], rtol=1e-12)
        np.testing.assert_allclose(row[2:], want, rtol=1e-12, atol=1e-9)


def test_overlays_in_chunks_on_the_workers_come_back_with_their_people(client, tmp_path):
    """Differences of pixel-aligned boxes sent out in several chunks: each comes back,
    in the pairs' order, with its area as its people on a raster of ones."""
    from .test_slices import _differences, _ones, assert_overlays

    raster = _ones(tmp_path)
    left, right, li, ri, want = _differences()
    engine, sent = _engine_sending(client)
    people, parts = engine.overlays_later(
        left, right, li, ri, raster, land_rules=["land-first", "plain"], op="difference"
    )()
    assert sent.count("_task_overlays") > 2
    assert people.shape == (2, len(li))
    for row in people:
        np.testing.assert_allclose(row, want, rtol=1e-12)
    assert_overlays(parts, left, right, li, ri)
    people, parts = engine.overlays_later(left, right, li[:0], ri[:0], raster)()
    assert people.shape == (1, 0) and len(parts) == 0


def _land_area_inputs():
    """São Miguel's hazards and municipalities, and GPW counts with their land area."""
    with pytest.warns(UserWarning):
        hazards = geomines.read_hazards(SAO_MIGUEL / "hazards_illustrative.geojson")
    admin = geomines.read_vector(SAO_MIGUEL / "concelhos.gpkg")
    raster = geomines.read_population(
        SAO_MIGUEL / "gpw_v411_2020_count_2020.tif",
        land_area=SAO_MIGUEL / "gpw_v411_2020_land_area_2020.tif",
    )
    return hazards, admin, raster


def test_land_area_same_numbers_and_outside_never_negative(client):
    """With a land-area raster the engines agree, and the people outside every unit
    (counted from the region's own geometry) are never negative."""
    hazards, admin, raster = _land_area_inputs()
    local = geomines.assess(hazards, raster, admin=admin, admin_id="name")
    remote = geomines.assess(hazards, raster, admin=admin, admin_id="name", client=client)
    _compare(local, remote)
    for result in (local, remote):
        assert (result.by_admin.drop(columns=["admin_id", "admin_name"]).fillna(0) >= 0).all().all()
        assert result.totals["population"] == pytest.approx(
            geomines.read_population(SAO_MIGUEL / "gpw_v411_2020_count_2020.tif").total()
        )
        for key in ("bands_add_up", "classes_add_up", "admin_units_add_up"):
            assert result.checks[key]["ok"], (key, result.checks[key])


def test_checks_and_admin_parts_in_small_slices_on_a_cluster(client, monkeypatch):
    """With a land-area raster (the units' sums started ahead, plain weighting, the
    region outside counted water first), the checks' and the region outside's parts
    started a few hundred coordinates at a time and the units' intersections made on
    the workers: the local engine's numbers, and every check adds up."""
    from geomines.assessment import checks

    from .test_slices import assert_same_by_admin

    hazards, admin, raster = _land_area_inputs()
    local = geomines.assess(hazards, raster, admin=admin, admin_id="name")
    starts = []
    real = checks.PartCounts._start
    monkeypatch.setattr(
        checks.PartCounts, "_start", lambda self: (starts.append(len(self.waiting)), real(self))
    )
    monkeypatch.setattr(checks, "SLICE_COORDS", 200)
    remote = geomines.assess(hazards, raster, admin=admin, admin_id="name", client=client)
    assert sum(1 for n in starts if n) > 5
    _compare(local, remote)
    assert_same_by_admin(remote, local, rtol=1e-9)
    for key in ("bands_add_up", "classes_add_up", "admin_units_add_up"):
        assert remote.checks[key]["ok"], (key, remote.checks[key])
        assert remote.checks[key]["parts"] == pytest.approx(local.checks[key]["parts"], rel=1e-9)


def test_rasters_scattered_by_token_never_by_reused_id(client, tmp_path):
    """Rasters created and dropped one after another (CPython reuses their id()): each
    run counts its own raster."""
    from geomines.engine.dask import DaskEngine

    engine = DaskEngine(client, partition_px=1024)
    tokens = []
    for value in (1.0, 2.0, 3.0, 4.0):
        path = write_raster(
            tmp_path / f"r{value:g}.tif",
            np.full((50, 50), value, "float32"),
            crs="EPSG:4326",
            transform=from_origin(30, 48, 0.01, 0.01),
        )
        raster = geomines.read_population(path)
        assert engine.total(raster) == pytest.approx(value * 2500)
        tokens.append(raster.token)
        del raster
    # the cache is keyed by tokens that are never reused (not by id(), which is)
    assert len(set(tokens)) == 4 and set(engine.executor.scattered) == set(tokens)


def test_multi_threaded_worker_never_closes_a_raster_another_thread_reads(tmp_path):
    """One worker process with four threads running many partition tasks on one shared
    raster object: each task releases only its own thread's file handles."""
    from geomines.engine.dask import DaskEngine

    with _own_cluster(n_workers=1, threads_per_worker=4, processes=True) as (c, _):
        rng = np.random.default_rng(3)
        path = write_raster(
            tmp_path / "pop.tif",
            rng.gamma(0.5, 4, (1024, 1024)).astype("float32"),
            crs="EPSG:4326",
            transform=from_origin(30, 48, 0.001, 0.001),
            tiled=True,
        )
        raster = geomines.read_population(path)
        geoms = np.array(
            [
                shapely.Point(30 + x, 48 - y).buffer(r)
                for x, y, r in rng.uniform([0, 0, 0.001], [1.02, 1.02, 0.02], (400, 3))
            ],
            dtype=object,
        )
        local = LocalEngine().sums(geoms, raster).people
        engine = DaskEngine(c, partition_px=128, union_tile=128)
        for _ in range(3):
            remote = engine.sums(geoms, raster).people
            np.testing.assert_allclose(remote, local, rtol=1e-9, atol=1e-9)
        assert engine.total(raster) == pytest.approx(raster.total(), rel=1e-12)


def test_geometries_travel_as_data_not_in_the_scheduler_task_specs(client):
    """A batch of hazards sent to be buffered: the scheduler (in the client's process on a
    LocalCluster) keeps each task's spec until the task is released; the geometries are
    scattered to a worker instead, so the spec stays small however many hazards."""
    import pickle

    from geomines.engine.dask import DaskEngine

    raster = geomines.read_population(SAO_MIGUEL / "gpw_v411_2020_count_2020.tif")
    west, south, east, north = raster.bounds
    rng = np.random.default_rng(5)
    xs = rng.uniform(west, east, 2000)
    ys = rng.uniform(south, north, 2000)
    geoms = shapely.buffer(shapely.points(xs, ys), 0.002, quad_segs=16)
    engine = DaskEngine(client, partition_px=1024)
    batch = engine.buffer_batch(geoms, "EPSG:4326", 100.0, raster)
    distributed.wait(batch)  # done, and still held: its spec stays on the scheduler
    spec_bytes = client.run_on_scheduler(
        lambda dask_scheduler, key=batch.key: len(pickle.dumps(dask_scheduler.tasks[key].run_spec))
    )
    geometry_bytes = sum(len(w) for w in shapely.to_wkb(geoms))
    assert geometry_bytes > 1_000_000
    assert spec_bytes < geometry_bytes / 50, (spec_bytes, geometry_bytes)
    # and the batch counts what the local engine counts for the same buffers
    people = engine.gather([engine.batch_people(batch, raster)])[0]
    local = LocalEngine().buffer_batch(geoms, "EPSG:4326", 100.0, raster)
    np.testing.assert_allclose(people, LocalEngine().batch_people(local, raster), rtol=1e-12)


def test_a_few_heavy_geometries_travel_as_data_and_a_tasks_arrays_on_one_worker(client):
    """Union tile pieces go to the overlays a few at a time, each of thousands of
    coordinates: by their count alone they went into the task's spec, held pickled in the
    client's process (the scheduler's, on a LocalCluster) until the task was released
    (1,000,000 hazards: ~200 MB while the bands and checks were counted). Heavy arrays
    are scattered however few; both arrays of a pair task go to one worker (Dask's own
    scatter put each on the next worker, so one of them always had to move)."""
    import pickle

    from geomines.engine.core import _task_pair_sums
    from geomines.engine.dask import SCATTER_COORDS, DaskEngine, packable

    raster = geomines.read_population(SAO_MIGUEL / "gpw_v411_2020_count_2020.tif")
    west, south, east, north = raster.bounds
    cx, cy = (west + east) / 2, (south + north) / 2
    # two discs of ~8,000 coordinates each, and two boxes
    disc = shapely.Point(cx - 0.02, cy).buffer(0.05, quad_segs=2000)
    left = np.array([disc, disc], dtype=object)
    right = np.array([shapely.box(cx - 0.1, cy - 0.1, cx, cy + 0.1)] * 2, dtype=object)
    assert shapely.get_num_coordinates(left).sum() > SCATTER_COORDS
    assert packable(left) and not packable(right)
    engine = DaskEngine(client, partition_px=1024)
    li = ri = np.arange(2)
    rules = [engine.options(land_rule="land-first")]

    # where a task's arrays go: both to one worker, the next task's to the other
    placed = []
    for _ in range(4):
        shipped = engine.executor._shipped((left, left[::-1].copy(), li, right))
        futures = [a for a in shipped if isinstance(a, distributed.Future)]
        assert len(futures) == 2 and shipped[3] is right
        held = client.who_has(futures)
        assert len({tuple(held[f.key]) for f in futures}) == 1, held
        placed.append(tuple(held[futures[0].key]))
        del shipped, futures
    assert placed[0] != placed[1] and placed[0] == placed[2] and placed[1] == placed[3]

    def transfers() -> int:
        counts = client.run(lambda dask_worker: dask_worker.state.transfer_incoming_count_total)
        return sum(counts.values())

    before = transfers()
    handles = [
        engine.submit(
            _task_pair_sums, raster, (0, 0), left, left, li, ri, rules, None, "difference"
        )
        for _ in range(8)
    ]
    distributed.wait(handles)  # done, and still held: their specs stay on the scheduler
    wkb_bytes = sum(len(w) for w in shapely.to_wkb(left))
    for handle in handles:
        spec_bytes = client.run_on_scheduler(
            lambda dask_scheduler, key=handle.key: len(
                pickle.dumps(dask_scheduler.tasks[key].run_spec)
            )
        )
        assert spec_bytes < wkb_bytes / 20, (spec_bytes, wkb_bytes)
    # each task ran where its data were (one transfer per task before; work stealing
    # may still move a task or two)
    assert transfers() - before <= 2
    # the same numbers as in-process: a disc minus itself holds nobody
    assert all(np.array_equal(s, np.zeros((1, 2))) for s in engine.gather(handles))


def test_task_data_follow_a_cluster_that_grows():
    """Each task's data go to the workers in turn; the workers are asked for again every
    WORKERS_EVERY tasks, so a worker that joins gets its share (not only by stealing)."""
    from geomines.engine.dask import WORKERS_EVERY, DaskExecutor

    disc = shapely.Point(0, 0).buffer(1.0, quad_segs=2000)
    arrays = (np.array([disc, disc], dtype=object),)
    with _own_cluster(n_workers=1, threads_per_worker=1, processes=False) as (c, cluster):
        executor = DaskExecutor(c)

        def placed(n: int) -> set[str]:
            shipped = [executor._shipped(arrays)[0] for _ in range(n)]
            held = c.who_has(shipped)
            return {w for f in shipped for w in held[f.key]}

        first = placed(3)
        assert len(first) == 1
        cluster.scale(2)
        c.wait_for_workers(2, timeout=60)
        assert len(placed(WORKERS_EVERY + 4)) == 2


def test_packed_geometries_come_back_exactly():
    """Geometries sent packed (one WKB blob) come back bit for bit: every type, empty
    ones, holes, Z, and None; an array of anything else is not packed."""
    import pickle

    from geomines.engine.dask import PackedGeometries, packable

    rng = np.random.default_rng(11)
    square = shapely.box(0, 0, 1, 1)
    holed = shapely.Polygon(square.exterior, [shapely.box(0.2, 0.2, 0.4, 0.4).exterior.coords])
    odd = [
        None,
        shapely.Polygon(),
        shapely.Point(),
        shapely.MultiPolygon([square, shapely.box(2, 2, 3, 3)]),
        holed,
        shapely.Polygon([(0, 0, 1.5), (1, 0, 2.5), (1, 1, 3.5), (0, 0, 1.5)]),
        shapely.GeometryCollection([square, shapely.LineString([(0, 0), (5, 5)])]),
        shapely.Point(1e-300, -1e300),
    ]
    circles = list(shapely.buffer(shapely.points(rng.uniform(-180, 180, (200, 2))), 0.37))
    geoms = np.empty(len(odd) + len(circles), dtype=object)
    geoms[:] = odd + circles
    assert packable(geoms)
    back = pickle.loads(pickle.dumps(PackedGeometries(geoms))).array
    assert len(back) == len(geoms)
    for a, b in zip(geoms, back, strict=True):
        if a is None:
            assert b is None
            continue
        assert b.geom_type == a.geom_type and b.is_empty == a.is_empty
        assert shapely.to_wkb(b) == shapely.to_wkb(a)  # the same doubles, Z included
    words = np.array(["a"] * 100, dtype=object)
    assert not packable(words) and not packable(geoms[:10])


def test_local_workers_run_with_glibcs_mmap_threshold_and_one_arena(client):
    """Dask's MALLOC_TRIM_THRESHOLD_ fixes glibc's mmap threshold (every numpy temporary
    over 128 kB mapped and unmapped): the engine ran 1.3x slower on one worker with it.
    local_client's workers start without it (and keep Dask's other settings), with one
    malloc arena each (their peaks on 1,000,000 hazards 1.7 GB -> 1.25-1.36 GB)."""
    import os

    env = client.run(
        lambda: (
            os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            os.environ.get("OMP_NUM_THREADS"),
            os.environ.get("MALLOC_ARENA_MAX"),
        )
    )
    assert len(env) == 2
    assert all(t is None and omp == "1" and arenas == "1" for t, omp, arenas in env.values()), env


def test_local_clusters_message_streams_keep_only_their_last_few_batches(client):
    """Each of Dask's message streams keeps its recent batches of messages (under 1 MB)
    whole, tasks' arguments included, for debugging: 1,000 by default. The scheduler of a
    LocalCluster runs in the client's process, which so held ~200 MB of the engine's
    arrays on 1,000,000 hazards after every task was done. local_client's streams keep
    LOW_LEVEL_LOG: 1,500 small tasks later the client's process holds fewer of their
    serialized arguments than there were tasks (5,300 with Dask's default log length)."""
    import gc
    import time

    from distributed.protocol.serialize import Serialized, ToPickle

    from geomines.engine.dask import LOW_LEVEL_LOG

    futures = [client.submit(np.sum, np.arange(1000) + k, pure=False) for k in range(1500)]
    assert client.gather(futures) == [int(np.sum(np.arange(1000) + k)) for k in range(1500)]
    del futures
    scheduler = client.cluster.scheduler
    deadline = time.monotonic() + 10
    while scheduler.tasks and time.monotonic() < deadline:  # the release is asynchronous
        time.sleep(0.05)
    logs = [s.recent_message_log for s in scheduler.stream_comms.values()]
    logs.append(client.scheduler_comm.recent_message_log)
    assert len(logs) == 3 and all(log.maxlen == LOW_LEVEL_LOG for log in logs)
    assert all(len(log) <= LOW_LEVEL_LOG for log in logs)
    gc.collect()
    kept = [o for o in gc.get_objects() if isinstance(o, (ToPickle, Serialized))]
    assert len(kept) < 1500, len(kept)


def test_local_workers_run_without_dasks_stack_sampling_profiler(client):
    """The profiler samples the task thread every 10 ms and takes the GIL to do it: the
    2-worker benchmark ran 12-20% slower with it. local_client's workers run without."""
    import dask

    enabled = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert len(enabled) == 2 and not any(enabled.values()), enabled


def test_a_batch_goes_to_its_reach_box_partitions_without_asking(tmp_path, monkeypatch):
    """With each batch's reach box, the ring stage sends the buffers to the partitions
    the box meets at once (no round trip per batch); the numbers are the same, and a
    box that misses a buffer's partition is an error, not a union short of a piece."""
    from geomines.assessment import batching
    from geomines.engine import core

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    whole = geomines.assess(hazards, raster, rings_m=(100, 500))
    monkeypatch.setattr(batching, "BATCH_COORDS", 150)  # a few hazards per batch
    asked = []
    real_keys = core._task_keys
    monkeypatch.setattr(core, "_task_keys", lambda *a: asked.append(1) or real_keys(*a))
    engine = LocalEngine(union_tile=64, partition_px=128, window_px=4096)
    batched = geomines.assess(hazards, raster, rings_m=(100, 500), engine=engine)
    _compare(whole, batched)
    assert asked == []  # every batch had a reach box here

    # a box around one corner only: the batch's other pieces would be lost
    geoms = np.asarray(hazards.geometry.values[:20])
    batch = engine.buffer_batch(geoms, hazards.crs, 500.0, raster)
    builder = engine.union_builder(raster, 1)
    x0, y0 = raster.transform.c, raster.transform.f
    with pytest.raises(RuntimeError, match="outside their batch's reach box"):
        builder.add_buffers(batch, [(0, np.ones(len(geoms), bool))], (x0, y0 - 10, x0 + 10, y0))
    asked.clear()
    builder.add_buffers(batch, [(0, np.ones(len(geoms), bool))])  # no box: asks
    assert asked == [1]


def test_per_geometry_sums_cut_into_compact_chunks_give_each_geometry_its_own_sum(
    client, tmp_path, monkeypatch
):
    """A partition's geometries go to several tasks (at least four per worker thread, so
    one busy partition does not leave a worker idle); every geometry still gets its own
    sum: the same as the local engine's, geometry by geometry, in the input's order."""
    from geomines.engine import core
    from geomines.engine.dask import DaskEngine

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    # 200 small polygons crowded into one partition (128 px = 1,280 m from the corner)
    rng = np.random.default_rng(9)
    xy = rng.uniform([400_020, 5_004_746], [401_260, 5_005_980], (200, 2))
    crowd = shapely.buffer(shapely.points(xy), rng.uniform(5, 60, 200), quad_segs=3)
    geoms = np.concatenate([np.asarray(hazards.geometry.values, dtype=object), crowd])[::-1]
    want = LocalEngine().sums(geoms, raster)
    one = DaskEngine(client, union_tile=64, partition_px=128)
    one.sums(geoms, raster)
    whole_tasks = one.executor.tasks
    monkeypatch.setattr(core, "CHUNK_PX", 1)
    engine = DaskEngine(client, union_tile=64, partition_px=128)
    got = engine.sums(geoms, raster)
    assert engine.executor.tasks > whole_tasks >= 4  # really cut further
    for name in ("people", "weight", "weight_nodata", "area", "area_in_raster"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-12, atol=1e-9)


def test_tasks_of_a_bounded_size_give_the_same_numbers(client, tmp_path, monkeypatch):
    """However few geometries one task may hold (sums cut into chunks, the class groups'
    unions into bundles chained per partition), the numbers are the local engine's."""
    from geomines.engine import core
    from geomines.engine.dask import DaskEngine

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    local = geomines.assess(hazards, raster, rings_m=(100, 500))
    items = [(0, np.ones(3)), (1, np.ones(4)), (2, np.ones(9))]
    assert [len(b) for b in core._bundles(items, 7)] == [2, 1]  # 3 + 4, then 9 alone
    monkeypatch.setattr(core, "MAX_PIECES", 3)
    engine = DaskEngine(client, union_tile=64, partition_px=128, window_px=4096)
    small = geomines.assess(hazards, raster, rings_m=(100, 500), engine=engine)
    _compare(local, small)
    np.testing.assert_allclose(
        small.by_class["people_inside"], local.by_class["people_inside"], rtol=1e-9
    )


def _geometries_reached(obj, seen: set[int] | None = None) -> int:
    """Shapely geometries reachable from ``obj`` through closures and containers."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, shapely.Geometry):
        return 1
    if isinstance(obj, np.ndarray):
        return sum(_geometries_reached(x, seen) for x in obj.ravel()) if obj.dtype == object else 0
    if isinstance(obj, list | tuple | set):
        return sum(_geometries_reached(x, seen) for x in obj)
    if isinstance(obj, dict):
        return sum(_geometries_reached(x, seen) for x in obj.values())
    count = 0
    for cell in getattr(obj, "__closure__", None) or ():
        try:
            count += _geometries_reached(cell.cell_contents, seen)
        except ValueError:  # an empty cell
            pass
    return count


def test_ring_checks_started_on_a_cluster_hold_none_of_their_parts(client, tmp_path):
    """The bands' and classes' parts are cut, sent to the workers and counted there: the
    checks handed back to be taken later reach none of those geometries (on 1,000,000
    hazards they are hundreds of MB the client held until the admin units were done),
    and the checks taken then add up."""
    from geomines.assessment.checks import reconcile_rings
    from geomines.engine.dask import DaskEngine

    hazards, path = _synthetic(tmp_path)
    raster = geomines.read_population(path)
    geoms = np.asarray(hazards.geometry.values, dtype=object)
    polys = shapely.get_type_id(geoms) == 3
    classes = hazards["land_class"].to_numpy()
    engine = DaskEngine(client, union_tile=64, partition_px=128)
    union_u = engine.union(geoms[polys], raster)
    levels = [
        engine.union(geoms[polys & (classes == "CHA")], raster),
        engine.union(geoms[polys & np.isin(classes, ["CHA", "SHA"])], raster),
    ]
    ring_u = {
        d: engine.union(shapely.buffer(geoms[polys], d, quad_segs=4), raster) for d in (100, 300)
    }
    taken = reconcile_rings(union_u, (100.0, 300.0), ring_u, levels, engine, raster)
    assert _geometries_reached(taken) == 0
    pieces = union_u.pieces
    assert _geometries_reached(lambda: pieces) == len(pieces) > 0  # the walk sees them
    checks = taken()
    for name in ("bands_add_up", "classes_add_up"):
        assert checks[name].ok, checks[name]
        assert checks[name].whole == pytest.approx(ring_u[300].total.people, rel=1e-12)


def test_points_kept_as_points_on_a_cluster_are_their_circles(client, tmp_path, monkeypatch):
    """Point records kept as points, their circles built 7 at a time and sent to the
    workers: the numbers of the circles built on reading, counted in-process."""
    from geomines import shapes

    from .test_shapes import _assess, _layer, _read, _same

    path = _layer(tmp_path)
    built = _assess(_read(path))
    monkeypatch.setattr(shapes, "SLICE", 7)
    lean = _assess(_read(path, build_circles=False), client=client)
    _same(lean, built, exact=False)


def test_what_workers_send_travels_packed_and_weighs_its_coordinates(monkeypatch, tmp_path):
    """What workers send each other and the client (a partition's union state, union
    tiles, a batch's buffer pieces, the overlays) pickles as one WKB blob, not a call per
    geometry, and comes back exactly; Dask weighs it by its coordinates, not by its
    pointers (8 bytes a geometry), so its scheduler does not move it as if it were free.
    """
    import pickle

    from dask.sizeof import sizeof
    from shapely.geometry.base import BaseGeometry

    import geomines.engine.dask  # noqa: F401  (registers the sizes)
    from geomines.engine.core import WHOLE, _task_buffers, _task_overlays
    from geomines.engine.exact import ZonalSum
    from geomines.engine.packing import unpacked
    from geomines.engine.unions import TileState, UnionSum

    from .test_slices import _differences, _ones

    rng = np.random.default_rng(5)
    discs = shapely.buffer(shapely.points(rng.uniform(0, 100, (60, 2))), 3.0, quad_segs=32)
    state = TileState(
        [{(0, k): g for k, g in enumerate(discs[:40])}, {}, {(1, 1): discs[40]}],
        [ZonalSum(people=2.5), ZonalSum(), ZonalSum(people=1.0)],
    )
    tiles = UnionSum(discs[41:], [(2, k) for k in range(19)], ZonalSum(people=7.0))
    raster = _ones(tmp_path)
    left, right, li, ri, _ = _differences()
    rules = [{"pixel_rule": "exact", "window_px": None, "land_rule": "land-first"}]
    people, packed = _task_overlays(raster, WHOLE, left, right, li, ri, rules, "difference")
    x0, y0 = raster.transform.c, raster.transform.f
    spots = shapely.points(x0 + rng.uniform(0, 40, 30), y0 - rng.uniform(0, 20, 30))
    opts = {"pixel_rule": "exact", "window_px": None, "land_rule": "land-first"}
    batch = _task_buffers(raster, WHOLE, spots, raster.crs, 3.0, {**opts, "partition_px": 16})
    assert len(batch["parts"]) > 1

    calls = []
    real = BaseGeometry.__reduce__
    monkeypatch.setattr(BaseGeometry, "__reduce__", lambda g: calls.append(1) or real(g))
    state_back = pickle.loads(pickle.dumps(state))
    tiles_back = pickle.loads(pickle.dumps(tiles))
    parts_back = unpacked(pickle.loads(pickle.dumps(packed)))
    batch_back = pickle.loads(pickle.dumps(batch))
    assert not calls  # no geometry pickled on its own

    assert [list(t) for t in state_back.tiles] == [list(t) for t in state.tiles]
    assert state_back.counted == state.counted
    for before, after in zip(state.tiles, state_back.tiles, strict=True):
        for key, geom in before.items():
            assert shapely.to_wkb(after[key]) == shapely.to_wkb(geom)
    assert type(tiles_back) is UnionSum and tiles_back.keys == tiles.keys
    assert tiles_back.total == tiles.total
    assert (shapely.to_wkb(tiles_back.pieces) == shapely.to_wkb(tiles.pieces)).all()
    assert (shapely.to_wkb(parts_back) == shapely.to_wkb(unpacked(packed))).all()
    assert people.shape == (1, len(li))
    np.testing.assert_array_equal(batch_back["people"], batch["people"])
    for key, (pieces, ids) in batch["parts"].items():
        back_pieces, back_ids = batch_back["parts"][key]
        np.testing.assert_array_equal(back_ids, ids)
        assert (shapely.to_wkb(unpacked(back_pieces)) == shapely.to_wkb(unpacked(pieces))).all()

    # weighed by coordinates (16 bytes each), not by 8-byte pointers
    assert sizeof(state) >= 16 * int(shapely.get_num_coordinates(discs[:41]).sum())
    assert sizeof(tiles) >= 16 * int(shapely.get_num_coordinates(discs[41:]).sum())
    assert sizeof(packed) >= 16 * int(shapely.get_num_coordinates(unpacked(packed)).sum())
