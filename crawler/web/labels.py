"""Human words for stored codes, shared by the pages and the feed."""

from __future__ import annotations

from typing import Any

from crawler.web.query import Filters

VISA = {"green_card": "Green card", "h1b": "H-1B"}
TAG = {"likely": "likely", "possible": "possible", "unlikely": "unlikely", "unknown": "unknown"}
ROLE = {
    "ml_engineer": "Machine Learning Engineer",
    "research_scientist": "Research Scientist",
    "research_engineer": "Research Engineer",
    "applied_scientist": "Applied Scientist",
    "data_scientist": "Data Scientist",
    "ml_infra": "ML Infrastructure",
    "perception": "Perception",
    "nlp": "NLP",
    "speech": "Speech",
    "recsys": "Recommender Systems",
}
SENIORITY = {
    "intern": "Intern",
    "junior": "Junior",
    "mid": "Mid-level",
    "senior": "Senior",
    "staff": "Staff",
    "senior_staff": "Senior Staff",
    "principal": "Principal",
    "distinguished": "Distinguished",
    "manager": "Manager",
    "director": "Director",
    "executive": "Executive",
}
REMOTE = {"remote": "Remote", "hybrid": "Hybrid", "onsite": "On-site"}
STATEMENT = {"offered": "Ad offers sponsorship", "refused": "Ad refuses sponsorship", "not_mentioned": ""}
# How a displayed employer name was joined to a DOL filer (the stored match method), in words.
JOIN_METHOD = {
    "fein": "the FEIN",
    "override": "an operator's override",
    "alias": "the alias table",
    "ad_name": "the legal employer the ad names",
    "ad_site": "the career site's domain",
    "ad_board": "the job board's name for the employer",
    "ad_place": "the one namesake in the postings' state",
    "exact": "the same legal name",
    "trade": "a trade (d/b/a) name in the filings",
    "leading": "the leading words of one filer's name",
    "acronym": "the filer's initials",
    "fuzzy": "a near spelling",
}
# The three levels of a tag's evidence, narrowest first.
LEVELS = {"similar_role": "similar roles", "ml_occupation": "any ML occupation", "any_occupation": "any occupation"}
# The stored figures by fiscal year, in the order a table shows them.
YEAR_FIELDS = {
    "certified": "certified",
    "ml_occupation_certified": "of them ML",
    "certified_expired": "certified, expired",
    "denied": "denied",
    "withdrawn": "withdrawn",
    "offered_wage_range": "offered wage",
    "wage_levels": "wage levels",
    "lca_certified": "LCAs certified",
    "lca_ml_occupation_certified": "of them ML",
    "lca_denied": "LCAs denied",
    "lca_withdrawn": "LCAs withdrawn",
    "uscis_initial_approval": "USCIS initial approvals",
    "uscis_continuing_approval": "USCIS continuing approvals",
    "uscis_initial_denial": "USCIS initial denials",
    "uscis_continuing_denial": "USCIS continuing denials",
}


def heading(f: Filters) -> str:
    """'Green card · Staff Machine Learning Engineer jobs' from the filters."""
    words = " ".join(
        w for w in (SENIORITY.get(f.seniority or "", ""), ROLE.get(f.role or "", "") or ("ML" if f.ml else "")) if w
    )
    text = f"{words} jobs" if words else "All jobs"
    prefix = []
    if f.visa:
        prefix.append(VISA[f.visa] + (f" {f.tag}" if f.tag else ""))
    elif f.tag:
        prefix.append(f"Sponsorship {f.tag}")
    where = f.place or f.city or f.region or f.country or REMOTE.get(f.remote or "", "")
    if where:
        text += f" in {where}" if f.remote is None or f.place else f" ({where})"
    return " · ".join([*prefix, text])


def place(item: dict[str, Any]) -> str:
    parts = [item.get("city"), item.get("region"), item.get("country")]
    text = ", ".join(dict.fromkeys(p for p in parts if p))
    remote = REMOTE.get(item.get("remote") or "")
    return f"{text} ({remote})" if text and remote else text or remote or ""


def salary(item: dict[str, Any]) -> str:
    lo, hi = item.get("salary_min"), item.get("salary_max")
    if lo is None and hi is None:
        return ""
    amount = f"{lo:,.0f}" if lo is not None else ""
    if hi is not None and hi != lo:
        amount = f"{amount}\u2013{hi:,.0f}" if amount else f"up to {hi:,.0f}"
    period = item.get("salary_period")
    return f"{item.get('salary_currency') or ''} {amount}{'/' + period if period else ''}".strip()


def number(value: Any) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or value > 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def money_range(pair: list[float] | None, dash: str = "\u2013") -> str:
    """An offered-wage range as money: "140,000" when both ends are one amount; `dash` joins the ends and stands
    for none (a terminal takes "-")."""
    if not pair or pair[0] is None:
        return dash
    low, high = number(pair[0]), number(pair[1] if pair[1] is not None else pair[0])
    return low if low == high else f"{low}{dash}{high}"


def wage_levels(levels: dict[str, int] | None, dash: str = "\u2013") -> str:
    """Cases per prevailing-wage level ("II: 3, III: 1"), or `dash` for none."""
    return ", ".join(f"{k}: {n}" for k, n in sorted((levels or {}).items())) or dash


def year_fields(by_year: dict[str, dict[str, Any]]) -> list[str]:
    """The figures any of the years has, in table order."""
    return [k for k in YEAR_FIELDS if any(k in row for row in by_year.values())]


def words(code: str | None) -> str:
    return (code or "").replace("_", " ")


def fein(value: str | None) -> str:
    """FEINs as the IRS prints them: 12-3456789."""
    return f"{value[:2]}-{value[2:]}" if value and len(value) == 9 and value.isdigit() else value or "\u2013"


def join_method(code: str | None, via: str | None = None) -> str:
    """A match method as "ad_board (the job board's name for the employer)": the code a query filters on, and what
    it means; with `via`, what the posting gave (": cobaltio")."""
    if not code:
        return ""
    shown = f"{code} ({JOIN_METHOD[code]})" if code in JOIN_METHOD else code
    return f"{shown}: {via}" if via else shown
