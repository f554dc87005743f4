"""Bounded cost per letter (issue 13): hostile shapes keep every token within its budget, numbers
that fit no column are not read as numbers, texts over the budget are cut with a warning, and
the ConText and lexicon steps do work linear in their input (counted, never timed)."""

from pathlib import Path

import pytest

import imr_nlp
from imr_nlp import resources
from imr_nlp.components import context as context_module
from imr_nlp.components.normalize import MAX_TEXT_CHARS
from imr_nlp.normalize import drugs as drugs_module
from imr_nlp.normalize.text import MAX_CHUNK, PUNCT_RUN_KEPT, clean_text
from imr_nlp.normalize.values import compile_tables, find_quantities, to_number

SYNTHETIC = (Path(imr_nlp.__file__).parent / "samples" / "synthetic_letter.txt").read_text(encoding="utf-8")

DOSE_TABLES = compile_tables(resources.load("doses.json"))


def _decisions(determination) -> list[tuple]:
    """What each decision says, without offsets (they move with the formatting)."""
    return [
        (
            d.item,
            d.outcome,
            d.medically_necessary,
            d.treatment.model_dump(exclude={"drug"}),
            d.treatment.drug.generic if d.treatment.drug else None,
        )
        for d in determination.decisions
    ]


HOSTILE = {
    "no spaces": "x" * 20_000,
    "a run of '#'": "#" * 20_000,
    "a run of '='": "=" * 20_000,
    "mixed punctuation": '#=*"[](){}' * 2_000,
    "digits": "#" + "9" * 20_000,
    "quotes and brackets": "\"'[({" * 4_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_shapes_keep_every_token_within_its_budget(name):
    text = HOSTILE[name]
    doc = imr_nlp.load()(text)
    assert doc._.determination.error is None
    assert max(len(token) for token in doc) <= MAX_CHUNK
    assert len(doc._.source_text) == len(text)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a ==================== b", "a === b"),
        ("Upheld ###### and *******", "Upheld ###### and ***"),  # runs of seven or more are cut
        ("x" * 250, "x" * 100 + " " + "x" * 100 + " " + "x" * 50),
        ("see http://www.dir.ca.gov/dwc/IMR.htm now", "see http://www.dir.ca.gov/dwc/IMR.htm now"),
    ],
)
def test_punctuation_runs_and_long_chunks_are_cut_with_offsets_kept(raw, expected):
    clean, omap = clean_text(raw)
    assert clean == expected
    for i, char in enumerate(clean):
        if char != " ":
            assert raw[omap.to_original(i)] == char
    assert PUNCT_RUN_KEPT == 3


@pytest.mark.parametrize("mark", ["\u200b", "\x00", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad"])
def test_invisible_characters_after_an_outcome_lose_nothing(mark):
    plain = imr_nlp.parse(SYNTHETIC)
    marked_text = SYNTHETIC.replace("Upheld", "Upheld" + mark).replace("Overturned", "Over" + mark + "turned")
    marked = imr_nlp.parse(marked_text)
    assert [d.outcome for d in marked.decisions] == [d.outcome for d in plain.decisions]
    assert len(plain.decisions) >= 2
    for decision in marked.decisions:  # offsets still point into the string given
        start, end = decision.start, decision.end
        assert marked_text[start:end].replace(mark, "") == decision.item.replace(mark, "")


def test_a_soft_hyphen_inside_a_line_is_dropped_and_one_at_a_break_joins_the_word():
    assert clean_text("Hydro\u00adcodone")[0] == "Hydrocodone"
    assert clean_text("anti\u00ad\ndepressants")[0] == "anti-depressants"


@pytest.mark.parametrize("digits", [13, 20, 400])
def test_numbers_beyond_the_columns_are_not_read(digits):
    assert to_number("9" * digits, DOSE_TABLES.number_words) is None
    assert find_quantities("Norco 10/325mg #" + "9" * digits, DOSE_TABLES) == []
    text = SYNTHETIC.replace("#90", "#" + "9" * digits)
    determination = imr_nlp.parse(text)
    assert determination.error is None
    assert [d.outcome for d in determination.decisions] == [d.outcome for d in imr_nlp.parse(SYNTHETIC).decisions]
    assert all(d.treatment.quantity is None or d.treatment.quantity < 2**63 for d in determination.decisions)


def test_a_number_within_the_columns_is_still_read():
    assert to_number("120", DOSE_TABLES.number_words) == 120.0
    assert to_number("999999999999", DOSE_TABLES.number_words) == 999999999999.0


def test_a_text_over_the_budget_is_read_up_to_it_with_a_warning(monkeypatch):
    from imr_nlp.components import normalize

    monkeypatch.setattr(normalize, "MAX_TEXT_CHARS", len(SYNTHETIC) + 10)
    text = SYNTHETIC + "\n" + "More text after the letter. " * 200
    determination = imr_nlp.parse(text)
    assert _decisions(determination) == _decisions(imr_nlp.parse(SYNTHETIC))
    assert any("over the budget" in w for w in determination.warnings)
    assert MAX_TEXT_CHARS >= 1_000_000


def test_texts_longer_than_spacys_max_length_are_not_refused():
    assert imr_nlp.load().max_length > MAX_TEXT_CHARS


def test_a_long_word_costs_no_deletion_variants(monkeypatch):
    lexicon = drugs_module.default_lexicon()
    lexicon.fuzzy("Klonipin")  # the index is built
    calls = []
    real = drugs_module._deletes
    monkeypatch.setattr(drugs_module, "_deletes", lambda word: calls.append(word) or real(word))
    assert lexicon.fuzzy("x" * 5_000) is None
    assert calls == []
    lexicon.fuzzy("Klonopim")
    assert calls  # an ordinary misspelling is still looked up


@pytest.mark.parametrize("targets", [500, 2_000])
def test_context_work_is_linear_in_the_targets_of_one_sentence(monkeypatch, targets):
    """One sentence of many targets: the scope checks made grow with the targets, not with
    their square (each target meets only the scopes open where it lies)."""
    checks = []
    real = context_module.IMRContext._modifies
    monkeypatch.setattr(
        context_module.IMRContext, "_modifies", lambda self, cue, target: checks.append(1) or real(self, cue, target)
    )
    determination = imr_nlp.parse("CLINICAL CASE SUMMARY\nThere was " + "no Norco or " * targets + "Motrin.")
    assert determination.error is None
    assert len(determination.medications) >= targets
    assert all(m.negated for m in determination.medications[:10])
    assert len(checks) <= 10 * targets


def test_assert_spans_is_linear_in_the_spans(monkeypatch):
    checks = []
    real = context_module.IMRContext._modifies
    monkeypatch.setattr(
        context_module.IMRContext, "_modifies", lambda self, cue, target: checks.append(1) or real(self, cue, target)
    )
    count = 3_000
    text = " ".join(["no pain or fever"] * count)
    spans = [(i * 17 + 3, i * 17 + 7) for i in range(count)]
    result = imr_nlp.assert_spans(text, spans)
    assert len(result) == count and all(a.negated for a in result)
    assert len(checks) <= 10 * count


@pytest.mark.parametrize("span", [(0.0, 2), (1, 2.5), ("1", 2)])
def test_assert_spans_refuses_spans_that_are_not_ints(span):
    with pytest.raises(TypeError, match="pair of ints"):
        imr_nlp.assert_spans("no pain", [span])


@pytest.mark.parametrize("text", [42, None, b"no pain"])
def test_assert_spans_refuses_a_text_that_is_not_a_str(text):
    with pytest.raises(TypeError, match="expects a str"):
        imr_nlp.assert_spans(text, [(0, 1)])


def test_a_lone_surrogate_in_assert_spans_loses_nothing():
    text = "no pain \ud800 or fever"
    assert [a.negated for a in imr_nlp.assert_spans(text, [(3, 7), (13, 18)])] == [True, True]


@pytest.mark.parametrize(
    "flat, lines",
    [
        (
            "Norco 10/325mg #90: Upheld Claims Administrator guideline: None cited. MAXIMUS guideline: MTUS.",
            ["Norco 10/325mg #90: Upheld", "Claims Administrator guideline: None cited.", "MAXIMUS guideline: MTUS."],
        ),
        (
            "the request is not medically necessary. CLINICAL CASE SUMMARY The patient is a 50 year old.",
            ["the request is not medically necessary.", "CLINICAL CASE SUMMARY The patient is a 50 year old."],
        ),
        # a label's words inside a sentence, without its colon, stay where they are
        ("He said the decision rationale was unclear.", ["He said the decision rationale was unclear."]),
        ("The Decision rationale is below.", ["The Decision rationale is below."]),
    ],
)
def test_labels_and_headings_inside_a_flattened_line_start_their_own_line(flat, lines):
    from imr_nlp.components.normalize import line_starts_pattern, midline_starts_pattern

    layout = resources.load("layout.json")

    clean, omap = clean_text(flat, line_starts_pattern(layout.line_starts), midline_starts_pattern(layout))
    assert clean.split("\n") == lines
    assert len(clean) == len(flat) and omap.to_original(len(clean) - 1) == len(flat) - 1


def test_a_flattened_letter_gives_the_same_decisions():
    flat = " ".join(SYNTHETIC.split())
    assert _decisions(imr_nlp.parse(flat)) == _decisions(imr_nlp.parse(SYNTHETIC))
    assert [d.rationale.split() for d in imr_nlp.parse(flat).decisions] == [
        d.rationale.split() for d in imr_nlp.parse(SYNTHETIC).decisions
    ]


def test_span_index_finds_the_spans_inside_a_range_as_a_scan_would():
    import random

    import spacy

    from imr_nlp.components.base import SpanIndex

    nlp = spacy.blank("en")
    doc = nlp(" ".join(f"w{i}" for i in range(200)))
    rng = random.Random(7)
    spans = []
    for _ in range(150):
        start = rng.randrange(200)
        spans.append(doc[start : min(200, start + rng.randrange(1, 6))])
    index = SpanIndex(spans)
    for _ in range(300):
        a = rng.randrange(len(doc.text))
        b = a + rng.randrange(0, 200)
        expected = [s for s in spans if s.start_char >= a and s.end_char <= b]
        assert index.within(a, b) == expected


def test_many_decisions_are_all_read():
    block = (
        "Norco 10/325mg #120: Upheld\nClaims Administrator guideline: MTUS.\nMAXIMUS guideline: MTUS Opioids.\n"
        "Decision rationale: The guidelines do not support it. The request is not medically necessary.\n"
    )
    determination = imr_nlp.parse("IMR ISSUES, DECISIONS AND RATIONALES\n" + block * 500)
    assert len(determination.decisions) == 500
    assert {(d.treatment.quantity, d.outcome, d.medically_necessary) for d in determination.decisions} == {
        (120, "upheld", False)
    }
