"""Letter sections found with medspaCy's section rules and matcher, with IMR headings (data in
resources/sections.json), anchored to line starts so body phrases cannot open a section.

Writes ``doc.spans["imr_sections"]``: one span per section, labelled ``header`` (text before
the first heading), ``how_made``, ``credentials``, ``case_summary`` or ``decisions``, and
``next_letter`` from where a second letter run into the same text starts (with a warning: the
first letter's last rationale must not absorb the second letter).
"""

import re
import warnings

from medspacy.common.medspacy_matcher import MedspacyMatcher
from medspacy.section_detection import SectionRule
from medspacy.section_detection.util import is_start_line
from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp import errors
from imr_nlp.components.base import RuleComponent
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import spans_of, warn
from imr_nlp.normalize.text import OffsetMap

# medspaCy Sectionizer's default: a heading starts a line.
_NEWLINE = re.compile(r"[\n\r]+[\s]*$")


CONTRACT = declare(
    Contract(
        factory="imr_sections",
        reads=(),
        writes=("spans:sections",),
        rule_files=("sections.json",),
        scores=(),
    )
)


class IMRSections(RuleComponent):
    """Headings are matched by medspaCy's matcher with the Sectionizer's rule type and start-line
    test (``require_start_line``); the section spans are built here, without the Sectionizer's
    per-token ``token._.section`` loop, which costs more than the rest of the pipeline step."""

    contract = CONTRACT

    def _compile(self) -> None:
        matcher = MedspacyMatcher(self.nlp, name=f"{self.name}_matcher")
        rules = self.rules["sections.json"]
        matcher.add([SectionRule(literal=r.literal, category=r.section) for r in rules.sections])
        self.matcher = matcher
        self.next_letter = rules.next_letter
        self.next_letter_header = re.compile(rules.next_letter.header)

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
        next_letter = self._next_letter(doc, headings)
        if next_letter is not None:
            headings = [h for h in headings if h[1] < next_letter] + [("next_letter", next_letter)]
        out = []
        first = headings[0][1] if headings else len(doc)
        if first > 0:
            out.append(("header", 0, first))
        for i, (label, start) in enumerate(headings):
            end = headings[i + 1][1] if i + 1 < len(headings) else len(doc)
            if end > start:
                out.append((label, start, end))
        return out

    def _next_letter(self, doc: Doc, headings: list[tuple[str, int]]) -> int | None:
        """The token where a second letter starts: its opening heading again after a decisions
        section, or the header block just before that heading; None for one letter."""
        decisions = None
        for label, start in headings:
            if label == "decisions" and decisions is None:
                decisions = start
            elif label == self.next_letter.opening_section and decisions is not None:
                heading_char = doc[start].idx
                header = None
                for m in self.next_letter_header.finditer(doc.text, doc[decisions].idx, heading_char):
                    if m.start() == 0 or doc.text[m.start() - 1] == "\n":
                        header = m.start()
                if header is None:
                    return start
                span = doc.char_span(header, heading_char, alignment_mode="expand")
                return span.start if span is not None and len(span) else start
        return None

    def set_annotations(self, doc: Doc, matches) -> Doc:
        self.write_spans(doc, "sections", [Span(doc, s, e, label=label) for label, s, e in matches])
        for label, start, _ in matches:
            if label == "next_letter":
                source_start = (
                    OffsetMap.from_dict(doc._.offset_map).to_original(doc[start].idx)
                    if doc._.offset_map
                    else doc[start].idx
                )
                warn(doc, errors.warning("W014", start=source_start))
        return doc


@Language.factory(
    "imr_sections", requires=CONTRACT.requires, assigns=CONTRACT.assigns, default_config={"span_keys": {}}
)
def make_sections(nlp: Language, name: str, span_keys: dict[str, str]) -> IMRSections:
    return IMRSections(nlp, name, span_keys=span_keys)


def section_bounds(doc: Doc, label: str) -> tuple[int, int] | None:
    """Character bounds of the first section labelled ``label``, or None."""
    for span in spans_of(doc, "sections"):
        if span.label_ == label:
            return span.start_char, span.end_char
    return None
