"""A fast rule-based sentence splitter tuned to IMR letters (and clinical notes generally).

A sentence starts:

* after a line break of the cleaned text;
* after ".", "?" or "!" when the next token opens a sentence (capital letter, digit, quote or
  bracket) and the full stop does not close an abbreviation ("Dr.", "vs.", "e.g.");
* at a list item marker inside a line ("... lumbar strain 2) cervical strain", "1. Lumbar"),
  unless the marker closes a parenthesis ("(see image 1)");
* at an upper-case label inside a line ("... Not obtainable REFERRING DIAGNOSIS: syncope").

One pass over the tokens, no model: ConText needs the boundaries, and the medspaCy default
(PyRuSH) is slow and logs every sentence.
"""

from spacy.language import Language
from spacy.tokens import Doc, Token

from imr_nlp.components.base import Component

_ENDERS = frozenset({".", "?", "!"})
_ABBREVIATIONS = frozenset(
    {
        "dr",
        "mr",
        "mrs",
        "ms",
        "vs",
        "e.g",
        "i.e",
        "etc",
        "no",
        "st",
        "jr",
        "sr",
        "approx",
        "fig",
        "ed",
        "al",
        "inc",
        "co",
        "pg",
        "pp",
        "p",
        "sec",
        "ref",
        "sod",
        "ca",
        "u.s",
    }
)
_LIST_CLOSERS = frozenset({")", "."})
_LABEL_JOINERS = frozenset({"/", "-", "&", "(", ")"})
_MAX_LIST_NUMBER = 30


def _is_line_break(token: Token) -> bool:
    return "\n" in token.text or "\n" in token.whitespace_


class SentenceSplitter(Component):
    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)

    def match(self, doc: Doc) -> list[int]:
        """Indices of the tokens that start a sentence."""
        starts = [0] if len(doc) else []
        open_parens = 0  # unclosed "(" since the last sentence start
        for i in range(1, len(doc)):
            prev, tok = doc[i - 1], doc[i]
            open_parens += prev.text.count("(") - prev.text.count(")")
            if tok.is_space:
                continue
            if _is_line_break(prev) or self._after_sentence_end(doc, i) or self._opens_unit(doc, i, open_parens):
                starts.append(i)
                open_parens = 0
        return starts

    @staticmethod
    def _after_sentence_end(doc: Doc, i: int) -> bool:
        j = i - 1
        while j >= 0 and doc[j].is_space:
            j -= 1
        if j < 0:
            return False
        last, tok = doc[j], doc[i]
        if last.text in _ENDERS or (last.text in {'"', "'", ")"} and j > 0 and doc[j - 1].text in _ENDERS):
            if last.text == "." and j > 0 and doc[j - 1].lower_.rstrip(".") in _ABBREVIATIONS:
                return False
            if last.text == "." and j > 0 and _is_list_number(doc[j - 1]) and _starts_list_item(doc, j - 1):
                return False  # "1." of a list item: the item started at the number
            first = tok.text[0]
            return first.isupper() or first.isdigit() or first in "\"'("
        if last.text.endswith(".") and len(last.text) > 1 and last.text[:-1].isalpha():
            return last.lower_.rstrip(".") not in _ABBREVIATIONS and tok.text[0].isupper()
        return False

    @staticmethod
    def _opens_unit(doc: Doc, i: int, open_parens: int) -> bool:
        """A list item marker or an upper-case label in the middle of a line."""
        prev = doc[i - 1]
        if prev.is_space:
            return False
        if _is_list_number(doc[i]) and _starts_list_item(doc, i):
            return not (doc[i + 1].text == ")" and open_parens > 0) and prev.text not in {"(", "#", "/", "-"}
        return _starts_label(doc, i)

    def set_annotations(self, doc: Doc, starts: list[int]) -> Doc:
        start_set = set(starts)
        for i, token in enumerate(doc):
            token.is_sent_start = i in start_set
        return doc


def _is_list_number(token: Token) -> bool:
    return token.text.isdigit() and len(token.text) <= 2 and 0 < int(token.text) <= _MAX_LIST_NUMBER


def _starts_list_item(doc: Doc, i: int) -> bool:
    """``doc[i]`` is a number followed by ")" or "." and then a word: "2) Colitis", "3. Lumbar"."""
    if i + 2 >= len(doc) or doc[i + 1].text not in _LIST_CLOSERS or doc[i].whitespace_:
        return False
    following = doc[i + 2]
    return following.text[:1].isalpha() and (doc[i + 1].text == ")" or following.text[:1].isupper())


def _starts_label(doc: Doc, i: int) -> bool:
    """``doc[i]`` begins an upper-case label ending in ":" ("REFERRING DIAGNOSIS:"). After a
    lower-case word the label must look like one (two words, or one of six letters or more), so
    "has CRPS: see" stays whole; never right after a colon or another upper-case word."""
    prev = doc[i - 1]
    if not _is_label_word(doc[i]) or prev.text == ":" or _is_label_word(prev):
        return False
    words = []
    for j in range(i, min(len(doc), i + 8)):
        token = doc[j]
        if token.text == ":":
            letters = sum(len(w) for w in words)
            if prev.text[:1].islower():
                return len(words) >= 2 or letters >= 6
            return letters >= 3
        if _is_label_word(token):
            words.append(token.text)
        elif token.text not in _LABEL_JOINERS:
            return False
    return False


def _is_label_word(token: Token) -> bool:
    word = token.text.replace("-", "")
    return len(word) > 1 and word.isalpha() and word.isupper()


@Language.factory("imr_sentences", assigns=["token.is_sent_start"], default_config={})
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp, name)
