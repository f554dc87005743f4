"""A fast rule-based sentence splitter tuned to IMR letters (and clinical notes generally).

A sentence starts:

* after a line break of the cleaned text;
* after ".", "?" or "!" when the next token opens a sentence (capital letter, digit, quote or
  bracket) and the full stop does not close an abbreviation ("Dr.", "vs.", "e.g.": the list
  is data, resources/sentences.json);
* at a list item marker inside a line ("... lumbar strain 2) cervical strain", "1. Lumbar"),
  unless the marker closes a parenthesis ("(see image 1)");
* at an upper-case label inside a line ("... Not obtainable REFERRING DIAGNOSIS: syncope").

One pass over the tokens, no model: ConText needs the boundaries, and the medspaCy default
(PyRuSH) is slow and logs every sentence.
"""

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, remember_sentences, token_words
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import share_table
from imr_nlp.normalize.sentences import SentenceEnds, sentence_ends_from

_LIST_CLOSERS = frozenset({")", "."})
_NOT_BEFORE_LIST_ITEM = frozenset({"(", "#", "/", "-"})
_LABEL_JOINERS = frozenset({"/", "-", "&", "(", ")"})
_MAX_LIST_NUMBER = 30


CONTRACT = declare(
    Contract(
        factory="imr_sentences",
        reads=(),
        writes=("token.is_sent_start", "doc.sents", "vocab.lookups:sentence_ends"),
        rule_files=("sentences.json",),
        scores=(),
    )
)


class SentenceSplitter(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        rules = self.rules["sentences.json"]
        self.abbreviations = frozenset(w.lower() for w in rules.abbreviations.words)
        ends = {"stops": list(rules.ends.stops), "closers": list(rules.ends.closers)}
        self.ends = sentence_ends_from(ends)
        # the item headers and the truncation check read the same definition
        share_table(self.nlp.vocab, "sentence_ends", ends)

    def match(self, doc: Doc) -> list[int]:
        """Indices of the tokens that start a sentence."""
        words, spaces, _ = token_words(doc)
        return sentence_starts(words, spaces, self.abbreviations, self.ends)

    def set_annotations(self, doc: Doc, starts: list[int]) -> Doc:
        if len(doc):
            flags = numpy.full((len(doc), 1), -1, dtype="int64")  # -1: not a start, 1: a start
            flags[starts, 0] = 1
            doc.from_array([SENT_START], flags.astype("uint64"))  # spaCy reads the bits back as int
            remember_sentences(doc, starts)
        return doc


def sentence_starts(
    words: list[str], spaces: list[str], abbreviations: frozenset[str], ends: SentenceEnds
) -> list[int]:
    """Indices of the tokens that start a sentence, from the tokens' texts and trailing spaces
    (plain lists: reading spaCy Token attributes in a Python loop is slow); a full stop after
    one of ``abbreviations`` ends no sentence."""
    stop_chars = ends.stop_or_closer
    n = len(words)
    starts = [0] if n else []
    open_parens = 0  # unclosed "(" since the last sentence start
    last = 0 if n and not words[0].isspace() else -1  # the last non-space token before i
    for i in range(1, n):
        prev, word = words[i - 1], words[i]
        if "(" in prev or ")" in prev:
            open_parens += prev.count("(") - prev.count(")")
        if word.isspace():
            continue
        first = word[0]
        if (
            "\n" in prev
            or "\n" in spaces[i - 1]
            # the cheap tests first: most tokens follow no stop and start no list item or label
            or (
                last >= 0 and words[last][-1] in stop_chars and _after_sentence_end(words, i, last, abbreviations, ends)
            )
            or ((first.isdigit() or first.isupper()) and _opens_unit(words, spaces, i, open_parens))
        ):
            starts.append(i)
            open_parens = 0
        last = i
    return starts


def _after_sentence_end(words: list[str], i: int, j: int, abbreviations: frozenset[str], ends: SentenceEnds) -> bool:
    """Whether ``words[i]`` opens a sentence after ``words[j]``, the last non-space token."""
    last, first = words[j], words[i][0]
    stops = ends.stops
    if last in stops or (last in ends.closers and j > 0 and words[j - 1] in stops):
        if last == "." and j > 0 and words[j - 1].lower().rstrip(".") in abbreviations:
            return False
        if last == "." and j > 0 and _is_list_number(words[j - 1]) and _starts_list_item(words, None, j - 1):
            return False  # "1." of a list item: the item started at the number
        return first.isupper() or first.isdigit() or first in "\"'("
    if last.endswith(".") and len(last) > 1 and last[:-1].isalpha():
        return last.lower().rstrip(".") not in abbreviations and first.isupper()
    return False


def _opens_unit(words: list[str], spaces: list[str], i: int, open_parens: int) -> bool:
    """A list item marker or an upper-case label in the middle of a line."""
    prev = words[i - 1]
    if prev.isspace():
        return False
    if _is_list_number(words[i]) and _starts_list_item(words, spaces, i):
        return not (words[i + 1] == ")" and open_parens > 0) and prev not in _NOT_BEFORE_LIST_ITEM
    return _starts_label(words, i)


def _is_list_number(word: str) -> bool:
    return word.isdecimal() and len(word) <= 2 and 0 < int(word) <= _MAX_LIST_NUMBER


def _starts_list_item(words: list[str], spaces: list[str] | None, i: int) -> bool:
    """``words[i]`` is a number followed by ")" or "." and then a word: "2) Colitis", "3. Lumbar"."""
    if i + 2 >= len(words) or words[i + 1] not in _LIST_CLOSERS or (spaces is not None and spaces[i]):
        return False
    following = words[i + 2]
    return following[:1].isalpha() and (words[i + 1] == ")" or following[:1].isupper())


def _starts_label(words: list[str], i: int) -> bool:
    """``words[i]`` begins an upper-case label ending in ":" ("REFERRING DIAGNOSIS:"). After a
    lower-case word the label must look like one (two words, or one of six letters or more), so
    "has CRPS: see" stays whole; never right after a colon or another upper-case word."""
    prev = words[i - 1]
    if not _is_label_word(words[i]) or prev == ":" or _is_label_word(prev):
        return False
    label_words = []
    for j in range(i, min(len(words), i + 8)):
        word = words[j]
        if word == ":":
            letters = sum(len(w) for w in label_words)
            if prev[:1].islower():
                return len(label_words) >= 2 or letters >= 6
            return letters >= 3
        if _is_label_word(word):
            label_words.append(word)
        elif word not in _LABEL_JOINERS:
            return False
    return False


def _is_label_word(word: str) -> bool:
    if not word.isupper():  # the cheap test first (hyphens have no case: the answer stands)
        return False
    word = word.replace("-", "")
    return len(word) > 1 and word.isalpha()


@Language.factory("imr_sentences", requires=CONTRACT.requires, assigns=CONTRACT.assigns, default_config={})
def make_sentences(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter(nlp, name)
