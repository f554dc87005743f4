"""Text from other PDF extractors (pdftotext, pdfminer.six, pdfplumber) and from OCR reads as our
own reader's does: glued line-end hyphens, damaged dates, noise lines, ligatures and running page
headers are repaired (imr_nlp.normalize.repairs), and offsets still map back to the source."""

from __future__ import annotations

import pytest
import spacy

from imr_nlp.components.normalize import IMRTokenizer
from imr_nlp.normalize.repairs import Edit, apply_edits
from imr_nlp.normalize.text import OffsetMap

# Five wrapped lines (about 60 characters) before a line that plain pdftotext joined at a
# dropped hyphen: the glued word spans the former line end.
WRAPPED = (
    "The injured worker is a 54 year old male who was injured at\n"
    "work while lifting boxes. He reported pain in the low back\n"
    "radiating to the right leg with numbness and tingling in the\n"
    "foot. He was treated for a lumbar strain with medications,\n"
    "without lasting relief of his symptoms. An MRI showed a disc\n"
)


@pytest.fixture(scope="module")
def tokenizer():
    return IMRTokenizer(spacy.blank("en"))


@pytest.fixture
def clean(tokenizer):
    return lambda text: tokenizer(text).text


# (the joined line, the word as it must read): glued words split, real words left whole
GLUED = [
    ("protrusion at L4-L5. The diagnoses included lumbar sprainstrain and radiculopathy.", "sprain-strain"),
    ("protrusion at L4-L5. The provider gave diagnoses of rightsided carpal tunnel syndrome.", "right-sided"),
    ("protrusion at L4-L5. He was told of a three or fourweek period of conservative care.", "four-week"),
    ("protrusion at L4-L5. She takes antiinflammatory medication and has a home program.", "anti-inflammatory"),
    ("protrusion at L4-L5. The follow-up visit was set for 1025-16 with his treating doctor.", "10-25-16"),
    # a combining form closed up, and a word the lexicon lacks away from the former line end: whole
    ("protrusion at L4-L5. Then he had bilateral electrodiagnostic studies of the legs.", "electrodiagnostic"),
    ("protrusion at L4-L5. The diagnoses included lumbar sprainstrain, paravertebral spasm.", "paravertebral"),
]


@pytest.mark.parametrize("line, reads", GLUED, ids=[r for _, r in GLUED])
def test_a_word_glued_at_a_dropped_line_end_hyphen_is_split_only_where_a_lexicon_splits_it(clean, line, reads):
    text = clean(WRAPPED + line + "\n")
    assert f" {reads} " in text, text


def test_a_glued_word_in_an_ordinary_line_is_left_alone(clean):
    """Only a joined line (far longer than the letter's usual line) can hold a glued word."""
    assert "fourweek" in clean(WRAPPED + "A fourweek trial.\n")


# OCR-damaged dates and what they read; quantities and dates far from the letter's are left alone
DATES = [
    ("Seen on 10/12/2016 and again on 1 1/22/2016.", "again on 11/22/2016."),
    ("Seen on 10/12/2016 and again on 1 1-8-2016.", "again on 11-8-2016."),
    ("Seen on 10/12/2016 and again on l1/22/2016.", "again on 11/22/2016."),
    ("Seen on 10/12/2016 and again on O1/05/2017.", "again on 01/05/2017."),
    ("Seen on 10/12/2016. Take 1 1/2 tablets twice a day.", "Take 1 1/2 tablets twice a day."),
    ("Seen on 10/12/2016. Take 1 1/2 tablets on 1 1/2/2016.", "tablets on 11/2/2016."),
    ("Seen on 10/12/2016 and on 1 1/22/1985.", "and on 1 1/22/1985."),  # far from the other dates
    ("Seen on 10/12/2016 and on 1 3/22/2016.", "and on 1 3/22/2016."),  # month 13: no date
    ("No other date here: 1 1/22/2016.", "here: 1 1/22/2016."),
]


@pytest.mark.parametrize("text, reads", DATES, ids=[t for t, _ in DATES])
def test_ocr_damaged_dates_are_repaired_only_into_valid_dates_near_the_letters_own(clean, text, reads):
    assert clean(text).endswith(reads), clean(text)


def _one_decision(noise: str) -> str:
    return (
        "IMR ISSUES, DECISIONS AND RATIONALES\n"
        "The Final Determination was based on decisions for the disputed items/services set forth below:\n"
        f"Norco 10/325mg #60: Upheld{noise}\n"
        "Claims Administrator guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.\n"
        "MAXIMUS guideline: Decision based on MTUS Chronic Pain Medical Treatment Guidelines.\n"
        "Decision rationale: There is no documentation of functional improvement. The request is not "
        "medically necessary.\n"
    )


@pytest.mark.parametrize("noise", ["", "\n.", "\n'", "\n |", " |", " '", "\n\n,\n"])
def test_a_letters_only_decision_survives_a_noise_line_or_speck_after_its_outcome(noise):
    import imr_nlp

    decisions = imr_nlp.parse(_one_decision(noise)).decisions
    assert [(d.item, d.outcome) for d in decisions] == [("Norco 10/325mg #60", "upheld")]


# (source, a word of the cleaned text, the source text it maps back to)
OFFSETS = [
    ("The patient has signi\ufb01cant di\ufb03culty.", "significant", "signi\ufb01cant"),
    ("The patient has signi\ufb01cant di\ufb03culty.", "difficulty", "di\ufb03culty"),
    ("A two\u2010week trial\u2026 was certi\ufb01ed.", "certified", "certi\ufb01ed"),
    (
        "MAXIMUS Federal Services\nHe takes Norco.\nPage 1 of 2\n\fMAXIMUS Federal Services\nHe is not working.\n",
        "working",
        "working",
    ),
    ("Seen on 10/12/2016 and again on 1 1/22/2016.", "11/22/2016", "1 1/22/2016"),
    ("State(s) of Licensure: Califomia", "California", "Califomia"),
    (WRAPPED + GLUED[0][0] + "\n", "sprain-strain", "sprainstrain"),
]


@pytest.mark.parametrize("source, word, original", OFFSETS, ids=[w for _, w, _ in OFFSETS])
def test_repaired_words_map_back_to_the_source(tokenizer, source, word, original):
    doc = tokenizer(source)
    start = doc.text.index(word)
    a, b = OffsetMap.from_dict(doc._.offset_map).span(start, start + len(word))
    assert source[a:b] == original


def test_a_running_page_header_is_dropped_but_a_line_once_on_a_page_edge_is_not(clean):
    text = clean("MAXIMUS Federal Services\nHe takes Norco.\n\fMAXIMUS Federal Services\nHe is not working.\n")
    assert "MAXIMUS" not in text and text == "He takes Norco.\nHe is not working."
    # a line that is also content (away from a page edge) is never a running header
    kept = clean("Upheld.\nHe takes Norco.\nUpheld.\nMore.\nText.\n\fUpheld.\nHe is not working.\n")
    assert kept.count("Upheld.") == 3


def test_a_sentence_that_ends_page_after_page_is_never_a_running_footer(clean):
    """Rationales often end a page with the same closing sentence (text rewrapped by any tool,
    a letter with a decision per page): a sentence is content, never a footer."""
    page = "Norco {n}: Upheld\nThere is no functional improvement. As such, the request is\nnot medically necessary.\n"
    text = clean("\f".join(page.format(n=n) for n in range(3)))
    assert text.count("not medically necessary.") == 3


EDITS = [
    ("abcdef", [Edit(1, 2, "XY")], "aXYcdef", [0, 1, 1, 2, 3, 4, 5]),
    ("abcdef", [Edit(2, 2, "-")], "ab-cdef", [0, 1, 2, 2, 3, 4, 5]),
    ("ab cd", [Edit(2, 3, "")], "abcd", [0, 1, 3, 4]),
    ("abcdef", [Edit(1, 3, "Z"), Edit(2, 4, "W")], "aZdef", [0, 1, 3, 4, 5]),  # an overlapping edit is left out
]


@pytest.mark.parametrize("source, edits, text, origins", EDITS, ids=[t for _, _, t, _ in EDITS])
def test_edits_keep_every_character_tied_to_the_source(source, edits, text, origins):
    repaired, offset_map = apply_edits(source, edits)
    assert repaired == text
    assert [offset_map.to_original(i) for i in range(len(repaired))] == origins
