"""Benchmark: a five-year history loaded the way an operator loads it, in one `jobagg dol ingest` of every file.

A useful history is PERM FY2020-25 plus LCA FY2023-25: by default six PERM files of 120,000 cases (FY2020-24 in
the FY2020-24 layout, FY2025 in the new form) and three LCA files of 600,000 cases (FY2020+ layout, 96 columns),
2.52 million cases in all, as xlsx workbooks (what DOL publishes; `--format csv` for CSV) with blank padding rows.
Employer names are real H-1B filer names (`--filers`, e.g. ../shared/data/real_filers.csv.gz) at Zipf-like repeat
counts; the same employers file year after year, and PERM filers are drawn from the same names as LCA filers.
Files are cached in `--cache` (writing 2.5 million rows of xlsx takes minutes).

For each backend (SQLite, PostgreSQL in a private schema) it reports: the ingest's seconds, its peak RSS (the
loader's, from wait4) and the database size; the nightly re-run over the same files (every file recognised by its
hash); and 10,000 employer look-ups end to end against the load. Targets: the whole history in minutes (<= 600 s),
peak RSS <= 1 GB (a 4 GB machine), the re-run <= 0.2 times the first load, look-ups <= 3 s. Exits non-zero on a
miss.

    python bench/dol_history.py --filers ../shared/data/real_filers.csv.gz
    python bench/dol_history.py --filers ... --perm-rows 20000 --lca-rows 50000 --format csv   # quick
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dol_scale import (  # the benchmark's own helpers, found beside it
    LAWFIRMS,
    Backend,
    FilerFacts,
    draw,
    jobagg,
    lca_rows,
    lookup,
    read_filers,
    write_csv,
    write_xlsx,
    zipf_picker,
)

GEN_VERSION = "2"
FACTS_SEED = 7
# The PERM FY2020-24 ("old form") record layout's columns, in file order.
PERM_2020_COLUMNS = (  # noqa: SIM905 - one readable block, as the record layout lists them
    "CASE_NUMBER DECISION_DATE CASE_STATUS RECEIVED_DATE REFILE ORIG_FILE_DATE PREVIOUS_SWA_CASE_NUMBER_STATE "
    "SCHD_A_SHEEPHERDER EMPLOYER_NAME EMPLOYER_ADDRESS_1 EMPLOYER_ADDRESS_2 EMPLOYER_CITY EMPLOYER_STATE_PROVINCE "
    "EMPLOYER_COUNTRY EMPLOYER_POSTAL_CODE EMPLOYER_PHONE EMPLOYER_PHONE_EXT EMPLOYER_NUM_PAYROLL "
    "EMPLOYER_YEAR_COMMENCED_BUSINESS EMPLOYER_FEIN NAICS_CODE FW_OWNERSHIP_INTEREST EMP_INFO_DECL_NAME "
    "EMP_CONTACT_NAME EMP_CONTACT_ADDRESS_1 EMP_CONTACT_ADDRESS_2 EMP_CONTACT_CITY EMP_CONTACT_STATE_PROVINCE "
    "EMP_CONTACT_COUNTRY EMP_CONTACT_POSTAL_CODE EMP_CONTACT_PHONE EMP_CONTACT_EMAIL AGENT_ATTORNEY_NAME "
    "AGENT_ATTORNEY_FIRM_NAME AGENT_ATTORNEY_PHONE AGENT_ATTORNEY_PHONE_EXT AGENT_ATTORNEY_ADDRESS_1 "
    "AGENT_ATTORNEY_ADDRESS_2 AGENT_ATTORNEY_CITY AGENT_ATTORNEY_STATE_PROVINCE AGENT_ATTORNEY_COUNTRY "
    "AGENT_ATTORNEY_POSTAL_CODE AGENT_ATTORNEY_EMAIL PW_TRACK_NUMBER PW_SOC_CODE PW_SOC_TITLE PW_SKILL_LEVEL "
    "PW_WAGE PW_UNIT_OF_PAY PW_WAGE_SOURCE PW_SOURCE_NAME_OTHER PW_DETERMINATION_DATE PW_EXPIRATION_DATE "
    "WAGE_OFFER_FROM WAGE_OFFER_TO WAGE_OFFER_UNIT_OF_PAY WORKSITE_ADDRESS_1 WORKSITE_ADDRESS_2 WORKSITE_CITY "
    "WORKSITE_STATE WORKSITE_POSTAL_CODE JOB_TITLE MINIMUM_EDUCATION MINIMUM_EDUCATION_OTHER MAJOR_FIELD_OF_STUDY "
    "REQUIRED_TRAINING REQUIRED_TRAINING_MONTHS REQUIRED_FIELD_OF_TRAINING REQUIRED_EXPERIENCE "
    "REQUIRED_EXPERIENCE_MONTHS ACCEPT_ALT_FIELD_OF_STUDY ACCEPT_ALT_MAJOR_FLD_OF_STUDY ACCEPT_ALT_COMBO "
    "ACCEPT_ALT_COMBO_EDUCATION ACCEPT_ALT_COMBO_EDUCATION_OTHER ACCEPT_ALT_COMBO_EDUCATION_YEARS "
    "ACCEPT_FOREIGN_EDUCATION ACCEPT_ALT_OCCUPATION ACCEPT_ALT_OCCUPATION_MONTHS ACCEPT_ALT_JOB_TITLE "
    "JOB_OPP_REQUIREMENTS_NORMAL FOREIGN_LANGUAGE_REQUIRED SPECIFIC_SKILLS COMBINATION_OCCUPATION "
    "OFFERED_TO_APPL_FOREIGN_WORKER FOREIGN_WORKER_LIVE_ON_PREMISES FOREIGN_WORKER_LIVE_IN_DOM_SER "
    "FOREIGN_WORKER_LIVE_IN_DOM_SVC_CNT PROFESSIONAL_OCCUPATION APP_FOR_COLLEGE_U_TEACHER "
    "COMPETITIVE_PROCESS BASIC_RECRUITMENT_PROCESS TEACHER_SELECT_DATE TEACHER_PUB_JOURNAL_NAME "
    "ADD_RECRUIT_INFORMATION SWA_JOB_ORDER_START_DATE SWA_JOB_ORDER_END_DATE SUNDAY_EDITION_NEWSPAPER "
    "FIRST_NEWSPAPER_NAME FIRST_ADVERTISEMENT_START_DATE SECOND_NEWSPAPER_AD_NAME SECOND_ADVERTISEMENT_TYPE "
    "SECOND_AD_START_DATE JOB_FAIR_FROM_DATE JOB_FAIR_TO_DATE ON_CAMPUS_RECRUITING_FROM_DATE "
    "ON_CAMPUS_RECRUITING_TO_DATE EMPLOYER_WEBSITE_FROM_DATE EMPLOYER_WEBSITE_TO_DATE PRO_ORG_ADVERT_FROM_DATE "
    "PRO_ORG_ADVERT_TO_DATE JOB_SEARCH_WEBSITE_FROM_DATE JOB_SEARCH_WEBSITE_TO_DATE PVT_EMPLOYMENT_FIRM_FROM_DATE "
    "PVT_EMPLOYMENT_FIRM_TO_DATE EMPLOYEE_REF_PROG_FROM_DATE EMPLOYEE_REF_PROG_TO_DATE CAMPUS_PLACEMENT_FROM_DATE "
    "CAMPUS_PLACEMENT_TO_DATE LOCAL_ETHNIC_PAPER_FROM_DATE LOCAL_ETHNIC_PAPER_TO_DATE RADIO_TV_AD_FROM_DATE "
    "RADIO_TV_AD_TO_DATE EMP_RECEIVED_PAYMENT PAYMENT_DETAILS BARGAINING_REP_NOTIFIED POSTED_NOTICE_AT_WORKSITE "
    "LAYOFF_IN_PAST_SIX_MONTHS US_WORKERS_CONSIDERED FOREIGN_WORKER_INFO_COUNTRY_OF_CITIZENSHIP "
    "FW_INFO_BIRTH_COUNTRY CLASS_OF_ADMISSION FOREIGN_WORKER_EDUCATION FOREIGN_WORKER_EDUCATION_OTHER "
    "FOREIGN_WORKER_INFO_MAJOR FOREIGN_WORKER_YRS_ED_COMP FOREIGN_WORKER_INST_OF_ED FOREIGN_WORKER_ED_INST_CITY "
    "FOREIGN_WORKER_ED_INST_STATE_PROVINCE FOREIGN_WORKER_ED_INST_COUNTRY FOREIGN_WORKER_TRAINING_COMP "
    "FOREIGN_WORKER_REQ_EXPERIENCE FOREIGN_WORKER_ALT_ED_EXP FOREIGN_WORKER_ALT_OCC_EXP FOREIGN_WORKER_EXP_WITH_EMPL "
    "FOREIGN_WORKER_EMPL_PAY_FOR_ED FOREIGN_WORKER_CURR_EMPLOYED PREPARER_NAME PREPARER_TITLE PREPARER_EMAIL "
    "EMP_INFO_TITLE EMP_INFO_SIGNATURE_DATE"
).split()
# The new form's (FY2024 New_Form, FY2025 on) columns this benchmark fills, in a plausible order.
PERM_NEW_COLUMNS = (  # noqa: SIM905
    "CASE_NUMBER CASE_STATUS RECEIVED_DATE DECISION_DATE OCCUPATION_TYPE EMP_BUSINESS_NAME EMP_TRADE_NAME "
    "EMP_ADDR1 EMP_ADDR2 EMP_CITY EMP_STATE EMP_POSTCODE EMP_COUNTRY EMP_PROVINCE EMP_PHONE EMP_PHONEEXT EMP_FEIN "
    "EMP_NAICS EMP_NUM_PAYROLL EMP_YEAR_COMMENCED EMP_WORKER_INTEREST EMP_RELATIONSHIP_WORKER EMP_POC_LAST_NAME "
    "EMP_POC_FIRST_NAME EMP_POC_MIDDLE_NAME EMP_POC_JOB_TITLE EMP_POC_ADDR1 EMP_POC_ADDR2 EMP_POC_CITY "
    "EMP_POC_STATE EMP_POC_POSTAL_CODE EMP_POC_COUNTRY EMP_POC_PROVINCE EMP_POC_PHONE EMP_POC_PHONEEXT "
    "EMP_POC_EMAIL ATTY_AG_REP_TYPE ATTY_AG_LAST_NAME ATTY_AG_FIRST_NAME ATTY_AG_MIDDLE_NAME ATTY_AG_ADDRESS1 "
    "ATTY_AG_ADDRESS2 ATTY_AG_CITY ATTY_AG_STATE ATTY_AG_POSTAL_CODE ATTY_AG_COUNTRY ATTY_AG_PROVINCE "
    "ATTY_AG_PHONE ATTY_AG_PHONE_EXT ATTY_AG_EMAIL ATTY_AG_LAW_FIRM_NAME ATTY_AG_FEIN ATTY_AG_STATE_BAR_NUMBER "
    "ATTY_AG_GOOD_STANDING_STATE ATTY_AG_GOOD_STANDING_COURT JOB_TITLE PWD_SOC_CODE PWD_SOC_TITLE "
    "JOB_OPP_PWD_NUMBER JOB_OPP_WAGE_FROM JOB_OPP_WAGE_TO JOB_OPP_WAGE_PER JOB_OPP_WAGE_CONDITIONS "
    "PRIMARY_WORKSITE_TYPE PRIMARY_WORKSITE_ADDR1 PRIMARY_WORKSITE_ADDR2 PRIMARY_WORKSITE_CITY "
    "PRIMARY_WORKSITE_COUNTY PRIMARY_WORKSITE_STATE PRIMARY_WORKSITE_POSTAL_CODE PRIMARY_WORKSITE_BLS_AREA "
    "IS_MULTIPLE_LOCATIONS OTHER_REQ_IS_FULLTIME_EMP OTHER_REQ_IS_LIVEIN_HOUSEHOLD OTHER_REQ_IS_PAID_EXPERIENCE "
    "OTHER_REQ_EMP_RECEIVED_PAYMENT OTHER_REQ_IS_EMP_PROVIDE_NOTICE OTHER_REQ_EMP_LAYOFF "
    "OTHER_REQ_IS_FW_CURRENTLY_WRK OTHER_REQ_IS_FW_QUALIFIED OTHER_REQ_JOB_EMP_PREMISES "
    "OTHER_REQ_IS_EMP_OWNERSHIP_INT FW_COUNTRY_CITIZENSHIP FW_BIRTH_COUNTRY FW_CLASS_OF_ADMISSION "
    "FW_EDUCATION FW_EDUCATION_MAJOR FW_INST_OF_ED FW_ED_INST_COUNTRY DECLARATION_ATTY_AG_DATE "
    "DECLARATION_PREPARER_DATE DECLARATION_EMP_DATE"
).split()
PERM_STATUSES = ["Certified"] * 80 + ["Certified-Expired"] * 8 + ["Withdrawn"] * 7 + ["Denied"] * 5
PERM_LEVELS = ["Level I"] * 2 + ["Level II"] * 5 + ["Level III"] * 3 + ["Level IV"] * 2
EDUCATION = ["Master's", "Master's", "Bachelor's", "Bachelor's", "Doctorate", "Other"]
COUNTRIES = ["INDIA", "INDIA", "INDIA", "CHINA", "CHINA", "SOUTH KOREA", "CANADA", "BRAZIL", "NIGERIA", "MEXICO"]
ADMISSION = ["H-1B", "H-1B", "H-1B", "H-1B", "L-1", "F-1", "Not in USA", "E-2", "O-1"]
MAJORS = ["COMPUTER SCIENCE", "ELECTRICAL ENGINEERING", "STATISTICS", "DATA SCIENCE", "MATHEMATICS", "PHYSICS"]


def perm_rows(
    filers: list[str], n: int, seed: int, fy: int, new_form: bool, serial_base: int = 0
) -> Iterator[list[str]]:
    """n PERM cases decided in fiscal year `fy`, in the FY2020-24 layout or the new form; about one row in
    twenty is blank padding, as in DOL workbooks. Case numbers are unique across files with distinct
    `serial_base`s."""
    rng = random.Random(seed)
    # Green-card filers are a narrower crowd than LCA filers: the heavy head of the same names.
    pick = zipf_picker(len(filers) // 4, rng, s=1.05)
    facts = FilerFacts(FACTS_SEED)  # an employer keeps its FEIN, address and state across years and kinds
    cols = PERM_NEW_COLUMNS if new_form else PERM_2020_COLUMNS
    width = len(cols)
    at = {c: i for i, c in enumerate(cols)}
    for k in range(n):
        d = draw(rng, pick, facts, fy)
        i = d.filer
        fein, addr1, addr2, city, state, _county, postal, phone, poc_f, poc_l, poc_t, firm, naics = d.facts
        title, soc, soc_title = d.job
        wc, ws, wcounty, wzip = d.site
        month, day, year = d.month, d.day, d.year
        decided = f"{year}-{month:02d}-{day:02d}"
        # PERM takes a year and a half or so from filing to decision.
        received = f"{year - 1 - (month < 6)}-{(month + 5) % 12 + 1:02d}-{day:02d}"
        wage = rng.randint(70, 280) * 1000
        status = PERM_STATUSES[rng.randrange(len(PERM_STATUSES))]
        pwd = f"P-100-{year - 2001}{rng.randint(100, 365):03d}-{rng.randint(0, 999999):06d}"  # its wage determination
        row = [""] * width
        values = {
            "CASE_NUMBER": f"G-100-{year - 2000}{rng.randint(100, 365):03d}-{serial_base + k:06d}",
            "CASE_STATUS": status,
            "RECEIVED_DATE": received,
            "DECISION_DATE": decided,
            "JOB_TITLE": title,
        }
        if new_form:
            values.update(
                {
                    "OCCUPATION_TYPE": "Professional",
                    "EMP_BUSINESS_NAME": filers[i],
                    "EMP_ADDR1": addr1,
                    "EMP_ADDR2": addr2,
                    "EMP_CITY": city,
                    "EMP_STATE": state,
                    "EMP_POSTCODE": postal,
                    "EMP_COUNTRY": "UNITED STATES OF AMERICA",
                    "EMP_PHONE": phone,
                    "EMP_FEIN": fein,
                    "EMP_NAICS": naics,
                    "EMP_NUM_PAYROLL": str(rng.choice([12, 85, 420, 3100, 25000, 160000])),
                    "EMP_YEAR_COMMENCED": str(rng.randint(1950, 2020)),
                    "EMP_WORKER_INTEREST": "No",
                    "EMP_POC_LAST_NAME": poc_l,
                    "EMP_POC_FIRST_NAME": poc_f,
                    "EMP_POC_JOB_TITLE": poc_t,
                    "EMP_POC_EMAIL": f"{poc_f[0]}{poc_l}@EXAMPLE.COM".lower(),
                    "ATTY_AG_REP_TYPE": "Attorney" if firm else "",
                    "ATTY_AG_LAW_FIRM_NAME": firm,
                    "PWD_SOC_CODE": soc,
                    "PWD_SOC_TITLE": soc_title,
                    "JOB_OPP_PWD_NUMBER": pwd,
                    "JOB_OPP_WAGE_FROM": f"{wage}.00",
                    "JOB_OPP_WAGE_TO": f"{wage + 30000}.00" if rng.random() < 0.4 else "",
                    "JOB_OPP_WAGE_PER": "Year",
                    "PRIMARY_WORKSITE_TYPE": "Business premises",
                    "PRIMARY_WORKSITE_ADDR1": f"{rng.randint(1, 9999)} CAMPUS DRIVE",
                    "PRIMARY_WORKSITE_CITY": wc,
                    "PRIMARY_WORKSITE_COUNTY": wcounty,
                    "PRIMARY_WORKSITE_STATE": ws,
                    "PRIMARY_WORKSITE_POSTAL_CODE": f"{wzip}{rng.randint(10, 99)}",
                    "IS_MULTIPLE_LOCATIONS": rng.choice(["Yes", "No", "No"]),
                    "FW_COUNTRY_CITIZENSHIP": rng.choice(COUNTRIES),
                    "FW_CLASS_OF_ADMISSION": rng.choice(ADMISSION),
                    "FW_EDUCATION": rng.choice(EDUCATION),
                    "FW_EDUCATION_MAJOR": rng.choice(MAJORS),
                    "DECLARATION_EMP_DATE": received,
                }
            )
        else:
            values.update(
                {
                    "REFILE": "N",
                    "SCHD_A_SHEEPHERDER": "N",
                    "EMPLOYER_NAME": filers[i],
                    "EMPLOYER_ADDRESS_1": addr1,
                    "EMPLOYER_ADDRESS_2": addr2,
                    "EMPLOYER_CITY": city,
                    "EMPLOYER_STATE_PROVINCE": state,
                    "EMPLOYER_COUNTRY": "UNITED STATES OF AMERICA",
                    "EMPLOYER_POSTAL_CODE": postal,
                    "EMPLOYER_PHONE": phone,
                    "EMPLOYER_NUM_PAYROLL": str(rng.choice([12, 85, 420, 3100, 25000, 160000])),
                    "EMPLOYER_YEAR_COMMENCED_BUSINESS": str(rng.randint(1950, 2020)),
                    # The FY2023 file was published without the FEIN column's values.
                    "EMPLOYER_FEIN": "" if fy == 2023 else fein,
                    "NAICS_CODE": naics,
                    "FW_OWNERSHIP_INTEREST": "N",
                    "EMP_CONTACT_NAME": f"{poc_l}, {poc_f}",
                    "EMP_CONTACT_EMAIL": f"{poc_f[0]}{poc_l}@EXAMPLE.COM".lower(),
                    "AGENT_ATTORNEY_FIRM_NAME": firm,
                    "PW_TRACK_NUMBER": pwd,
                    "PW_SOC_CODE": soc,
                    "PW_SOC_TITLE": soc_title,
                    "PW_SKILL_LEVEL": PERM_LEVELS[rng.randrange(len(PERM_LEVELS))],
                    "PW_WAGE": f"{wage - 8000}.00",
                    "PW_UNIT_OF_PAY": "Year",
                    "PW_WAGE_SOURCE": "OES",
                    "WAGE_OFFER_FROM": f"{wage}.00",
                    "WAGE_OFFER_TO": f"{wage + 30000}.00" if rng.random() < 0.4 else "",
                    "WAGE_OFFER_UNIT_OF_PAY": "Year",
                    "WORKSITE_ADDRESS_1": f"{rng.randint(1, 9999)} CAMPUS DRIVE",
                    "WORKSITE_CITY": wc,
                    "WORKSITE_STATE": ws,
                    "WORKSITE_POSTAL_CODE": f"{wzip}{rng.randint(10, 99)}",
                    "MINIMUM_EDUCATION": rng.choice(EDUCATION),
                    "MAJOR_FIELD_OF_STUDY": rng.choice(MAJORS),
                    "REQUIRED_EXPERIENCE": "Y",
                    "REQUIRED_EXPERIENCE_MONTHS": str(rng.choice([0, 12, 24, 36, 60])),
                    "ACCEPT_ALT_FIELD_OF_STUDY": "Y",
                    "ACCEPT_FOREIGN_EDUCATION": "Y",
                    "PROFESSIONAL_OCCUPATION": "Y",
                    "FIRST_NEWSPAPER_NAME": "THE SUNDAY TIMES",
                    "FIRST_ADVERTISEMENT_START_DATE": received,
                    "EMPLOYER_WEBSITE_FROM_DATE": received,
                    "JOB_SEARCH_WEBSITE_FROM_DATE": received,
                    "POSTED_NOTICE_AT_WORKSITE": "Y",
                    "LAYOFF_IN_PAST_SIX_MONTHS": "N",
                    "FOREIGN_WORKER_INFO_COUNTRY_OF_CITIZENSHIP": rng.choice(COUNTRIES),
                    "CLASS_OF_ADMISSION": rng.choice(ADMISSION),
                    "FOREIGN_WORKER_EDUCATION": rng.choice(EDUCATION),
                    "FOREIGN_WORKER_INFO_MAJOR": rng.choice(MAJORS),
                    "PREPARER_NAME": rng.choice(LAWFIRMS) or f"{poc_l}, {poc_f}",
                    "EMP_INFO_TITLE": poc_t,
                    "EMP_INFO_SIGNATURE_DATE": received,
                }
            )
        for col, value in values.items():
            row[at[col]] = value
        yield row
        if k % 20 == 19:
            yield [""] * width


def history_files(
    cache: Path, filers_path: Path, filers: list[str], args: argparse.Namespace
) -> list[tuple[Path, int, str]]:
    """The history's files as DOL names them (generated once, then cached): (path, cases, kind)."""
    plan: list[tuple[str, int, str, int, bool]] = []
    for fy in args.perm_years:
        new_form = fy >= 2025
        name = f"PERM_Disclosure_Data{'_New_Form' if new_form else ''}_FY{fy}_Q4"
        plan.append((name, args.perm_rows, "perm", fy, new_form))
    for fy in args.lca_years:
        plan.append((f"LCA_Disclosure_Data_FY{fy}_Q4", args.lca_rows, "lca", fy, False))
    out = []
    for name, rows, kind, fy, new_form in plan:
        tag = hashlib.sha256(f"{GEN_VERSION}|{filers_path.stat().st_size}|{rows}|{kind}|{fy}".encode()).hexdigest()
        path = cache / f"{name}_{rows}_{tag[:8]}.{args.format}"
        if not path.exists():
            started = time.perf_counter()
            seed = fy * 31 + (1 if kind == "perm" else 2)
            if kind == "perm":
                header = PERM_NEW_COLUMNS if new_form else PERM_2020_COLUMNS
                gen = perm_rows(filers, rows, seed, fy, new_form, serial_base=(fy - 2000) * rows)
            else:
                from dol_scale import LCA_COLUMNS

                base = (fy - 2000) * rows
                header, gen = LCA_COLUMNS, lca_rows(filers, rows, seed, fy, FACTS_SEED, serial_base=base)
            (write_csv if args.format == "csv" else write_xlsx)(path, gen, header)
            print(f"generated {path.name}: {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.0f} s")
        out.append((path, rows, kind))
    return out


def _years(text: str) -> list[int]:
    """`jobagg dol download --fy`'s spelling of fiscal years, for argparse (which reports a ValueError)."""
    from matching.download import DownloadError, parse_years

    try:
        return parse_years(text)
    except DownloadError as exc:
        raise ValueError(str(exc)) from None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--filers", type=Path, required=True, help="real_filers.csv.gz (name column)")
    ap.add_argument("--perm-years", type=_years, default=_years("2020-2025"))
    ap.add_argument("--lca-years", type=_years, default=_years("2023-2025"))
    ap.add_argument("--perm-rows", type=int, default=120_000, help="cases per PERM file")
    ap.add_argument("--lca-rows", type=int, default=600_000, help="cases per LCA file")
    ap.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "jobagg-dol-history")
    ap.add_argument("--queries", type=int, default=10_000, help="look-ups against the load (0: none)")
    ap.add_argument("--brute-sample", type=int, default=20)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("JOBAGG_CACHE_DIR", str(args.cache / "index-cache"))
    work = args.cache / "db"
    work.mkdir(exist_ok=True)
    filers = read_filers(args.filers)
    files = history_files(args.cache, args.filers, filers, args)
    cases = sum(n for _, n, _ in files)
    file_mb = sum(p.stat().st_size for p, _, _ in files) / 1e6
    print(f"{len(files)} files, {cases:,} cases, {file_mb:,.0f} MB ({args.format})", flush=True)
    paths = [str(p) for p, _, _ in files]

    results: list[dict[str, object]] = []
    for kind in args.backends.split(","):
        be = Backend(kind, work)
        url = be.fresh(f"history_{kind}")
        ingest_s, rss, _ = jobagg(url, "dol", "ingest", "--no-progress", *paths)
        again_s, _, _ = jobagg(url, "dol", "ingest", "--no-progress", *paths)
        row: dict[str, object] = {
            "backend": kind,
            "files": len(files),
            "cases": cases,
            "file_mb": round(file_mb),
            "format": args.format,
            "ingest_s": round(ingest_s, 1),
            "rss_mb": round(rss),
            "db_mb": round(be.size_mb()),
            "rerun_s": round(again_s, 2),
            "rerun_ratio": round(again_s / ingest_s, 3),
        }
        print(json.dumps(row), flush=True)
        if args.queries:
            found = lookup(url, kind, filers, args, cases)
            row.update(match_s=found["match_s"], matched=found["matched"], entity_names=found["entity_names"])
        results.append(row)
        be.drop()
    return report(results, args.json)


def report(results: list[dict[str, object]], out: Path | None) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    misses: list[str] = []
    table = Table(title="A five-year history in one `jobagg dol ingest` (PERM FY2020-25, LCA FY2023-25)")
    cols = ("db", "files", "cases", "input MB", "ingest s", "peak RSS MB", "DB MB", "re-run s", "re-run/first")
    for col in (*cols, "10k look-ups s", "entity names"):
        table.add_column(col, justify="left" if col == "db" else "right")
    for r in results:
        checks = {
            f"ingest {r['ingest_s']} s > 600 s": float(r["ingest_s"]) <= 600,  # type: ignore[arg-type]
            f"peak RSS {r['rss_mb']} MB > 1 GB": int(r["rss_mb"]) <= 1024,  # type: ignore[arg-type]
            f"re-run {r['rerun_ratio']} > 0.2 of the first load": float(r["rerun_ratio"]) <= 0.2,  # type: ignore[arg-type]
        }
        if "match_s" in r:
            checks[f"10k look-ups {r['match_s']} s > 3 s"] = float(r["match_s"]) <= 3  # type: ignore[arg-type]
        misses += [f"{what} ({r['backend']})" for what, ok in checks.items() if not ok]
        table.add_row(
            str(r["backend"]),
            str(r["files"]),
            f"{r['cases']:,}",
            f"{r['file_mb']:,}",
            f"{r['ingest_s']:.0f}",
            f"{r['rss_mb']:,}",
            f"{r['db_mb']:,}",
            f"{r['rerun_s']:.1f}",
            f"{r['rerun_ratio']:.3f}",
            f"{r['match_s']:.2f}" if "match_s" in r else "-",
            f"{r['entity_names']:,}" if "entity_names" in r else "-",
        )
    console.print(table)
    if out is not None:
        out.write_text(json.dumps({"results": results, "misses": misses}, indent=1), encoding="utf-8")
    if misses:
        console.print("[red]targets missed:[/red] " + "; ".join(misses))
        return 1
    console.print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
