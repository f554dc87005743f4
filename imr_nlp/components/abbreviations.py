"""Abbreviations and their long forms, by scispaCy's Schwartz & Hearst algorithm.

"Official Disability Guidelines (ODG)", "complex regional pain syndrome (CRPS)", "utilization
review (UR)": each short form in parentheses is paired with its long form (or the other way
round, "ODG (Official Disability Guidelines)"); we copy the long form onto every diagnosis and
drug mention that is an abbreviation (``span._.long_form``) and keep the pairs in
``doc._.abbreviation_map`` for the API.

The candidates and the pairing are scispaCy's (``filter_matches``, ``find_abbreviation``). We do
not run its ``AbbreviationDetector`` as a whole: its ``( + )`` Matcher pattern pairs every
opening bracket with every later closing one (quadratic on long texts), and its per-doc
``Matcher.add``/``remove`` of each short form never frees the pattern memory (memory grows with
every letter). Candidates here come from one scan for brackets at most eight tokens apart, and
the per-doc occurrences of a short form are not needed: the map is looked up by text.
"""

from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import Component, token_words
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import spans_of

if not Doc.has_extension("abbreviation_map"):
    Doc.set_extension("abbreviation_map", default=None)

# scispaCy's filter drops candidates of more than this many tokens inside the brackets.
MAX_INSIDE = 8


def bracket_candidates(words: list[str]) -> list[tuple[int, int, int]]:
    """``(-1, start, end)`` token ranges inside brackets, at most ``MAX_INSIDE`` tokens long:
    the matches scispaCy's ``( + )`` pattern yields that its filter can keep, in (start, end)
    order, found in linear time."""
    candidates = []
    for i, word in enumerate(words):
        if word != "(":
            continue
        for j in range(i + 2, min(i + MAX_INSIDE + 2, len(words))):
            if words[j] == ")":
                candidates.append((-1, i + 1, j))
    return candidates


CONTRACT = declare(
    Contract(
        factory="imr_abbreviations",
        reads=(),
        reads_if_present=(
            "spans:diagnoses",
            "spans:drugs",
        ),
        writes=("doc._.abbreviation_map", "span._.long_form"),
    )
)


class IMRAbbreviations(Component):
    """scispaCy's abbreviation detection: short form -> long form for the letter."""

    contract = CONTRACT

    def match(self, doc: Doc) -> dict[str, str]:
        """Short form -> long form for the abbreviations defined in the doc (the first
        definition wins: a short or long form defined twice keeps its first pairing, as in scispaCy)."""
        pairs: dict[str, str] = {}
        long_forms: set[str] = set()
        words = token_words(doc)[0]
        for long_candidate, short_candidate in filter_matches(bracket_candidates(words), doc):
            short, long = find_abbreviation(long_candidate, short_candidate)
            if long is not None and short.text not in pairs and long.text not in long_forms:
                long_forms.add(long.text)
                pairs[short.text] = " ".join(long.text.split())
        return pairs

    def set_annotations(self, doc: Doc, pairs: dict[str, str]) -> Doc:
        doc._.abbreviation_map = pairs
        for group in ("diagnoses", "drugs"):
            for span in spans_of(doc, group):
                if span.text in pairs:
                    span._.long_form = pairs[span.text]
        return doc


@Language.factory(
    "imr_abbreviations",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={},
)
def make_abbreviations(nlp: Language, name: str) -> IMRAbbreviations:
    return IMRAbbreviations(nlp, name)
