"""Cheap views of a processed Doc shared by the components and the assembly: its text, computed
once, and a group's spans indexed by offset. Beneath both, so that neither imports the other."""

from __future__ import annotations

from bisect import bisect_left

from spacy.tokens import Doc

_TEXT_KEY = "imr_nlp.text"


def remember_text(doc: Doc, text: str) -> None:
    """Record ``doc.text`` when it is known already (the tokenizer made the doc from it)."""
    doc.user_data[_TEXT_KEY] = (id(doc), len(doc), text)


def doc_text(doc: Doc) -> str:
    """``doc.text``, computed once per doc (spaCy joins every token's text on each access).

    Kept with the doc's identity and length: a doc copied or read back with its ``user_data``
    (``Doc.to_bytes``, ``Doc.from_docs``) is another object and computes its own, and no
    retokenization changes a doc's text."""
    cached = doc.user_data.get(_TEXT_KEY)
    if cached is None or cached[0] != id(doc) or cached[1] != len(doc):
        cached = (id(doc), len(doc), doc.text)
        doc.user_data[_TEXT_KEY] = cached
    return cached[2]


class SpanIndex:
    """The spans of a group indexed by their first character: the spans lying inside a character
    range are found by bisection, so reading them for every item of a letter costs time linear
    in the items and spans, not their product."""

    def __init__(self, spans) -> None:
        order = sorted(range(len(spans)), key=lambda i: spans[i].start_char)
        self.spans = [spans[i] for i in order]
        self.order = order
        self.starts = [span.start_char for span in self.spans]

    def within(self, start: int, end: int) -> list:
        """The spans with ``start <= start_char`` and ``end_char <= end``, in the group's order."""
        found = []
        i = bisect_left(self.starts, start)
        while i < len(self.starts) and self.starts[i] < end:
            if self.spans[i].end_char <= end:
                found.append((self.order[i], self.spans[i]))
            i += 1
        return [span for _, span in sorted(found, key=lambda pair: pair[0])]
