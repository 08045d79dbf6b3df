"""The assessment: people inside and near hazards, per hazard, dissolved, by admin unit.

Notes
-----
Population is extensive. For any area A the people in it are
``N(A) = Σ_i v_i · f_i(A)`` with ``v_i`` the people in pixel *i* and ``f_i(A)``
the fraction of the pixel that A covers (see :mod:`geomines.exposure`).

- *Per hazard*: ``N(h)`` and ``N(buffer(h, d))`` for each ring distance ``d``.
  Per-hazard numbers overlap when hazards overlap or are near each other.
- *Dissolved*: ``N(U)`` for the union U of the counted hazards, and
  ``N(buffer(U, d))`` (computed as the union of the hazards' buffers, which is
  the same set). Exclusive bands are differences of these nested sets, so
  nobody is counted twice.
"""

from __future__ import annotations

import os
import re
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

from ._parallel import release_memory
from ._version import __version__
from .errors import CoverageWarning, CRSError, InputError, NoOverlapError, ReprojectionWarning
from .checks import (
    Reconciliation,
    outside_region,
    plain_rule,
    reconcile_rings,
    tile_differences,
)
from .exposure import (
    PIXEL_RULES,
    Engine,
    LocalEngine,
    PixelRule,
    UnionSum,
    ZonalSum,
    _morton,
)
from .hazards import LoadReport, load_report, read_hazards, read_vector
from .population import PopulationRaster, read_population
from .rings import (
    CLUSTER_DEG,
    QUAD_SEGS,
    _WGS84,
    _crs_key,
    _transformer,
    area_m2,
    buffers_m,
    format_m,
    move_to_grid,
    parse_rings,
    transform_geoms,
    wrap_longitudes,
)

__all__ = ["Assessment", "assess", "ring_column"]

STATUSES = ("open", "cancelled", "reduced", "cleared")
DISSOLVE_RULE = (
    "union of the counted hazards' polygons; ring d is the union of each counted hazard's "
    "buffer of d metres (= buffer of the union); bands are the differences of these nested "
    "sets, so nobody is counted twice"
)


def ring_column(distance_m: float) -> str:
    """Column name for people within a distance: ``people_within_500m``."""
    return f"people_within_{_fmt_m(distance_m)}m"


_fmt_m = format_m


@dataclass
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    hazards : geopandas.GeoDataFrame
        One row per input hazard (input CRS) with ``counted``, ``people_inside``
        and ``people_within_<d>m`` (cumulative, inside included).
    bands : geopandas.GeoDataFrame
        Exclusive bands around the dissolved counted hazards (EPSG:4326):
        ``band``, ``from_m``, ``to_m``, ``people``.
    totals : dict
        ``inside``, ``within_m`` ({"500": people, ...}, cumulative) and
        ``population`` (the raster's total).
    by_admin : pandas.DataFrame or None
        One row per admin unit plus one for people outside every unit.
    by_class : pandas.DataFrame
        Dissolved people per land class × contamination × status (groups overlap).
    by_precedence : pandas.DataFrame
        People inside CHA, then SHA, then other land, then each ring band: each
        person once, in the highest class that covers them; adds up to the total.
    checks : dict
        Reconciliation and data-quality checks.
    method : dict
        What was counted and how.
    """

    hazards: gpd.GeoDataFrame
    bands: gpd.GeoDataFrame
    totals: dict[str, Any]
    rings_m: tuple[float, ...]
    population: PopulationRaster
    method: dict[str, Any]
    checks: dict[str, Any]
    by_admin: pd.DataFrame | None = None
    admin: gpd.GeoDataFrame | None = None
    by_class: pd.DataFrame | None = None
    by_precedence: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: How the hazard file was read (None for a hand-made frame).
    load_report: LoadReport | None = None

    @property
    def people_inside(self) -> float:
        """People inside the dissolved counted hazards."""
        return float(self.totals["inside"])

    def people_within(self, distance_m: float) -> float:
        """People within ``distance_m`` of the dissolved counted hazards (inside included)."""
        return float(self.totals["within_m"][_fmt_m(distance_m)])

    @property
    def band_table(self) -> pd.DataFrame:
        """The exclusive bands as a table, with a cumulative column and a total row."""
        table = pd.DataFrame(self.bands.drop(columns="geometry"))
        table["cumulative"] = table["people"].cumsum()
        return table

    def summary(self) -> dict[str, Any]:
        """The JSON summary written to ``summary.json``."""
        within = {k: float(v) for k, v in self.totals["within_m"].items()}
        out: dict[str, Any] = {
            "geomines_version": __version__,
            "people": {
                "inside": float(self.totals["inside"]),
                "within_m": within,
                "rings": [
                    {"band": b, "from_m": _none(f), "to_m": _none(t), "people": float(p)}
                    for b, f, t, p in zip(self.bands["band"], self.bands["from_m"],
                                          self.bands["to_m"], self.bands["people"],
                                          strict=True)
                ],
                "sum_of_per_hazard_inside": float(
                    self.hazards.loc[self.hazards["counted"], "people_inside"].sum()),
            },
            "hazards": {
                "count": len(self.hazards),
                "counted": int(self.hazards["counted"].sum()),
                "by_status": {str(k): int(v) for k, v in
                              self.hazards["status"].value_counts().sort_index().items()},
                "by_land_class": {str(k): int(v) for k, v in
                                  self.hazards["land_class"].value_counts().sort_index().items()},
                "excluded": int((self.hazards["load_status"] == "excluded").sum()),
                "repaired": int((self.hazards["load_status"] == "repaired").sum()),
                **self._load_notes(),
            },
            "population": {
                "total": float(self.totals["population"]),
                **self.population.describe(),
            },
            "checks": self.checks,
            "method": self.method,
        }
        if self.by_admin is not None:
            out["by_admin"] = _records(self.by_admin)
        if self.by_precedence is not None:
            out["by_class_precedence"] = _records(self.by_precedence)
        if self.by_class is not None:
            out["by_class"] = _records(self.by_class)
        return out

    def _load_notes(self) -> dict[str, Any]:
        """What loading noted and which rows it excluded or found special, by id."""
        frame = self.hazards
        excluded = frame["load_status"].to_numpy() == "excluded"
        rows = [{"row": int(i) + 1, "hazard_id": str(h), "reason": str(n)}
                for i, (h, n) in enumerate(zip(frame["hazard_id"], frame["load_note"],
                                               strict=True)) if excluded[i]]
        kinds = np.array([g.geom_type if g is not None and not g.is_empty else ""
                          for g in frame.geometry])
        polygonal = np.char.find(kinds.astype(str), "Polygon") >= 0
        special = ~excluded & ~polygonal & (kinds != "")
        report = self.load_report
        return {
            "notes": list(report.notes) if report is not None else [],
            "encoding": report.encoding if report is not None else None,
            "duplicate_ids": dict(report.duplicate_ids) if report is not None else {},
            "excluded_rows": rows,
            "points_and_lines": [str(h) for h in frame.loc[special, "hazard_id"]]
            if polygonal[~excluded].any() else [],
            "outside_raster": list(self.extra.get("outside_raster", [])),
        }

    def _repr_html_(self) -> str:
        rows = [("People inside counted hazards", self.totals["inside"])]
        for d in self.rings_m:
            rows.append((f"People within {_fmt_m(d)} m", self.people_within(d)))
        rows.append(("Population in raster", self.totals["population"]))
        body = "".join(
            f"<tr><th style='text-align:left'>{label}</th><td>{value:,.0f}</td></tr>"
            for label, value in rows
        )
        return (
            "<table><caption>geomines assessment: "
            f"{int(self.hazards['counted'].sum())} of {len(self.hazards)} hazards counted"
            f"</caption>{body}</table>"
        )


def _none(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and np.isnan(v) else
                        (float(v) if isinstance(v, np.floating) else v)) for k, v in rec.items()})
    return out


def _load_inputs(hazards: gpd.GeoDataFrame | str | os.PathLike,
                 population: PopulationRaster | str | os.PathLike | Sequence[str]
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
    defaults = {"land_class": "other", "contamination": "unknown", "status": "open",
                "evidence": "none", "load_status": "ok", "load_note": ""}
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
        raster windows (see :mod:`geomines.distributed`); the numbers are the same.
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
        raise InputError(f"count_status must name statuses among {STATUSES}, got {unknown or statuses}.")
    rings = parse_rings(rings_m)
    if engine is None:
        engine = LocalEngine(pixel_rule)
        if client is not None:
            from .distributed import DaskEngine

            engine = DaskEngine(client, pixel_rule=pixel_rule)
    elif engine.pixel_rule != pixel_rule:
        raise InputError(f"pixel_rule {pixel_rule!r} differs from the engine's "
                         f"{engine.pixel_rule!r}; set it on the engine.")
    steps = 3 + 2 * len(rings) + (1 if admin is not None else 0)
    # a bar on stderr when asked and stderr is a terminal (tqdm's disable=None)
    bar = tqdm(total=steps, desc="geomines", unit="step", disable=True if not progress else None,
               file=sys.stderr, leave=False)
    try:
        admin_path = str(admin) if admin is not None and not isinstance(
            admin, gpd.GeoDataFrame) else None
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
            warnings.warn("No hazard is counted (check count_status); totals are 0.",
                          UserWarning, stacklevel=2)
        groups = _class_groups(frame, usable)
        class_columns: dict[str, list[float]] = {
            "people_inside": [u.total.people for u in engine.unions(
                [geoms_r[pos] for _, pos in groups], raster)] if groups else []}
        group_of = np.full(len(frame), -1, dtype=np.int64)
        for k, (_, pos) in enumerate(groups):
            group_of[pos] = k
        batches = _batches(geoms, np.nonzero(usable)[0])
        # one ring distance at a time, and within it one batch of hazards at a time:
        # a batch's buffers are counted, merged into the unions and dropped; a class
        # group's union tiles are counted and dropped once no later batch can reach
        # them. Memory: one batch, the open tiles and the union of the counted hazards,
        # however many hazards there are.
        ring_u: dict[float, UnionSum] = {}
        for d in rings:
            bar.set_postfix_str(f"buffers and people within {_fmt_m(d)} m")
            people_d = np.full(len(frame), np.nan)
            dissolved = engine.union_builder(raster, 1)
            by_group = engine.union_builder(raster, len(groups), tile=CLASS_TILE)
            closing = _closing_tiles(geoms, batches, d, src_crs, raster,
                                     getattr(by_group, "side", None))
            for b, pos in enumerate(batches):
                buf = _on_grid(buffers_m(gpd.GeoSeries(geoms[pos], crs=src_crs), [d],
                                         to_crs=raster.crs)[0].values, raster)
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

        within = {_fmt_m(d): ring_sums[d].people for d in rings}
        bar.set_postfix_str("population total")
        total_pop = engine.total(raster)
        bar.update()
        totals = {"inside": union_sum_.people, "within_m": within, "population": total_pop}

        by_precedence, levels = _by_precedence(frame, geoms_r, counted, union_u, rings, ring_u,
                                               raster, engine)
        ring_checks = reconcile_rings(union_u, rings, ring_u, levels, engine, raster)
        del levels
        by_class = _by_class(frame, groups, class_columns, rings)

        by_admin = admin_frame = None
        if admin is not None:
            bar.set_postfix_str("by admin unit")
            admin_frame, by_admin, admin_check = _by_admin(admin, admin_id, admin_name, raster,
                                                           union_u, rings, ring_u, total_pop,
                                                           totals, engine)
            frame["admin_id"] = _admin_of(geoms_r, admin_frame, admin_id, raster.crs,
                                          raster.bounds)
            release_memory()
            bar.update()

        # the bands after the admin units: the two big geometry products are not held
        # at once (memory)
        bands = _bands(union_u, rings, ring_u, raster.crs)
        release_memory()
        checks = _checks(frame, inside, union_sum_, ring_sums, rings, raster, by_admin,
                         total_pop)
        for name, rec in ring_checks.items():
            checks[name] = rec.to_dict()
        if by_admin is not None:
            checks["admin_units_add_up"] = admin_check.to_dict()
        method = _method(raster, rings, statuses, pixel_rule, report, frame)
        method["share_of_hazard_area_on_nodata"] = checks["share_of_hazard_area_on_nodata"]
        method["share_of_hazard_area_outside_raster"] = checks["share_of_hazard_area_outside_raster"]
        return Assessment(hazards=frame, bands=bands, totals=totals, rings_m=rings,
                          population=raster, method=method, checks=checks, by_admin=by_admin,
                          admin=admin_frame, by_class=by_class, by_precedence=by_precedence,
                          extra={"hazard_path": report.path if report is not None else None,
                                 "admin_path": admin_path,
                                 "outside_raster": _outside_raster(frame, geoms_r, counted,
                                                                   raster)},
                          load_report=report)
    finally:
        bar.close()


#: Side, in pixels, of the union tiles of the class groups' rings (only their totals
#: are kept, so small tiles that close early, counted and dropped, bound the memory).
CLASS_TILE = 256
#: Input coordinates per batch of hazards buffered at once (plus a circle's worth per
#: hazard): bounds the memory of the ring stage, whatever the number of hazards.
BATCH_COORDS = 500_000


def _batches(geoms: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
    """``positions`` in spatially coherent batches of at most ~BATCH_COORDS coordinates.

    Hazards are ordered along a Z-order curve of their bounding-box centres, so a
    batch covers a compact area (few union tiles, shared raster windows).
    """
    if positions.size == 0:
        return []
    b = shapely.bounds(geoms[positions])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    span = max(float(np.ptp(cx)), float(np.ptp(cy)), 1e-12)
    scale = 65535 / span
    order = np.argsort(_morton(((cx - cx.min()) * scale).astype(np.int64),
                               ((cy - cy.min()) * scale).astype(np.int64)), kind="stable")
    weight = shapely.get_num_coordinates(geoms[positions[order]]) + 4 * QUAD_SEGS
    cuts = np.flatnonzero(np.diff(np.cumsum(weight) // BATCH_COORDS)) + 1
    return [np.sort(part) for part in np.split(positions[order], cuts)]


#: Metres per degree of latitude, a lower bound (WGS 84: 110,574 at the equator).
_M_PER_DEG_LAT = 110_000.0
#: Metres per degree of longitude at the equator, a lower bound (WGS 84: 111,319.5).
_M_PER_DEG_LON = 111_000.0


def _closing_tiles(geoms: np.ndarray, batches: list[np.ndarray], distance_m: float,
                   crs: CRS, raster: PopulationRaster, side: int | None
                   ) -> list[set[tuple[int, int]]]:
    """For each batch, the union tiles that no later batch's buffers can reach.

    A buffer of ``distance_m`` around a batch lies within the batch's lon/lat box
    grown by ``distance_m`` (with lower bounds on the length of a degree, so the
    growth is never too small), moved into the raster's CRS with densified edges and
    grown by 1%. When that cannot be bounded (near a pole, across ±180°, a CRS that
    does not transform), the batch reaches every tile and nothing closes before it.
    """
    out: list[set[tuple[int, int]]] = [set() for _ in batches]
    if side is None or len(batches) < 2:
        return out
    tr = raster.transform
    last: dict[tuple[int, int], int] = {}
    for b, pos in enumerate(batches):
        box = _reach_box(geoms[pos], distance_m, crs, raster.crs)
        if box is None:
            last = {key: b for key in last}  # everything stays open until this batch
            continue
        minx, miny, maxx, maxy = box
        c0, c1 = sorted((int(np.floor((minx - tr.c) / tr.a / side)),
                         int(np.floor((maxx - tr.c) / tr.a / side))))
        r0, r1 = sorted((int(np.floor((maxy - tr.f) / tr.e / side)),
                         int(np.floor((miny - tr.f) / tr.e / side))))
        # union tiles exist only over the raster (geometries are cut to it)
        c0, c1 = max(c0, 0), min(c1, (raster.width - 1) // side)
        r0, r1 = max(r0, 0), min(r1, (raster.height - 1) // side)
        if (r1 - r0 + 1) * (c1 - c0 + 1) > 100_000:  # a batch spread over the globe
            return [set() for _ in batches]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                last[(r, c)] = b
    for key, b in last.items():
        out[b].add(key)
    out[-1] = set()  # the last batch: result() counts what is left
    return out


def _reach_box(geoms: np.ndarray, distance_m: float, crs: CRS, dst: CRS
               ) -> tuple[float, float, float, float] | None:
    """A box in ``dst`` holding every point within ``distance_m`` of the geometries."""
    west, south, east, north = shapely.total_bounds(geoms)
    if crs != _WGS84:
        try:
            to_lonlat = _transformer(_crs_key(crs), _crs_key(_WGS84))
            west, south, east, north = to_lonlat.transform_bounds(west, south, east, north,
                                                                  densify_pts=21)
        except Exception:  # noqa: BLE001 - a CRS that does not transform: no bound
            return None
    if not np.all(np.isfinite([west, south, east, north])):
        return None
    dlat = distance_m / _M_PER_DEG_LAT
    south, north = south - dlat, north + dlat
    if south < -89 or north > 89:
        return None
    # a path of length d moves at most d / (m per degree of longitude at its most
    # poleward latitude) in longitude
    dlon = distance_m / (_M_PER_DEG_LON * np.cos(np.radians(max(-south, north))))
    west, east = west - dlon, east + dlon
    if west < -180 or east > 180:
        return None
    if dst == _WGS84:
        return west, south, east, north
    try:
        x0, y0, x1, y1 = _transformer(_crs_key(_WGS84), _crs_key(dst)).transform_bounds(
            west, south, east, north, densify_pts=21)
    except Exception:  # noqa: BLE001
        return None
    if not np.all(np.isfinite([x0, y0, x1, y1])):
        return None
    gx, gy = 0.01 * (x1 - x0), 0.01 * (y1 - y0)
    return x0 - gx, y0 - gy, x1 + gx, y1 + gy
def _on_grid(geoms: np.ndarray, raster: PopulationRaster) -> np.ndarray:
    """Lon/lat geometries moved into the grid's 360° span when it is not -180..180."""
    west, _, east, _ = raster.bounds
    if raster.is_geographic and (west < -180 - 1e-9 or east > 180 + 1e-9):
        return wrap_longitudes(geoms, west)
    return geoms


def _check_moved(frame: gpd.GeoDataFrame, usable: np.ndarray, geoms: np.ndarray,
                 moved: np.ndarray, raster: PopulationRaster) -> None:
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


def _outside_raster(frame: gpd.GeoDataFrame, geoms_r: np.ndarray, counted: np.ndarray,
                    raster: PopulationRaster) -> list[str]:
    """Ids of counted hazards wholly outside the raster's extent."""
    off = counted & ~shapely.intersects(geoms_r, shapely.box(*raster.bounds))
    return frame.loc[off, "hazard_id"].astype(str).tolist()


def _check_overlap(frame: gpd.GeoDataFrame, geoms: np.ndarray, geoms_r: np.ndarray,
                   counted: np.ndarray, inside: list[ZonalSum], reach: UnionSum,
                   src_crs: CRS, raster: PopulationRaster) -> None:
    """Refuse when no counted hazard (or its largest ring) touches the raster; warn by id
    when some counted hazards lie wholly outside it."""
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
            + ". Use a raster that covers them.", CoverageWarning, stacklevel=4)


def _raise_if_swapped(geoms: np.ndarray, crs: CRS, raster: PopulationRaster) -> None:
    """No overlap, but the hazards with x and y swapped would overlap: say so."""
    if not crs.is_geographic:
        return
    swapped = shapely.transform(geoms, lambda xy: xy[:, ::-1].copy())
    try:
        moved = transform_geoms(swapped, crs, raster.crs)
    except Exception:  # noqa: BLE001 - swapped coordinates may not transform at all
        return
    box = shapely.box(*raster.bounds)
    if shapely.intersects(moved, box).any():
        raise CRSError(
            "Expected hazards over the population raster; got none there, but with "
            "longitude and latitude swapped they would be: the coordinates look like "
            "lat/lon written as x/y. Write them as lon, lat (x, y) in the file."
        )


def _admin_of(geoms_r: np.ndarray, admin: gpd.GeoDataFrame, admin_id: str, crs: CRS,
              bounds: tuple[float, float, float, float]) -> list[str | None]:
    """The admin unit holding each hazard's representative point (None if outside all)."""
    units = move_to_grid(np.asarray(shapely.make_valid(admin.geometry.values), dtype=object),
                         CRS.from_user_input(admin.crs), crs, bounds)
    ids = admin[admin_id].astype(str).to_numpy()
    out: list[str | None] = [None] * len(geoms_r)
    ok = np.array([g is not None and not g.is_empty for g in geoms_r], dtype=bool)
    if not ok.any():
        return out
    points = shapely.point_on_surface(geoms_r[ok])
    tree = shapely.STRtree(units)
    p_idx, u_idx = tree.query(points, predicate="within")
    positions = np.nonzero(ok)[0]
    for p, u in zip(p_idx, u_idx, strict=True):
        if out[positions[p]] is None:
            out[positions[p]] = ids[u]
    return out


#: Land classes from highest to lowest: a person covered by several is counted once,
#: in the highest.
CLASS_PRECEDENCE = ("CHA", "SHA", "other")


def _by_precedence(frame: gpd.GeoDataFrame, geoms_r: np.ndarray, counted: np.ndarray,
                   union_u: UnionSum, rings: tuple[float, ...], ring_u: dict[float, UnionSum],
                   raster: PopulationRaster, engine: Engine
                   ) -> tuple[pd.DataFrame, list[UnionSum]]:
    """People by land class with precedence (CHA over SHA over other over ring bands).

    ``N(CHA)``, ``N(CHA ∪ SHA) − N(CHA)``, ``N(all) − N(CHA ∪ SHA)``, then the
    exclusive ring bands: the rows add up to the people within the largest ring.
    """
    classes = frame["land_class"].to_numpy(dtype=object)
    rank = np.where(classes == "CHA", 0, np.where(classes == "SHA", 1, 2))
    rows = []
    previous = 0.0
    levels = engine.unions([geoms_r[counted & (rank <= level)]
                            for level in range(len(CLASS_PRECEDENCE) - 1)], raster)
    for level, name in enumerate(CLASS_PRECEDENCE):
        if level == len(CLASS_PRECEDENCE) - 1:
            people = union_u.total.people
        else:
            people = levels[level].total.people
        rows.append({"part": f"inside {name}", "from_m": None, "to_m": 0.0,
                     "people": people - previous,
                     "hazards": int((counted & (rank == level)).sum())})
        previous = people
    prev_d = 0.0
    for d in rings:
        people = ring_u[d].total.people
        rows.append({"part": f"{_fmt_m(prev_d)}-{_fmt_m(d)} m", "from_m": prev_d, "to_m": d,
                     "people": people - previous, "hazards": None})
        previous, prev_d = people, d
    return pd.DataFrame(rows), levels


def _class_groups(frame: gpd.GeoDataFrame, usable: np.ndarray
                  ) -> list[tuple[tuple[Any, ...], np.ndarray]]:
    """Usable hazards grouped by land class × contamination × status: (key, positions)."""
    keys = ["land_class", "contamination", "status"]
    table = frame.loc[usable, keys]
    return [(values if isinstance(values, tuple) else (values,),
             frame.index.get_indexer(idx))
            for values, idx in table.groupby(keys, sort=True).groups.items()]


def _by_class(frame: gpd.GeoDataFrame, groups: list[tuple[tuple[Any, ...], np.ndarray]],
              columns: dict[str, list[float]], rings: tuple[float, ...]) -> pd.DataFrame:
    """Dissolved people per land class × contamination × status group.

    Each group is dissolved on its own, so a group's numbers count nobody twice;
    groups overlap each other, so they do not add up to the total (see
    :attr:`Assessment.by_precedence` for a breakdown that does).
    """
    keys = ["land_class", "contamination", "status"]
    rows = []
    for k, (values, pos) in enumerate(groups):
        row = dict(zip(keys, values, strict=True))
        row["hazards"] = len(pos)
        row["area_m2"] = float(np.nansum(frame["area_m2"].to_numpy()[pos]))
        for column, people in columns.items():
            row[column] = people[k]
        rows.append(row)
    names = [*keys, "hazards", "area_m2", "people_inside", *[ring_column(d) for d in rings]]
    return pd.DataFrame(rows, columns=names)


def _bands(union: UnionSum, rings: tuple[float, ...], ring_u: dict[float, UnionSum],
           crs: CRS) -> gpd.GeoDataFrame:
    """Exclusive bands: the union, then each ring minus the previous one (tile by tile)."""
    names, froms, tos = ["inside"], [np.nan], [0.0]
    people, geoms = [union.total.people], [union.geometry()]
    prev, prev_d = union, 0.0
    for d in rings:
        cur = ring_u[d]
        before = prev.by_tile()
        parts = []
        for key, piece in cur.by_tile().items():
            inner = before.get(key)
            parts.append(piece if inner is None else shapely.difference(piece, inner))
        polys = [p for p in shapely.get_parts(np.array(parts, dtype=object))
                 if p.geom_type == "Polygon" and not p.is_empty] if parts else []
        names.append(f"{_fmt_m(prev_d)}-{_fmt_m(d)} m")
        froms.append(prev_d)
        tos.append(d)
        people.append(cur.total.people - prev.total.people)
        geoms.append(shapely.MultiPolygon(polys) if polys else shapely.Polygon())
        prev, prev_d = cur, d
    frame = gpd.GeoDataFrame({"band": names, "from_m": froms, "to_m": tos, "people": people},
                             geometry=gpd.GeoSeries(geoms, crs=crs))
    return frame.to_crs(4326)


def _by_admin(admin: gpd.GeoDataFrame | str | os.PathLike, admin_id: str | None,
              admin_name: str | None, raster: PopulationRaster, union: UnionSum,
              rings: tuple[float, ...], ring_u: dict[float, UnionSum],
              total_pop: float, totals: dict[str, Any], engine: Engine
              ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, Reconciliation]:
    if not isinstance(admin, gpd.GeoDataFrame):
        admin = read_vector(admin)
    if admin.crs is None:
        raise CRSError("Admin units have no CRS; set one (e.g. admin.set_crs('EPSG:4326')).")
    columns = [c for c in admin.columns if c != admin.geometry.name]
    if admin_id is None:
        raise InputError(f"Expected admin_id naming the admin id column; columns are {columns}.")
    for col in (admin_id, admin_name):
        if col is not None and col not in admin.columns:
            raise InputError(f"Admin column {col!r} not found; columns are {columns}.")
    ids = admin[admin_id].astype(str)
    if ids.duplicated().any():
        raise InputError(f"Admin ids in {admin_id!r} must be unique; duplicated: "
                         f"{sorted(set(ids[ids.duplicated()]))[:10]}.")
    geoms = move_to_grid(np.asarray(shapely.make_valid(admin.geometry.values), dtype=object),
                         CRS.from_user_input(admin.crs), raster.crs, raster.bounds)
    # every unit ∩ every union piece (inside and each ring), plus the units themselves,
    # counted in one pass so that shared windows are prepared once
    layers_u = [union, *[ring_u[d] for d in rings]]
    layers = [u.pieces for u in layers_u]
    parts = [geoms]
    owner = [np.arange(len(geoms))]
    layer_of = [np.zeros(len(geoms), dtype=np.int64)]
    for k, pieces in enumerate(layers, start=1):
        if pieces.size == 0:
            continue
        unit_idx, piece_idx = shapely.STRtree(pieces).query(geoms, predicate="intersects")
        parts.append(shapely.intersection(geoms[unit_idx], pieces[piece_idx]))
        owner.append(unit_idx)
        layer_of.append(np.full(len(unit_idx), k))
    all_parts = np.concatenate(parts)
    people = engine.sums(all_parts, raster).people
    owner_all, layer_all = np.concatenate(owner), np.concatenate(layer_of)
    per_layer = [np.bincount(owner_all[layer_all == k], people[layer_all == k], len(geoms))
                 for k in range(len(layers) + 1)]
    # the units' parts with plain weighting, for the check (the same numbers without a
    # land-area raster)
    plain = people if raster.land_area is None else \
        engine.sums(all_parts, raster, **plain_rule(raster)).people
    units_plain = [float(plain[layer_all == k].sum()) for k in range(len(layers) + 1)]
    population, inside = per_layer[0], per_layer[1]
    near = {d: per_layer[2 + j] for j, d in enumerate(rings)}
    rows = []
    pcode = next((c for c in admin.columns if c != admin_id and
                  re.fullmatch(r"(adm\d_?)?p_?code|.*pcode", str(c), re.IGNORECASE)), None)
    for i in range(len(geoms)):
        row = {"admin_id": ids.iloc[i],
               "admin_name": str(admin[admin_name].iloc[i]) if admin_name else ids.iloc[i]}
        if pcode is not None:
            row["pcode"] = str(admin[pcode].iloc[i])
        row.update({"population": population[i], "people_inside": inside[i]})
        for d in rings:
            row[ring_column(d)] = near[d][i]
        rows.append(row)
    table = pd.DataFrame(rows)
    outside, check = _outside_units(geoms, layers_u, rings, raster, total_pop, units_plain,
                                    engine)
    table = pd.concat([table, pd.DataFrame([outside])], ignore_index=True)
    pop = table["population"].where(table["population"] > 0)
    table["share_inside"] = table["people_inside"] / pop
    for d in rings:
        table[f"share_within_{_fmt_m(d)}m"] = table[ring_column(d)] / pop
    return admin, table, check


def _outside_units(units: np.ndarray, layers_u: list[UnionSum], rings: tuple[float, ...],
                   raster: PopulationRaster, total_pop: float, units_plain: list[float],
                   engine: Engine) -> tuple[dict[str, Any], Reconciliation]:
    """The row for people outside every admin unit, each number counted from its own
    geometry (the raster's extent minus the units, tile by tile), and the check that
    the units plus the outside add up to the whole, for the population and each layer
    (``units_plain``: the units' sums per layer, with plain weighting).

    With a land-area raster the outside region (mostly sea) covers coastal pixels'
    water first, hazards and units their land first; the check then counts with plain
    weighting, which adds up over any partition.
    """
    units_u = engine.unions([units], raster)[0]
    region = outside_region(units_u, raster, getattr(engine, "union_tile", None))
    parts = [region, *[tile_differences(layer, units_u) for layer in layers_u]]
    owner = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    flat = np.empty(len(owner), dtype=object)
    flat[:] = [g for part in parts for g in part]
    land = raster.land_area is not None
    reported = np.zeros(len(parts))
    if flat.size:
        people = engine.sums(flat, raster).people
        if land:  # the region outside: its water first
            sea = engine.sums(flat[owner == 0], raster, land_rule="water-first").people
            people[owner == 0] = sea
        reported = np.bincount(owner, people, len(parts))
    checked = reported
    wholes = [total_pop] + [u.total.people for u in layers_u]
    if land and flat.size:
        checked = np.bincount(owner, engine.sums(flat, raster, **plain_rule(raster)).people,
                              len(parts))
        pieces = [list(u.pieces) for u in layers_u]
        owner_w = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
        arr = np.empty(len(owner_w), dtype=object)
        arr[:] = [g for p in pieces for g in p]
        if arr.size:
            wholes = [total_pop, *np.bincount(owner_w, engine.sums(
                arr, raster, **plain_rule(raster)).people, len(pieces))]
    names = ["population", "people_inside", *[ring_column(d) for d in rings]]
    row = {"admin_id": "(outside)", "admin_name": "outside every admin unit",
           **{n: float(reported[j]) for j, n in enumerate(names)}}
    checks = [Reconciliation(units_plain[j] + float(checked[j]), float(wholes[j]), n)
              for j, n in enumerate(names)]
    worst = max(checks, key=lambda r: r.relative_difference)
    check = Reconciliation(worst.parts, worst.whole,
                           "each admin unit plus the region outside every unit, each counted "
                           f"from its own geometry, against the whole (worst of "
                           f"{', '.join(names)}: {worst.what})")
    return row, check


def _checks(frame: gpd.GeoDataFrame, inside: list[ZonalSum], union_sum: ZonalSum,
            ring_sums: dict[float, ZonalSum],
            rings: tuple[float, ...], raster: PopulationRaster,
            by_admin: pd.DataFrame | None, total_pop: float) -> dict[str, Any]:
    counted = frame["counted"].to_numpy()
    per_hazard = float(frame.loc[counted, "people_inside"].sum())
    pixel_area = raster.res[0] * raster.res[1]
    sub_pixel = sum(1 for z, c in zip(inside, counted, strict=True)
                    if c and 0 < z.area < pixel_area)
    area = sum(z.area for z, c in zip(inside, counted, strict=True) if c)
    area_in = sum(z.area_in_raster for z, c in zip(inside, counted, strict=True) if c)
    weight = sum(z.weight for z, c in zip(inside, counted, strict=True) if c)
    weight_nd = sum(z.weight_nodata for z, c in zip(inside, counted, strict=True) if c)
    checks: dict[str, Any] = {
        "sum_of_per_hazard_inside": per_hazard,
        "double_counting_factor": (per_hazard / union_sum.people) if union_sum.people > 0
        else None,
        "hazards_smaller_than_one_pixel": sub_pixel,
        "share_of_hazard_area_outside_raster": (1 - area_in / area) if area > 0 else 0.0,
        "share_of_hazard_area_on_nodata": (weight_nd / weight) if weight > 0 else 0.0,
    }
    if by_admin is not None:
        units = by_admin[by_admin["admin_id"] != "(outside)"]
        checks["people_outside_every_admin_unit"] = float(
            by_admin.loc[by_admin["admin_id"] == "(outside)", "population"].iloc[0])
        checks["admin_units_overlap"] = bool(units["population"].sum() > total_pop * (1 + 1e-9))
    return checks


def _method(raster: PopulationRaster, rings: tuple[float, ...], statuses: tuple[str, ...],
            pixel_rule: str, report: Any, frame: gpd.GeoDataFrame) -> dict[str, Any]:
    return {
        "question": "people living inside, and within given distances of, counted hazards",
        "counted_statuses": list(statuses),
        "dissolve_rule": DISSOLVE_RULE,
        "rings_m": [float(d) for d in rings],
        "ring_construction": "buffers in metres in a local azimuthal equidistant projection "
                             f"per {CLUSTER_DEG:g}° cluster of hazards (never in degrees)",
        "pixel_rule": pixel_rule,
        "pixel_rule_text": {
            "exact": "each pixel weighted by the exact fraction of its area covered",
            "center": "pixels whose centre is covered count fully",
            "all-touched": "every pixel touched counts fully",
        }[pixel_rule],
        "population_source": raster.name,
        "population_sha256": raster.sha256(),
        "population_crs": raster.describe()["crs"],
        "population_resolution": list(raster.res),
        "population_units": raster.describe()["units"],
        "vectors_moved_to_raster_crs": True,
        "raster_resampled": False,
        "hazard_source": report.source if report is not None else None,
        "hazards_counted": int(frame["counted"].sum()),
        "geomines_version": __version__,
    }
