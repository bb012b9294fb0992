"""Writes the bundled offline boards of the non-Greenhouse families (Lever, Ashby, Workday, SmartRecruiters and
a JSON-LD career site) in each platform's real shape, in the layout crawler/offline/server.py documents.

Run `python tools/build_corpus_families.py` after editing the postings below; the output is committed.
"""

# ruff: noqa: E501  -- posting tables read best one row per line; wrapping them would hide the columns.

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

# The bundled corpus this script writes.
HERE = Path(__file__).resolve().parent.parent / "crawler" / "offline" / "corpus"

OFFER = "We sponsor H-1B visas and green cards for this role, and H-1B transfers are welcome."
REFUSE = "We are unable to sponsor or take over sponsorship of an employment visa at this time."
AUTHORIZED = "Candidates must be authorized to work in the United States without visa sponsorship."

# employer, ats, board, board_url
BOARDS = [
    ("Vector Freight", "lever", "vectorfreight", "https://jobs.lever.co/vectorfreight"),
    ("Orbital Bio", "ashby", "orbitalbio", "https://jobs.ashbyhq.com/orbitalbio"),
    ("Northwind Energy", "workday", "northwind.wd1/NorthwindCareers", "https://northwind.wd1.myworkdayjobs.com/NorthwindCareers"),
    ("Helix Payments", "smartrecruiters", "helixpayments", "https://jobs.smartrecruiters.com/HelixPayments"),
    ("Pylon Search", "jsonld", "careers.pylonsearch.example", "https://careers.pylonsearch.example/pylon/jobs/"),
]  # fmt: skip


def ad(about: str, role: str, pay: str, degree: str, visa: str) -> str:
    """An ad's HTML: about, the role, requirements with the degree, pay, and what it says about visas."""
    return (
        f"<p><strong>About us</strong></p><p>{html.escape(about)}</p><p><strong>The role</strong></p>"
        f"<p>{html.escape(role)}</p><p><strong>What you bring</strong></p><ul><li>{html.escape(degree)}</li>"
        "<li>Production experience with PyTorch or JAX</li></ul>"
        f"<p>The base salary range for this role is {html.escape(pay)}.</p>" + (f"<p>{html.escape(visa)}</p>" if visa else "")
    )  # fmt: skip


def lever() -> list[dict[str, Any]]:
    about = "Vector Freight routes a million parcels a day with learned demand and routing models."
    rows = [
        ("a1f0c3d2-1111-4c5e-8a00-000000000001", "Senior Machine Learning Engineer, Routing", "Chicago, IL", "hybrid",
         1793001600000, (185000, 240000), "MS in Computer Science or a related field, or a BS plus 5 years of experience.", OFFER),
        ("a1f0c3d2-1111-4c5e-8a00-000000000002", "Senior Machine Learning Engineer, Routing", "Remote - US", "remote",
         1793001600000, (185000, 240000), "MS in Computer Science or a related field, or a BS plus 5 years of experience.", OFFER),
        ("a1f0c3d2-1111-4c5e-8a00-000000000003", "Data Scientist, Demand Forecasting", "Chicago, IL", "onsite",
         1792396800000, (150000, 190000), "Bachelor's degree in Statistics, Economics or a related field.", AUTHORIZED),
        ("a1f0c3d2-1111-4c5e-8a00-000000000004", "Dispatch Operations Lead", "Memphis, TN", "on-site",
         1792742400000, (70000, 85000), "High school diploma.", ""),
    ]  # fmt: skip
    out = []
    for pid, title, place, workplace, created, (low, high), degree, visa in rows:
        body = ad(
            about, f"{title}: improve how our network plans and moves freight.", f"${low:,} - ${high:,}", degree, visa
        )
        out.append({
            "id": pid, "text": title, "country": "US", "workplaceType": workplace, "createdAt": created,
            "hostedUrl": f"https://jobs.lever.co/vectorfreight/{pid}",
            "applyUrl": f"https://jobs.lever.co/vectorfreight/{pid}/apply",
            "categories": {"commitment": "Full-time", "department": "Engineering", "location": place,
                           "team": "Machine Learning" if "Machine" in title or "Data" in title else "Operations",
                           "allLocations": [place]},
            "description": body, "descriptionPlain": html.unescape(body), "lists": [],
            "additional": "<p>Vector Freight is an equal opportunity employer.</p>",
            "additionalPlain": "Vector Freight is an equal opportunity employer.",
            "salaryRange": {"min": low, "max": high, "currency": "USD", "interval": "per-year-salary"},
            "salaryDescriptionPlain": f"${low:,} - ${high:,} a year",
        })  # fmt: skip
    return out


def ashby() -> dict[str, Any]:
    about = "Orbital Bio designs proteins with generative models and tests them in its own wet lab."
    rows = [
        ("5e0c9b1a-2222-4d6f-9b00-000000000001", "Machine Learning Scientist, Protein Design", "South San Francisco, CA",
         "OnSite", "FullTime", (200000, 265000), "PhD in Computational Biology, Computer Science or a related field.", OFFER),
        ("5e0c9b1a-2222-4d6f-9b00-000000000002", "ML Research Intern, Structure Prediction", "Boston, MA", "Hybrid",
         "Intern", None, "Currently pursuing a PhD in machine learning or biophysics.", OFFER),
        ("5e0c9b1a-2222-4d6f-9b00-000000000003", "Lab Automation Engineer", "South San Francisco, CA", "OnSite",
         "FullTime", (140000, 175000), "BS in Bioengineering or Mechanical Engineering.", REFUSE),
    ]  # fmt: skip
    jobs = []
    for jid, title, place, workplace, employment, pay, degree, visa in rows:
        pay_text = f"${pay[0]:,} - ${pay[1]:,}" if pay else "$55 - $65 per hour"
        body = ad(about, f"{title}: work with our designers and wet-lab scientists.", pay_text, degree, visa)
        component = (
            {"compensationType": "Salary", "interval": "1 YEAR", "currencyCode": "USD", "minValue": pay[0], "maxValue": pay[1]}
            if pay else
            {"compensationType": "Salary", "interval": "1 HOUR", "currencyCode": "USD", "minValue": 55, "maxValue": 65}
        )  # fmt: skip
        jobs.append({
            "id": jid, "title": title, "department": "Research", "team": "Machine Learning", "employmentType": employment,
            "location": place, "shouldDisplayCompensationOnJobPostings": True, "secondaryLocations": [],
            "publishedAt": "2026-10-22T16:00:00.000+00:00", "isListed": True, "isRemote": False,
            "workplaceType": workplace, "address": {"postalAddress": {}},
            "jobUrl": f"https://jobs.ashbyhq.com/orbitalbio/{jid}",
            "applyUrl": f"https://jobs.ashbyhq.com/orbitalbio/{jid}/application",
            "descriptionHtml": body, "descriptionPlain": html.unescape(body),
            "compensation": {"compensationTierSummary": pay_text, "scrapeableCompensationSalarySummary": pay_text,
                             "compensationTiers": [], "summaryComponents": [component]},
        })  # fmt: skip
    return {"apiVersion": "1", "jobs": jobs}


def workday() -> dict[str, Any]:
    about = "Northwind Energy operates wind and storage assets across three states."
    rows = [
        ("Senior Machine Learning Engineer - Grid Forecasting", "Houston, TX", "Hybrid", "2026-10-15",
         "Posted 3 Days Ago", "Master's degree in Computer Science, Electrical Engineering or a related field.", OFFER),
        ("Computer Vision Engineer - Blade Inspection", "Denver, CO", "Onsite", "2026-09-10",
         "Posted 30+ Days Ago", "Bachelor's degree in Computer Science and 3 years of experience.", AUTHORIZED),
        ("Wind Turbine Technician", "Oklahoma City, OK", "Onsite", "2026-10-20", "Posted Yesterday",
         "Technical certificate or equivalent experience.", ""),
    ]  # fmt: skip
    postings, details = [], {}
    for n, (title, place, remote, start, posted, degree, visa) in enumerate(rows, start=1):
        req = f"R-{24000 + n}"
        path = f"/job/{place.replace(',', '').replace(' ', '-')}/{'-'.join(title.replace(' - ', ' ').split())}_{req}"
        postings.append({"title": title, "externalPath": path, "locationsText": place, "postedOn": posted,
                         "remoteType": remote, "bulletFields": [req], "facets": {"jobFamilyGroup": ["ENG"]}})  # fmt: skip
        details[path] = {
            "jobPostingInfo": {
                "id": f"{n:032x}", "title": title, "location": place, "postedOn": posted, "startDate": start,
                "timeType": "Full time", "jobReqId": req, "jobPostingId": path.rsplit("/", 1)[-1],
                "jobPostingSiteId": "NorthwindCareers", "remoteType": remote, "canApply": True, "posted": True,
                "jobDescription": ad(about, f"{title}.", "$150,000 USD - $205,000 USD", degree, visa),
                "country": {"descriptor": "United States of America", "id": "bc33aa3152ec42d4995f4791a106ed09"},
                "externalUrl": f"https://northwind.wd1.myworkdayjobs.com/NorthwindCareers{path}",
            },
            "hiringOrganization": {"name": "Northwind Energy", "url": ""},
            "userAuthenticated": False,
        }  # fmt: skip
    return {"jobPostings": postings, "details": details,
            "facetDescriptors": {"jobFamilyGroup": {"descriptor": "Job Family", "values": {"ENG": "Engineering"}}}}  # fmt: skip


def smartrecruiters() -> dict[str, Any]:
    about = "Helix Payments screens card payments for fraud in under fifty milliseconds."
    rows = [
        ("744000300000001", "Machine Learning Engineer, Fraud Detection", "New York", "NY", "us", False, True,
         "Master's degree in Computer Science or a related quantitative field.", OFFER),
        ("744000300000002", "Staff Data Scientist, Risk", "Austin", "TX", "us", True, False,
         "PhD in Statistics, or a Master's degree plus 5 years of experience.", OFFER),
        ("744000300000003", "Customer Support Specialist", "Austin", "TX", "us", False, False,
         "Bachelor's degree preferred.", ""),
    ]  # fmt: skip
    content, details = [], {}
    for pid, name, city, region, country, remote, hybrid, degree, visa in rows:
        entry = {
            "id": pid, "name": name, "uuid": f"{pid}-uuid", "jobAdId": f"{pid}-ad", "defaultJobAd": True,
            "refNumber": f"HP-{pid[-3:]}", "company": {"identifier": "HelixPayments", "name": "Helix Payments"},
            "releasedDate": "2026-10-19T15:00:00.000Z",
            "location": {"city": city, "region": region, "country": country, "remote": remote, "hybrid": hybrid,
                         "fullLocation": f"{city}, {region}, United States"},
            "industry": {"id": "financial_services", "label": "Financial Services"},
            "department": {"id": "1" + pid[-3:], "label": "Risk Engineering"},
            "function": {"id": "engineering", "label": "Engineering"},
            "typeOfEmployment": {"id": "permanent", "label": "Full-time"},
            "experienceLevel": {"id": "mid_senior_level", "label": "Mid-Senior Level"}, "visibility": "PUBLIC",
            "ref": f"https://api.smartrecruiters.com/v1/companies/helixpayments/postings/{pid}",
            "language": {"code": "en", "label": "English", "labelNative": "English (US)"},
        }  # fmt: skip
        content.append(entry)
        slug = "-".join(name.lower().replace(",", "").split())
        body = ad(about, f"{name}: keep fraud losses low without blocking good customers.", "$170,000 - $230,000",
                  degree, visa)  # fmt: skip
        details[pid] = {
            **{k: v for k, v in entry.items() if k != "ref"}, "active": True,
            "postingUrl": f"https://jobs.smartrecruiters.com/HelixPayments/{pid}-{slug}",
            "applyUrl": f"https://jobs.smartrecruiters.com/HelixPayments/{pid}-{slug}?oga=true",
            "jobAd": {"sections": {
                "companyDescription": {"title": "Company Description", "text": f"<p>{html.escape(about)}</p>"},
                "jobDescription": {"title": "Job Description", "text": body},
                "qualifications": {"title": "Qualifications", "text": f"<ul><li>{html.escape(degree)}</li></ul>"},
                "additionalInformation": {"title": "Additional Information", "text": "<p>Equal opportunity employer.</p>"},
            }},
        }  # fmt: skip
    return {"content": content, "details": details}


def jsonld() -> dict[str, str]:
    about = "Pylon Search builds retrieval and ranking for enterprise documents."
    rows = [
        ("llm-engineer", "LLM Engineer, Retrieval", "PYL-31", "Seattle", "WA", (190000, 250000),
         "MS or PhD in Computer Science, or a BS plus 5 years of progressive experience.", OFFER),
        ("research-scientist", "Research Scientist, Ranking", "PYL-32", None, None, (210000, 280000),
         "PhD in machine learning, information retrieval or a related field.", OFFER),
        ("account-manager", "Account Manager", "PYL-33", "Seattle", "WA", (110000, 140000), "Bachelor's degree.", ""),
    ]  # fmt: skip
    files: dict[str, str] = {}
    links = []
    for slug, title, ident, city, region, (low, high), degree, visa in rows:
        posting: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "JobPosting", "title": title,
            "description": html.escape(ad(about, f"{title}.", f"${low:,} - ${high:,}", degree, visa)),
            "identifier": {"@type": "PropertyValue", "name": "Pylon Search", "value": ident},
            "datePosted": "2026-10-24", "validThrough": "2027-01-31", "employmentType": "FULL_TIME",
            "hiringOrganization": {"@type": "Organization", "name": "Pylon Search", "sameAs": "https://pylonsearch.example"},
            "baseSalary": {"@type": "MonetaryAmount", "currency": "USD",
                           "value": {"@type": "QuantitativeValue", "minValue": low, "maxValue": high, "unitText": "YEAR"}},
        }  # fmt: skip
        if city:
            posting["jobLocation"] = {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": city,
                                                                    "addressRegion": region, "addressCountry": "US"}}  # fmt: skip
        else:
            posting["jobLocationType"] = "TELECOMMUTE"
            posting["applicantLocationRequirements"] = {"@type": "Country", "name": "USA"}
        files[f"pylon/jobs/{slug}.html"] = (
            f"<!doctype html>\n<html><head><title>{html.escape(title)} - Pylon Search</title>\n"
            f'<script type="application/ld+json">{json.dumps(posting, indent=1)}</script>\n</head>\n'
            f"<body><h1>{html.escape(title)}</h1></body></html>\n"
        )
        links.append(f'<li><a href="/pylon/jobs/{slug}.html">{html.escape(title)}</a></li>')
    files["pylon/jobs/index.html"] = (
        "<!doctype html>\n<html><head><title>Careers at Pylon Search</title></head>\n"
        f"<body><h1>Open roles</h1><ul>{''.join(links)}</ul></body></html>\n"
    )
    return files


def write(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = payload if isinstance(payload, str) else json.dumps(payload, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    write(HERE / "lever" / "vectorfreight.json", lever())
    write(HERE / "ashby" / "orbitalbio.json", ashby())
    write(HERE / "workday" / "northwind.wd1__NorthwindCareers.json", workday())
    write(HERE / "smartrecruiters" / "helixpayments.json", smartrecruiters())
    for rel, text in jsonld().items():
        # The local server finds a site by its host name.
        write(HERE / "jsonld" / "careers.pylonsearch.example" / rel, text)


if __name__ == "__main__":
    main()
