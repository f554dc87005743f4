"""Literal prefilters (imr_nlp.literal_prefilter): every match of a pattern holds one of its
required literals, and the one-scan index names every pattern that can match in a stretch."""

import re
from pathlib import Path

import pytest

from imr_nlp import resources
from imr_nlp.components.reasons import folded, folded_regex
from imr_nlp.literal_prefilter import LiteralIndex, match_prefixes, required_literals

RULES = resources.load("reasons.json")
CUES = [folded_regex(cue.pattern) for cue in RULES.cues]
UNSEEN = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "pattern, literals",
    [
        (r"abc", {"abc"}),
        (r"\bno\s+(?:documentation|evidence)\b", {"documentation", "evidence"}),
        (r"(?:tried\s+)?fail(?:ed|ure)?", {"fail"}),
        (r"m\.?e\.?d\b", {"m"}),  # optional pieces cut the run: the best sure piece is left
        (r"[ab]c", {"ac", "bc"}),
        (r"(?:x|y)+z", {"z"}),
        (r"(?=risk)\w+", None),  # a lookahead's words are not counted on
        (r"\w+", None),
        (r"a|\d", None),  # one alternative has no literal
        (r"(?i)abc", None),  # case-insensitive: literals would not be literal
        (r"(?:ab|cd)(?:ef|gh)", {"abef", "abgh", "cdef", "cdgh"}),
    ],
)
def test_required_literals(pattern, literals):
    found = required_literals(re.compile(pattern))
    assert (None if found is None else set(found)) == literals


def _texts() -> list[str]:
    """Folded sentences of the unseen reason sets and of every rule example, a few thousand."""
    texts = [folded(example.text) for cue in RULES.cues for example in cue.examples]
    for path in sorted(UNSEEN.glob("reasons_unseen*/**/*.txt")):
        texts += [folded(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


TEXTS = _texts()


def test_every_match_holds_a_required_literal():
    assert len(TEXTS) > 200
    matched = 0
    for pattern in CUES:
        literals = required_literals(pattern)
        assert literals, pattern.pattern  # every cue of reasons.json can be prefiltered
        for text in TEXTS:
            for m in pattern.finditer(text):
                matched += 1
                assert any(literal in m.group() for literal in literals), (pattern.pattern, m.group())
    assert matched > 500


def test_index_names_every_pattern_that_matches_in_a_stretch():
    index = LiteralIndex(CUES)
    text = "\n".join(TEXTS)
    stretches, start = [], 0
    for piece in TEXTS:
        stretches.append((start, start + len(piece)))
        start += len(piece) + 1
    candidates = index.candidates(text, stretches)
    literals = [required_literals(pattern) for pattern in CUES]
    for (a, b), live in zip(stretches, candidates, strict=True):
        piece = text[a:b]
        matching = {n for n, pattern in enumerate(CUES) if pattern.search(piece)}
        assert matching <= live
        # and no more than the literals say: a candidate holds one of its literals
        assert all(any(lit in piece for lit in literals[n]) for n in live)


@pytest.mark.parametrize(
    "literals, text, expected",
    [
        (["ed", "exceed", "exceeding"], "it exceeded", {0, 1}),  # "exceed" and its inner "ed"
        (["improve", "improvement"], "no improvement", {0, 1}),  # a literal and its prefix
        (["risk"], "ris k", set()),
        (["a b"], "a  b", set()),
    ],
)
def test_index_finds_overlapping_and_prefix_literals(literals, text, expected):
    index = LiteralIndex([re.compile(re.escape(literal)) for literal in literals])
    assert index.candidates(text, [(0, len(text))]) == [expected]


def test_index_keeps_patterns_without_literals_everywhere():
    index = LiteralIndex([re.compile(r"\w+"), re.compile("risk")])
    assert index.candidates("no x here", [(0, 4), (4, 9)]) == [{0}, {0}]


def test_index_stops_at_the_stretch_end():
    index = LiteralIndex([re.compile("risk")])
    assert index.candidates("the risk", [(0, 6), (6, 8)]) == [set(), set()]


def test_a_long_literal_is_cut_to_its_start():
    literals = required_literals(re.compile("x" * 2000))
    assert literals is not None and all(len(literal) <= 64 for literal in literals)
    index = LiteralIndex([re.compile("x" * 2000), re.compile("y")])  # a shallow trie: no recursion error
    assert index.candidates("x" * 2000, [(0, 2000)]) == [{0}]


@pytest.mark.parametrize(
    "pattern, starts",
    [
        (r"abc", {"abc"}),
        (r"abcd", {"abc"}),  # three characters spelled out
        (r"a?b", {"ab", "b"}),
        (r"(?:tried\s+)?fail", {"tri", "fai"}),
        (r"(?:ab)+c", {"ab"}),  # after one copy another may follow: only the first is sure
        (r"ab\w+", {"ab"}),  # a piece not spelled out ends the start
        (r"\d{2}x", set("0123456789")),  # a repeat of more than one copy: its first copy is sure
        (r"\bno\s+x", {"no" + c for c in " \t\n\r\f\v"}),
        (r"\w+x", None),  # a match may start with anything
        (r"(?i)abc", None),
        (r"a|\w", None),
    ],
)
def test_match_prefixes(pattern, starts):
    found = match_prefixes(re.compile(pattern))
    assert (None if found is None else set(found)) == starts


def _diagnosis_cues() -> list[re.Pattern]:
    rules = resources.load("diagnoses.json")
    return [re.compile("|".join(f"(?:{c.pattern})" for c in cues)) for cues in (rules.list_cues, rules.statement_cues)]


@pytest.mark.parametrize("pattern", [*_diagnosis_cues(), *CUES], ids=lambda p: p.pattern[:40])
def test_every_match_starts_with_one_of_its_prefixes(pattern):
    starts = match_prefixes(pattern)
    if starts is None:
        return
    for text in TEXTS:
        for m in pattern.finditer(text):
            if m.group():
                assert m.group().startswith(tuple(starts)) or m.end() - m.start() < min(map(len, starts)), (
                    pattern.pattern,
                    m.group(),
                )


def test_a_guarded_word_start_cue_finds_what_the_plain_scan_finds():
    from imr_nlp.components.diagnoses import WordStartCue

    letters = sorted(UNSEEN.glob("reasons_unseen*/letters/*.txt"))
    texts = [folded(path.read_text(encoding="utf-8")) for path in letters]
    found = 0
    for pattern in _diagnosis_cues():
        guarded = WordStartCue(pattern.pattern)
        plain = WordStartCue(pattern.pattern)
        plain.led = re.compile(rf"\W(?=({pattern.pattern}))")
        assert guarded.led.pattern != plain.led.pattern  # the guard is there
        for text in texts:
            spans = guarded.spans(text, 0, len(text))
            assert spans == plain.spans(text, 0, len(text))
            found += len(spans)
    assert found > 50
