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
from sqlalchemy import select, text
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
from matching.bulk import delete_ids, diff_rows, insert_rows, update_rows
from matching.normalize import blocking_tokens, clean_name, core_key, full_key, legal_key, split_dba

OWNER_SHARE = 0.9
STAFFING_SHARE = 0.5
STAFFING_MIN_LCAS = 5
BATCH = 5000
# SQLite caps bound parameters per statement; stay well under every backend's limit.
IN_CHUNK = 900


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
    """Rebuild dol_entities and their names and yearly aggregates from all stored filings.

    Idempotent down to the row: entities are reconciled by key, so unchanged ones keep their ids and built_at.
    """
    started = time.perf_counter()
    task = progress.add_task("building employer entities", total=4) if progress else None

    def step() -> None:
        if progress is not None and task is not None:
            progress.advance(task)

    c = DolCase.__table__.c
    rows = session.execute(
        select(
            c.id,
            c.entity_id,
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
        ).order_by(c.kind, c.case_number)
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
    case_keys: list[str] = []
    for r, pair, vname in zip(rows, keys, variants, strict=True):
        lk = pair[1][1:]
        case_key = entity_for(r.fein, pair, r.state)
        case_keys.append(case_key)
        acc = accs[case_key]
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
        ).order_by(u.fiscal_year, u.employer_name, u.tax_id, u.state, u.city, u.zip)
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

    ids = _write(session, accs)
    # Each case points at its entity, so evidence can be aggregated per entity in SQL; only changed links are written.
    links = [
        {"entity_id": ids[key[:320]], "id": r.id}
        for r, key in zip(rows, case_keys, strict=True)
        if r.entity_id != ids[key[:320]]
    ]
    update_rows(session.connection(), DolCase.__table__, links)
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


def _rows_for(key: str, acc: _Acc) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The entity row (no id), its name rows and year rows (no entity id) for one accumulated entity."""
    legal_names = [(n, c) for (n, src), c in acc.names.items() if src != "trade"] or [
        (n, c) for (n, _), c in acc.names.items()
    ]
    # Most filings, then shortest, then alphabetical: ties never depend on the order rows were read.
    display = min(legal_names, key=lambda nc: (-nc[1], len(nc[0]), nc[0]))[0]
    samples = {kind: [cn for _d, cn in sorted(lst, reverse=True)[:3]] for kind, lst in acc.samples.items() if lst}
    state = min(acc.states.items(), key=lambda sc: (-sc[1], sc[0]))[0] if acc.states else None
    entity = {
        "key": key,
        "name": display[:300],
        "fein": acc.fein,
        "state": state,
        "is_staffing": acc.lca_h1b >= STAFFING_MIN_LCAS and acc.lca_secondary / acc.lca_h1b > STAFFING_SHARE,
        "perm_cases": acc.perm,
        "lca_cases": acc.lca,
        "uscis_rows": acc.uscis,
        "sample_cases": samples or None,
    }
    seen: dict[str, dict[str, Any]] = {}
    # A name filed under several sources keeps the most frequent one (alphabetical on a tie).
    for (name, src), count in sorted(acc.names.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])):
        name = name[:300]
        if name in seen:
            seen[name]["filings"] += count
            continue
        clean = clean_name(name)
        seen[name] = {
            "name": name,
            "clean": clean[:300],
            "core_key": core_key(name)[:300],
            "legal_key": legal_key(name)[:300],
            # Sorted, so the join's plain ratio equals token_sort_ratio without re-sorting per comparison.
            "tokens": " ".join(sorted(blocking_tokens(clean)))[:300],
            "source": src,
            "filings": count,
        }
    years = []
    for fy, vals in sorted(acc.years.items()):
        levels = vals["perm_wage_levels"]
        # Sorted keys, so the stored JSON text is the same whatever order the cases came in.
        years.append({"fiscal_year": fy, **vals, "perm_wage_levels": dict(sorted(levels.items())) if levels else None})
    return entity, list(seen.values()), years


def _write(session: Session, accs: dict[str, _Acc]) -> dict[str, int]:
    """Reconcile the stored entities with `accs` by natural key: unchanged rows (and their ids) stay as they are."""
    conn = session.connection()
    ent_t, name_t, year_t = DolEntity.__table__, DolEntityName.__table__, DolEntityYear.__table__
    have_ents = {r["key"]: dict(r) for r in conn.execute(select(ent_t)).mappings()}
    next_id = max((r["id"] for r in have_ents.values()), default=0) + 1
    want_ents: dict[str, dict[str, Any]] = {}
    want_names: dict[tuple[int, str], dict[str, Any]] = {}
    want_years: dict[tuple[int, int], dict[str, Any]] = {}
    for key, acc in sorted(accs.items()):
        key = key[:320]
        entity, names, years = _rows_for(key, acc)
        if key in have_ents:
            entity_id = have_ents[key]["id"]
        else:
            # New entities get ids in key order after the highest one in use: the same inputs, the same ids.
            entity_id, next_id = next_id, next_id + 1
        want_ents[key] = {"id": entity_id, **entity}
        for n in names:
            want_names[(entity_id, n["name"])] = {"entity_id": entity_id, **n}
        for y in years:
            want_years[(entity_id, y["fiscal_year"])] = {"entity_id": entity_id, **y}
    have_names = {(r["entity_id"], r["name"]): dict(r) for r in conn.execute(select(name_t)).mappings()}
    have_years = {(r["entity_id"], r["fiscal_year"]): dict(r) for r in conn.execute(select(year_t)).mappings()}
    for r in have_ents.values():
        # built_at is not an input: it follows from whether anything else changed.
        del r["built_at"]
    ent_ins, ent_upd, ent_del = diff_rows(want_ents, have_ents)
    name_ins, name_upd, name_del = diff_rows(want_names, have_names)
    year_ins, year_upd, year_del = diff_rows(want_years, have_years)

    # Children first: a vanished entity's names, years and join rows go before it does, on every backend.
    delete_ids(conn, name_t, [r["id"] for r in name_del])
    delete_ids(conn, year_t, [r["id"] for r in year_del])
    gone = sorted(r["id"] for r in ent_del)
    match_t = EmployerMatch.__table__
    for i in range(0, len(gone), IN_CHUNK):
        conn.execute(match_t.delete().where(match_t.c.entity_id.in_(gone[i : i + IN_CHUNK])))
    delete_ids(conn, ent_t, gone)

    now = utcnow()
    new_ids = {r["id"] for r in ent_ins}
    # built_at moves only for an entity whose own row, names or yearly figures changed.
    children = {r["entity_id"] for rows in (name_ins, name_upd, name_del, year_ins, year_upd, year_del) for r in rows}
    stamp_only = sorted(children - new_ids - {r["id"] for r in ent_upd} - set(gone))
    for r in (*ent_ins, *ent_upd):
        r["built_at"] = now
    insert_rows(conn, ent_t, ent_ins)
    update_rows(conn, ent_t, ent_upd)
    update_rows(conn, ent_t, [{"id": i, "built_at": now} for i in stamp_only])
    for table, ins, upd in ((name_t, name_ins, name_upd), (year_t, year_ins, year_upd)):
        insert_rows(conn, table, ins)
        update_rows(conn, table, upd)
    if session.get_bind().dialect.name == "postgresql" and ent_ins:
        # Ids were assigned here, so move the sequence past them for any later plain insert.
        stmt = text("SELECT setval(pg_get_serial_sequence('dol_entities', 'id'), :n)")
        session.execute(stmt, {"n": max(new_ids)})
    return {key: row["id"] for key, row in want_ents.items()}
