"""Build employer entities from stored filings: group by FEIN, back-fill FEIN-less rows by name, aggregate per year.

Rules: a FEIN is the identity when the file has one. A FEIN-less filing joins a FEIN entity only when one FEIN
clearly owns its name (≥ 90 % of that name's FEIN-bearing filings, in the same state when the state is known);
otherwise it forms a name-keyed entity. Two FEINs are never merged, however alike their names.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz
from rich.progress import Progress
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from crawler.models import (
    DolCase,
    DolEntity,
    DolEntityName,
    DolEntityYear,
    EmployerMatch,
    UscisEmployerYear,
    utcnow,
)
from matching import values as v
from matching.bulk import insert_rows
from matching.normalize import blocking_tokens, clean_name, core_key, full_key, legal_key, split_dba

OWNER_SHARE = 0.9
STAFFING_SHARE = 0.5
STAFFING_MIN_LCAS = 5
BATCH = 5000


@dataclass
class _Acc:
    """Everything accumulated for one entity while scanning filings."""

    fein: str | None
    names: Counter[tuple[str, str]] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    years: dict[int, dict[str, Any]] = field(default_factory=dict)
    perm: int = 0
    lca: int = 0
    lca_h1b: int = 0
    lca_secondary: int = 0
    uscis: int = 0
    samples: dict[str, list[tuple[date, str]]] = field(default_factory=lambda: {"perm": [], "lca": []})

    def year(self, fy: int) -> dict[str, Any]:
        y = self.years.get(fy)
        if y is None:
            y = self.years[fy] = {
                "perm_certified": 0,
                "perm_certified_expired": 0,
                "perm_denied": 0,
                "perm_withdrawn": 0,
                "perm_ml": 0,
                "perm_ml_certified": 0,
                "perm_wage_min": None,
                "perm_wage_max": None,
                "perm_wage_levels": None,
                "perm_latest_decision": None,
                "lca_certified": 0,
                "lca_denied": 0,
                "lca_withdrawn": 0,
                "lca_ml_certified": 0,
                "lca_secondary": 0,
                "lca_latest_decision": None,
                "uscis_initial_approval": None,
                "uscis_initial_denial": None,
                "uscis_continuing_approval": None,
                "uscis_continuing_denial": None,
            }
        return y


# Which FEINs file under a name: (fein, count) while there is only one (the common case), else a Counter.
_Feins = tuple[str, int] | Counter[str]


def _bump(table: dict[Any, _Feins], key: Any, fein: str) -> None:
    cur = table.get(key)
    if cur is None:
        table[key] = (fein, 1)
    elif isinstance(cur, tuple):
        if cur[0] == fein:
            table[key] = (fein, cur[1] + 1)
        else:
            table[key] = Counter({cur[0]: cur[1], fein: 1})
    else:
        cur[fein] += 1


def _owner(feins: _Feins | None) -> str | None:
    """The FEIN that clearly owns a name, or None when nobody does or several share it."""
    if not feins:
        return None
    if isinstance(feins, tuple):
        return feins[0]
    (top, n), total = feins.most_common(1)[0], sum(feins.values())
    return top if n / total >= OWNER_SHARE else None


def _later(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


@dataclass
class BuildSummary:
    cases: int
    uscis_rows: int
    entities: int
    fein_entities: int
    backfilled: int
    names: int
    seconds: float


def build_entities(session: Session, progress: Progress | None = None) -> BuildSummary:
    """Rebuild dol_entities and their names and yearly aggregates from all stored filings (idempotent)."""
    started = time.perf_counter()
    task = progress.add_task("building employer entities", total=4) if progress else None

    def step() -> None:
        if progress is not None and task is not None:
            progress.advance(task)

    c = DolCase.__table__.c
    rows = session.execute(
        select(
            c.kind,
            c.case_number,
            c.fein,
            c.employer_name,
            c.trade_name,
            c.state,
            c.fiscal_year,
            c.status,
            c.visa_class,
            c.is_ml,
            c.decision_date,
            c.wage_from,
            c.wage_unit,
            c.wage_level,
            c.secondary_entity,
        )
    ).all()
    # Pass 1: which FEIN files under which name (and name + state)? Two keys: with and without legal suffix.
    by_key: dict[str, _Feins] = {}
    by_key_state: dict[tuple[str, str], _Feins] = {}
    keys: list[tuple[str, str]] = []
    variants: list[str] = []
    for r in rows:
        # One spelling per name from here on, so every normalisation cache hits.
        vname = " ".join(r.employer_name.upper().split())
        variants.append(vname)
        pair = ("F" + full_key(vname), "L" + legal_key(vname))
        keys.append(pair)
        if r.fein:
            for k in pair:
                _bump(by_key, k, r.fein)
                if r.state:
                    _bump(by_key_state, (k, r.state), r.fein)
    step()

    accs: dict[str, _Acc] = {}
    backfilled = 0

    def owner_of(pair: tuple[str, str], state: str | None) -> str | None:
        """Exact name (suffix kept) before legal name; same state before anywhere; ambiguity stops the search."""
        for k in pair:
            if state and (k, state) in by_key_state:
                return _owner(by_key_state[(k, state)])
            if k in by_key:
                return _owner(by_key[k])
        return None

    def entity_for(fein: str | None, pair: tuple[str, str], state: str | None) -> str:
        nonlocal backfilled
        if fein:
            key = f"fein:{fein}"
        else:
            owner = owner_of(pair, state)
            if owner:
                backfilled += 1
                key = f"fein:{owner}"
            else:
                key = f"name:{pair[1][1:]}"
        if key not in accs:
            accs[key] = _Acc(key[5:] if key.startswith("fein:") else None)
        return key

    # Pass 2: PERM and LCA cases.
    for r, pair, vname in zip(rows, keys, variants, strict=True):
        lk = pair[1][1:]
        acc = accs[entity_for(r.fein, pair, r.state)]
        _legal, dba = split_dba(vname)
        acc.names[(vname, r.kind)] += 1
        for trade in (r.trade_name, dba):
            if trade and clean_name(trade) and legal_key(trade) != lk:
                acc.names[(" ".join(trade.upper().split()), "trade")] += 1
        if r.state:
            acc.states[r.state] += 1
        if r.decision_date:
            acc.samples[r.kind].append((r.decision_date, r.case_number))
        if r.kind == "perm":
            acc.perm += 1
        else:
            acc.lca += 1
        if r.fiscal_year is None:
            continue
        y = acc.year(r.fiscal_year)
        status = r.status
        if r.kind == "perm":
            if status == "certified_withdrawn":
                status = "withdrawn"
            if status in ("certified", "certified_expired", "denied", "withdrawn"):
                y[f"perm_{status}"] += 1
            if r.is_ml:
                y["perm_ml"] += 1
                if status in ("certified", "certified_expired"):
                    y["perm_ml_certified"] += 1
            wage = v.annual(r.wage_from, r.wage_unit)
            if wage is not None and status in ("certified", "certified_expired"):
                y["perm_wage_min"] = wage if y["perm_wage_min"] is None else min(y["perm_wage_min"], wage)
                y["perm_wage_max"] = wage if y["perm_wage_max"] is None else max(y["perm_wage_max"], wage)
            if r.wage_level:
                levels = y["perm_wage_levels"] = y["perm_wage_levels"] or {}
                levels[r.wage_level] = levels.get(r.wage_level, 0) + 1
            y["perm_latest_decision"] = _later(y["perm_latest_decision"], r.decision_date)
        else:
            # Only H-1B counts for H-1B tags; E-3 and H-1B1 LCAs are other visas.
            if (r.visa_class or "H-1B").upper().replace(" ", "") not in ("H-1B", "H1B"):
                continue
            acc.lca_h1b += 1
            if r.secondary_entity:
                acc.lca_secondary += 1
                y["lca_secondary"] += 1
            if status == "certified":
                y["lca_certified"] += 1
                if r.is_ml:
                    y["lca_ml_certified"] += 1
            elif status == "denied":
                y["lca_denied"] += 1
            elif status in ("withdrawn", "certified_withdrawn"):
                y["lca_withdrawn"] += 1
            y["lca_latest_decision"] = _later(y["lca_latest_decision"], r.decision_date)
    step()

    # Pass 3: USCIS hub rows attach by FEIN last four + similar name, else by clear name ownership.
    fein_names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for acc in accs.values():
        if acc.fein:
            for name, _src in acc.names:
                fein_names[acc.fein[-4:]][acc.fein].add(clean_name(name))
    u = UscisEmployerYear.__table__.c
    hub = session.execute(
        select(
            u.fiscal_year,
            u.employer_name,
            u.tax_id,
            u.state,
            u.initial_approval,
            u.initial_denial,
            u.continuing_approval,
            u.continuing_denial,
        )
    ).all()
    for h in hub:
        hub_clean = clean_name(h.employer_name)
        fein = None
        candidates = fein_names.get(h.tax_id, {}) if h.tax_id else {}
        scored = []
        for cand_fein, names in candidates.items():
            best = max(_hub_similarity(hub_clean, n) for n in names)
            if best >= 85:
                scored.append((best, cand_fein))
        if len(scored) == 1 or (len(scored) > 1 and sorted(scored)[-1][0] - sorted(scored)[-2][0] >= 10):
            fein = max(scored)[1]
        pair = ("F" + full_key(h.employer_name), "L" + legal_key(h.employer_name))
        acc = accs[entity_for(fein, pair, h.state or None)]
        acc.names[(" ".join(h.employer_name.upper().split()), "uscis")] += 1
        acc.uscis += 1
        if h.state:
            acc.states[h.state] += 1
        y = acc.year(h.fiscal_year)
        for f in ("initial_approval", "initial_denial", "continuing_approval", "continuing_denial"):
            val = getattr(h, f)
            if val is not None:
                y[f"uscis_{f}"] = (y[f"uscis_{f}"] or 0) + val
    step()

    _write(session, accs)
    step()
    return BuildSummary(
        cases=len(rows),
        uscis_rows=len(hub),
        entities=len(accs),
        fein_entities=sum(1 for a in accs.values() if a.fein),
        backfilled=backfilled,
        names=sum(len(a.names) for a in accs.values()),
        seconds=round(time.perf_counter() - started, 2),
    )


def _hub_similarity(hub_clean: str, dol_clean: str) -> float:
    """The hub cuts names at ~35 characters and abbreviates, so compare prefixes as well as whole names."""
    if dol_clean.startswith(hub_clean) or hub_clean.startswith(dol_clean):
        return 100.0
    return max(fuzz.ratio(hub_clean, dol_clean), fuzz.ratio(hub_clean, dol_clean[: len(hub_clean)]))


def _write(session: Session, accs: dict[str, _Acc]) -> None:
    for model in (EmployerMatch, DolEntityName, DolEntityYear, DolEntity):
        session.execute(delete(model))
    entities: list[dict[str, Any]] = []
    names: list[dict[str, Any]] = []
    years: list[dict[str, Any]] = []
    for entity_id, (key, acc) in enumerate(sorted(accs.items()), start=1):
        legal_names = [(n, c) for (n, src), c in acc.names.items() if src != "trade"] or [
            (n, c) for (n, _), c in acc.names.items()
        ]
        display = max(legal_names, key=lambda nc: (nc[1], -len(nc[0])))[0]
        samples = {kind: [cn for _d, cn in sorted(lst, reverse=True)[:3]] for kind, lst in acc.samples.items() if lst}
        entities.append(
            {
                "id": entity_id,
                "key": key[:320],
                "name": display[:300],
                "fein": acc.fein,
                "state": acc.states.most_common(1)[0][0] if acc.states else None,
                "is_staffing": acc.lca_h1b >= STAFFING_MIN_LCAS and acc.lca_secondary / acc.lca_h1b > STAFFING_SHARE,
                "perm_cases": acc.perm,
                "lca_cases": acc.lca,
                "uscis_rows": acc.uscis,
                "sample_cases": samples or None,
            }
        )
        seen: dict[str, dict[str, Any]] = {}
        for (name, src), count in acc.names.most_common():
            name = name[:300]
            if name in seen:
                seen[name]["filings"] += count
                continue
            clean = clean_name(name)
            seen[name] = {
                "entity_id": entity_id,
                "name": name,
                "clean": clean[:300],
                "core_key": core_key(name)[:300],
                "legal_key": legal_key(name)[:300],
                # Sorted, so the join's plain ratio equals token_sort_ratio without re-sorting per comparison.
                "tokens": " ".join(sorted(blocking_tokens(clean)))[:300],
                "source": src,
                "filings": count,
            }
        names.extend(seen.values())
        years.extend({"entity_id": entity_id, "fiscal_year": fy, **vals} for fy, vals in acc.years.items())
    conn = session.connection()
    now = utcnow()
    for e in entities:
        e["built_at"] = now
    for table, rows in ((DolEntity, entities), (DolEntityName, names), (DolEntityYear, years)):
        insert_rows(conn, table.__table__, rows)
    if session.get_bind().dialect.name == "postgresql" and entities:
        # Ids were assigned here, so move the sequence past them for any later plain insert.
        session.execute(text("SELECT setval(pg_get_serial_sequence('dol_entities', 'id'), :n)"), {"n": len(entities)})
