"""Letter sections found with medspaCy's section rules and matcher, with IMR headings (data in
resources/sections.json), anchored to line starts so body phrases cannot open a section.

Writes ``doc.spans["imr_sections"]``: one span per section, labelled ``header`` (text before
the first heading), ``how_made``, ``credentials``, ``case_summary`` or ``decisions``.
"""

import re
import warnings

from medspacy.common.medspacy_matcher import MedspacyMatcher
from medspacy.section_detection import SectionRule
from medspacy.section_detection.util import is_start_line
from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp.components.base import RuleComponent
from imr_nlp.extensions import SPAN_GROUPS

# medspaCy Sectionizer's default: a heading starts a line.
_NEWLINE = re.compile(r"[\n\r]+[\s]*$")


class IMRSections(RuleComponent):
    """Headings are matched by medspaCy's matcher with the Sectionizer's rule type and start-line
    test (``require_start_line``); the section spans are built here, without the Sectionizer's
    per-token ``token._.section`` loop, which costs more than the rest of the pipeline step."""

    resource_names = ("sections.json",)

    def __init__(self, nlp: Language, name: str) -> None:
        self.nlp = nlp
        super().__init__(name)

    def _compile(self) -> None:
        matcher = MedspacyMatcher(self.nlp, name=f"{self.name}_matcher")
        matcher.add([SectionRule(literal=r.literal, category=r.section) for r in self.rules["sections.json"].sections])
        self.matcher = matcher

    def match(self, doc: Doc) -> list[tuple[str, int, int]]:
        """Sections as (label, start token, end token), the leading header block included."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # W036: medspaCy's token Matcher is empty (phrase rules only)
            matches = self.matcher(doc)
        headings = [
            (self.matcher.rule_map[self.nlp.vocab.strings[match_id]].category, start)
            for match_id, start, _ in matches
            if is_start_line(start, doc, _NEWLINE)
        ]
        headings.sort(key=lambda h: h[1])
        out = []
        first = headings[0][1] if headings else len(doc)
        if first > 0:
            out.append(("header", 0, first))
        for i, (label, start) in enumerate(headings):
            end = headings[i + 1][1] if i + 1 < len(headings) else len(doc)
            if end > start:
                out.append((label, start, end))
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
