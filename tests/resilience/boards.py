"""Greenhouse boards written in the real list-response shape (`?content=true`), generated per test."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crawler import db as dbmod
from crawler.models import Board, Posting
from crawler.registry import upsert_board

TITLES = ("Machine Learning Engineer", "Research Scientist, LLMs", "ML Infrastructure Engineer", "Applied Scientist")


def greenhouse_job(board: str, n: int, title: str | None = None, content: str | None = None) -> dict[str, Any]:
    source_id = 7_000_000 + n
    body = content if content is not None else f"<p>Build models at {board}. Visa sponsorship available.</p>"
    return {
        "id": source_id,
        "internal_job_id": source_id + 1,
        "title": title or f"{TITLES[n % len(TITLES)]} {n}",
        "absolute_url": f"https://job-boards.greenhouse.io/{board}/jobs/{source_id}",
        "location": {"name": "San Francisco, CA"},
        "company_name": f"Company {board}",
        "first_published": "2026-11-02T10:00:00-05:00",
        "updated_at": "2026-11-20T10:00:00-05:00",
        "requisition_id": f"R{n}",
        "content": html.escape(body),  # Greenhouse sends the description HTML escaped once
        "departments": [{"id": 1, "name": "Research", "child_ids": [], "parent_id": None}],
        "offices": [{"id": 2, "name": "San Francisco", "location": "San Francisco, CA", "child_ids": []}],
        "metadata": None,
        "data_compliance": [],
    }


def write_board(root: Path, token: str, jobs: list[dict[str, Any]]) -> None:
    folder = root / "greenhouse"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{token}.json").write_text(json.dumps({"jobs": jobs, "meta": {"total": len(jobs)}}))


def register(db_url: str, tokens: list[str]) -> None:
    with dbmod.session_scope(db_url) as session:
        for token in tokens:
            upsert_board(session, "greenhouse", token, f"Company {token}")


def postings(db_url: str, token: str) -> list[dict[str, Any]]:
    with dbmod.session_scope(db_url) as session:
        rows = session.execute(
            select(Posting.source_id, Posting.title, Posting.closed_at, Posting.description_html).where(
                Posting.ats == "greenhouse", Posting.board == token
            )
        ).all()
        return [{"source_id": r[0], "title": r[1], "closed": r[2] is not None, "html": r[3]} for r in rows]


def board_state(db_url: str, token: str) -> tuple[str | None, str | None, int | None]:
    with dbmod.session_scope(db_url) as session:
        b = session.scalar(select(Board).where(Board.ats == "greenhouse", Board.token == token))
        assert b is not None
        return b.last_status, b.last_error, b.open_postings


def duplicate_keys(db_url: str) -> int:
    with dbmod.session_scope(db_url) as session:
        counted = (
            select(func.count())
            .select_from(Posting)
            .group_by(Posting.ats, Posting.board, Posting.source_id)
            .having(func.count() > 1)
        )
        return len(session.execute(counted).all())
