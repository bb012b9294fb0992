"""An operator's overrides of the employer join, kept in the database (`employer_overrides`).

The shipped alias table covers brands known when it was written; an operator who finds a wrong or missing join
records the answer here (`jobagg employers set|block|unset`). Overrides are read after the match index is loaded
and win over the alias table and every name rule; they never change the saved index, so recording one costs a
re-match, not an index rebuild.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from matching.join import EntityIndex, JoinHints, MatchResult

# Plain SQL with the flag as 0/1, so sqlite3, psycopg and libpq's text rows all read the same.
OVERRIDES_SQL = (
    "SELECT brand_key, filer, CASE WHEN blocked THEN 1 ELSE 0 END FROM employer_overrides ORDER BY brand_key, id"
)


class OverrideError(ValueError):
    """An override that cannot be recorded: the message names the brand or filer at fault."""


@dataclass(frozen=True)
class Override:
    brand: str
    filer: str
    blocked: bool
    note: str | None


def overrides_of(rows: Iterable[tuple[Any, Any, Any]]) -> dict[str, list[str]]:
    """(brand key, filer, blocked) rows -> brand key -> filers, "!filer" for a filer ruled out."""
    out: dict[str, list[str]] = {}
    for key, filer, blocked in rows:
        out.setdefault(key, []).append(f"!{filer}" if int(blocked) else filer)
    return out


def apply_overrides(index: EntityIndex, rows: Iterable[tuple[Any, Any, Any]]) -> EntityIndex:
    index.overrides = overrides_of(rows)
    return index


def apply_stored(index: EntityIndex, session: Session) -> EntityIndex:
    """The index with the database's overrides in force (replacing any it had)."""
    return apply_overrides(index, session.connection().exec_driver_sql(OVERRIDES_SQL).all())


def stored(session: Session) -> list[Override]:
    from sqlalchemy import select

    from crawler.models import EmployerOverride as O

    rows = session.scalars(select(O).order_by(O.brand_key, O.id))
    return [Override(r.brand, r.filer, r.blocked, r.note) for r in rows]


def record(
    session: Session, index: EntityIndex, brand: str, filer: str, blocked: bool = False, note: str | None = None
) -> list[str]:
    """Store that `brand` is (or, `blocked`, is not) `filer`; the loaded filer names it stands for.

    The filer must be loaded (a legal name as filed, or FEIN:xx-xxxxxxx): a typo would otherwise join nothing and
    say nothing. Recording the same pair again updates it (a block can become a match and back)."""
    from sqlalchemy import select

    from crawler.models import EmployerOverride as O
    from matching.join import alias_key

    brand, filer = brand.strip(), filer.strip()
    key = alias_key(brand)
    if not key:
        raise OverrideError(f"employer {brand!r}: no name left to join once legal forms are dropped")
    if not filer or filer.startswith("!"):
        raise OverrideError(f"filer {filer!r}: give a legal name as filed or FEIN:xx-xxxxxxx")
    ids = index.filer_ids(filer)
    if not ids:
        raise OverrideError(f"filer {filer!r}: no loaded DOL or USCIS filer has that name{_nearest(index, filer)}")
    row = session.scalars(select(O).where(O.brand_key == key, O.filer == filer)).one_or_none()
    if row is None:
        session.add(O(brand=brand[:300], brand_key=key[:300], filer=filer[:300], blocked=blocked, note=note))
    else:
        row.brand, row.blocked, row.note = brand[:300], blocked, note if note is not None else row.note
    session.flush()
    return sorted({index.entity[e][0] for e in ids})


def read_csv(path: Path) -> list[tuple[int, Override]]:
    """(line number, override) per line of a CSV in the shipped alias table's shape: `brand,filer[,note]`, a filer
    written `!FILER` ruled out, `#` lines and blank lines skipped."""
    from matching.join import alias_rows

    try:
        at, header, rows = alias_rows(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise OverrideError(f"{path}: not UTF-8 text") from None
    except ValueError:
        raise OverrideError(f"{path}: a quoted field runs over several lines; write one override a line") from None
    if not header:
        raise OverrideError(f"{path}: no lines (expected a header `brand,filer[,note]`)")
    missing = {"brand", "filer"} - set(header)
    if missing:
        raise OverrideError(f"{path}:{at}: no {' or '.join(sorted(missing))} column in the header")
    out = []
    for n, row in rows:
        brand, filer = (row.get("brand") or "").strip(), (row.get("filer") or "").strip()
        blocked = filer.startswith("!")
        note = (row.get("note") or "").strip() or None
        out.append((n, Override(brand, filer[1:].strip() if blocked else filer, blocked, note)))
    return out


def remove(session: Session, brand: str, filer: str | None = None) -> int:
    """Drop `brand`'s overrides (only the one naming `filer`, when given); how many were dropped."""
    from sqlalchemy import delete

    from crawler.models import EmployerOverride as O
    from matching.join import alias_key

    stmt = delete(O).where(O.brand_key == alias_key(brand.strip()))
    if filer is not None:
        stmt = stmt.where(O.filer == filer.strip())
    return session.execute(stmt).rowcount or 0


# A joined filer filing less than this, whose name goes on past the brand's words, is worth a look: most wrong
# joins the registry's audits found were such namesakes (EXANTE DATA LLC, 1 filing, for the broker "EXANTE").
SMALL_FILER = 5


def suspicion(index: EntityIndex, result: MatchResult, hints: JoinHints | None) -> str | None:
    """Why a matched join deserves a person's look, in a few words, or None: the kinds of join that the audits of
    the bundled registry found wrong most often. Not a verdict: most of those flagged are right."""
    from matching.join import FIELD_WORDS, KIN_TAIL, KIND_WORDS, PLAIN_TAIL, SITE_WORDS, US_ARM, legal_words
    from matching.normalize import board_brand

    if not result.matches:
        return None
    method = result.matches[0].method
    if method in ("override", "alias", "fein"):
        return None  # a person's answer already
    if method == "fuzzy":
        return "a near spelling of the name, not the name"
    if method == "acronym":
        return "the filer's initials"
    ids = [c.entity_id for c in result.matches]
    where = {index.entity.state(e) for e in ids} - {""}
    if hints is not None and hints.states and where and not where & hints.states:
        return f"files in {', '.join(sorted(where))}; the postings are in {', '.join(sorted(hints.states))}"
    if method == "ad_place":
        return "one of several namesakes, picked by the postings' state"
    if method not in ("leading", "exact"):
        return None  # a d/b/a, the ad's own words or the board's token named that filer
    # Words of the brand past those the filer's name spells: the join took its first words and left the rest.
    says_nothing = PLAIN_TAIL | KIN_TAIL | FIELD_WORDS | KIND_WORDS | US_ARM | SITE_WORDS
    said = legal_words(board_brand(result.query))
    left = min(
        (
            [w for w in _past("".join(named), said) if w not in says_nothing and w not in named]
            for named in (legal_words(c.name) for c in result.matches)
        ),
        key=len,
    )
    if left:
        return f"joined on the employer's first words; {' '.join(left).title()} is not in {result.matches[0].name}"
    filed = sum(index.filings.get(e, 0) for e in ids)
    brand = "".join(legal_words(result.query))
    # Words saying only how or where a filer is organised, or what kind of tech firm it is, say nothing more.
    more = [c.name for c in result.matches if set(_past(brand, legal_words(c.name))) - PLAIN_TAIL - KIN_TAIL]
    if filed < SMALL_FILER and more:
        return f"a small filer ({filed} filings) whose name says more than the employer's: {more[0]}"
    return None


def _past(brand: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """A filer's words after those spelling the brand, however spaced ("12 TWENTY" for "12twenty"); the other way
    round, a brand's words after those its filer's name begins with ("Infrastructure" of "Madison Energy
    Infrastructure" past MADISON ENERGY HOLDINGS)."""
    spelt = ""
    for i, w in enumerate(words):
        if not brand.startswith(spelt + w):
            return words[i:]
        spelt += w
    return ()


def _nearest(index: EntityIndex, filer: str) -> str:
    """'; nearest: A, B' from what the join picks for that name, else for its first words; or ''."""
    from matching.join import legal_words

    words = legal_words(filer)
    for form in dict.fromkeys([filer, " ".join(words[:2]), " ".join(words[:1])]):
        found = index.match(form) if form else None
        names = list(dict.fromkeys(c.name for c in [*found.matches, *found.alternatives]))[:3] if found else []
        if names:
            return f"; nearest: {', '.join(names)}"
    return ""


# NAICS sectors by their first two digits, as the census names them (shortened): what a person reads to tell an
# ML company from a namesake trucking firm or dental practice.
NAICS_SECTORS = {
    "11": "agriculture", "21": "mining, oil and gas", "22": "utilities", "23": "construction",
    "31": "manufacturing", "32": "manufacturing", "33": "manufacturing", "42": "wholesale trade",
    "44": "retail", "45": "retail", "48": "transportation", "49": "transportation", "51": "information",
    "52": "finance and insurance", "53": "real estate", "54": "professional services",
    "55": "management of companies", "56": "administrative services", "61": "education",
    "62": "health care", "71": "arts and recreation", "72": "accommodation and food", "81": "other services",
    "92": "public administration",
}  # fmt: skip


def filer_profiles(session: Session, entity_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """entity id -> what tells namesakes apart beyond the name and state: the city most of its filings give, its
    industry (the commonest NAICS sector of its DOL cases and USCIS hub rows) and the fiscal years it filed in."""
    from sqlalchemy import func, select

    from crawler.models import DolCase, DolEntityName, DolEntityYear, UscisEmployerYear

    ids = sorted(set(entity_ids))
    cities: dict[int, Counter[str]] = {eid: Counter() for eid in ids}
    sectors: dict[int, Counter[str]] = {eid: Counter() for eid in ids}
    years: dict[int, tuple[int, int]] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        c = DolCase.__table__.c
        cases = select(c.entity_id, c.city, c.naics, func.count()).where(c.entity_id.in_(chunk))
        for eid, city, naics, n in session.execute(cases.group_by(c.entity_id, c.city, c.naics)):
            _tally_profile(cities[eid], sectors[eid], city, naics, n)
        n_t, u = DolEntityName.__table__.c, UscisEmployerYear.__table__.c
        # A hub row weighs by its petitions, as ingest counts them: one row per city says nothing of size.
        petitions = sum(func.coalesce(col, 0) for col in (u.initial_approval, u.initial_denial,
                                                           u.continuing_approval, u.continuing_denial))  # fmt: skip
        hub = (
            select(n_t.entity_id, u.city, u.naics, func.sum(petitions))
            .join(UscisEmployerYear.__table__, u.employer_name == n_t.name)
            .where(n_t.entity_id.in_(chunk), n_t.source == "uscis")
            .group_by(n_t.entity_id, u.city, u.naics)
        )
        for eid, city, naics, n in session.execute(hub):
            _tally_profile(cities[eid], sectors[eid], city, naics, n)
        y = DolEntityYear.__table__.c
        span = select(y.entity_id, func.min(y.fiscal_year), func.max(y.fiscal_year)).where(y.entity_id.in_(chunk))
        years.update({eid: (lo, hi) for eid, lo, hi in session.execute(span.group_by(y.entity_id))})
    out = {}
    for eid in ids:
        industry = NAICS_SECTORS.get(_commonest(sectors[eid]) or "")
        out[eid] = {"city": _commonest(cities[eid]), "industry": industry, "years": years.get(eid)}
    return out


def _commonest(counts: Counter[str]) -> str | None:
    """The most counted key; on a tie the first in sort order, so the answer never depends on row order."""
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if counts else None


def _tally_profile(cities: Counter[str], sectors: Counter[str], city: str | None, naics: str | None, n: int) -> None:
    if city and city.strip():
        cities[" ".join(city.split()).title()] += n
    digits = "".join(ch for ch in str(naics or "") if ch.isdigit())
    if len(digits) >= 2:
        sectors[digits[:2]] += n


def profile_text(profile: dict[str, Any] | None) -> str:
    """ "Mountain View; information; FY2019-26": the parts known, or ""."""
    if not profile:
        return ""
    parts = [profile.get("city"), profile.get("industry")]
    if profile.get("years"):
        lo, hi = profile["years"]
        parts.append(f"FY{lo}" if lo == hi else f"FY{lo}-{str(hi)[2:]}")
    return "; ".join(p for p in parts if p)
