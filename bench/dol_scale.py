"""Benchmark: DOL ingest at real size, re-ingest, and employer look-ups against the load.

Generates LCA FY2020+ files with the published column set (96 columns, realistic value lengths) at each size,
as CSV and as xlsx (written by a streaming writer), with employer names drawn from real H-1B filer names
(`--filers`, e.g. ../shared/data/real_filers.csv.gz) at Zipf-like repeat counts: a few filers with thousands of
cases, a long tail with one or two. Files are cached in `--cache` (the 1M-row workbook is slow to write).

For each size and format, on SQLite and on PostgreSQL (a private schema), it reports: `jobagg dol ingest`
seconds, the seconds to merely read the same file (csv.reader / python-calamine) in a child process, their
ratio (the medians of `--repeat` runs, each ingest beside a read of its own, for sizes up to `--repeat-max`),
the ingest's peak RSS (the child's, from wait4), the database size, and a second ingest of the same file.
Then, against the largest load: `jobagg employers match --json --file` on 10,000 realistic names (brand forms of
loaded filers plus names not in the data), end to end, versus brute-force rapidfuzz cdist with token_set_ratio
over all loaded names, timed on a sample on one core and extrapolated linearly, against the look-up on one core
(`--jobs 1`; end to end it uses every core). Exits non-zero on a missed target.
The look-ups keep PostgreSQL's local index cache under `--cache` (JOBAGG_CACHE_DIR, unless already set: `off`
measures without it); the forced rebuild before the timed look-up fills it, as any rebuild does.

    python bench/dol_scale.py --filers ../shared/data/real_filers.csv.gz
    python bench/dol_scale.py --filers ... --sizes 20000 --formats csv --backends sqlite   # quick
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from bisect import bisect
from collections.abc import Callable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GEN_VERSION = "1"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# The LCA FY2020+ record layout (FY2024 Q4 order), 96 columns.
LCA_COLUMNS = (  # noqa: SIM905 - one readable block, as the record layout lists them
    "CASE_NUMBER CASE_STATUS RECEIVED_DATE DECISION_DATE ORIGINAL_CERT_DATE VISA_CLASS JOB_TITLE SOC_CODE SOC_TITLE "
    "FULL_TIME_POSITION BEGIN_DATE END_DATE TOTAL_WORKER_POSITIONS NEW_EMPLOYMENT CONTINUED_EMPLOYMENT "
    "CHANGE_PREVIOUS_EMPLOYMENT NEW_CONCURRENT_EMPLOYMENT CHANGE_EMPLOYER AMENDED_PETITION EMPLOYER_NAME "
    "TRADE_NAME_DBA EMPLOYER_ADDRESS1 EMPLOYER_ADDRESS2 EMPLOYER_CITY EMPLOYER_STATE EMPLOYER_POSTAL_CODE "
    "EMPLOYER_COUNTRY EMPLOYER_PROVINCE EMPLOYER_PHONE EMPLOYER_PHONE_EXT EMPLOYER_FEIN NAICS_CODE "
    "EMPLOYER_POC_LAST_NAME EMPLOYER_POC_FIRST_NAME EMPLOYER_POC_MIDDLE_NAME EMPLOYER_POC_JOB_TITLE "
    "EMPLOYER_POC_ADDRESS1 EMPLOYER_POC_ADDRESS2 EMPLOYER_POC_CITY EMPLOYER_POC_STATE EMPLOYER_POC_POSTAL_CODE "
    "EMPLOYER_POC_COUNTRY EMPLOYER_POC_PROVINCE EMPLOYER_POC_PHONE EMPLOYER_POC_PHONE_EXT EMPLOYER_POC_EMAIL "
    "AGENT_REPRESENTING_EMPLOYER AGENT_ATTORNEY_LAST_NAME AGENT_ATTORNEY_FIRST_NAME AGENT_ATTORNEY_MIDDLE_NAME "
    "AGENT_ATTORNEY_ADDRESS1 AGENT_ATTORNEY_ADDRESS2 AGENT_ATTORNEY_CITY AGENT_ATTORNEY_STATE "
    "AGENT_ATTORNEY_POSTAL_CODE AGENT_ATTORNEY_COUNTRY AGENT_ATTORNEY_PROVINCE AGENT_ATTORNEY_PHONE "
    "AGENT_ATTORNEY_PHONE_EXT AGENT_ATTORNEY_EMAIL_ADDRESS LAWFIRM_NAME_BUSINESS_NAME STATE_OF_HIGHEST_COURT "
    "NAME_OF_HIGHEST_STATE_COURT WORKSITE_WORKERS SECONDARY_ENTITY SECONDARY_ENTITY_BUSINESS_NAME "
    "WORKSITE_ADDRESS1 WORKSITE_ADDRESS2 WORKSITE_CITY WORKSITE_COUNTY WORKSITE_STATE WORKSITE_POSTAL_CODE "
    "WAGE_RATE_OF_PAY_FROM WAGE_RATE_OF_PAY_TO WAGE_UNIT_OF_PAY PREVAILING_WAGE PW_UNIT_OF_PAY PW_TRACKING_NUMBER "
    "PW_WAGE_LEVEL PW_OES_YEAR PW_OTHER_SOURCE PW_OTHER_YEAR PW_SURVEY_PUBLISHER PW_SURVEY_NAME "
    "TOTAL_WORKSITE_LOCATIONS AGREE_TO_LC_STATEMENT H_1B_DEPENDENT WILLFUL_VIOLATOR SUPPORT_H1B STATUTORY_BASIS "
    "APPENDIX_A_ATTACHED PUBLIC_DISCLOSURE PREPARER_LAST_NAME PREPARER_FIRST_NAME PREPARER_MIDDLE_INITIAL "
    "PREPARER_BUSINESS_NAME PREPARER_EMAIL"
).split()

CITIES = [
    ("SAN JOSE", "CA", "SANTA CLARA", "951"),
    ("SEATTLE", "WA", "KING", "981"),
    ("NEW YORK", "NY", "NEW YORK", "100"),
    ("AUSTIN", "TX", "TRAVIS", "787"),
    ("EDISON", "NJ", "MIDDLESEX", "088"),
    ("CHICAGO", "IL", "COOK", "606"),
    ("ATLANTA", "GA", "FULTON", "303"),
    ("BOSTON", "MA", "SUFFOLK", "021"),
    ("PLANO", "TX", "COLLIN", "750"),
    ("CHARLOTTE", "NC", "MECKLENBURG", "282"),
    ("SUNNYVALE", "CA", "SANTA CLARA", "940"),
    ("REDMOND", "WA", "KING", "980"),
]
JOBS = [
    ("Software Engineer", "15-1252.00", "Software Developers"),
    ("Senior Software Engineer", "15-1252.00", "Software Developers"),
    ("Machine Learning Engineer", "15-1252.00", "Software Developers"),
    ("Data Scientist", "15-2051.00", "Data Scientists"),
    ("Business Analyst", "13-1111.00", "Management Analysts"),
    ("Computer Systems Analyst", "15-1211.00", "Computer Systems Analysts"),
    ("Research Scientist", "15-1221.00", "Computer and Information Research Scientists"),
    ("Assistant Professor", "25-1021.00", "Computer Science Teachers, Postsecondary"),
    ("Physician", "29-1229.00", "Physicians, All Other"),
    ("Financial Analyst", "13-2051.00", "Financial and Investment Analysts"),
]
FIRST = ["PRIYA", "RAHUL", "JENNIFER", "MICHAEL", "WEI", "ANA", "DAVID", "SARAH", "KUMAR", "LINDA", "JOHN", "MEI"]
LAST = ["SHARMA", "SMITH", "PATEL", "CHEN", "GARCIA", "JOHNSON", "REDDY", "NGUYEN", "WILLIAMS", "KIM", "BROWN"]
LAWFIRMS = ["FRAGOMEN, DEL REY, BERNSEN & LOEWY, LLP", "BAL", "SEYFARTH SHAW LLP", "", "", "MAGGIO KATTAR NAHAJZER"]
STATUSES = ["Certified"] * 90 + ["Certified - Withdrawn"] * 6 + ["Withdrawn"] * 3 + ["Denied"]


def read_filers(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return [r["name"] for r in csv.DictReader(f) if r.get("name")]


def zipf_picker(n_filers: int, rng: random.Random, s: float = 1.0):  # type: ignore[no-untyped-def]
    """Filer index by Zipf-like weight: rank 1 files thousands of cases, the long tail one or two."""
    cum = list(accumulate(1.0 / (i + 1) ** s for i in range(n_filers)))
    total = cum[-1]
    return lambda: bisect(cum, rng.random() * total)


class FilerFacts:
    """Per filer: a FEIN, address, phone and contact drawn once, so repeated filings agree as real ones do."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.cache: dict[int, tuple[str, ...]] = {}

    def get(self, i: int) -> tuple[str, ...]:
        got = self.cache.get(i)
        if got is None:
            r = random.Random(self.seed * 1_000_003 + i)
            city, state, county, zip3 = r.choice(CITIES)
            n = 100_000_000 + (i * 7919 + 12345) % 800_000_000
            got = self.cache[i] = (
                f"{str(n)[:2]}-{str(n)[2:]}",
                f"{r.randint(1, 9999)} {r.choice(['MAIN', 'PARK', 'OAK', 'TECHNOLOGY', 'MISSION'])} "
                f"{r.choice(['STREET', 'AVENUE', 'DRIVE', 'BLVD', 'PARKWAY'])}",
                r.choice(["", "", "SUITE 100", "FLOOR 3", "STE 210"]),
                city,
                state,
                county,
                f"{zip3}{r.randint(10, 99)}",
                f"+1 ({r.randint(200, 989)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}",
                r.choice(FIRST),
                r.choice(LAST),
                r.choice(["HR MANAGER", "DIRECTOR, GLOBAL MOBILITY", "IMMIGRATION SPECIALIST", "CEO"]),
                r.choice(LAWFIRMS),
                r.choice(["541511", "541512", "611310", "522110", "541330", "334111"]),
            )
        return got


class Draw(NamedTuple):
    filer: int
    facts: tuple[str, ...]
    job: tuple[str, str, str]
    site: tuple[str, str, str, str]
    month: int
    day: int
    year: int  # the calendar year of the decision


def draw(rng: random.Random, pick: Callable[[], int], facts: FilerFacts, fy: int) -> Draw:
    """One case's filer (with its facts), job, worksite and decision month in fiscal year `fy`, drawn in a fixed
    order: generated files stay the same from one version of the benchmark to the next."""
    i = pick()
    got = facts.get(i)
    job = JOBS[rng.randrange(len(JOBS))]
    site = CITIES[rng.randrange(len(CITIES))]
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return Draw(i, got, job, site, month, day, fy - 1 if month >= 10 else fy)


def lca_rows(
    filers: list[str], n: int, seed: int, fy: int = 2024, facts_seed: int | None = None, serial_base: int = 0
) -> Iterator[list[str]]:
    """n rows of the FY2020+ layout decided in fiscal year `fy`; every ~20th row is padding (blank), as in DOL
    workbooks. Files sharing `facts_seed` give each employer the same address and state; files with serial numbers
    from distinct `serial_base`s share no case number."""
    rng = random.Random(seed)
    pick = zipf_picker(len(filers), rng)
    facts = FilerFacts(seed if facts_seed is None else facts_seed)
    for k in range(n):
        d = draw(rng, pick, facts, fy)
        name = filers[d.filer]
        fein, addr1, addr2, city, state, _county, postal, phone, poc_f, poc_l, poc_t, firm, naics = d.facts
        title, soc, soc_title = d.job
        wc, ws, wcounty, wzip = d.site
        month, day, year = d.month, d.day, d.year
        received = f"{year}-{month:02d}-{day:02d}"
        decided = f"{year}-{month:02d}-{min(day + 7, 28):02d}"
        wage = rng.randint(60, 260) * 1000
        status = STATUSES[rng.randrange(len(STATUSES))]
        secondary = rng.random() < 0.15
        agent = bool(firm)
        a_f, a_l = (rng.choice(FIRST), rng.choice(LAST)) if agent else ("", "")
        yield [
            f"I-200-{year - 2000}{rng.randint(100, 365):03d}-{serial_base + k:06d}",
            status,
            received,
            decided,
            decided if status.startswith("Certified") else "",
            "H-1B" if rng.random() < 0.97 else "E-3 Australian",
            title,
            soc,
            soc_title,
            "Y",
            f"{year}-{month:02d}-{day:02d}",
            f"{year + 3}-{month:02d}-{day:02d}",
            "1",
            *rng.choice(
                (("1", "0", "0", "0", "0", "0"), ("0", "1", "0", "0", "0", "0"), ("0", "0", "0", "0", "1", "0"))
            ),
            name,
            "",
            addr1,
            addr2,
            city,
            state,
            postal,
            "UNITED STATES OF AMERICA",
            "",
            phone,
            "",
            fein,
            naics,
            poc_l,
            poc_f,
            "",
            poc_t,
            addr1,
            addr2,
            city,
            state,
            postal,
            "UNITED STATES OF AMERICA",
            "",
            phone,
            "",
            f"{poc_f[0]}{poc_l}@EXAMPLE.COM".lower(),
            "Yes" if agent else "No",
            a_l,
            a_f,
            "",
            "1 LAW FIRM PLAZA" if agent else "",
            "",
            "NEW YORK" if agent else "",
            "NY" if agent else "",
            "10001" if agent else "",
            "UNITED STATES OF AMERICA" if agent else "",
            "",
            "+1 (212) 555-0100" if agent else "",
            "",
            f"{a_f[:1]}{a_l}@LAWFIRM.COM".lower() if agent else "",
            firm,
            "NY" if agent else "",
            "COURT OF APPEALS" if agent else "",
            "1",
            "Yes" if secondary else "No",
            f"CLIENT {rng.randint(1, 5000)} INC" if secondary else "",
            f"{rng.randint(1, 9999)} CAMPUS DRIVE",
            "",
            wc,
            wcounty,
            ws,
            f"{wzip}{rng.randint(10, 99)}",
            f"{wage}.00",
            f"{wage + 20000}.00" if rng.random() < 0.3 else "",
            "Year",
            f"{wage - 5000}.00",
            "Year",
            "",
            rng.choice(["I", "II", "III", "IV"]),
            "7/1/2023 - 6/30/2024",
            "",
            "",
            "",
            "",
            "1",
            "Yes",
            "Yes" if secondary else "No",
            "No",
            "",
            "",
            "",
            "Yes",
            a_l,
            a_f,
            "",
            firm,
            f"{a_f[:1]}{a_l}@LAWFIRM.COM".lower() if agent else "",
        ]
        if k % 20 == 19:
            yield [""] * len(LCA_COLUMNS)


def write_csv(path: Path, rows: Iterator[list[str]], header: list[str] = LCA_COLUMNS) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


def _col(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def write_xlsx(path: Path, rows: Iterator[list[str]], header: list[str] = LCA_COLUMNS) -> None:
    """A minimal streaming xlsx writer (inline strings, one sheet): rows go straight into the deflate stream."""
    cols = [_col(i) for i in range(len(header))]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            out: list[str] = [
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            ]

            def row_xml(r: int, values: list[str]) -> str:
                cells = "".join(
                    f'<c r="{cols[i]}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                    for i, v in enumerate(values)
                    if v
                )
                return f'<row r="{r}">{cells}</row>'

            out.append(row_xml(1, header))
            for r, values in enumerate(rows, start=2):
                out.append(row_xml(r, values))
                if len(out) >= 2000:
                    raw.write("".join(out).encode())
                    out.clear()
            out.append("</sheetData></worksheet>")
            raw.write("".join(out).encode())
    tmp.replace(path)


def generate(cache: Path, filers_path: Path, filers: list[str], size: int, fmt: str) -> Path:
    tag = hashlib.sha256(f"{GEN_VERSION}|{filers_path.stat().st_size}|{size}".encode()).hexdigest()[:8]
    path = cache / f"LCA_Disclosure_Data_FY2024_Q4_{size}_{tag}.{fmt}"
    if not path.exists():
        started = time.perf_counter()
        (write_csv if fmt == "csv" else write_xlsx)(path, lca_rows(filers, size, seed=size))
        print(f"generated {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s")
    return path


READ_CSV = """
import csv, sys
csv.field_size_limit(2**31 - 1)
n = 0
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for row in csv.reader(f):
        n += 1
print(n)
"""
READ_XLSX = """
import sys
from python_calamine import CalamineWorkbook
n = 0
for row in CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).iter_rows():
    n += 1
print(n)
"""
JOBAGG = "from crawler.cli import main; main()"


def measured(
    cmd: list[str], env: dict[str, str] | None = None, stdout: int | None = subprocess.DEVNULL
) -> tuple[float, float, bytes]:
    """Run a child; its wall seconds, its own peak RSS in MB (from wait4) and its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE if stdout == subprocess.PIPE else stdout, env=env)
    out = b""
    if stdout == subprocess.PIPE:
        out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return seconds, usage.ru_maxrss / 1024, out


def jobagg(db_url: str, *args: str, stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, bytes]:
    env = {**os.environ, "COLUMNS": "200"}
    return measured([sys.executable, "-c", JOBAGG, "--db", db_url, *args], env=env, stdout=stdout)


class Backend:
    def __init__(self, kind: str, work: Path) -> None:
        self.kind = kind
        self.work = work
        self.url = ""
        self.schema = ""

    def fresh(self, label: str) -> str:
        """A new, empty database at the latest migration; its URL."""
        from sqlalchemy import text

        from crawler import db as dbmod

        if self.kind == "sqlite":
            path = self.work / f"{label}.db"
            for p in self.work.glob(f"{label}.db*"):
                p.unlink()
            self.url = f"sqlite:///{path}"
        else:
            self.drop()
            self.schema = f"jobagg_bench_{uuid.uuid4().hex[:8]}"
            admin = dbmod.make_engine(PG_ADMIN)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.url = f"{PG_ADMIN}?options=-csearch_path%3D{self.schema}"
        # Migrated here, in a child: creating the schema is not part of loading a file.
        migrate = "import sys; from crawler import db; db.upgrade(db.make_engine(sys.argv[1]))"
        subprocess.run([sys.executable, "-c", migrate, self.url], check=True)
        return self.url

    def size_mb(self) -> float:
        from sqlalchemy import text

        from crawler import db as dbmod

        if self.kind == "sqlite":
            base = Path(self.url.removeprefix("sqlite:///"))
            return sum(p.stat().st_size for p in base.parent.glob(base.name + "*") if "match-index" not in p.name) / 1e6
        admin = dbmod.make_engine(PG_ADMIN)
        with admin.connect() as conn:
            size = conn.execute(
                text(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"
                ),
                {"s": self.schema},
            ).scalar()
        admin.dispose()
        return float(size or 0) / 1e6

    def drop(self) -> None:
        if self.kind != "postgresql" or not self.schema:
            return
        from sqlalchemy import text

        from crawler import db as dbmod

        admin = dbmod.make_engine(PG_ADMIN)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()
        self.schema = ""


LEGAL = re.compile(
    r"[,\s]+(INC\.?|INCORPORATED|LLC\.?|L\.L\.C\.?|CORP\.?|CORPORATION|LTD\.?|LLP|L\.P\.|LP|P\.C\.|CO\.?|COMPANY|PLLC)$",
    re.IGNORECASE,
)


def brand_form(name: str, rng: random.Random) -> str:
    """How a job board might show a filer: suffix dropped, case changed, &/and, a word dropped, acronym, d/b/a."""
    dba = re.split(r"\s+(?:D/B/A|DBA)\s+", name, flags=re.IGNORECASE)
    if len(dba) > 1 and rng.random() < 0.7:
        return dba[1].strip(" ,.").title()
    base = dba[0]
    roll = rng.random()
    if roll < 0.35:
        out = LEGAL.sub("", base).strip(" ,")
    elif roll < 0.5:
        out = re.sub(r"\bINC\b\.?", "Inc.", base, flags=re.IGNORECASE) if re.search(r"\bINC\b", base, re.I) else base
    elif roll < 0.62:
        out = base.replace("&", "and") if "&" in base else re.sub(r"\bAND\b", "&", base, flags=re.IGNORECASE)
    elif roll < 0.78:
        words = LEGAL.sub("", base).split()
        out = " ".join(words[:-1]) if len(words) > 2 else " ".join(words)
    elif roll < 0.86:
        words = [w for w in re.findall(r"[A-Za-z]+", LEGAL.sub("", base)) if len(w) > 2]
        out = "".join(w[0] for w in words).upper() if len(words) >= 3 else LEGAL.sub("", base)
    else:
        out = f"{LEGAL.sub('', base).strip(' ,')} d/b/a {LEGAL.sub('', base).split()[0].title()}"
    return out.title() if rng.random() < 0.7 else out


def make_queries(loaded: list[str], absent_pool: list[str], n: int, rng: random.Random) -> list[str]:
    """Half brand forms of loaded filers, half real filer names that are not in this load."""
    half = n // 2
    queries = [brand_form(rng.choice(loaded), rng) for _ in range(half)]
    queries += [brand_form(name, rng) for name in rng.sample(absent_pool, min(n - half, len(absent_pool)))]
    rng.shuffle(queries)
    return queries


def lookup(url: str, kind: str, filers: list[str], args: argparse.Namespace, size: int) -> dict[str, object]:
    """`jobagg employers match` on realistic names against this load, and brute force over the same names."""
    import numpy as np
    from rapidfuzz import fuzz, process, utils
    from sqlalchemy import text

    from crawler import db as dbmod

    engine = dbmod.make_engine(url)
    with engine.connect() as conn:
        loaded = [r[0] for r in conn.execute(text("SELECT DISTINCT employer_name FROM dol_cases ORDER BY 1"))]
        names = [r[0] for r in conn.execute(text("SELECT name FROM dol_entity_names ORDER BY id"))]
    engine.dispose()
    loaded_set = set(loaded)
    absent_pool = [f for f in filers if f not in loaded_set]
    queries = make_queries(loaded, absent_pool, args.queries, random.Random(5))
    qfile = args.cache / f"queries_{size}.txt"
    qfile.write_text("\n".join(queries) + "\n", encoding="utf-8")
    # The ingest saved the index; a forced rebuild shows what a cold start costs, the next call is the figure.
    cold_s, _, _ = jobagg(
        url, "employers", "match", "--json", "--rebuild-index", "--file", str(qfile), stdout=subprocess.PIPE
    )
    match_s, match_rss, out = jobagg(url, "employers", "match", "--json", "--file", str(qfile), stdout=subprocess.PIPE)
    # Brute force below runs on one core: so does the look-up it is compared with.
    one_s, _, one_out = jobagg(
        url, "employers", "match", "--json", "--jobs", "1", "--file", str(qfile), stdout=subprocess.PIPE
    )
    if one_out != out:
        raise SystemExit("employers match answered differently on one core than on several")
    answers = json.loads(out)
    matched = sum(1 for a in answers if a["outcome"] == "matched")
    sample = random.Random(11).sample(queries, min(args.brute_sample, len(queries)))
    started = time.perf_counter()
    process.cdist(
        sample, names, scorer=fuzz.token_set_ratio, processor=utils.default_process, workers=1, dtype=np.uint8
    )
    brute_sample_s = time.perf_counter() - started
    brute_s = brute_sample_s * len(queries) / len(sample)
    row = {
        "backend": kind,
        "queries": len(queries),
        "entity_names": len(names),
        "match_s": round(match_s, 2),
        "match_one_core_s": round(one_s, 2),
        "match_rss_mb": round(match_rss),
        "rebuild_index_s": round(cold_s, 2),
        "matched": matched,
        "brute_sample": len(sample),
        "brute_sample_s": round(brute_sample_s, 2),
        "brute_s": round(brute_s, 1),
        "speedup": round(brute_s / one_s),
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--filers", type=Path, required=True, help="real_filers.csv.gz (name column)")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--formats", default="csv,xlsx")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "jobagg-dol-scale")
    ap.add_argument("--queries", type=int, default=10_000, help="look-ups against the largest load (0: none)")
    ap.add_argument("--brute-sample", type=int, default=20)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each read and ingest; medians are compared")
    ap.add_argument("--repeat-max", type=int, default=200_000, help="sizes above this run once")
    ap.add_argument("--xlsx-max", type=int, default=0, help="only sizes up to this as xlsx (0: every size)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    formats = args.formats.split(",")
    backends = args.backends.split(",")
    args.cache.mkdir(parents=True, exist_ok=True)
    # The children's index cache stays with the benchmark's files, not in the user's own cache directory.
    os.environ.setdefault("JOBAGG_CACHE_DIR", str(args.cache / "index-cache"))
    work = args.cache / "db"
    work.mkdir(exist_ok=True)
    filers = read_filers(args.filers)
    print(f"{len(filers):,} real filer names")

    results: list[dict[str, object]] = []
    lookups: list[dict[str, object]] = []
    for size in sizes:
        for fmt in formats:
            if fmt == "xlsx" and args.xlsx_max and size > args.xlsx_max:
                continue
            path = generate(args.cache, args.filers, filers, size, fmt)
            read_cmd = [sys.executable, "-c", READ_CSV if fmt == "csv" else READ_XLSX, str(path)]
            reps = args.repeat if size <= args.repeat_max else 1
            for kind in backends:
                be = Backend(kind, work)
                # Each ingest beside a read of its own, so a slow spell on the machine weighs on both figures;
                # the medians of the runs are compared.
                reads: list[float] = []
                ingests: list[float] = []
                rss: list[float] = []
                for rep in range(reps):
                    if rep:
                        be.drop()
                    read_s, read_rss, _ = measured(read_cmd)
                    reads.append(read_s)
                    url = be.fresh(f"{kind}_{size}_{fmt}")
                    ingest_s, ingest_rss, _ = jobagg(url, "dol", "ingest", "--no-progress", str(path))
                    ingests.append(ingest_s)
                    rss.append(ingest_rss)
                again_s, _, _ = jobagg(url, "dol", "ingest", "--no-progress", str(path))
                read_s, ingest_s = statistics.median(reads), statistics.median(ingests)
                row = {
                    "size": size,
                    "format": fmt,
                    "backend": kind,
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "runs": reps,
                    "read_s": round(read_s, 2),
                    "read_runs": [round(x, 2) for x in reads],
                    "read_rss_mb": round(read_rss),
                    "ingest_s": round(ingest_s, 2),
                    "ingest_runs": [round(x, 2) for x in ingests],
                    "ratio": round(ingest_s / read_s, 2),
                    "rss_mb": round(max(rss)),
                    "db_mb": round(be.size_mb(), 1),
                    "reingest_s": round(again_s, 2),
                    "reingest_ratio": round(again_s / ingest_s, 3),
                    "url": url,
                }
                results.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "url"}), flush=True)
                if size == max(sizes) and fmt == formats[0] and args.queries:
                    lookups.append(lookup(url, kind, filers, args, size))
                be.drop()

    return report(results, lookups, sizes, args.json)


def report(
    results: list[dict[str, object]], lookups: list[dict[str, object]], sizes: list[int], out: Path | None
) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=180)
    misses: list[str] = []
    table = Table(title="DOL ingest at scale (LCA FY2020+ layout, 96 columns)")
    for col in (
        "rows",
        "format",
        "db",
        "file MB",
        "read s",
        "ingest s",
        "ingest/read",
        "peak RSS MB",
        "DB MB",
        "re-ingest s",
        "re-ingest/first",
    ):
        table.add_column(col, justify="left" if col in ("format", "db") else "right")
    for r in results:
        ok_ratio = float(r["ratio"]) <= 5  # type: ignore[arg-type]
        ok_re = float(r["reingest_ratio"]) <= 0.2  # type: ignore[arg-type]
        if not ok_ratio:
            misses.append(f"ingest/read {r['ratio']} > 5 ({r['size']} {r['format']} {r['backend']})")
        if not ok_re:
            misses.append(f"re-ingest {r['reingest_ratio']} > 0.2 ({r['size']} {r['format']} {r['backend']})")
        table.add_row(
            f"{r['size']:,}",
            str(r["format"]),
            str(r["backend"]),
            f"{r['file_mb']:.0f}",
            f"{r['read_s']:.1f}",
            f"{r['ingest_s']:.1f}",
            ("" if ok_ratio else "[red]") + f"{r['ratio']:.2f}",
            f"{r['rss_mb']:,}",
            f"{r['db_mb']:.0f}",
            f"{r['reingest_s']:.1f}",
            ("" if ok_re else "[red]") + f"{r['reingest_ratio']:.3f}",
        )
    console.print(table)
    if len(sizes) > 1:
        small, big = min(sizes), max(sizes)
        for fmt in {str(r["format"]) for r in results}:
            for kind in {str(r["backend"]) for r in results}:
                pick = {
                    int(r["size"]): int(r["rss_mb"]) for r in results if r["format"] == fmt and r["backend"] == kind
                }  # type: ignore[arg-type]
                if small in pick and big in pick:
                    grow = pick[big] - pick[small]
                    console.print(f"RSS growth {small:,} -> {big:,} rows ({fmt}, {kind}): {grow} MB (target <= 300)")
                    if grow > 300:
                        misses.append(f"RSS growth {grow} MB > 300 ({fmt} {kind})")
    for r in results:
        if int(r["size"]) >= 1_000_000 and int(r["rss_mb"]) > 1024:  # type: ignore[arg-type]
            misses.append(f"peak RSS {r['rss_mb']} MB > 1 GB ({r['size']} {r['format']} {r['backend']})")
    if lookups:
        lt = Table(title="employer look-ups against the largest load")
        for col in (
            "db",
            "queries",
            "entity names",
            "match s (end to end)",
            "on one core s",
            "index rebuild run s",
            "matched",
            "brute force s (extrapolated)",
            "speed-up",
        ):
            lt.add_column(col, justify="left" if col == "db" else "right")
        for m in lookups:
            ok_t = float(m["match_s"]) <= 3  # type: ignore[arg-type]
            ok_x = int(m["speedup"]) >= 500  # type: ignore[arg-type]
            if not ok_t:
                misses.append(f"match {m['match_s']} s > 3 s ({m['backend']})")
            if not ok_x:
                misses.append(f"speed-up {m['speedup']}x < 500x ({m['backend']})")
            lt.add_row(
                str(m["backend"]),
                f"{m['queries']:,}",
                f"{m['entity_names']:,}",
                ("" if ok_t else "[red]") + f"{m['match_s']:.2f}",
                f"{m['match_one_core_s']:.2f}",
                f"{m['rebuild_index_s']:.2f}",
                f"{m['matched']:,}",
                f"{m['brute_s']:.0f} ({m['brute_sample']} measured: {m['brute_sample_s']:.1f} s)",
                ("" if ok_x else "[red]") + f"{m['speedup']}x",
            )
        console.print(lt)
        console.print(
            "Brute force: rapidfuzz.process.cdist with token_set_ratio over every entity name, timed on a random "
            "sample of the queries on one core and extrapolated linearly; the speed-up compares it with the "
            "look-up on one core too (--jobs 1), including process start-up and loading its saved index (on "
            "PostgreSQL the server computes the index's fingerprint meanwhile). End to end, the look-up uses "
            "every core."
        )
    if out is not None:
        clean = [{k: v for k, v in r.items() if k not in ("url", "backend_obj")} for r in results]
        out.write_text(json.dumps({"ingest": clean, "lookups": lookups, "misses": misses}, indent=2))
    if misses:
        console.print("[red]missed: " + "; ".join(misses))
        return 1
    console.print("[green]all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
