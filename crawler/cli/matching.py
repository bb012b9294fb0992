"""`jobagg employers match` (ask the join about names) and `jobagg match` (recompute the join and the tags)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from crawler.cli import AppContext, main, pass_app

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from matching.join import EntityIndex


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
    from matching.loaded import entities_stale

    with dbmod.session_scope(db_url) as s:
        rebuilt = entities_stale(s)
        if rebuilt:
            # An upgrade that groups filers differently applies to filings loaded before it, without the files.
            console.print("employer entities were built by an older version of jobagg: rebuilding them")
            from matching.entities import build_entities
            from matching.ingest import shown_progress

            with shown_progress() as bar:
                build_entities(s, progress=bar)
    with StepProgress(console, "match", total=1, unit="steps") as progress, dbmod.session_scope(db_url) as s:
        stats = match_and_tag(s, load_index(s)[0])
        progress.update(done=1, items=stats.get("postings", 0))
    if rebuilt:
        stats["entities_rebuilt"] = 1
    # Wide enough for its title on one line; the time follows the table (in the title it wrapped).
    table = Table(title="join and tags recomputed", min_width=30)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in sorted(stats):
        table.add_row(key.replace("_", " "), f"{stats[key]:,}")
    console.print(table)
    console.print(f"in {time.perf_counter() - started:.1f} s")
    return stats


@main.command("match")
@pass_app
def match_all(app: AppContext) -> None:
    """Recompute the employer join and the sponsorship tags of every posting.

    Exit status 75 when a `jobagg run` is in progress (it recomputes them itself; nothing was done)."""
    from crawler.runlock import EXIT_LOCKED

    app.engine(create=False)  # nothing to join in a database that does not exist yet
    refused = _match_unless_running(app.db_url)
    if refused is not None:
        click.echo(f"jobagg match: not started: {refused}", err=True)
        raise SystemExit(EXIT_LOCKED)


def _match_unless_running(db_url: str, console: Console | None = None) -> Exception | None:
    """`match_and_tag_step` holding the run lock; the refusal instead when a `jobagg run` holds it: the join has
    one writer at a time (two would race on its rows), and the run recomputes it anyway."""
    from crawler.runlock import RunLocked, run_lock

    try:
        with run_lock(db_url):
            match_and_tag_step(db_url, console)
    except RunLocked as exc:
        return exc
    return None


def _loaded_index(session: Session) -> EntityIndex | None:
    """The match index (with the stored overrides in force), or None when no filings are loaded."""
    from sqlalchemy import func, select

    from crawler.models import DolEntity
    from matching.matchindex import load_index

    return load_index(session)[0] if session.scalar(select(func.count()).select_from(DolEntity)) else None


def _index_for_overrides(session: Session) -> EntityIndex:
    """`_loaded_index`, or a clear error when no filings are loaded."""
    index = _loaded_index(session)
    if index is None:
        raise click.ClickException("no DOL or USCIS filings are loaded: run `jobagg dol ingest FILE` first")
    return index


def _retag(app: AppContext, console: Console, retag: bool) -> None:
    """After the overrides changed: the join and the tags recomputed now, or a line saying how to later. Not
    beside a `jobagg run` in progress (two writers of the join would race): the override is stored, and the next
    run applies it."""
    if not retag:
        console.print("run `jobagg match` to recompute the join and the tags")
    elif _match_unless_running(app.db_url, console) is not None:
        console.print("a `jobagg run` is in progress: the next run (or `jobagg match`) recomputes the join and tags")


def _record_override(app: AppContext, brand: str, filer: str, blocked: bool, note: str | None, retag: bool) -> None:
    from rich.console import Console
    from sqlalchemy import select

    from crawler import db as dbmod
    from crawler.models import Employer
    from matching.join import alias_key
    from matching.overrides import OverrideError, record

    app.engine(create=False)
    console = Console()
    with dbmod.session_scope(app.db_url) as session:
        index = _index_for_overrides(session)
        try:
            names = record(session, index, brand, filer, blocked=blocked, note=note)
        except OverrideError as exc:
            raise click.BadParameter(str(exc)) from None
        key = alias_key(brand)
        shown = any(alias_key(n) == key for n in session.scalars(select(Employer.name)))
    verb = "is not" if blocked else "is"
    console.print(f"recorded: {brand!r} {verb} {filer!r} ({len(names)} loaded filer name(s): {'; '.join(names[:3])})")
    if not shown:
        console.print("no stored posting shows this employer yet; the override applies when one does")
    _retag(app, console, retag)


def _override_args(fn: Callable[..., None]) -> Callable[..., None]:
    """The arguments and options `employers set` and `employers block` share."""
    for decorate in reversed(
        (
            click.argument("employer"),
            click.argument("filer"),
            click.option("--note", help="Why (kept with the override, shown by `jobagg employers overrides`)."),
            click.option(
                "--no-retag", is_flag=True, help="Only record it; `jobagg match` recomputes the join and tags later."
            ),
            pass_app,
        )
    ):
        fn = decorate(fn)
    return fn


@employers_group.command("set")
@_override_args
def set_override(app: AppContext, employer: str, filer: str, note: str | None, no_retag: bool) -> None:
    """Record that EMPLOYER (as job boards show it) is the DOL filer FILER (a legal name as filed, or
    FEIN:xx-xxxxxxx); repeat for each of its filers. Wins over the alias table and the name rules."""
    _record_override(app, employer, filer, False, note, not no_retag)


@employers_group.command("block")
@_override_args
def block_override(app: AppContext, employer: str, filer: str, note: str | None, no_retag: bool) -> None:
    """Record that EMPLOYER is NOT the DOL filer FILER (a namesake the join chose): it is never chosen again."""
    _record_override(app, employer, filer, True, note, not no_retag)


@employers_group.command("unset")
@click.argument("employer")
@click.argument("filer", required=False)
@click.option("--no-retag", is_flag=True, help="Only drop it; `jobagg match` recomputes the join and tags later.")
@pass_app
def unset_override(app: AppContext, employer: str, filer: str | None, no_retag: bool) -> None:
    """Drop EMPLOYER's overrides (only the one naming FILER, when given): the join decides again."""
    from rich.console import Console

    from crawler import db as dbmod
    from matching.overrides import remove

    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        dropped = remove(session, employer, filer)
    if not dropped:
        what = f"{employer!r} / {filer!r}" if filer else repr(employer)
        raise click.ClickException(f"no override for {what} (see `jobagg employers overrides`)")
    console = Console()
    console.print(f"dropped {dropped} override(s) of {employer!r}")
    _retag(app, console, not no_retag)


@employers_group.command("overrides")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV lines `jobagg employers import` reads back.")
@pass_app
def list_overrides(app: AppContext, as_json: bool, as_csv: bool) -> None:
    """The overrides recorded with `jobagg employers set`, `block` and `import`, each with how many loaded filers
    its filer names now: a filer a later load no longer has joins nothing, and is flagged."""
    import json
    from dataclasses import asdict

    from crawler import db as dbmod
    from matching.overrides import stored

    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        rows = stored(session)
        index = _loaded_index(session) if rows and not as_csv else None
        loaded = [len(index.filer_ids(r.filer)) if index is not None else 0 for r in rows]
    if as_json:
        out = [{**asdict(r), "loaded_filers": n} for r, n in zip(rows, loaded, strict=True)]
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    if as_csv:
        import csv
        import sys

        # The shipped alias table's shape (a ruled-out filer written "!FILER"), plus the note.
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["brand", "filer", "note"])
        out.writerows([r.brand, f"!{r.filer}" if r.blocked else r.filer, r.note or ""] for r in rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} join override(s)")
    for col in ("employer", "is", "DOL filer", "loaded", "note"):
        table.add_column(col, overflow="fold")
    for r, n in zip(rows, loaded, strict=True):
        table.add_row(r.brand, "not" if r.blocked else "is", r.filer, str(n) if n else "[red]none", r.note or "")
    console = Console()
    console.print(table)
    gone = sum(1 for n in loaded if not n)
    if gone:
        console.print(f"{gone} override(s) name a filer no loaded data has: they join nothing until it is loaded again")


@employers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-retag", is_flag=True, help="Only record them; `jobagg match` recomputes the join and tags later.")
@pass_app
def import_overrides(app: AppContext, file: Path, no_retag: bool) -> None:
    """Record every override in FILE (`brand,filer[,note]` lines, "!FILER" for a filer ruled out, as
    `jobagg employers overrides --csv` prints them): all of them, or none when a line is wrong."""
    from rich.console import Console

    from crawler import db as dbmod
    from matching.overrides import OverrideError, read_csv, record

    app.engine(create=False)
    try:
        lines = read_csv(file)
    except OverrideError as exc:
        raise click.ClickException(str(exc)) from None
    errors: list[str] = []
    with dbmod.session_scope(app.db_url) as session:
        index = _index_for_overrides(session)
        for n, o in lines:
            try:
                record(session, index, o.brand, o.filer, blocked=o.blocked, note=o.note)
            except OverrideError as exc:
                errors.append(f"{file}:{n}: {exc}")
        if errors:
            # Raised inside the transaction: the lines recorded before the first wrong one are rolled back.
            shown = "\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else "")
            raise click.ClickException(f"nothing imported, {len(errors)} wrong line(s):\n{shown}")
    console = Console()
    console.print(f"imported {len(lines)} override(s) from {file}")
    _retag(app, console, not no_retag)


@employers_group.command("review")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Employers shown.")
@click.option("--all", "show_all", is_flag=True, help="Matched employers too, to audit what the join chose.")
@click.option(
    "--suspect",
    is_flag=True,
    help="Matched employers too when their join is of a kind often wrong (a near spelling, initials, a small filer "
    "whose name says more, a filer in none of the postings' states), with the reason.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def review(app: AppContext, limit: int, show_all: bool, suspect: bool, as_json: bool) -> None:
    """Employers whose join needs a person: unsure between namesakes, or unjoined with near names, and no override
    recorded yet; those with the most open ML postings first, each with the filers to choose from."""
    import json

    from sqlalchemy import text

    from crawler import db as dbmod
    from matching.join import alias_key
    from matching.overrides import filer_profiles, profile_text, suspicion
    from matching.tagging import employer_hints

    app.engine(create=False)
    with dbmod.session_scope(app.db_url) as session:
        index = _index_for_overrides(session)
        # Every employer with postings and its counts, as front ends read them; the join itself is asked afresh.
        counts = session.execute(
            text("SELECT DISTINCT employer_id, employer, postings, open_ml_postings FROM employer_joins")
        ).all()
        hints = employer_hints(session)
        rows = []
        for eid, name, postings, ml in counts:
            decided = alias_key(name) in index.overrides
            if decided and not show_all:
                continue  # an operator has answered for it already
            hint = hints.get(eid)
            res = index.match(name, hint)
            check = suspicion(index, res, hint) if res.outcome == "matched" else None
            if res.outcome == "matched" and not show_all and not (suspect and check):
                continue
            if res.outcome == "none" and not res.alternatives:
                continue  # nothing to choose from: no filer of a like name is loaded
            shown = res.matches or res.alternatives
            rows.append(
                {
                    "employer": name,
                    "postings": postings,
                    "open_ml_postings": int(ml or 0),
                    "outcome": res.outcome,
                    "method": res.matches[0].method if res.matches else None,
                    "override": decided,
                    "check": check,
                    "filers": [
                        {
                            "name": c.name,
                            "entity_id": c.entity_id,
                            "state": index.entity.state(c.entity_id) or None,
                            "filings": index.filings.get(c.entity_id, 0),
                        }
                        for c in shown[:3]
                    ],
                }
            )
        rows.sort(key=lambda r: (-r["open_ml_postings"], -r["postings"], r["employer"]))
        rows = rows[:limit]
        # Where each filer is, what it does and when it filed: what tells a namesake apart at a glance.
        profiles = filer_profiles(session, (f["entity_id"] for r in rows for f in r["filers"]))
        for r in rows:
            for f in r["filers"]:
                f.update(profiles.get(f.pop("entity_id"), {}))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} employer join(s) to review")
    for col in ("employer", "open ML", "outcome", "DOL filers (state, filings; city; industry; years)"):
        table.add_column(col, overflow="fold", justify="right" if col == "open ML" else "left")
    for r in rows:
        filers = "\n".join(
            f"{f['name']} ({f['state'] or '?'}, {f['filings']:,}"
            + (f"; {about})" if (about := profile_text(f)) else ")")
            for f in r["filers"]
        )
        outcome = f"{r['outcome']} ({r['method']})" if r["method"] else r["outcome"]
        if r["check"]:
            outcome += f"\ncheck: {r['check']}"
        table.add_row(r["employer"], str(r["open_ml_postings"]), outcome, filers)
    console = Console()
    console.print(table)
    if rows:
        console.print(
            'Record the answer: jobagg employers set "EMPLOYER" "DOL FILER" (or `block` for a wrong one); '
            "`jobagg employers unset EMPLOYER` takes it back."
        )
