"""The imr_nlp tokenizer: repair the text of other PDF extractors and OCR (ligatures, running page
headers, glued line-end hyphens, OCR specks, confusions and dates: imr_nlp.normalize.repairs, the
``repairs`` of layout.json), clean PDF artefacts (keeping an offset map; a word cut by a PDF's soft
hyphen joined or hyphenated as imr_nlp.normalize.hyphens decides), then tokenize with scispaCy's
rules plus a few infixes for drug lists ("5%/Amitriptyline", "Lidocaine/Capsaicin").

Text normalisation has to happen before tokenization (a Doc's text cannot change afterwards),
so it lives in the tokenizer: ``doc.text`` is the cleaned text, ``doc._.source_text`` the string
given to the pipeline and ``doc._.offset_map`` the map between them.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import srsly
from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.attrs import IDX, LENGTH
from spacy.lang.en import English
from spacy.lang.tokenizer_exceptions import emoticons
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc
from spacy.util import compile_infix_regex, compile_suffix_regex, registry
from spacy.vocab import Vocab

from imr_nlp import errors, resources
from imr_nlp.components.base import remember_text
from imr_nlp.components.contract import TOKENIZER, Contract, declare
from imr_nlp.extensions import register_extensions, share_table, warn
from imr_nlp.normalize.hyphens import Hyphenation
from imr_nlp.normalize.repairs import TextRepairer
from imr_nlp.normalize.text import clean_text

# Extra infixes: split "5%/Amitriptyline", "Lidocaine/Capsaicin" (3+ letters either side), "(8)",
# and a label's colon glued to its value ("Received:06/17/2016", "Number:CM16-0121647": pdfplumber
# drops the space between a header table's columns).
_EXTRA_INFIXES = [
    r"(?<=[A-Za-z]{2}):(?=[A-Za-z0-9])",
    r"(?<=%)/",
    r"(?<=[A-Za-z]{3})/(?=[A-Za-z]{3})",
    r"(?<=[0-9])\)",
    r"(?<=[A-Za-z])\)(?=[:,.])",
    r"(?<=[0-9])(?=%)",
]


_SURROGATE = re.compile("[\ud800-\udfff]")

# Extra suffixes: a dash glued to the end of a word ends a list item ("lumbar sprain- anxiety").
_EXTRA_SUFFIXES = [r"(?<=[A-Za-z0-9])-$"]

# The per-letter budget: a text longer than this is read up to its last line break before it
# (with a warning); a letter is about 6,000 characters, a 1,000,000-character text about 1 s.
MAX_TEXT_CHARS = 1_000_000

# Distinct chunks kept in the tokenizer cache (about 100 bytes each) before it is flushed.
MAX_CACHED_CHUNKS = 200_000


def line_starts_pattern(line_starts: Sequence[str]) -> re.Pattern:
    """The line starts that always begin a line (headings, labels: the layout rules'
    ``line_starts``), as one pattern."""
    return re.compile("|".join(f"(?:{p})" for p in line_starts))


def midline_starts_pattern(rules: resources.LayoutRules) -> re.Pattern:
    """The space before a line start met inside a line, where only a line break belongs: a
    label followed by its colon ("Decision rationale:") or an upper-case heading ("CLINICAL CASE
    SUMMARY"), after the end of a word or sentence. A letter whose line breaks were flattened
    gets them back there (one character for one, so offsets do not move)."""
    labels = "|".join(f"(?:{p})" for p in rules.line_starts if not p.isupper())
    headings = "|".join(f"(?:{p})" for p in rules.line_starts if p.isupper())
    # the pattern opens with its space, so the regex engine skips ahead to each space
    return re.compile(rf" (?<=[\w.;:!?)\]] )(?=(?:{labels})\s*:|(?:{headings})\b)")


# The tokenizer is no pipeline component, but others read what it writes.
CONTRACT = declare(
    Contract(
        factory=TOKENIZER,
        writes=("doc._.source_text", "doc._.offset_map", "vocab.lookups:line_starts"),
        rule_files=("layout.json",),
    )
)

_LAYOUT_FILE = "layout.json"
_INNER_FILE = "tokenizer"


class _PatternsOnly:
    """What scispaCy's ``combined_rule_tokenizer`` reads of a pipeline, with no special cases and
    a vocabulary of its own: asking it only for its patterns costs no load of spaCy's 1,300
    special cases (each set attribute of a Tokenizer loads them all again)."""

    class Defaults:
        tokenizer_exceptions: dict = {}

    def __init__(self) -> None:
        self.vocab = Vocab()
        self.tokenizer = SimpleNamespace(token_match=English.Defaults.token_match)


def _scispacy_tokenizer(vocab: Vocab) -> Tokenizer:
    """scispaCy's combined-rule tokenizer with our extra infixes and suffixes and without the
    emoticons, built in one step (its special cases loaded once)."""
    with warnings.catch_warnings():
        # scispaCy's infix regex has a "[[" that Python 3.11 flags as a possible set union
        warnings.simplefilter("ignore", FutureWarning)
        scispacy = combined_rule_tokenizer(_PatternsOnly())
        infixes = compile_infix_regex([scispacy.infix_finditer.__self__.pattern, *_EXTRA_INFIXES])
        suffixes = compile_suffix_regex([scispacy.suffix_search.__self__.pattern, *_EXTRA_SUFFIXES])
    # scispaCy's rules are spaCy's English exceptions with its abbreviations over them; no
    # emoticons in a letter: spaCy's special cases kept "(purchase):" as "(", "purchase", "):"
    # (a sad face), so an item header ending in a parenthesis kept its colon
    rules = {**English.Defaults.tokenizer_exceptions, **scispacy.rules}
    return Tokenizer(
        vocab,
        {text: tokens for text, tokens in rules.items() if text not in emoticons},
        prefix_search=scispacy.prefix_search,
        suffix_search=suffixes.search,
        infix_finditer=infixes.finditer,
        token_match=scispacy.token_match,
    )


class IMRTokenizer:
    """Cleans the text, then tokenizes it; the Doc keeps the way back to the source text."""

    def __init__(self, nlp: Language) -> None:
        register_extensions()
        self.tokenizer = _scispacy_tokenizer(nlp.vocab)
        self.vocab = nlp.vocab
        self._cached_chunks: set[str] = set()
        self._specials: tuple[object, frozenset[str]] | None = None
        self.set_layout(resources.load(_LAYOUT_FILE))

    def set_layout(self, layout: resources.LayoutRules) -> None:
        """Use these layout rules (the pipeline's own copy: saved and read back with it)."""
        self.layout = layout
        self.line_starts = line_starts_pattern(layout.line_starts)
        self.midline_starts = midline_starts_pattern(layout)
        self.hyphenation = Hyphenation(layout.soft_hyphens)
        self.repairer = TextRepairer(layout.repairs, layout.line_starts, self.hyphenation)
        # imr_decisions reads them too (an item header never starts with one)
        share_table(self.vocab, "line_starts", list(layout.line_starts))

    def __call__(self, text: str) -> Doc:
        surrogates = 0
        if not text.isascii():
            # A lone surrogate cannot be encoded (spaCy hashes token texts as UTF-8, and no
            # output file takes it): one replacement character each keeps every offset.
            text, surrogates = _SURROGATE.subn("\ufffd", text)
        given = len(text)
        if given > MAX_TEXT_CHARS:
            cut = text.rfind("\n", 0, MAX_TEXT_CHARS)
            text = text[: cut if cut > MAX_TEXT_CHARS // 2 else MAX_TEXT_CHARS]
        clean, offset_map = clean_text(text, self.line_starts, self.midline_starts, self.hyphenation, self.repairer)
        self._fill_cache(clean)
        doc = self.tokenizer(clean)
        remember_text(doc, clean)
        doc._.source_text = text
        if surrogates:
            warn(doc, errors.warning("W011", count=surrogates))
        if given > len(text):
            warn(doc, errors.warning("W012", given=given, budget=MAX_TEXT_CHARS, read=len(text)))
        doc._.offset_map = offset_map.to_dict()
        return doc

    def _fill_cache(self, text: str) -> None:
        """Tokenize the text's new space-separated chunks, so spaCy's tokenizer cache holds them
        before the whole text is tokenized.

        spaCy caches a chunk's tokens only until the first special case ("Dr.", "e.g.") of a
        text: after it, every chunk of that text is split by the prefix, suffix and infix
        regexes again, in every letter (a letter has one in its first lines). The new chunks
        are tokenized joined by spaces, which caches them up to the first that may have met a
        special case; the rest are tokenized again from the one after it. The whole text then
        reads every chunk from the cache: the same tokens, about eight times faster. The chunks
        seen are bounded: past ``MAX_CACHED_CHUNKS`` the cache is flushed and starts again.
        """
        new = set(text.split()).difference(self._cached_chunks)
        if not new:
            return
        if len(self._cached_chunks) + len(new) > MAX_CACHED_CHUNKS:
            self.tokenizer._flush_cache()
            self._cached_chunks = set()
            if len(new) > MAX_CACHED_CHUNKS:
                return  # one huge text: tokenized the plain way
        pending = sorted(new)
        while pending:
            pending = pending[self._cached_up_to(pending) :]
        self._cached_chunks.update(new)

    def _cached_up_to(self, chunks: list[str]) -> int:
        """Tokenize ``chunks`` joined by spaces; the number of leading chunks now cached, up to
        and including the first whose tokens may come from a special case (a run of its tokens
        spells one: that chunk is never cached, and the cache took nothing after it)."""
        doc = self.tokenizer(" ".join(chunks))
        specials = self._special_texts()
        rows = doc.to_array([IDX, LENGTH]).tolist()
        token = 0
        chunk_start = 0
        for number, chunk in enumerate(chunks):
            chunk_end = chunk_start + len(chunk)
            pieces = []
            while token < len(rows) and rows[token][0] < chunk_end:
                start, length = rows[token]
                pieces.append(chunk[start - chunk_start : start - chunk_start + length])
                token += 1
            if any("".join(pieces[a:b]) in specials for a in range(len(pieces)) for b in range(a + 1, len(pieces) + 1)):
                return number + 1
            chunk_start = chunk_end + 1
        return len(chunks)

    def _special_texts(self) -> frozenset[str]:
        """The texts of the inner tokenizer's special cases (read again when they change)."""
        rules = self.tokenizer.rules
        if self._specials is None or self._specials[0] is not rules or len(self._specials[1]) != len(rules):
            self._specials = (rules, frozenset(rules))
        return self._specials[1]

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    # Serialisation: a folder with the inner spaCy tokenizer (its rules and regexes) and the
    # layout rules, so a saved pipeline carries its own.
    def to_disk(self, path, exclude=()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.tokenizer.to_disk(path / _INNER_FILE, exclude=exclude)
        srsly.write_json(path / _LAYOUT_FILE, self.layout.model_dump(mode="json"))

    def from_disk(self, path, exclude=()):
        path = Path(path)
        if path.is_file():  # saved before the layout rules were the tokenizer's own
            self.tokenizer.from_disk(path, exclude=exclude)
            return self
        self.tokenizer.from_disk(path / _INNER_FILE, exclude=exclude)
        if (path / _LAYOUT_FILE).exists():
            self.set_layout(resources.validate(_LAYOUT_FILE, srsly.read_json(path / _LAYOUT_FILE)))
        return self

    def to_bytes(self, exclude=()) -> bytes:
        return srsly.msgpack_dumps(
            {_INNER_FILE: self.tokenizer.to_bytes(exclude=exclude), _LAYOUT_FILE: self.layout.model_dump(mode="json")}
        )

    def from_bytes(self, data: bytes, exclude=()):
        parts = srsly.msgpack_loads(data)
        self.tokenizer.from_bytes(parts[_INNER_FILE], exclude=exclude)
        self.set_layout(resources.validate(_LAYOUT_FILE, parts[_LAYOUT_FILE]))
        return self


@registry.tokenizers("imr_nlp.tokenizer.v1")
def create_tokenizer():
    """Registered tokenizer factory, so ``spacy.load`` can rebuild it from a saved config."""

    def make(nlp: Language) -> IMRTokenizer:
        # the tokenizer keeps texts within its own budget (MAX_TEXT_CHARS, with a warning), so
        # spaCy's length check, which would raise instead, is set beyond it
        nlp.max_length = max(nlp.max_length, 10**12)
        return IMRTokenizer(nlp)

    return make
