"""The join from an employer as displayed on a job board to DOL employer entities.

Order: curated alias (by FEIN or filer name) → normalised exact (core key) → rapidfuzz over a blocked
candidate set. The fuzzy scorer is token_sort_ratio on the distinctive words (a plain ratio of words sorted
once, at build time), which, unlike token_set_ratio, does not give 100 to a name that is a subset of another
("Lattice" vs "Lattice Semiconductor"). A fuzzy winner must clear a threshold *and* beat the runner-up by a
margin; otherwise the answer is "unsure".
"""

from __future__ import annotations

import csv
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.models import DolEntity, DolEntityName
from matching.normalize import (
    blocking_tokens,
    clean_name,
    core_key,
    core_words,
    format_fein,
    legal_key,
    normalize_fein,
)

ACCEPT = 92.0  # fuzzy score needed to match
MARGIN = 4.0  # and its lead over the best other entity
UNSURE = 75.0  # below this a candidate is not even worth showing
RUNNER_UP_MIN = 40.0  # a chosen match still reports the nearest other name above this
MIN_FUZZY_LEN = 5  # short names ("SAP", "IBM") only ever match exactly
SMALL_BLOCK = 3_000  # a word this rare is the whole block
MAX_BLOCK = 20_000  # never score more candidates than this for one name
ALIASES_FILE = "aliases.csv"


@dataclass(frozen=True)
class Candidate:
    entity_id: int
    name: str
    fein: str | None
    score: float
    method: str  # fein | alias | exact | fuzzy
    variant: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fein": format_fein(self.fein),
            "score": round(self.score, 1),
            "method": self.method,
        }


@dataclass
class MatchResult:
    query: str
    outcome: str  # matched | unsure | none
    matches: list[Candidate] = field(default_factory=list)
    alternatives: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.matches[0] if self.matches else None

    @property
    def runner_up(self) -> Candidate | None:
        return self.alternatives[0] if self.alternatives else None

    def as_json(self) -> dict[str, Any]:
        best = self.best
        return {
            "query": self.query,
            "match": best.as_json() if best else None,
            "matches": [m.as_json() for m in self.matches],
            "outcome": self.outcome,
            "alternatives": [a.as_json() for a in self.alternatives],
        }


def load_aliases(path: Path | None = None) -> dict[str, list[str]]:
    """brand core key -> filer names or 'FEIN:..' entries; `path` defaults to the shipped table."""
    if path is None:
        path = Path(__file__).parent / "data" / ALIASES_FILE
    text = path.read_text(encoding="utf-8")
    aliases: dict[str, list[str]] = defaultdict(list)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for row in csv.DictReader(lines):
        brand, filer = (row.get("brand") or "").strip(), (row.get("filer") or "").strip()
        if brand and filer:
            aliases[core_key(brand)].append(filer)
    return dict(aliases)


class EntityIndex:
    """All entity name variants in memory, indexed for exact lookups and blocked fuzzy search."""

    def __init__(
        self,
        variants: Iterable[tuple[int, str, str | None, str, str, str, str]],
        aliases: dict[str, list[str]] | None = None,
    ) -> None:
        """`variants`: (entity id, entity name, fein, clean name, core key, legal key, tokens), grouped by entity."""
        self.entity: dict[int, tuple[str, str | None]] = {}
        self.by_fein: dict[str, list[int]] = defaultdict(list)
        self.by_core: dict[str, list[int]] = defaultdict(list)
        self.by_legal: dict[str, list[int]] = defaultdict(list)
        self.cores: list[str] = []  # variant tokens joined by spaces, for scoring
        self.owner: list[int] = []  # variant -> entity
        self.cleans: list[str] = []
        postings: dict[str, list[int]] = defaultdict(list)
        posting_cores: dict[str, list[str]] = defaultdict(list)  # parallel to postings, ready for rapidfuzz
        entity, by_fein, by_core, by_legal = self.entity, self.by_fein, self.by_core, self.by_legal
        cores_append, owner_append, cleans_append = self.cores.append, self.owner.append, self.cleans.append
        for vid, (entity_id, name, fein, clean, ckey, lkey, tokens) in enumerate(variants):
            if entity_id not in entity:
                entity[entity_id] = (name, fein)
                if fein:
                    by_fein[fein].append(entity_id)
            ids = by_core[ckey]
            if not ids or ids[-1] != entity_id:
                ids.append(entity_id)
            ids = by_legal[lkey]
            if not ids or ids[-1] != entity_id:
                ids.append(entity_id)
            core = tokens or " ".join(sorted(clean.split()))
            cores_append(core)
            owner_append(entity_id)
            cleans_append(clean)
            for t in core.split():
                # Sorted words: a repeated word is adjacent, and listing a name twice is harmless anyway.
                postings[t].append(vid)
                posting_cores[t].append(core)
        self.postings = dict(postings)
        self.posting_cores = dict(posting_cores)
        # Sorted words and reversed words: a misspelt word finds the words sharing its first or last letters.
        self.vocab = sorted(self.postings)
        self.rvocab = sorted(w[::-1] for w in self.postings)
        self.aliases = load_aliases() if aliases is None else aliases

    @classmethod
    def from_names(
        cls, names: Iterable[tuple[int, str, str | None]], aliases: dict[str, list[str]] | None = None
    ) -> EntityIndex:
        """An index over (entity id, legal name, fein) rows, normalised here (tests, ad-hoc use)."""
        rows = []
        for eid, name, fein in names:
            clean = clean_name(name)
            tokens = " ".join(sorted(blocking_tokens(clean)))
            rows.append((eid, name, fein, clean, core_key(name), legal_key(name), tokens))
        return cls(rows, aliases)

    @classmethod
    def from_session(cls, session: Session, aliases: dict[str, list[str]] | None = None) -> EntityIndex:
        e, n = DolEntity.__table__.c, DolEntityName.__table__.c
        stmt = (
            select(e.id, e.name, e.fein, n.clean, n.core_key, n.legal_key, n.tokens)
            .join_from(DolEntityName.__table__, DolEntity.__table__, n.entity_id == e.id)
            # Name ids follow insertion order on both backends, unlike name collation: same ties, same winner.
            .order_by(n.entity_id, n.id)
        )
        conn = session.connection()
        # Plain driver tuples: building 300,000 Row objects costs more than the rest of the load.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(str(stmt.compile(conn)))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return cls(rows, aliases)

    def __len__(self) -> int:
        return len(self.entity)

    def _cand(self, entity_id: int, score: float, method: str, variant: str = "") -> Candidate:
        name, fein = self.entity[entity_id]
        return Candidate(entity_id, name, fein, score, method, variant)

    def _alias(self, key: str) -> list[Candidate]:
        out: dict[int, Candidate] = {}
        for filer in self.aliases.get(key, ()):
            if filer.upper().startswith("FEIN:"):
                fein = normalize_fein(filer[5:])
                for eid in self.by_fein.get(fein or "", ()):
                    out.setdefault(eid, self._cand(eid, 100.0, "fein", filer))
            else:
                for eid in self.by_core.get(core_key(filer), ()):
                    out.setdefault(eid, self._cand(eid, 100.0, "alias", filer))
        return list(out.values())

    def _exact(self, query: str, key: str) -> list[Candidate]:
        # Same legal name (descriptors kept) first, then same core name: "Intuitive Surgical" is both
        # "INTUITIVE SURGICAL, INC." and "INTUITIVE SURGICAL OPERATIONS INC.".
        ids = list(self.by_legal.get(legal_key(query), []))
        ids += [eid for eid in self.by_core.get(key, []) if eid not in ids]
        return [self._cand(eid, 100.0, "exact") for eid in ids]

    def _fuzzy(self, query: str, cutoff: float = UNSURE - 10) -> tuple[list[Candidate], list[Candidate]]:
        words = core_words(query)
        qcore = " ".join(sorted(blocking_tokens(" ".join(words)) or words))
        # One group of words per query word: itself when known, else the known words that look like it.
        groups = []
        # Sorted, not a set's hash order: when two words are equally rare, the first in order picks the block.
        for t in sorted(set(qcore.split())):
            if t in self.postings:
                groups.append([t])
            elif len(t) >= 5:
                near = self._near_words(t)
                if near:
                    groups.append(near)
        if not groups:
            return [], []
        sizes = [sum(len(self.postings[k]) for k in g) for g in groups]
        order = sorted(range(len(groups)), key=sizes.__getitem__)
        first = groups[order[0]]
        if len(first) == 1 and (sizes[order[0]] <= SMALL_BLOCK or len(groups) == 1):
            # The common case: score the rarest word's list as stored, without copying it.
            vids = self.postings[first[0]][:MAX_BLOCK]
            choices = self.posting_cores[first[0]][:MAX_BLOCK]
        else:
            block = {v for k in first for v in self.postings[k]}
            if sizes[order[0]] > SMALL_BLOCK and len(groups) > 1:
                # Only common words: names that also share the next rarest word.
                second = {v for k in groups[order[1]] for v in self.postings[k]}
                block = (block & second) or block
            # Sorted: which variants make the cut, and rapidfuzz's order among equal scores, must not vary by run.
            vids = sorted(block)[:MAX_BLOCK]
            choices = [self.cores[i] for i in vids]
        hits = process.extract(qcore, choices, scorer=fuzz.ratio, limit=12, score_cutoff=cutoff)
        best_by_entity: dict[int, tuple[float, str]] = {}
        for _choice, score, pos in hits:
            eid = self.owner[vids[pos]]
            if eid not in best_by_entity or score > best_by_entity[eid][0]:
                best_by_entity[eid] = (score, self.cleans[vids[pos]])
        ranked = sorted(best_by_entity.items(), key=lambda kv: (-kv[1][0], kv[0]))
        cands = [self._cand(eid, sc, "fuzzy", var) for eid, (sc, var) in ranked]
        if not cands:
            return [], []
        top = cands[0]
        # Several entities may tie on the very same core name (one brand, several filers): keep them all.
        winners = [c for c in cands if c.score == top.score and core_key(c.variant) == core_key(top.variant)]
        rest = [c for c in cands if c not in winners]
        runner = rest[0].score if rest else 0.0
        # Sorting words forgives reordering; "White & Lee" and "Lee & White" are still different firms.
        in_order = " ".join(blocking_tokens(" ".join(words))) or " ".join(words)
        ordered = fuzz.ratio(in_order, " ".join(blocking_tokens(top.variant)) or top.variant)
        if (
            len(qcore.replace(" ", "")) >= MIN_FUZZY_LEN
            and top.score >= ACCEPT
            and ordered >= ACCEPT
            and top.score - runner >= MARGIN
        ):
            return winners, rest
        return [], cands

    def _near_words(self, word: str, limit: int = 50) -> list[str]:
        """Known words that start with the first four or end with the last four letters of an unknown word."""
        out = []
        for vocab, key, flip in ((self.vocab, word[:4], False), (self.rvocab, word[::-1][:4], True)):
            i = bisect_left(vocab, key)
            while i < len(vocab) and vocab[i].startswith(key) and len(out) < limit:
                out.append(vocab[i][::-1] if flip else vocab[i])
                i += 1
        return out

    def match(self, query: str) -> MatchResult:
        key = core_key(query)
        if not key:
            return MatchResult(query, "none")
        chosen = self._alias(key) or self._exact(query, key)
        if chosen:
            # The runner-up still helps a person check: the best fuzzy name that was not chosen.
            ids = {c.entity_id for c in chosen}
            _, others = self._fuzzy(query, cutoff=RUNNER_UP_MIN)
            alts = [c for c in others if c.entity_id not in ids][:3]
            return MatchResult(query, "matched", chosen, alts)
        winners, others = self._fuzzy(query)
        alts = [c for c in others if c.score >= UNSURE][:3]
        if winners:
            return MatchResult(query, "matched", winners, alts)
        return MatchResult(query, "unsure" if alts else "none", [], alts)

    def match_many(self, queries: Iterable[str]) -> list[MatchResult]:
        cache: dict[str, MatchResult] = {}
        out = []
        for q in queries:
            if q not in cache:
                cache[q] = self.match(q)
            out.append(cache[q])
        return out
