"""Which layout a letter follows: the 2016 layout of our corpus, the 2013 notice, the 2014
layout, the medical professional review, or "unknown", recognised by the headings and fixed
wordings each layout has (data: resources/letter_layouts.json).

Writes ``doc._.layout`` (the layout's name), ``doc._.layout_signals`` (the signals found, as
``[layout, start, end]``) and ``doc._.layout_read_as_primary`` (the rules' primary layout, or an
unknown one), read by assembly: a letter of a known layout whose decisions cannot be read gets
a warning naming its layout, never "not an IMR letter"; only in the primary layout is a
missing rationale or outcome a sign of a cut.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, doc_text
from imr_nlp.components.contract import Contract, declare

UNKNOWN = "unknown"


CONTRACT = declare(
    Contract(
        factory="imr_layout",
        reads=(),
        writes=("doc._.layout", "doc._.layout_signals", "doc._.layout_read_as_primary"),
        rule_files=("letter_layouts.json",),
        scores=(),
    )
)


class IMRLayout(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        rules = self.rules["letter_layouts.json"]
        self.min_signals = rules.min_signals
        self.read_as_primary = frozenset([UNKNOWN, *(layout.layout for layout in rules.layouts if layout.primary)])
        # A signal anchored at a line start ("^HEADING") is searched without its anchor, which
        # lets the regex engine jump to its literal start, and its line start checked here.
        self.layouts = [
            (
                layout.layout,
                [(re.compile(s[1:] if s.startswith("^") else s, re.M), s.startswith("^")) for s in layout.signals],
            )
            for layout in rules.layouts
        ]

    @staticmethod
    def _search(pattern: re.Pattern, at_line_start: bool, text: str) -> re.Match | None:
        """The first match of a signal (at a line start, for an anchored one)."""
        m = pattern.search(text)
        while m is not None and at_line_start and m.start() > 0 and text[m.start() - 1] != "\n":
            m = pattern.search(text, m.start() + 1)
        return m

    def match(self, doc: Doc) -> tuple[str, list[tuple[str, int, int]]]:
        """(layout, signals found as (layout, start, end)) of the doc's text."""
        text = doc_text(doc)
        found: list[tuple[str, int, int]] = []
        best, best_count = UNKNOWN, 0
        for name, signals in self.layouts:
            hits = [m for m in (self._search(pattern, anchored, text) for pattern, anchored in signals) if m]
            found.extend((name, m.start(), m.end()) for m in hits)
            if len(hits) >= self.min_signals and len(hits) > best_count:
                best, best_count = name, len(hits)
        return best, sorted(found, key=lambda f: f[1])

    def set_annotations(self, doc: Doc, matches: tuple[str, list[tuple[str, int, int]]]) -> Doc:
        layout, signals = matches
        doc._.layout = layout
        doc._.layout_read_as_primary = layout in self.read_as_primary
        doc._.layout_signals = [list(signal) for signal in signals]
        return doc


@Language.factory(
    "imr_layout",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={},
)
def make_layout(nlp: Language, name: str) -> IMRLayout:
    return IMRLayout(nlp, name)
