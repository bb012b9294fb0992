"""Primary city / region / country and remote status from location strings as platforms show them.

Decisions:

- The primary place is the first location (in list order, then within a string split at ``|``, ``;``, `` / ``
  and `` or ``) that names a city, region or country. "3 Locations" / "Multiple Locations" are skipped.
- ``country`` is ISO 3166 alpha-2. ``region`` is the state/province code for the US, Canada and Australia
  ("CA", "ON", "NSW") and the name as shown elsewhere ("Karnataka", "England"); for a known city in the US,
  Canada, Australia or India a missing region is filled from the city table.
- ``city`` is as shown, except the city table's canonical names ("NYC" / "New York City" -> "New York",
  "Bangalore" -> "Bengaluru", "San Francisco Bay Area" -> "San Francisco").
- "City, XX" where XX is both a US state and a country code ("Munich, DE") is the country when the city is a
  known city of that country, else the US state ("Dover, DE").
- Places written with spaces only ("US PA Philadelphia", "Pune Maharashtra India") are read word by word: a
  country at either end, a region code in capitals or a region name, then a known city or the words next to the
  region. A site after the place ("Englewood, CO CO RMN") or a street or building before it ("Tiedeman Road,
  Brooklyn, OH") is not the city; a lowercase two-letter last part is a country code ("Hyderabad, in"); in a
  city-state the city is the country's ("NTU Main Campus, Singapore" -> Singapore). "OR" in capitals is Oregon,
  not "or".
- ``remote``: the platform's own value wins; else "remote" if any location says remote (the job can be done
  remotely), else "hybrid", else "onsite" when a location says on-site / in-office; None when nothing says.
  A city alone does not make a job onsite.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import NamedTuple


class Place(NamedTuple):
    city: str | None
    region: str | None
    country: str | None  # ISO 3166 alpha-2
    remote: str | None  # remote | hybrid | onsite | None


# Known cities: "alias; alias" -> (canonical city, region, country). Used to canonicalise a city, to find the
# country of a bare city ("Berlin"), and to settle "Munich, DE". Add a city in one line.
_CITIES: list[tuple[str, str, str | None, str]] = [
    ("new york; new york city; nyc; manhattan", "New York", "NY", "US"),
    ("brooklyn", "Brooklyn", "NY", "US"),
    ("san francisco; sf; san francisco bay area; sf bay area; bay area", "San Francisco", "CA", "US"),
    ("seattle", "Seattle", "WA", "US"),
    ("bellevue", "Bellevue", "WA", "US"),
    ("redmond", "Redmond", "WA", "US"),
    ("kirkland", "Kirkland", "WA", "US"),
    ("mountain view", "Mountain View", "CA", "US"),
    ("palo alto", "Palo Alto", "CA", "US"),
    ("menlo park", "Menlo Park", "CA", "US"),
    ("sunnyvale", "Sunnyvale", "CA", "US"),
    ("san jose", "San Jose", "CA", "US"),
    ("santa clara", "Santa Clara", "CA", "US"),
    ("cupertino", "Cupertino", "CA", "US"),
    ("los angeles; la", "Los Angeles", "CA", "US"),
    ("san diego", "San Diego", "CA", "US"),
    ("foster city", "Foster City", "CA", "US"),
    ("redwood city", "Redwood City", "CA", "US"),
    ("oakland", "Oakland", "CA", "US"),
    ("irvine", "Irvine", "CA", "US"),
    ("austin", "Austin", "TX", "US"),
    ("dallas", "Dallas", "TX", "US"),
    ("houston", "Houston", "TX", "US"),
    ("boston", "Boston", "MA", "US"),
    ("chicago", "Chicago", "IL", "US"),
    ("pittsburgh", "Pittsburgh", "PA", "US"),
    ("philadelphia", "Philadelphia", "PA", "US"),
    ("atlanta", "Atlanta", "GA", "US"),
    ("denver", "Denver", "CO", "US"),
    ("boulder", "Boulder", "CO", "US"),
    ("washington dc; washington d.c.; dc", "Washington", "DC", "US"),
    ("arlington", "Arlington", "VA", "US"),
    ("miami", "Miami", "FL", "US"),
    ("raleigh", "Raleigh", "NC", "US"),
    ("salt lake city", "Salt Lake City", "UT", "US"),
    ("phoenix", "Phoenix", "AZ", "US"),
    ("portland", "Portland", "OR", "US"),
    ("minneapolis", "Minneapolis", "MN", "US"),
    ("detroit", "Detroit", "MI", "US"),
    ("ann arbor", "Ann Arbor", "MI", "US"),
    ("toronto", "Toronto", "ON", "CA"),
    ("waterloo", "Waterloo", "ON", "CA"),
    ("ottawa", "Ottawa", "ON", "CA"),
    ("montreal; montréal", "Montreal", "QC", "CA"),
    ("vancouver", "Vancouver", "BC", "CA"),
    ("calgary", "Calgary", "AB", "CA"),
    ("edmonton", "Edmonton", "AB", "CA"),
    ("sydney", "Sydney", "NSW", "AU"),
    ("melbourne", "Melbourne", "VIC", "AU"),
    ("bengaluru; bangalore", "Bengaluru", "Karnataka", "IN"),
    ("hyderabad", "Hyderabad", "Telangana", "IN"),
    ("pune", "Pune", "Maharashtra", "IN"),
    ("mumbai; bombay", "Mumbai", "Maharashtra", "IN"),
    ("chennai", "Chennai", "Tamil Nadu", "IN"),
    ("gurugram; gurgaon", "Gurugram", "Haryana", "IN"),
    ("noida", "Noida", "Uttar Pradesh", "IN"),
    ("new delhi; delhi", "New Delhi", "Delhi", "IN"),
    ("london", "London", None, "GB"),
    ("edinburgh", "Edinburgh", None, "GB"),
    ("manchester", "Manchester", None, "GB"),
    ("dublin", "Dublin", None, "IE"),
    ("berlin", "Berlin", None, "DE"),
    ("munich; münchen; muenchen", "Munich", None, "DE"),
    ("hamburg", "Hamburg", None, "DE"),
    ("frankfurt", "Frankfurt", None, "DE"),
    ("tübingen; tuebingen; tubingen", "Tübingen", None, "DE"),
    ("paris", "Paris", None, "FR"),
    ("amsterdam", "Amsterdam", None, "NL"),
    ("zurich; zürich", "Zurich", None, "CH"),
    ("geneva", "Geneva", None, "CH"),
    ("stockholm", "Stockholm", None, "SE"),
    ("copenhagen", "Copenhagen", None, "DK"),
    ("oslo", "Oslo", None, "NO"),
    ("helsinki", "Helsinki", None, "FI"),
    ("madrid", "Madrid", None, "ES"),
    ("barcelona", "Barcelona", None, "ES"),
    ("lisbon", "Lisbon", None, "PT"),
    ("milan", "Milan", None, "IT"),
    ("warsaw", "Warsaw", None, "PL"),
    ("krakow; kraków", "Krakow", None, "PL"),
    ("prague", "Prague", None, "CZ"),
    ("tel aviv; tel aviv-yafo", "Tel Aviv", None, "IL"),
    ("haifa", "Haifa", None, "IL"),
    ("singapore", "Singapore", None, "SG"),
    ("hong kong", "Hong Kong", None, "HK"),
    ("tokyo", "Tokyo", None, "JP"),
    ("seoul", "Seoul", None, "KR"),
    ("beijing", "Beijing", None, "CN"),
    ("shanghai", "Shanghai", None, "CN"),
    ("shenzhen", "Shenzhen", None, "CN"),
    ("taipei", "Taipei", None, "TW"),
    ("sao paulo; são paulo", "São Paulo", None, "BR"),
    ("mexico city; ciudad de mexico", "Mexico City", None, "MX"),
    ("dubai", "Dubai", None, "AE"),
    ("mississauga", "Mississauga", "ON", "CA"),
    ("quebec city; québec", "Quebec City", "QC", "CA"),
    ("brisbane", "Brisbane", "QLD", "AU"),
    ("perth", "Perth", "WA", "AU"),
    ("auckland", "Auckland", None, "NZ"),
    ("wellington", "Wellington", None, "NZ"),
    ("kolkata; calcutta", "Kolkata", "West Bengal", "IN"),
    ("ahmedabad", "Ahmedabad", "Gujarat", "IN"),
    ("ldn", "London", None, "GB"),
    ("cambridge uk", "Cambridge", None, "GB"),
    ("belfast", "Belfast", None, "GB"),
    ("cork", "Cork", None, "IE"),
    ("cologne; köln", "Cologne", None, "DE"),
    ("stuttgart", "Stuttgart", None, "DE"),
    ("lyon", "Lyon", None, "FR"),
    ("toulouse", "Toulouse", None, "FR"),
    ("rotterdam", "Rotterdam", None, "NL"),
    ("utrecht", "Utrecht", None, "NL"),
    ("eindhoven", "Eindhoven", None, "NL"),
    ("brussels", "Brussels", None, "BE"),
    ("vienna; wien", "Vienna", None, "AT"),
    ("rome", "Rome", None, "IT"),
    ("turin; torino", "Turin", None, "IT"),
    ("valencia", "Valencia", None, "ES"),
    ("porto", "Porto", None, "PT"),
    ("wroclaw; wrocław", "Wroclaw", None, "PL"),
    ("gdansk; gdańsk", "Gdansk", None, "PL"),
    ("budapest", "Budapest", None, "HU"),
    ("bucharest", "Bucharest", None, "RO"),
    ("sofia", "Sofia", None, "BG"),
    ("belgrade", "Belgrade", None, "RS"),
    ("zagreb", "Zagreb", None, "HR"),
    ("athens", "Athens", None, "GR"),
    ("kyiv; kiev", "Kyiv", None, "UA"),
    ("vilnius", "Vilnius", None, "LT"),
    ("riga", "Riga", None, "LV"),
    ("tallinn", "Tallinn", None, "EE"),
    ("istanbul", "Istanbul", None, "TR"),
    ("cairo", "Cairo", None, "EG"),
    ("lagos", "Lagos", None, "NG"),
    ("nairobi", "Nairobi", None, "KE"),
    ("cape town", "Cape Town", None, "ZA"),
    ("johannesburg", "Johannesburg", None, "ZA"),
    ("buenos aires", "Buenos Aires", None, "AR"),
    ("bogota; bogotá", "Bogotá", None, "CO"),
    ("lima", "Lima", None, "PE"),
    ("rio de janeiro", "Rio de Janeiro", None, "BR"),
    ("osaka", "Osaka", None, "JP"),
    ("hangzhou", "Hangzhou", None, "CN"),
    ("guangzhou", "Guangzhou", None, "CN"),
    ("hsinchu", "Hsinchu", None, "TW"),
    ("hkg", "Hong Kong", None, "HK"),
    ("kuala lumpur", "Kuala Lumpur", None, "MY"),
    ("jakarta", "Jakarta", None, "ID"),
    ("bangkok", "Bangkok", None, "TH"),
    ("manila", "Manila", None, "PH"),
    ("ho chi minh; ho chi minh city; saigon", "Ho Chi Minh City", None, "VN"),
    ("hanoi", "Hanoi", None, "VN"),
    ("tel aviv district", "Tel Aviv", None, "IL"),
]
# City-states: whatever the part before it names (a campus, a district), the city is the country's city.
_CITY_STATES = {"SG": "Singapore", "HK": "Hong Kong"}
# Parts of a location string that name a street, a building or a campus rather than a place.
_PREMISES = re.compile(
    r"\b(?:road|street|avenue|ave|boulevard|blvd|parkway|pkwy|drive|building|bldg|campus|cent(?:er|re)|tower|"
    r"floor|suite|hq|headquarters|office|plaza|university|college|hospital|school)\b",
    re.IGNORECASE,
)

# Country names platforms use that pycountry does not spell this way.
_COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "us": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
    "taiwan": "TW",
    "czech republic": "CZ",
    "turkey": "TR",
    "holland": "NL",
    "the netherlands": "NL",
    "deutschland": "DE",
    "uae": "AE",
    "iran": "IR",
}

# Subdivisions understood as regions, per country; US/CA/AU regions are reported by code.
_REGION_COUNTRIES = ("US", "CA", "AU", "IN", "DE")
_REGION_AS_CODE = frozenset({"US", "CA", "AU"})
_GB_NATIONS = {"england": "England", "scotland": "Scotland", "wales": "Wales", "northern ireland": "Northern Ireland"}

# Words that are neither places nor remote modes: continents, time zones, "Anywhere".
_NOT_A_PLACE = re.compile(
    r"^(?:emea|apac|latam|amer|americas|north america|south america|europe|eu|asia|asia pacific|africa|"
    r"middle east|worldwide|global|anywhere|international|multiple|various|nationwide|any|"
    r"[a-z]{2,4} time ?zones?|(?:us|eu)?\s*time ?zones?|flexible|tbd|n/?a|other)$"
)
_COUNT_OF_LOCATIONS = re.compile(r"^\s*(?:\d+|multiple|several|various|all|many)\s+locations?\s*$", re.IGNORECASE)
_REMOTE = re.compile(
    r"\b(?:fully\s+)?remote(?:[\s-]+(?:first|friendly|ok|eligible|only))?\b|\bwork\s+from\s+home\b|"
    r"\bwfh\b|\btelecommute\b",
    re.IGNORECASE,
)
_HYBRID = re.compile(r"\bhybrid\b", re.IGNORECASE)
_ONSITE = re.compile(r"\bon[\s-]?site\b|\bin[\s-]office\b|\bin[\s-]person\b|\boffice[\s-]based\b", re.IGNORECASE)
# " or " joins places; "OR" in capitals is Oregon ("US OR Beaverton").
_SPLIT_PLACES = re.compile(r"\s*[|;•:]\s*|\s+/\s+|\s+[oO]r\s+")
_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
_EDGE_JUNK = re.compile(r"^[\s,:;()\[\]\-\u2013\u2014]+|[\s,:;()\[\]\-\u2013\u2014]+$")
_LEADING_WORDS = re.compile(r"^(?:in|based\s+in|from|within|located\s+in)\s+", re.IGNORECASE)
_EMPTY_PARENS = re.compile(r"\(\s*\)|\[\s*\]")
# Country-region-city as Workday tenants write it: "US-CA-Menlo Park", and "USA.VA.Reston" (city without spaces).
_WORKDAY = re.compile(r"^([A-Za-z]{2,3})\s*[-.]\s*([A-Za-z]{2,3})\s*[-.]\s*([^.]+)$")
_CODE_PREFIX = re.compile(r"^([A-Z]{2,3})\s*-\s*(.+)$")


def _fold(text: str) -> str:
    """Lowercase ASCII key: accents dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace(".", ". ").split()).replace(". ", ".").strip(". ") or text.lower()


class _Tables(NamedTuple):
    countries: dict[str, str]  # folded name -> alpha-2
    codes: dict[str, str]  # alpha-2 / alpha-3 (upper) -> alpha-2
    regions: dict[str, dict[str, str]]  # country -> folded name or code -> region as reported
    cities: dict[str, tuple[str, str | None, str]]  # folded alias -> (city, region, country)


@cache
def _tables() -> _Tables:
    """Built on first use: pycountry's data takes a moment to load and most imports never need it."""
    import pycountry

    countries: dict[str, str] = {}
    codes: dict[str, str] = {}
    for c in pycountry.countries:
        codes[c.alpha_2] = c.alpha_2
        codes[c.alpha_3] = c.alpha_2
        for name in (c.name, getattr(c, "official_name", None), getattr(c, "common_name", None)):
            if name:
                countries[_fold(name)] = c.alpha_2
                # "Korea, Republic of" is also written "Korea"
                countries.setdefault(_fold(name.split(",")[0]), c.alpha_2)
    countries.update(_COUNTRY_ALIASES)
    regions: dict[str, dict[str, str]] = {}
    for country in _REGION_COUNTRIES:
        table: dict[str, str] = {}
        for sub in pycountry.subdivisions.get(country_code=country) or []:
            code = sub.code.split("-", 1)[1]
            if country == "IN" and sub.type not in ("State", "Union territory"):
                continue
            ascii_name = unicodedata.normalize("NFKD", sub.name).encode("ascii", "ignore").decode()
            shown = code if country in _REGION_AS_CODE else ascii_name
            table[_fold(sub.name)] = shown
            table[code.lower()] = shown
        regions[country] = table
    regions["IN"].update({"karnataka": "Karnataka", "haryana": "Haryana", "maharashtra": "Maharashtra"})
    regions["GB"] = dict(_GB_NATIONS)
    cities: dict[str, tuple[str, str | None, str]] = {}
    for aliases, city, region, country in _CITIES:
        for alias in aliases.split(";"):
            cities[_fold(alias)] = (city, region, country)
    return _Tables(countries, codes, regions, cities)


def _country(token: str, *, allow_code: bool = True) -> str | None:
    t = _tables()
    found = t.countries.get(_fold(token))
    if found:
        return found
    stripped = token.strip()
    if allow_code and stripped.isupper() and stripped in t.codes:
        return t.codes[stripped]
    return None


def _region(token: str, country: str | None) -> tuple[str, str] | None:
    """(region as reported, country) when `token` is a region of `country` (or of US/CA/AU when unknown)."""
    t = _tables()
    key = _fold(token)
    candidates = [country] if country else ["US", "CA", "AU"]
    for c in candidates:
        table = t.regions.get(c or "")
        if table and key in table:
            # Two-letter codes must be written as codes ("CA"), not as words that happen to match ("in").
            if len(key) <= 3 and not token.strip().isupper():
                continue
            return table[key], c  # type: ignore[return-value]
    return None


def _place_from(text: str) -> tuple[str | None, str | None, str | None]:
    """City, region, country from one location with any remote words already removed."""
    t = _tables()
    text = _ZIP.sub(" ", text)
    text = _EDGE_JUNK.sub("", _LEADING_WORDS.sub("", _EDGE_JUNK.sub("", text)))
    if len(text) < 2 or (len(text) == 2 and text.islower()):
        return None, None, None
    if _COUNT_OF_LOCATIONS.match(text) or _NOT_A_PLACE.match(_fold(text)):
        return None, None, None
    m = _WORKDAY.match(text)
    if m and m.group(1).upper() in t.codes:
        country = t.codes[m.group(1).upper()]
        found = _region(m.group(2).upper(), country)
        return _finish(m.group(3).strip(), found[0] if found else m.group(2), country)
    m = _CODE_PREFIX.match(text)
    if m and m.group(1) in t.codes and "," not in text:
        return _finish(m.group(2).strip(), None, t.codes[m.group(1)])
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 1 and re.search(r"\s[-\u2013\u2014]\s", text):
        parts = [p.strip() for p in re.split(r"\s[-\u2013\u2014]\s", text) if p.strip()]
    if not parts:
        return None, None, None
    if len(parts) == 1:
        return _single(parts[0])
    if _country(parts[0]) and not _country(parts[-1]):
        # Largest unit first ("Germany - Berlin", "US, CA, Santa Clara"): read it the usual way round.
        parts.reverse()
    country: str | None = None
    region: str | None = None
    last = parts[-1]
    known = t.cities.get(_fold(parts[0]))
    if known and len(parts) == 2 and _region(last, known[2]):
        # "Atlanta, Georgia" is the US state, not the country.
        found = _region(last, known[2])
        return _finish(parts[0], found[0] if found else None, known[2])
    last_is_state_code = last.isupper() and len(last) == 2 and last.lower() in t.regions["US"]
    if last_is_state_code:
        known = t.cities.get(_fold(parts[0]))
        if known and known[2] == last and len(parts) == 2:
            country = last
            parts.pop()
    else:
        country = _country(last) or _lowercase_code(last)
        if country:
            parts.pop()
        elif len(parts) >= 2 and " " in last:
            # "Englewood, CO CO RMN", "Bangalore, India Kalyani Platina": the first word places it, the rest is
            # a site name.
            head = last.split()[0]
            state = _region(head, "US") if head.isupper() and len(head) == 2 else None
            if state:
                parts[-1] = head
            elif _country(head, allow_code=False):
                country = _country(head, allow_code=False)
                parts.pop()
    if len(parts) >= 2 or (parts and country is None and len(parts) == 1 and _region(parts[-1], None)):
        found = _region(parts[-1], country)
        if found:
            region, country = found
            parts.pop()
        elif country is not None and len(parts) >= 2:
            region = parts.pop()
    if len(parts) > 1 and country is None and _country(parts[-1]):
        country = _country(parts.pop())
    if len(parts) == 1 and " " in parts[0] and region is None and t.cities.get(_fold(parts[0])) is None:
        # "Bangalore Karnataka, India": the words of the one part left may hold the region too.
        scanned = _scan_words(parts[0])
        if scanned is not None and (scanned[2] is None or country is None or scanned[2] == country):
            return _finish(scanned[0], scanned[1], country or scanned[2])
    return _finish(_pick_city(parts), region, country)


def _pick_city(parts: list[str]) -> str | None:
    """The city among the parts left: a known city, else the first that is not a street or building."""
    if not parts:
        return None
    t = _tables()
    for part in parts:
        if _fold(part) in t.cities:
            return part
    return next((part for part in parts if not _PREMISES.search(part)), parts[0])


def _lowercase_code(token: str) -> str | None:
    """A country written as a lowercase code after a comma, as some boards do ("Hyderabad, in")."""
    stripped = token.strip()
    if len(stripped) == 2 and stripped.isalpha() and stripped.islower():
        return _tables().codes.get(stripped.upper())
    return None


def _is_state_code(token: str) -> bool:
    return len(token) == 2 and token.isupper() and token.lower() in _tables().regions["US"]


def _known_city_of(words: list[str], country: str) -> bool:
    known = _tables().cities.get(_fold(" ".join(words)))
    return known is not None and known[2] == country


def _scan_words(text: str) -> tuple[str | None, str | None, str | None] | None:
    """City, region, country from a location written with spaces only: "US PA Philadelphia", "Pune Maharashtra
    India", "Smithfield VA Corporate Building". None when no word is a country, a region or a known city."""
    t = _tables()
    words = text.split()
    country: str | None = None
    region: str | None = None
    # A country at either end ("USA Boston Massachusetts", "Pune Maharashtra India").
    for index in (0, -1):
        if len(words) > 1:
            for size in (3, 2, 1):
                chunk = words[:size] if index == 0 else words[-size:]
                if len(chunk) < len(words):
                    found = _country(" ".join(chunk), allow_code=chunk[0].isupper() and len(chunk) == 1)
                    rest = words[size:] if index == 0 else words[:-size]
                    if found and _is_state_code(" ".join(chunk)) and not _known_city_of(rest, found):
                        # "San Francisco CA", "Atlanta GA": the US state, unless the city is that country's.
                        found = None
                    if found and country is None:
                        country = found
                        words = words[size:] if index == 0 else words[:-size]
                        break
    if country is not None and not words:
        return None
    # A region written as a code (in capitals, in mixed-case text) or as a name of one or two words.
    shouting = text.isupper()
    rest_before, rest_after = words, []
    for i, word in enumerate(words):
        if _fold(word) in t.cities:
            continue  # "Berlin Germany": the city, though Berlin is a state too
        span, candidate = 1, None
        if country and i + 1 < len(words):
            candidate = _region(f"{word} {words[i + 1]}", country)
            span = 2 if candidate else 1
        if candidate is None and word.isupper() and len(word) == 2 and not shouting:
            candidate = _region(word, country or "US")
        if candidate is None and len(word) > 3 and country:
            candidate = _region(word, country)
        if candidate:
            region, country = candidate
            rest_before, rest_after = words[:i], words[i + span :]
            words = rest_before + rest_after
            break
    # A known city (longest run of words first), else the words next to the region.
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            known = t.cities.get(_fold(" ".join(words[start : start + size])))
            if known and (country is None or known[2] == country):
                return known[0], region or known[1], country or known[2]
    if country is None and region is None:
        return None
    city_words = rest_before
    if not city_words:
        # "WI Milwaukee W Galena Street": after a leading region the city ends at a one-letter or street word.
        for word in rest_after:
            if len(word) == 1 or _PREMISES.search(word):
                break
            city_words.append(word)
    city = " ".join(w for w in city_words if not _PREMISES.search(w)).strip() or None
    return city, region, country


def _single(token: str) -> tuple[str | None, str | None, str | None]:
    t = _tables()
    known = t.cities.get(_fold(token))
    if known:
        return known
    country = _country(token)
    if country:
        return None, None, country
    found = _region(token, None)
    if found:
        return None, found[0], found[1]
    if " " in token:
        scanned = _scan_words(token)
        if scanned is not None:
            return _finish(*scanned)
    return _finish(token, None, None)


def _finish(city: str | None, region: str | None, country: str | None) -> tuple[str | None, str | None, str | None]:
    """Canonical city name, and region/country from the city table where missing and consistent."""
    if city:
        known = _tables().cities.get(_fold(city))
        if known and (country is None or known[2] == country) and (region is None or known[1] in (None, region)):
            city = known[0]
            if country is None:
                country = known[2]
            if region is None and known[1] and country in ("US", "CA", "AU", "IN"):
                region = known[1]
    if city and (_NOT_A_PLACE.match(_fold(city)) or _COUNT_OF_LOCATIONS.match(city)):
        city = None
    if country in _CITY_STATES:
        city = _CITY_STATES[country]
    return city or None, region or None, country


def remote_mode(text: str) -> str | None:
    """remote / hybrid / onsite from one string (the platform's own value or a location); remote wins."""
    if _REMOTE.search(text):
        return "remote"
    if _HYBRID.search(text):
        return "hybrid"
    if _ONSITE.search(text):
        return "onsite"
    return None


_MODE_RANK = {"remote": 0, "hybrid": 1, "onsite": 2}


def parse_place(locations: list[str], remote_hint: str | None = None) -> Place:
    """Primary place and remote status; `remote_hint` is a platform's own remote/hybrid/onsite value."""
    strings = tuple(x for x in locations or () if x and isinstance(x, str))
    return _parse_place(strings, remote_hint)


# Boards repeat the same few location strings across thousands of postings.
@lru_cache(maxsize=4096)
def _parse_place(locations: tuple[str, ...], remote_hint: str | None) -> Place:
    mode: str | None = None
    primary: tuple[str | None, str | None, str | None] | None = None
    for raw in locations:
        for piece in _SPLIT_PLACES.split(raw):
            found_mode = remote_mode(piece)
            if found_mode and (mode is None or _MODE_RANK[found_mode] < _MODE_RANK[mode]):
                mode = found_mode
            if primary is not None:
                continue
            cleaned = _ONSITE.sub(" ", _HYBRID.sub(" ", _REMOTE.sub(" ", piece)))
            cleaned = _EMPTY_PARENS.sub(" ", cleaned)
            place = _place_from(cleaned)
            if any(place):
                primary = place
    city, region, country = primary or (None, None, None)
    return Place(city, region, country, remote_hint or mode)


# The United States and its territories, where H-1B and PERM apply as in the states (ISO codes of their own).
US_JURISDICTIONS = frozenset(["US", "PR", "GU", "VI", "AS", "MP"])


def is_us(country: str | None) -> bool:
    """Whether US visa sponsorship can apply: the posting is in the United States or one of its territories
    ("San Juan, Puerto Rico" reads as country PR)."""
    return country in US_JURISDICTIONS
