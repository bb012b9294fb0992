"""`jobagg employers match` (ask the join about names) and `jobagg match` (recompute the join and the tags)."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.cli import AppContext, main, pass_app

if TYPE_CHECKING:
    from rich.console import Console


@main.group("employers")
def employers_group() -> None:
    """Employers as job boards display them, and their DOL join."""


def _read_names(file: Path | None, names: tuple[str, ...]) -> list[str]:
    out = list(names)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise click.BadParameter(f"{file} is not UTF-8 text", param_hint="--file") from None
        out.extend(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return out


@employers_group.command("match")
@click.argument("names", nargs=-1)
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="One name a line.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per name, in input order.")
@click.option("--rebuild-index", is_flag=True, help="Rebuild the saved match index even if it is current.")
@click.option(
    "--state",
    "states",
    multiple=True,
    metavar="ST",
    help="A US state the employer's postings are in (two letters, repeatable): settles namesakes there.",
)
@click.option(
    "--abroad",
    is_flag=True,
    help="The employer posts only outside the US: a small filer merely beginning with a one-word brand is a namesake.",
)
@click.option(
    "--board",
    metavar="TOKEN",
    help="The employer's job board token or URL (cobaltio, https://jobs.lever.co/acme): settles namesakes it names.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes answering a large batch (default: one per core; a batch under 1,000 names per process uses fewer).",
)
@pass_app
def match_names(
    app: AppContext,
    names: tuple[str, ...],
    file: Path | None,
    as_json: bool,
    rebuild_index: bool,
    states: tuple[str, ...],
    abroad: bool = False,
    board: str | None = None,
    jobs: int | None = None,
) -> None:
    """Show which DOL employer each NAME joins to, with score, method and the runner-up."""
    from matching.matchindex import load_index, no_gc, read_current

    queries = _read_names(file, names)
    if not queries:
        raise click.UsageError("give NAME arguments or --file FILE")
    if states:
        from matching.join import us_state

        bad = [s for s in states if not us_state(s)]
        if bad:
            raise click.BadParameter(f"{bad[0]!r} is not a two-letter US state code", param_hint="--state")
        if abroad:
            raise click.UsageError("--abroad says the employer posts in no US state: give it or --state, not both")
    token = None
    if board:
        from matching.join import ats_board

        token = ats_board(board) or (None if "/" in board or ":" in board else board)
        if not token:
            raise click.BadParameter(f"{board!r} is no job board token or platform URL", param_hint="--board")
    started = time.perf_counter()
    # What this builds (the index, the answers) all lives until the process ends: cyclic GC passes over it
    # only cost time, so none runs meanwhile; and freeing its millions of objects one by one when the command
    # returns or the interpreter exits would too, so it is kept in a reference cycle that is frozen before
    # collection resumes: frozen objects are never collected, not even at exit.
    with no_gc():
        # A current saved index is read through the database's client library alone; else the usual path.
        index = None if rebuild_index else read_current(app.db_url)
        if index is None:
            from crawler import db as dbmod

            app.engine(create=False)
            with dbmod.session_scope(app.db_url) as session:
                index, _rebuilt = load_index(session, rebuild=rebuild_index)
        from matching.batch import match_batch

        if states or board or abroad:
            from matching.join import posting_hints

            hints = posting_hints(None, states=states, board=token, abroad=abroad)
            results = match_batch(index, queries, dict.fromkeys(queries, hints), jobs)
        else:
            results = match_batch(index, queries, jobs=jobs)
        answers = "[" + ", ".join([r.json_text() for r in results]) + "]" if as_json else ""
        kept: list[object] = [index, results, answers]
        kept.append(kept)
        gc.freeze()
    if as_json:
        click.echo(answers)
        return
    # Imported here: a --json look-up (a script's) prints no table, and rich is a tenth of its start-up.
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"DOL join for {len(queries)} name(s) over {len(index):,} entities")
    for col in ("query", "outcome", "DOL employer", "FEIN", "method", "score", "runner-up"):
        # Names are folded onto more lines on a narrow terminal, never cut short.
        short = col in ("outcome", "FEIN", "method", "score")
        table.add_column(col, overflow="fold", no_wrap=short, ratio=None if short else 1)
    for r in results:
        best = r.best
        ru = r.runner_up
        table.add_row(
            r.query,
            r.outcome,
            "\n".join(m.name for m in r.matches) or "-",
            "\n".join(m.as_json()["fein"] or "-" for m in r.matches) or "-",
            best.method if best else "-",
            f"{best.score:.0f}" if best else "-",
            f"{ru.name} ({ru.score:.0f})" if ru else "-",
        )
    console = Console()
    console.print(table)
    console.print(f"{time.perf_counter() - started:.2f} s")


def match_and_tag_step(db_url: str, console: Console | None = None) -> dict[str, int]:
    """Recompute the join and the tags, and print what changed as a table."""
    from rich.console import Console
    from rich.table import Table

    from crawler import db as dbmod
    from matching.matchindex import load_index
    from matching.tagging import match_and_tag

    console = console or Console()
    started = time.perf_counter()
    from crawler.cli.progress import StepProgress

    with StepProgress(console, "match", total=1, unit="steps") as progress, dbmod.session_scope(db_url) as s:
        stats = match_and_tag(s, load_index(s)[0])
        progress.update(done=1, items=stats.get("postings", 0))
    table = Table(title=f"join and tags recomputed in {time.perf_counter() - started:.1f} s")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in sorted(stats):
        table.add_row(key.replace("_", " "), f"{stats[key]:,}")
    console.print(table)
    return stats


@main.command("match")
@pass_app
def match_all(app: AppContext) -> None:
    """Recompute the employer join and the sponsorship tags of every posting."""
    app.engine(create=False)  # nothing to join in a database that does not exist yet
    match_and_tag_step(app.db_url)
