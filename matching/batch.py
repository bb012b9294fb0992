"""A batch of employer look-ups on several cores: forked children answer parts of the names against the same
loaded index (shared with this process page by page, never copied up front) while this process answers one."""

from __future__ import annotations

import os
import pickle
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matching.join import EntityIndex, JoinHints, MatchResult

# Distinct names each process must have before another is forked: below that, forking and sending the answers
# back cost more than they save.
PER_PROCESS_MIN = 1000


def can_fork() -> bool:
    """Forking is safe only without other threads (a lock one of them holds would stay locked in the child)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def processes_for(names: int, jobs: int | None) -> int:
    """How many processes answer `names` distinct names: `jobs` (None: every core), fewer for a small batch."""
    want = jobs if jobs is not None else (os.cpu_count() or 1)
    return max(1, min(want, names // PER_PROCESS_MIN)) if can_fork() else 1


def match_batch(
    index: EntityIndex, queries: list[str], hints: dict[str, JoinHints] | None = None, jobs: int | None = None
) -> list[MatchResult]:
    """`index.match_many(queries, hints)`: the same answers in the same order, from up to `jobs` processes."""
    distinct = list(dict.fromkeys(queries))
    n = processes_for(len(distinct), jobs)
    if n == 1:
        return index.match_many(queries, hints)
    parts = [distinct[i::n] for i in range(n)]
    from matching.join import everyday_words

    everyday_words()  # loaded once here, shared with the children, not once in each of them
    children: list[tuple[int, int, list[str]]] = []
    for part in parts[1:]:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # a child: answer its part, send the answers back, and leave without any clean-up
            status = 1
            try:
                os.close(read_end)
                data = pickle.dumps(index.match_many(part, hints), pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write_end, "wb") as out:
                    out.write(data)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        children.append((pid, read_end, part))
    answers = dict(zip(parts[0], index.match_many(parts[0], hints), strict=True))
    for pid, read_end, part in children:
        try:
            with os.fdopen(read_end, "rb") as got:
                data = got.read()
        finally:
            _, status = os.waitpid(pid, 0)
        if status == 0 and data:
            answers.update(zip(part, pickle.loads(data), strict=True))
        else:
            # The child failed (killed, out of memory): its part is answered here after all.
            answers.update(zip(part, index.match_many(part, hints), strict=True))
    return [answers[q] for q in queries]
