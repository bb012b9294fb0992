"""Re-read stored postings with the current ad-reading rules (`jobagg reclassify`)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from crawler.models.postings import Posting
from pipelines.rules.read import DERIVED_FIELDS, PLACE_FIELDS, SALARY_FIELDS, read_posting

# What read_posting reads, and what it may write back.
INPUT_COLUMNS = ("title", "department", "description_text", "locations", "remote", *PLACE_FIELDS, *SALARY_FIELDS)
OUTPUT_COLUMNS = (*DERIVED_FIELDS, *SALARY_FIELDS, *PLACE_FIELDS, "remote")


def reclassify(
    session: Session, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Apply `read_posting` to every posting, updating the columns whose value changed.

    Streams by primary key in batches of `batch_size` (keyset pagination: no offset scans, no full load),
    flushes each batch and detaches its rows so memory stays flat; the caller commits. `progress` is called
    with the number of rows done in each batch. Returns counts: ``scanned``, ``changed`` (rows) and
    ``changed_<column>`` per output column.
    """
    columns = [getattr(Posting, name) for name in sorted({*INPUT_COLUMNS, *OUTPUT_COLUMNS})]
    counts = {"scanned": 0, "changed": 0} | {f"changed_{name}": 0 for name in OUTPUT_COLUMNS}
    last_id = 0
    while True:
        query = (
            select(Posting)
            .options(load_only(*columns))
            .where(Posting.id > last_id)
            .order_by(Posting.id)
            .limit(batch_size)
        )
        rows = session.scalars(query).all()
        if not rows:
            break
        for row in rows:
            derived = read_posting({name: getattr(row, name) for name in INPUT_COLUMNS})
            row_changed = False
            for name, value in derived.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
                    counts[f"changed_{name}"] += 1
                    row_changed = True
            counts["changed"] += row_changed
        counts["scanned"] += len(rows)
        last_id = rows[-1].id
        session.flush()
        for row in rows:
            session.expunge(row)
        if progress is not None:
            progress(len(rows))
    return counts
