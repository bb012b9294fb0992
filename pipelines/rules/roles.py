"""Is a posting an ML role, and which family? Title first; department and description break ties.

An ML role is one whose core work is building, training, evaluating or serving ML/AI models or the systems
specific to them. Roles that only sit near AI (recruiting, sales and go-to-market "architects" / "engineers",
product/program management, support, data labelling, raters, tutors, mentors and instructors of AI courses,
content creators, prompt writers, AI-product front-end work, data engineers, analysts, quantitative
researchers without an ML subject) are not.

How a title is read:

1. The title is cut into segments at commas, pipes, colons, brackets and spaced dashes. The first segment that
   names a job ("head noun") decides the kind of job; within it the last job noun wins, because English puts
   the head last ("AI Research Recruiter" is a recruiter, "Marketing Data Scientist" a data scientist). A later
   segment that is itself a data / applied scientist title names the actual job ("Exploitation Specialist -
   Data Scientist"); a segment that only names a level is skipped ("Associate - AI Infrastructure Engineer"), and
   a grade word after a data scientist does not change the job ("Data Scientist Analyst I"). Two jobs offered as
   one ("Research Scientist/Engineer", "Junior Analyst-Data Scientist") are read by the first that names a job,
   unless it is a non-ML job and a data / applied scientist follows. "AI" as an adjective of the product or the
   way of working ("AI Products", "AI-Driven", "AI-Native") is not ML work and is read past.
2. By kind of head (see ``_HEADS``):
   - ``neg``: recruiters, product managers, analysts, data engineers, designers, front-end... -> not ML.
   - ``ds`` / ``as``: data scientist, applied scientist -> ML.
   - ``rs`` / ``re`` (research scientist, researcher, research engineer): ML unless the title or department names
     a non-ML science or subject (batteries, biology, people, design, markets...) or a description exists and
     never mentions ML.
   - ``sci`` (plain "Scientist", "Research Associate") and ``mts`` (Member of Technical Staff): ML only with an
     ML signal from the title, the department, or at least two distinct ML phrases in the description.
     "Member of Technical Staff" says nothing about the work: a job named after it decides ("MTS - Applied ML
     Engineer" is an ML engineer, "MTS - Backend Engineer" an engineer), and a non-ML function after it ("MTS,
     iOS", "MTS - DevRel", "MTS - Product Designer") makes it not ML whatever the department.
   - ``eng`` (engineer, developer, architect), ``mgmt`` (manager, director, head, VP, chief officer, lead) and
     ``trainee`` (intern, co-op, resident, postdoc): ML when the title names ML work ("Software Engineer,
     Inference", "Director of Machine Learning"); an engineer may also get it from an ML department. Engineers
     who deploy at customers ("Forward Deployed", "Pre-Sales") are not ML. Managers in a non-engineering
     function anywhere in the title ("Head of Product, AI") are not ML, unless the manager's own words name
     ML work and the function only names the team ("Data Science Manager, Product"); trainees when the
     function is named where the trainee is ("Marketing Intern, AI", but not "Research Scientist Intern -
     Robotic Control Policy"), or when a bare "AI" is the only ML word and no builder's job noun (engineer,
     developer, scientist, research) is named ("AI Game Production Intern", but "AI Engineer Intern" is ML).
   - no job noun at all ("Machine Learning - Ads"): ML when the title names ML work.

Families (``role_family``), decided in this order:

- job function first for scientists and researchers: ``data_scientist``, ``applied_scientist``,
  ``research_scientist`` (research scientists, researchers, ML scientists, AI residents, postdocs),
  ``research_engineer``;
- then the domain named in the title: ``ml_infra`` (MLOps, inference, serving, training infrastructure, ML
  compilers/kernels, ML platforms and systems), ``perception`` (perception, computer vision), ``speech`` (speech,
  ASR, TTS, audio), ``nlp`` (NLP, language models, LLMs, conversational AI), ``recsys`` (recommendations, ranking,
  relevance, personalisation, search);
- else ``ml_engineer``. Members of Technical Staff without a domain are ``research_engineer``; managers take the
  family of what they manage ("Manager, Data Science" -> ``data_scientist``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from crawler.items import ROLE_FAMILIES


class RoleResult(NamedTuple):
    is_ml: bool
    role_family: str | None


FAMILIES = ROLE_FAMILIES

# Job nouns, by kind. One regex alternative per line is the unit a maintainer adds. Matching is on the
# lowercased title; the longest match ending last in the deciding segment is the head.
_HEADS: dict[str, list[str]] = {
    "neg": [
        r"recruit(?:er|ers|ing\s+(?:coordinator|partner|lead|manager))",
        r"sourcer",
        r"talent\s+(?:acquisition\s+)?(?:partner|manager|lead|specialist|sourcer)",
        r"(?:people|hr|business|finance|talent\s+acquisition)\s+partner",
        r"partner",
        r"trainer",
        r"tutors?",
        # Teaching and making content about AI is not building it ("Mentor, Machine Learning Course").
        r"mentors?",
        r"coach(?:es)?",
        r"instructors?",
        r"educators?",
        r"lecturers?",
        r"facilitators?",
        r"creators?",
        r"influencers?",
        r"ambassadors?",
        r"(?:curriculum|course|content|learning\s+experience)\s+(?:developer|designer|author|lead|creator)s?",
        r"rater",
        r"evaluator",
        r"annotator",
        r"label(?:l)?er",
        r"red\s+teamer",
        r"generalist",
        r"experts?",
        r"linguist",
        r"translator",
        r"moderator",
        r"writer",
        r"editor",
        r"prompt\s+(?:engineer|designer|specialist)",
        r"(?:product|program|project|portfolio|delivery|release)\s+manager",
        r"product\s+owner",
        r"scrum\s+master",
        r"analyst",
        r"(?:big\s+)?data\s+engineer",
        r"analytics\s+engineer",
        r"(?:bi|business\s+intelligence)\s+engineer",
        r"data\s+(?:platform\s+)?architect",
        r"database\s+(?:administrator|engineer)",
        r"administrator",
        r"account\s+executive",
        r"sales\s+\w+",
        r"(?:pre-?sales|solutions?|customer(?:\s+success)?|success|field(?:\s+applications?)?|applications?|"
        r"partner|support|deployment|forward\s+deployed|developer\s+relations|devrel)\s+"
        r"(?:engineer|architect|consultant|specialist|strategist)",
        r"(?:enterprise|cloud|security|network|infrastructure\s+solutions)\s+architect",
        r"developer\s+(?:advocate|relations|evangelist)",
        r"devrel",
        # Selling and go-to-market roles named like engineering ones ("AI GTM Architect", "Value Engineer").
        r"(?:gtm|go[\s-]+to[\s-]+market|revenue|value|sales|growth|commercial)\s+(?:engineer|architect)",
        r"(?:computer|chip|soc|gpu|cpu|hardware|silicon)\s+architect",
        r"evangelist",
        r"advocate",
        r"consultant",
        r"specialist",
        r"coordinator",
        r"assistant",
        r"associate",
        r"representative",
        r"counsel",
        r"attorney",
        r"lawyer",
        r"paralegal",
        r"accountant",
        r"controller",
        r"economist",
        r"statistician",
        r"actuary",
        r"chief\s+of\s+staff",
        r"designer",
        r"design\s+engineer",
        r"(?:ux|user|design)\s+researcher",
        r"(?:front[\s-]*end|full[\s-]*stack|ios|android|mobile|web|game|games|ui)\s+(?:software\s+)?"
        r"(?:engineer|developer)",
        r"(?:hardware|asic|rtl|silicon|fpga|verification|physical\s+design|analog|mixed[\s-]+signal|"
        r"firmware|mechanical|electrical|controls?|embedded|network|security|privacy|test|qa|"
        r"quality|reliability\s+test|manufacturing|process|field|systems\s+test)\s+"
        r"(?:design\s+)?(?:software\s+)?engineer",
        r"(?:asic|silicon|hardware)\s+design\s+engineer",
        r"tester",
        r"sdet",
        r"technician",
        r"operator",
        r"driver",
        r"(?:pathologist|therapist|nurse|physician|clinician|pharmacist|teacher|instructor|receptionist|clerk)",
    ],
    "ds": [r"data\s+scientists?"],
    "as": [r"applied\s+(?:research\s+|ai\s+|ml\s+|machine\s+learning\s+)?scientists?"],
    "rs": [r"research\s+scientists?", r"researchers?"],
    "re": [r"research\s+engineers?", r"research\s+software\s+engineers?"],
    # A research associate is a research job in any science: ML only with an ML signal, like "Scientist".
    "sci": [r"scientists?", r"research\s+associates?"],
    "mts": [r"members?\s+of\s+(?:the\s+)?technical\s+staff", r"mts"],
    "trainee": [
        r"interns?",
        r"internships?",
        r"co-?op",
        r"student\s+researchers?",
        r"residents?",
        r"residency",
        r"post-?docs?",
        r"postdoctoral\s+(?:fellow|scholar)s?",
        r"fellows?",
        r"apprentices?",
    ],
    "eng": [r"engineers?", r"engineering", r"developers?", r"architects?", r"programmers?", r"mle", r"swe"],
    "mgmt": [
        r"manager",
        r"management",
        r"director",
        r"head\s+of",
        r"head",
        r"lead",
        r"leader",
        r"tlm",
        r"s?vp",
        r"evp",
        r"vice\s+president",
        r"president",
        r"chief\s+(?:\w+\s+){0,3}officer",
        r"c[tis]o",
        r"caio",
    ],
}

# Words naming ML work in a title. A maintainer adds a phrase as one line.
_ML_TERMS = [
    r"machine[\s-]+learning",
    r"ml",
    r"mlops",
    r"ai",
    r"a\.i\.",
    r"artificial\s+intelligence",
    r"deep[\s-]+learning",
    r"neural",
    r"computer\s+vision",
    r"cv",
    r"perception",
    r"nlp",
    r"natural\s+language",
    r"language\s+models?",
    r"llms?",
    r"gen\s*ai",
    r"generative",
    r"speech",
    r"asr",
    r"tts",
    r"text[\s-]+to[\s-]+speech",
    r"recommend\w*",
    r"recsys",
    r"ranking",
    r"relevance",
    r"personali[sz]ation",
    r"inference",
    r"model\s+(?:serving|training|evaluation|optimization)",
    r"foundation\s+models?",
    r"(?:pre|post)?[\s-]?training",
    r"fine[\s-]?tuning",
    r"rlhf",
    r"reinforcement\s+learning",
    r"robot\s+learning",
    r"multi-?modal",
    r"diffusion",
    r"interpretability",
    r"alignment",
    r"evals?",
    r"data\s+scien\w+",
    r"applied\s+scien\w+",
]

# AI-flavoured phrases that describe a product or business area, not ML work ("Software Engineer, AI Products").
_AI_ADJACENT = [
    r"ai[\s-]+(?:products?|experiences?|features?|solutions?|strategy|policy|transformation|adoption|"
    r"ecosystem|compute|assistant|characters?|training\s+data|data|tools?|governance|enablement|literacy|"
    # Business units named after AI ("AI Managed Services - Consult") say where the job sits, not what it does.
    r"managed\s+services|services|practice|consulting|initiatives?|innovation)",
    # "AI" as an adjective of the product or the way of working ("Software Engineer - AI Driven").
    r"ai[\s-]+(?:driven|powered|enabled|first|native|assisted|augmented|based)",
    r"(?:for|to|supporting)\s+(?:the\s+|our\s+)?(?:ceo|cto|vp|svp|evp|vice\s+president|chief|head|director|"
    r"founders?|executives?|leadership)\b.*",
]

# Engineering at the customer's side: deploying what others built, not building models ("Software Engineer -
# Forward Deployed AI"). Scientists keep their job ("Forward Deployed Research Scientist").
_CUSTOMER_FACING = [
    r"forward[\s-]+deployed",
    r"pre-?sales",
    r"customer[\s-]+facing",
]

# Non-engineering functions: a manager, director, lead or intern in one of these is not an ML role.
_NON_ML_FUNCTIONS = [
    r"product",
    r"program",
    r"project",
    r"marketing",
    r"sales",
    r"strategy",
    r"recruit\w*",
    r"talent",
    r"policy",
    r"legal",
    r"finance",
    r"financial",
    r"communications",
    r"(?<!ml\s)(?<!ai\s)(?<!learning\s)(?<!model\s)operations",
    r"partnerships?",
    r"business",
    r"customer",
    r"design",
    r"go[\s-]+to[\s-]+market",
    r"gtm",
    r"people",
    r"hr",
    r"annotation",
    r"label(?:l)?ing",
    r"data\s+quality",
    r"community",
    r"content",
    r"support",
    r"account",
    r"audit",
    r"compliance",
    r"innovation",
    r"automation",
]

# Sciences a "Research Scientist" may work in that are not ML (used only when nothing says ML).
_NON_ML_SCIENCES = [
    r"batter(?:y|ies)",
    r"materials?",
    r"chemi\w*",
    r"biolog\w*",
    r"bio\w*",
    r"synthetic",
    r"clinical",
    r"pharma\w*",
    r"drug",
    r"physics",
    r"optic\w*",
    r"photonics?",
    r"semiconductor\w*",
    r"hardware",
    r"rf",
    r"antenna\w*",
    r"mechanical",
    r"electrical",
    r"networking",
    r"network",
    r"storage",
    r"database\w*",
    r"cryptograph\w*",
    r"economics?",
    r"psycholog\w*",
    r"social",
    # Research about people, products and markets rather than models ("People Research Scientist").
    r"people",
    r"design",
    r"behaviou?r\w*",
    r"human\s+factors",
    r"organi[sz]ational",
    r"consumer",
    r"market(?:ing)?",
    r"survey\w*",
    r"ux",
    r"user",
    r"energy",
    r"climate",
    r"geolog\w*",
    r"food",
    r"agronom\w*",
    r"nutrition",
    r"cloud",
    r"security",
    r"quantitative",
    r"quant",
    r"seeds?",
    r"plants?",
    r"crops?",
    r"agricultur\w*",
    r"immuno\w*",
    r"assays?",
    r"toxicolog\w*",
    r"epidemiolog\w*",
    r"evidence\s+generation",
    r"method\s+development",
]

# The rest of a "Member of Technical Staff" title naming a function that is not ML work ("MTS, iOS").
_MTS_NON_ML = [
    r"ios",
    r"android",
    r"mobile",
    r"web",
    r"front[\s-]*end",
    r"back[\s-]*end",
    r"full[\s-]*stack",
    r"devrel",
    r"developer\s+relations",
    r"design\w*",
    r"ux",
    r"ui",
]

# Department names that settle an ambiguous title as ML (besides the title's own ML terms).
_ML_DEPARTMENTS = [r"research", r"deepmind", r"fair", r"brain", r"science"]

# Phrases in a description that show the work is ML; two distinct ones settle an ambiguous title.
_ML_DESCRIPTION_TERMS = [
    r"machine learning",
    r"deep learning",
    r"neural networks?",
    r"pytorch",
    r"tensorflow",
    r"jax",
    r"large language models?",
    r"llms?",
    r"transformers?",
    r"training (?:runs?|large|models?|infrastructure)",
    r"train(?:ing)? (?:and|&) (?:evaluat\w+|serv\w+|deploy\w+) models?",
    r"pre-?training",
    r"post-?training",
    r"fine-?tun\w+",
    r"reinforcement learning",
    r"rlhf",
    r"computer vision",
    r"natural language processing",
    r"nlp",
    r"model inference",
    r"inference",
    r"cuda",
    r"gpus?",
    r"foundation models?",
    r"diffusion models?",
    r"embeddings?",
    r"evals",
    r"interpretability",
    r"ml models?",
    r"ai research",
]

# Domains, in priority order: strong infra words, then the application areas, then weak infra words.
_DOMAINS: list[tuple[str, str]] = [
    (
        "ml_infra",
        r"mlops|ml\s+ops|(?:ml|machine\s+learning)\s+operations|infrastructure|infra|inference|serving|compilers?|kernels?|cuda|"
        r"distributed\s+training|pre-?training(?!\s+data)|gpu\s+clusters?|supercomput\w*",
    ),
    ("perception", r"perception|computer\s+vision|cv|vision|image|video|3d|lidar|camera|sensor\s+fusion|slam"),
    ("speech", r"speech|asr|tts|text[\s-]+to[\s-]+speech|audio|voice"),
    ("nlp", r"nlp|natural\s+language|language\s+models?|llms?|conversational|chatbots?"),
    ("recsys", r"recommend\w*|recsys|ranking|relevance|personali[sz]ation|search|feeds?"),
    (
        "ml_infra",
        r"(?:ml|ai|machine\s+learning|deep\s+learning|model)\s+(?:platforms?|systems|tools|tooling)|sre|site\s+reliability|"
        r"performance|accelerat\w*|clusters?",
    ),
]

# Two job titles offered as one ("Research Scientist/Engineer", "Junior Analyst-Data Scientist").
_SLASH = re.compile(r"\s/\s")
_JOINING_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
# A dash that ends a word before a space separates too ("Program Associate- Digital Health & AI").
_SEGMENT_SPLIT = re.compile(r"[,|:;()\[\]]|\s[-\u2013\u2014]+\s|(?<=\w)[-\u2013\u2014]+\s|\s@\s")
# Job-grade nouns some employers put after the job itself ("Data Scientist Analyst I").
_GRADE_NOUN = re.compile(r"(?:analyst|associate|specialist)s?\b")
# A segment that only names a level ("Associate - AI Infrastructure Engineer") does not name the job.
_LEVEL_ONLY_SEGMENT = re.compile(r"^[\s/&,.-]*(?:(?:associate|officer|senior|junior|sr|jr)[\s/&,.-]*)+$")
_HEAD_RES = {kind: re.compile(r"(?<![\w-])(?:" + "|".join(pats) + r")(?![\w-])") for kind, pats in _HEADS.items()}
_ML_TERMS_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_ML_TERMS) + r")(?![\w-])")
# "AI" alone names a topic more often than the work: enough for an engineer, not for an intern.
_WEAK_ML_TERMS = frozenset({"ai", "a.i.", "artificial intelligence", "gen ai", "genai"})
# Job nouns of the people who build models; with one of them, "AI" does name the work.
_BUILDER_NOUN_RE = re.compile(
    r"(?<![\w-])(?:engineer\w*|developer\w*|programmer\w*|scientists?|researchers?|research|mle|swe)(?![\w-])"
)
_AI_ADJACENT_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_AI_ADJACENT) + r")")
_CUSTOMER_FACING_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_CUSTOMER_FACING) + r")(?![\w-])")
_NON_ML_FUNCTIONS_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_NON_ML_FUNCTIONS) + r")(?![\w-])")
_MTS_NON_ML_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_MTS_NON_ML) + r")(?![\w-])")
_NON_ML_SCIENCES_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_NON_ML_SCIENCES) + r")(?![\w-])")
_ML_DEPARTMENTS_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_ML_DEPARTMENTS) + r")(?![\w-])")
_ML_DESCRIPTION_RE = re.compile(r"(?<![\w-])(?:" + "|".join(_ML_DESCRIPTION_TERMS) + r")(?![\w-])")
_DOMAIN_RES = [(family, re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])")) for family, p in _DOMAINS]
_RESEARCH_WORD = re.compile(r"(?<![\w-])research")
_DATA_SCIENCE = re.compile(r"(?<![\w-])data\s+scien")
_APPLIED_SCIENCE = re.compile(r"(?<![\w-])applied\s+scien")
_TRAINEE_RESEARCH = re.compile(r"(?<![\w-])(?:resident|residency|post-?doc\w*|postdoctoral|fellow)")
# Cheap screen for the description: only scanned when the title leaves the question open.
_DESCRIPTION_SCAN_LIMIT = 20_000


class _Title(NamedTuple):
    kind: str | None  # head kind from _HEADS, or None when the title names no job
    neg_in_segment: bool  # a non-ML job noun sits before the head in its segment ("Data Analyst Intern")
    function_in_head: bool  # a non-ML function is named in the deciding segment ("Marketing Intern, AI")
    head_ml: bool  # the deciding segment itself names ML work other than a bare "AI" ("Data Science Manager")
    customer_facing: bool  # deployment at customers ("Forward Deployed"), not building models
    mts_rest_non_ml: bool  # "Member of Technical Staff" whose other words name non-ML work ("MTS - Frontend")
    mts: bool  # the title is a "Member of Technical Staff" one
    ml_signal: bool
    strong_ml_signal: bool  # an ML term other than a bare "AI", or "AI" next to a builder's job noun
    non_ml_function: bool
    non_ml_science: bool
    domain: str | None
    research: bool
    data_science: bool
    applied_science: bool
    trainee_research: bool


def _normalise(text: str) -> str:
    text = text.lower().replace("/", " / ").replace("_", " ").replace("&", " & ")
    return " ".join(text.split())


def _head(segment: str) -> tuple[str | None, bool]:
    """The head noun's kind in one segment, and whether a non-ML job noun precedes it.

    A segment offering two jobs ("Research Scientist / Engineer", "Data Scientist / Economist", "Analyst-Data
    Scientist") is read by the first one that names a job, as the employer lists the main one first; a non-ML
    first job yields to a later data / applied scientist, as a later segment does.
    """
    parts = _SLASH.split(segment)
    if len(parts) == 1:
        parts = _JOINING_HYPHEN.split(segment)
    heads = [h for h in map(_head_in, parts) if h[0] is not None] if len(parts) > 1 else []
    if len(parts) > 1 and heads and (len(heads) > 1 or _SLASH.search(segment)):
        kind, neg_before = heads[0]
        if kind == "neg":
            later = next((k for k, _ in heads[1:] if k in ("ds", "as")), None)
            if later is not None:
                return later, False
        return kind, neg_before
    return _head_in(segment)


def _head_in(segment: str) -> tuple[str | None, bool]:
    """The head noun's kind in one job title (no alternatives), and whether a non-ML job noun precedes it."""
    best: tuple[int, int, str] | None = None  # (end, -start, kind)
    neg_spans: list[int] = []
    scientist_ends: list[int] = []
    for kind, pattern in _HEAD_RES.items():
        for m in pattern.finditer(segment):
            if kind == "neg":
                neg_spans.append(m.end())
            elif kind in ("ds", "as"):
                scientist_ends.append(m.end())
            key = (m.end(), -m.start(), kind)
            if best is None or key[:2] > best[:2]:
                best = key
    if best is None:
        return None, False
    kind, start = best[2], -best[1]
    if kind == "neg" and _GRADE_NOUN.match(segment, start) and any(0 <= start - end <= 1 for end in scientist_ends):
        # "Data Scientist Analyst I": a grade word after the scientist does not change the job.
        return "ds", False
    return kind, any(end <= start for end in neg_spans)


@lru_cache(maxsize=8192)
def _read_title(title: str) -> _Title:
    text = _normalise(title)
    cleaned = _AI_ADJACENT_RE.sub(" ", text)
    segments = _SEGMENT_SPLIT.split(cleaned)
    kind: str | None = None
    neg_before = False
    position = len(segments)
    for i, segment in enumerate(segments):
        if _LEVEL_ONLY_SEGMENT.match(segment) and any(_head(rest)[0] for rest in segments[i + 1 :]):
            continue
        kind, neg_before = _head(segment)
        if kind is not None:
            position = i
            break
    head_segment = segments[position] if position < len(segments) else ""
    later = [_head(segment)[0] for segment in segments[position + 1 :]]
    mts_rest_non_ml = False
    mts = kind == "mts"
    if mts:
        # The MTS label says nothing about the work; the job named after it does ("MTS - Backend Engineer").
        rest = " ".join(segments[position + 1 :]) + " " + _HEAD_RES["mts"].sub(" ", head_segment)
        named = next((k for k in later if k is not None and k != "mts"), None)
        mts_rest_non_ml = named == "neg" or bool(_MTS_NON_ML_RE.search(rest))
        if named is not None and named != "neg":
            kind = named
    elif kind == "neg" and any(k in ("ds", "as") for k in later):
        # "Exploitation Specialist - Data Scientist": a later segment names the actual job.
        kind = next(k for k in later if k in ("ds", "as"))
    domain = next((family for family, pattern in _DOMAIN_RES if pattern.search(cleaned)), None)
    return _Title(
        kind=kind,
        neg_in_segment=neg_before,
        function_in_head=bool(_NON_ML_FUNCTIONS_RE.search(head_segment)),
        head_ml=any(m.group(0) not in _WEAK_ML_TERMS for m in _ML_TERMS_RE.finditer(head_segment)),
        customer_facing=bool(_CUSTOMER_FACING_RE.search(cleaned)),
        mts_rest_non_ml=mts_rest_non_ml,
        mts=mts,
        ml_signal=bool(_ML_TERMS_RE.search(cleaned)),
        strong_ml_signal=any(m.group(0) not in _WEAK_ML_TERMS for m in _ML_TERMS_RE.finditer(cleaned))
        or bool(_BUILDER_NOUN_RE.search(cleaned)),
        non_ml_function=bool(_NON_ML_FUNCTIONS_RE.search(cleaned)),
        non_ml_science=bool(_NON_ML_SCIENCES_RE.search(cleaned)),
        domain=domain,
        research=bool(_RESEARCH_WORD.search(cleaned)),
        data_science=bool(_DATA_SCIENCE.search(cleaned)),
        applied_science=bool(_APPLIED_SCIENCE.search(cleaned)),
        trainee_research=bool(_TRAINEE_RESEARCH.search(cleaned)),
    )


def _department_signal(department: str | None) -> tuple[bool, bool, bool]:
    """(names ML work, names a research org, names a non-ML science) for a department string."""
    if not department:
        return False, False, False
    dept = _AI_ADJACENT_RE.sub(" ", _normalise(department))
    return (
        bool(_ML_TERMS_RE.search(dept)),
        bool(_ML_DEPARTMENTS_RE.search(dept)),
        bool(_NON_ML_SCIENCES_RE.search(dept)),
    )


def _description_ml_terms(description: str | None) -> int | None:
    """How many distinct ML phrases the description uses; None when there is no description."""
    if not description:
        return None
    found = {m.group(0) for m in _ML_DESCRIPTION_RE.finditer(description[:_DESCRIPTION_SCAN_LIMIT].lower())}
    return len(found)


def _family(t: _Title) -> str:
    if t.kind == "ds" or (t.kind in ("mgmt", "trainee", None) and t.data_science):
        return "data_scientist"
    if t.kind == "as" or (t.kind in ("mgmt", "trainee", None) and t.applied_science):
        return "applied_scientist"
    if t.kind in ("rs", "sci") or (t.kind == "trainee" and (t.research or t.trainee_research)):
        return "research_scientist"
    if t.kind == "re":
        return "research_engineer"
    if t.kind == "mgmt" and t.research:
        return "research_scientist"
    if t.domain:
        return t.domain
    return "research_engineer" if t.kind == "mts" else "ml_engineer"


def _decide(t: _Title, department: str | None, description: str | None) -> bool:
    kind = t.kind
    if kind == "neg":
        return False
    if kind in ("ds", "as"):
        return True
    # A manager of ML work named in the manager's own words keeps it whatever team follows ("Data Science
    # Manager, Product"); otherwise a non-ML function anywhere is what is managed ("Head of Product, AI").
    if kind == "mgmt" and (t.neg_in_segment or (t.non_ml_function and not t.head_ml)):
        return False
    if kind in ("eng", None) and t.customer_facing:
        return False
    # A trainee's function is read where the trainee is named: "Marketing Intern, AI" is not ML, but
    # "Research Scientist Intern - Robotic Control Policy" is.
    if kind == "trainee" and (t.function_in_head or t.neg_in_segment):
        return False
    if kind == "trainee" and t.ml_signal and not (t.strong_ml_signal or t.trainee_research):
        # "AI Game Production Intern", "Internship - AI Venture Development": AI is the topic, not the work.
        return False
    if t.mts_rest_non_ml:
        # "MTS, iOS" / "MTS - DevRel": the named function outranks an ML-sounding team or department.
        return False
    if t.ml_signal:
        return True
    dept_ml, dept_research, dept_non_ml = _department_signal(department)
    if kind in ("rs", "re") or (kind == "trainee" and t.research):
        if t.non_ml_science or dept_non_ml:
            return False
        if dept_ml or dept_research:
            return True
        terms = _description_ml_terms(description)
        return terms is None or terms >= 1
    if kind in ("sci", "mts"):
        if t.non_ml_science or dept_non_ml:
            return False
        if dept_ml or dept_research:
            return True
        terms = _description_ml_terms(description)
        return terms is not None and terms >= 2
    if kind == "eng":
        # "MTS - Software Engineer" in a research organisation is research engineering.
        return dept_ml or (t.mts and dept_research)
    return False


def classify_role(title: str, department: str | None = None, description: str | None = None) -> RoleResult:
    """Decide from the title; the department and description settle titles that leave it open."""
    if not title:
        return RoleResult(False, None)
    t = _read_title(title)
    if not _decide(t, department, description):
        return RoleResult(False, None)
    if t.domain is None and department and t.kind in ("eng", "mts", "mgmt", None):
        # "Software Engineer" in "ML Infrastructure": the department names the domain the title leaves out.
        dept = _AI_ADJACENT_RE.sub(" ", _normalise(department))
        domain = next((family for family, pattern in _DOMAIN_RES if pattern.search(dept)), None)
        if domain is not None:
            return RoleResult(True, domain)
    return RoleResult(True, _family(t))


def title_is_ml(title: str) -> bool:
    """Cheap title-only decision used by spiders before any detail request.

    Keeps everything `classify_role` could call ML once it sees the department and description: plain
    "Scientist" and "Member of Technical Staff" titles pass, non-ML sciences do not.
    """
    if not title:
        return False
    t = _read_title(title)
    if t.kind in ("sci", "mts") and not t.non_ml_science and not t.mts_rest_non_ml:
        return True
    return _decide(t, None, None)
