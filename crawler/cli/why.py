"""`jobagg why POSTING`: why a posting got its sponsorship tags, in words and figures a person can check."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app
from crawler.models import Posting, PostingSponsorship
from crawler.web import labels
from matching.overrides import filer_profiles, profile_text

VISA_LABEL = {"green_card": "green card (PERM)", "h1b": "H-1B (LCA, USCIS hub)"}


def find_posting(session: Any, ref: str) -> Posting | None:
    """A posting by id, by its URL, or by `ats/board/source_id` (the board token may itself contain a slash)."""
    if ref.isascii() and ref.isdigit():
        return session.get(Posting, int(ref))
    if ref.startswith(("http://", "https://")):
        return session.scalars(select(Posting).where(Posting.url == ref).order_by(Posting.id)).first()
    ats, _, rest = ref.partition("/")
    board, _, source_id = rest.rpartition("/")
    if not (ats and board and source_id):
        return None
    return session.scalar(
        select(Posting).where(Posting.ats == ats, Posting.board == board, Posting.source_id == source_id)
    )


def render(
    console: Console,
    posting: Posting,
    tags: dict[str, PostingSponsorship],
    profiles: dict[int, dict[str, Any]] | None = None,
) -> None:
    """The posting's tags in words and tables; `profiles` (entity id -> `filer_profiles`) say where each joined
    filer is, what it does and when it filed, for a reader checking the join."""
    place = ", ".join(x for x in (posting.city, posting.region, posting.country) if x) or "place unknown"
    console.print(f"[bold]{posting.title}[/bold] at {posting.employer_name or '?'} ({place}) #{posting.id}")
    console.print(posting.url)
    if not tags:
        console.print(
            "no sponsorship tags: the posting is outside the US, or `jobagg match` has not run since it was stored"
        )
        return
    for visa in ("green_card", "h1b"):
        tag = tags.get(visa)
        if tag is None:
            continue
        ev = tag.evidence
        console.rule(f"{VISA_LABEL[visa]}: {tag.tag}")
        console.print(f"why: {ev.get('reason')}")
        ad = ev.get("ad") or {}
        said = ad.get("statement", "not_mentioned").replace("_", " ")
        console.print(f"the ad: {said}" + (f' - "{ad["sentence"]}"' if ad.get("sentence") else ""))
        employer = ev.get("employer") or {}
        console.print(
            f"join: {employer.get('query', posting.employer_name)!r} -> {employer.get('outcome', 'none')}"
            + (
                f" by {labels.join_method(employer['method'])}, score {employer['score']}"
                if employer.get("method")
                else ""
            )
        )
        data = ev.get("data") or {}
        if ev.get("window"):
            lo, hi = ev["window"]
            age = f", {data['age_days']} days old" if data.get("age_days") is not None else ""
            latest = data.get("latest_decision") or "none"
            console.print(f"counted over FY{lo}-{hi} (as of {ev.get('as_of')}); newest decision loaded: {latest}{age}")
        for entity in employer.get("entities") or []:
            _entity_table(console, visa, entity, ev, (profiles or {}).get(entity.get("entity_id") or 0))
        runner = employer.get("runner_up")
        if runner:
            # Unsure joins choose nobody: the nearest filer is what a person would check (or add an alias for).
            console.print(f"nearest other DOL filer: {runner['name']} ({runner['method']} {runner['score']}), not used")


# Rows of the by-level table: what is counted, and how each level shows it.
_ROWS = (
    ("certified", lambda lv: str(lv["certified"])),
    ("denied", lambda lv: str(lv["denied"])),
    ("withdrawn", lambda lv: str(lv["withdrawn"])),
    ("same seniority", lambda lv: str(lv["same_level"])),
    ("wage levels", lambda lv: labels.wage_levels(lv.get("wage_levels"), "-")),
    ("offered wage", lambda lv: labels.money_range(lv.get("offered_wage"), "-")),
)
# The fiscal-year table's columns per visa: (header, keys summed from the stored year figures).
_YEAR_COLS = {
    "green_card": (
        ("certified", ("certified",)),
        ("of them ML", ("ml_occupation_certified",)),
        ("denied", ("denied",)),
        ("withdrawn", ("withdrawn",)),
    ),
    "h1b": (
        ("LCAs certified", ("lca_certified",)),
        ("of them ML", ("lca_ml_occupation_certified",)),
        ("LCAs denied", ("lca_denied",)),
        ("USCIS approved", ("uscis_initial_approval", "uscis_continuing_approval")),
        ("USCIS denied", ("uscis_initial_denial", "uscis_continuing_denial")),
    ),
}
# Fiscal years shown; the stored evidence (`--json`) has them all.
YEARS_SHOWN = 6


def _entity_table(
    console: Console, visa: str, entity: dict[str, Any], ev: dict[str, Any], profile: dict[str, Any] | None = None
) -> None:
    chosen = " (the tag rests on this filer)" if entity.get("chosen") else ""
    fein = f", FEIN {entity['fein']}" if entity.get("fein") else ""
    method = labels.join_method(entity["method"], entity.get("via"))
    console.print(f"[bold]{entity['name']}[/bold]{fein}, matched by {method}, score {entity['score']}{chosen}")
    if about := profile_text(profile):
        console.print(f"the filer's city, industry and filing years: {about}")
    # One column per level, so that the table fits an 80-column terminal.
    levels = [(label, entity[key]) for key, label in labels.LEVELS.items() if entity.get(key)]
    if levels:
        table = Table(show_edge=False, pad_edge=False)
        table.add_column("in the window")
        for label, _level in levels:
            table.add_column(label, justify="right")
        for name, show in _ROWS:
            table.add_row(name, *(show(level) for _label, level in levels))
        console.print(table)
    pay = (ev.get("posting") or {}).get("annual_pay_usd")
    if pay:
        console.print(f"this posting pays {labels.money_range(pay, '-')} USD a year")
    outside = (entity.get("similar_role") or {}).get("outside_ml")
    if outside:
        console.print(f"of the similar roles, {outside} certified under this job's title outside ML occupation codes")
    if visa == "green_card" and entity.get("similar_titles"):
        console.print("similar titles certified: " + "; ".join(entity["similar_titles"]))
    if visa == "green_card" and entity.get("perm_median_processing_days") is not None:
        console.print(
            f"median PERM processing time: {entity['perm_median_processing_days']} days (received to decision)"
        )
    if visa == "h1b" and entity.get("uscis"):
        hub = entity["uscis"]
        console.print(f"USCIS hub in the window: {hub['approvals']} approvals, {hub['denials']} denials")
    years = entity.get("by_fiscal_year") or {}
    if years:
        cols = _YEAR_COLS[visa]
        table = Table(show_edge=False, pad_edge=False, title="by fiscal year", title_justify="left")
        table.add_column("FY")
        for header, _keys in cols:
            table.add_column(header, justify="right")
        for fy in sorted(years, reverse=True)[:YEARS_SHOWN]:
            row = years[fy]
            table.add_row(fy, *(str(sum(row.get(k) or 0 for k in keys)) for _h, keys in cols))
        console.print(table)
    kind = "perm" if visa == "green_card" else "lca"
    cases = (entity.get("sample_cases") or {}).get(kind)
    if cases:
        console.print(f"{kind.upper()} case numbers to look up: {', '.join(cases)}")


@main.command("why")
@click.argument("posting")
@click.option("--json", "as_json", is_flag=True, help="Print the stored evidence as JSON.")
@pass_app
def why(app: AppContext, posting: str, as_json: bool) -> None:
    """Why POSTING (an id, its URL, or ats/board/source_id) got its sponsorship tags."""
    with dbmod.session_scope(app.db_url) as session:
        found = find_posting(session, posting)
        if found is None:
            raise click.ClickException(f"no posting {posting!r}: give its id, its URL or ats/board/source_id")
        tags = {
            t.visa: t
            for t in session.scalars(select(PostingSponsorship).where(PostingSponsorship.posting_id == found.id))
        }
        if as_json:
            click.echo(json.dumps({visa: t.evidence for visa, t in tags.items()}, ensure_ascii=False, indent=1))
            return
        ids = {
            e["entity_id"]
            for t in tags.values()
            for e in (t.evidence.get("employer") or {}).get("entities") or []
            if e.get("entity_id")
        }
        render(Console(), found, tags, filer_profiles(session, ids) if ids else None)
