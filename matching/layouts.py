"""The published layouts of PERM, LCA and USCIS hub files, and how to tell them apart from the header alone."""

from __future__ import annotations

from dataclasses import dataclass, field

from matching.readers import IngestError


@dataclass(frozen=True)
class Layout:
    """One layout family: `columns` maps our field to the header names it has gone by (first present wins)."""

    name: str
    kind: str  # perm | lca | uscis
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    # USCIS FY2024+: our count = sum of several published columns.
    sums: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def resolve(self, header: list[str], filename: str) -> dict[str, int]:
        """Field -> column index; raises naming the file and every missing required column."""
        index = {h: i for i, h in reversed(list(enumerate(header))) if h}
        found: dict[str, int] = {}
        for name, candidates in self.columns.items():
            for cand in candidates:
                if cand in index:
                    found[name] = index[cand]
                    break
        missing = [" or ".join(self.columns[r]) for r in self.required if r not in found]
        if missing:
            raise IngestError(
                f"{filename}: looks like a {self.name} file but lacks required column(s): {', '.join(missing)}"
            )
        return found


_COMMON_CASE = {"case_number": ("CASE_NUMBER", "CASE_NO"), "status": ("CASE_STATUS",)}
_CASE_REQUIRED = ("case_number", "status", "employer_name", "decision_date")

PERM_2008 = Layout(
    "PERM FY2008-14",
    "perm",
    {
        **_COMMON_CASE,
        "decision_date": ("DECISION_DATE",),
        "employer_name": ("EMPLOYER_NAME",),
        "city": ("EMPLOYER_CITY",),
        "state": ("EMPLOYER_STATE",),
        "naics": ("2007_NAICS_US_CODE", "NAICS_US_CODE"),
        "job_title": ("PW_JOB_TITLE_9089", "JOB_INFO_JOB_TITLE"),
        "soc_code": ("PW_SOC_CODE",),
        "soc_title": ("PW_SOC_TITLE",),
        "wage_level": ("PW_LEVEL_9089", "PW_LEVEL"),
        "wage_from": ("WAGE_OFFER_FROM_9089", "WAGE_OFFERED_FROM_9089"),
        "wage_to": ("WAGE_OFFER_TO_9089", "WAGE_OFFERED_TO_9089"),
        "wage_unit": ("WAGE_OFFER_UNIT_OF_PAY_9089", "WAGE_OFFERED_UNIT_OF_PAY_9089"),
    },
    _CASE_REQUIRED,
)
PERM_2015 = Layout(
    "PERM FY2015-19",
    "perm",
    {
        "case_number": ("CASE_NUMBER",),
        "status": ("CASE_STATUS",),
        "received_date": ("CASE_RECEIVED_DATE",),
        "decision_date": ("DECISION_DATE",),
        "employer_name": ("EMPLOYER_NAME",),
        "city": ("EMPLOYER_CITY",),
        "state": ("EMPLOYER_STATE",),
        "naics": ("NAICS_US_CODE", "NAICS_CODE"),
        "job_title": ("JOB_INFO_JOB_TITLE", "PW_JOB_TITLE_9089"),
        "soc_code": ("PW_SOC_CODE",),
        "soc_title": ("PW_SOC_TITLE",),
        "wage_level": ("PW_LEVEL_9089", "PW_LEVEL"),
        "wage_from": ("WAGE_OFFER_FROM_9089",),
        "wage_to": ("WAGE_OFFER_TO_9089",),
        "wage_unit": ("WAGE_OFFER_UNIT_OF_PAY_9089",),
    },
    _CASE_REQUIRED,
)
PERM_2020 = Layout(
    "PERM FY2020-24",
    "perm",
    {
        "case_number": ("CASE_NUMBER",),
        "status": ("CASE_STATUS",),
        "received_date": ("RECEIVED_DATE",),
        "decision_date": ("DECISION_DATE",),
        "employer_name": ("EMPLOYER_NAME",),
        "fein": ("EMPLOYER_FEIN",),
        "city": ("EMPLOYER_CITY",),
        "state": ("EMPLOYER_STATE_PROVINCE",),
        "naics": ("NAICS_CODE",),
        "job_title": ("JOB_TITLE",),
        "soc_code": ("PW_SOC_CODE",),
        "soc_title": ("PW_SOC_TITLE",),
        "wage_level": ("PW_SKILL_LEVEL",),
        "wage_from": ("WAGE_OFFER_FROM",),
        "wage_to": ("WAGE_OFFER_TO",),
        "wage_unit": ("WAGE_OFFER_UNIT_OF_PAY",),
    },
    _CASE_REQUIRED,
)
PERM_NEW = Layout(
    "PERM new form",
    "perm",
    {
        "case_number": ("CASE_NUMBER",),
        "status": ("CASE_STATUS",),
        "received_date": ("RECEIVED_DATE",),
        "decision_date": ("DECISION_DATE",),
        "employer_name": ("EMP_BUSINESS_NAME",),
        "trade_name": ("EMP_TRADE_NAME",),
        "fein": ("EMP_FEIN",),
        "city": ("EMP_CITY",),
        "state": ("EMP_STATE",),
        "naics": ("EMP_NAICS",),
        "job_title": ("JOB_TITLE",),
        "soc_code": ("PWD_SOC_CODE", "PW_SOC_CODE"),
        "soc_title": ("PWD_SOC_TITLE", "PW_SOC_TITLE"),
        "wage_from": ("JOB_OPP_WAGE_FROM",),
        "wage_to": ("JOB_OPP_WAGE_TO",),
        "wage_unit": ("JOB_OPP_WAGE_PER",),
    },
    _CASE_REQUIRED,
)
LCA_2020 = Layout(
    "LCA FY2020+",
    "lca",
    {
        "case_number": ("CASE_NUMBER",),
        "status": ("CASE_STATUS",),
        "received_date": ("RECEIVED_DATE",),
        "decision_date": ("DECISION_DATE",),
        "visa_class": ("VISA_CLASS",),
        "employer_name": ("EMPLOYER_NAME",),
        "trade_name": ("TRADE_NAME_DBA",),
        "fein": ("EMPLOYER_FEIN",),
        "city": ("EMPLOYER_CITY",),
        "state": ("EMPLOYER_STATE",),
        "naics": ("NAICS_CODE",),
        "job_title": ("JOB_TITLE",),
        "soc_code": ("SOC_CODE",),
        "soc_title": ("SOC_TITLE",),
        "wage_level": ("PW_WAGE_LEVEL",),
        "wage_from": ("WAGE_RATE_OF_PAY_FROM",),
        "wage_to": ("WAGE_RATE_OF_PAY_TO",),
        "wage_unit": ("WAGE_UNIT_OF_PAY",),
        "secondary_entity": ("SECONDARY_ENTITY",),
        "secondary_entity_name": ("SECONDARY_ENTITY_BUSINESS_NAME",),
    },
    (*_CASE_REQUIRED, "visa_class"),
)
LCA_2015 = Layout(
    "LCA FY2015-19",
    "lca",
    {
        "case_number": ("CASE_NUMBER",),
        "status": ("CASE_STATUS",),
        "received_date": ("CASE_SUBMITTED",),
        "decision_date": ("DECISION_DATE",),
        "visa_class": ("VISA_CLASS",),
        "employer_name": ("EMPLOYER_NAME",),
        "trade_name": ("EMPLOYER_BUSINESS_DBA", "TRADE_NAME_DBA"),
        "fein": ("EMPLOYER_FEIN",),
        "city": ("EMPLOYER_CITY",),
        "state": ("EMPLOYER_STATE",),
        "naics": ("NAICS_CODE",),
        "job_title": ("JOB_TITLE",),
        "soc_code": ("SOC_CODE",),
        "soc_title": ("SOC_NAME", "SOC_TITLE"),
        "wage_level": ("PW_WAGE_LEVEL", "PW_WAGE_LEVEL_1"),
        "wage_from": ("WAGE_RATE_OF_PAY_FROM", "WAGE_RATE_OF_PAY", "WAGE_RATE_OF_PAY_FROM_1"),
        "wage_to": ("WAGE_RATE_OF_PAY_TO", "WAGE_RATE_OF_PAY_TO_1"),
        "wage_unit": ("WAGE_UNIT_OF_PAY", "WAGE_UNIT_OF_PAY_1"),
        "secondary_entity": ("SECONDARY_ENTITY", "SECONDARY_ENTITY_1"),
        "secondary_entity_name": ("SECONDARY_ENTITY_BUSINESS_NAME", "SECONDARY_ENTITY_BUSINESS_NAME_1"),
    },
    (*_CASE_REQUIRED, "visa_class"),
)
USCIS_2009 = Layout(
    "USCIS hub FY2009-23",
    "uscis",
    {
        "fiscal_year": ("FISCAL_YEAR",),
        "employer_name": ("EMPLOYER",),
        "initial_approval": ("INITIAL_APPROVAL", "INITIAL_APPROVALS"),
        "initial_denial": ("INITIAL_DENIAL", "INITIAL_DENIALS"),
        "continuing_approval": ("CONTINUING_APPROVAL", "CONTINUING_APPROVALS"),
        "continuing_denial": ("CONTINUING_DENIAL", "CONTINUING_DENIALS"),
        "naics": ("NAICS",),
        "tax_id": ("TAX_ID",),
        "state": ("STATE",),
        "city": ("CITY",),
        "zip": ("ZIP",),
    },
    ("fiscal_year", "employer_name", "initial_approval", "continuing_approval"),
)
_USCIS_2024_PARTS = {
    "initial_approval": ("NEW_EMPLOYMENT_APPROVAL", "NEW_CONCURRENT_APPROVAL"),
    "initial_denial": ("NEW_EMPLOYMENT_DENIAL", "NEW_CONCURRENT_DENIAL"),
    "continuing_approval": (
        "CONTINUATION_APPROVAL",
        "CHANGE_WITH_SAME_EMPLOYER_APPROVAL",
        "CHANGE_OF_EMPLOYER_APPROVAL",
        "AMENDED_APPROVAL",
    ),
    "continuing_denial": (
        "CONTINUATION_DENIAL",
        "CHANGE_WITH_SAME_EMPLOYER_DENIAL",
        "CHANGE_OF_EMPLOYER_DENIAL",
        "AMENDED_DENIAL",
    ),
}
USCIS_2024 = Layout(
    "USCIS hub FY2024+",
    "uscis",
    {
        "fiscal_year": ("FISCAL_YEAR",),
        "employer_name": ("EMPLOYER_PETITIONER_NAME",),
        "tax_id": ("TAX_ID",),
        "naics": ("INDUSTRY_NAICS_CODE",),
        "city": ("PETITIONER_CITY",),
        "state": ("PETITIONER_STATE",),
        "zip": ("PETITIONER_ZIP_CODE",),
        **{part: (part,) for parts in _USCIS_2024_PARTS.values() for part in parts},
    },
    ("fiscal_year", "employer_name", "NEW_EMPLOYMENT_APPROVAL", "CONTINUATION_APPROVAL"),
    sums=_USCIS_2024_PARTS,
)

ALL_LAYOUTS = (PERM_NEW, PERM_2020, PERM_2015, PERM_2008, LCA_2020, LCA_2015, USCIS_2024, USCIS_2009)


def detect_layout(header: list[str], filename: str) -> Layout:
    """Choose the layout from the header (never the file name), in the order the reference gives."""
    cols = set(header)
    if "FISCAL_YEAR" in cols and "EMPLOYER_PETITIONER_NAME" in cols:
        return USCIS_2024
    if "FISCAL_YEAR" in cols and "EMPLOYER" in cols:
        return USCIS_2009
    if "VISA_CLASS" in cols or "CASE_SUBMITTED" in cols:
        return LCA_2015 if "CASE_SUBMITTED" in cols else LCA_2020
    if "EMP_BUSINESS_NAME" in cols:
        return PERM_NEW
    if "EMPLOYER_STATE_PROVINCE" in cols:
        return PERM_2020
    if "CASE_RECEIVED_DATE" in cols:
        return PERM_2015
    if ("CASE_NUMBER" in cols or "CASE_NO" in cols) and "EMPLOYER_NAME" in cols:
        return PERM_2008
    shown = [h for h in header if h][:25]
    more = f" (+{len(header) - 25} more)" if len(header) > 25 else ""
    raise IngestError(
        f"{filename}: unknown layout: not a PERM, LCA or USCIS hub header. Columns: {', '.join(shown)}{more}"
    )
