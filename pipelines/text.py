"""HTML and text clean-up shared by the pipelines: unescape once, sanitise, derive plain text."""

from __future__ import annotations

import html
import re
import unicodedata

import nh3
from bs4 import BeautifulSoup

# Escaped markup has entities where tags should be and no real tag: unescape it once, never twice.
_ESCAPED_TAG = re.compile(r"&lt;\s*/?\s*[a-zA-Z][a-zA-Z0-9]*[\s/&]*")
_MARKUP_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&#x27;", "'"), ("&amp;", "&"))
_REAL_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*[\s/>]")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
# Whole elements whose content is never text a reader should see.
DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math"}

_BLOCK_TAGS = [
    "p",
    "div",
    "li",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "dt",
    "dd",
    "blockquote",
    "pre",
]
# Tabs and odd spaces that become plain ones; each is looked for with `in` (a C scan) before it is replaced, which
# is twice as fast as one character-class regex over a long ad.
_ODD_SPACES = "\t\f\v\u00a0" + "".join(map(chr, range(0x2000, 0x200C))) + "\u202f\u205f\u3000"
_ODD_ASCII_SPACES = "\t\f\v"  # all an ASCII text can hold (isascii() is one C pass)
# Three or more newlines: on stripped lines that is every run of blank lines (a literal prefix keeps re fast).
_BLANK_LINES = re.compile(r"\n\n\n+")


def unescape_markup(value: str) -> str:
    """Undo one level of HTML escaping when the whole document arrived escaped (Greenhouse `content`)."""
    if _ESCAPED_TAG.search(value) and not _REAL_TAG.search(value):
        # Only the markup-significant entities; others stay entities, which the result (HTML) still means.
        # `&amp;` goes last so `&amp;lt;` becomes `&lt;` (one level), and str.replace is ~10x html.unescape.
        for entity, char in _MARKUP_ENTITIES:
            value = value.replace(entity, char)
    return value


def sanitize_html(value: str) -> str:
    """Keep structure and links; drop scripts, styles, frames, event handlers and javascript: URLs."""
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


# Only valid on sanitize_html() output: nh3 emits well-formed markup and escapes every text `<` as `&lt;`,
# so any `<` starts a tag and a regex pass is exact (tests check it against BeautifulSoup on every fixture).
_BLOCK_BREAK = re.compile(r"<(?:br|/?(?:p|div|h[1-6]|ul|ol|tr|table|thead|tbody|blockquote|pre|dl|dt|dd|hr))\b[^>]*>")
_LIST_ITEM = re.compile(r"<li\b[^>]*>")
_ANY_TAG = re.compile(r"<[^>]*>")


def sanitized_html_to_text(value: str) -> str:
    """Plain text from sanitize_html() output, ~40x faster than parsing it again."""
    value = _LIST_ITEM.sub("\n• ", _BLOCK_BREAK.sub("\n", value))
    return clean_text(html.unescape(_ANY_TAG.sub("", value)))


def html_to_text(value: str) -> str:
    """Readable plain text from any HTML: one line per block element, entities decoded, whitespace folded."""
    soup = BeautifulSoup(value, "lxml")
    for tag in soup.find_all(DROP_WITH_CONTENT):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        if tag.name == "li":
            tag.insert_before("\n• ")
        else:
            tag.insert_before("\n")
        tag.insert_after("\n")
    return clean_text(soup.get_text())


def clean_text(value: str) -> str:
    """NFC, one space between words, at most one blank line between paragraphs, no trailing spaces."""
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    value = _fold_spaces(value.replace("\r\n", "\n").replace("\r", "\n"))
    value = "\n".join(line.strip() for line in value.split("\n"))
    return _BLANK_LINES.sub("\n\n", value).strip()


def clean_line(value: str) -> str:
    """A one-line value (title, employer, department): entities decoded, whitespace folded."""
    return _fold_spaces(html.unescape(value).replace("\n", " ")).strip()


def _fold_spaces(value: str) -> str:
    """Odd spaces become plain ones and runs of spaces one space (str.replace is ~8x the regex " {2,}")."""
    for char in _ODD_SPACES if not value.isascii() else _ODD_ASCII_SPACES:
        if char in value:
            value = value.replace(char, " ")
    while "  " in value:
        value = value.replace("  ", " ")
    return value
