"""`jobagg reclassify`: re-read stored postings with the current classification rules."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from crawler.cli import AppContext, main, pass_app
from crawler.cli.progress import StepProgress
from crawler.db import session_scope
from crawler.models.postings import Posting
from crawler.reclassify import OUTPUT_COLUMNS
from crawler.reclassify import reclassify as run_reclassify


@main.command("reclassify")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True, help="Rows per batch.")
@pass_app
def reclassify(app: AppContext, batch_size: int) -> None:
    """Re-read stored postings with the current classification rules."""
    console = Console()
    app.engine(create=False)  # nothing to re-read in a database that does not exist yet
    with session_scope(app.db_url) as session:
        total = session.scalar(select(func.count()).select_from(Posting)) or 0
        with StepProgress(console, "reclassify", total=total, unit="postings") as progress:
            counts = run_reclassify(
                session,
                batch_size=batch_size,
                progress=lambda n: progress.update(done=progress.done + n, items=progress.done + n),
            )
    table = Table(title="reclassify")
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("scanned", str(counts["scanned"]))
    table.add_row("changed", str(counts["changed"]))
    for name in OUTPUT_COLUMNS:
        if counts[f"changed_{name}"]:
            table.add_row(f"  {name}", str(counts[f"changed_{name}"]))
    console.print(table)
