"""`jobagg dol ...`: download and ingest DOL PERM / LCA files and USCIS H-1B hub exports."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from crawler.cli import AppContext, main, pass_app

if TYPE_CHECKING:
    from matching.loaded import FileSummary
    from matching.reading import CaseReader


@main.group("dol")
def dol_group() -> None:
    """DOL and USCIS disclosure data."""


# Seconds to wait for the first file's hash before starting the loader anyway.
QUICK_HASH = 0.2


@dol_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show progress bars.")
@click.option("--force", is_flag=True, help="Read files again even if their content was loaded before.")
@pass_app
def ingest(app: AppContext, paths: tuple[Path, ...], progress: bool, force: bool = False) -> None:
    """Load PERM/LCA/USCIS files (xlsx or csv; layout detected from the header), then rebuild entities."""
    from matching.reading import case_readers

    started = time.perf_counter()
    # The reader starts on the first file before the loader and the database layer are even imported; a second
    # one reads each next file while the loader is on one.
    with case_readers(len(paths)) as (reader, spare):
        if reader is not None:
            reader.start(paths[0])
        summaries = None if force else _loaded_before(app.db_url, list(paths), reader)
        if summaries is None:
            from matching.ingest import IngestError, ingest_paths

            try:
                summaries = ingest_paths(
                    app.db_url, list(paths), progress=progress, force=force, reader=reader, spare=spare
                )
            except IngestError as exc:
                raise click.ClickException(f"{exc} (nothing from this file was stored)") from exc
    table = Table(title="DOL ingest")
    cols = ("file", "layout", "rows", "blank", "new", "updated", "unchanged", "kept older", "dupes in file", "seconds")
    for col in cols:
        table.add_column(col, justify="left" if col in ("file", "layout") else "right")
    for s in summaries:
        table.add_row(
            Path(s.path).name,
            f"{s.layout} (already loaded)" if s.already_loaded else s.layout,
            f"{s.rows:,}",
            f"{s.blank_rows:,}",
            f"{s.inserted:,}",
            f"{s.replaced:,}",
            f"{s.unchanged:,}",
            f"{s.kept_existing:,}",
            f"{s.duplicates_in_file:,}",
            f"{s.seconds:.1f}",
        )
    console = Console()
    console.print(table)
    skipped = sum(s.already_loaded for s in summaries)
    console.print(
        f"{len(summaries)} file(s) in {time.perf_counter() - started:.1f} s: "
        f"{sum(s.inserted for s in summaries):,} new, {sum(s.replaced for s in summaries):,} updated, "
        f"{sum(s.unchanged for s in summaries):,} unchanged"
        + (f"; {skipped} already loaded (same content), not read again" if skipped else "")
    )
    if any(s.finished_earlier_run for s in summaries):
        console.print("An earlier run stopped before building employer entities; they are built now.")
    elif any(s.rebuilt_for_version for s in summaries):
        console.print("Employer entities were built by an older version of jobagg; they are rebuilt now.")
    elif skipped == len(summaries):
        # ingest_paths rebuilds nothing when every file was loaded before: the database already says it.
        console.print("Nothing new: entities and tags left as they were.")
        return
    # ingest_paths already rebuilt entities and, when postings exist, recomputed the join and tags.
    if any(s.retag_deferred for s in summaries):
        console.print(
            "Employer entities rebuilt; a `jobagg run` is in progress, so it (or the next run, or `jobagg match`)"
            " re-tags the stored postings."
        )
        return
    console.print(
        "Employer entities rebuilt and every stored posting re-tagged (what `jobagg match` does);"
        " after your next crawl, `jobagg match` (or `jobagg run`) tags the new postings."
    )


def _loaded_before(db_url: str, paths: list[Path], reader: CaseReader | None) -> list[FileSummary] | None:
    """Summaries of files all loaded before, found without the loader (most of the start-up of a run that has
    nothing to do); None when any file is new or this cannot tell, and the loader takes over."""
    from matching.loaded import loaded_before
    from matching.readers import IngestError
    from matching.reading import file_sha256

    try:
        # A big file takes a while to hash: rather than wait, the loader starts (its start-up is small beside it).
        first = reader.sha(timeout=QUICK_HASH) if reader is not None else file_sha256(paths[0])
        if first is None or loaded_before(db_url, [(paths[0], first)]) is None:
            return None  # the usual case: a new file, hashed once only
        if reader is not None:
            reader.cancel()
        return loaded_before(db_url, [(paths[0], first), *((p, file_sha256(p)) for p in paths[1:])])
    except (IngestError, RuntimeError, OSError):
        return None  # the loader reports it


@dol_group.command("download")
@click.option("--kind", default="perm,lca", show_default=True, help="perm, lca, uscis, or a list: perm,lca.")
@click.option("--fy", "fy", required=True, help="Fiscal year(s): 2024, 2020-2025 or 2021,2023.")
@click.option("--quarter", type=click.IntRange(1, 4), help="Quarter; default: PERM latest published, LCA all.")
@click.option("--base-url", help="Replace the DOL/USCIS base URL (mirrors, tests).")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@click.option("--ingest/--no-ingest", "then_ingest", default=False, help="Ingest the files after downloading.")
@pass_app
def download(
    app: AppContext,
    kind: str,
    fy: str,
    quarter: int | None,
    base_url: str | None,
    dest: Path,
    then_ingest: bool,
) -> None:
    """Fetch DOL/USCIS files by their published names; an interrupted download resumes where it stopped."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from matching.download import DownloadError, parse_kinds, parse_years
    from matching.download import download as fetch

    try:
        kinds, years = parse_kinds(kind), parse_years(fy)
    except DownloadError as exc:
        raise click.UsageError(str(exc)) from exc
    console = Console()
    got = []
    missing: list[str] = []
    reasons: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=not Console(stderr=True).is_terminal) as prog:
        for k in kinds:
            for year in years:
                try:
                    got.extend(fetch(k, year, quarter, base_url, dest, progress=prog))
                except DownloadError as exc:
                    if str(exc).startswith("nothing published"):
                        missing.append(f"{k} FY{year}")
                        reasons.append(str(exc))
                        continue
                    raise click.ClickException(str(exc)) from exc
    table = Table(title=f"{', '.join(k.upper() for k in kinds)} FY{fy} download")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    table.add_column("how")
    table.add_column("url")
    for f in got:
        how = "already here" if f.cached else (f"resumed at {f.resumed_from:,}" if f.resumed_from else "fetched")
        table.add_row(str(f.path), f"{f.size:,}", how, f.url)
    console.print(table)
    fetched = sum(1 for f in got if not f.cached)
    size = sum(f.size for f in got if not f.cached)
    console.print(
        f"{fetched} file(s) fetched ({size / 1e6:,.1f} MB), {len(got) - fetched} already here"
        + (f"; nothing published for {', '.join(missing)}" if missing else "")
    )
    if not got:
        raise click.ClickException("; ".join(reasons))
    if then_ingest:
        ctx = click.get_current_context()
        ctx.invoke(ingest, paths=tuple(f.path for f in got), progress=True)


@dol_group.command("status")
@pass_app
def status(app: AppContext) -> None:
    """List the loaded files (kind, fiscal years, rows, when, content hash) and what the database holds."""
    from sqlalchemy import func, select

    from crawler import db as dbmod
    from crawler.models import DolCase, DolEntity, DolFile, UscisEmployerYear

    with dbmod.session_scope(app.db_url) as s:
        files = s.scalars(select(DolFile).order_by(DolFile.loaded_at, DolFile.id)).all()
        cases = dict(s.execute(select(DolCase.kind, func.count()).group_by(DolCase.kind)).all())
        hub = s.scalar(select(func.count()).select_from(UscisEmployerYear)) or 0
        entities = s.scalar(select(func.count()).select_from(DolEntity)) or 0
    table = Table(title="loaded DOL/USCIS files")
    for col in ("file", "kind", "layout", "fiscal year", "rows", "loaded at (UTC)", "sha256"):
        # A narrow terminal folds a file's name and its years onto more lines rather than cutting them short.
        fold = col in ("file", "fiscal year")
        table.add_column(col, justify="right" if col == "rows" else "left", overflow="fold" if fold else "ellipsis")
    for f in files:
        table.add_row(
            f.name,
            f.kind,
            f.layout,
            f.fiscal_years or "-",
            f"{f.rows:,}",
            f.loaded_at.strftime("%Y-%m-%d %H:%M"),
            f.sha256[:16],
        )
    console = Console()
    console.print(table)
    console.print(
        f"{len(files)} file(s); {cases.get('perm', 0):,} PERM and {cases.get('lca', 0):,} LCA cases, "
        f"{hub:,} USCIS hub rows, {entities:,} employer entities"
    )
