"""Snapshots of the DOL, join and tag tables, to tell exactly what a run changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, select

from crawler import db as dbmod
from crawler.models import (
    DolCase,
    DolEntity,
    DolEntityName,
    DolEntityYear,
    EmployerMatch,
    PostingSponsorship,
    UscisEmployerYear,
)

TABLES = (DolCase, UscisEmployerYear, DolEntity, DolEntityName, DolEntityYear, EmployerMatch, PostingSponsorship)
Snapshot = dict[str, dict[int, dict[str, Any]]]


def snapshot(db_url: str) -> Snapshot:
    """Every column of every DOL/matching table as the database stores it (as text), by table and id."""
    out: Snapshot = {}
    with dbmod.session_scope(db_url) as s:
        for model in TABLES:
            t = model.__table__
            stmt = select(t.c.id.label("_pk"), *(cast(c, Text).label(c.name) for c in t.columns)).order_by(t.c.id)
            out[t.name] = {r["_pk"]: {k: v for k, v in r.items() if k != "_pk"} for r in s.execute(stmt).mappings()}
    return out


def changes(before: Snapshot, after: Snapshot) -> dict[str, dict[int, set[str]]]:
    """table -> id -> changed columns ('<added>' / '<removed>' for whole rows); empty tables left out."""
    out: dict[str, dict[int, set[str]]] = {}
    for table, rows in before.items():
        new = after[table]
        diff = {i: {"<removed>"} for i in rows.keys() - new.keys()}
        diff |= {i: {"<added>"} for i in new.keys() - rows.keys()}
        for i in rows.keys() & new.keys():
            cols = {c for c in rows[i] if rows[i][c] != new[i][c]}
            if cols:
                diff[i] = cols
        if diff:
            out[table] = diff
    return out
