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
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from tqdm import tqdm

from .. import shapes as shapes_module
from ..crs import move_to_grid, transform_geoms
from ..engine.exact import PIXEL_RULES, PixelRule, ZonalSums
from ..engine.executors import local_executor, release_memory
from ..engine.local import Engine, LocalEngine
from ..engine.rings import area_m2, format_m, parse_rings
from ..engine.unions import UnionSum
from ..errors import CoverageWarning, CRSError, InputError, NoOverlapError, ReprojectionWarning
from ..hazards import load_report, read_hazards
from ..io.population import PopulationRaster, read_population
from ..loadreport import LoadReport
from ..priorities.features import Features
from ..priorities.places import Places
from ..priorities.stage import where_first
from ..shapes import Shapes, hazard_shapes
from ..uncertainty.age_sex import (
    AgeSexFile,
    age_sex_table,
    find_age_sex,
    layer_names,
    sum_check,
)
from ..uncertainty.curve import distance_curve, parse_curve
from ..uncertainty.sources import parse_sources, source_row
from .batching import CLASS_TILE, closing_tiles, reach_boxes, spatial_batches, spatial_slices
from .breakdowns import (
    CLASS_PRECEDENCE,
    band_frame,
    class_groups,
    class_table,
    groups_making,
    precedence_masks,
    precedence_table,
)
from .checks import band_parts_later, checks_land_rule, quality_checks, reconcile_rings
from .provenance import method_block
from .records import Reconciliation, Totals
from .result import STATUSES, Assessment, ring_column
from .units import Units, admin_of_hazards, admin_table, read_units, start_unit_sums

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


@dataclass(frozen=True)
class Options:
    """The validated options of one assessment."""

    rings: tuple[float, ...]
    statuses: tuple[str, ...]
    pixel_rule: PixelRule
    engine: Engine


@dataclass(frozen=True)
class AdminUnits:
    """Admin units as given to :func:`assess` (a frame or a path) and their columns."""

    units: gpd.GeoDataFrame | str | os.PathLike
    id_column: str | None
    name_column: str | None

    @property
    def path(self) -> str | None:
        """The file the units came from, if any (for provenance)."""
        return None if isinstance(self.units, gpd.GeoDataFrame) else str(self.units)


@dataclass
class Projected:
    """Stage 1: the hazards in the schema, which count, and their geometry on the grid."""

    frame: gpd.GeoDataFrame
    raster: PopulationRaster
    report: LoadReport | None
    src_crs: CRS
    geoms: Shapes  # in the hazards' CRS (circles built when indexed)
    geoms_r: Shapes  # on the raster's grid
    usable: np.ndarray
    counted: np.ndarray
    bounds: np.ndarray  # each shape's bounds in the hazards' CRS (NaN: not usable)
    coords: np.ndarray  # each shape's coordinates


@dataclass
class PerHazard:
    """Stage 2: each hazard's sums inside, and the land class × contamination × status groups."""

    inside: ZonalSums
    groups: list[tuple[tuple[Any, ...], np.ndarray]]
    class_columns: dict[str, list[float]]
    #: the counted hazards' groups (None: the groups do not make up the counted hazards)
    counted_groups: list[int] | None = None
    #: unions built from the groups' pieces: "counted" and the precedence levels
    derived: dict[str, UnionSum] = field(default_factory=dict)


@dataclass
class Dissolved:
    """Stage 4: the union of the counted hazards, each ring's union, and (once counted,
    after the breakdowns: :func:`count_population`) the people in the whole raster.
    """

    union: UnionSum
    rings: dict[float, UnionSum]
    outside_raster: list[str]  # ids of counted hazards wholly outside the raster
    population: float | None = None

    @property
    def totals(self) -> Totals:
        """The dissolved people inside, within each ring, and in the whole raster."""
        if self.population is None:
            raise RuntimeError("the raster's population is counted after the breakdowns")
        within = {float(d): u.total.people for d, u in self.rings.items()}
        return Totals(self.union.total.people, within, self.population)


@dataclass
class Breakdowns:
    """Stage 5: the tables that break the dissolved numbers down, and their checks."""

    by_precedence: pd.DataFrame
    by_class: pd.DataFrame
    bands: gpd.GeoDataFrame
    checks: dict[str, Reconciliation]
    by_admin: pd.DataFrame | None = None
    admin: gpd.GeoDataFrame | None = None


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
    load_report: LoadReport | None = None,
    places: gpd.GeoDataFrame | str | os.PathLike | None = None,
    place_id: str | None = None,
    place_name: str | None = None,
    place_radius_m: float | None = None,
    features: gpd.GeoDataFrame | str | os.PathLike | None = None,
    feature_class: str | None = None,
    priority: Any = None,
    curve_m: str | Sequence[float] | None = None,
    age_sex: str | os.PathLike | None = None,
) -> Assessment:
    """Count the people inside and near hazards, in stages: :func:`project`,
    :func:`count_per_hazard`, :func:`count_rings`, :func:`dissolve`, :func:`break_down`,
    :func:`assemble`, then where to go first (:mod:`geomines.priorities`).

    Parameters
    ----------
    hazards : GeoDataFrame or path
        Hazards in the schema of :func:`geomines.read_hazards` (a path is read with it;
        ``load_report``: how they were read, default the frame's own). Points and lines
        hold nobody inside but have rings.
    population : PopulationRaster, path, paths, or several grids
        People per pixel (:func:`geomines.read_population`). Several grids: a mapping
        ``{name: raster or path}`` or a list of rasters, the main one first; each is
        assessed in full (:attr:`Assessment.sources`).
    rings_m : sequence of float or str, default (500, 1000, 5000)
        Ring distances in metres on the ground, e.g. ``"500,1000,5000"``.
    admin, admin_id, admin_name : optional
        Admin unit polygons (frame or path), their id and (optional) name columns.
    count_status : collection of str, default ("open",)
        Statuses whose hazards are counted. Other hazards are reported, not counted.
    pixel_rule : {"exact", "center", "all-touched"}, default "exact"
        Pixel weighting (``"exact"``: area fractions). ``progress``: a bar on stderr.
    client, engine : optional
        A Dask client to run the engine's tasks on (:mod:`geomines.engine.dask`), or an
        engine object (``LocalEngine``, ``DaskEngine``) to set partition and tile sizes.
    places, place_id, place_name, place_radius_m : optional
        Settlements (points or polygons), their id and name columns (else guessed) and
        the radius (m) of a point place's people: :attr:`Assessment.communities`.
    features, feature_class : optional
        Features of interest and their class column: hazards get
        ``nearest_<class>_m`` and ``<class>_within_<d>m``.
    priority : path, mapping or Profile, optional
        Priority profile (TOML), default profile if None: :attr:`Assessment.priority`.
    curve_m, age_sex : optional
        ``"START:STOP:STEP"`` metres (:attr:`Assessment.curve`); a directory of WorldPop
        age and sex rasters (:attr:`Assessment.by_age_sex`).

    Returns
    -------
    Assessment
        (CRSError: hazards without CRS; NoOverlapError: no counted hazard on the
        raster; InputError: bad options.)
    """
    options = options_of(rings_m, count_status, pixel_rule, engine, client)
    units = AdminUnits(admin, admin_id, admin_name) if admin is not None else None
    asked = _checked_uncertainty(curve_m, age_sex)  # before any counting
    result = _count_sources(hazards, population, options, units, load_report, progress, asked)
    return where_first(
        result,
        options.engine,
        places=Places(places, place_id, place_name, place_radius_m) if places is not None else None,
        features=_features(features, feature_class),
        priority=priority,
        admin_id=units.id_column if units is not None else None,
    )


def count_stages(
    hazards: gpd.GeoDataFrame | str | os.PathLike,
    population: PopulationRaster | str | os.PathLike | Sequence[str],
    options: Options,
    units: AdminUnits | None,
    load_report: LoadReport | None,
    progress: bool,
) -> tuple[Assessment, Dissolved]:
    """The counting stages, in order, with a progress bar on stderr when asked.

    Returns the assessment and the dissolved unions it was counted from (for
    :func:`geomines.compare`, which counts their differences).
    """
    steps = 3 + 2 * len(options.rings) + (1 if units is not None else 0)
    # a bar on stderr when asked and stderr is a terminal (tqdm's disable=None)
    with tqdm(
        total=steps,
        desc="geomines",
        unit="step",
        disable=True if not progress else None,
        file=sys.stderr,
        leave=False,
    ) as bar:
        projected = project(hazards, population, options, load_report)
        # read and checked before the counting; on a cluster their sums start after the
        # per-hazard stage, beside the rings
        started = (
            read_units(units.units, units.id_column, units.name_column, projected.raster)
            if units is not None
            else None
        )
        per_hazard = count_per_hazard(projected, options, bar)
        if started is not None:
            start_unit_sums(started, projected.raster, options.engine)
        ring_unions = count_rings(projected, per_hazard, options, bar)
        dissolved = dissolve(projected, per_hazard, ring_unions, options, bar)
        breakdowns = break_down(projected, per_hazard, dissolved, options, started, bar)
        count_population(projected, dissolved, options, bar)
        result = assemble(projected, per_hazard, dissolved, breakdowns, options, units)
    return result, dissolved


def _checked_uncertainty(
    curve_m: Any, age_sex: Any
) -> tuple[np.ndarray | None, list[AgeSexFile] | None]:
    """The curve's distances and the age and sex rasters, checked before counting."""
    distances = parse_curve(curve_m) if curve_m is not None else None
    return distances, find_age_sex(age_sex) if age_sex is not None else None


def _how_sure_and_who(
    result: Assessment,
    dissolved: Dissolved,
    options: Options,
    distances: np.ndarray | None,
    structure: list[AgeSexFile] | None,
) -> None:
    """The distance curve and the people by age and sex, when asked."""
    if distances is not None:
        counted = result.hazards["counted"].to_numpy(bool)
        shapes = hazard_shapes(result.hazards)[counted]  # the curve is not cut in slices
        result.curve = distance_curve(
            gpd.GeoSeries(shapes, crs=result.hazards.crs),
            result.population,
            options.engine,
            distances,
            result.totals.inside,
            known=result.totals.within_m,  # the rings' distances are not counted again
        )
    if structure is not None:
        names = layer_names(options.rings)
        layers = dict(zip(names, [dissolved.union, *dissolved.rings.values()], strict=True))
        result.by_age_sex = age_sex_table(structure, layers, result.population.crs, options.engine)
        totals = [result.totals.inside, *[result.people_within(d) for d in options.rings]]
        result.extra["age_sex_check"] = sum_check(
            result.by_age_sex, dict(zip(names, totals, strict=True))
        )


def _count_sources(
    hazards: gpd.GeoDataFrame | str | os.PathLike,
    population: Any,
    options: Options,
    units: AdminUnits | None,
    load_report: LoadReport | None,
    progress: bool,
    asked: tuple[np.ndarray | None, list[AgeSexFile] | None],
) -> Assessment:
    """The main grid's assessment, every other grid assessed in full in its own CRS too
    (its dissolved numbers kept in :attr:`Assessment.sources`), then the distance curve
    and the people by age and sex when ``asked``. The dissolved unions' tile pieces are
    let go on return: the result keeps their totals and the bands, and the priority
    list does not hold them.
    """
    sources = parse_sources(population)
    if len(sources) > 1 and not isinstance(hazards, gpd.GeoDataFrame):
        hazards = read_hazards(hazards)  # once, for every grid
    main, dissolved = count_stages(
        hazards, sources[0].raster, options, units, load_report, progress
    )
    sources[0].people = source_row(main.totals, options.rings)
    for source in sources[1:]:
        other, _ = count_stages(hazards, source.raster, options, units, load_report, False)
        source.people = source_row(other.totals, options.rings)
        del other
        release_memory()
    main.sources = sources
    _how_sure_and_who(main, dissolved, options, *asked)
    del dissolved
    release_memory()
    return main


def _features(
    features: gpd.GeoDataFrame | str | os.PathLike | None, feature_class: str | None
) -> Features | None:
    if features is None:
        return None
    if not feature_class:
        raise InputError(
            "Expected feature_class (--feature-class) naming the class column of the "
            "features of interest, got none."
        )
    return Features(features, feature_class)


def options_of(
    rings_m: Sequence[float] | str | None,
    count_status: Collection[str],
    pixel_rule: PixelRule,
    engine: Engine | None,
    client: Any,
) -> Options:
    """The options checked, and the engine chosen (local threads, or Dask on ``client``)."""
    if pixel_rule not in PIXEL_RULES:
        raise InputError(f"pixel_rule must be one of {PIXEL_RULES}, got {pixel_rule!r}.")
    statuses = tuple(dict.fromkeys(s.strip().lower() for s in count_status if s.strip()))
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown or not statuses:
        raise InputError(
            f"count_status must name statuses among {STATUSES}, got {unknown or statuses}."
        )
    if engine is None:
        if client is not None:
            from ..engine.dask import DaskEngine

            engine = DaskEngine(client, pixel_rule=pixel_rule)
        else:
            engine = LocalEngine(pixel_rule, executor=local_executor())
    elif engine.pixel_rule != pixel_rule:
        raise InputError(
            f"pixel_rule {pixel_rule!r} differs from the engine's "
            f"{engine.pixel_rule!r}; set it on the engine."
        )
    return Options(parse_rings(rings_m), statuses, pixel_rule, engine)


def project(
    hazards: gpd.GeoDataFrame | str | os.PathLike,
    population: PopulationRaster | str | os.PathLike | Sequence[str],
    options: Options,
    report: LoadReport | None = None,
) -> Projected:
    """Stage 1: read what was given as paths, fill the schema, mark the counted hazards,
    and move them onto the raster's grid (the raster is never resampled).
    """
    hazards, raster = _load_inputs(hazards, population)
    raster.start_sha256()  # for the method block: read beside the counting
    report = report or load_report(hazards)
    frame = _prepare(hazards)
    # the report is held apart: pandas deep-copies attrs on every operation on the frame
    frame.attrs = {}
    usable = (frame["load_status"] != "excluded").to_numpy()
    counted = usable & frame["status"].isin(options.statuses).to_numpy()
    frame["counted"] = counted
    src_crs = CRS.from_user_input(frame.crs)
    if src_crs != raster.crs:
        warnings.warn(
            f"Hazards are in {src_crs.name}; moved into the population raster's CRS "
            f"({raster.crs.name}). The raster is never resampled.",
            ReprojectionWarning,
            stacklevel=3,
        )
    shapes = hazard_shapes(frame)  # point records' circles are built when used
    geoms, circles = shapes.geoms, shapes.circles & usable
    plain = usable & ~circles
    geoms_r = np.array([shapely.Polygon()] * len(frame), dtype=object)
    geoms_r[circles] = geoms[circles]  # each circle is built, then moved, when used

    def move(g: np.ndarray) -> np.ndarray:
        return move_to_grid(g, src_crs, raster.crs, raster.bounds)

    lost: list[np.ndarray] = []  # positions of hazards whose area the move took away
    bounds = np.full((len(frame), 4), np.nan)
    coords = np.zeros(len(frame), dtype=np.int64)
    if plain.any():
        moved = move(geoms[plain])
        if src_crs != raster.crs:  # only a change of CRS can take a polygon's area away
            lost.append(np.nonzero(plain)[0][_lost_area(geoms[plain], moved)])
        geoms_r[plain] = moved
        bounds[plain] = shapely.bounds(geoms[plain])
        coords[plain] = shapely.get_num_coordinates(geoms[plain])
    for pos, built in shapes.slices(np.nonzero(circles)[0]):
        bounds[pos], coords[pos] = shapely.bounds(built), shapely.get_num_coordinates(built)
        if src_crs != raster.crs:
            lost.append(pos[_lost_area(built, move(built))])
    if lost and (gone := np.sort(np.concatenate(lost))).size:
        _refuse_lost(list(frame["hazard_id"].astype(str).to_numpy()[gone]), raster)
    radius = (
        np.where(circles, shapes.radius, np.nan)
        if shapes.radius is not None and circles.any()
        else None
    )
    return Projected(
        frame,
        raster,
        report,
        src_crs,
        Shapes(geoms, radius, src_crs),
        Shapes(geoms_r, radius, src_crs, move),
        usable,
        counted,
        bounds,
        coords,
    )


def count_per_hazard(p: Projected, options: Options, bar: tqdm) -> PerHazard:
    """Stage 2: people inside each hazard, its area in m², and each class group's union."""
    bar.set_postfix_str("people inside each hazard")
    if not p.counted.any():
        warnings.warn(
            "No hazard is counted (check count_status); totals are 0.", UserWarning, stacklevel=3
        )
    groups = class_groups(p.frame, p.usable)
    # the counted hazards' union and the precedence levels' are unions of groups' unions
    wanted = {"counted": p.counted, **precedence_masks(p.frame, p.counted)}
    sources = {name: groups_making(mask, groups) for name, mask in wanted.items()}
    derive = {name: src for name, src in sources.items() if src is not None}
    # the sums and the class groups' unions start now, a slice of hazards at a time when
    # circles are built for them: the workers (or, in-process, the task threads) count
    # while this process computes the areas
    builder = options.engine.union_builder(p.raster, len(groups) + len(derive))
    group_of = _group_of(groups, len(p.frame))
    started = []
    for pos in _slices(p):
        shapes = p.geoms_r[pos]
        started.append((pos, options.engine.sums_later(shapes, p.raster)))
        if groups:
            builder.add_many(_members(groups, group_of, pos, shapes))
        del shapes
    for j, src in enumerate(derive.values()):
        builder.derive(len(groups) + j, list(src))
    # the groups' totals are their columns; only the derived unions' pieces are used (the
    # dissolved hazards, the precedence levels)
    keep = range(len(groups), len(groups) + len(derive))
    unions_later = builder.result_later(pieces_of=keep) if groups else lambda: []
    p.frame["people_inside"] = np.nan  # the column's place; filled when the sums are in
    areas = np.full(len(p.frame), np.nan)
    for pos, shapes in p.geoms.slices(np.nonzero(p.usable)[0]):
        areas[pos] = area_m2(gpd.GeoSeries(shapes, crs=p.src_crs))
    p.frame["area_m2"] = areas
    unions = unions_later()
    derived = dict(zip(derive, unions[len(groups) :], strict=True)) if groups else {}
    columns = {"people_inside": [u.total.people for u in unions[: len(groups)]]}
    sums = _joined([(pos, take()) for pos, take in started], len(p.frame))
    bar.update()
    kept = [sums.people, sums.weight, sums.weight_nodata, sums.area, sums.area_in_raster]
    inside = ZonalSums(*(np.where(p.usable, a, 0.0) for a in kept))
    p.frame["people_inside"] = np.where(p.usable, sums.people, np.nan)
    return PerHazard(inside, groups, columns, sources["counted"], derived)


def _group_of(groups: list[tuple[tuple[Any, ...], np.ndarray]], n: int) -> np.ndarray:
    """Each of ``n`` hazards' class group (-1: in none)."""
    out = np.full(n, -1, dtype=np.int64)
    for k, (_, pos) in enumerate(groups):
        out[pos] = k
    return out


def _members(
    groups: list[tuple[tuple[Any, ...], np.ndarray]],
    group_of: np.ndarray,
    pos: np.ndarray,
    shapes: np.ndarray,
) -> list[tuple[int, np.ndarray]]:
    """Each class group's members among the hazards at ``pos`` (``shapes``: theirs), in
    the groups' order: all of each group when ``pos`` is every hazard.
    """
    if len(pos) == len(group_of):
        return [(k, shapes[members]) for k, (_, members) in enumerate(groups)]
    out = []
    for k, (_, members) in enumerate(groups):
        here = np.isin(members, pos, assume_unique=True)
        if here.any():
            out.append((k, shapes[np.searchsorted(pos, members[here])]))
    return out


def _slices(p: Projected) -> list[np.ndarray]:
    """The hazards' positions in slices whose circles are built together: every hazard
    at once when no circle is pending or they are :data:`~geomines.shapes.SLICE` at
    most; else the others at once, then the circles a slice at a time, each a compact
    area (so a union tile is merged from few slices, not from every one).
    """
    if p.geoms_r.radius is None or len(p.frame) <= shapes_module.SLICE:
        return [np.arange(len(p.frame))]
    circles = p.geoms_r.circles
    rest = np.nonzero(~circles)[0]
    where = np.nonzero(circles)[0]
    built = [where[s] for s in spatial_slices(p.bounds[where], shapes_module.SLICE)]
    return ([rest] if len(rest) else []) + [s for s in built if len(s)]


def _joined(parts: list[tuple[np.ndarray, ZonalSums]], n: int) -> ZonalSums:
    """Sums of slices of the geometries (``(positions, sums)``), as one for all ``n``."""
    if len(parts) == 1 and len(parts[0][0]) == n:
        return parts[0][1]
    fields = ("people", "weight", "weight_nodata", "area", "area_in_raster")
    out = ZonalSums(*(np.zeros(n) for _ in fields))
    for pos, sums in parts:
        for f in fields:
            getattr(out, f)[pos] = getattr(sums, f)
    return out


def count_rings(p: Projected, per: PerHazard, options: Options, bar: tqdm) -> dict[float, UnionSum]:
    """Stage 3: each hazard's people within each ring distance, and the dissolved rings.

    One distance at a time, and within it one batch of hazards at a time: a batch's
    buffers are counted, merged into the unions and dropped; a class group's union
    tiles are counted and dropped once no later batch can reach them. Memory: one
    batch, the open tiles and the union of the counted hazards, however many hazards.
    """
    batches = spatial_batches(p.bounds, p.coords, np.nonzero(p.usable)[0])
    group_of = _group_of(per.groups, len(p.frame))
    out: dict[float, UnionSum] = {}
    for d in options.rings:
        bar.set_postfix_str(f"buffers and people within {format_m(d)} m")
        out[d] = _one_ring(p, per, options.engine, d, batches, group_of)
        bar.update(2)
    return out


def _one_ring(
    p: Projected,
    per: PerHazard,
    engine: Engine,
    d: float,
    batches: list[np.ndarray],
    group_of: np.ndarray,
) -> UnionSum:
    """One ring distance: per-hazard people within ``d`` and the dissolved ring.

    One union builder holds the class groups (small tiles, closed early) and, as its
    last group, the counted hazards' ring (the engine's union tiles, kept whole): each
    batch's buffers are built where the engine runs, merged into the groups, and
    dropped. The counted ring is built from the counted groups' tile pieces as their
    tiles close (a union of a few unions, not of every buffer again).
    """
    groups = len(per.groups)
    builder = engine.union_builder(p.raster, groups + 1, tile=CLASS_TILE, pieces_of=[groups])
    reach = reach_boxes(p.bounds, batches, d, p.src_crs, p.raster)
    closing = closing_tiles(reach, p.raster, builder.side)
    # the counted ring is the union of the counted groups' rings, when they make it up
    derive = per.counted_groups or None
    ahead = max(0, engine.lookahead)
    started = [engine.buffer_batch(p.geoms[pos], p.src_crs, d, p.raster) for pos in batches[:ahead]]
    people = []
    for b, pos in enumerate(batches):
        if b + ahead < len(batches):  # the next batches' buffers are built meanwhile
            nxt = batches[b + ahead]
            started.append(engine.buffer_batch(p.geoms[nxt], p.src_crs, d, p.raster))
        batch = started.pop(0)
        members = [(int(k), group_of[pos] == k) for k in np.unique(group_of[pos]) if k >= 0]
        if derive is None:  # the counted ring from the buffers themselves
            members.append((groups, p.counted[pos]))
        builder.add_buffers(batch, members, within=reach[b])
        people.append(engine.batch_people(batch, p.raster))
        del batch
        if closing[b]:
            if derive is not None:  # into the counted ring before the tiles are dropped
                builder.derive(groups, derive, closing[b])
            builder.flush(closing[b], range(groups))
        release_memory()
    if derive is not None:
        builder.derive(groups, derive)
    people_d = np.full(len(p.frame), np.nan)
    for pos, values in zip(batches, engine.gather(people), strict=True):
        people_d[pos] = values
    p.frame[ring_column(d)] = people_d
    unions = builder.result(pieces_of=[groups])  # the class groups' totals alone
    if per.groups:
        per.class_columns[ring_column(d)] = [u.total.people for u in unions[:groups]]
    return unions[groups]


def dissolve(
    p: Projected,
    per: PerHazard,
    ring_unions: dict[float, UnionSum],
    options: Options,
    bar: tqdm,
) -> Dissolved:
    """Stage 4: the union of the counted hazards, the overlap check, and the totals."""
    bar.set_postfix_str("dissolved hazards")
    union = per.derived.get("counted") or _union_of(p, p.counted, options.engine)
    bar.update()
    reach = ring_unions[options.rings[-1]] if options.rings else union
    outside = _check_overlap(p, reach)
    return Dissolved(union, ring_unions, outside)


def _union_of(p: Projected, mask: np.ndarray, engine: Engine) -> UnionSum:
    """People in the union of the hazards in ``mask`` (on the grid), a slice of them at a
    time when circles are built for them.
    """
    builder = engine.union_builder(p.raster, 1)
    for _, shapes in p.geoms_r.slices(np.nonzero(mask)[0]):
        builder.add(0, shapes)
    return builder.result()[0]


def count_population(p: Projected, dissolved: Dissolved, options: Options, bar: tqdm) -> None:
    """Stage 5b: the people in the whole raster, after the breakdowns: the admin units
    cover most of it, and the blocks their counting decoded are not decoded again.
    """
    bar.set_postfix_str("population total")
    dissolved.population = options.engine.total(p.raster)
    bar.update()


def break_down(
    p: Projected,
    per: PerHazard,
    dissolved: Dissolved,
    options: Options,
    units: Units | None,
    bar: tqdm,
) -> Breakdowns:
    """Stage 5: by class precedence, by class group, by admin unit (``units``: as
    :func:`read_units` gives them), the exclusive bands, and the reconciliation checks
    of each.
    """
    engine, rings = options.engine, options.rings
    by_precedence, levels = precedence_table(
        p.frame,
        p.geoms_r,
        p.counted,
        dissolved.union,
        rings,
        dissolved.rings,
        p.raster,
        engine,
        [per.derived.get(f"level{k}") for k in range(len(CLASS_PRECEDENCE) - 1)],
    )
    # the bands (for the map and their check) and the checks' parts are made and counted
    # where the engine runs (on the workers, or the task threads) while this process
    # goes on to the admin units; the bands come back once those are done
    land_rule = checks_land_rule(p.raster)
    bands = band_parts_later(dissolved.union, rings, dissolved.rings, engine, p.raster, land_rule)
    checks_later = reconcile_rings(
        dissolved.union, rings, dissolved.rings, levels, engine, p.raster, bands
    )
    # the precedence levels' pieces are the counting's now: let go here, not after the
    # admin units (1,000,000 hazards: ~80 MB of tile pieces)
    del levels
    per.derived = {k: u for k, u in per.derived.items() if not k.startswith("level")}
    by_class = class_table(p.frame, per.groups, per.class_columns, rings)
    out = Breakdowns(by_precedence, by_class, gpd.GeoDataFrame(), {})
    admin_check = None
    if units is not None:
        bar.set_postfix_str("by admin unit")
        out.admin, out.by_admin, admin_check, on_grid = admin_table(
            units, p.raster, dissolved.union, rings, dissolved.rings, engine
        )
        ids = units.ids.to_numpy()
        p.frame["admin_id"] = admin_of_hazards(p.geoms_r, on_grid, ids)
        release_memory()
        bar.update()
    out.checks.update(checks_later())
    if admin_check is not None:
        out.checks["admin_units_add_up"] = admin_check
    # the bands after the admin units: the two big geometry products are not held at
    # once; their pieces are held by this list alone, which band_frame empties
    pieces = bands()[0]
    del bands, checks_later
    out.bands = band_frame(dissolved.union, rings, dissolved.rings, p.raster.crs, pieces)
    release_memory()
    return out


def assemble(
    p: Projected,
    per: PerHazard,
    dissolved: Dissolved,
    breakdowns: Breakdowns,
    options: Options,
    units: AdminUnits | None,
) -> Assessment:
    """Stage 6: the :class:`Assessment`, with its checks and method stated."""
    ring_sums = {d: u.total for d, u in dissolved.rings.items()}
    checks = quality_checks(
        p.frame,
        per.inside,
        dissolved.union.total,
        ring_sums,
        options.rings,
        p.raster,
        breakdowns.by_admin,
        dissolved.totals.population,
        breakdowns.checks,
    )
    method = method_block(
        p.raster, options.rings, options.statuses, options.pixel_rule, p.report, p.frame, checks
    )
    # the counting is done: the decoded blocks (up to the raster's cache_bytes) go
    p.raster.drop_cache()
    release_memory()
    return Assessment(
        hazards=p.frame,
        bands=breakdowns.bands,
        totals=dissolved.totals,
        rings_m=options.rings,
        population=p.raster,
        method=method,
        checks=checks,
        by_admin=breakdowns.by_admin,
        admin=breakdowns.admin,
        by_class=breakdowns.by_class,
        by_precedence=breakdowns.by_precedence,
        extra={
            "hazard_path": p.report.path if p.report is not None else None,
            "admin_path": units.path if units is not None else None,
            "outside_raster": dissolved.outside_raster,
        },
        load_report=p.report,
    )


def _lost_area(src: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Which hazards' area vanished or broke in the raster's CRS (``src`` and
    ``moved``: their geometries before and after the move).

    A polygon with area in its own CRS must keep area in the raster's CRS; one that
    collapses (or gets non-finite coordinates: outside the projection's valid area)
    would otherwise count as 0 people without a word.
    """
    out = np.zeros(len(src), dtype=bool)
    had_area = np.nan_to_num(shapely.area(src)) > 0
    if not had_area.any():
        return out
    idx = np.nonzero(had_area)[0]
    after = moved[idx]
    xy, owner = shapely.get_coordinates(after, return_index=True)
    finite = np.ones(len(idx), dtype=bool)
    finite[np.unique(owner[~np.isfinite(xy).all(axis=1)])] = False
    out[idx] = ~finite | ~(np.nan_to_num(shapely.area(after)) > 0)
    return out


def _refuse_lost(ids: list[Any], raster: PopulationRaster) -> None:
    """Refuse, naming them, hazards whose area vanished or broke in the raster's CRS."""
    raise CRSError(
        f"Expected every hazard polygon to keep its area in the population raster's CRS "
        f"({raster.describe()['crs']}); {len(ids)} lost it or left the projection's valid "
        f"area: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}. Check that the raster "
        "covers them, or split hazards that reach a pole or cross ±180°."
    )


def _check_overlap(p: Projected, reach: UnionSum) -> list[str]:
    """Refuse when no counted hazard (or its largest ring) touches the raster; warn by id
    when some counted hazards lie wholly outside it, and return their ids.
    """
    counted, raster = p.counted, p.raster
    if not counted.any():
        return []
    box = shapely.box(*raster.bounds)
    on_raster = np.zeros(len(counted), dtype=bool)
    for pos, shapes in p.geoms_r.slices(np.nonzero(counted)[0]):
        on_raster[pos] = shapely.intersects(shapes, box)
    ids = p.frame["hazard_id"].astype(str).to_numpy()
    if reach.total.area_in_raster <= 0 and not on_raster.any():
        _raise_if_swapped(p.geoms[counted], p.src_crs, raster)
        west, south, east, north = (float(v) for v in raster.bounds)
        hx0, hy0, hx1, hy1 = (float(v) for v in shapely.total_bounds(p.geoms_r[counted]))
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
    return [str(i) for i in ids[off]]


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
