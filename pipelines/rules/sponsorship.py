"""What the ad itself says about visa sponsorship: offered, refused, or not mentioned, and the sentence.

A sentence counts when it talks about sponsoring a visa / immigration status (or H-1B transfers, immigration
or green-card support), or when it requires U.S. citizenship, a security clearance, U.S.-person status for
export control, or permanent work authorisation (these rule out sponsored candidates). An application question
put as a statement ("tell us whether you will need sponsorship") states nothing.
Look-alikes never count: "sponsored research", "vision insurance",
payments with Visa, "executive sponsor", "company-sponsored 401(k)", E-Verify notices, "authorized to work"
without a word on sponsorship, clearance "preferred".

Deciding:

- Within a sentence, a negation ("unable", "not", "without", "no") makes a sponsorship sentence a refusal.
  With "but" / "however" / "except", the later clause wins: "we sponsor H-1B, but not for this role" is refused;
  "we cannot sponsor new H-1B petitions, but transfers are welcome" is offered.
- Hedges are not refusals: "we aren't able to sponsor visas for every role" after "we sponsor visas".
- Across sentences, a refusal outranks an offer (an explicit refusal for this role beats a company-wide policy).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipelines.rules.text import lines_with, sentences

OFFERED, REFUSED, NOT_MENTIONED = "offered", "refused", "not_mentioned"


class SponsorshipResult(NamedTuple):
    statement: str  # offered | refused | not_mentioned
    sentence: str | None


_VISA = (
    r"(?:visas?|h-?1-?b|o-?1|tn|e-?3|l-?1|opt|cpt|green\s*cards?|perm|immigration|work\s+permits?|"
    r"(?:work|employment)\s+(?:visa|authori[sz]ation|status)|permanent\s+residen\w+|lawful\s+status)"
)
# Words that make a bare "sponsor"/"sponsorship" about immigration ("require sponsorship", "eligible for ...").
_SPONSOR_CONTEXT = (
    r"(?:requir\w*|need\w*|eligib\w*|without|available|availability|offer\w*|provid\w*|now\s+or\s+in\s+the"
    r"\s+future|future|take\s+over|transfer\w*|support\w*|consider\w*|welcome|possible|open\s+to|yes|able)"
)

# Sentences about sponsorship. One pattern a line.
_ABOUT_SPONSORSHIP = [
    rf"\bsponsor\w*\b[^;]{{0,60}}?\b{_VISA}\b",
    rf"\b{_VISA}\b[^;]{{0,40}}?\bsponsor\w*",
    rf"\bsponsor(?:s|ship|ing)?\b[^;]{{0,50}}?\b{_SPONSOR_CONTEXT}",
    rf"\b{_SPONSOR_CONTEXT}\b[^;]{{0,50}}?\bsponsorship\b",
    r"\bh-?1-?b\s+(?:visa\s+)?(?:transfers?|petitions?|holders?\s+welcome)",
    r"\btransfer\w*\b[^;]{0,40}?\bh-?1-?b",
    r"\b(?:immigration|visa)\b[^;.]{0,30}?\b(?:support|assistance|help|costs?|petitions?)\b",
    r"\b(?:support|assist|help)\w*\s+(?:with|for)\s+(?:your\s+|the\s+)?(?:visa|immigration)",
    r"\b(?:support|assist|help|file|cover|sponsor)\w*\b[^;.]{0,40}?\b(?:green\s*cards?|permanent\s+residen\w+)"
    r"(?!\s+holders?)",
    r"\b(?:will|can|cannot|can't|won't|do|does|don't|doesn't|unable\s+to|able\s+to)\s+(?:not\s+)?sponsor\s*[.!]?$",
]
# Requirements that exclude anyone who needs sponsorship. One pattern a line.
_EXCLUDING_REQUIREMENTS = [
    r"\b(?:u\.?\s?s\.?|united\s+states|american)\s+citizen(?:s|ship)?\b[^;]{0,80}?\b(?:only|required|requirement|"
    r"will\s+be\s+considered|is\s+required|are\s+required)",
    r"\b(?:must|shall|required\s+to)\s+(?:be|hold|have|possess)\s+(?:a\s+)?(?:u\.?\s?s\.?|united\s+states)\s+"
    r"(?:citizen|person)",
    r"\brequires?\s+(?:u\.?\s?s\.?|united\s+states)\s+citizenship",
    r"\bcitizens?\s+only\b",
    r"\bopen\s+(?:only\s+)?to\s+(?:u\.?\s?s\.?\s+)?citizens",
    r"\bonly\b[^;]{0,30}?\b(?:u\.?\s?s\.?\s+)citizens",
    r"\bonly\s+(?:u\.?\s?s\.?\s+)?citizens",
    r"\bonly\s+u\.?\s?s\.?\s+persons",
    r"\b(?:must|required|requires?|need|active|current)\b[^;]{0,60}?\b(?:security|secret|top\s+secret|ts\s*/\s*sci|"
    r"public\s+trust|dod)\s+clearance",
    r"\b(?:security|secret|top\s+secret|ts\s*/\s*sci|public\s+trust|dod)\s+clearance\b[^;]{0,40}?\b(?:is\s+)?"
    r"(?:required|mandatory|needed)",
    r"\bactive\s+ts\s*/\s*sci\b",
    # A title's shorthand: "(TS/SCI Required)", "Cleared (TS/SCI)".
    r"\bts\s*/\s*sci\b[^;]{0,20}?\b(?:required|mandatory|needed|only)\b",
    r"\bcleared\b[\s(-]{0,4}(?:ts\s*/\s*sci|top\s+secret)\b",
    r"\b(?:eligible|able|ability)\s+to\s+obtain\b[^;]{0,40}?\bclearance",
    r"\b(?:itar|ear|export\s+control\w*|export\s+regulations?)\b.{0,120}?\b(?:u\.?\s?s\.?\s+persons?|"
    r"citizens?|permanent\s+residents?)",
    r"\bmust\s+be\s+(?:a\s+)?u\.?\s?s\.?\s+persons?\b",
    # Permanent authorisation rules out every temporary visa holder.
    r"\b(?:only|must|requires?|required)\b[^;]{0,50}?\bpermanent\s+(?:work\s+authori[sz]ation|right\s+to\s+work|"
    r"authori[sz]ation\s+to\s+work)",
]
_NEGATION = re.compile(
    r"\b(?:not|no|cannot|can't|unable|won't|don't|doesn't|aren't|isn't|never|without|nor|ineligible|"
    r"unfortunately|neither)\b|n't\b"
)
_HEDGE = re.compile(
    r"\b(?:for\s+)?(?:every|all|each)\s+(?:role|position|candidate|opening|job)s?\b|\bin\s+(?:every|all)\s+cases\b|"
    r"\balways\b"
)
_NOT_REQUIRED = re.compile(
    r"\b(?:preferred|a\s+plus|nice\s+to\s+have|not\s+required|desired|desirable|bonus|advantage|helpful)\b"
)
# Sponsors that are not visa sponsors, blanked out before any pattern runs. One pattern a line.
_LOOKALIKES = [
    r"\b(?:executive|event|conference|community|corporate|title|team|project|business)\s+sponsor\w*",
    r"\bsponsor(?:ed|ing|s|ship)?\s+(?:of\s+)?(?:research|events?|conferences?|hackathons?|meetups?|teams?|"
    r"programs?|by|travel|certifications?|offsites?|benefits?|plans?|health|401)",
    r"\b(?:company|employer|government|industry)[\s-]+sponsored\b",
    r"\bvisa(?:,|\s+and|\s+or|\s*/)\s*(?:mastercard|master\s*card|amex|american\s+express|discover)",
    r"\bvisa\s+(?:inc|cards?|debit|credit|network|payments?|transactions?)\b",
]
_LOOKALIKES_RE = re.compile("|".join(f"(?:{p})" for p in _LOOKALIKES))
_CLAUSE_SPLIT = re.compile(r",?\s+but\s+|;\s*|\bhowever\b,?\s*|\s+except\s+|\s+unless\s+")
# Cheap screen (substrings of the lowercased text): only lines and sentences holding one of these are read.
_KEYS = (
    "sponsor",
    "visa",
    "h-1b",
    "h1b",
    "h1-b",
    "immigration",
    "citizen",
    "clearance",
    "cleared",
    "ts/sci",
    "export",
    "itar",
    "green card",
    "permanent",
)

_ABOUT_KEYS = ("sponsor", "transfer", "petition", "holders", "support", "assist", "help", "cost")
_EXCLUDING_KEYS = ("citizen", "clearance", "cleared", "ts/sci", "person", "itar", "ear", "export", "permanent")
# A question put as a statement ("tell us whether you will need sponsorship") states nothing.
_ASKS = re.compile(
    r"\b(?:tell\s+us|let\s+us\s+know|indicate|state|confirm|specify|asked?|answer)\b[^.]{0,40}?\b(?:whether|if)\s+"
    r"you\b"
)
_ABOUT_RE = re.compile("|".join(f"(?:{p})" for p in _ABOUT_SPONSORSHIP))
_EXCLUDING_RE = re.compile("|".join(f"(?:{p})" for p in _EXCLUDING_REQUIREMENTS))


def _fold(sentence: str) -> str:
    return sentence.lower().replace("\u2019", "'").replace("\u2010", "-").replace("\u2011", "-")


def _verdict(sentence: str) -> str | None:
    """offered / refused for one sentence, or None when it says nothing on sponsorship."""
    low = _fold(sentence)
    if "sponsor" in low or "visa" in low:
        low = _LOOKALIKES_RE.sub(" ", low)
    # Substring gates keep the long patterns off sentences that cannot match them.
    if any(key in low for key in _ABOUT_KEYS) and _ABOUT_RE.search(low):
        clauses = [c for c in _CLAUSE_SPLIT.split(low) if c.strip()]
        last = max((i for i, c in enumerate(clauses) if _ABOUT_RE.search(c)), default=0)
        clause = clauses[last]
        if _NEGATION.search(clause):
            return None if _HEDGE.search(clause) else REFUSED
        # "We sponsor H-1B for many roles, but not for this one": a negated tail takes the offer back.
        if any(_NEGATION.search(c) for c in clauses[last + 1 :]):
            return REFUSED
        return OFFERED
    if not any(key in low for key in _EXCLUDING_KEYS):
        return None
    if _EXCLUDING_RE.search(low) and not _NOT_REQUIRED.search(low):
        return REFUSED
    return None


def read_sponsorship(text: str | None) -> SponsorshipResult:
    """The ad's statement on sponsorship; a refusal anywhere outranks an offer elsewhere."""
    if not text:
        return SponsorshipResult(NOT_MENTIONED, None)
    low = text.lower()
    if not any(key in low for key in _KEYS):
        return SponsorshipResult(NOT_MENTIONED, None)
    offered: str | None = None
    for sentence in (s for _, line in lines_with(text, _KEYS, low) for s in sentences(line)):
        # Application-form questions ("Do you require visa sponsorship?") state nothing.
        folded = sentence.lower()
        if sentence.endswith("?") or not any(key in folded for key in _KEYS) or _ASKS.search(folded):
            continue
        verdict = _verdict(sentence)
        if verdict == REFUSED:
            return SponsorshipResult(REFUSED, sentence)
        if verdict == OFFERED and offered is None:
            offered = sentence
    if offered is not None:
        return SponsorshipResult(OFFERED, offered)
    return SponsorshipResult(NOT_MENTIONED, None)
