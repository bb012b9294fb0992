"""Employer-name normalisation shared by the DOL side and the job-board side of the join.

Three levels, each coarser than the last:
- `clean_name`: upper case, entities decoded, d/b/a and subsidiary clauses cut, punctuation to spaces.
- `full_key`: `clean_name` with spaces removed (so "1WAY SOLUTIONS" == "1WAYSOLUTIONS", "A9 COM" == "A9.COM").
- `core_key`: legal suffixes and generic descriptors dropped, abbreviations expanded, spaces removed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

# Legal-form words: they say nothing about which company it is.
LEGAL_SUFFIXES = frozenset(
    [
        "INC",
        "INCORPORATED",
        "CORP",
        "CORPORATION",
        "CO",
        "COMPANY",
        "LLC",
        "LLP",
        "LP",
        "LTD",
        "LIMITED",
        "PLLC",
        "PC",
        "PA",
        "PBC",
        "GMBH",
        "AG",
        "SA",
        "SAS",
        "SRL",
        "BV",
        "NV",
        "PLC",
        "PTY",
        "ULC",
        "LIABILITY",
        "PARTNERSHIP",
        "PROFESSIONAL",
        "NA",
    ]
)
# Descriptors that brands drop ("Quill Health" files as "Quill Health Systems, Inc."); only dropped at the end.
GENERIC_TAIL = frozenset(
    [
        "THE",
        "HOLDINGS",
        "HOLDING",
        "GROUP",
        "USA",
        "US",
        "AMERICA",
        "AMERICAS",
        "NORTH",
        "INTERNATIONAL",
        "GLOBAL",
        "WORLDWIDE",
        "ENTERPRISES",
        "TECHNOLOGIES",
        "TECHNOLOGY",
        "TECH",
        "SYSTEMS",
        "LABS",
        "INCORPORATED",
        "OPERATIONS",
        "OPCO",
        "SERVICES",
        "SOLUTIONS",
    ]
)
ABBREVIATIONS = {
    "CTR": "CENTER",
    "CENTRE": "CENTER",
    "INTL": "INTERNATIONAL",
    "SVCS": "SERVICES",
    "SVC": "SERVICES",
    "SOLNS": "SOLUTIONS",
    "SOLN": "SOLUTIONS",
    "MGMT": "MANAGEMENT",
    "TECHS": "TECHNOLOGIES",
    "TECH": "TECHNOLOGY",
    "INFO": "INFORMATION",
    "GRP": "GROUP",
    "ASSO": "ASSOCIATES",
    "MFG": "MANUFACTURING",
    "CO": "COMPANY",
    "LAB": "LABS",
    "LABORATORIES": "LABS",
    "LABORATORY": "LABS",
    "UNIV": "UNIVERSITY",
    "DEPT": "DEPARTMENT",
    "NATL": "NATIONAL",
    "ASSOC": "ASSOCIATES",
    "SYS": "SYSTEMS",
    "AMER": "AMERICA",
    "HLDGS": "HOLDINGS",
}
PHRASES = [
    (re.compile(r"\bARTIFICIAL INTELLIGENCE\b"), "AI"),
    (re.compile(r"\bMACHINE LEARNING\b"), "ML"),
    (re.compile(r"\bU S A\b"), "USA"),
    (re.compile(r"\bU S\b"), "US"),
    (re.compile(r"\bL L C\b"), "LLC"),
    (re.compile(r"\bL L P\b"), "LLP"),
    (re.compile(r"\bN A\b"), "NA"),
    (re.compile(r"\bL P\b"), "LP"),
]
# Clauses that follow the legal name and name someone else: d/b/a, subsidiary-of, on-behalf-of.
# USCIS turns punctuation into spaces, so "D/B/A" also arrives as "D B A".
# "Doing" or "trading" business as; A/K/A and F/K/A give another or a former name, not the one a filer shows.
_TRADING = r"D\s*/\s*B\s*/\s*A|D B A|DBA|D\.B\.A\.?|T/A|DOING\s+BUSINESS\s+AS|TRADING\s+AS"
# Another or a former name, as filed or as the hub spaces it out ("VALON TECH INC F K A GOSERVICEONE").
_OTHER_NAME = r"A/K/A|AKA|A K A|F/K/A|FKA|F K A|(?:FORMERLY|NOW|ALSO)\s+KNOWN\s+AS|FORMERLY"
_DBA = re.compile(rf"\s*(?:,\s*)?\b(?:{_TRADING}|{_OTHER_NAME})\b[\s:]*(.*)$")
# The USCIS hub cuts names at 34 characters, often inside the marker: "MEDECINS SANS FRONTIERES USA INC D".
_CUT_DBA = re.compile(
    r"\b(?:INC|LLC|CORP|LTD|CO|CORPORATION|COMPANY|LP|LLP|PC|PLLC|PA)\.?,?(\s+(?:D|DB|D B|D\s*/(?:\s*B\s*/?)?))$"
)
_TRADES_AS = re.compile(rf"\b(?:{_TRADING})\b[\s:.]*(.+)$")
_SUBSIDIARY = re.compile(
    r",?\s*\b(?:A|AN)\s+(?:WHOLLY[\s-]*OWNED\s+)?(?:SUBSIDIARY|AFFILIATE|DIVISION|UNIT)\s+OF\b.*$"
    r"|,?\s*\b(?:A|AN)\s+[A-Z0-9&.\- ]{1,40}\s+(?:COMPANY|CO)\s*$"
    r"|,?\s*\bON\s+BEHALF\s+OF\b.*$"
)
_JOINERS = frozenset({"OF", "AND", "FOR", "THE", "DE"})
_ACRONYM_DOT = re.compile(r"(?<=\b[A-Z])\.(?=[A-Z]\b)")
# Each phrase with the text it cannot match without (its pattern less the word boundaries).
_PHRASE_NEEDLES = [(p.pattern.replace("\\b", ""), p, repl) for p, repl in PHRASES]
_NON_ALNUM = re.compile(r"[^A-Z0-9&]+")
_AMP_WORD = re.compile(r"\s*&\s*")


def _ascii_upper(name: str) -> str:
    name = html.unescape(html.unescape(name))  # DOL files double-encode: "&AMP;AMP;"
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return name.upper()


@lru_cache(maxsize=200_000)
def split_dba(name: str) -> tuple[str, str | None]:
    """("ACME HOLDINGS LLC D/B/A ACME AI", ...) -> ("ACME HOLDINGS LLC", "ACME AI")."""
    upper = _ascii_upper(name)
    m = _DBA.search(upper)
    if not m:
        upper = upper.strip()
        cut = _CUT_DBA.search(upper) if upper.endswith(("D", "B", "/")) else None
        return (upper[: cut.start(1)] if cut else upper), None
    trade = _past_marker(m.group(1)).strip(" ,.;:") or None
    return upper[: m.start()].strip(" ,"), trade


def trade_name(name: str) -> str | None:
    """The name a filer says it does business as ("SMARTLY INC DBA BONUSLY" -> "BONUSLY"); never a former name."""
    m = _TRADES_AS.search(name.upper())
    return _past_marker(m.group(1)) if m else None


def _past_marker(trade: str) -> str:
    """What follows a marker written twice ("DOING BUSINESS AS DBA LEAPFROG BRANDS"): still one marker."""
    again = _TRADES_AS.fullmatch(trade)
    return again.group(1) if again else trade


_ASIDE = re.compile(r"\(([^()]*)\)")
# Words initials leave out: "Centers for Disease Control" is CDC.
ACRONYM_SKIP = frozenset(["&", "AND", "OF", "THE", "FOR"])


def initials(words: Iterable[str]) -> str:
    """The first letters of a name's words, connectives left out ("CENTERS FOR DISEASE CONTROL" -> CDC)."""
    return "".join(w[0] for w in words if w not in ACRONYM_SKIP)


def _initials(clean: str) -> set[str]:
    """A name's initials, with and without its legal form ("... INSTITUTE INC" -> ESRII and ESRI)."""
    words = [w for w in clean.split() if w not in ACRONYM_SKIP]
    return {initials(ws) for ws in (words, list(legal_words_of(" ".join(words)))) if len(ws) >= 3}


def aside_name(name: str, clean: str | None = None) -> str | None:
    """The other name a filer gives in brackets, when one of the two is the other's initials:
    "Environmental Systems Research Institute, Inc. (Esri)" -> "Esri"; "NYCEDC (New York City Economic Development
    Corporation)" -> the full name; also a last word that is the initials of the rest, as the USCIS hub writes the
    first. Other brackets ("(US)", "(North America)", "(acquired by ...)") give none. `clean`: the name's
    clean_name(), when the caller has it."""
    m = _ASIDE.search(name) if "(" in name else None
    if m is None:
        # The USCIS hub drops the brackets: "ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE INC ESRI". Every filer name
        # passes here at ingest: initials start with the first spelled word's letter, a cheap test made first.
        words = (clean if clean is not None else clean_name(name)).split()
        lead = next((w for w in words if w not in ACRONYM_SKIP), "")
        if len(words) < 4 or len(words[-1]) < 3 or words[-1][0] != lead[:1]:
            return None
        return words[-1] if words[-1] in _initials(" ".join(words[:-1])) else None
    inside = m.group(1).strip()
    outside = f"{name[: m.start()]} {name[m.end() :]}".strip()
    for short, full in ((inside, outside), (outside, inside)):
        words = legal_words(short)
        if len(words) == 1 and len(words[0]) >= 3 and words[0] in _initials(clean_name(full)):
            return inside
    return None


# What a job board adds to an employer's name: "Rubrik Job Board", "Careers at Tide", "Five Rings LLC - Careers",
# "Cleo (US)", "Tomofun | Furbo Pet Camera". Never part of a legal name.
_BOARD_ASIDE = re.compile(r"\s*\([^)]*\)")
_BOARD_PART = re.compile(r"\s+[-\u2013\u2014|]\s+|\s*\|\s*|:\s+")  # "AMP: AI-Powered Sortation ..." too
# The group a firm belongs to, after its name: "NeuraFlash, Part of Accenture", "Acme, an Initech company".
_BOARD_OWNER = re.compile(r",\s*(?:(?:now\s+)?part\s+of|an?\s+\S.*\s+company$)\s*.*$", re.IGNORECASE)
_BOARD_LEAD = re.compile(r"^(?:careers?|jobs|(?:employment\s+)?opportunities)\s+(?:at|@|with)\s+", re.IGNORECASE)
_BOARD_GLUED = re.compile(r"^([A-Za-z][A-Za-z0-9]{2,})careers$", re.IGNORECASE)  # "Frontcareers", "Xbowcareers"
# The kind of post a board lists: "Walleye Capital Full Time" is Walleye Capital's board for full-time roles.
_BOARD_TERMS = re.compile(r"[\s,]+(?:full|part)[\s-]?time(?:\s+(?:roles|positions))?\s*$", re.IGNORECASE)
# The channel a board feeds, after the name: "Lincoln Property Company through LinkedIn", "Rithum LinkedIn Board".
_BOARD_CHANNEL = re.compile(
    r"\s+(?:(?:external\s+)?(?:feed\s+)?(?:through|via|for|on)\s+(?:linkedin|handshake|indeed)"
    r"|(?:linkedin|handshake|naukri|indeed)(?:\s+board)?)\s*$",
    re.IGNORECASE,
)
# Whom a board is for, dropped only before a board word: "Veo Corporate Careers" is Veo; "Acme Corporate" stays.
_BOARD_AUDIENCE = frozenset(["corporate", "university", "professional", "global", "general"])
_BOARD_WORDS = frozenset(
    [
        "careers",
        "career",
        "page",
        "site",
        "website",
        "jobs",
        "job",
        "board",
        "openings",
        "hiring",
        "referrals",
        "referral",
        "only",
        "internship",
        "internships",
        "early",
        "private",
        "external",
        "unlisted",
        "marketplace",
        "opportunities",
        "experienced",
        "contract",
        "campus",
        "events",
        "recruiting",
        "students",
        "graduates",
        "portal",
    ]
)


# Labels some boards carry glued with underscores: "SpaceX_Global", "ThoughtWorks_new", "Gunvor_Careers".
_GLUED_TAILS = _BOARD_WORDS | _BOARD_AUDIENCE | {"new", "old"}


def _unglue_label(name: str) -> str:
    """A one-token label with underscores, its trailing board parts dropped ("SpaceX_Global" -> "SpaceX")."""
    text = name.strip()
    if "_" not in text or any(c.isspace() for c in text):
        return name
    parts = [p for p in text.split("_") if p]
    while len(parts) > 1 and parts[-1].lower() in _GLUED_TAILS:
        parts.pop()
    return " ".join(parts) if parts else name


def board_brand(name: str) -> str:
    """The employer's own name in a job board's label for it: asides in brackets, a part after a spaced dash or a
    bar, "Careers at" and trailing board words ("Careers page", "Job Board") dropped. The name itself when
    nothing but board words would be left ("Private Job Board")."""
    text = _BOARD_PART.split(_BOARD_OWNER.sub("", _BOARD_ASIDE.sub(" ", _unglue_label(name))).strip())[0]
    words = _BOARD_LEAD.sub("", _BOARD_CHANNEL.sub("", _BOARD_TERMS.sub("", text.strip()))).split()
    popped = False
    while len(words) > 1 and (
        # "Unlisted/Referral": several board words in one
        all(w in _BOARD_WORDS for w in words[-1].lower().strip(".,:").split("/"))
        or (popped and words[-1].lower() in _BOARD_AUDIENCE)
    ):
        popped = True
        words.pop()
    if len(words) == 1 and (glued := _BOARD_GLUED.match(words[0])):
        words = [glued.group(1)]
    brand = " ".join(words).strip(" ,.-:")
    if len(brand) < 2 or brand.lower() in _BOARD_WORDS:
        return name
    return brand


_HOUSE = re.compile(
    r"^the\s+(.+?)[\s,]+(?:(?:family|group)\s+of\s+companies|group|holdings?|companies)\.?$", re.IGNORECASE
)


def house_brand(name: str) -> str:
    """A house's name without its group word ("The Voleon Group" -> "Voleon", "The Acme Companies" -> "Acme"): the
    firm that files is usually the operating company (VOLEON CAPITAL MANAGEMENT LP), not the holding. Only in the
    "The ... Group" style houses use: a plain "Marano Group" is as often a firm of that name as anyone's group. The
    name itself otherwise."""
    found = _HOUSE.match(name.strip())
    return found.group(1).strip(" ,.-") if found and len(found.group(1).strip(" ,.-")) >= 2 else name


@lru_cache(maxsize=200_000)
def clean_name(name: str) -> str:
    """Upper-case words of the legal name, without d/b/a and subsidiary clauses or punctuation."""
    legal, _ = split_dba(name)
    # Each pattern is tried only when the text holds a word it needs: a look-up normalises every query.
    if "OF" in legal or "CO" in legal:
        legal = _SUBSIDIARY.sub("", legal)
    if "." in legal:
        # Dots inside acronyms ("E.L.F.", "J.P.") join letters; other punctuation separates words.
        legal = _ACRONYM_DOT.sub("", legal)
    legal = legal.replace("'", "").replace("\u2019", "")
    legal = _NON_ALNUM.sub(" ", legal)
    if "&" in legal:
        legal = _AMP_WORD.sub(" & ", legal)
    for needle, pattern, repl in _PHRASE_NEEDLES:
        if needle in legal:
            legal = pattern.sub(repl, legal)
    words = [ABBREVIATIONS.get(w, w) for w in legal.split()]
    return " ".join(words)


def clear_caches() -> None:
    """Drop the memoised normalisations: a bulk build fills them with every name it has seen, then moves on."""
    for fn in (split_dba, clean_name, core_words, legal_words):
        fn.cache_clear()


def full_key(name: str) -> str:
    return clean_name(name).replace(" ", "")


@lru_cache(maxsize=200_000)
def core_words(name: str) -> tuple[str, ...]:
    """The distinctive words: legal suffixes and generic trailing descriptors dropped (never all of them)."""
    return core_words_of(clean_name(name))


def core_words_of(clean: str) -> tuple[str, ...]:
    """`core_words` of a name, from its clean_name()."""
    return core_of_legal(legal_words_of(clean))


def core_of_legal(words: tuple[str, ...]) -> tuple[str, ...]:
    """`core_words` of a name, from its legal_words()."""
    core = list(words)
    # "BANK OF AMERICA" keeps AMERICA: a descriptor after a connective is part of the name.
    while len(core) > 1 and (core[-1] in GENERIC_TAIL or core[-1] in LEGAL_SUFFIXES) and core[-2] not in _JOINERS:
        core.pop()
    return tuple(core) if core else words


def core_key(name: str) -> str:
    return "".join(core_words(name))


@lru_cache(maxsize=200_000)
def legal_words(name: str) -> tuple[str, ...]:
    """The words of the legal name without a leading THE, '&' or trailing legal suffixes; descriptors kept."""
    return legal_words_of(clean_name(name))


def legal_words_of(clean: str) -> tuple[str, ...]:
    """`legal_words` of a name, from its clean_name()."""
    parts = clean.split()
    # "&" and an inner "AND" are one connective: M BOOTH & ASSOCIATES and M BOOTH AND ASSOCIATES are one filer. A
    # last "AND" stays, the rest cut off at 34 characters ("ABBOTT AND" is no ABBOTT).
    last = len(parts) - 1
    words = [w for i, w in enumerate(parts) if w != "&" and not (w == "AND" and 0 < i < last)]
    if words and words[0] == "THE" and len(words) > 1:
        words = words[1:]
    return tuple(words[: _form_start(words)])


def _form_start(words: list[str]) -> int:
    """Where the trailing legal form of a name's words starts (never at the first word)."""
    end = len(words)
    while end > 1 and words[end - 1] in LEGAL_SUFFIXES:
        end -= 1
    return end


# One spelling per legal form, so "Acme Incorporated" and ACME INC state the same form.
_FORM_SPELLING = {"INCORPORATED": "INC", "CORPORATION": "CORP", "LIMITED": "LTD", "COMPANY": "CO"}


def legal_form_of(clean: str) -> tuple[str, ...]:
    """The legal form a clean name ends with ("NAVA PBC" -> ("PBC",)); () for none or a name that is only that."""
    words = clean.split()
    return tuple(_FORM_SPELLING.get(w, w) for w in words[_form_start(words) :])


def legal_key(name: str) -> str:
    """Legal suffixes dropped but descriptors kept: "QUILL HEALTH SYSTEMS", not "QUILL HEALTH"."""
    return "".join(legal_words(name))


def spelled(name: str) -> str:
    """A filer name as entities list it: upper case, runs of spaces as one (the text itself when it already is)."""
    out = " ".join(name.upper().split())
    return name if out == name else out


class NameForms:
    """The clean_name(), d/b/a part and bracketed other name of every name an entity build asks about, each worked
    out once.

    Names can be handed in ahead (`add`, then `work` a few at a time, e.g. while a file loads) or worked out when
    first asked for. Unlike the memoised functions this never forgets, so keep one only for one build.
    """

    def __init__(self) -> None:
        self._clean: dict[str, str] = {}
        self._dba: dict[str, str | None] = {}
        self._aside: dict[str, str | None] = {}
        self._todo: list[tuple[str, bool]] = []
        self._queued: tuple[set[str], set[str]] = (set(), set())

    def clear(self) -> None:
        """Forget every name: the build is over, and what it held is memory the next step can use."""
        for held in (self._clean, self._dba, self._aside, *self._queued):
            held.clear()
        self._todo.clear()

    def add(self, names: set[str | None], filer: bool) -> None:
        """Queue names not queued before: a `filer` name is spelled and its d/b/a part found; any other is taken
        as a trade name."""
        queued = self._queued[filer]
        new = names - queued
        new.discard(None)
        queued |= new  # type: ignore[arg-type]
        self._todo.extend((n, filer) for n in new)  # type: ignore[misc]

    def work(self, n: int | None = None) -> bool:
        """Work out up to `n` queued names (all when None); returns whether any are left."""
        todo = self._todo
        take = len(todo) if n is None else min(n, len(todo))
        for name, filer in todo[len(todo) - take :]:
            if filer:
                spelt = spelled(name)
                self.clean(spelt)
                dba = self.dba(spelt)
                if dba:
                    self.clean(dba)
                    self.clean(spelled(dba))
            else:
                self.clean(name)
                self.clean(spelled(name))
        del todo[len(todo) - take :]
        # What is kept here is all a build needs: the memoised functions' copies would only add to its peak.
        clear_caches()
        return bool(todo)

    def clean(self, name: str) -> str:
        out = self._clean.get(name)
        if out is None:
            out = self._clean[name] = clean_name(name)
        return out

    def dba(self, name: str) -> str | None:
        """The d/b/a part of a name (split_dba's second half)."""
        try:
            return self._dba[name]
        except KeyError:
            out = self._dba[name] = split_dba(name)[1]
            return out

    def aside(self, name: str) -> str | None:
        """The bracketed other name of a filer name (`aside_name`)."""
        try:
            return self._aside[name]
        except KeyError:
            out = self._aside[name] = aside_name(name, self.clean(name))
            return out

    def full_key(self, name: str) -> str:
        return self.clean(name).replace(" ", "")

    def legal_key(self, name: str) -> str:
        return "".join(legal_words_of(self.clean(name)))

    def core_key(self, name: str) -> str:
        return "".join(core_words_of(self.clean(name)))

    def stored(self, name: str) -> tuple[str, str, str, str]:
        """`stored_forms` of a name, its clean name worked out once."""
        return stored_forms(self.clean(name))


def stored_forms(clean: str) -> tuple[str, str, str, str]:
    """What a stored name row holds beside the name, from its clean name: the clean name, core key, legal key and
    sorted blocking tokens (sorted, so the join's plain ratio is token_sort_ratio without re-sorting per comparison),
    each cut to the 300 characters its column holds."""
    legal = legal_words_of(clean)
    tokens = " ".join(sorted(blocking_tokens(clean)))
    return clean[:300], "".join(core_of_legal(legal))[:300], "".join(legal)[:300], tokens[:300]


# Top-level domains written into names ("FRAME.IO INC", "A9 COM INC"). Not AI or CO: "SCALE AI" and "... CO" are
# names and legal forms far more often than domains.
DOMAIN_WORDS = frozenset(["COM", "IO", "NET", "ORG", "APP", "DEV"])


# A filer named "<brand> AI" is its site's name ("Figure AI Inc." for figure.ai), but only as the filer's last word:
# a brand "Sakana AI" is not a SAKANA INC.
FILER_DOMAIN_ENDINGS = DOMAIN_WORDS | {"AI"}


_GLUED_SITE = re.compile(r"^([A-Z][A-Z0-9]{4,})(?:AI|IO|HQ|APP|LABS)$")


def domain_key(words: tuple[str, ...] | list[str], filer: bool = False) -> str | None:
    """The legal key without a domain ending ("FRAME IO" -> "FRAME"), or None when the name has no domain word.

    Only the second word or the last word counts: "AMAZON COM SERVICES", "CLINICALRESEARCH IO". A `filer`'s
    name may also end in AI ("FIGURE AI" -> "FIGURE"), or be one word gluing an ending on ("SARDINEAI").
    """
    if len(words) == 1 and filer:
        # A site's name written as one word: "SARDINEAI CORP" is Sardine, "FIELDWIRELABS INC" Fieldwire.
        glued = _GLUED_SITE.match(words[0])
        return glued.group(1) if glued else None
    if len(words) < 2:
        return None
    if words[1] in DOMAIN_WORDS:
        rest = [words[0], *words[2:]]
    elif words[-1] in (FILER_DOMAIN_ENDINGS if filer else DOMAIN_WORDS):
        rest = list(words[:-1])
    else:
        return None
    return "".join(rest)


def normalize_fein(value: object) -> str | None:
    """Nine digits, or None. FEINs arrive as '12-3456789', 123456789.0 or with spaces."""
    if value is None:
        return None
    if isinstance(value, float):
        value = int(value)
    text = str(value)
    # Most arrive as "12-3456789": the dash dropped, what is left is already all digits.
    digits = text.replace("-", "")
    if not digits.isdecimal():
        digits = re.sub(r"\D", "", text)
    if len(digits) == 8:  # Excel dropped the leading zero
        digits = "0" + digits
    if len(digits) != 9 or digits == "000000000":
        return None
    return digits


def format_fein(fein: str | None) -> str | None:
    return f"{fein[:2]}-{fein[2:]}" if fein else None


def blocking_tokens(clean: str) -> list[str]:
    """The words of a clean name that say which company it is (no legal form, descriptor or '&')."""
    return [w for w in clean.split() if w not in LEGAL_SUFFIXES and w not in GENERIC_TAIL and w != "&"]
