"""Synthetic but realistic DOL employer names and LCA FY2020+ rows, shared by the join benchmarks."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

LCA_HEADER = [
    "CASE_NUMBER",
    "CASE_STATUS",
    "RECEIVED_DATE",
    "DECISION_DATE",
    "ORIGINAL_CERT_DATE",
    "VISA_CLASS",
    "JOB_TITLE",
    "SOC_CODE",
    "SOC_TITLE",
    "FULL_TIME_POSITION",
    "BEGIN_DATE",
    "END_DATE",
    "TOTAL_WORKER_POSITIONS",
    "NEW_EMPLOYMENT",
    "CONTINUED_EMPLOYMENT",
    "CHANGE_PREVIOUS_EMPLOYMENT",
    "NEW_CONCURRENT_EMPLOYMENT",
    "CHANGE_EMPLOYER",
    "AMENDED_PETITION",
    "EMPLOYER_NAME",
    "TRADE_NAME_DBA",
    "EMPLOYER_ADDRESS1",
    "EMPLOYER_ADDRESS2",
    "EMPLOYER_CITY",
    "EMPLOYER_STATE",
    "EMPLOYER_POSTAL_CODE",
    "EMPLOYER_COUNTRY",
    "EMPLOYER_PROVINCE",
    "EMPLOYER_PHONE",
    "EMPLOYER_PHONE_EXT",
    "EMPLOYER_FEIN",
    "NAICS_CODE",
    "SECONDARY_ENTITY",
    "SECONDARY_ENTITY_BUSINESS_NAME",
    "WORKSITE_ADDRESS1",
    "WORKSITE_ADDRESS2",
    "WORKSITE_CITY",
    "WORKSITE_COUNTY",
    "WORKSITE_STATE",
    "WORKSITE_POSTAL_CODE",
    "WAGE_RATE_OF_PAY_FROM",
    "WAGE_RATE_OF_PAY_TO",
    "WAGE_UNIT_OF_PAY",
    "PREVAILING_WAGE",
    "PW_UNIT_OF_PAY",
    "PW_TRACKING_NUMBER",
    "PW_WAGE_LEVEL",
    "PW_OES_YEAR",
    "H_1B_DEPENDENT",
    "WILLFUL_VIOLATOR",
]

SYLLABLES = [
    "al",
    "ar",
    "ba",
    "be",
    "bri",
    "ca",
    "cor",
    "da",
    "de",
    "di",
    "el",
    "en",
    "fa",
    "fi",
    "ga",
    "gen",
    "ha",
    "hel",
    "in",
    "io",
    "ka",
    "ki",
    "la",
    "len",
    "lu",
    "ma",
    "mer",
    "mi",
    "na",
    "neo",
    "no",
    "or",
    "pa",
    "pi",
    "qua",
    "ra",
    "ri",
    "sa",
    "se",
    "sol",
    "ta",
    "te",
    "tri",
    "ul",
    "va",
    "ve",
    "vi",
    "xa",
    "ze",
    "zen",
    "zo",
    "ny",
    "lux",
    "tek",
    "syn",
]
SURNAMES = [
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "WILSON",
    "ANDERSON",
    "THOMAS",
    "TAYLOR",
    "MOORE",
    "JACKSON",
    "MARTIN",
    "LEE",
    "PEREZ",
    "THOMPSON",
    "WHITE",
    "HARRIS",
    "SANCHEZ",
    "CLARK",
    "RAMIREZ",
    "LEWIS",
    "ROBINSON",
    "WALKER",
    "YOUNG",
    "ALLEN",
    "KING",
    "WRIGHT",
    "SCOTT",
    "TORRES",
    "NGUYEN",
    "HILL",
    "FLORES",
    "GREEN",
    "ADAMS",
    "NELSON",
    "BAKER",
    "HALL",
    "PATEL",
    "SHAH",
    "GUPTA",
    "KUMAR",
    "SHARMA",
    "REDDY",
    "RAO",
    "IYER",
    "CHEN",
    "WANG",
    "LIU",
    "ZHANG",
    "KIM",
    "PARK",
]
PLACES = [
    "PACIFIC",
    "ATLANTIC",
    "SUMMIT",
    "RIVER",
    "LAKE",
    "MOUNTAIN",
    "VALLEY",
    "PRAIRIE",
    "COASTAL",
    "METRO",
    "CAPITOL",
    "GOLDEN",
    "SILVER",
    "BLUE",
    "GREEN",
    "RED",
    "EAGLE",
    "FALCON",
    "CEDAR",
    "OAK",
    "MAPLE",
    "PINE",
    "HARBOR",
    "BAY",
    "NORTHERN",
    "SOUTHERN",
    "WESTERN",
    "EASTERN",
    "CENTRAL",
    "MIDWEST",
]
DESCRIPTORS = [
    "SOLUTIONS",
    "SYSTEMS",
    "CONSULTING",
    "HEALTH",
    "ANALYTICS",
    "SOFTWARE",
    "LABS",
    "GROUP",
    "PARTNERS",
    "TECHNOLOGIES",
    "DATA",
    "CLOUD",
    "NETWORKS",
    "MEDICAL",
    "CAPITAL",
    "INFOTECH",
    "DIGITAL",
    "ROBOTICS",
    "BIOSCIENCES",
    "THERAPEUTICS",
    "PHARMA",
    "ENGINEERING",
    "LOGISTICS",
    "MEDIA",
    "GAMES",
    "SECURITY",
    "FINANCIAL",
    "INSURANCE",
    "ENERGY",
    "MOTORS",
    "FOODS",
    "DESIGN",
    "RESEARCH",
    "ASSOCIATES",
    "INTERNATIONAL",
    "GLOBAL",
    "SERVICES",
    "HOLDINGS",
    "ENTERPRISES",
    "INFOSYSTEMS",
    "IT",
    "COMPUTING",
    "AI",
    "QUANTUM",
    "SEMICONDUCTOR",
    "DEVICES",
]
SUFFIXES = ["INC.", "INC", "LLC", "L.L.C.", "CORP.", "CORPORATION", "LTD", "LLP", "P.C.", "CO.", "INCORPORATED"]
STATES = ["CA", "NY", "TX", "WA", "MA", "NJ", "IL", "GA", "PA", "VA", "NC", "FL", "MI", "OH", "MN", "CO", "AZ", "OR"]


def coined(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4)))).upper()


def employer_name(rng: random.Random) -> str:
    """One plausible filer name: coined brand / surname / place, descriptors, legal suffix, sometimes more."""
    shape = rng.random()
    if shape < 0.45:
        head = coined(rng)
    elif shape < 0.65:
        head = rng.choice(SURNAMES)
        if rng.random() < 0.3:
            head += " & " + rng.choice(SURNAMES)
    elif shape < 0.8:
        head = rng.choice(PLACES) + " " + coined(rng)
    else:
        head = coined(rng) + " " + rng.choice(SURNAMES)
    words = [head]
    for _ in range(rng.choice((0, 1, 1, 1, 2))):
        words.append(rng.choice(DESCRIPTORS))
    name = " ".join(words)
    suffix = rng.choice(SUFFIXES)
    name = f"{name}, {suffix}" if rng.random() < 0.5 else f"{name} {suffix}"
    if rng.random() < 0.02:
        name += f" D/B/A {coined(rng)}"
    return name


def unique_names(n: int, seed: int, exclude: set[str] | None = None) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set(exclude or ())
    out: list[str] = []
    while len(out) < n:
        name = employer_name(rng)
        key = name.replace(",", "").replace(".", "")
        if key in seen:
            continue
        seen.add(key)
        out.append(name)
    return out


def lca_rows(filers: Iterable[tuple[str, str, str]], seed: int = 7) -> Iterator[dict[str, str]]:
    """One certified H-1B LCA per (name, fein, trade name) in the FY2020+ layout."""
    rng = random.Random(seed)
    for i, (name, fein, trade) in enumerate(filers):
        state = rng.choice(STATES)
        yield {
            "CASE_NUMBER": f"I-200-{23000 + i // 100000:05d}-{i % 1000000:06d}",
            "CASE_STATUS": "Certified",
            "RECEIVED_DATE": "2024-01-02",
            "DECISION_DATE": "2024-01-09",
            "VISA_CLASS": "H-1B",
            "JOB_TITLE": rng.choice(["Software Engineer", "Machine Learning Engineer", "Data Scientist", "Analyst"]),
            "SOC_CODE": "15-1252.00",
            "SOC_TITLE": "Software Developers",
            "FULL_TIME_POSITION": "Y",
            "TOTAL_WORKER_POSITIONS": "1",
            "EMPLOYER_NAME": name,
            "TRADE_NAME_DBA": trade,
            "EMPLOYER_CITY": "SPRINGFIELD",
            "EMPLOYER_STATE": state,
            "EMPLOYER_POSTAL_CODE": "10001",
            "EMPLOYER_COUNTRY": "UNITED STATES OF AMERICA",
            "EMPLOYER_FEIN": fein,
            "NAICS_CODE": "541511",
            "SECONDARY_ENTITY": "No",
            "WORKSITE_CITY": "SPRINGFIELD",
            "WORKSITE_STATE": state,
            "WAGE_RATE_OF_PAY_FROM": f"{rng.randint(80, 250) * 1000}.00",
            "WAGE_UNIT_OF_PAY": "Year",
            "PREVAILING_WAGE": "80000.00",
            "PW_UNIT_OF_PAY": "Year",
            "PW_WAGE_LEVEL": rng.choice(["I", "II", "III", "IV"]),
            "H_1B_DEPENDENT": "No",
            "WILLFUL_VIOLATOR": "No",
        }


def write_lca_csv(path: Path, rows: Iterable[dict[str, str]]) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, LCA_HEADER, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow(row)
            n += 1
    return n


def fein_for(i: int) -> str:
    n = 100_000_000 + i * 7919 % 800_000_000
    return f"{str(n)[:2]}-{str(n)[2:]}"
