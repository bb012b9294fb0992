"""`jobagg dol ...`: download and ingest DOL PERM / LCA files and USCIS H-1B hub exports."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from crawler.cli import AppContext, main, pass_app


@main.group("dol")
def dol_group() -> None:
    """DOL and USCIS disclosure data."""


@dol_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show progress bars.")
@pass_app
def ingest(app: AppContext, paths: tuple[Path, ...], progress: bool) -> None:
    """Load PERM/LCA/USCIS files (xlsx or csv; layout detected from the header), then rebuild entities."""
    from matching.ingest import IngestError, ingest_paths

    try:
        summaries = ingest_paths(app.db_url, list(paths), progress=progress)
    except IngestError as exc:
        raise click.ClickException(f"{exc} (nothing from this file was stored)") from exc
    table = Table(title="DOL ingest")
    cols = ("file", "layout", "rows", "blank", "new", "updated", "unchanged", "kept older", "dupes in file", "seconds")
    for col in cols:
        table.add_column(col, justify="left" if col in ("file", "layout") else "right")
    for s in summaries:
        table.add_row(
            Path(s.path).name,
            s.layout,
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
    # ingest_paths already rebuilt entities and, when postings exist, recomputed the join and tags.
    console.print(
        "Employer entities rebuilt and every stored posting re-tagged (what `jobagg match` does);"
        " after your next crawl, `jobagg match` (or `jobagg run`) tags the new postings."
    )


@dol_group.command("download")
@click.option("--kind", type=click.Choice(["perm", "lca", "uscis"]), required=True)
@click.option("--fy", type=int, required=True, help="Fiscal year (October to September).")
@click.option("--quarter", type=click.IntRange(1, 4), help="Quarter; default: PERM latest published, LCA all.")
@click.option("--base-url", help="Replace the DOL/USCIS base URL (mirrors, tests).")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True)
@click.option("--ingest/--no-ingest", "then_ingest", default=False, help="Ingest the files after downloading.")
@pass_app
def download(
    app: AppContext,
    kind: str,
    fy: int,
    quarter: int | None,
    base_url: str | None,
    dest: Path,
    then_ingest: bool,
) -> None:
    """Fetch DOL/USCIS files by their published names."""
    from matching.download import DownloadError
    from matching.download import download as fetch

    try:
        got = fetch(kind, fy, quarter, base_url, dest)
    except DownloadError as exc:
        raise click.ClickException(str(exc)) from exc
    table = Table(title=f"{kind.upper()} FY{fy} download")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    table.add_column("url")
    for f in got:
        table.add_row(str(f.path), f"{f.size:,}", f.url)
    Console().print(table)
    if then_ingest:
        ctx = click.get_current_context()
        ctx.invoke(ingest, paths=tuple(f.path for f in got), progress=True)
