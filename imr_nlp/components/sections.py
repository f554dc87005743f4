"""Letter sections found by medspaCy's Sectionizer with IMR heading rules (data in
resources/sections.json), anchored to line starts so body phrases cannot open a section.

Writes ``doc.spans["imr_sections"]``: one span per section, labelled ``header`` (text before
the first heading), ``how_made``, ``credentials``, ``case_summary`` or ``decisions``.
"""

import warnings

from medspacy.section_detection import Sectionizer, SectionRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp.components.base import RuleComponent
from imr_nlp.extensions import SPAN_GROUPS


class IMRSections(RuleComponent):
    resource_names = ("sections.json",)

    def __init__(self, nlp: Language, name: str) -> None:
        self.nlp = nlp
        super().__init__(name)

    def _compile(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sectionizer = Sectionizer(
                self.nlp,
                name=f"{self.name}_medspacy",
                rules=None,
                require_start_line=True,
                input_span_type=None,
                span_attrs=None,
            )
        sectionizer.add(
            [SectionRule(literal=r.literal, category=r.section) for r in self.rules["sections.json"].sections]
        )
        self.sectionizer = sectionizer

    def match(self, doc: Doc) -> list[tuple[str, int, int]]:
        """Sections as (label, start token, end token), the leading header block included."""
        doc = self.sectionizer(doc)
        out = []
        for section in doc._.sections:
            label = section.category or "header"
            start = section.title_start if section.category else section.body_start
            if section.body_end > start:
                out.append((label, start, section.body_end))
        return out

    def set_annotations(self, doc: Doc, matches) -> Doc:
        doc.spans[SPAN_GROUPS["sections"]] = [Span(doc, s, e, label=label) for label, s, e in matches]
        return doc


@Language.factory("imr_sections", assigns=["doc.spans"], default_config={})
def make_sections(nlp: Language, name: str) -> IMRSections:
    return IMRSections(nlp, name)


def section_bounds(doc: Doc, label: str) -> tuple[int, int] | None:
    """Character bounds of the first section labelled ``label``, or None."""
    for span in doc.spans.get(SPAN_GROUPS["sections"], []):
        if span.label_ == label:
            return span.start_char, span.end_char
    return None
