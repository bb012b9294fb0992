"""Shared text helpers for the ad-reading rules: sentence splitting that keeps the exact sentence text."""

from __future__ import annotations

import re

# Tokens ending in a period that do not end a sentence ("U.S. citizens", "e.g. H-1B", "Ph.D. in").
_ABBREVIATIONS = frozenset(
    [
        "u.s.",
        "u.s.a.",
        "u.k.",
        "e.g.",
        "i.e.",
        "etc.",
        "inc.",
        "ltd.",
        "co.",
        "corp.",
        "sr.",
        "jr.",
        "dr.",
        "mr.",
        "ms.",
        "mrs.",
        "st.",
        "vs.",
        "no.",
        "approx.",
        "ph.d.",
        "b.s.",
        "m.s.",
        "b.a.",
        "m.a.",
        "b.sc.",
        "m.sc.",
        "b.e.",
        "m.e.",
        "b.tech.",
        "m.tech.",
        "m.eng.",
        "b.eng.",
        "u.s.c.",
        "dept.",
        "min.",
        "max.",
        "yrs.",
        "incl.",
        "esp.",
        "fig.",
        "govt.",
        "int'l.",
        "a.k.a.",
    ]
)
_BULLETS = re.compile(r"\s*[\u2022\u25cf\u25aa]+\s*")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u2022-])")
_BULLET = re.compile(r"^[-*\u2013\u2014\u2022\u25cf\u25aa]+\s*")


def sentences(text: str) -> list[str]:
    """Sentences of `text`, each exactly as written (bullets stripped); lines and bullets always end one."""
    out: list[str] = []
    for raw in text.splitlines():
        pieces = _BULLETS.split(raw) if ("\u2022" in raw or "\u25cf" in raw or "\u25aa" in raw) else (raw,)
        for piece in pieces:
            _split_line(piece, out)
    return out


def _split_line(line: str, out: list[str]) -> None:
    line = _BULLET.sub("", line.strip()) if line[:1] in "-*\u2013\u2014 \t" else line.strip()
    if not line:
        return
    start = 0
    for m in _SENTENCE_END.finditer(line):
        token = line[max(start, line.rfind(" ", start, m.start()) + 1) : m.start() + 1].lower().lstrip("(\"'")
        # "U.S." and initials ("J.") are not sentence ends.
        if token in _ABBREVIATIONS or (len(token) == 2 and token[0].isalpha()):
            continue
        piece = line[start : m.end()].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = line[start:].strip()
    if tail:
        out.append(tail)


def key_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern finding any of `keys` as a substring: for `lines_with`, where it beats one scan per key."""
    return re.compile("|".join(re.escape(key) for key in sorted(set(keys), key=len, reverse=True)))


def lines_with(
    text: str, keys: tuple[str, ...] | re.Pattern[str], haystack: str | None = None
) -> list[tuple[int, str]]:
    """(start, line) for the lines of `text` where `haystack` (default: `text` lowercased) holds any of `keys`.

    In text order, each line once.

    Lets a reader skip the sentence splitting of lines that cannot matter; substring search runs in C. `keys` as
    a `key_pattern` is one scan instead of one per key: faster for many keys whose first letters are rare in
    text (currency codes), slower for a few common ones; the lines found are the same.
    """
    low = text.lower() if haystack is None else haystack
    starts: dict[int, int] = {}

    def add(pos: int) -> int:
        begin = low.rfind("\n", 0, pos) + 1
        end = low.find("\n", pos)
        end = len(low) if end == -1 else end
        starts[begin] = end
        return end

    if isinstance(keys, re.Pattern):
        found = keys.search(low)
        while found:
            found = keys.search(low, add(found.start()))
    else:
        for key in keys:
            pos = low.find(key)
            while pos != -1:
                pos = low.find(key, add(pos))
    return [(begin, text[begin : starts[begin]]) for begin in sorted(starts)]
