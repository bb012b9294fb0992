"""Join displayed employers to DOL entities and tag every posting's sponsorship, with checkable evidence.

Tag rules (DESIGN.md §4), per visa kind (`green_card` from PERM, `h1b` from LCA and the USCIS hub):
- the ad explicitly refuses sponsorship → `unlikely`, whatever the history says;
- no DOL join, or no data of that kind loaded → `unknown` (`possible` if the ad offers sponsorship);
- certified filings in the last three fiscal years of data, ≥ 3 of them (for an ML posting, at least one for
  an ML occupation), or ≥ 1 when the ad also offers sponsorship → `likely`;
- any certified filing ever, or the ad offers sponsorship → `possible`;
- joined, data loaded, nothing certified → `unlikely`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from crawler.models import (
    DolCase,
    DolEntity,
    DolEntityYear,
    Employer,
    EmployerMatch,
    Posting,
    PostingSponsorship,
    UscisEmployerYear,
    utcnow,
)
from matching.bulk import delete_ids, diff_rows, insert_rows, update_rows
from matching.join import EntityIndex, MatchResult
from matching.normalize import format_fein

WINDOW_YEARS = 3
LIKELY_MIN = 3
VISAS = ("green_card", "h1b")
# SQLite caps bound parameters per statement; stay well under every backend's limit.
IN_CHUNK = 900


@dataclass
class DataCoverage:
    """The latest fiscal year loaded per source; None means that source was never loaded."""

    perm: int | None
    lca: int | None
    uscis: int | None


def coverage(session: Session) -> DataCoverage:
    def latest(kind: str) -> int | None:
        return session.scalar(select(func.max(DolCase.fiscal_year)).where(DolCase.kind == kind))

    return DataCoverage(latest("perm"), latest("lca"), session.scalar(select(func.max(UscisEmployerYear.fiscal_year))))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _entity_evidence(session: Session, entity_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not entity_ids:
        return out
    # populate_existing: a session that loaded these rows before a rebuild must not serve its stale copies.
    fresh = {"populate_existing": True}
    for e in session.scalars(select(DolEntity).where(DolEntity.id.in_(entity_ids)).execution_options(**fresh)):
        out[e.id] = {"entity": e, "years": []}
    years = (
        select(DolEntityYear)
        .where(DolEntityYear.entity_id.in_(entity_ids))
        .order_by(DolEntityYear.entity_id, DolEntityYear.fiscal_year)
        .execution_options(**fresh)
    )
    for y in session.scalars(years):
        out[y.entity_id]["years"].append(y)
    return out


def _match_evidence(result: MatchResult | None, entities: dict[int, dict[str, Any]]) -> dict[str, Any]:
    if result is None:
        return {"outcome": "none"}
    ents = []
    for c in result.matches:
        e = entities[c.entity_id]["entity"] if c.entity_id in entities else None
        ents.append(
            {
                "name": c.name,
                "fein": format_fein(c.fein),
                "method": c.method,
                "score": round(c.score, 1),
                "staffing_firm": bool(e and e.is_staffing),
                "sample_cases": (e.sample_cases if e else None) or {},
            }
        )
    ru = result.runner_up
    return {
        "query": result.query,
        "outcome": result.outcome,
        "method": result.best.method if result.best else None,
        "score": round(result.best.score, 1) if result.best else None,
        "entities": ents,
        "runner_up": ru.as_json() if ru else None,
    }


def _sum_years(years: Iterable[DolEntityYear]) -> dict[int, dict[str, Any]]:
    by_fy: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    for y in years:
        row = by_fy[y.fiscal_year]
        for attr in (
            "perm_certified",
            "perm_certified_expired",
            "perm_denied",
            "perm_withdrawn",
            "perm_ml",
            "perm_ml_certified",
            "lca_certified",
            "lca_denied",
            "lca_withdrawn",
            "lca_ml_certified",
            "lca_secondary",
        ):
            row[attr] += getattr(y, attr) or 0
        for attr in (
            "uscis_initial_approval",
            "uscis_initial_denial",
            "uscis_continuing_approval",
            "uscis_continuing_denial",
        ):
            val = getattr(y, attr)
            if val is not None:
                row[attr] = (row.get(attr) or 0) + val
        for attr in ("perm_latest_decision", "lca_latest_decision"):
            val = getattr(y, attr)
            if val and (row.get(attr) in (None, 0) or val > row[attr]):
                row[attr] = val
        if y.perm_wage_min is not None:
            row["perm_wage_min"] = min(row.get("perm_wage_min") or y.perm_wage_min, y.perm_wage_min)
            row["perm_wage_max"] = max(row.get("perm_wage_max") or 0, y.perm_wage_max or 0)
        if y.perm_wage_levels:
            levels = row.setdefault("perm_wage_levels", {})
            for k, n in y.perm_wage_levels.items():
                levels[k] = levels.get(k, 0) + n
            # Sorted keys: the evidence JSON must not depend on which entity's levels came first.
            row["perm_wage_levels"] = dict(sorted(levels.items()))
    return by_fy


def score_posting(
    statement: str | None,
    sentence: str | None,
    is_ml: bool | None,
    result: MatchResult | None,
    entities: dict[int, dict[str, Any]],
    cov: DataCoverage,
) -> dict[str, tuple[str, dict[str, Any]]]:
    """visa -> (tag, evidence) for one posting; pure apart from the pre-loaded entity rows."""
    ad = {"statement": statement or "not_mentioned", "sentence": sentence}
    refused = statement == "refused"
    offered = statement == "offered"
    matched = result is not None and result.outcome == "matched"
    years: list[DolEntityYear] = []
    if matched and result is not None:
        for c in result.matches:
            years.extend(entities.get(c.entity_id, {}).get("years", []))
    by_fy = _sum_years(years)
    match_ev = _match_evidence(result, entities)
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for visa in VISAS:
        latest = cov.perm if visa == "green_card" else max(cov.lca or 0, cov.uscis or 0) or None
        window = (latest - WINDOW_YEARS + 1, latest) if latest else None
        table: dict[str, dict[str, Any]] = {}
        recent = recent_ml = ever = 0
        latest_decision: date | None = None
        for fy in sorted(by_fy, reverse=True):
            row = by_fy[fy]
            if visa == "green_card":
                certified = row["perm_certified"] + row["perm_certified_expired"]
                ml = row["perm_ml_certified"]
                entry = {
                    "certified": row["perm_certified"],
                    "certified_expired": row["perm_certified_expired"],
                    "denied": row["perm_denied"],
                    "withdrawn": row["perm_withdrawn"],
                    "ml_occupation": row["perm_ml"],
                    "ml_occupation_certified": ml,
                }
                if row.get("perm_wage_min") is not None:
                    entry["offered_wage_range"] = [row["perm_wage_min"], row.get("perm_wage_max")]
                if row.get("perm_wage_levels"):
                    entry["wage_levels"] = row["perm_wage_levels"]
                decided = row.get("perm_latest_decision") or None
            else:
                approvals = (row.get("uscis_initial_approval") or 0) + (row.get("uscis_continuing_approval") or 0)
                certified = row["lca_certified"] + approvals
                ml = row["lca_ml_certified"]
                entry = {
                    "lca_certified": row["lca_certified"],
                    "lca_denied": row["lca_denied"],
                    "lca_withdrawn": row["lca_withdrawn"],
                    "lca_ml_occupation_certified": ml,
                    "uscis_initial_approval": row.get("uscis_initial_approval"),
                    "uscis_initial_denial": row.get("uscis_initial_denial"),
                    "uscis_continuing_approval": row.get("uscis_continuing_approval"),
                    "uscis_continuing_denial": row.get("uscis_continuing_denial"),
                }
                decided = row.get("lca_latest_decision") or None
            if not any(val for val in entry.values() if isinstance(val, int)):
                continue
            table[str(fy)] = entry
            ever += certified
            if window and window[0] <= fy <= window[1]:
                recent += certified
                recent_ml += ml
            if decided and (latest_decision is None or decided > latest_decision):
                latest_decision = decided
        relevant_ok = recent_ml >= 1 or not is_ml
        source = "PERM" if visa == "green_card" else "LCA/USCIS"
        if refused:
            tag, reason = "unlikely", "the ad says the employer does not sponsor; that outranks filing history"
        elif not matched:
            tag = "possible" if offered else "unknown"
            reason = "no DOL employer joined" + ("; the ad offers sponsorship" if offered else "")
        elif latest is None:
            tag = "possible" if offered else "unknown"
            reason = f"no {source} data loaded" + ("; the ad offers sponsorship" if offered else "")
        elif (recent >= LIKELY_MIN and relevant_ok) or (recent >= 1 and offered):
            tag = "likely"
            reason = f"{recent} certified {source} filings in FY{window[0]}-{window[1]}" if window else ""
            if is_ml:
                reason += f", {recent_ml} for ML occupations"
        elif ever >= 1 or offered:
            tag = "possible"
            reason = (
                f"{recent} certified {source} filings in FY{window[0]}-{window[1]}, {ever} in all loaded years"
                if window
                else ""
            )
            if is_ml and recent and not recent_ml:
                reason += "; none recent for ML occupations"
            if offered and not ever:
                reason = "no certified filings, but the ad offers sponsorship"
        else:
            tag, reason = "unlikely", f"joined, but no certified {source} filings in the loaded data"
        evidence = {
            "visa": visa,
            "tag": tag,
            "reason": reason,
            "ad": ad,
            "employer": match_ev,
            "window": list(window) if window else None,
            "certified_recent": recent,
            "certified_recent_ml": recent_ml,
            "certified_all_years": ever,
            "latest_decision": _iso(latest_decision),
            "by_fiscal_year": table,
        }
        out[visa] = (tag, evidence)
    return out


def _upsert(
    session: Session,
    table: Table,
    want: dict[Any, dict[str, Any]],
    have: dict[Any, dict[str, Any]],
    stamp: str,
) -> None:
    """Make `table` hold `want` (by natural key): unchanged rows keep their id and `stamp` time, others get now."""
    inserts, updates, gone = diff_rows(want, have)
    now = utcnow()
    for row in (*inserts, *updates):
        row[stamp] = now
    conn = session.connection()
    delete_ids(conn, table, [old["id"] for old in gone])
    update_rows(conn, table, updates)
    insert_rows(conn, table, inserts)


def match_and_tag(session: Session, index: EntityIndex | None = None) -> dict[str, int]:
    """Recompute the join for every employer with postings and the tags of every posting.

    Idempotent down to the row: join rows and tags are upserted, so unchanged ones keep their ids and times.
    """
    employers = session.execute(
        select(Employer.id, Employer.name).where(select(Posting.id).where(Posting.employer_id == Employer.id).exists())
    ).all()
    posting_rows = session.execute(
        select(
            Posting.id,
            Posting.employer_id,
            Posting.employer_name,
            Posting.is_ml,
            Posting.sponsorship_statement,
            Posting.sponsorship_sentence,
        )
    ).all()
    stats: Counter[str] = Counter()
    if not posting_rows:
        session.execute(delete(PostingSponsorship))
        return {"employers": 0, "postings": 0}
    index = index or EntityIndex.from_session(session)
    results: dict[int, MatchResult] = {}
    match_rows: dict[tuple[int, int], dict[str, Any]] = {}
    for emp in employers:
        res = index.match(emp.name)
        results[emp.id] = res
        stats[f"employers_{res.outcome}"] += 1
        chosen = {c.entity_id for c in res.matches}
        ru = next((c for c in res.alternatives if c.entity_id not in chosen), None)
        for role, c in [("match", c) for c in res.matches] + ([("runner_up", ru)] if ru is not None else []):
            match_rows[(emp.id, c.entity_id)] = {
                "employer_id": emp.id,
                "entity_id": c.entity_id,
                "role": role,
                "score": c.score,
                "method": c.method,
                "outcome": res.outcome,
            }
    m = EmployerMatch.__table__
    have_matches: dict[tuple[int, int], dict[str, Any]] = {}
    emp_ids = sorted(results)
    for i in range(0, len(emp_ids), IN_CHUNK):
        stmt = select(m).where(m.c.employer_id.in_(emp_ids[i : i + IN_CHUNK]))
        have_matches.update({(r["employer_id"], r["entity_id"]): dict(r) for r in session.execute(stmt).mappings()})
    _upsert(session, m, match_rows, have_matches, "matched_at")
    # Postings without an Employer row still get tagged from the name they show.
    by_name: dict[str, MatchResult] = {}
    for p in posting_rows:
        if p.employer_id is None and p.employer_name and p.employer_name not in by_name:
            by_name[p.employer_name] = index.match(p.employer_name)
    all_results = list(results.values()) + list(by_name.values())
    entity_ids = sorted({c.entity_id for r in all_results for c in r.matches})
    entities = _entity_evidence(session, entity_ids)
    cov = coverage(session)
    tag_rows: dict[tuple[int, str], dict[str, Any]] = {}
    for p in posting_rows:
        res = results.get(p.employer_id) if p.employer_id is not None else by_name.get(p.employer_name or "")
        if res is None and p.employer_id is not None:
            # An Employer row without postings query race: match on the fly.
            res = index.match(p.employer_name or "")
        tags = score_posting(p.sponsorship_statement, p.sponsorship_sentence, p.is_ml, res, entities, cov)
        for visa, (tag, evidence) in tags.items():
            stats[f"{visa}_{tag}"] += 1
            # Through JSON and back, so it compares equal to what the database returns when nothing changed.
            evidence = json.loads(json.dumps(evidence))
            tag_rows[(p.id, visa)] = {
                "posting_id": p.id,
                "visa": visa,
                "tag": tag,
                "reason": (evidence.get("reason") or "")[:300] or None,
                "evidence": evidence,
            }
    t = PostingSponsorship.__table__
    have_tags = {(r["posting_id"], r["visa"]): dict(r) for r in session.execute(select(t)).mappings()}
    _upsert(session, t, tag_rows, have_tags, "computed_at")
    stats["employers"] = len(employers)
    stats["postings"] = len(posting_rows)
    return dict(stats)
