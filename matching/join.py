"""The join from an employer as displayed on a job board to DOL employer entities.

Order: curated alias (by FEIN or filer name) → what the posting says (the legal entity in its EEO sentence, its
career site's domain) → the same legal name (legal form aside; also written as a domain, "FRAME.IO INC") → a trade
or d/b/a name → the leading words of one filer when those words are rare ("Marvell" → MARVELL SEMICONDUCTOR INC)
→ rapidfuzz over a blocked candidate set. Descriptors are never stripped from a *filer* to make an exact match:
"Delta" is not DELTA GLOBAL SERVICES LLC; several filers sharing a brand's words stay `unsure`.

The fuzzy scorer is token_sort_ratio on the distinctive words (a plain ratio of words sorted once, at build
time), which, unlike token_set_ratio, does not give 100 to a name that is a subset of another ("Lattice" vs
"Lattice Semiconductor"), and a winner must also be close in order and with its descriptors. A fuzzy winner
must clear a threshold *and* beat the runner-up by a margin; otherwise the answer is "unsure".
"""

from __future__ import annotations

import csv
import gc
import re
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate, chain
from json.encoder import encode_basestring as _json_str
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from rapidfuzz import fuzz, process

from matching.normalize import (
    ACRONYM_SKIP,
    GENERIC_TAIL,
    LEGAL_SUFFIXES,
    aside_name,
    blocking_tokens,
    board_brand,
    clean_name,
    core_key,
    core_words,
    domain_key,
    format_fein,
    full_key,
    house_brand,
    initials,
    legal_form_of,
    legal_key,
    legal_words,
    normalize_fein,
    split_dba,
    stored_forms,
    trade_name,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ACCEPT = 92.0  # fuzzy score needed to match
MARGIN = 4.0  # and its lead over the best other entity
UNSURE = 75.0  # below this a candidate is not even worth showing
RUNNER_UP_MIN = 40.0  # a chosen match still reports the nearest other name above this
MIN_FUZZY_LEN = 5  # short names ("SAP", "IBM") only ever match exactly
SMALL_BLOCK = 3_000  # a word this rare is the whole block
MAX_BLOCK = 20_000  # never score more candidates than this for one name
GLUED_MIN = 8  # a one-word brand this long may be a filer's first words run together ...
GLUED_SCAN = 200  # ... looked for among this many legal names beginning with its letters
MIN_LEAD_LEN = 4  # leading words shorter than this ("ARC", "GE") never name a filer on their own
PLACE_MIN_LEN = 3  # with the posting's state to back them, three letters may ("Hex" in CA)
LEAD_SCAN = 20_000  # names starting with (or containing) the brand's words beyond this: the words are not rare
SPREAD_SCAN = 64  # names leading with a brand's first word beyond this: it is not rare enough to spread out
LEAD_MAX_FILERS = 8  # a one-word brand that more filers than this use is a namesake unless filings settle it
DOMINANT_MIN = 50  # a filer with this many filings ...
DOMINANT_RATIO = 10  # ... and this many times all other filers using the brand's words together is the brand
GROUP_MERGE_MAX = 40  # spellings of one filer are merged among at most this many filers leading with the words
SAME_FILER = 90.0  # leading filers whose names after the brand's words are this alike are one filer misspelt
# One company's entities all leading with its words (QUALCOMM TECHNOLOGIES, QUALCOMM INC, QUALCOMM ATHEROS): the one
# filing most is the brand when it files this share of all their filings (a one-word brand needs more) ...
FAMILY_SHARE = 0.5
FAMILY_SHARE_ONE_WORD = 0.75
GIANT = 1_000  # filings of an employer's entity that no namesake sharing its leading words comes near
FAMILY_STRAY = 0.01  # ... and filers using the words elsewhere in their names file almost nothing beside it
# A state this many filers are in is shared by namesakes too often to tie them: CA, 20% of 192k real H-1B filers
# (NY next, 13%).
BUSY_STATES = frozenset(["CA"])
# Words naming the field a firm is in, which brands add to a coined name its filer may leave out.
FIELD_WORDS = frozenset(
    [
        "AI",
        "PHARMA",
        "PHARMACEUTICALS",
        "THERAPEUTICS",
        "BIO",
        "BIOSCIENCES",
        "BIOTECH",
        "SECURITY",
        "HEALTH",
        "HEALTHCARE",
        "ROBOTICS",
        "SOFTWARE",
        "ENERGY",
        "MEDICAL",
        "FINANCE",
        "FINANCIAL",
        "MOTORS",
        "AEROSPACE",
        "SPACE",
        "DEFENSE",
        "GAMES",
        "STUDIOS",
        "MEDIA",
        "NETWORKS",
        "DATA",
        "ANALYTICS",
        "CLOUD",
        "CYBER",
        "INSURANCE",
        "LEARNING",
        "EDUCATION",
        "FOODS",
        "BRANDS",
        "SECURITIES",
        "TRADING",
    ]
)
# Words saying only what kind of firm it is: beside a coined word they are read like a field, but the filer found
# may add nothing else than where or how it is organised ("Arlo Solutions" is not ARLO TECHNOLOGIES INC).
KIND_WORDS = frozenset(["TECHNOLOGIES", "TECHNOLOGY", "SYSTEMS", "LABS", "SOLUTIONS"])
# A site's ending written as a word of a legal name: SPAN IO INC is the firm behind span.io.
SITE_WORDS = frozenset(["IO", "COM", "APP", "HQ"])
KIN_MAX = 3  # at most this many filers leading with a brand's rare words may be its entities by their names alone
# What such a filer may add to the brand's words: where or how it is organised ("DE": incorporated in Delaware).
# A state's code names the arm incorporated or working there: BOT AUTO CA INC and BOT AUTO TX INC.
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR "
    "PA PR RI SC SD TN TX UT VT VA WA WV WI WY"
)
US_STATE_CODES = frozenset(_STATES.split())
# A company's own arms by what they run for it: "Dollar Tree Management" and "Dollar Tree Distribution".
_FUNCTION = {"MANAGEMENT", "DISTRIBUTION", "OPERATIONS", "OPERATING", "STORES"}
KIN_TAIL = GENERIC_TAIL | US_STATE_CODES | {"DELAWARE"} | _FUNCTION
# Words that join a name's parts ("YMCA of ...", "Schulte Roth and ..."): a name is never cut next to them.
_JOINING = frozenset(["OF", "AND", "&", "FOR", "AT", "THE", "DE", "DU", "LA"])
# A brand's tail naming the US arm of a firm known by the rest.
US_ARM = frozenset(["US", "USA", "AMERICA", "AMERICAS", "NORTH"])
# What a filer's name may add to a brand and still be only the brand's arm somewhere: APPNOVATION USA INC.
_ARM_WORDS = US_STATE_CODES | US_ARM | {"DELAWARE", "INTERNATIONAL", "GLOBAL"}
# A d/b/a cut short keeps at least CUT_MIN letters and loses fewer than CUT_MAX of the brand's: one letter
# ("... DBA MAILCHIM" is Mailchimp); two short, it is as often a shorter name ("... DBA CIRCLE" is not CircleCI).
CUT_MIN, CUT_MAX = 6, 2
TRADE_MAX_FILERS = 3  # filers sharing one d/b/a that no legal name uses: "0956588 BC LTD" and "0965688 BC LTD"
# A bare legal name filing this much, and more than every other filer using the word, is the one-word brand
# however many small firms share the word (KONG INC, 24 petitions, beside "HONG KONG ..." firms of one or two).
BARE_NAME_MIN = 20
LONE_WORD_FILINGS = 20  # an everyday word leading one filer's name names the brand only when that filer files this
# Words that only say how a filer is organised or what kind of tech firm it is: no second name.
PLAIN_TAIL = GENERIC_TAIL | LEGAL_SUFFIXES | frozenset(["AI", "IO", "HQ", "APP", "CO", "COMPANY", "CORPORATION"])
# An everyday word's filer whose H-1B petitions are denied this often (over at least HUB_TELL_MIN of them) is an IT
# staffing firm's kind of record, not a product company's: on the registry 0.06-0.31 against 0.00-0.04.
STAFFING_DENIALS = 0.05
HUB_TELL_MIN = 50
ACRONYM_AWAY_MIN = 500  # filings an initials-only match needs when it files in none of the employer's posting states
ACRONYM = re.compile(r"[A-Z]{2,5}")  # a brand shown as capitals only ("HPE", "TCS") may be a filer's initials
ALIASES_FILE = "aliases.csv"
# Generic words saying what a firm does ("Block Labs" is not Block) ...
_DOES = {"TECHNOLOGIES", "TECHNOLOGY", "TECH", "SYSTEMS", "LABS", "ENTERPRISES", "OPERATIONS", "SERVICES", "SOLUTIONS"}
# ... and the rest, saying where or how it is organised: "Bluevine - US" is still Bluevine.
ORGANISED_AS = GENERIC_TAIL - _DOES
# Filers of one company may differ in these only: its US (services) arm, its holding company, its state of
# incorporation or work ("IN" is the word more often than Indiana).
KIN_ARM = frozenset(
    ["SERVICES", "HOLDINGS", "HOLDING", "US", "USA", "AMERICA", "AMERICAS", "NORTH", "DELAWARE", *_FUNCTION]
) | (US_STATE_CODES - {"IN"})


class Candidate(NamedTuple):
    """One DOL entity a name may join to. A named tuple: a look-up makes tens of thousands of them."""

    entity_id: int
    name: str
    fein: str | None
    score: float
    method: str  # fein|alias|ad_name|ad_site|ad_board|ad_place|exact|trade|leading|acronym|fuzzy (<= 8 chars: stored)
    variant: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fein": format_fein(self.fein),
            "score": round(self.score, 1),
            "method": self.method,
        }

    def json_text(self) -> str:
        """`json.dumps(self.as_json(), ensure_ascii=False)`, written directly: a batch prints tens of thousands."""
        fein = format_fein(self.fein)
        return (
            f'{{"name": {_json_str(self.name)}, "fein": {"null" if fein is None else _json_str(fein)}, '
            f'"score": {round(self.score, 1)!r}, "method": {_json_str(self.method)}}}'
        )


@dataclass
class MatchResult:
    query: str
    outcome: str  # matched | unsure | none
    matches: list[Candidate] = field(default_factory=list)
    alternatives: list[Candidate] = field(default_factory=list)
    # Filers the rules chose but the alias table or an override rules out as namesakes: why a brand is `none`.
    ruled_out: list[Candidate] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        return self.matches[0] if self.matches else None

    @property
    def runner_up(self) -> Candidate | None:
        return self.alternatives[0] if self.alternatives else None

    def as_json(self) -> dict[str, Any]:
        matches = [m.as_json() for m in self.matches]
        return {
            "query": self.query,
            "match": matches[0] if matches else None,
            "matches": matches,
            "outcome": self.outcome,
            "alternatives": [a.as_json() for a in self.alternatives],
            **({"ruled_out": [r.as_json() for r in self.ruled_out]} if self.ruled_out else {}),
        }

    def json_text(self) -> str:
        """`json.dumps(self.as_json(), ensure_ascii=False)`, written directly (twice as fast for a batch)."""
        matches = [m.json_text() for m in self.matches]
        alternatives = ", ".join([a.json_text() for a in self.alternatives])
        ruled = f', "ruled_out": [{", ".join([r.json_text() for r in self.ruled_out])}]' if self.ruled_out else ""
        return (
            f'{{"query": {_json_str(self.query)}, "match": {matches[0] if matches else "null"}, '
            f'"matches": [{", ".join(matches)}], "outcome": {_json_str(self.outcome)}, '
            f'"alternatives": [{alternatives}]{ruled}}}'
        )


def load_aliases(path: Path | None = None) -> dict[str, list[str]]:
    """brand legal key (legal form dropped, descriptors kept) -> filer names, 'FEIN:..' entries or '!filer' (never
    this filer); `path` defaults to the shipped table. A name is looked up by its legal key, else by its core."""
    if path is None:
        path = Path(__file__).parent / "data" / ALIASES_FILE
    lines: dict[str, list[tuple[str, str]]] = defaultdict(list)  # legal key -> (spelling, filer), in file order
    _, _, rows = alias_rows(path.read_text(encoding="utf-8"))
    for _, row in rows:
        brand, filer = (row.get("brand") or "").strip(), (row.get("filer") or "").strip()
        if brand and filer:
            lines[alias_key(brand)].append((spelling_key(brand), filer))
    aliases: dict[str, list[str]] = {}
    for key, pairs in lines.items():
        forms: dict[str, list[str]] = defaultdict(list)
        for spelt, filer in pairs:
            forms[spelt].append(filer)
        if len(forms) == 1:
            aliases[key] = [filer for _, filer in pairs]
            continue
        # Two brands the legal key cannot tell apart ("Zip" and "Zip Co Limited", whose "Co Limited" reads as a
        # legal form) each keep their own lines under their full spelling, looked up first; under the shared key,
        # only the lines they share: another spelling is neither brand for sure.
        aliases.update(forms)
        shared = [f for f in dict.fromkeys(f for _, f in pairs) if all(f in fs for fs in forms.values())]
        if shared:
            aliases[key] = shared
    return aliases


def spelling_key(brand: str) -> str:
    """A brand's whole spelling, legal-form words kept: the alias table's key for brands one legal key holds."""
    return "=" + full_key(brand)


def alias_rows(text: str) -> tuple[int, list[str], list[tuple[int, dict[str, str]]]]:
    """The header's line number, the header and the rows, each with its line number, of a CSV in the alias
    table's shape (the shipped table, an operator's overrides file): `#` lines and blank lines skipped.
    ValueError when a quoted field runs over several lines: one line is one alias."""
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(ln for _, ln in numbered)
    rows = [(numbered[reader.line_num - 1][0], row) for row in reader]
    if numbered and reader.line_num != len(rows) + 1:
        raise ValueError("a quoted field runs over several lines; write one line each")
    return (numbered[0][0] if numbered else 0), list(reader.fieldnames or ()), rows


def alias_key(brand: str) -> str:
    """The key an alias line or an operator's override is filed and looked up under: the brand's legal key
    (legal form dropped, descriptors kept), else its core."""
    return legal_key(brand) or core_key(brand)


@dataclass(frozen=True)
class JoinHints:
    """What a posting itself says about its employer: the legal entity named in the ad, the career site's domain."""

    stated_entity: str | None = None
    domain: str | None = None  # registrable domain of the employer's own career site, e.g. "acme.com"
    states: frozenset[str] = frozenset()  # US states the employer's postings are in ("CA", "NY")
    board: str | None = None  # the job board's token as one lower-case word ("cobaltio"), see board_label
    abroad: bool = False  # every posting is outside the US: no US state is one the employer posts in

    def __bool__(self) -> bool:
        return bool(self.stated_entity or self.domain or self.states or self.board or self.abroad)


_LEGAL_FORM = (
    r"(?:Inc\.?|INC\.?|Incorporated|INCORPORATED|LLC|L\.L\.C\.|Corp\.?|CORP\.?|Corporation|CORPORATION|Ltd\.?|LTD\.?"
    r"|Limited|LIMITED|L\.P\.|LP|LLP|L\.L\.P\.|PBC|P\.B\.C\.|GmbH|PLC|plc|N\.A\.|Co\.|CO\.)"
)
_NAME_WORD = r"(?:[A-Z0-9][\w'\u2019.\-]*|&|of|and|the|de)"
# "<Name>, Inc. is an equal opportunity employer", "<Name> LLC and its affiliates are proud to be an Equal ...",
# "<Name> Corp. (\"the Company\") is an E-Verify employer": an employer names itself in its own EEO sentence.
_STATED = re.compile(
    rf"((?:{_NAME_WORD}[ \t]+){{0,7}}[A-Z0-9][\w'\u2019.\-]*,?[ \t]+{_LEGAL_FORM})"
    r"(?:,?[ \t]+(?i:d/b/a|dba|doing[ \t]+business[ \t]+as)[ \t]+(?:[A-Z0-9][\w'\u2019.&\-]*[ \t]+){1,5}?)?"
    r"(?:[ \t]*\([^)\n]{0,40}\))?,?\s*"
    r"(?i:(?:and\s+its\s+(?:\w+\s+){1,2})?(?:(?:is|are)\s+"
    r"(?:an?\s+|proud\s+to\s+be\s+an?\s+|committed\s+to\s+(?:being\s+an?\s+)?)?"
    r"(?:equal\s+(?:opportunity|employment)|e-?verify|affirmative\s+action)"
    # Other ways an EEO statement opens: "... provides equal employment opportunities", "... participates in
    # E-Verify", "... does not discriminate".
    r"|provides?\s+equal\s+(?:employment\s+)?opportunit|participates?\s+in\s+e-?verify|does\s+not\s+discriminate))"
)
# Words that open a sentence before the name ("At Acme Labs, Inc. ...").
_LEAD_FILLER = frozenset(["AT", "ABOUT", "HERE", "WHY", "US", "JOIN", "JOINING", "WHO", "WE", "ARE", "EEO", "EOE"])
# Hosts that serve many employers' boards: their name says nothing about the employer.
ATS_HOSTS = (
    "greenhouse.io",
    "lever.co",
    "ashbyhq.com",
    "myworkdayjobs.com",
    "myworkdaysite.com",
    "smartrecruiters.com",
    "workable.com",
    "bamboohr.com",
    "icims.com",
    "jobvite.com",
    "taleo.net",
    "successfactors.com",
    "recruitee.com",
    "breezy.hr",
    "applytojob.com",
    "linkedin.com",
    "indeed.com",
    "glassdoor.com",
    "wellfound.com",
    "ycombinator.com",
    "oraclecloud.com",
    "ultipro.com",
    "dayforcehcm.com",
    "paylocity.com",
    "adp.com",
)
_SECOND_LEVEL = frozenset(["co", "com", "org", "net", "ac", "gov", "edu"])  # "acme.co.uk", "acme.com.au"


def stated_entity(text: str | None) -> str | None:
    """The legal entity a posting names in its equal-opportunity / E-Verify sentence, or None."""
    if not text:
        return None
    for m in _STATED.finditer(text):
        name = m.group(1)
        # A sentence break inside the run of capitalised words: keep what follows it.
        name = re.split(r"(?<=[a-z]{2}[.!?])\s+|\n", name)[-1]
        words = name.split()
        while len(words) > 2 and words[0].upper().strip(",.") in _LEAD_FILLER:
            words = words[1:]
        name = " ".join(words).strip(" ,")
        if core_key(name):
            return name
    return None


def site_domain(url: str | None) -> str | None:
    """The registrable domain of an employer's own career site ("https://careers.acme.com/x" -> "acme.com").

    None for job-board platforms (greenhouse.io, lever.co, ...), whose host names a vendor, not the employer.
    """
    if not url:
        return None
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower().rstrip(".")
    if not host or host.replace(".", "").isdigit() or host == "localhost" or "." not in host:
        return None
    if any(host == h or host.endswith("." + h) for h in ATS_HOSTS):
        return None
    labels = host.split(".")
    n = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-n:])


# Platforms whose board is a token naming the employer (a schema.org site's board is its address instead).
TOKEN_PLATFORMS = frozenset(["greenhouse", "lever", "ashby", "workday", "smartrecruiters"])
# Board tokens wrap the name in words about the board ("applytoaktos", "teachablecareers"); a glued legal form is
# dropped too ("emslinqinc"), the name keeping at least four letters.
_TOKEN_LEAD = re.compile(r"^(?:applyto|careersat|joinus|workat|workwith|join)(?=[a-z0-9]{4})")
_TOKEN_TAIL = re.compile(r"(?<=[a-z0-9]{4})(?:careers|career|jobs|hiring)$")
_TOKEN_FORM = re.compile(r"(?<=[a-z0-9]{4})(?:inc|llc|corp|ltd)$")
# Where or how a firm's arm is organised, glued to the end of a board token: "sonyinteractiveentertainmentglobal".
_BOARD_ARM = re.compile(r"(?<=[a-z0-9]{8})(?:global|usa|us|northamerica|america|na|group|international|intl)$")
BOARD_SPELT_MIN = 8  # a token shorter than this spells too many legal names by chance
_WORKDAY_POD = re.compile(r"\.wd\d+$")  # a Workday board is "tenant.wd5/Site": the pod is no part of the name


def ats_board(url: str | None) -> str | None:
    """The board token in a job-board platform's URL ("https://job-boards.greenhouse.io/cobaltio/jobs/1" ->
    "cobaltio", a Workday tenant "https://dollartree.wd5.myworkdayjobs.com/x" -> "dollartree"); None elsewhere."""
    if not url:
        return None
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower()
    path = [p for p in parts.path.split("/") if p]
    if host.endswith((".myworkdayjobs.com", ".myworkdaysite.com")):
        return host.split(".")[0]
    if host == "boards-api.greenhouse.io" and len(path) >= 3 and path[1] == "boards":
        return path[2]
    if host.endswith("greenhouse.io") and path[:1] == ["embed"]:
        return parse_qs(parts.query).get("for", [None])[0]  # the embedded form: ".../embed/job_app?for=acme"
    if host.endswith(("greenhouse.io", "lever.co", "ashbyhq.com", "smartrecruiters.com")) and path:
        return unquote(path[0])  # Ashby names boards as shown: "Jasper%20AI"
    return None


def board_label(board: str | None) -> str | None:
    """A board token as the employer's name squashed to one lower-case word, board words and a glued legal form
    dropped: "Gunvor_Careers" -> "gunvor", "EMSLINQInc" -> "emslinq", a Workday "tenant.wd5/Site" -> "tenant"."""
    if not board:
        return None
    token = re.sub(r"[^a-z0-9]", "", _WORKDAY_POD.sub("", board.split("/")[0].lower()))
    token = _TOKEN_FORM.sub("", _TOKEN_TAIL.sub("", _TOKEN_LEAD.sub("", token)))
    return token or None


def us_state(code: str) -> str | None:
    """A two-letter US state code as written by a posting or a user ("ca ", "TX"), upper-cased; None for anything
    else: a Canadian province (ON, BC) or a stray pair of letters says nothing about a US filer."""
    code = code.strip().upper()
    return code if code in US_STATE_CODES else None


def posting_hints(
    description: str | None,
    url: str | None = None,
    apply_url: str | None = None,
    states: Iterable[str] = (),
    board: str | None = None,
    abroad: bool = False,
) -> JoinHints:
    """Join hints read from one posting: its EEO sentence, the first of its URLs on the employer's own site, the
    US states (two-letter codes) the employer's postings are in, its job board's token (`board`, else read from a
    platform URL), and whether all the employer's postings are outside the US (`abroad`, ignored beside states)."""
    places = frozenset(code for code in map(us_state, filter(None, states)) if code)
    label = board_label(board or ats_board(url) or ats_board(apply_url))
    domain = site_domain(apply_url) or site_domain(url)
    return JoinHints(stated_entity(description), domain, places, label, abroad and not places)


def _plural_of(a: str, b: str) -> bool:
    """Whether one of two words is the other with an S added ("WALGREENS", "WALGREEN")."""
    return a == b + "S" or b == a + "S"


def _append_once(ids: list[int], eid: int) -> None:
    if not ids or ids[-1] != eid:
        ids.append(eid)


_SEP = "\x00"  # joins a list of names into one string when saved (a list with it in a name is saved as is)


def _pack_strings(items: list[str]) -> str | list[str]:
    """One string for a list of strings (a saved index loads it with one split), or the list if one has `_SEP`."""
    joined = _SEP.join(items)
    return joined if joined.count(_SEP) == max(len(items) - 1, 0) else items


def _unpack_strings(packed: str | list[str], n: int) -> list[str]:
    if isinstance(packed, list):
        return packed
    return packed.split(_SEP) if n else []


# A map looked up this often gets a hash table; until then (or for good, for a map a batch barely reads: the alias
# path's by_core) a look-up bisects its sorted keys, and the saved index never pays for the table.
_HASH_AFTER = 512


class Lists:
    """A read-only map from a string to a list of ints, packed: sorted keys, one array of all the ints and the
    offset of each key's run. A saved index loads it as three objects instead of a list per key; the keys are
    split on first use and hashed once the map is used often (a map no look-up uses costs nothing)."""

    __slots__ = ("_keys", "_lookups", "_pos", "as_arrays", "starts", "values")

    def __init__(self, lists: dict[str, list[int]], as_arrays: bool = False) -> None:
        keys = sorted(lists)
        self._keys: list[str] | str = keys
        runs = list(map(lists.__getitem__, keys))
        # Packed by iterators the array type consumes itself: a Python loop per key cost seconds at 300k names.
        self.values = array("q", chain.from_iterable(runs))
        self.starts = array("q", [0])
        self.starts.extend(accumulate(map(len, runs)))
        # Arrays instead of lists: for long lists (the words' postings) that are only counted, sliced and read.
        self.as_arrays = as_arrays
        self._pos: dict[str, int] | None = None
        self._lookups = 0

    @property
    def keys(self) -> list[str]:
        """The sorted keys."""
        if isinstance(self._keys, str):
            self._keys = _unpack_strings(self._keys, len(self.starts) - 1)
        return self._keys

    def _positions(self) -> dict[str, int]:
        if self._pos is None:
            keys = self.keys
            self._pos = dict(zip(keys, range(len(keys)), strict=True))
        return self._pos

    def _at(self, key: str) -> int | None:
        """Where `key` is among the sorted keys, or None; the hot methods look in the hash table themselves."""
        if self._pos is None:
            self._lookups += 1
            if self._lookups <= _HASH_AFTER:
                keys = self.keys
                i = bisect_left(keys, key)
                return i if i < len(keys) and keys[i] == key else None
        return self._positions().get(key)

    def _find(self, key: str) -> int:
        i = self._pos.get(key) if self._pos is not None else self._at(key)
        return -1 if i is None else i

    def span(self, key: str) -> tuple[int, int]:
        """Where `key`'s ints are in `values` ((0, 0) for an unknown key)."""
        i = self._pos.get(key) if self._pos is not None else self._at(key)
        return (0, 0) if i is None else (self.starts[i], self.starts[i + 1])

    def spans(self, keys: Iterable[str]) -> list[tuple[int, int]]:
        """`span` of each of `keys`, all known."""
        pos = self._positions()
        starts = self.starts
        return [(starts[i], starts[i + 1]) for i in map(pos.__getitem__, keys)]

    def count(self, key: str) -> int:
        """How many ints `key` has (0 for an unknown key; a known key has at least one): no copy of them."""
        i = self._pos.get(key) if self._pos is not None else self._at(key)
        return 0 if i is None else self.starts[i + 1] - self.starts[i]

    def get(self, key: str, default: Any = None) -> Any:
        i = self._pos.get(key) if self._pos is not None else self._at(key)
        if i is None:
            return default
        run = self.values[self.starts[i] : self.starts[i + 1]]
        return run if self.as_arrays else run.tolist()

    def __getitem__(self, key: str) -> Any:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return self._find(key) >= 0  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __getstate__(self) -> tuple[Any, ...]:
        return (_pack_strings(self.keys), len(self), self.starts, self.values, self.as_arrays)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        keys, n, self.starts, self.values, self.as_arrays = state
        # Kept joined until first used; a list already when a key holds the separator.
        self._keys = keys if n else []
        self._pos = None
        self._lookups = 0


class Entities:
    """Entity id -> (name, FEIN), packed like `Lists`: sorted ids, names and FEINs in the same order."""

    __slots__ = ("_pos", "_states", "feins", "ids", "names")

    def __init__(self, entity: dict[int, tuple[str, str | None]], states: dict[int, str] | None = None) -> None:
        self.ids: list[int] = sorted(entity)
        self.names: list[str] = [entity[e][0] for e in self.ids]
        self.feins: list[str | None] = [entity[e][1] for e in self.ids]
        # The entity's US state ("" unknown): where its filings put it, beside where a posting is.
        self._states: list[str] | str = [(states or {}).get(e, "") for e in self.ids]
        self._pos: dict[int, int] | None = None

    def _positions(self) -> dict[int, int]:
        if self._pos is None:
            self._pos = dict(zip(self.ids, range(len(self.ids)), strict=True))
        return self._pos

    def _find(self, eid: int) -> int:
        return (self._pos or self._positions()).get(eid, -1)

    def __getitem__(self, eid: int) -> tuple[str, str | None]:
        i = (self._pos or self._positions())[eid]
        return self.names[i], self.feins[i]

    def candidates(self, found: Iterable[tuple[int, float, str]], method: str) -> list[Candidate]:
        """A Candidate per (entity id, score, variant): a fuzzy look-up names a dozen entities."""
        pos = self._pos or self._positions()
        names, feins = self.names, self.feins
        out = []
        for eid, score, variant in found:
            i = pos[eid]
            out.append(Candidate(eid, names[i], feins[i], score, method, variant))
        return out

    def get(self, eid: int, default: Any = None) -> Any:
        i = self._find(eid)
        return (self.names[i], self.feins[i]) if i >= 0 else default

    def __contains__(self, eid: object) -> bool:
        return self._find(eid) >= 0  # type: ignore[arg-type]

    @property
    def states(self) -> list[str]:
        """Each entity's US state ("" unknown); only look-ups with a posting's states read them, so a saved index
        splits them on first use."""
        if isinstance(self._states, str):
            self._states = _unpack_strings(self._states, len(self.ids))
        return self._states

    def state(self, eid: int) -> str:
        i = self._find(eid)
        return self.states[i] if i >= 0 else ""

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids)

    def __getstate__(self) -> tuple[Any, ...]:
        feins: Any = self.feins
        if all(f is None or (type(f) is str and f) for f in feins):
            packed = _pack_strings([f or "" for f in feins])  # None saved as "", which no FEIN is
            feins = packed if isinstance(packed, str) else feins
        return (array("q", self.ids), _pack_strings(self.names), feins, _pack_strings(self.states))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        ids, names, feins, states = state
        self.ids = ids.tolist()
        self.names = _unpack_strings(names, len(self.ids))
        self.feins = feins if isinstance(feins, list) else [f or None for f in _unpack_strings(feins, len(self.ids))]
        self._states = states if self.ids else []
        self._pos = None


class EntityIndex:
    """All entity name variants in memory, indexed for exact lookups, leading words and blocked fuzzy search.

    It pickles (it is persisted between runs) into a few large objects: strings joined, ints in arrays.
    """

    def __init__(
        self,
        variants: Iterable[tuple[Any, ...]],
        aliases: dict[str, list[str]] | None = None,
        hub: dict[int, tuple[int, int]] | None = None,
    ) -> None:
        """`variants`: (entity id, entity name, fein, clean name, core key, legal key, tokens[, source, filings[,
        state]]), grouped by entity; `source` is the dol_entity_names source (`trade` for d/b/a and trade names).
        `hub`: entity -> (H-1B petitions decided, of them denied) in the USCIS hub, where it has any."""
        self.hub: dict[int, tuple[int, int]] = dict(hub or {})
        entity: dict[int, tuple[str, str | None]] = {}
        states: dict[int, str] = {}
        by_fein: dict[str, list[int]] = defaultdict(list)
        by_core: dict[str, list[int]] = defaultdict(list)
        by_legal: dict[str, list[int]] = defaultdict(list)
        by_trade: dict[str, list[int]] = defaultdict(list)
        by_domain: dict[str, list[int]] = defaultdict(list)
        by_first: dict[str, list[int]] = defaultdict(list)
        by_first2: dict[str, list[int]] = defaultdict(list)
        filings_of: dict[int, int] = defaultdict(int)
        postings: dict[str, list[int]] = defaultdict(list)
        self.cores: list[str] = []  # variant tokens joined by spaces, for scoring
        self.owner: list[int] = []  # variant -> entity
        self.cleans: list[str] = []
        self.group: list[str] = []  # variant -> its core key: which filer it is, descriptors aside
        self.lclean: list[str] = []  # variant -> its legal words (legal_words), space-separated
        self.is_trade: set[int] = set()  # variants that are trade / d/b/a names
        # Initials -> (the filer they name, filings of all other filers with those initials); only for a filer
        # that dwarfs the rest ("TCS" -> TATA CONSULTANCY SERVICES), so the table stays small.
        self.by_acronym: dict[str, tuple[int, int]] = {}
        by_initials: dict[str, set[int]] = defaultdict(set)
        cores_append, owner_append, cleans_append = self.cores.append, self.owner.append, self.cleans.append
        lclean_append, group_append = self.lclean.append, self.group.append
        for vid, row in enumerate(variants):
            entity_id, name, fein, clean, ckey, lkey, tokens = row[:7]
            source = row[7] if len(row) > 7 else None
            filings = (row[8] or 0) if len(row) > 8 else 0
            if entity_id not in entity:
                entity[entity_id] = (name, fein)
                if len(row) > 9 and row[9]:
                    states[entity_id] = row[9]
                if fein:
                    by_fein[fein].append(entity_id)
            _append_once(by_core[ckey], entity_id)
            words = _legal_words_of(clean)
            if source == "trade":
                self.is_trade.add(vid)
                _append_once(by_trade[lkey], entity_id)
                if ckey != lkey:
                    _append_once(by_trade[ckey], entity_id)
            else:
                _append_once(by_legal[lkey], entity_id)
                if words:
                    by_first[words[0]].append(vid)
                    if len(words) > 1:
                        by_first2[f"{words[0]} {words[1]}"].append(vid)
                dkey = domain_key(words, filer=True)
                if dkey:
                    _append_once(by_domain[dkey], entity_id)
                filings_of[entity_id] += filings
                spelled = [w for w in words if w not in ACRONYM_SKIP]
                if 2 <= len(spelled) <= 5:
                    by_initials[initials(spelled)].add(entity_id)
            core = tokens or " ".join(sorted(clean.split()))
            cores_append(core)
            owner_append(entity_id)
            cleans_append(clean)
            group_append(ckey)
            lclean_append(" ".join(words))
            for t in core.split():
                # Sorted words: a repeated word is adjacent, and listing a name twice is harmless anyway.
                postings[t].append(vid)
        # Packed, read-only maps: a lookup never grows the index, and a saved index loads in a few objects. Each
        # map's lists are dropped once packed, so the build's peak holds one map twice, not all of them.
        self.entity = Entities(entity, states)
        del entity, states
        self.by_fein = Lists(by_fein)
        self.by_core = Lists(by_core)
        del by_fein, by_core
        self.by_legal = Lists(by_legal)  # legal names only, not trade names
        self.by_trade = Lists(by_trade)  # trade / d/b/a names, by legal and core key
        self.by_domain = Lists(by_domain)  # "FRAME.IO INC" under "FRAME"
        del by_legal, by_trade, by_domain
        self.by_first = Lists(by_first)  # first legal word -> legal-name variants
        del by_first
        self.by_first2 = Lists(by_first2)  # first two legal words -> legal-name variants
        del by_first2
        self.filings: dict[int, int] = dict(filings_of)  # entity -> filings under its legal names
        del filings_of
        self.postings = Lists(postings, as_arrays=True)  # word -> variants, in variant order
        del postings
        # Sorted reversed words (postings' keys are the sorted words): a misspelt word finds the words sharing
        # its first or last letters.
        self.rvocab: list[str] = sorted(w[::-1] for w in self.postings)
        for key, eids in by_initials.items():
            filed = [(self.filings.get(e, 0), -e) for e in eids]
            top, neg_id = max(filed)  # the most filings; on a tie, the lowest id
            rest = sum(f for f, _ in filed) - top
            if top >= DOMINANT_MIN and top >= DOMINANT_RATIO * rest:
                self.by_acronym[key] = (-neg_id, rest)
        self.aliases = load_aliases() if aliases is None else aliases
        # An operator's overrides (brand key -> filers, "!filer" for "not this one"), read from the database
        # after the index is loaded: they win over the alias table and are never saved with the index.
        self.overrides: dict[str, list[str]] = {}
        self.vocab: list[str] = self.postings.keys  # the sorted words
        self._posting_cores: list[str] | None = None  # built on first use, never saved

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in vars(self).items() if k not in ("vocab", "_posting_cores", "overrides")}
        state["owner"] = array("q", self.owner)
        state["_sizes"] = {}
        for name in ("cores", "cleans", "group", "lclean", "rvocab"):
            state["_sizes"][name] = len(state[name])
            state[name] = _pack_strings(state[name])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, n in state.pop("_sizes").items():
            state[name] = _unpack_strings(state[name], n)
        state["owner"] = state["owner"].tolist()
        vars(self).update(state)
        self.vocab = self.postings.keys
        self._posting_cores = None
        self.overrides = {}

    @classmethod
    def from_names(
        cls,
        names: Iterable[tuple[Any, ...]],
        aliases: dict[str, list[str]] | None = None,
        hub: dict[int, tuple[int, int]] | None = None,
    ) -> EntityIndex:
        """An index over (entity id, legal name, fein[, source[, filings[, state]]]) rows, normalised here (tests,
        ad-hoc use); `hub` as for the constructor.

        As at ingest, a "D/B/A <trade>" clause, or a bracketed name that is the other's initials (`aside_name`),
        also files the entity under that name as a trade name; a row whose source is `trade` (LCA TRADE_NAME_DBA,
        PERM trade name) is a trade name itself.
        """
        rows = []
        for row in names:
            eid, name, fein = row[:3]
            source = row[3] if len(row) > 3 else "lca"
            filings = row[4] if len(row) > 4 else 0
            state = row[5] if len(row) > 5 else None
            clean = clean_name(name)
            tokens = " ".join(sorted(blocking_tokens(clean)))
            rows.append((eid, name, fein, clean, core_key(name), legal_key(name), tokens, source, filings, state))
            if source == "trade":
                continue
            for trade in (split_dba(name)[1], aside_name(name, clean)):
                if trade and clean_name(trade) and legal_key(trade) != legal_key(name):
                    tclean = clean_name(trade)
                    tokens = " ".join(sorted(blocking_tokens(tclean)))
                    rows.append((eid, name, fein, tclean, core_key(trade), legal_key(trade), tokens, "trade", 0, state))
        return cls(rows, aliases, hub)

    @classmethod
    def from_session(
        cls, session: Session, aliases: dict[str, list[str]] | None = None, renormalise: bool = False
    ) -> EntityIndex:
        """The index over the stored entities and names. With `renormalise`, each name's normal forms are worked
        out again rather than read: names stored by an earlier version of the normalisation still join as the
        current one reads queries ("M BOOTH AND ASSOCIATES" and "M Booth & Associates")."""
        # Imported here: a look-up that loads a saved index never needs the ORM models.
        from sqlalchemy import func, null, select

        from crawler.models import DolEntity, DolEntityName, DolEntityYear

        e, n = DolEntity.__table__.c, DolEntityName.__table__.c
        keys = (n.name, null(), null(), null()) if renormalise else (n.clean, n.core_key, n.legal_key, n.tokens)
        stmt = (
            select(e.id, e.name, e.fein, *keys, n.source, n.filings, e.state)
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
        if renormalise:
            rows = [_renormalised(row) for row in rows]
        y = DolEntityYear.__table__.c
        decided = sum(func.coalesce(c, 0) for c in (y.uscis_initial_approval, y.uscis_continuing_approval))
        denied = sum(func.coalesce(c, 0) for c in (y.uscis_initial_denial, y.uscis_continuing_denial))
        hub_rows = session.execute(
            select(y.entity_id, func.sum(decided + denied), func.sum(denied))
            .group_by(y.entity_id)
            .having(func.sum(decided + denied) > 0)
        )
        hub = {eid: (int(total), int(no)) for eid, total, no in hub_rows}
        return cls(_drained(rows), aliases, hub)

    def __len__(self) -> int:
        return len(self.entity)

    def _cand(self, entity_id: int, score: float, method: str, variant: str = "") -> Candidate:
        name, fein = self.entity[entity_id]
        return Candidate(entity_id, name, fein, score, method, variant)

    def filer_ids(self, filer: str) -> list[int]:
        """The entities an alias line or override names: by FEIN ("FEIN:12-3456789"), else by the filer's legal
        name, descriptors kept ("Google LLC" is not GOOGLE GLOBAL SERVICES LLC), else by its core."""
        if filer.upper().startswith("FEIN:"):
            return list(self.by_fein.get(normalize_fein(filer[5:]) or "", ()))
        return list(self.by_legal.get(legal_key(filer)) or self.by_core.get(core_key(filer), ()))

    def _lines(self, key: str) -> tuple[list[str], str]:
        """The filers a brand is said to be, and by whom: the operator's overrides when they name any (`override`),
        else the alias table's lines less the filers an override rules out (`alias`)."""
        own = [f for f in self.overrides.get(key, ()) if not f.startswith("!")]
        return (own, "override") if own else (self._table_lines(key), "alias")

    def _table_lines(self, key: str) -> list[str]:
        """The alias table's filers for a brand, less those an operator's override rules out."""
        ruled_out = {legal_key(f[1:]) for f in self.overrides.get(key, ()) if f.startswith("!")}
        return [f for f in self.aliases.get(key, ()) if not f.startswith("!") and legal_key(f) not in ruled_out]

    def _alias(self, key: str) -> list[Candidate]:
        out: dict[int, Candidate] = {}
        lines, method = self._lines(key)
        for filer in lines:
            by_fein = filer.upper().startswith("FEIN:")
            for eid in self.filer_ids(filer):
                out.setdefault(eid, self._cand(eid, 100.0, "fein" if by_fein and method == "alias" else method, filer))
        return list(out.values())

    def _exact(self, query: str, site_form: bool = True) -> list[int]:
        """Entities whose legal name is the query's, up to legal form; else whose legal name is the query's core
        ("Quill Health Systems" -> QUILL HEALTH INC) or the query without its domain ending ("Frame.io" -> FRAME);
        else, with `site_form`, whose legal name is the query written as a domain ("FRAME.IO INC" for "Frame")."""
        words = legal_words(query)
        lkey = "".join(words)
        ids = self.by_legal.get(lkey)
        if ids:
            return list(ids)
        core = core_words(query)
        ckey = "".join(core)
        dkey = domain_key(words)
        for key in (ckey, dkey):
            if key and key != lkey and self.by_legal.get(key):
                if key == ckey and not self._names_one(core):
                    continue  # "Block Labs" is not BLOCK INC: a word other filers use too does not name one
                return list(self.by_legal[key])
        # The brand's site as the filer's name: "Figure" -> FIGURE AI INC, "Gong" -> GONG IO INC.
        sites = list(self.by_domain.get(lkey, ())) if site_form else []
        if sites and all(len(legal_words(self.entity[e][0])) == 1 for e in sites) and self._leading(words)[0]:
            return []  # glued, "BLINKAI": a site's name only for a word no other filer leads with
        return sites

    def _same_form(self, query: str, words: tuple[str, ...], exact: list[int]) -> bool:
        """Whether the brand is written with its legal form and one of the `exact` filers' legal names is the
        brand's words in that very form (a form is part of a legal name; namesakes in other forms are not it)."""
        form = legal_form_of(clean_name(query))
        if not form or not words:
            return False
        wanted, ids = " ".join(words), set(exact)
        return any(
            self.owner[vid] in ids and self.lclean[vid] == wanted and legal_form_of(self.cleans[vid]) == form
            for vid in self.by_first.get(words[0], ())
        )

    def _trade_owners(
        self,
        trade: list[int],
        words: tuple[str, ...],
        groups: list[list[int]],
        elsewhere: Callable[[], list[int] | None],
    ) -> list[int]:
        """The entities a d/b/a names as the brand, [] when it does not: one filer's, for a brand of several
        words; else only when no other filer uses the words in its legal name (filers that are the d/b/a's own are
        no rivals: ENVIRONMENTAL SYSTEMS RESEARCH INSTITUTE INC ESRI and "... (Esri)" for "Esri"; nor is the
        filer's name with the trade name spelt after it, which joins too) and few filers share the d/b/a."""
        filers = len({core_key(self.entity[e][0]) for e in trade})
        if filers == 1 and len(words) > 1:
            # "Syner-G" is SYNER-G PHARMA CONSULTING LLC, not "... DBA SYNERG": the d/b/a only glues its words.
            glued = groups and all(len(legal_words(trade_name(self.entity[e][0]) or "")) == 1 for e in trade)
            return [] if glued else trade
        if filers > TRADE_MAX_FILERS:
            return []
        held, own = set(trade), list(trade)

        def all_own(rivals: list[int]) -> bool:
            stray = [e for e in rivals if e not in held]
            spelt = self._spelt_out(trade, words, stray)
            held.update(spelt)
            own.extend(spelt)
            return len(spelt) == len(stray)

        if not all_own([e for g in groups for e in g]):
            # Unless the d/b/a's filers dwarf them, as a leading filer's would: ESHARES INC D/B/A CARTA (135 filings)
            # is "Carta", not CARTA HEALTHCARE INC (1).
            rivals = [e for g in groups for e in g if e not in held]
            return own if self._dominant(own, [rivals], elsewhere) else []
        rest = elsewhere()  # the costly part: only when nothing else decided
        return own if rest is not None and all_own(rest) else []

    def _spelt_out(self, trade: list[int], words: tuple[str, ...], rivals: list[int]) -> list[int]:
        """The `rivals` that are a d/b/a filer's own name with the trade name written after it, no "DBA" between
        ("FUELCOMM INC STACKLINE INC" beside "FUELCOMM INC DBA STACKLINE"): the same filer, not a namesake."""
        if len(words) != 1 or not rivals:
            return []
        heads = {" ".join(legal_words(split_dba(self.entity[e][0])[0])) for e in trade} - {""}
        out = []
        for e in rivals:
            name = " ".join(legal_words(self.entity[e][0]))
            if any(name.startswith(h + " ") and words[0] in name[len(h) :].split() for h in heads):
                out.append(e)
        return out

    def _names_one(self, core: tuple[str, ...]) -> bool:
        """Whether a brand's core, its descriptors dropped, still names one filer: several words do; one word only
        when no other filer leads with it or uses it later in its legal name."""
        if len(core) > 1:
            return True
        groups, elsewhere = self._leading(core)
        return not groups and elsewhere() == []

    def _trade(self, query: str) -> list[int]:
        words = legal_words(query)
        joined = "".join(words)
        hit = self.by_trade.get(joined)
        core = core_words(query)
        if not hit and core != words:
            hit = self.by_trade.get("".join(core))
            if hit and not self._names_one(core):
                # "Sand Tech Holdings" is not any "D/B/A SAND ...": its words are dropped only down to a rare name.
                hit = None
        if hit or len(words) != 1:
            return list(hit or ())
        # The hub cuts names at 34 characters, often inside a d/b/a's last word: "... DBA MAILCHIM" is Mailchimp;
        # a whole everyday word is a d/b/a as written ("Inspiren" is not INSPIRE RESOURCES LLC DBA INSPIRE).
        for n in range(len(joined) - 1, max(len(joined) - CUT_MAX, CUT_MIN - 1), -1):
            hit = self.by_trade.get(joined[:n])
            if hit and joined[:n].lower() not in everyday_words():
                return list(hit)
        return []

    def _leading(self, words: tuple[str, ...]) -> tuple[list[list[int]], Callable[[], list[int] | None]]:
        """Filers whose legal name starts with all of `words`, grouped by filer (core key), most filings first;
        and a function listing the other filers that have the words elsewhere in their legal name (None: too many
        to list), called only when a decision needs it: it is the costly part."""
        vids = self.by_first2.get(f"{words[0]} {words[1]}", []) if len(words) > 1 else self.by_first.get(words[0], [])
        if len(vids) > LEAD_SCAN:
            return [], _none
        n = len(words)
        phrase = " ".join(words)
        prefix = phrase + " "
        lclean, owner, group = self.lclean, self.owner, self.group
        lead: dict[int, str] = {}
        for vid in vids:
            if lclean[vid].startswith(prefix):
                eid = owner[vid]
                key = group[vid]
                if eid not in lead or len(key) > len(lead[eid]):
                    lead[eid] = key
        count = self.postings.count
        sizes = {t: count(t) for t in words}
        known = [t for t in words if sizes[t]]
        if not known:
            # Only generic words ("Global Services") are never rare; a word no filer has is.
            return ([], _none) if all(t in GENERIC_TAIL or t in LEGAL_SUFFIXES for t in words) else ([], list)
        rarest = min(known, key=sizes.__getitem__)
        if sizes[rarest] > LEAD_SCAN:
            return [], _none  # common words: never rare
        memo: list[list[int]] = []

        def elsewhere() -> list[int]:
            if memo:
                return memo[0]
            found: dict[str, int] = {}
            padded = f" {phrase} "
            for vid in self.postings[rarest]:
                # One word is in every name listed under it; several must appear together and in order.
                if vid in self.is_trade or owner[vid] in lead:
                    continue
                lc = lclean[vid]
                if lc == phrase or lc.startswith(prefix) or (n > 1 and padded not in f" {lc} "):
                    continue  # the bare name itself is no rival of its own
                found.setdefault(group[vid], owner[vid])
            memo.append(list(found.values()))
            return memo[0]

        # One filer, several spellings: the USCIS hub cuts names at 34 characters ("MARVELL SEMICONDUCTO").
        # And misspelt ones ("ZOOM VIDEO COMMUNCATIONS"). Past a few dozen filers they are namesakes anyway.
        groups: list[tuple[str, list[int]]] = []
        base = len("".join(words))
        merge = len(lead) <= GROUP_MERGE_MAX
        for eid, key in sorted(lead.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            for gkey, members in groups if merge else ():
                if len(key) > base and (gkey.startswith(key) or fuzz.ratio(gkey[base:], key[base:]) >= SAME_FILER):
                    members.append(eid)
                    break
            else:
                groups.append((key, [eid]))
        out = [members for _k, members in groups]
        out.sort(key=lambda members: (-sum(self.filings.get(e, 0) for e in members), min(members)))
        return out, elsewhere

    def _spread(self, words: tuple[str, ...]) -> list[list[int]]:
        """Filers whose legal name starts with the brand's first word, ends with its last and has its other words
        in order, with words between; only for a first word that few filers lead with."""
        if any(w in KIN_TAIL for w in words[1:]):
            return []  # "Cleo (US)" is not CLEO COMMUNICATIONS US LLC: a place or arm word distinguishes nothing
        # Spellings of one filer are few: more names than this leading with the word are more filers than allowed.
        if not 0 < self.by_first.count(words[0]) <= SPREAD_SCAN:
            return []
        vids = self.by_first[words[0]]
        found: dict[str, list[int]] = {}
        leading: set[str] = set()
        for vid in vids:
            if vid in self.is_trade:
                continue
            parts = self.lclean[vid].split()
            leading.add(self.group[vid])
            rest = iter(parts[1:])
            # It ends as the brand does: "Helxaki Therapeutics" is not HELXAKI PEREZ THERAPEUTICS DESIGN INC.
            if parts[-1] == words[-1] and all(w in rest for w in words[1:]):
                members = found.setdefault(self.group[vid], [])
                _append_once(members, self.owner[vid])
        if len(leading) > LEAD_MAX_FILERS:
            return []
        return list(found.values())

    def _glued(self, word: str) -> list[list[int]]:
        """Filers whose first few legal words, run together, are a one-word brand ("Ycombinator": Y COMBINATOR
        MANAGEMENT LLC; "Nanonets": NANO NET TECHNOLOGIES INC, a plural forgiven), one group per filer; none for a
        short or everyday word, whose run-together spellings are other words' ("Forestry" is no FOR ESTRY)."""
        if len(word) < GLUED_MIN or word.lower() in everyday_words():
            return []
        keys = self.by_legal.keys
        found: dict[int, None] = {}
        for stem in dict.fromkeys((word, word[:-1] if word.endswith("S") else word)):
            i = bisect_left(keys, stem)
            end = min(len(keys), i + GLUED_SCAN)
            while i < end and keys[i].startswith(stem):
                for eid in self.by_legal.get(keys[i]):
                    run = ""
                    for k, part in enumerate(legal_words(self.entity[eid][0])):
                        run += part
                        if len(run) >= len(stem):
                            if k and run == stem:
                                found[eid] = None
                            break
                i += 1
        return [[e] for e in sorted(found, key=lambda e: (-self.filings.get(e, 0), e))]

    def _arm(self, ids: list[int]) -> bool:
        """Whether every filer's legal name adds to the brand's one word only where it is: TYPEFORM US LLC is the
        US arm of a firm hiring abroad, not a stranger merely beginning with its word."""
        return all(set(legal_words(self.entity[e][0])[1:]) <= _ARM_WORDS for e in ids)

    def _bare_unpetitioned(self, ids: list[int], words: tuple[str, ...]) -> bool:
        """Whether every filer is the brand's bare name with no petition decided in the USCIS hub (when the hub is
        loaded at all): for a firm hiring only abroad that is a namesake as often as its US arm ("Mollie" of
        Amsterdam is no Mollie LLC of California, known from LCAs alone), while an arm that employs anyone in the US
        shows petitions, and one named as an arm (RED BULL NA INC) says so."""

        def bare(name: str) -> bool:  # "NA" is a bank's legal form but an arm's "North America"
            return tuple(w for w in clean_name(name).split() if w == "NA" or w not in LEGAL_SUFFIXES) == words

        if not self.hub or any(self.hub.get(e, (0, 0))[0] for e in ids):
            return False
        return all(bare(self.entity[e][0]) for e in ids)

    def _site_form(self, eid: int, words: tuple[str, ...]) -> bool:
        """Whether a filer's legal name is the brand's words and a site's ending (SPAN IO INC for "Span")."""
        named = legal_words(self.entity[eid][0])
        return named[:-1] == words and named[-1] in SITE_WORDS

    def _filed(self, ids: Iterable[int]) -> int:
        return sum(self.filings.get(e, 0) for e in ids)

    def _staffing_word(self, words: tuple[str, ...], ids: Iterable[int]) -> bool:
        """Whether a one-word everyday brand's leading filers look like an IT staffing firm's: 50 or more H-1B
        petitions in the USCIS hub, 5% or more of them denied ("Unify" is not UNIFY SOLUTIONS INC, 178 petitions,
        6% denied: the word is that firm's, not a product company's brand). A giant filer (1,000 or more) is a name
        in its own right: "Cognizant" is COGNIZANT TECHNOLOGY SOLUTIONS however often it is denied."""
        if not _everyday(words):
            return False
        decided = denied = 0
        for e in ids:
            d, n = self.hub.get(e, (0, 0))
            decided, denied = decided + d, denied + n
        return HUB_TELL_MIN <= decided < GIANT and denied >= STAFFING_DENIALS * decided

    def _dominant(
        self,
        top: list[int],
        rivals: list[list[int]],
        elsewhere: Callable[[], list[int] | None] | None = None,
        least: int = DOMINANT_MIN,
    ) -> bool:
        """Whether `top` has filed at least `least` times and far more than every rival filer using the brand's
        words, together (filers among `top` aside); `elsewhere` lists further filers using them, if any."""
        f_top = self._filed(top)
        leading = sum(self._filed(g) for g in rivals)
        if f_top < least or f_top < DOMINANT_RATIO * leading:
            return False  # settled before listing the other filers, the costly part
        others = elsewhere() if elsewhere is not None else []
        if others is None:
            return False
        mine = set(top)
        return f_top >= DOMINANT_RATIO * (leading + self._filed(e for e in others if e not in mine))

    def _settle_leading(
        self, groups: list[list[int]], elsewhere: Callable[[], list[int] | None], words: tuple[str, ...]
    ) -> tuple[list[int], bool]:
        """The filer a brand's leading words name, if any: the only filer using those (rare) words, or one whose
        filings dwarf those of all other filers using them. Returns (entities, settled)."""
        if not groups or len("".join(words)) < MIN_LEAD_LEN:
            return [], False
        # Filers using the words only later in their names are no rivals to one filing 20+ and ten times as much
        # as they do: KAYAK SOFTWARE CORPORATION (46) beside AUSTIN KAYAK LLC.
        if len(groups) == 1 and (elsewhere() == [] or self._dominant(groups[0], [], elsewhere, LONE_WORD_FILINGS)):
            lone = groups[0]
            if self._common_word_namesake(lone, words) or self._trades_as_others(lone, words):
                return [], False
            return lone, True
        if self._dominant(groups[0], groups[1:], elsewhere):
            # However much it files, a filer trading under another name is not a one-word brand's own.
            return ([], False) if self._trades_as_others(groups[0], words) else (groups[0], True)
        family = (
            self._family(groups, elsewhere, words)
            or self._kin(groups, elsewhere, words)
            or self._giants(groups)
            or self._house(groups, elsewhere, words)
        )
        return family, bool(family)

    def _common_word_namesake(self, ids: list[int], words: tuple[str, ...]) -> bool:
        """Whether the one filer leading with a one-word brand is more likely a namesake: the brand is an everyday
        word, the filer files little, and its name goes on to say what else it is ("Windmill" is not WINDMILL RICE
        COMPANY LLC, "Incident" not INCIDENT IQ INC); a coined word ("Hootsuite") or a name adding only how the
        filer is organised ("Homeward" HOMEWARD INC) still names it."""
        if not _everyday(words) or self._filed(ids) >= LONE_WORD_FILINGS:
            return False
        for e in ids:
            trade = split_dba(self.entity[e][0])[1]
            if trade and legal_words(trade) == words:
                return False  # ABLY REAL TIME INC DBA ABLY: it trades under the brand
        return any(not set(legal_words(self.entity[e][0])[1:]) <= PLAIN_TAIL for e in ids)

    def _kin(
        self, groups: list[list[int]], elsewhere: Callable[[], list[int] | None], words: tuple[str, ...]
    ) -> list[int]:
        """A few filers that lead with the brand's rare words and differ only by a US arm or a state of incorporation
        are one company's entities, all of them the brand ("Optiver": OPTIVER US LLC and OPTIVER SERVICES US LLC),
        however little each files. Words that say what a firm does ("Capco Energy Solutions" beside "Capco
        Consulting Services"), other descriptors ("Zephyr International" beside "Zephyr Global"), or a filer using
        the words elsewhere make them namesakes."""
        if not 1 < len(groups) <= KIN_MAX or len("".join(words)) < MIN_LEAD_LEN or elsewhere() != []:
            return []
        n = len(words)
        members = sorted(e for g in groups for e in g)
        # A coined word leading them all in one state ("Pagaya": PAGAYA INVESTMENTS US and PAGAYA TECHNOLOGIES US,
        # both NY) is one company: namesakes of a made-up word rarely share a state, unless it is a busy one.
        states = {self.entity.state(e) for e in members}
        if len(words) == 1 and words[0].lower() not in everyday_words() and len(states) == 1:
            (only,) = states
            if only and only not in BUSY_STATES:
                return members
        rest: set[frozenset[str]] = set()
        for e in members:
            tail = frozenset(legal_words(self.entity[e][0])[n:])
            if not tail <= KIN_TAIL:
                return []
            rest.add(tail - KIN_ARM)
        # Beyond a US arm they must say the same: "Aperia Solutions" and "Aperia Technologies" are two firms.
        return members if len(rest) == 1 else []

    def _giants(self, groups: list[list[int]]) -> list[int]:
        """Two or three filers leading with the brand's words that each file at least GIANT filings and together
        all but a sliver of every leading filer's: one employer's big entities ("Visa" is VISA U S A INC and VISA
        TECHNOLOGY & OPERATIONS LLC); namesakes are not that big side by side."""
        filed = [self._filed(g) for g in groups]
        big = [i for i, f in enumerate(filed) if f >= GIANT]
        if not 1 < len(big) <= KIN_MAX or sum(filed[i] for i in big) < (1 - FAMILY_STRAY) * sum(filed):
            return []
        return sorted(e for i in big for e in groups[i])

    def _house(
        self, groups: list[list[int]], elsewhere: Callable[[], list[int] | None], words: tuple[str, ...]
    ) -> list[int]:
        """Every filer leading with a brand of several words when none is an everyday or a short word and filers
        using them later in their names file next to nothing beside them: one house's entities, however their
        filings split ("Thomson Reuters": THOMSON REUTERS HOLDINGS, ... MARKETS, ... TAX & ACCOUNTING, ...)."""
        if len(words) < 2 or any(len(w) < 3 or w.lower() in everyday_words() for w in words):
            return []
        others = elsewhere()
        members = [e for g in groups for e in g]
        if others is None or self._filed(others) * DOMINANT_RATIO > self._filed(members):
            return []
        return sorted(members, key=lambda e: (-self.filings.get(e, 0), e))  # the biggest first

    def _family(
        self, groups: list[list[int]], elsewhere: Callable[[], list[int] | None], words: tuple[str, ...]
    ) -> list[int]:
        """The biggest filer among several that lead with the brand's words when they look like one company's
        entities: it files most of all their filings, and no other filer uses the words ("Qualcomm" is QUALCOMM
        TECHNOLOGIES INC beside QUALCOMM INC and QUALCOMM ATHEROS INC; "Delta" has namesakes everywhere)."""
        if len("".join(words)) < MIN_LEAD_LEN:
            return []
        filed = [self._filed(g) for g in groups]
        top = max(range(len(groups)), key=lambda i: (filed[i], -i))
        if filed[top] < DOMINANT_MIN:
            return []
        share = FAMILY_SHARE_ONE_WORD if _everyday(words) else FAMILY_SHARE
        if filed[top] < share * sum(filed):
            return []
        others = elsewhere()
        # Several rare words written later in a name are mostly the group's own arms ("CCH INCORPORATED WOLTERS
        # KLUWER CO"): a tenth of the top filer's filings, as for a dominant one; one word, a hundredth.
        stray = FAMILY_STRAY if len(words) == 1 else 1 / DOMINANT_RATIO
        if others is None or self._filed(others) > stray * filed[top]:
            return []
        return groups[top]

    def _settle_exact(
        self,
        exact: list[int],
        groups: list[list[int]],
        elsewhere: Callable[[], list[int] | None],
        words: tuple[str, ...],
    ) -> list[int]:
        """Whether a bare legal-name match is the brand: `exact` itself, the leading filer that dwarfs it by filings
        ("Peloton" is PELOTON INTERACTIVE INC, not a PELOTON INC with two filings), or [] (unsure) for a one-word
        brand shared by many filers when the bare-name filer does not dwarf them all."""
        ids = set(exact)
        others = [g for g in groups if not ids.intersection(g)]
        # Not for a short brand: "GSK" is GSK LLP, not GSK SOLUTIONS INC however much more that firm files.
        long_enough = len("".join(words)) >= MIN_LEAD_LEN
        if others and long_enough and self._dominant(others[0], [exact, *others[1:]], elsewhere):
            return others[0]
        if len(words) > 1:
            return exact
        rest = elsewhere() if len(others) <= LEAD_MAX_FILERS else None
        if rest is not None and len(others) + len(rest) <= LEAD_MAX_FILERS:
            return [] if self._outfiled(exact, others, words) else exact
        # Many filers share the one word: still the brand when it is the biggest of them all and files enough to
        # say so ("Snap" is SNAP INC among SNAP ... firms).
        f_exact = self._filed(exact)
        rest = elsewhere() if f_exact >= BARE_NAME_MIN else None
        if rest is not None:
            rivals = [self._filed(g) for g in others] + [self.filings.get(e, 0) for e in rest]
            if f_exact > max(rivals, default=0):
                return exact
        # Or one company's entities, the biggest of which is not the bare name ("Amazon": AMAZON COM SERVICES INC).
        return self._family([exact, *others], elsewhere, words)

    def _outfiled(self, exact: list[int], others: list[list[int]], words: tuple[str, ...]) -> bool:
        """Whether an everyday word's bare-name filer, filing little, is outfiled ten times by a namesake that goes
        on to say more: INTRINSIC LLC (1 filing) is no surer the brand "Intrinsic" than INTRINSIC INNOVATION LLC
        (29), nor FETCH INC than FETCH REWARDS INC: a person's call, or the posting's state's."""
        if not _everyday(words):
            return False
        if not others or self._filed(exact) >= LONE_WORD_FILINGS:
            return False
        return self._dominant(max(others, key=self._filed), [exact], least=LONE_WORD_FILINGS)

    def _placed(
        self,
        groups: list[list[int]],
        elsewhere: Callable[[], list[int] | None],
        states: frozenset[str],
        words: tuple[str, ...],
    ) -> list[int]:
        """Namesakes told apart by where the posting is: the one filer leading with the brand's words in the
        posting's state(s) ("Glean" in CA is GLEAN TECHNOLOGIES INC, CA, not GLEAN ANALYTICS INC, NY). Every
        namesake's state must be known; a filer using the words later in its name ("VINCENT CLAY LLC") and in the
        same state is a rival only when it files at least as much."""
        if not groups or len("".join(words)) < PLACE_MIN_LEN:
            return []
        others = elsewhere()
        if others is None:
            return []
        state = self.entity.state
        if any(not state(e) for g in groups for e in g) or any(not state(e) for e in others):
            return []
        inside = [[e for e in g if state(e) in states] for g in groups]
        inside = [g for g in inside if g]
        near = [e for e in others if state(e) in states]
        sited = [g for g in inside if all(self._site_form(e, words) for e in g)]
        if len(inside) > 1 and len(sited) == 1:
            # The one namesake there writing the brand as its site ("Span" in CA is SPAN IO INC, not SPAN
            # CONSTRUCTION & ENGINEERING INC): a name only a firm known by that site takes.
            inside = sited
        if len(inside) > 1:
            # Several namesakes in the state: one filing ten times all the others there together, and at least
            # LONE_WORD_FILINGS, is the brand ("Enigma" in NY: ENIGMA TECHNOLOGIES INC, 21, beside ENIGMA LABS, 1).
            inside.sort(key=lambda g: -self._filed(g))
            if not self._dominant(inside[0], [*inside[1:], near], least=LONE_WORD_FILINGS):
                return []
            inside = inside[:1]
        if len(inside) != 1:
            return []
        chosen = inside[0]
        if near and self._filed(near) >= self._filed(chosen):
            return []
        if self._trades_as_others(chosen, words):
            return []  # UNDERDOG TECHNOLOGIES INC DBA PINWHEEL is Pinwheel on a job board, not "Underdog"
        if len(groups) == 1 and not others and self._common_word_namesake(chosen, words):
            # The leading-words rule already judged the lone filer a namesake: sharing the posting's state does
            # not make FARTHER FARMS INC the brand "Farther"; telling several namesakes apart is what places do.
            return []
        return chosen

    def _acronym(self, query: str, groups: list[list[int]], hints: JoinHints | None) -> int | None:
        """The filer whose initials a capitals-only brand is, when it dwarfs every other filer with those initials
        and every filer leading with the brand ("TCS" -> TATA CONSULTANCY SERVICES LIMITED); when the employer's
        posting states are known and the filer is in none of them, only a big filer: initials are a thin link, and a
        mid-size firm elsewhere is more likely someone else's ("HPR" in MA is not HRB PROFESSIONAL RESOURCES, MO);
        an employer hiring only `abroad` posts in no filer's state."""
        shown = query.strip()
        hit = self.by_acronym.get(shown) if ACRONYM.fullmatch(shown) else None
        if hit is None:
            return None
        eid, rest = hit
        rivals = rest + sum(self._filed(g) for g in groups if eid not in g)
        filed = self.filings.get(eid, 0)
        states = hints.states if hints else frozenset()
        away = bool(hints and hints.abroad) or bool(states and self.entity.state(eid) not in states)
        if away and filed < ACRONYM_AWAY_MIN:
            return None
        return eid if filed >= DOMINANT_RATIO * rivals else None

    def _hinted(self, hints: JoinHints) -> list[Candidate]:
        """Entities named by the posting itself: its stated legal entity, else its career site's domain."""
        return self._stated(hints) or self._domain(hints)

    def _stated(self, hints: JoinHints) -> list[Candidate]:
        ids = self._exact(hints.stated_entity, site_form=False) if hints.stated_entity else []
        return [self._cand(e, 100.0, "ad_name", hints.stated_entity or "") for e in ids]

    def _board(self, hints: JoinHints, words: tuple[str, ...], query: str = "") -> list[Candidate]:
        """The filer whose legal or trade name is the job board's token, when the token says more than the brand and
        holds it: "Cobalt" on board "cobaltio" is COBALT LABS INC D/B/A COBALT IO, "LINQ" on "emslinqinc" EMS LINQ
        INC. A token that is only the brand says nothing a name does not."""
        joined = "".join(words).lower()
        label = hints.board
        if not label or len(label) <= len(joined):
            return []
        key = label.upper()
        if joined not in label:
            # An initials brand on a board spelling its name out: "HPR" on "hyannisportresearch" is HYANNIS PORT
            # RESEARCH INC, whose initials it is.
            if len(words) != 1 or not ACRONYM.fullmatch(query.strip()):
                return []
            spelled = []
            for e in self.by_legal.get(key, ()):
                name = self.entity[e][0]  # its initials with and without its legal form: HPR, HPRI
                if words[0] in (initials(legal_words(name)), initials(clean_name(name).split())):
                    spelled.append(e)
            return [self._cand(e, 100.0, "ad_board", label) for e in spelled]
        ids = self.by_legal.get(key) or self.by_domain.get(key) or self.by_trade.get(key)
        return [self._cand(e, 100.0, "ad_board", label) for e in ids or ()]

    def _domain(self, hints: JoinHints) -> list[Candidate]:
        """The filer whose legal name is the career site's domain ("hudsonrivertrading.com", "frame.io")."""
        if not hints.domain:
            return []
        label, _, tld = hints.domain.partition(".")
        squashed = label.upper().replace("-", "")
        if len(squashed) < MIN_LEAD_LEN:
            return []
        for key in (squashed + tld.replace(".", "").upper(), squashed):
            ids = self.by_legal.get(key) or self.by_domain.get(key)
            if ids:
                return [self._cand(e, 100.0, "ad_site", hints.domain) for e in ids]
        return []

    def _fuzzy(self, query: str, cutoff: float = UNSURE - 10) -> tuple[list[Candidate], list[Candidate]]:
        words = core_words(query)
        qcore = " ".join(sorted(blocking_tokens(" ".join(words)) or words))
        # One group of words per query word: itself when known, else the known words that look like it.
        groups = []
        # Sorted, not a set's hash order: when two words are equally rare, the first in order picks the block.
        spans: list[list[tuple[int, int]]] = []
        span = self.postings.span
        for t in sorted(set(qcore.split())):
            where = span(t)
            if where[1] > where[0]:
                groups.append([t])
                spans.append([where])
            elif len(t) >= 5:
                near = self._near_words(t)
                if near:
                    groups.append(near)
                    spans.append(self.postings.spans(near))
        if not groups:
            return [], []
        sizes = [g[0][1] - g[0][0] if len(g) == 1 else sum(b - a for a, b in g) for g in spans]
        order = sorted(range(len(groups)), key=sizes.__getitem__)
        first = groups[order[0]]
        if len(first) == 1 and (sizes[order[0]] <= SMALL_BLOCK or len(groups) == 1):
            # The common case: score the rarest word's list as stored, one slice of the packed postings.
            a, b = spans[order[0]][0]
            b = min(b, a + MAX_BLOCK)
            vids = self.postings.values[a:b]
            choices = (self._posting_cores or self._cores_by_posting())[a:b]
        else:
            values = self.postings.values
            block: set[int] = set()
            for a, b in spans[order[0]]:
                block.update(values[a:b])
            if sizes[order[0]] > SMALL_BLOCK and len(groups) > 1:
                # Only common words: names that also share the next rarest word.
                second: set[int] = set()
                for a, b in spans[order[1]]:
                    second.update(values[a:b])
                block = (block & second) or block
            # Sorted: which variants make the cut, and rapidfuzz's order among equal scores, must not vary by run.
            vids = sorted(block)[:MAX_BLOCK]
            choices = list(map(self.cores.__getitem__, vids))
        hits = process.extract(qcore, choices, scorer=fuzz.ratio, limit=12, score_cutoff=cutoff)
        best_by_entity: dict[int, tuple[float, str, int]] = {}
        owner, cleans = self.owner, self.cleans
        for _choice, score, pos in hits:
            vid = vids[pos]
            eid = owner[vid]
            if eid not in best_by_entity or score > best_by_entity[eid][0]:
                best_by_entity[eid] = (score, cleans[vid], vid)
        ranked = sorted(best_by_entity.items(), key=lambda kv: (-kv[1][0], kv[0]))
        cands = self.entity.candidates(((eid, sc, var) for eid, (sc, var, _v) in ranked), "fuzzy")
        if not cands:
            return [], []
        top = cands[0]
        if top.score < ACCEPT or len(qcore.replace(" ", "")) < MIN_FUZZY_LEN:
            return [], cands  # no winner whatever the rest says: skip weighing it
        # In order and with descriptors: "White & Lee" is not "Lee & White", and "Delta" is not DELTA GLOBAL
        # SERVICES (a spelling slip is forgiven, a missing distinguishing word is not). A one-word trade name
        # only ever wins through the trade path's rule.
        qlegal = " ".join(legal_words(query))
        one_word = len(qlegal.split()) == 1

        def close(c: Candidate) -> bool:
            vid = best_by_entity[c.entity_id][2]
            if one_word and vid in self.is_trade:
                return False
            legal = " ".join(_legal_words_of(c.variant))
            # One word a letter apart is another word more often than a slip ("Parity" is not SPARITY INC, nor
            # "Vectara" VECTRA LLC, "Karbon" KARBONE INC, "Kinexon" KINEXO INC): only a plural is forgiven
            # ("Walgreens" is WALGREEN CO).
            if one_word and not _plural_of(qlegal, legal):
                return False
            return fuzz.ratio(qlegal, legal) >= ACCEPT

        # Several entities may tie on the very same core name (one brand, several filers): keep them all.
        winners = [c for c in cands if c.score == top.score]
        if len(winners) > 1:
            # Normalising a name is the costly part of a look-up: only for a tie.
            key = core_key(top.variant)
            winners = [c for c in winners if c is top or core_key(c.variant) == key]
        rest = [c for c in cands if c not in winners]
        runner = rest[0].score if rest else 0.0
        winners = [c for c in winners if close(c)]
        if winners and top.score - runner >= MARGIN:
            return winners, rest
        return [], cands

    def _cores_by_posting(self) -> list[str]:
        """Each posting's variant's core, in postings order: a rare word's block is one slice of it."""
        if self._posting_cores is None:
            self._posting_cores = list(map(self.cores.__getitem__, self.postings.values))
        return self._posting_cores

    def _near_words(self, word: str, limit: int = 50) -> list[str]:
        """Known words that start with the first four or end with the last four letters of an unknown word."""
        out: list[str] = []
        for vocab, key, flip in ((self.vocab, word[:4], False), (self.rvocab, word[::-1][:4], True)):
            # The words starting with `key` sort between it and it followed by the highest character.
            lo = bisect_left(vocab, key)
            hi = min(bisect_left(vocab, key + "\U0010ffff", lo), lo + limit - len(out))
            out += [w[::-1] for w in vocab[lo:hi]] if flip else vocab[lo:hi]
        return out

    def _with_runner_up(self, query: str, chosen: list[Candidate]) -> MatchResult:
        # The runner-up still helps a person check: the best fuzzy name that was not chosen.
        ids = {c.entity_id for c in chosen}
        _, others = self._fuzzy(query, cutoff=RUNNER_UP_MIN)
        alts = [c for c in others if c.entity_id not in ids][:3]
        return MatchResult(query, "matched", chosen, alts)

    def match(self, query: str, hints: JoinHints | None = None) -> MatchResult:
        """Join one displayed employer name, optionally helped by what one of its postings says (`hints`).

        Paths, first that answers wins (the method is on each candidate): alias table (`alias`, `fein`) → the
        legal entity the ad states (`ad_name`) → the same legal name, unless a filer using the brand's words
        dwarfs it by filings (`exact`) → the career site's domain (`ad_site`; before `exact` when the domain is
        longer than the brand; so is the job board's token, `ad_board`, when it holds the brand and more)
        → a trade / d/b/a name (`trade`)
        → the leading words of one filer, or of the filer that dwarfs all others using them (`leading`) → a
        capitals-only brand's initials (`acronym`) → the one namesake in the posting's state (`ad_place`) → a near
        spelling (`fuzzy`). Namesakes that no path settles come back `unsure`, with the nearest for a person, as does
        a one-word brand's name-only match to a small filer that files only where the employer does not post.
        A name that joins nothing as written is tried as a job board's label for the employer named in it
        ("Rubrik Job Board" as Rubrik); only then, since legal names have such words too ("CIRCULAR BOARD INC",
        "BESTWAY (USA) INC", "FOX REHAB - MA LLC"). One that still joins nothing for sure is tried without a tail
        saying how it is organised ("Episode Six US"), then as a coined word without its field ("Armis
        Security"), then as a house without its group word ("The Voleon Group"), then as its first words without a
        tail naming a unit or a place ("Madison Energy Infrastructure"). A job board token spelling out
        another legal name ("PlayStation Global" on "sonyinteractiveentertainmentglobal") comes before `ad_place`.
        """
        result = self._match_brand(query, hints)
        if result.matches:
            return result
        brand = board_brand(query)
        if brand != query:
            found = self._again(query, brand, hints)
            if found.matches or result.outcome == "none":
                result = found
        core = self._organised_core(legal_words(brand))
        if core and not result.matches:
            # "Episode Six US" is EPISODE SIX NORTH AMERICA CORP, "Expedia Group" EXPEDIA INC: the words after the
            # core only say how or where the firm is organised. Only the core's own legal name or leading words;
            # a plain "Voleon Group" is as often a firm of its own as anyone's group: only the core's own legal
            # name then, not a filer that goes on to say more (VOLEON CAPITAL MANAGEMENT LP).
            found = self._again(query, " ".join(core), hints, spelling=False)
            tail = set(legal_words(brand)[len(core) :])
            kinds = ("exact",) if "GROUP" in tail else ("exact", "leading")
            # "Think Academy US" is the US arm of whatever "Think Academy" is (THINK ACADEMY INTERNATIONAL
            # EDUCATION INC): a country tail says where, so the core's own answer stands, whatever its filer adds.
            us_arm = tail <= US_ARM and bool(found.matches) and all(c.method in kinds for c in found.matches)
            if us_arm or self._plainly(found, len(core), kinds):
                result = found
        field = self._without_field(brand)
        if field and not result.matches:
            # Only the coined word's own filer, and only when no other filer uses the word: INSPIRA HEALTH beside
            # INSPIRA INC makes the field the tell.
            found = self._again(query, field[0], hints, spelling=False)
            kind = field[1] in KIND_WORDS
            if self._plainly(found, 1, ("exact", "leading")) and not (
                kind and any(set(legal_words(c.name)[1:]) - _ARM_WORDS for c in found.matches)
            ):
                chosen = {c.entity_id for c in found.matches}
                groups, elsewhere = self._leading((field[0],))
                # "AI" brands are young firms, older filers of the word someone else: the posting's state must agree.
                placed = field[1] != "AI" or bool(
                    hints and hints.states and all(self.entity.state(e) in hints.states for e in chosen)
                )
                if placed and all(chosen.issuperset(g) for g in groups) and elsewhere() == []:
                    result = found
        house = house_brand(brand)
        if house != brand and result.outcome == "none":
            # Only a filer that leads with the house's words, not its initials or a near spelling ("LGT Group").
            found = self._again(query, house, hints, spelling=False)
            if found.matches and found.matches[0].method not in ("acronym", "fuzzy"):
                result = found
        if not result.matches:
            result = self._prefix(query, brand, hints) or result
        return result

    def _prefix(self, query: str, brand: str, hints: JoinHints | None) -> MatchResult | None:
        """The brand's first two or more words, one of them a name no dictionary has, without a tail naming a unit,
        a team or a place ("Madison Energy Infrastructure", "Bauer Hockey/ Cascade Maverik Lacrosse"), longest
        first: taken only when they are one filer's whole legal name, or its leading words followed by nothing
        but how it is organised (MADISON ENERGY HOLDINGS LLC) or by the word the brand's last one cuts short
        ("Kingsisle Entertainment Incorporat"), and no other filer has them anywhere. A filer that goes on to say
        something else is another firm sharing the words (OPTIMUS HEALTH CARE INC is not "Optimus Health
        Analytics", NEW MEXICO STATE SENATE not "New Mexico State University"); never one word ("Apera AI" is
        not APERA INSTRUMENTS) and never words joined by "of", "and" or "&" cut apart ("YMCA of ...")."""
        words = legal_words(brand)
        if len(words) < 3 or words[0] not in self.by_first:
            return None  # no filer begins with the first word: no shorter name of the brand can join
        if "&" in clean_name(brand).split():
            return None  # partners' names: the tail is the rest of the firm's name, not a unit
        for n in range(len(words) - 1, 1, -1):
            prefix, tail = words[:n], words[n:]
            if len("".join(prefix)) < MIN_LEAD_LEN or prefix[-1] in GENERIC_TAIL or set(tail) <= ORGANISED_AS:
                continue  # a tail saying only how it is organised is the organised core's to read
            if prefix[-1] in _JOINING or tail[0] in _JOINING or all(_dictionary_word(w) for w in prefix):
                continue  # "Million Dollar Baby" is not MILLION DOLLAR SMILE: everyday words need the whole name
            found = self._again(query, " ".join(prefix), hints, spelling=False)
            if not found.matches and found.outcome == "none":
                continue
            cut = tail[0] if len(tail) == 1 and len(tail[0]) >= 3 else None
            if not self._plainly(found, n, ("exact", "leading"), cut):
                return None  # namesakes at this length: a shorter prefix only has more
            groups, elsewhere = self._leading(prefix)
            chosen = {c.entity_id for c in found.matches}
            if all(chosen.issuperset(g) for g in groups) and elsewhere() == []:
                return found
            return None
        return None

    def _board_spells(self, label: str, words: tuple[str, ...]) -> list[Candidate]:
        """The filer whose whole legal name a job board's token spells out, when that name is several words or one
        word that is neither everyday nor one of the brand's: "PlayStation Global" on
        "sonyinteractiveentertainmentglobal" is SONY INTERACTIVE ENTERTAINMENT LLC, "Everpure" on "purestorage"
        PURE STORAGE INC, "Stack Overflow" on "stackexchange" STACK EXCHANGE INC; "Nissan" on "alliance" is not
        ALLIANCE INC, nor "Latitude AI" on "latitude" LATITUDE LLC (the brand's own word: its name decides)."""
        for key in dict.fromkeys((label, _BOARD_ARM.sub("", label))):
            if len(key) < BOARD_SPELT_MIN:
                continue
            ids = self.by_legal.get(key.upper())
            if not ids:
                continue
            named = legal_words(self.entity[ids[0]][0])
            if len(named) == 1 and (
                named[0].lower() in everyday_words() or any(len(w) > 2 and w.lower() in key for w in words)
            ):
                return []
            return [self._cand(e, 100.0, "ad_board", label) for e in ids]
        return []

    def _again(self, query: str, form: str, hints: JoinHints | None, spelling: bool = True) -> MatchResult:
        """`match` of another form of the name, reported for the name as asked."""
        found = self._match_brand(form, hints, spelling)
        return MatchResult(query, found.outcome, found.matches, found.alternatives)

    @staticmethod
    def _plainly(found: MatchResult, n: int, kinds: tuple[str, ...], cut: str | None = None) -> bool:
        """Whether a fallback found filers by one of `kinds` whose names add to their first `n` words nothing but
        how they are organised (CAHELTEK HALL INC is not "Caheltek Global"), or start the word `cut` shortens."""

        def adds_only(name: str) -> bool:
            rest = legal_words(name)[n:]
            return set(rest) <= KIN_TAIL or bool(cut and rest and rest[0].startswith(cut) and rest[0] != cut)

        return bool(found.matches) and all(c.method in kinds and adds_only(c.name) for c in found.matches)

    @staticmethod
    def _organised_core(words: tuple[str, ...]) -> tuple[str, ...] | None:
        """A brand's words without a tail saying how or where it is organised ("Group", "US", "International");
        None when there is none, or the rest is one everyday word. Not a tail saying what the firm does: "Arlo
        Solutions" is not ARLO TECHNOLOGIES, "Block Labs" not BLOCK INC."""
        core = list(words)
        while len(core) > 1 and core[-1] in ORGANISED_AS:
            core.pop()
        if len(core) == len(words) or len("".join(core)) < MIN_LEAD_LEN:
            return None  # "CGS Group": three letters name no one filer
        if _everyday(tuple(core)):
            return None
        return tuple(core)

    @staticmethod
    def _without_field(brand: str) -> tuple[str, str] | None:
        """A coined word followed by the field the firm is in ("Armis Security", "BridgeBio Pharma"): the word
        alone, which is what the firm files under when no filer writes the field (ARMIS INC), and the field."""
        words = legal_words(brand)
        if len(words) != 2 or words[1] not in FIELD_WORDS | KIND_WORDS or not words[0].isalpha():
            return None
        return None if words[0].lower() in everyday_words() else (words[0], words[1])

    def _match_brand(self, query: str, hints: JoinHints | None, spelling: bool = True) -> MatchResult:
        """`match` of one form of the name; without `spelling`, no near-spelling search (the costly part), for the
        fallbacks that accept only a legal name or leading words anyway."""
        key = core_key(query)
        if not key:
            if hints and (hinted := self._hinted(hints)):
                return MatchResult(query, "matched", hinted, [])
            return MatchResult(query, "none")
        words = legal_words(query)
        lkey = "".join(words)
        spelt = spelling_key(query)
        if spelt in self.aliases and lkey not in self.overrides:
            akey = spelt
        elif lkey in self.aliases or lkey in self.overrides:
            akey = lkey
        else:
            akey = key
        chosen = self._alias(akey)
        if chosen and akey not in (lkey, spelt):
            # Found under the brand's core: "Unity Technologies" may be Unity's UNITY TECHNOLOGIES SF, but "Block
            # Labs" is not Block's BLOCK INC. The words the core drops must be in the filer's own name.
            dropped = set(words[len(core_words(query)) :]) - ORGANISED_AS
            chosen = [c for c in chosen if dropped <= set(legal_words(c.name))]
        blocked = self._blocked(akey)
        if blocked:
            # A curated "not this filer" line: drop that namesake wherever it would have been chosen.
            # A ruled-out filer is no candidate either: shown as one, it would send the brand back to review.
            result = self._match(query, key, hints, chosen, spelling)
            kept = [c for c in result.matches if c.entity_id not in blocked]
            others = [c for c in result.alternatives if c.entity_id not in blocked]
            if kept:
                return MatchResult(query, result.outcome, kept, others)
            # Every filer it chose is ruled out: nothing of its own is known; near names stay for a person to see.
            outcome = "unsure" if result.outcome == "unsure" and others else "none"
            gone = [c for c in result.matches if c.entity_id in blocked]
            return MatchResult(query, outcome, [], others, gone)
        return self._match(query, key, hints, chosen, spelling)

    def _elsewhere_only(
        self,
        words: tuple[str, ...],
        ids: list[int],
        hints: JoinHints | None,
        groups: list[list[int]],
        elsewhere: Callable[[], list[int] | None],
        lone: bool = False,
    ) -> bool:
        """Whether a one-word brand's name-only match is a small filer in none of the states its postings are in,
        while other filers use the word too: a namesake more often than the brand ("Cognition" in CA is not
        COGNITION LLC, CO, 11 filings, beside STANDARD COGNITION CORP); a word no other filer has still names its
        one filer wherever that files ("Calendly"). With `lone`, a filer whose name only begins with the brand is
        a namesake there even without rivals (the caller says when: an everyday word, "Alpaca" in CA is not ALPACA
        TECHNOLOGY INC of NY; a brand that wrote a legal name no filer has, "CompuNet, Inc." is not COMPUNET
        SERVICES INC of another state). An employer posting only outside the US posts in no filer's state."""
        if len(words) != 1 or not hints or not (hints.states or hints.abroad) or self._filed(ids) >= DOMINANT_MIN:
            return False
        state = self.entity.state
        if not all(state(e) and state(e) not in hints.states for e in ids):
            return False
        if lone:
            return True
        chosen = set(ids)
        return any(not chosen.intersection(g) for g in groups) or bool(elsewhere())

    def _trades_as_others(self, ids: list[int], words: tuple[str, ...]) -> bool:
        """Whether every filer matched to a one-word brand says it does business under another name: job boards
        show that name, so the brand equal to its legal name is a namesake ("Smartly" is not SMARTLY INC DBA
        BONUSLY). A trade name that the brand begins (a cut one: "... DBA REDPAND") or that begins with the brand
        ("APPTRONIK INC DBA APPTRONIK SYSTEM") is the brand's own."""
        if len(words) != 1:
            return False
        for eid in ids:
            trade = trade_name(self.entity[eid][0])
            trade_words = legal_words(trade) if trade else ()
            key = "".join(trade_words)
            if not key or words[0].startswith(key) or trade_words[0] == words[0]:
                return False
        return True

    def _unsure(self, query: str, ids: list[int]) -> MatchResult:
        return MatchResult(query, "unsure", [], [self._cand(e, 100.0, "leading") for e in ids[:3]])

    def _blocked(self, key: str) -> set[int]:
        """Namesakes ruled out for a brand, by the alias table or an override; a filer the table or an override
        names for the brand takes back a ruling-out of the same legal name ("X.AI Corp." beside "!X AI INC": one
        legal name is one entity, and the brand's own filer is in it)."""
        mine = self.overrides.get(key, ())
        named = (*(f for f in mine if not f.startswith("!")), *self._table_lines(key))
        taken_back = {legal_key(f) for f in named}
        out: set[int] = set()
        for filer in (*self.aliases.get(key, ()), *mine):
            if filer.startswith("!") and legal_key(filer[1:]) not in taken_back:
                out.update(self.by_legal.get(legal_key(filer[1:]), ()))
        return out

    def _match(
        self, query: str, key: str, hints: JoinHints | None, chosen: list[Candidate], spelling: bool = True
    ) -> MatchResult:
        if not chosen and hints:
            chosen = self._stated(hints)
            if not chosen and hints.stated_entity and core_key(hints.stated_entity) != key:
                # The ad names a legal employer no filing has: a namesake of the brand is not it.
                others = self._fuzzy(query)[1] if spelling else []
                return MatchResult(query, "unsure", [], [c for c in others if c.score >= UNSURE][:3])
        if chosen:
            return self._with_runner_up(query, chosen)
        words = legal_words(query)
        by_domain = self._domain(hints) if hints else []
        # A career domain longer than the brand ("hudsonrivertrading.com" for "HRT") says more than the brand.
        if by_domain and len(hints.domain.partition(".")[0]) > len("".join(words)):  # type: ignore[union-attr]
            return self._with_runner_up(query, by_domain)
        by_board = self._board(hints, words, query) if hints and words else []
        if by_board:
            # The token picks among namesakes; where the name alone already chose it, with kin, keep that answer.
            named = self._match(query, key, replace(hints, board=None), chosen, spelling)  # type: ignore[arg-type]
            held = {c.entity_id for c in by_board}
            if held <= {c.entity_id for c in named.matches}:
                return named
            # The brand's bare legal name in the board filer's state is the same firm's other entity (MODERNA INC
            # beside "modernatx"); in another state (ONX, INC., TX, beside the Montana "onxmaps"), or written as a
            # site ("Cobalt AI, LLC" beside "cobaltio"), a namesake.
            where = {self.entity.state(c.entity_id) for c in by_board} - {""}
            if named.matches and all(
                self.entity.state(c.entity_id) in where and legal_words(c.name) == words for c in named.matches
            ):
                known = {c.entity_id for c in named.matches}
                by_board = [*named.matches, *(c for c in by_board if c.entity_id not in known)]
            return self._with_runner_up(query, by_board)
        groups, elsewhere = self._leading(words) if words else ([], list)
        lead_words = words
        if not groups and len(words) > 1:
            # Words a filer writes as one ("J.P. Morgan" -> JPMORGAN CHASE & CO).
            lead_words = ("".join(words),)
            groups, elsewhere = self._leading(lead_words)
        if not groups and len(words) > 1:
            # Words the filer spreads out: "Curi Capital" is CURI RMB CAPITAL LLC when its rare first word says so.
            groups = self._spread(words)
        exact = self._exact(query)
        if exact and self._same_form(query, words, exact):
            # The brand writes its legal form and a filer of that name has it: "Nava PBC" is NAVA PBC.
            return self._with_runner_up(query, [self._cand(e, 100.0, "exact") for e in exact])
        if exact:
            ids = self._settle_exact(exact, groups, elsewhere, words)
            if ids and self._elsewhere_only(words, ids, hints, groups, elsewhere):
                # The one namesake in the posting's state is the brand's ("TomTom" in NH is TOMTOM NORTH AMERICA
                # INC, NH, not a TOMTOM INC of MA), when places tell them apart as they would without a bare name;
                # not for a short brand, whose leading words name no one ("GSK" in PA is no GSK CONSUMER HEALTH).
                rivals = [g for g in groups if not set(ids).intersection(g)]
                long_enough = len("".join(words)) >= MIN_LEAD_LEN
                placed = self._placed(rivals, elsewhere, hints.states, words) if hints and long_enough else []
                if placed:
                    return self._with_runner_up(query, [self._cand(e, 100.0, "ad_place") for e in placed])
                return self._unsure(query, ids)
            if ids is exact and self._trades_as_others(exact, words):
                return self._unsure(query, ids)
            if ids is exact and hints and hints.abroad and self._bare_unpetitioned(ids, words):
                return self._unsure(query, ids)
            if ids is exact:
                return self._with_runner_up(query, [self._cand(e, 100.0, "exact") for e in exact])
            if ids and self._staffing_word(words, ids):
                return self._unsure(query, ids)
            if ids:
                return self._with_runner_up(query, [self._cand(e, 100.0, "leading") for e in ids])
            groups = [exact, *groups]  # namesakes: shown, not chosen
        # Otherwise the career site's domain comes after the brand's own legal name.
        if by_domain:
            return self._with_runner_up(query, by_domain)
        if not exact:
            trade = self._trade(query)
            # A one-word d/b/a of some other filer never beats a filer whose legal name leads with the brand.
            # Several filers with one d/b/a only when no legal name uses the words: one firm's renumbered shells.
            own = self._trade_owners(trade, words, groups, elsewhere) if trade else []
            if own:
                return self._with_runner_up(query, [self._cand(e, 100.0, "trade") for e in own])
            if not groups and len(words) == 1 and hints and hints.states:
                # One word the filer writes as several ("Ycombinator" is Y COMBINATOR MANAGEMENT LLC), only where
                # the employer posts: run-together everyday words are other firms' names ("Pennylane" is no PENNY
                # LANE CENTERS, "Starcloud" no STAR CLOUD SVCS INC).
                state = self.entity.state
                groups = [g for g in self._glued(words[0]) if all(state(e) in hints.states for e in g)]
            lead, settled = self._settle_leading(groups, elsewhere, lead_words)
            if settled and self._staffing_word(words, lead):
                return self._unsure(query, lead)
            if settled:
                # A filer only beginning with an everyday word, or with a legal name the brand wrote and no one
                # files, or any such filer of an employer hiring only abroad (no US tag rides on it), is weighed as
                # a lone namesake.
                lone = _everyday(words) or (
                    len(words) == 1
                    and (
                        bool(legal_form_of(clean_name(query))) or (bool(hints and hints.abroad) and not self._arm(lead))
                    )
                )
                if self._elsewhere_only(words, lead, hints, groups, elsewhere, lone):
                    return self._unsure(query, lead)
                return self._with_runner_up(query, [self._cand(e, 100.0, "leading") for e in lead])
            groups += [[e] for e in trade[:2]]
        acronym = self._acronym(query, groups, hints)
        if acronym:
            return self._with_runner_up(query, [self._cand(acronym, 100.0, "acronym")])
        # A board spelling out another legal name (the firm behind a product, a new name, an arm's brand) says more
        # than a namesake sharing the posting's state or a near spelling.
        spelled = self._board_spells(hints.board, words) if hints and hints.board else []
        if spelled:
            return self._with_runner_up(query, spelled)
        placed = self._placed(groups, elsewhere, hints.states, lead_words) if hints and hints.states else []
        if placed:
            return self._with_runner_up(query, [self._cand(e, 100.0, "ad_place") for e in placed])
        if not spelling:
            return MatchResult(query, "unsure" if groups else "none", [], [])
        winners, others = self._fuzzy(query)
        alts = [c for c in others if c.score >= UNSURE][:3]
        # Spelling slips only: a name that some filers' legal names contain as it is was weighed above.
        if winners and not groups:
            return MatchResult(query, "matched", winners, alts)
        # Namesakes no path could tell apart are shown for a person to judge, never chosen.
        seen = {c.entity_id for c in alts}
        namesakes = [self._cand(g[0], 100.0, "leading") for g in groups[:3] if g[0] not in seen]
        alts = (namesakes + alts)[:3]
        return MatchResult(query, "unsure" if alts else "none", [], alts)

    def match_many(self, queries: Iterable[str], hints: dict[str, JoinHints] | None = None) -> list[MatchResult]:
        cache: dict[str, MatchResult] = {}
        out = []
        # A batch makes many small objects that all live until it ends, and no cycles: cyclic GC passes over
        # them only cost time.
        was = gc.isenabled()
        gc.disable()
        try:
            for q in queries:
                if q not in cache:
                    cache[q] = self.match(q, (hints or {}).get(q))
                out.append(cache[q])
        finally:
            if was:
                gc.enable()
        return out


def _renormalised(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A stored name row with its normal forms worked out from the name itself, as the entity build stores them."""
    eid, ename, fein, name, _n2, _n3, _n4, *rest = row
    return (eid, ename, fein, *stored_forms(clean_name(name)), *rest)


def _everyday(words: tuple[str, ...]) -> bool:
    """Whether a brand is one everyday English word ("Delta", "Unify"): namesakes share such a word far more often."""
    return len(words) == 1 and words[0].lower() in everyday_words()


def _dictionary_word(word: str) -> bool:
    """Whether a legal-name word, or the singular of a plural one, is an English dictionary word."""
    low = word.lower()
    return low in everyday_words() or (low.endswith("s") and low[:-1] in everyday_words())


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """English dictionary words (lower case): a brand that is one is shared by namesakes far more often."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2"], lower=True, alpha=True))


def _drained(rows: list[Any]) -> Iterator[Any]:
    """The rows one by one, each let go once taken: the index built from them does not sit beside them all."""
    for i in range(len(rows)):
        row, rows[i] = rows[i], None
        yield row
    rows.clear()


def _none() -> None:
    return None


def _legal_words_of(clean: str) -> tuple[str, ...]:
    """legal_words() of an already clean name."""
    words = [w for w in clean.split() if w != "&"]
    if words and words[0] == "THE" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return tuple(words)
