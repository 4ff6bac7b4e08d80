"""The built-in label sets and what each label means.

Users may train on their own label sets (the labels then come from their data); these are the
defaults the bundled corpus uses, the ones the README documents, and the abstention labels the
classifier falls back to when it is not confident.
"""

from __future__ import annotations

TOPIC_OTHER = "other"
REGION_UNKNOWN = "unknown"

TOPICS: dict[str, str] = {
    "diplomacy": "meetings, visits and talks between governments, foreign ministers, summits, treaties, "
    "ambassadors, state visits, diplomatic statements and protests",
    "elections": "campaigns, opinion polls of voting intention, votes and results, candidates, "
    "referendums, electoral commissions, coalition talks right after a vote",
    "military_drills": "military exercises, live-fire drills, war games, joint naval/air exercises, "
    "missile tests announced as drills; not battlefield reporting",
    "human_interest": "ordinary people, animals, curiosities, viral photos, local oddities, "
    "heart-warming or quirky events",
    TOPIC_OTHER: "everything else (sport, business and markets, science, weather and disasters, crime, "
    "war reporting, health); also any story the model is not confident about",
}

REGIONS: dict[str, str] = {
    "east_asia": "China, Taiwan, Japan, the Koreas, Mongolia, Hong Kong, Macau",
    "southeast_asia": "ASEAN countries, Timor-Leste",
    "south_asia": "India, Pakistan, Bangladesh, Sri Lanka, Nepal, Bhutan, Maldives, Afghanistan",
    "central_asia": "Kazakhstan, Uzbekistan, Kyrgyzstan, Tajikistan, Turkmenistan",
    "middle_east": "Israel, Palestine, Iran, Iraq, the Gulf states, Syria, Lebanon, Jordan, Turkey, "
    "Yemen, Egypt",
    "europe": "Europe including Russia, Ukraine, the UK and the EU institutions",
    "africa": "Africa except Egypt",
    "north_america": "United States, Canada",
    "latin_america": "Mexico, Central and South America, the Caribbean",
    "oceania": "Australia, New Zealand, the Pacific islands",
    REGION_UNKNOWN: "no region can be told with confidence",
}

PLACE_REGIONS: tuple[str, ...] = tuple(r for r in REGIONS if r != REGION_UNKNOWN)

_EXPLICIT_COUNTRIES: dict[str, tuple[str, ...]] = {
    "east_asia": ("CN", "TW", "JP", "KP", "KR", "MN", "HK", "MO"),
    "southeast_asia": ("ID", "MY", "SG", "TH", "VN", "PH", "MM", "KH", "LA", "BN", "TL"),
    "south_asia": ("IN", "PK", "BD", "LK", "NP", "BT", "MV", "AF"),
    "central_asia": ("KZ", "UZ", "KG", "TJ", "TM"),
    "middle_east": (
        "IL", "PS", "IR", "IQ", "SA", "AE", "QA", "KW", "BH", "OM", "SY", "LB", "JO", "TR", "YE", "EG",
    ),
    "europe": ("RU", "UA", "BY", "GE", "AM", "AZ", "CY"),
    "north_america": ("US", "CA", "GL", "BM", "PM"),
}
_CONTINENT_REGIONS = {"EU": "europe", "AF": "africa", "OC": "oceania", "SA": "latin_america",
                      "NA": "latin_america"}


def region_of_country(iso2: str, continent: str) -> str | None:
    """Map a country to its region slug: explicit lists first, then the continent.

    North America's continent code covers Mexico, Central America and the Caribbean, so everything
    on it that is not explicitly `north_america` is `latin_america`. Antarctica has no region.
    """
    for region, codes in _EXPLICIT_COUNTRIES.items():
        if iso2 in codes:
            return region
    return _CONTINENT_REGIONS.get(continent)
