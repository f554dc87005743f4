"""Abbreviations: scispaCy's Schwartz & Hearst pairing over our linear bracket scan."""

import pytest

import imr_nlp.pipeline  # noqa: F401  (registers the factories)
from imr_nlp.components.abbreviations import MAX_INSIDE, bracket_candidates


@pytest.fixture(scope="module")
def abbreviation_nlp(small_pipeline):
    return small_pipeline("imr_abbreviations")


@pytest.mark.parametrize(
    "text, pairs",
    [
        ("Per Official Disability Guidelines (ODG), not indicated.", {"ODG": "Official Disability Guidelines"}),
        ("She has complex regional pain syndrome (CRPS) of the arm.", {"CRPS": "complex regional pain syndrome"}),
        # Long form inside the brackets (scispaCy needs more than three tokens there).
        (
            "A TENS (transcutaneous electrical nerve stimulation) unit.",
            {"TENS": "transcutaneous electrical nerve stimulation"},
        ),
        # The first definition wins; a later one of the same short form is ignored.
        (
            "utilization review (UR) was done. A second upper rib (UR) note.",
            {"UR": "utilization review"},
        ),
        # Not abbreviations: numbers, one letter, letters that the long form cannot spell.
        ("Norco 10/325 (#60) was requested.", {}),
        ("He walked (slowly) to the car (x) today.", {}),
        ("lumbar strain (ODG) noted", {}),
        # More than MAX_INSIDE tokens inside the brackets: not a candidate.
        ("A long aside (one two three four five six seven eight nine) here.", {}),
        ("", {}),
        ("( ) (", {}),
    ],
)
def test_abbreviation_pairs(abbreviation_nlp, text, pairs):
    assert abbreviation_nlp(text)._.abbreviation_map == pairs


@pytest.mark.parametrize(
    "words, expected",
    [
        (["a", "(", "b", ")"], [(-1, 2, 3)]),
        (["(", "x", "y", ")", ")"], [(-1, 1, 3), (-1, 1, 4)]),
        (["(", ")"], []),
        (["(", *["w"] * MAX_INSIDE, ")"], [(-1, 1, MAX_INSIDE + 1)]),
        (["(", *["w"] * (MAX_INSIDE + 1), ")"], []),
    ],
)
def test_bracket_candidates(words, expected):
    assert bracket_candidates(words) == expected


def test_bracket_candidates_grow_linearly_with_brackets():
    # scispaCy's "( + )" Matcher pattern pairs every "(" with every later ")": quadratic.
    words = ["(", "a", ")"] * 5000
    assert len(bracket_candidates(words)) < 3 * 5000
