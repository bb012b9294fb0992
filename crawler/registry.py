"""The board registry: which employers' boards exist on which platform. An employer is one row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crawler.boards import BoardRef
from crawler.db import session_scope
from crawler.models import Board, Employer, Posting, get_or_create_employer

REGISTRY_COLUMNS = ("employer", "ats", "board", "region", "board_url")


class RegistryError(ValueError):
    """A registry file or row that cannot be imported; the message names the file, line and field."""


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # identical rows repeated in the file, merged into one


# check(ats, token, where) raises RegistryError naming `where` when a row names an unknown platform or a token
# its spider would reject; the application supplies it (the registry does not know the spiders).
RowCheck = Callable[[str, str, str], None]


def find_board(session: Session, ats: str, token: str) -> Board | None:
    return session.scalar(select(Board).where(Board.ats == ats, Board.token == token))


def remove_board(session: Session, ats: str, token: str) -> int:
    """Delete a board and the postings stored from it (their tags go with them); returns the postings count."""
    postings = session.execute(delete(Posting).where(Posting.ats == ats, Posting.board == token)).rowcount
    session.execute(delete(Board).where(Board.ats == ats, Board.token == token))
    return postings or 0


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
    return _apply(session, board, ats, token, emp, region, board_url)


def _apply(
    session: Session,
    board: Board | None,
    ats: str,
    token: str,
    emp: Employer | None,
    region: str | None,
    board_url: str | None,
) -> str:
    if board is None:
        session.add(Board(ats=ats, token=token, employer=emp, region=region or None, board_url=board_url or None))
        return "added"
    changed = False
    for attr, value in (("employer", emp), ("region", region or None), ("board_url", board_url or None)):
        if value is not None and getattr(board, attr) != value:
            setattr(board, attr, value)
            changed = True
    return "updated" if changed else "unchanged"


def read_registry(path: Path, check: RowCheck) -> tuple[list[tuple[int, dict[str, str]]], int]:
    """Checked rows of a registry CSV as (line, row), and how many exact duplicate rows were merged.

    Raises RegistryError listing every bad row, one per line, so a file is fixed in one round.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot open: {exc.strerror}") from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RegistryError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8 CSV"
        ) from None
    if "\x00" in content:
        raise RegistryError(f"{path}: binary data (NUL bytes), not a CSV file")
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""))
        missing = [c for c in ("employer", "ats", "board") if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{path}: missing column(s) {', '.join(missing)}; header is {reader.fieldnames}")
        raw = list(reader)
    except csv.Error as exc:
        raise RegistryError(f"{path}:{reader.line_num}: not a readable CSV row: {exc}") from None
    problems: list[str] = []
    seen: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    merged = 0
    for line, row in enumerate(raw, start=2):
        clean = {k: (row.get(k) or "").strip() for k in REGISTRY_COLUMNS}
        try:
            check(clean["ats"], clean["board"], f"{path}:{line}")
        except RegistryError as exc:
            problems.append(str(exc))
            continue
        key = (clean["ats"], clean["board"])
        values = tuple(clean[k] for k in ("employer", "region", "board_url"))
        if key in seen:
            first, first_values = seen[key]
            if values == first_values:
                merged += 1  # the same row twice says nothing new
            else:
                problems.append(
                    f"{path}:{line}: {key[0]}/{key[1]} already on line {first} with different"
                    f" employer/region/board_url; keep one row per board"
                )
            continue
        seen[key] = (line, values)
        rows.append((line, clean))
    if problems:
        raise RegistryError("\n".join(problems))
    return rows, merged


def import_csv(path: Path, db_url: str | None = None, *, check: RowCheck) -> ImportResult:
    """Import a registry CSV (employer, ats, board, region, board_url); all rows or none, each row checked first."""
    rows, merged = read_registry(path, check)
    result = ImportResult(duplicates=merged)
    with session_scope(db_url) as session, session.no_autoflush:
        # One read of what is stored, not two queries per row: the bundled file has ~3,900 rows.
        employers = {e.name: e for e in session.scalars(select(Employer))}
        boards = {(b.ats, b.token): b for b in session.scalars(select(Board))}
        for _line, row in rows:
            emp = None
            if row["employer"]:
                emp = employers.get(row["employer"])
                if emp is None:
                    emp = employers[row["employer"]] = Employer(name=row["employer"])
                    session.add(emp)
            board = boards.get((row["ats"], row["board"]))
            outcome = _apply(session, board, row["ats"], row["board"], emp, row["region"], row["board_url"])
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
