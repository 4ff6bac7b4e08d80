"""`python -m training.corpus_check FILE...`: checks labelled corpus files before they are trained on.

What it refuses (exit code 1): a line that is not a JSON object with `text`, `topic`, `region` and
`language` (and optionally `title`); a label or language outside the bundled sets; text whose script does not
match its language; an article far shorter or longer than news copy; the same title twice; two
articles that share most of their word (or, for Chinese, character) shingles. What it warns about:
many articles opening with the same words (a sign of template writing). It prints the topic x
region counts per language so that missing cells show.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from model.taxonomy import REGIONS, TOPICS

LANGUAGES = ("en", "fr", "es", "pt", "de", "ru", "zh", "ar")
SCRIPTS = {"ru": re.compile(r"[\u0400-\u04ff]"), "zh": re.compile(r"[\u4e00-\u9fff]"),
           "ar": re.compile(r"[\u0600-\u06ff]")}
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
WORD = re.compile(r"\w+")
HAN = re.compile(r"[\u4e00-\u9fff]")
NEAR_DUPLICATE = 0.35  # Jaccard similarity of shingle sets
LENGTH = {"zh": (100, 1400), None: (50, 600)}  # characters of Han for zh, words otherwise


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cells: dict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))


def _size(text: str, language: str) -> int:
    return len(HAN.findall(text)) if language == "zh" else len(WORD.findall(text))


def _script_ok(text: str, language: str) -> bool:
    letters = LATIN.findall(text)
    if language in SCRIPTS:
        native = SCRIPTS[language].findall(text)
        return len(native) > 2 * len(letters)
    return len(letters) > 0.5 * len(text.replace(" ", ""))


def _shingles(text: str, language: str) -> frozenset[str]:
    if language == "zh":
        chars = "".join(HAN.findall(text))
        return frozenset(chars[i:i + 4] for i in range(len(chars) - 3))
    words = WORD.findall(text.lower())
    return frozenset(" ".join(words[i:i + 4]) for i in range(len(words) - 3))


def _record_errors(where: str, record: object) -> list[str]:
    if not isinstance(record, dict):
        return [f"{where}: not a JSON object"]
    problems = [f"{where}: `{key}` must be a non-empty string" for key in ("text", "topic", "region", "language")
                if not isinstance(record.get(key), str) or not record[key].strip()]
    if record.get("title") is not None and not isinstance(record["title"], str):
        problems.append(f"{where}: `title` must be a string when given")
    if problems:
        return problems
    if record["topic"] not in TOPICS:
        problems.append(f"{where}: unknown topic {record['topic']!r}")
    if record["region"] not in REGIONS:
        problems.append(f"{where}: unknown region {record['region']!r}")
    language = record["language"]
    if language not in LANGUAGES:
        return [*problems, f"{where}: language {language!r} is not one of {', '.join(LANGUAGES)}"]
    if not _script_ok(record["text"], language):
        problems.append(f"{where}: the text is not in the script of {language!r}")
    low, high = LENGTH.get(language, LENGTH[None])
    size = _size(record["text"], language)
    if not low <= size <= high:
        unit = "Han characters" if language == "zh" else "words"
        problems.append(f"{where}: {size} {unit}, expected {low}..{high}")
    return problems


def check(paths: Sequence[Path]) -> Findings:
    findings = Findings()
    seen_titles: dict[str, str] = {}
    shingles: list[tuple[str, str, frozenset[str]]] = []
    openings: Counter[tuple[str, str]] = Counter()
    for path in paths:
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                findings.errors.append(f"{where}: not JSON ({exc.msg})")
                continue
            problems = _record_errors(where, record)
            findings.errors.extend(problems)
            if problems:
                continue
            language = record["language"]
            findings.cells[language][(record["topic"], record["region"])] += 1
            title = (record.get("title") or "").strip().lower()
            if title and title in seen_titles:
                findings.errors.append(f"{where}: same title as {seen_titles[title]}")
            seen_titles.setdefault(title, where)
            shingles.append((where, language, _shingles(record["text"], language)))
            openings[(language, " ".join(WORD.findall(record["text"].lower())[:3]))] += 1
    findings.errors.extend(_near_duplicates(shingles))
    findings.warnings.extend(_repeated_openings(openings, findings.cells))
    return findings


def _near_duplicates(shingles: Sequence[tuple[str, str, frozenset[str]]]) -> Iterable[str]:
    by_language: dict[str, list[tuple[str, frozenset[str]]]] = defaultdict(list)
    for where, language, grams in shingles:
        by_language[language].append((where, grams))
    for items in by_language.values():
        holders: dict[str, list[int]] = defaultdict(list)  # shingle -> earlier articles that have it
        for i, (where, grams) in enumerate(items):
            shared = Counter(j for gram in grams for j in holders[gram])
            for j, common in shared.items():
                union = len(grams) + len(items[j][1]) - common
                if union and common / union >= NEAR_DUPLICATE:
                    yield f"{where}: nearly the same text as {items[j][0]}"
            for gram in grams:
                holders[gram].append(i)


def _repeated_openings(openings: Counter[tuple[str, str]], cells: dict[str, Counter[tuple[str, str]]]
                       ) -> Iterable[str]:
    for (language, opening), count in openings.items():
        total = sum(cells[language].values())
        if count >= 4 and count > 0.03 * total:
            yield f"{language}: {count} articles open with {opening!r}"


def _table(cells: Counter[tuple[str, str]]) -> list[str]:
    regions = list(REGIONS)
    rows = ["topic \\ region".ljust(16) + " ".join(r[:7].rjust(7) for r in regions) + "   total"]
    for topic in TOPICS:
        counts = [cells[(topic, region)] for region in regions]
        rows.append(topic.ljust(16) + " ".join(str(c).rjust(7) for c in counts) + f"{sum(counts):8d}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.corpus_check", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    findings = check(parser.parse_args(argv).files)
    for language, cells in sorted(findings.cells.items()):
        print(f"\n[{language}] {sum(cells.values())} articles")
        print("\n".join(_table(cells)))
    for warning in findings.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in findings.errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"\n{len(findings.errors)} error(s), {len(findings.warnings)} warning(s)")
    return 1 if findings.errors else 0


if __name__ == "__main__":
    sys.exit(main())
