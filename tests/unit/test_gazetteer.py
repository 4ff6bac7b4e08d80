"""The gazetteer knows places the corpus never names, and does not fire on ordinary words."""

from __future__ import annotations

import pytest

from model.gazetteer import GazetteerFeatures


@pytest.fixture(scope="module")
def gazetteer() -> GazetteerFeatures:
    return GazetteerFeatures().fit(["The split was reading a mobile report.", "A split vote, reading mobile units."])


def regions_of(gazetteer: GazetteerFeatures, text: str) -> list[tuple[str, str]]:
    return [(surface, gazetteer.regions_[weights[0][0]]) for _, surface, weights in gazetteer.mentions(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Crowds gathered in Yichang overnight.", ("Yichang", "east_asia")),
    ("Officials in Kyiv said the talks would resume.", ("Kyiv", "europe")),
    ("HANOI, March 3 - Ministers met.", ("Hanoi", "southeast_asia")),
    ("The Knesset voted late on Monday.", ("Knesset", "middle_east")),
    ("A spokesman for the Kremlin declined to comment.", ("Kremlin", "europe")),
    ("Vietnamese fishermen returned to port.", ("Vietnamese", "southeast_asia")),
    ("The Pentagon confirmed the deployment.", ("Pentagon", "north_america")),
    ("Fighting resumed near Bukavu on Tuesday.", ("Bukavu", "africa")),
    ("Floods hit Rio de Janeiro state.", ("Rio de Janeiro", "latin_america")),
    ("China's foreign ministry responded.", ("China", "east_asia")),
])
def test_places_map_to_their_region(gazetteer: GazetteerFeatures, text: str, expected: tuple[str, str]) -> None:
    assert expected in regions_of(gazetteer, text)


def test_longest_name_wins(gazetteer: GazetteerFeatures) -> None:
    assert regions_of(gazetteer, "Ships sailed into the South China Sea.")[0][0] != "China"
    assert ("Gulf of Tonkin", "southeast_asia") in regions_of(gazetteer, "Drills in the Gulf of Tonkin began.")


def test_town_names_that_are_common_words_do_not_fire(gazetteer: GazetteerFeatures) -> None:
    assert regions_of(gazetteer, "Split decision. Reading glasses. Mobile phones. March on.") == []


def test_possessives_all_caps_datelines_and_hyphenated_pairs(gazetteer: GazetteerFeatures) -> None:
    text = "HONG KONG, May 2 - TAIPEI's mayor met U.S. envoys; NATO and Russia-Ukraine talks."
    assert regions_of(gazetteer, text) == [("Hong Kong", "east_asia"), ("Taipei", "east_asia"),
                                           ("US", "north_america"), ("NATO", "europe"),
                                           ("Russia", "europe"), ("Ukraine", "europe")]


def test_features_are_shares_per_region_and_no_place_flag(gazetteer: GazetteerFeatures) -> None:
    matrix = gazetteer.transform(["Talks in Hanoi and Hanoi, then Beijing.", "No place at all here."]).toarray()
    regions = list(gazetteer.regions_)
    first = matrix[0]
    assert first[regions.index("southeast_asia")] == pytest.approx(2 / 3)
    assert first[regions.index("east_asia")] == pytest.approx(1 / 3)
    assert first[2 * len(regions) + regions.index("southeast_asia")] == 1.0  # first mention
    assert matrix[1][-1] == 1.0 and matrix[1][:-1].sum() == 0
