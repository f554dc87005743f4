"""Clean PDF-extracted letter text while keeping a map back to the original characters.

IMR letters reach us as text pulled out of PDFs: a blank line after every line, lines wrapped at
the page margin, words hyphenated across lines ("anti-\\ndepressants"), sentences run together
("minutes without.Diagnosis"), form feeds at page breaks, CRLF endings, non-breaking spaces and
runs of spaces where text was redacted. Every rule downstream is simpler on clean text, but the
output contract wants offsets into the *original* string, so cleaning returns an
:class:`OffsetMap` alongside the text.

The cleaned text keeps one ``\\n`` wherever a line break is structural (the previous line ends a
sentence or a label, the next line starts a known heading) and joins wrapped lines with a space.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Protocol

# One-to-one character replacements: the cleaned text keeps the same length for these.
_TRANSLATION = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2007": " ",
        "\u202f": " ",
        "\t": " ",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\x0b": " ",
    }
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\f|\u2028|\u2029|\x85")
# A line that ends a sentence, a label or a list header (one of _UNIT_ENDS, maybe before
# closing marks): keep the break after it.
_UNIT_ENDS = frozenset(".!?:;")
_CLOSERS = "\"')]"
_ASCII_LETTERS = frozenset(string.ascii_letters)
# A line cut inside a hyphenated word: "anti-" + "depressants" -> "anti-depressants".
# A date or number cut at its separator: "10/14/" + "2016" -> "10/14/2016".
# Run-on sentences glued by PDF extraction: "without.Diagnosis" -> "without. Diagnosis",
# "5/10.The" -> "5/10. The".
_RUN_ON = re.compile(r"(?<=[a-z0-9]{2}[.?!])(?=[A-Z][a-z])")
# Format and control characters that show nothing (zero-width spaces, direction marks, word
# joiners, soft hyphens inside a line, NUL ...): dropped, so "Upheld\u200b" reads as "Upheld".
_INVISIBLE_RANGES = [
    (0x00, 0x08),
    (0x0E, 0x1F),
    (0x7F, 0x7F),
    (0xAD, 0xAD),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
]
INVISIBLE = "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "") for a, b in _INVISIBLE_RANGES)
# A word cut at a line end by a soft hyphen: U+FFFE, pdfium's mark of a hyphen that ended a line
# (the line already joined), or U+00AD before a line break and a lower-case word. Read joined or
# hyphenated, as the Hyphenation given to clean_text decides; a U+00AD anywhere else shows
# nothing and is dropped.
_BREAK_CHARS = "\r\n\f\u2028\u2029\x85"
_SOFT_HYPHEN = re.compile(rf"\ufffe|\u00ad(?= *[{_BREAK_CHARS}][ {_BREAK_CHARS}]*[a-z])")
# What follows a soft hyphen: the line break, if any, and the second half of the word.
_AFTER_SOFT_HYPHEN = re.compile(rf"(?P<gap> *(?:[{_BREAK_CHARS}][ {_BREAK_CHARS}]*)?)(?P<right>[^\W\d_]*)")
# The mark of a soft hyphen read as joining: invisible, so the cleaning drops it.
_JOINED = "\u00ad"
# Budgets that keep the tokenizer linear: spaCy's tokenizer strips affixes one character at a
# time, re-searching the rest of the chunk each time, so its cost grows with the square of a
# chunk's length. A run of seven or more of one punctuation character is kept to its first
# PUNCT_RUN_KEPT characters, and a chunk with no space is cut (a space inserted) every MAX_CHUNK characters
# (the longest in the public letters is an 89-character URL). Offsets still map to the source.
PUNCT_RUN_KEPT = 3
MAX_CHUNK = 100
_LINE_CUTS = re.compile(
    rf"(?P<invisible>[{INVISIBLE}]+)"
    rf"|(?P<run>(?P<mark>[^\w\s{INVISIBLE}])(?P=mark){{{PUNCT_RUN_KEPT + 3},}})"
    rf"|(?P<long>[^\s{INVISIBLE}]{{{MAX_CHUNK}}})(?=[^\s{INVISIBLE}])"
    r"|(?P<spaces> {2,})|" + _RUN_ON.pattern
)
# A cheap first test of a printable ASCII line for _LINE_CUTS (which tries its five branches at
# every character): a punctuation run or a stop before a capital; the rare line it finds, and
# every line with other characters, runs, double spaces or long chunks, is cut by _LINE_CUTS.
_MAYBE_CUT = re.compile(rf"([^\w\s])(?:\1{{{PUNCT_RUN_KEPT + 3}}}|(?<=[.?!])[A-Z])")
_STRIPPED = frozenset(" " + "".join(chr(c) for a, b in _INVISIBLE_RANGES for c in range(a, b + 1)))
_LIST_ITEM = re.compile(r"^(?:[-\u2022*\u25cf]\s|\(?\d{1,2}[.)]\s)")
_HEADING = re.compile(r"^[A-Z0-9 ,&/()'-]{6,}$")
# A page number alone on its line ("Page 2 of 5", "Page 2", "- 2 -", "2 of 5"): a page footer or
# header, dropped like a blank line so the text around it joins up.
_PAGE_NUMBER = re.compile(r"page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|-\s*\d{1,4}\s*-|\d{1,4}\s+of\s+\d{1,4}", re.I)


@dataclass(frozen=True)
class OffsetMap:
    """Maps character offsets of a cleaned text back to the original string.

    Stored as breakpoints: from ``clean_starts[i]`` on, clean offset ``c`` maps to
    ``orig_starts[i] + (c - clean_starts[i])``. Plain lists, so a Doc extension can hold it.
    """

    clean_starts: list[int] = field(default_factory=lambda: [0])
    orig_starts: list[int] = field(default_factory=lambda: [0])
    orig_length: int = 0

    def to_original(self, clean_offset: int) -> int:
        """The original offset of the character at ``clean_offset``."""
        i = bisect_right(self.clean_starts, clean_offset) - 1
        if i < 0:
            return 0
        return min(self.orig_starts[i] + (clean_offset - self.clean_starts[i]), self.orig_length)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``(start, end)`` of the clean span ``[start, end)``."""
        if end <= start:
            o = self.to_original(start)
            return o, o
        return self.to_original(start), self.to_original(end - 1) + 1

    def to_dict(self) -> dict:
        return {"clean": list(self.clean_starts), "orig": list(self.orig_starts), "length": self.orig_length}

    @classmethod
    def from_dict(cls, data: dict) -> OffsetMap:
        return cls(list(data["clean"]), list(data["orig"]), int(data["length"]))

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        return cls([0], [0], length)


def compose(outer: OffsetMap, inner: OffsetMap, outer_length: int) -> OffsetMap:
    """One map for ``outer`` (a text of ``outer_length`` characters back to a middle text)
    followed by ``inner`` (the middle text back to the source)."""
    clean_starts: list[int] = []
    orig_starts: list[int] = []

    def add(clean: int, orig: int) -> None:
        if clean_starts and orig_starts[-1] + (clean - clean_starts[-1]) == orig:
            return
        clean_starts.append(clean)
        orig_starts.append(orig)

    count = len(outer.clean_starts)
    for i, (c0, m0) in enumerate(zip(outer.clean_starts, outer.orig_starts, strict=True)):
        c1 = outer.clean_starts[i + 1] if i + 1 < count else max(outer_length, c0 + 1)
        m1 = m0 + (c1 - c0)
        j = max(bisect_right(inner.clean_starts, m0) - 1, 0)
        m = m0
        while m < m1:
            add(c0 + (m - m0), inner.orig_starts[j] + (m - inner.clean_starts[j]))
            j += 1
            if j >= len(inner.clean_starts):
                break
            m = max(m, inner.clean_starts[j])
    return OffsetMap(clean_starts or [0], orig_starts or [0], inner.orig_length)


class _Builder:
    """Accumulates pieces of the cleaned text, each tied to where it came from."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.clean_starts: list[int] = []
        self.orig_starts: list[int] = []
        self.length = 0

    def add(self, text: str, orig_start: int) -> None:
        if not text:
            return
        if self.clean_starts:
            # Merge with the previous piece when it continues it in the original too.
            last_clean, last_orig = self.clean_starts[-1], self.orig_starts[-1]
            if last_orig + (self.length - last_clean) == orig_start:
                self.parts.append(text)
                self.length += len(text)
                return
        self.parts.append(text)
        self.clean_starts.append(self.length)
        self.orig_starts.append(orig_start)
        self.length += len(text)

    def last_char(self) -> str:
        return self.parts[-1][-1] if self.parts else ""


def _lines(text: str) -> list[tuple[int, int, int]]:
    """Non-blank lines as (content_start, content_end, terminator_start), stripped of spaces;
    page-number lines count as blank."""
    out = []
    pos = 0
    for m in _LINE_BREAK.finditer(text):
        _add_line(text, pos, m.start(), out)
        pos = m.end()
    _add_line(text, pos, len(text), out)
    return out


def _add_line(text: str, start: int, end: int, out: list) -> None:
    s, e = start, end
    while s < e and text[s] in _STRIPPED:
        s += 1
    while e > s and text[e - 1] in _STRIPPED:
        e -= 1
    if e > s and not (e - s <= 20 and _PAGE_NUMBER.fullmatch(text, s, e)):
        out.append((s, e, end))


def _is_structural_start(line: str, starts: re.Pattern | None) -> bool:
    return bool(_LIST_ITEM.match(line) or (starts is not None and starts.match(line)))


class Repairer(Protocol):
    """Repairs a text from another extractor or OCR before its lines are joined:
    imr_nlp.normalize.repairs has the tokenizer's."""

    def __call__(self, text: str) -> tuple[str, OffsetMap] | None: ...


class Hyphenation(Protocol):
    """Decides whether the two halves of a word cut by a soft hyphen join (``letter``: the whole
    text, whose own spelling may tell); imr_nlp.normalize.hyphens has the tokenizer's."""

    def joins(self, left: str, right: str, letter: str) -> bool: ...


def clean_text(
    raw: str,
    structural_starts: re.Pattern | None = None,
    midline_starts: re.Pattern | None = None,
    hyphenation: Hyphenation | None = None,
    repairer: Repairer | None = None,
) -> tuple[str, OffsetMap]:
    """Return the cleaned text of ``raw`` and the map of its offsets back into ``raw``.

    ``midline_starts`` matches the space before such a start found inside a line (a letter whose
    line breaks were flattened): that space becomes a line break.
    ``structural_starts`` matches the start of lines that always begin a new unit (section
    headings, "Decision rationale:", header labels); it comes from the tokenizer's layout rules.
    ``hyphenation`` decides whether a word cut by a soft hyphen is joined; without it the hyphen
    stays. ``repairer`` repairs the text of another extractor or OCR first (None: the text
    needs none).
    """
    if repairer is not None:
        repaired = repairer(raw)
        if repaired is not None:
            text, inner = repaired
            clean, outer = _clean_text(text, structural_starts, midline_starts, hyphenation)
            return clean, compose(outer, inner, len(clean))
    return _clean_text(raw, structural_starts, midline_starts, hyphenation)


def _clean_text(
    raw: str,
    structural_starts: re.Pattern | None,
    midline_starts: re.Pattern | None,
    hyphenation: Hyphenation | None,
) -> tuple[str, OffsetMap]:
    """:func:`clean_text` of a text that needs no repair (or was repaired)."""
    # str.translate copies the text; plain ASCII without tabs (most letters) needs none of it
    text = raw
    hyphen_breaks: frozenset[int] = frozenset()
    joined_breaks: frozenset[int] = frozenset()
    if not (raw.isascii() and "\t" not in raw and "\x0b" not in raw):
        text = raw.translate(_TRANSLATION)
        if "\ufffe" in text or "\u00ad" in text:
            text, hyphen_breaks, joined_breaks = _read_soft_hyphens(text, hyphenation)
    if midline_starts is not None:
        text = midline_starts.sub("\n", text)
    builder = _Builder()
    lines = _lines(text)
    prev: str | None = None
    prev_end = 0
    for content_start, content_end, _ in lines:
        line = text[content_start:content_end]
        if prev is not None:
            sep_pos = content_start - 1  # the whitespace just before this line
            # the line ends are tested on their last characters (a regex "...$" would scan the line)
            last = prev[-1]
            if line[:1].isalpha() and (prev_end in joined_breaks or prev_end - 1 in hyphen_breaks):
                pass  # a word cut by a soft hyphen: joined, or with its hyphen, as decided
            elif last == "-" and prev[-2:-1] in _ASCII_LETTERS and line[:1].islower():
                pass  # join a hyphenated word across the break, keeping its hyphen
            elif last in "/-" and prev[-2:-1].isdecimal() and line[:1].isdigit():
                pass  # join a date or range cut at its separator
            elif (
                prev.rstrip(_CLOSERS)[-1:] in _UNIT_ENDS
                or _HEADING.match(prev)
                or _HEADING.match(line)
                or _is_structural_start(line, structural_starts)
            ):
                builder.add("\n", sep_pos)
            else:
                builder.add(" ", sep_pos)
        if _may_need_cuts(line):
            _add_line_content(builder, line, content_start)
        else:
            builder.add(line, content_start)
        prev, prev_end = line, content_end
    clean = "".join(builder.parts)
    omap = OffsetMap(builder.clean_starts or [0], builder.orig_starts or [0], len(raw))
    return clean, omap


def _read_soft_hyphens(text: str, hyphenation: Hyphenation | None) -> tuple[str, frozenset[int], frozenset[int]]:
    """``text`` with each soft hyphen that cuts a word replaced, one character for one, by "-"
    or by the invisible mark of a join, as ``hyphenation`` decides; and the offsets of those
    that stand before a line break, hyphenated and joined (the line joiner reads them)."""
    chars = list(text)
    hyphenated: set[int] = set()
    joined: set[int] = set()
    for mark in _SOFT_HYPHEN.finditer(text):
        at = mark.start()
        after = _AFTER_SOFT_HYPHEN.match(text, mark.end())
        first = at
        while first > 0 and text[first - 1].isalpha():
            first -= 1
        left, right = text[first:at], after.group("right")
        joins = hyphenation is not None and hyphenation.joins(left, right, text)
        chars[at] = _JOINED if joins else "-"
        if any(c in _BREAK_CHARS for c in after.group("gap")):
            (joined if joins else hyphenated).add(at)
    return "".join(chars), frozenset(hyphenated), frozenset(joined)


def _may_need_cuts(line: str) -> bool:
    """Whether :func:`_add_line_content` may change ``line`` (False: it adds the line whole)."""
    return (
        not (line.isascii() and line.isprintable())
        or "  " in line
        or _MAYBE_CUT.search(line) is not None
        or (len(line) > MAX_CHUNK and any(len(word) > MAX_CHUNK for word in line.split()))
    )


def _add_line_content(builder: _Builder, line: str, offset: int) -> None:
    """Add one line, collapsing runs of spaces, separating run-on sentences, dropping invisible
    characters and keeping punctuation runs and space-free chunks within their budgets (one
    regex pass; most lines have none of these and are added whole)."""
    pos = 0
    for m in _LINE_CUTS.finditer(line):
        if m.group("invisible"):
            builder.add(line[pos : m.start()], offset + pos)
            pos = m.end()
        elif m.group("run"):  # keep the first characters of the run
            builder.add(line[pos : m.start() + PUNCT_RUN_KEPT], offset + pos)
            pos = m.end()
        elif m.group("long"):  # a space after every MAX_CHUNK characters of a space-free chunk
            builder.add(line[pos : m.end()], offset + pos)
            builder.add(" ", offset + m.end())
            pos = m.end()
        elif m.group("spaces"):  # keep the first space of the run
            builder.add(line[pos : m.start() + 1], offset + pos)
            pos = m.end()
        else:  # a run-on sentence: insert a space
            builder.add(line[pos : m.start()], offset + pos)
            builder.add(" ", offset + m.start())
            pos = m.start()
    builder.add(line[pos:], offset + pos)
