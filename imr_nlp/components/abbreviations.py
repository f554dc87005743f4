"""Abbreviations and their long forms, found by scispaCy's AbbreviationDetector.

"Official Disability Guidelines (ODG)", "complex regional pain syndrome (CRPS)", "utilization
review (UR)": the detector pairs each short form with its long form; we copy the long form onto
every diagnosis and drug mention that is an abbreviation (``span._.long_form``) and keep the
pairs in ``doc._.abbreviation_map`` for the API.
"""

import warnings

from scispacy.abbreviation import AbbreviationDetector
from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import Component
from imr_nlp.extensions import SPAN_GROUPS

if not Doc.has_extension("abbreviation_map"):
    Doc.set_extension("abbreviation_map", default=None)


class IMRAbbreviations(Component):
    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)
        self.detector = AbbreviationDetector(nlp)

    def match(self, doc: Doc) -> dict[str, str]:
        """Short form -> long form for the abbreviations defined in the doc."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # W036: scispaCy's global matcher is empty when none is found
            doc = self.detector(doc)
        pairs: dict[str, str] = {}
        for abbr in doc._.abbreviations:
            long_form = abbr._.long_form
            if long_form is not None and abbr.text not in pairs:
                pairs[abbr.text] = " ".join(long_form.text.split())
        return pairs

    def set_annotations(self, doc: Doc, pairs: dict[str, str]) -> Doc:
        doc._.abbreviation_map = pairs
        for group in (SPAN_GROUPS["diagnoses"], SPAN_GROUPS["drugs"]):
            for span in doc.spans.get(group, []):
                if span.text in pairs:
                    span._.long_form = pairs[span.text]
        # The detector's own spans hold Span objects; keep only plain data on the doc.
        doc._.abbreviations = []
        return doc


@Language.factory("imr_abbreviations", assigns=["doc._.abbreviation_map"], default_config={})
def make_abbreviations(nlp: Language, name: str) -> IMRAbbreviations:
    return IMRAbbreviations(nlp, name)
