"""The ``geomines`` command line: each command parses options and makes one library call.

Logs and progress go to stderr; data and results to stdout or ``--out``. Errors
become one-line messages and exit codes, never tracebacks:

====  ==========================================================
0     success
1     the input cannot be used (a geomines error: bad file, CRS, ...)
2     usage error (unknown option, missing argument, missing file)
====  ==========================================================
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shlex
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from ._version import __version__
from .engine.rings import format_m
from .errors import GeominesError, GeominesWarning

if TYPE_CHECKING:
    from .engine.exact import PixelRule
    from .io.population import Units

log = logging.getLogger("geomines")

existing_path = click.Path(exists=True, path_type=Path)


def _setup_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    if verbosity < 0:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    logging.captureWarnings(False)


def _show_warning(message: Any, category: type, *_args: Any, **_kwargs: Any) -> None:
    if log.isEnabledFor(logging.WARNING):
        click.echo(f"warning: {message}", err=True)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn geomines errors into one-line messages and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", GeominesWarning)
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except GeominesError as exc:
            raise click.ClickException(str(exc)) from None
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="geomines")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.option("-q", "--quiet", count=True, help="Only errors on stderr; no progress.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """geomines: people inside and near land contaminated by explosive ordnance."""
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbose - quiet
    _setup_logging(verbose - quiet)


hazards_crs_opt = click.option(
    "--hazards-crs",
    default=None,
    metavar="CRS",
    help="CRS of the hazard coordinates when the file has none (e.g. EPSG:4326).",
)
layer_opt = click.option("--layer", default=None, help="Layer of a multi-layer hazard file.")
nodata_opt = click.option(
    "--nodata", type=float, default=None, help="Declare the population raster's nodata value."
)
units_opt = click.option(
    "--units",
    type=click.Choice(["count", "density"]),
    default="count",
    show_default=True,
    help="Population raster units: people per pixel, or per km².",
)
land_area_opt = click.option(
    "--land-area",
    type=existing_path,
    default=None,
    help="Land area (km²) per pixel on the same grid: coastal pixels' people live on land.",
)
strict_opt = click.option(
    "--strict",
    is_flag=True,
    help="Fail on any geometry that needs a repair, or repeated ids, instead of repairing.",
)


rings_opt = click.option(
    "--rings",
    default="500,1000,5000",
    show_default=True,
    help="Ring distances in metres, comma-separated.",
)
count_status_opt = click.option(
    "--count-status",
    default="open",
    show_default=True,
    help="Statuses counted, comma-separated (open,cancelled,reduced,cleared).",
)


def stack_options(
    options: list[Callable[..., Any]], func: Callable[..., Any]
) -> Callable[..., Any]:
    """``func`` with click options applied, listed in the order ``--help`` shows them."""
    for option in reversed(options):
        func = option(func)
    return func


def admin_opts(func: Callable[..., Any]) -> Callable[..., Any]:
    """--admin, --admin-id and --admin-name."""
    options = [
        click.option("--admin", type=existing_path, default=None, help="Admin unit polygons."),
        click.option("--admin-id", default=None, help="Id column of the admin units."),
        click.option("--admin-name", default=None, help="Name column of the admin units."),
    ]
    return stack_options(options, func)


def out_opt(default: str) -> Callable[..., Any]:
    """--out DIR, defaulting to ``default``."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        default=Path(default),
        show_default=True,
        help="Output directory.",
    )


def output_flags(*, map_flag: bool) -> Callable[..., Any]:
    """--overwrite, --no-map (when there is a map), --no-report and --hxl."""

    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option(
            "--hxl", is_flag=True, help="Add an HXL hashtag row to the CSV tables."
        )(func)
        func = click.option("--no-report", is_flag=True, help="Do not write report.html.")(func)
        if map_flag:
            func = click.option("--no-map", is_flag=True, help="Do not write map.html.")(func)
        return click.option(
            "--overwrite", is_flag=True, help="Replace outputs in a non-empty --out."
        )(func)

    return apply


def reading_opts(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of how the hazard file is read (text encoding, dates, point sizes)."""
    options = [
        click.option(
            "--encoding",
            default=None,
            metavar="NAME",
            help="Text encoding of the hazard attributes (e.g. cp1251, latin-1); "
            "default: the file's own, or a guess that is warned.",
        ),
        click.option(
            "--date-format",
            default=None,
            metavar="FORMAT",
            help="strptime format of non-ISO report dates, e.g. %d/%m/%Y.",
        ),
        click.option(
            "--radius-column",
            default=None,
            metavar="COL",
            help="Column with each point's radius in metres.",
        ),
        click.option(
            "--area-column",
            default=None,
            metavar="COL",
            help="Column with each point's area (unit: --area-unit).",
        ),
        click.option(
            "--area-unit",
            type=click.Choice(["m2", "ha", "km2"]),
            default="m2",
            show_default=True,
            help="Unit of --area-column.",
        ),
    ]
    return stack_options(options, func)


def field_file_opts(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of the extra files: the GeoPackage, the workbook, the map's own tiles."""
    options = [
        click.option(
            "--gpkg", is_flag=True, help="Also write geomines.gpkg: every layer, styled for QGIS."
        ),
        click.option(
            "--xlsx",
            is_flag=True,
            help="Also write geomines.xlsx: the tables, safe in a spreadsheet.",
        ),
        click.option(
            "--basemap",
            type=existing_path,
            default=None,
            metavar="FILE.mbtiles|DIR",
            help="Raster tiles (MBTiles or z/x/y) embedded as the map's offline basemap.",
        ),
    ]
    return stack_options(options, func)


def where_first_opts(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of the communities, features of interest and priority list."""
    options = [
        click.option(
            "--places",
            type=existing_path,
            default=None,
            help="Settlements (points or polygons): writes communities.csv and .geojson.",
        ),
        click.option("--place-id", default=None, metavar="COL", help="Id column of --places."),
        click.option("--place-name", default=None, metavar="COL", help="Name column of --places."),
        click.option(
            "--place-radius",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            metavar="METRES",
            help="Count a point place's people within this radius.",
        ),
        click.option(
            "--features",
            type=existing_path,
            default=None,
            help="Features of interest (schools, health posts, water points, roads...).",
        ),
        click.option(
            "--feature-class",
            default=None,
            metavar="COL",
            help="Class column of --features: hazards get nearest_<class>_m and "
            "<class>_within_<d>m.",
        ),
        click.option(
            "--priority",
            type=existing_path,
            default=None,
            metavar="FILE.toml",
            help="Priority profile (criteria, weights); default: the built-in profile.",
        ),
    ]
    return stack_options(options, func)


def _population_grids(main: Any, also: tuple[str, ...]) -> Any:
    """The main raster alone, or a mapping of every grid (main first) for --also-population."""
    if not also:
        return main
    from .io.population import read_population

    grids = {Path(main.paths[0]).stem: main}
    for item in also:
        name, sep, files = item.partition("=")
        if not sep or not name.strip() or not files.strip():
            raise click.UsageError(f"--also-population expects NAME=FILE, got {item!r}.")
        paths = [p.strip() for p in files.split(",") if p.strip()]
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise click.UsageError(f"--also-population {name}: no such file {missing[0]!r}.")
        grids[name.strip()] = read_population(paths if len(paths) > 1 else paths[0])
    return grids


def _where_first_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The communities, features, priority, curve and age-sex options as assess keywords."""
    names = {
        "places": "places",
        "place_id": "place_id",
        "place_name": "place_name",
        "place_radius": "place_radius_m",
        "features": "features",
        "feature_class": "feature_class",
        "priority": "priority",
    }
    out = {api: kwargs.pop(cli_name) for cli_name, api in names.items()}
    if out["features"] is not None and out["feature_class"] is None:
        raise click.UsageError("--features needs --feature-class naming the class column.")
    out["curve_m"], out["age_sex"] = kwargs.pop("curve"), kwargs.pop("age_sex")
    return out


def _read_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The reading options as read_hazards keywords."""
    return {
        k: kwargs.pop(k)
        for k in ("encoding", "date_format", "radius_column", "area_column", "area_unit")
    }


@cli.command()
@click.argument("hazards", type=existing_path)
@click.argument("population", type=existing_path, nargs=-1, required=True)
@rings_opt
@admin_opts
@count_status_opt
@click.option(
    "--pixel-rule",
    type=click.Choice(["exact", "center", "all-touched"]),
    default="exact",
    show_default=True,
    help="How pixels are weighted.",
)
@out_opt("geomines-out")
@output_flags(map_flag=True)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run the engine on this Dask scheduler (tcp://host:8786).",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Run the engine on a local Dask cluster of N worker processes.",
)
@hazards_crs_opt
@layer_opt
@nodata_opt
@units_opt
@land_area_opt
@strict_opt
@reading_opts
@where_first_opts
@field_file_opts
@click.option(
    "--age-sex",
    "age_sex",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="WorldPop age and sex rasters (<iso3>_<f|m>_<age>_<year>.tif): by_age_sex.csv.",
)
@click.option(
    "--curve",
    default=None,
    metavar="START:STOP:STEP",
    help="Also count people within each distance, e.g. 0:5000:100 (metres): curve.csv.",
)
@click.option(
    "--also-population",
    "also_population",
    multiple=True,
    metavar="NAME=FILE",
    help="Another population grid to assess in full (repeat for more); FILE may be a "
    "directory of tiles or comma-separated tiles. summary.json states the range.",
)
@handle_errors
def assess(
    hazards: Path,
    population: tuple[Path, ...],
    rings: str,
    admin: Path | None,
    admin_id: str | None,
    admin_name: str | None,
    count_status: str,
    pixel_rule: str,
    out_dir: Path,
    overwrite: bool,
    no_map: bool,
    no_report: bool,
    hxl: bool,
    scheduler: str | None,
    workers: int | None,
    hazards_crs: str | None,
    layer: str | None,
    nodata: float | None,
    units: str,
    land_area: Path | None,
    strict: bool,
    **reading: Any,
) -> None:
    """Count people inside and near HAZARDS on the POPULATION raster (one or more tiles)."""
    from .assessment import assess as run_assess
    from .engine.executors import release_memory
    from .hazards import read_hazards
    from .io.population import read_population
    from .outputs import write_outputs

    if admin is not None and admin_id is None:
        raise click.UsageError("--admin needs --admin-id naming the admin id column.")
    extra = _where_first_options(reading)
    files = {k: reading.pop(k) for k in ("gpkg", "xlsx", "basemap")}
    log.info("reading hazards %s", hazards)
    # point records' circles are built where they are used (a slice at a time), not held
    options = _read_options(reading) | {"build_circles": False}
    frame = read_hazards(hazards, crs=hazards_crs, layer=layer, strict=strict, **options)
    report = frame.attrs["load_report"]
    log.info("%s", report)
    raster = read_population(
        list(population), nodata=nodata, units=cast("Units", units), land_area=land_area
    )
    grids = _population_grids(raster, reading.pop("also_population"))
    client = _dask_client(scheduler, workers)
    try:
        result = run_assess(
            frame,
            grids,
            rings_m=rings,
            admin=admin,
            admin_id=admin_id,
            admin_name=admin_name,
            count_status=count_status.split(","),
            pixel_rule=cast("PixelRule", pixel_rule),
            progress=log.isEnabledFor(logging.WARNING),
            client=client,
            **extra,
        )
    finally:
        _close(client, own_cluster=bool(workers))
    del frame  # the input as read: the assessment holds its own frame
    release_memory()
    result.method = dataclasses.replace(
        result.method, command=_command_line(click.get_current_context())
    )
    written = write_outputs(
        result,
        out_dir,
        overwrite=overwrite,
        write_map=not no_map,
        write_report=not no_report,
        hxl=hxl,
        provenance={"command": result.method.command},
        **files,
    )
    click.echo("\n".join(_result_lines(result, report, count_status, out_dir, written)))


@cli.command()
@click.argument("before", type=existing_path)
@click.argument("after", type=existing_path)
@click.argument("population", type=existing_path, nargs=-1, required=True)
@rings_opt
@admin_opts
@count_status_opt
@click.option(
    "--match-by",
    default=None,
    metavar="COL",
    help="Column that matches hazards across the snapshots (default: hazard_id).",
)
@out_opt("geomines-change")
@output_flags(map_flag=True)
@handle_errors
def compare(
    before: Path,
    after: Path,
    population: tuple[Path, ...],
    rings: str,
    admin: Path | None,
    admin_id: str | None,
    admin_name: str | None,
    count_status: str,
    match_by: str | None,
    out_dir: Path,
    overwrite: bool,
    no_map: bool,
    no_report: bool,
    hxl: bool,
) -> None:
    """People released from (and newly exposed to) counted hazards between two snapshots,
    BEFORE and AFTER, on POPULATION.
    """
    from .change.compare import compare as run_compare
    from .change.outputs import headline_text, write_change

    if admin is not None and admin_id is None:
        raise click.UsageError("--admin needs --admin-id naming the admin id column.")
    change = run_compare(
        before,
        after,
        [str(p) for p in population],
        rings_m=rings,
        admin=admin,
        admin_id=admin_id,
        admin_name=admin_name,
        count_status=count_status.split(","),
        match_by=match_by,
        progress=log.isEnabledFor(logging.WARNING),
    )
    written = write_change(
        change,
        out_dir,
        overwrite=overwrite,
        write_map=not no_map,
        write_report=not no_report,
        hxl=hxl,
        provenance={"command": _command_line(click.get_current_context())},
    )
    lines = [headline_text(change) + "."]
    for name, row in [("inside", change.people["inside"]), *change.people["within_m"].items()]:
        where = "inside" if name == "inside" else f"within {name} m"
        lines.append(
            f"{where}: before {row['before']:,.1f}, released {row['released']:,.1f}, "
            f"newly exposed {row['newly_exposed']:,.1f}, after {row['after']:,.1f}"
        )
    bad = [k for k, v in change.checks.items() if not v.ok]
    lines.append("Checks: " + ("all add up" if not bad else "FAILED: " + ", ".join(bad)))
    lines.append(f"Outputs in {out_dir}/: " + ", ".join(written))
    click.echo("\n".join(lines))


@cli.command()
@click.argument("files", type=existing_path, nargs=-1, required=True)
@click.option(
    "--dates",
    default=None,
    metavar="D1,D2,...",
    help="One date per snapshot (YYYY-MM-DD or YYYY); default: the latest report date in "
    "each file, else a date in its name.",
)
@rings_opt
@count_status_opt
@out_opt("geomines-timeline")
@output_flags(map_flag=False)
@handle_errors
def timeline(
    files: tuple[Path, ...],
    dates: str | None,
    rings: str,
    count_status: str,
    out_dir: Path,
    overwrite: bool,
    no_report: bool,
    hxl: bool,
) -> None:
    """People inside and near counted hazards in each snapshot: FILES are the snapshots
    S1 S2 ... in order, then the POPULATION raster.
    """
    from .change.outputs import write_timeline
    from .change.timeline import timeline as run_timeline

    if len(files) < 3:
        raise click.UsageError(
            f"Expected two or more snapshots and a population raster, got {len(files)} file(s)."
        )
    *snapshots, population = files
    statuses = tuple(s.strip() for s in count_status.split(",") if s.strip())
    table = run_timeline(
        [str(s) for s in snapshots], str(population), dates=dates, rings_m=rings,
        count_status=statuses,
    )  # fmt: skip
    fictional = any("illustrative" in Path(s).name for s in snapshots)
    written = write_timeline(
        table, out_dir, overwrite=overwrite, write_report=not no_report, hxl=hxl,
        statuses=statuses, fictional=fictional,
    )  # fmt: skip
    labels = table.attrs["labels"]
    for row in table.to_dict(orient="records"):
        numbers = ", ".join(f"{labels[c]} {row[c]:,.1f}" for c in labels)
        click.echo(f"{row['snapshot']} ({row['date'] or 'no date'}): {numbers}")
    click.echo(f"Outputs in {out_dir}/: " + ", ".join(written))


@cli.command()
@click.argument("hazards", type=existing_path)
@click.argument("population", type=existing_path, nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@hazards_crs_opt
@layer_opt
@nodata_opt
@units_opt
@strict_opt
@reading_opts
@handle_errors
def validate(
    hazards: Path,
    population: tuple[Path, ...],
    as_json: bool,
    hazards_crs: str | None,
    layer: str | None,
    nodata: float | None,
    units: str,
    strict: bool,
    **reading: Any,
) -> None:
    """Check HAZARDS (and optionally POPULATION) and print the load report.

    Exits 1 when the input cannot be used.
    """
    from .hazards import validate_hazards
    from .io.population import read_population

    report = validate_hazards(
        hazards, crs=hazards_crs, layer=layer, strict=strict, **_read_options(reading)
    )
    out: dict[str, Any] = {"hazards": report.to_dict()}
    text = [str(report)]
    if population:
        raster = read_population(list(population), nodata=nodata, units=cast("Units", units))
        out["population"] = {**raster.describe(), **raster.stats()}
        text.append(
            f"Population: {raster.name}; CRS {raster.describe()['crs']}; "
            f"{raster.width}×{raster.height} px of {raster.res[0]:g}×{raster.res[1]:g}; "
            f"nodata {raster.nodata}; total {out['population']['total']:,.0f} people"
        )
    click.echo(json.dumps(out, indent=2, default=str) if as_json else "\n".join(text))
    if not report.ok:
        raise click.exceptions.Exit(1)


def _close(client: Any, *, own_cluster: bool) -> None:
    """Close a Dask client, and the local cluster when this command started it."""
    if client is None:
        return
    cluster = client.cluster if own_cluster else None
    client.close()
    if cluster is not None:
        cluster.close()


def _result_lines(
    result: Any, report: Any, count_status: str, out_dir: Path, written: dict[str, Path]
) -> list[str]:
    """The headline numbers printed after an assessment (rounded, with full values)."""
    from .outputs.headline import headline

    head = headline(result)
    raster = result.population
    lines = [
        f"Hazards: {report.rows} rows, {int(result.hazards['counted'].sum())} counted "
        f"(statuses: {count_status}); {report.repaired} repaired, {report.excluded} excluded",
        f"Population source: {raster.name} ({raster.describe()['crs']}), "
        f"total {result.totals['population']:,.0f}",
        f"People inside counted hazards (dissolved): about {head['people_inside']:,} "
        f"({result.totals['inside']:,.1f})",
    ]
    for d in result.rings_m:
        lines.append(
            f"People within {format_m(d)} m: about {head['people_within_m'][format_m(d)]:,} "
            f"({result.people_within(d):,.1f})"
        )
    factor = result.checks.get("double_counting_factor")
    if factor:
        lines.append(f"Sum of per-hazard counts / dissolved: {factor:.2f}")
    if len(getattr(result, "sources", [])) > 1:
        from .outputs.sources_report import range_text

        lines.append(str(range_text(result)))
    if result.priority is not None and len(result.priority):
        top = ", ".join(result.priority["hazard_id"].head(5).astype(str))
        lines.append(f"First to clear (priority.csv): {top}")
    if result.communities is not None:
        bands = result.communities["band"]
        near = int((bands.ne("beyond") & bands.ne("")).sum())
        lines.append(
            f"Communities: {near} of {len(bands)} places inside or within "
            f"{format_m(max(result.rings_m, default=0))} m of a counted hazard"
        )
    lines.append(f"Outputs in {out_dir}/: " + ", ".join(written))
    return lines


def _dask_client(scheduler: str | None, workers: int | None) -> Any:
    """A Dask client for --scheduler or --workers, or None."""
    if scheduler and workers:
        raise click.UsageError("Give --scheduler or --workers, not both.")
    if not scheduler and not workers:
        return None
    from .engine.dask import local_client, require_dask

    dd = require_dask()
    client = dd.Client(scheduler) if scheduler else local_client(workers or 1)
    link = getattr(client, "dashboard_link", None)
    log.warning(
        "running on Dask: %s%s",
        scheduler or f"{workers} local workers",
        f" (dashboard: {link})" if link and scheduler else "",
    )
    return client


def _command_line(ctx: click.Context) -> str:
    """The command as an explicit, reproducible line: every option with its value."""
    parts = ["geomines", ctx.info_name or "assess"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(param, click.Argument):
            values = value if isinstance(value, tuple) else (value,)
            parts.extend(shlex.quote(str(v)) for v in values)
        elif isinstance(param, click.Option) and value not in (None, False, ()):
            flag = param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0]
            parts.append(flag if value is True else f"{flag} {shlex.quote(str(value))}")
    return " ".join(parts)


def main() -> None:
    """Entry point of the ``geomines`` console script."""
    cli(obj={})


if __name__ == "__main__":  # pragma: no cover
    main()
