"""The assessment: people inside and near hazards, per hazard, dissolved, by admin unit.

Notes
-----
Population is extensive. For any area A the people in it are
``N(A) = Σ_i v_i · f_i(A)`` with ``v_i`` the people in pixel *i* and ``f_i(A)``
the fraction of the pixel that A covers (see :mod:`geomines.engine.exact`).

- *Per hazard*: ``N(h)`` and ``N(buffer(h, d))`` for each ring distance ``d``.
  Per-hazard numbers overlap when hazards overlap or are near each other.
- *Dissolved*: ``N(U)`` for the union U of the counted hazards, and
  ``N(buffer(U, d))`` (computed as the union of the hazards' buffers, which is
  the same set). Exclusive bands are differences of these nested sets, so
  nobody is counted twice.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Collection, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from tqdm import tqdm

from ..crs import move_to_grid, transform_geoms, wrap_longitudes
from ..engine.exact import PIXEL_RULES, PixelRule, ZonalSum
from ..engine.executors import release_memory
from ..engine.local import Engine, LocalEngine
from ..engine.rings import area_m2, buffers_m, format_m, parse_rings
from ..engine.unions import UnionSum
from ..errors import CoverageWarning, CRSError, InputError, NoOverlapError, ReprojectionWarning
from ..hazards import load_report, read_hazards
from ..io.population import PopulationRaster, read_population
from .batching import CLASS_TILE, closing_tiles, spatial_batches
from .breakdowns import (
    admin_of_hazards,
    admin_table,
    band_frame,
    class_groups,
    class_table,
    precedence_table,
)
from .checks import quality_checks, reconcile_rings
from .provenance import method_block
from .result import STATUSES, Assessment, ring_column

__all__ = ["Assessment", "assess", "ring_column"]


def _load_inputs(
    hazards: gpd.GeoDataFrame | str | os.PathLike,
    population: PopulationRaster | str | os.PathLike | Sequence[str],
) -> tuple[gpd.GeoDataFrame, PopulationRaster]:
    if not isinstance(population, PopulationRaster):
        population = read_population(population)
    if not isinstance(hazards, gpd.GeoDataFrame):
        hazards = read_hazards(hazards)
    if hazards.crs is None:
        raise CRSError(
            f"Hazards have no CRS; population raster is {population.describe()['crs']}. "
            "Set one with hazards.set_crs(...) or read_hazards(..., crs=...)."
        )
    return hazards, population


def _prepare(hazards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill the schema columns a hand-made frame may lack."""
    frame = hazards.copy()
    n = len(frame)
    defaults = {
        "land_class": "other",
        "contamination": "unknown",
        "status": "open",
        "evidence": "none",
        "load_status": "ok",
        "load_note": "",
    }
    if "hazard_id" not in frame.columns:
        frame["hazard_id"] = [f"H-{i + 1:04d}" for i in range(n)]
    for col, value in defaults.items():
        if col not in frame.columns:
            frame[col] = value
    geoms = frame.geometry.values
    empty = np.array([g is None or g.is_empty for g in geoms], dtype=bool)
    status = frame["load_status"].to_numpy(dtype=object).copy()
    notes = frame["load_note"].to_numpy(dtype=object).copy()
    for i in np.nonzero(empty & (status != "excluded"))[0]:
        status[i], notes[i] = "excluded", "no geometry"
    frame["load_status"] = status
    frame["load_note"] = notes
    return frame


def assess(
    hazards: gpd.GeoDataFrame | str | os.PathLike,
    population: PopulationRaster | str | os.PathLike | Sequence[str],
    *,
    rings_m: Sequence[float] | str | None = (500, 1000, 5000),
    admin: gpd.GeoDataFrame | str | os.PathLike | None = None,
    admin_id: str | None = None,
    admin_name: str | None = None,
    count_status: Collection[str] = ("open",),
    pixel_rule: PixelRule = "exact",
    progress: bool = False,
    client: Any = None,
    engine: Engine | None = None,
) -> Assessment:
    """Count the people inside and near hazards.

    Parameters
    ----------
    hazards : GeoDataFrame or path
        Hazards in the schema of :func:`geomines.read_hazards` (a path is read
        with it). Points and lines hold nobody inside but have rings.
    population : PopulationRaster, path, or paths
        People per pixel (see :func:`geomines.read_population`).
    rings_m : sequence of float or str, default (500, 1000, 5000)
        Ring distances in metres on the ground, e.g. ``"500,1000,5000"``.
    admin : GeoDataFrame or path, optional
        Admin unit polygons; ``admin_id`` names their id column.
    admin_id, admin_name : str, optional
        Id and (optional) name columns of ``admin``.
    count_status : collection of str, default ("open",)
        Statuses whose hazards are counted. Other hazards are reported, not counted.
    pixel_rule : {"exact", "center", "all-touched"}, default "exact"
        Pixel weighting; ``"exact"`` is the area-fraction weighting.
    progress : bool, default False
        Show a progress bar on stderr, one step per stage.
    client : dask.distributed.Client, optional
        Run the exposure engine as Dask tasks on this client, partitioned by
        raster windows (see :mod:`geomines.engine.dask`); the numbers are the same.
    engine : Engine, optional
        An engine object instead (``LocalEngine(...)`` or ``DaskEngine(client, ...)``),
        to set partition, tile and window sizes.

    Returns
    -------
    Assessment

    Raises
    ------
    CRSError
        Hazards without CRS.
    NoOverlapError
        No counted hazard touches the raster.
    InputError
        Bad options (unknown status, pixel rule, admin column).
    """
    if pixel_rule not in PIXEL_RULES:
        raise InputError(f"pixel_rule must be one of {PIXEL_RULES}, got {pixel_rule!r}.")
    statuses = tuple(dict.fromkeys(s.strip().lower() for s in count_status if s.strip()))
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown or not statuses:
        raise InputError(
            f"count_status must name statuses among {STATUSES}, got {unknown or statuses}."
        )
    rings = parse_rings(rings_m)
    if engine is None:
        engine = LocalEngine(pixel_rule)
        if client is not None:
            from ..engine.dask import DaskEngine

            engine = DaskEngine(client, pixel_rule=pixel_rule)
    elif engine.pixel_rule != pixel_rule:
        raise InputError(
            f"pixel_rule {pixel_rule!r} differs from the engine's "
            f"{engine.pixel_rule!r}; set it on the engine."
        )
    steps = 3 + 2 * len(rings) + (1 if admin is not None else 0)
    # a bar on stderr when asked and stderr is a terminal (tqdm's disable=None)
    bar = tqdm(
        total=steps,
        desc="geomines",
        unit="step",
        disable=True if not progress else None,
        file=sys.stderr,
        leave=False,
    )
    try:
        admin_path = (
            str(admin) if admin is not None and not isinstance(admin, gpd.GeoDataFrame) else None
        )
        hazards, raster = _load_inputs(hazards, population)
        report = load_report(hazards)
        frame = _prepare(hazards)

        usable = (frame["load_status"] != "excluded").to_numpy()
        counted = usable & frame["status"].isin(statuses).to_numpy()
        frame["counted"] = counted

        src_crs = CRS.from_user_input(frame.crs)
        if src_crs != raster.crs:
            warnings.warn(
                f"Hazards are in {src_crs.name}; moved into the population raster's CRS "
                f"({raster.crs.name}). The raster is never resampled.",
                ReprojectionWarning,
                stacklevel=2,
            )
        geoms = np.asarray(frame.geometry.values, dtype=object)
        geoms_r = np.array([shapely.Polygon()] * len(frame), dtype=object)
        if usable.any():
            moved = move_to_grid(geoms[usable], src_crs, raster.crs, raster.bounds)
            _check_moved(frame, usable, geoms, moved, raster)
            geoms_r[usable] = moved

        # ---- per hazard
        bar.set_postfix_str("people inside each hazard")
        sums = engine.sums(geoms_r, raster)
        bar.update()
        inside = [sums[i] if u else ZonalSum() for i, u in enumerate(usable)]
        frame["people_inside"] = np.where(usable, sums.people, np.nan)
        areas = np.full(len(frame), np.nan)
        if usable.any():
            areas[usable] = area_m2(frame.geometry[usable])
        frame["area_m2"] = areas
        if not counted.any():
            warnings.warn(
                "No hazard is counted (check count_status); totals are 0.",
                UserWarning,
                stacklevel=2,
            )
        groups = class_groups(frame, usable)
        class_columns: dict[str, list[float]] = {
            "people_inside": [
                u.total.people for u in engine.unions([geoms_r[pos] for _, pos in groups], raster)
            ]
            if groups
            else []
        }
        group_of = np.full(len(frame), -1, dtype=np.int64)
        for k, (_, pos) in enumerate(groups):
            group_of[pos] = k
        batches = spatial_batches(geoms, np.nonzero(usable)[0])
        # one ring distance at a time, and within it one batch of hazards at a time:
        # a batch's buffers are counted, merged into the unions and dropped; a class
        # group's union tiles are counted and dropped once no later batch can reach
        # them. Memory: one batch, the open tiles and the union of the counted hazards,
        # however many hazards there are.
        ring_u: dict[float, UnionSum] = {}
        for d in rings:
            bar.set_postfix_str(f"buffers and people within {format_m(d)} m")
            people_d = np.full(len(frame), np.nan)
            dissolved = engine.union_builder(raster, 1)
            by_group = engine.union_builder(raster, len(groups), tile=CLASS_TILE)
            closing = closing_tiles(
                geoms, batches, d, src_crs, raster, getattr(by_group, "side", None)
            )
            for b, pos in enumerate(batches):
                buf = _on_grid(
                    buffers_m(gpd.GeoSeries(geoms[pos], crs=src_crs), [d], to_crs=raster.crs)[
                        0
                    ].values,
                    raster,
                )
                people_d[pos] = engine.sums(buf, raster).people
                dissolved.add(0, buf[counted[pos]])
                for k in np.unique(group_of[pos]):
                    if k >= 0:
                        by_group.add(int(k), buf[group_of[pos] == k])
                del buf
                if closing[b]:
                    by_group.flush(closing[b], range(len(groups)))
                release_memory()
            frame[ring_column(d)] = people_d
            ring_u[d] = dissolved.result()[0]
            if groups:
                class_columns[ring_column(d)] = [u.total.people for u in by_group.result()]
            bar.update(2)
        bar.set_postfix_str("dissolved hazards")
        union_u = engine.union(geoms_r[counted], raster)
        union_sum_ = union_u.total
        ring_sums = {d: ring_u[d].total for d in rings}
        bar.update()
        reach = ring_u[rings[-1]] if rings else union_u
        _check_overlap(frame, geoms, geoms_r, counted, inside, reach, src_crs, raster)

        within = {format_m(d): ring_sums[d].people for d in rings}
        bar.set_postfix_str("population total")
        total_pop = engine.total(raster)
        bar.update()
        totals = {"inside": union_sum_.people, "within_m": within, "population": total_pop}

        by_precedence, levels = precedence_table(
            frame, geoms_r, counted, union_u, rings, ring_u, raster, engine
        )
        ring_checks = reconcile_rings(union_u, rings, ring_u, levels, engine, raster)
        del levels
        by_class = class_table(frame, groups, class_columns, rings)

        by_admin = admin_frame = None
        if admin is not None:
            bar.set_postfix_str("by admin unit")
            admin_frame, by_admin, admin_check = admin_table(
                admin,
                admin_id,
                admin_name,
                raster,
                union_u,
                rings,
                ring_u,
                total_pop,
                totals,
                engine,
            )
            frame["admin_id"] = admin_of_hazards(
                geoms_r, admin_frame, str(admin_id), raster.crs, raster.bounds
            )
            release_memory()
            bar.update()

        # the bands after the admin units: the two big geometry products are not held
        # at once (memory)
        bands = band_frame(union_u, rings, ring_u, raster.crs)
        release_memory()
        checks = quality_checks(
            frame, inside, union_sum_, ring_sums, rings, raster, by_admin, total_pop
        )
        for name, rec in ring_checks.items():
            checks[name] = rec.to_dict()
        if by_admin is not None:
            checks["admin_units_add_up"] = admin_check.to_dict()
        method = method_block(raster, rings, statuses, pixel_rule, report, frame)
        method["share_of_hazard_area_on_nodata"] = checks["share_of_hazard_area_on_nodata"]
        method["share_of_hazard_area_outside_raster"] = checks[
            "share_of_hazard_area_outside_raster"
        ]
        return Assessment(
            hazards=frame,
            bands=bands,
            totals=totals,
            rings_m=rings,
            population=raster,
            method=method,
            checks=checks,
            by_admin=by_admin,
            admin=admin_frame,
            by_class=by_class,
            by_precedence=by_precedence,
            extra={
                "hazard_path": report.path if report is not None else None,
                "admin_path": admin_path,
                "outside_raster": _outside_raster(frame, geoms_r, counted, raster),
            },
            load_report=report,
        )
    finally:
        bar.close()


def _on_grid(geoms: np.ndarray, raster: PopulationRaster) -> np.ndarray:
    """Lon/lat geometries moved into the grid's 360° span when it is not -180..180."""
    west, _, east, _ = raster.bounds
    if raster.is_geographic and (west < -180 - 1e-9 or east > 180 + 1e-9):
        return wrap_longitudes(geoms, west)
    return geoms


def _check_moved(
    frame: gpd.GeoDataFrame,
    usable: np.ndarray,
    geoms: np.ndarray,
    moved: np.ndarray,
    raster: PopulationRaster,
) -> None:
    """Refuse, naming them, hazards whose area vanished or broke in the raster's CRS.

    A polygon with area in its own CRS must keep area in the raster's CRS; one that
    collapses (or gets non-finite coordinates: outside the projection's valid area)
    would otherwise count as 0 people without a word.
    """
    src = geoms[usable]
    had_area = np.nan_to_num(shapely.area(src)) > 0
    if not had_area.any():
        return
    idx = np.nonzero(had_area)[0]
    after = moved[idx]
    xy, owner = shapely.get_coordinates(after, return_index=True)
    finite = np.ones(len(idx), dtype=bool)
    finite[np.unique(owner[~np.isfinite(xy).all(axis=1)])] = False
    lost = ~finite | ~(np.nan_to_num(shapely.area(after)) > 0)
    if not lost.any():
        return
    ids = frame["hazard_id"].astype(str).to_numpy()[np.nonzero(usable)[0][idx[lost]]]
    raise CRSError(
        f"Expected every hazard polygon to keep its area in the population raster's CRS "
        f"({raster.describe()['crs']}); {len(ids)} lost it or left the projection's valid "
        f"area: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}. Check that the raster "
        "covers them, or split hazards that reach a pole or cross ±180°."
    )


def _outside_raster(
    frame: gpd.GeoDataFrame, geoms_r: np.ndarray, counted: np.ndarray, raster: PopulationRaster
) -> list[str]:
    """Ids of counted hazards wholly outside the raster's extent."""
    off = counted & ~shapely.intersects(geoms_r, shapely.box(*raster.bounds))
    return frame.loc[off, "hazard_id"].astype(str).tolist()


def _check_overlap(
    frame: gpd.GeoDataFrame,
    geoms: np.ndarray,
    geoms_r: np.ndarray,
    counted: np.ndarray,
    inside: list[ZonalSum],
    reach: UnionSum,
    src_crs: CRS,
    raster: PopulationRaster,
) -> None:
    """Refuse when no counted hazard (or its largest ring) touches the raster; warn by id
    when some counted hazards lie wholly outside it.
    """
    if not counted.any():
        return
    box = shapely.box(*raster.bounds)
    on_raster = shapely.intersects(geoms_r, box) & counted
    ids = frame["hazard_id"].astype(str).to_numpy()
    if reach.total.area_in_raster <= 0 and not on_raster.any():
        _raise_if_swapped(geoms[counted], src_crs, raster)
        west, south, east, north = (float(v) for v in raster.bounds)
        hx0, hy0, hx1, hy1 = (float(v) for v in shapely.total_bounds(geoms_r[counted]))
        outside = list(ids[counted])
        raise NoOverlapError(
            f"Expected counted hazards over the population raster {raster.name} "
            f"(x {west:.4f}..{east:.4f}, y {south:.4f}..{north:.4f} in "
            f"{raster.describe()['crs']}); got {len(outside)} counted hazard(s) wholly outside "
            f"it ({', '.join(outside[:5])}{' ...' if len(outside) > 5 else ''}) at x "
            f"{hx0:.4f}..{hx1:.4f}, y {hy0:.4f}..{hy1:.4f}. Check the hazard CRS (swapped "
            "lat/lon?) and that the raster covers them."
        )
    off = counted & ~on_raster
    if off.any():
        listing = list(ids[off])
        warnings.warn(
            f"{len(listing)} counted hazard(s) lie wholly outside the population raster "
            f"{raster.name} and hold nobody on it: {', '.join(listing[:10])}"
            + (f" and {len(listing) - 10} more" if len(listing) > 10 else "")
            + ". Use a raster that covers them.",
            CoverageWarning,
            stacklevel=4,
        )


def _raise_if_swapped(geoms: np.ndarray, crs: CRS, raster: PopulationRaster) -> None:
    """No overlap, but the hazards with x and y swapped would overlap: say so."""
    if not crs.is_geographic:
        return
    swapped = shapely.transform(geoms, lambda xy: xy[:, ::-1].copy())
    try:
        moved = transform_geoms(swapped, crs, raster.crs)
    except Exception:
        return
    box = shapely.box(*raster.bounds)
    if shapely.intersects(moved, box).any():
        raise CRSError(
            "Expected hazards over the population raster; got none there, but with "
            "longitude and latitude swapped they would be: the coordinates look like "
            "lat/lon written as x/y. Write them as lon, lat (x, y) in the file."
        )
