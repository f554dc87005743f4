"""A fast rule-based sentence splitter tuned to IMR letters.

Sentences end at a line break of the cleaned text, and after ".", "?" or "!" when the next token
opens a sentence (capital letter, digit, quote or bracket) and the full stop does not close an
abbreviation ("Dr.", "vs.", "e.g."). medspaCy's ConText needs these boundaries.
"""


from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import Component

_ENDERS = frozenset({".", "?", "!"})
_ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "vs", "e.g", "i.e", "etc", "no", "st", "jr", "sr", "approx", "fig", "ed",
     "al", "inc", "co", "pg", "pp", "p", "sec", "ref", "sod", "ca", "u.s"}
)


class SentenceSplitter(Component):
    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)

    def match(self, doc: Doc) -> list[int]:
        """Indices of the tokens that start a sentence."""
        starts = [0] if len(doc) else []
        for i in range(1, len(doc)):
            prev, tok = doc[i - 1], doc[i]
            if tok.is_space:
                continue
            if "\n" in prev.text or "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text):
                starts.append(i)
                continue
            j = i - 1
            while j >= 0 and doc[j].is_space:
                j -= 1
            if j < 0:
                continue
            last = doc[j]
            if last.text in _ENDERS or (last.text in {'"', "'", ")"} and j > 0 and doc[j - 1].text in _ENDERS):
                if last.text == "." and j > 0 and doc[j - 1].lower_.rstrip(".") in _ABBREVIATIONS:
                    continue
                first = tok.text[0]
                if first.isupper() or first.isdigit() or first in "\"'(":
                    starts.append(i)
            elif last.text.endswith(".") and len(last.text) > 1 and last.text[:-1].isalpha():
                if last.lower_.rstrip(".") not in _ABBREVIATIONS and tok.text[0].isupper():
                    starts.append(i)
        return starts

    def set_annotations(self, doc: Doc, starts: list[int]) -> Doc:
        start_set = set(starts)
        for i, token in enumerate(doc):
            token.is_sent_start = i in start_set
        return doc


@Language.factory("imr_sentences", assigns=["token.is_sent_start"], default_config={})
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp, name)
