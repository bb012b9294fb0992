"""The board registry: which employers' boards exist on which platform. An employer is one row."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.boards import BoardRef
from crawler.db import session_scope
from crawler.models import Board, get_or_create_employer

REGISTRY_COLUMNS = ("employer", "ats", "board", "region", "board_url")


class RegistryError(ValueError):
    """A registry file or row that cannot be imported; the message names the file, line and field."""


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


# check(ats, token, where) raises RegistryError naming `where` when a row names an unknown platform or a token
# its spider would reject; the application supplies it (the registry does not know the spiders).
RowCheck = Callable[[str, str, str], None]


def upsert_board(
    session: Session,
    ats: str,
    token: str,
    employer: str | None,
    region: str | None = None,
    board_url: str | None = None,
) -> str:
    """Add a board or update its employer/region/URL; returns added, updated or unchanged."""
    emp = get_or_create_employer(session, employer) if employer else None
    board = session.scalar(select(Board).where(Board.ats == ats, Board.token == token))
    if board is None:
        session.add(Board(ats=ats, token=token, employer=emp, region=region or None, board_url=board_url or None))
        return "added"
    changed = False
    for attr, value in (("employer", emp), ("region", region or None), ("board_url", board_url or None)):
        if value is not None and getattr(board, attr) != value:
            setattr(board, attr, value)
            changed = True
    return "updated" if changed else "unchanged"


def import_csv(path: Path, db_url: str | None = None, *, check: RowCheck) -> ImportResult:
    """Import a registry CSV (employer, ats, board, region, board_url); all rows or none, each row checked first."""
    result = ImportResult()
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot open: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("employer", "ats", "board") if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{path}: missing column(s) {', '.join(missing)}; header is {reader.fieldnames}")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        ats, token = (row.get("ats") or "").strip(), (row.get("board") or "").strip()
        check(ats, token, f"{path}:{line}")
    with session_scope(db_url) as session:
        for row in rows:
            outcome = upsert_board(
                session,
                row["ats"].strip(),
                row["board"].strip(),
                (row.get("employer") or "").strip() or None,
                (row.get("region") or "").strip() or None,
                (row.get("board_url") or "").strip() or None,
            )
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _ref(board: Board) -> BoardRef:
    return BoardRef(board.token, board.employer.name if board.employer else None, board.region, board.board_url)


def lookup(ats: str, token: str, db_url: str | None = None) -> BoardRef | None:
    with session_scope(db_url) as session:
        board = session.scalar(select(Board).where(Board.ats == ats, Board.token == token))
        return _ref(board) if board else None


def boards_for(ats: str, db_url: str | None = None) -> list[BoardRef]:
    with session_scope(db_url) as session:
        rows = session.scalars(select(Board).where(Board.ats == ats, Board.active).order_by(Board.token))
        return [_ref(b) for b in rows]


def board_source(ats: str, token: str | None, settings: Any) -> list[BoardRef]:
    """The default `JOBAGG_BOARD_SOURCE`: registry boards from the database in `JOBAGG_DATABASE_URL`.

    With a token, that board with what the registry knows of it (or just the token when it is not registered)."""
    db_url = settings.get("JOBAGG_DATABASE_URL")
    if token is not None:
        return [lookup(ats, token, db_url) or BoardRef(token)]
    return boards_for(ats, db_url)
