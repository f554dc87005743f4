"""Which layout a letter follows: the 2016 layout of our corpus, the 2013 notice, the 2014
layout, the medical professional review, or "unknown", recognised by the headings and fixed
wordings each layout has (data: resources/letter_layouts.json).

Writes ``doc._.layout`` (the layout's name) and ``doc._.layout_signals`` (the signals found, as
``[layout, start, end]``), read by assembly: a letter of a known layout whose decisions cannot
be read gets a warning naming its layout, never "not an IMR letter".
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, doc_text

UNKNOWN = "unknown"


class IMRLayout(RuleComponent):
    resource_names = ("letter_layouts.json",)

    def _compile(self) -> None:
        rules = self.rules["letter_layouts.json"]
        self.min_signals = rules.min_signals
        self.layouts = [(layout.layout, [re.compile(s, re.M) for s in layout.signals]) for layout in rules.layouts]

    def match(self, doc: Doc) -> tuple[str, list[tuple[str, int, int]]]:
        """(layout, signals found as (layout, start, end)) of the doc's text."""
        text = doc_text(doc)
        found: list[tuple[str, int, int]] = []
        best, best_count = UNKNOWN, 0
        for name, signals in self.layouts:
            hits = [m for m in (pattern.search(text) for pattern in signals) if m]
            found.extend((name, m.start(), m.end()) for m in hits)
            if len(hits) >= self.min_signals and len(hits) > best_count:
                best, best_count = name, len(hits)
        return best, sorted(found, key=lambda f: f[1])

    def set_annotations(self, doc: Doc, matches: tuple[str, list[tuple[str, int, int]]]) -> Doc:
        layout, signals = matches
        doc._.layout = layout
        doc._.layout_signals = [list(signal) for signal in signals]
        return doc


@Language.factory(
    "imr_layout",
    requires=[],
    assigns=["doc._.layout", "doc._.layout_signals"],
    default_config={},
)
def make_layout(nlp: Language, name: str) -> IMRLayout:
    return IMRLayout(nlp, name)
