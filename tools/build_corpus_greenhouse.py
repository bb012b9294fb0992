"""Writes the bundled offline Greenhouse corpus (crawler/offline/corpus/greenhouse/*.json) in the platform's real shape.

Run `python tools/build_corpus_greenhouse.py` after editing the postings below; the JSON is committed.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "crawler" / "offline" / "corpus" / "greenhouse"

ABOUT = {
    "acmeai": "<p><strong>About Acme AI</strong></p><p>Acme AI builds foundation models for industrial "
    "automation and serves them to thousands of factories.</p>",
    "nimbusrobotics": "<p><strong>About Nimbus Robotics</strong></p><p>Nimbus Robotics designs autonomous "
    "inspection drones for energy and defense customers.</p>",
    "quillhealth": "<p><strong>About Quill Health</strong></p><p>Quill Health turns clinical notes into "
    "structured data that care teams can act on.</p>",
}
COMPANY = {"acmeai": "Acme AI", "nimbusrobotics": "Nimbus Robotics", "quillhealth": "Quill Health"}

OFFER = "<p>We sponsor H-1B visas and green cards for this role, and H-1B transfers are welcome.</p>"
REFUSE = (
    "<p>This position requires access to export-controlled information; applicants must be U.S. persons. "
    "We are unable to sponsor work visas now or in the future.</p>"
)
AUTHORIZED = "<p>Candidates must be authorized to work in the United States without visa sponsorship.</p>"

# (token, id, title, department, location, first_published, pay, degree sentence, visa sentence)
POSTINGS: list[tuple[str, int, str, str, str, str, str, str, str]] = [
    ("acmeai", 7001001, "Senior Machine Learning Engineer", "Engineering", "San Francisco, CA",
     "2026-10-02T09:15:00-07:00", "$201,000 - $285,000 USD", "MS or PhD in Computer Science or a related field, "
     "or a Bachelor's degree plus 5 years of progressive experience.", OFFER),
    ("acmeai", 7001002, "Staff Research Scientist, Pretraining", "Research", "San Francisco, CA | New York City, NY",
     "2026-09-20T10:00:00-07:00", "$260,000 - $340,000 USD", "PhD in machine learning or a related field.", OFFER),
    ("acmeai", 7001003, "ML Infrastructure Engineer, Inference", "Engineering", "Remote (US)",
     "2026-10-11T08:00:00-07:00", "$180,000 - $230,000 USD", "BS, MS, or PhD in Computer Science.", OFFER),
    ("acmeai", 7001004, "Applied Scientist, Computer Vision", "Research", "Seattle, WA",
     "2026-10-15T12:30:00-07:00", "$175,000 - $245,000 USD", "Master's degree in a quantitative field.", OFFER),
    ("acmeai", 7001005, "Machine Learning Engineer Intern (Summer 2027)", "University", "San Francisco, CA",
     "2026-11-01T09:00:00-07:00", "$55/hour", "Currently pursuing a BS or MS in Computer Science.", OFFER),
    ("acmeai", 7001006, "Account Executive, Enterprise", "Sales", "New York City, NY",
     "2026-10-05T09:00:00-04:00", "$150,000 - $180,000 OTE", "Bachelor's degree preferred.", ""),
    ("acmeai", 7001007, "Technical Recruiter, AI Research", "People", "San Francisco, CA",
     "2026-10-07T09:00:00-07:00", "$140,000 - $170,000 USD", "", ""),
    ("acmeai", 7001008, "Product Manager, Model Platform", "Product", "San Francisco, CA",
     "2026-09-30T09:00:00-07:00", "$190,000 - $230,000 USD", "Bachelor's degree in a technical field.", ""),
    ("acmeai", 7001009, "Senior Data Engineer", "Data", "Austin, TX", "2026-10-21T09:00:00-05:00",
     "$165,000 - $205,000 USD", "Bachelor's degree in Computer Science or equivalent.", ""),
    ("acmeai", 7001010, "AI Trainer - Chemistry (Contract)", "Data Operations", "Remote",
     "2026-11-03T09:00:00-07:00", "USD 45/hour", "PhD in Chemistry.", ""),
    ("acmeai", 7001011, "Research Engineer, Reinforcement Learning", "Research", "London, United Kingdom",
     "2026-10-25T09:00:00+01:00", "£95,000 - £130,000", "MSc or PhD in Computer Science.", ""),
    ("acmeai", 7001012, "Member of Technical Staff, Pretraining Data", "Research", "San Francisco, CA",
     "2026-11-10T09:00:00-08:00", "$220,000 - $300,000 USD", "BS in Computer Science or a related field.", OFFER),
    ("nimbusrobotics", 8002001, "Sr. Perception Engineer", "Autonomy", "Boston, MA", "2026-09-12T09:00:00-04:00",
     "$170,000 - $215,000 USD", "MS in Robotics, Electrical Engineering or Computer Science.", REFUSE),
    ("nimbusrobotics", 8002002, "Staff Machine Learning Engineer, Autonomy", "Autonomy", "Boston, MA",
     "2026-10-01T09:00:00-04:00", "$210,000 - $260,000 USD", "BS in Computer Science and 8+ years of experience.",
     REFUSE),
    ("nimbusrobotics", 8002003, "Computer Vision Engineer II", "Autonomy", "Pittsburgh, PA",
     "2026-10-08T09:00:00-04:00", "$140,000 - $175,000 USD", "Bachelor's degree in Computer Science required.",
     AUTHORIZED),
    ("nimbusrobotics", 8002004, "Principal Robotics Software Engineer", "Platform", "Boston, MA",
     "2026-09-01T09:00:00-04:00", "$230,000 - $280,000 USD", "BS in Computer Science.", REFUSE),
    ("nimbusrobotics", 8002005, "Field Operations Technician", "Operations", "Houston, TX",
     "2026-10-18T09:00:00-05:00", "$32 - $40 per hour", "High school diploma.", ""),
    ("nimbusrobotics", 8002006, "Embedded Firmware Engineer", "Hardware", "Boston, MA",
     "2026-10-20T09:00:00-04:00", "$150,000 - $185,000 USD", "BS in Electrical Engineering.", REFUSE),
    ("nimbusrobotics", 8002007, "Senior Staff Machine Learning Engineer, Mapping", "Autonomy", "Remote - US",
     "2026-11-02T09:00:00-05:00", "$240,000 - $300,000 USD", "MS or PhD in Computer Science or Robotics.",
     AUTHORIZED),
    ("nimbusrobotics", 8002008, "Director of Machine Learning", "Autonomy", "Boston, MA",
     "2026-08-28T09:00:00-04:00", "$280,000 - $350,000 USD", "PhD in a related field.", ""),
    ("nimbusrobotics", 8002009, "Customer Success Manager", "Customer Success", "Denver, CO",
     "2026-10-29T09:00:00-06:00", "$110,000 - $130,000 USD", "", ""),
    ("nimbusrobotics", 8002010, "Deep Learning Engineer, Sensor Fusion", "Autonomy", "Munich, Germany",
     "2026-10-30T09:00:00+01:00", "€80,000 - €95,000", "Master's degree in Computer Science.", ""),
    ("quillhealth", 9003001, "Machine Learning Engineer, NLP", "Engineering", "New York, NY",
     "2026-10-09T09:00:00-04:00", "$165,000 - $210,000 USD", "Bachelor's degree in Computer Science or a related "
     "field.", ""),
    ("quillhealth", 9003002, "Senior Data Scientist, Clinical Models", "Data Science", "Remote (US)",
     "2026-10-16T09:00:00-04:00", "$170,000 - $205,000 USD", "Master's degree in Statistics, Computer Science, or "
     "a related field, or a Bachelor's degree plus 5 years of progressive experience.", ""),
    ("quillhealth", 9003003, "Data Scientist I", "Data Science", "Chicago, IL", "2026-11-05T09:00:00-06:00",
     "$120,000 - $140,000 USD", "BS in Statistics, Mathematics or Computer Science.", ""),
    ("quillhealth", 9003004, "Lead Applied ML Scientist, Speech", "Research", "Boston, MA; New York, NY",
     "2026-10-22T09:00:00-04:00", "$200,000 - $250,000 USD", "PhD in Speech, Signal Processing or ML.", ""),
    ("quillhealth", 9003005, "Software Engineer, Frontend (AI Products)", "Engineering", "New York, NY",
     "2026-10-12T09:00:00-04:00", "$150,000 - $180,000 USD", "BS in Computer Science or equivalent.", ""),
    ("quillhealth", 9003006, "Clinical Data Annotator", "Operations", "Remote", "2026-11-08T09:00:00-05:00",
     "USD 28/hour", "RN license and an Associate's degree.", ""),
    ("quillhealth", 9003007, "MLOps Engineer", "Platform", "Chicago, IL", "2026-10-27T09:00:00-05:00",
     "$150,000 - $190,000 USD", "BS in Computer Science.", ""),
    ("quillhealth", 9003008, "Head of Sales, Health Systems", "Sales", "New York, NY",
     "2026-09-15T09:00:00-04:00", "$220,000 - $260,000 OTE", "Bachelor's degree.", ""),
    ("quillhealth", 9003009, "Recommendation Systems Engineer", "Engineering", "Toronto, ON",
     "2026-10-19T09:00:00-04:00", "CA$150,000 - CA$180,000", "BS or MS in Computer Science.", ""),
    ("quillhealth", 9003010, "Security Engineer", "Security", "New York, NY", "2026-10-03T09:00:00-04:00",
     "$160,000 - $195,000 USD", "BS in Computer Science.", ""),
]  # fmt: skip

BENEFITS = (
    "<ul><li>Medical, dental and vision insurance</li><li>Company-sponsored 401(k) with a 4% match</li>"
    "<li>Learning &amp; development stipend</li></ul>"
)


def description(token: str, title: str, pay: str, degree: str, visa: str) -> str:
    parts = [
        ABOUT[token],
        f"<p><strong>The role</strong></p><p>As {html.escape(title)}, you will own projects end to end.</p>",
        "<p><strong>What you bring</strong></p><ul>",
        *(f"<li>{html.escape(degree)}</li>" for _ in [0] if degree),
        "<li>Strong Python and a record of shipping production systems.</li></ul>",
        f"<p>The base salary range for this role is {html.escape(pay)}.</p>" if pay else "",
        BENEFITS,
        visa,
    ]
    return "".join(parts)


def job(token: str, jid: int, title: str, dept: str, where: str, published: str, pay: str, degree: str, visa: str):
    body = description(token, title, pay, degree, visa)
    return {
        "absolute_url": f"https://job-boards.greenhouse.io/{token}/jobs/{jid}",
        "company_name": COMPANY[token],
        # Greenhouse escapes the description HTML once inside the JSON string.
        "content": html.escape(body, quote=True),
        "data_compliance": [{"type": "gdpr", "requires_consent": False, "retention_period": None}],
        "departments": [{"child_ids": [], "id": 4000000 + jid % 1000, "name": dept, "parent_id": None}],
        "first_published": published,
        "id": jid,
        "internal_job_id": jid - 1000000,
        "language": "en",
        "location": {"name": where},
        "metadata": None,
        "offices": [
            {"child_ids": [], "id": 5000001, "location": None, "name": where.split(" | ")[0], "parent_id": None}
        ],
        "requisition_id": f"REQ-{jid % 10000}",
        "title": title,
        "updated_at": published.replace("T09:", "T11:"),
    }


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for token in COMPANY:
        jobs = [job(*p) for p in POSTINGS if p[0] == token]
        payload = {"jobs": jobs, "meta": {"total": len(jobs)}}
        (OUT / f"{token}.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
