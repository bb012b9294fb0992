"""The DOL half of `jobagg demo`: ingest the bundled sample (real layouts), join, tag, summarise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import func, literal, select, update

from crawler import db as dbmod
from crawler.models import DolCase, DolEntity, Employer, EmployerMatch, Posting, PostingSponsorship, UscisEmployerYear
from matching.ingest import ingest_paths
from matching.tagging import match_and_tag


def sample_files() -> list[Path]:
    """The bundled sample: PERM FY2020-24 + new form, LCA FY2020+, USCIS hub (UTF-16 tab-separated)."""
    return sorted((Path(__file__).parent / "data" / "demo").glob("*.csv"))


SAMPLE_PREFIX = "sample:"


def mark_samples(db_url: str) -> None:
    """Prefix the sample's source_file with `sample:` so nobody mistakes its real employer names for DOL data."""
    names = [p.name for p in sample_files()]
    with dbmod.session_scope(db_url) as session:
        for model in (DolCase, UscisEmployerYear):
            session.execute(
                update(model)
                .where(model.source_file.in_(names))
                .values(source_file=literal(SAMPLE_PREFIX) + model.source_file)
            )


def run(db_url: str) -> list[tuple[str, str]]:
    """Ingest the sample, recompute the join and tags; rows for the demo's summary table."""
    summaries = ingest_paths(db_url, sample_files(), progress=False)
    mark_samples(db_url)
    rows: list[tuple[str, str]] = []
    for s in summaries:
        if s.already_loaded:
            rows.append((f"DOL file {Path(s.path).name}", f"{s.layout}: already loaded (same content)"))
        else:
            rows.append(
                (f"DOL file {Path(s.path).name}", f"{s.layout}: {s.inserted} loaded, {s.blank_rows} blank rows")
            )
    with dbmod.session_scope(db_url) as session:
        stats = match_and_tag(session)
        cases = session.scalar(select(func.count()).select_from(DolCase)) or 0
        hub = session.scalar(select(func.count()).select_from(UscisEmployerYear)) or 0
        entities = session.scalar(select(func.count()).select_from(DolEntity)) or 0
        rows.append(("DOL cases / hub rows / employer entities", f"{cases} / {hub} / {entities}"))
        matches = session.execute(
            select(Employer.name, DolEntity.name, DolEntity.fein, EmployerMatch.method, EmployerMatch.score)
            .join(EmployerMatch, EmployerMatch.employer_id == Employer.id)
            .join(DolEntity, DolEntity.id == EmployerMatch.entity_id)
            .where(EmployerMatch.role == "match")
            .order_by(Employer.name)
        ).all()
        joined = {m[0] for m in matches}
        for emp, ent, fein, method, score in matches:
            rows.append(
                (
                    f"join {emp}",
                    f"{ent} (FEIN {fein[:2]}-{fein[2:]}) by {method}, {score:.0f}"
                    if fein
                    else f"{ent} by {method}, {score:.0f}",
                )
            )
        tagged = session.execute(
            select(Posting.employer_name, PostingSponsorship.visa, PostingSponsorship.tag).join(
                PostingSponsorship, PostingSponsorship.posting_id == Posting.id
            )
        ).all()
        per_emp: dict[tuple[str, str], Counter[str]] = {}
        for name, visa, tag in tagged:
            per_emp.setdefault((name or "?", visa), Counter())[tag] += 1
        for (name, visa), counts in sorted(per_emp.items()):
            label = "green card" if visa == "green_card" else "H-1B"
            rows.append((f"{label} tags {name}", ", ".join(f"{t} {n}" for t, n in counts.most_common())))
        unjoined = stats.get("employers", 0) - len(joined)
        rows.append(
            ("employers joined", f"{len(joined)} of {stats.get('employers', 0)} ({unjoined} unsure or unmatched)")
        )
    return rows
