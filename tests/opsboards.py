"""Generated corpus boards in the platforms' real response shapes, for the operations tests (many boards, any size)."""

from __future__ import annotations

import json
from pathlib import Path

TITLES = ("Machine Learning Engineer", "Research Scientist, Vision", "Applied Scientist", "ML Infrastructure Engineer")


def greenhouse_board(token: str, n: int, start_id: int) -> dict:
    jobs = []
    for i in range(n):
        jid = start_id + i
        jobs.append({
            "id": jid,
            "title": f"{TITLES[i % len(TITLES)]} {jid}",
            "absolute_url": f"https://boards.greenhouse.io/{token}/jobs/{jid}",
            "company_name": token.title(),
            "location": {"name": "San Francisco, CA"},
            "updated_at": "2026-11-02T10:00:00-04:00",
            "first_published": "2026-11-01T10:00:00-04:00",
            "requisition_id": f"R{jid}",
            "content": f"&lt;p&gt;Build models at {token}. We sponsor visas.&lt;/p&gt;",
            "departments": [{"id": 1, "name": "ML", "child_ids": [], "parent_id": None}],
            "offices": [{"id": 2, "name": "San Francisco", "location": "San Francisco, CA", "child_ids": [],
                         "parent_id": None}],
        })  # fmt: skip
    return {"jobs": jobs, "meta": {"total": n}}


def smartrecruiters_board(token: str, n: int, start_id: int) -> dict:
    content, details = [], {}
    for i in range(n):
        pid = str(start_id + i)
        entry = {
            "id": pid,
            "name": f"{TITLES[i % len(TITLES)]} {pid}",
            "refNumber": f"REF{pid}",
            "company": {"identifier": token, "name": token.title()},
            "releasedDate": "2026-10-28T14:03:11.120Z",
            "location": {"city": "Boston", "region": "MA", "country": "us", "remote": False, "hybrid": True,
                         "fullLocation": "Boston, MA, United States"},
            "typeOfEmployment": {"id": "permanent", "label": "Full-time"},
            "experienceLevel": {"id": "mid_senior_level", "label": "Mid-Senior Level"},
        }  # fmt: skip
        content.append(entry)
        details[pid] = {
            **entry,
            "postingUrl": f"https://jobs.smartrecruiters.com/{token}/{pid}",
            "applyUrl": f"https://jobs.smartrecruiters.com/{token}/{pid}?oga=true",
            "jobAd": {
                "sections": {"jobDescription": {"title": "Job Description", "text": f"<p>Models at {token}.</p>"}}
            },
        }
    return {"content": content, "details": details}


def write_boards(root: Path, boards: list[tuple[str, str, int]]) -> Path:
    """Write (platform, token, postings) boards under `root/<platform>/<token>.json` and a registry CSV."""
    next_id = 5_000_000
    rows = ["employer,ats,board,region,board_url"]
    for platform, token, n in boards:
        (root / platform).mkdir(parents=True, exist_ok=True)
        maker = greenhouse_board if platform == "greenhouse" else smartrecruiters_board
        (root / platform / f"{token}.json").write_text(json.dumps(maker(token, n, next_id)))
        next_id += 10_000
        rows.append(f"{token.title()},{platform},{token},,")
    registry = root / "boards.csv"
    registry.write_text("\n".join(rows) + "\n")
    return registry


def listing_ids(root: Path, platform: str, token: str) -> set[str]:
    data = json.loads((root / platform / f"{token}.json").read_text())
    if platform == "greenhouse":
        return {str(j["id"]) for j in data["jobs"]}
    return {str(e["id"]) for e in data["content"]}
