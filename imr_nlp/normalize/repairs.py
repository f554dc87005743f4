"""Repairs of letter text that came from other PDF extractors or from OCR, made before the
tokenizer's cleaning joins the lines, with a map back to the source text.

Our own reader (pypdfium2) gives text these rules never touch. Other extractors and OCR differ:
ligatures and dash variants; running page headers; plain pdftotext drops a line-end hyphen and
glues the word halves ("rightsided") or a date's parts ("1025-16"); pdfminer and pdftotext
-layout keep it as a plain "-", where pdfium marks a soft hyphen; Tesseract reads specks as marks
("UR Denial Date: | 11/03/2016", a "." line after "Upheld"), a label's colon as a stop, "rn" as
"m" ("Califomia"), splits a capital from its word ("A ccording") and damages dates ("1 1/22/2016",
"l1/22/2016"). Each repair is a rule of the tokenizer's layout.json (``repairs``), with examples;
every repair is an :class:`Edit` of the source text, so offsets still map back to it.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from imr_nlp import resources
from imr_nlp.normalize.hyphens import Hyphenation, known_words
from imr_nlp.normalize.text import OffsetMap


@dataclass(frozen=True, order=True)
class Edit:
    """``text`` in place of the source's ``[start, end)`` (an insertion where they are equal)."""

    start: int
    end: int
    text: str


def apply_edits(source: str, edits: Sequence[Edit]) -> tuple[str, OffsetMap]:
    """The repaired text and the map of its offsets back to ``source``. Edits that overlap an
    earlier one are left out; every character of a replacement maps to a replaced character
    (the last, past the end of a longer replacement; an insertion's to the character after it)."""
    parts: list[str] = []
    clean_starts: list[int] = []
    orig_starts: list[int] = []
    length = 0

    def add(text: str, orig: int) -> None:
        nonlocal length
        if not text:
            return
        if not (clean_starts and orig_starts[-1] + (length - clean_starts[-1]) == orig):
            clean_starts.append(length)
            orig_starts.append(orig)
        parts.append(text)
        length += len(text)

    pos = 0
    for edit in sorted(edits):
        if edit.start < pos:
            continue
        add(source[pos : edit.start], pos)
        last = max(edit.start, edit.end - 1)
        for k, char in enumerate(edit.text):
            add(char, min(edit.start + k, last))
        pos = edit.end
    add(source[pos:], pos)
    return "".join(parts), OffsetMap(clean_starts or [0], orig_starts or [0], len(source))


_LINE = re.compile(r"[^\n\f]+")
_DIGITS = re.compile(r"\d+")
_LEFT_WORD = re.compile(r"[A-Za-z]+$")  # the letters before a line-end hyphen
_DATE = re.compile(r"(?<![\w/.-])\d{1,2}([/-])\d{1,2}\1(\d{4}|\d{2})(?![\w/])")
# a word or date, not next to a soft hyphen (pdfium's: its line was joined by the reader)
_GLUED = re.compile(
    r"(?<![\w\-\ufffe\u00ad])(?:[A-Za-z]{6,}|\d{3,4}-\d{2}(?:\d{2})?|\d{1,2}-\d{3,6})(?![\w\-\ufffe\u00ad])"
)


def _nonblank_lines(lines: Iterable[str], count: int) -> list[str]:
    """The first ``count`` lines of ``lines`` with text, stripped."""
    found = []
    for line in lines:
        if stripped := line.strip():
            found.append(stripped)
            if len(found) == count:
                break
    return found


def _year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def _is_date(month: int, day: int, year: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


class TextRepairer:
    """Makes the repairs of one set of rules (a layout's ``repairs``) on a text."""

    def __init__(self, rules: resources.TextRepairs, line_starts: Sequence[str], hyphenation: Hyphenation) -> None:
        self.rules = rules
        self._ocr_vocabulary: tuple[frozenset[str], frozenset[str]] | None = None
        self.hyphenation = Hyphenation(
            hyphenation.rules, rules.glued_words.min_half if rules.glued_words else hyphenation.min_half
        )
        if rules.characters:
            self.characters = re.compile("|".join(re.escape(c) for c in rules.characters.replace))
        if rules.noise:
            # each pattern starts with what it must find, which the regex engine scans for fast
            # (a pattern starting with a lookbehind is tried at every character)
            self.specks = re.compile(rf"\s(?P<speck>[{re.escape(rules.noise.specks)}])(?!\S)")
            self.mark_lines = re.compile(rf"\n(?P<speck>[ \t]*[{re.escape(rules.noise.line_marks)}][ \t]*)(?=\r?\n|\Z)")
        if rules.page_end_noise:
            self.page_end_word = re.compile(rf"[A-Za-z]{{{rules.page_end_noise.min_word_length},}}")
        if rules.label_colons:
            labels = "|".join(f"(?:{p})" for p in line_starts if not p.isupper())
            marks = re.escape(rules.label_colons.marks)
            self.label_colon = re.compile(rf"(?m)^[ \t]*(?:{labels})(?P<mark>[{marks}])(?= )")
        if rules.ocr_dates:
            digit = "[0-9" + re.escape("".join(rules.ocr_dates.lookalikes)) + "]"
            part = rf"{digit}(?: ?{digit})?"
            # the month's first character, then what may not stand before it (scanned fast)
            self.ocr_date = re.compile(
                rf"(?P<month>{digit}(?<![\w/.-]{digit})(?: ?{digit})?)(?P<sep>[/-])(?P<day>{part})(?P=sep)"
                rf"(?P<year>\d{{4}}|\d{{2}})(?![\w/])"
            )
        if rules.ocr_words:
            # no word next to an apostrophe: names ("O'Brien") and possessives
            self.word = re.compile(rf"(?<![\w'-])[A-Za-z]{{{rules.ocr_words.min_length},}}(?![\w'-])")
            # every run of letters: a superset of the words, found faster
            self.letter_run = re.compile(rf"[A-Za-z]{{{rules.ocr_words.min_length},}}")
            self.split_capital = re.compile(r"(?P<capital>[A-Z])(?<![\w-][A-Z]) (?P<rest>[a-z]{2,})(?![\w-])")
            # across letters: the runs of letters that need no repair, and the repairs of others
            self._unrepaired_words: set[str] = set()
            self._word_repairs: dict[str, tuple[int, int, str]] = {}
        self.line_end_hyphen = re.compile(r"-(?<=[A-Za-z]-)(?=[ \t]*(?:\r\n|[\n\r\f])[ \t\r\n\f]*(?P<right>[a-z]+))")

    def __call__(self, text: str) -> tuple[str, OffsetMap] | None:
        """The repaired text and its map back to ``text``; None when nothing needs repair."""
        rules = self.rules
        edits: list[Edit] = []
        if rules.characters and not text.isascii():
            table = rules.characters.replace
            edits += [Edit(m.start(), m.end(), table[m.group()]) for m in self.characters.finditer(text)]
        if rules.page_edges and "\f" in text:
            edits += self._page_edges(text, rules.page_edges)
        if rules.page_end_noise and "\f" in text:
            edits += self._page_end_noise(text, rules.page_end_noise)
        if rules.noise:
            edits += [Edit(m.start("speck"), m.end("speck"), "") for m in self.specks.finditer(text)]
            edits += [Edit(m.start("speck"), m.end("speck"), "") for m in self.mark_lines.finditer(text)]
        if rules.label_colons:
            edits += [Edit(m.start("mark"), m.end("mark"), ":") for m in self.label_colon.finditer(text)]
        if rules.ocr_dates:
            edits += self._ocr_dates(text, rules.ocr_dates)
        if rules.ocr_words:
            edits += self._ocr_words(text, rules.ocr_words)
        if rules.glued_words:
            edits += self._glued_words(text, rules.glued_words)
        if rules.line_end_hyphens:
            edits += self._line_end_hyphens(text)
        if not edits:
            return None
        return apply_edits(text, edits)

    @staticmethod
    def _page_edges(text: str, rules: resources.PageEdgeRepairs) -> list[Edit]:
        """Running headers and footers: the same short line at the same edge of the pages."""
        k = rules.edge_lines
        page_texts = text.split("\f")
        # first the edge lines alone (most letters have no running line, and then no page's
        # other lines are read)
        edge_lines = []
        for page in page_texts:
            lines = page.split("\n")
            top = _nonblank_lines(lines, k)
            if top:
                edge_lines.append((top, _nonblank_lines(reversed(lines), k)[::-1]))
        if len(edge_lines) < 2:
            return []

        def key(line: str) -> str:
            return " ".join(_DIGITS.sub("#", line).split())

        edges: dict[tuple[str, str], set[int]] = {}
        for number, (top, bottom) in enumerate(edge_lines):
            for where, chosen in (("top", top), ("bottom", bottom)):
                for line in chosen:
                    if len(line) <= rules.max_length and not line.endswith(tuple(rules.sentence_ends)):
                        edges.setdefault((where, key(line)), set()).add(number)
        running = {k for (_, k), found in edges.items() if len(found) >= max(2, len(edge_lines) - 1)}
        if not running:
            return []
        out = []
        pos = 0
        for page in page_texts:
            lines = [(m.start() + pos, m.end() + pos, m.group().strip()) for m in _LINE.finditer(page)]
            lines = [line for line in lines if line[2]]
            pos += len(page) + 1
            edge = {id(line) for line in lines[:k] + lines[-k:]}
            for line in lines:
                if key(line[2]) in running:
                    if id(line) not in edge:
                        return []  # the line is content too: no running header
                    out.append(Edit(line[0], line[1], ""))
        return out

    def _page_end_noise(self, text: str, rules: resources.PageEndNoise) -> list[Edit]:
        """The short lines of no word and no digit that end a page (before its page break)."""

        def noise(line: str) -> bool:  # the vocabulary is read only for a short line of no digit
            return (
                len(line) <= rules.max_length
                and not any(c.isdigit() for c in line)
                and not any(w.lower() in self._vocabulary()[1] for w in self.page_end_word.findall(line))
            )

        out = []
        page_start = 0
        for page in text.split("\f")[:-1]:  # a page that a page break ends
            end = page_start + len(page)
            for line in reversed(page.split("\n")):
                start = end - len(line)
                if line.strip():
                    if not noise(line.strip()):
                        break
                    out.append(Edit(start, end, ""))
                end = start - 1
            page_start += len(page) + 1
        return out

    def _vocabulary(self) -> tuple[frozenset[str], frozenset[str]]:
        """The English words, and those with the code set's words (built once: two large sets)."""
        if self._ocr_vocabulary is None:
            from imr_nlp.normalize.drugs import code_set_words, english_words

            english = english_words(self.hyphenation.rules.common_word_min_count)
            self._ocr_vocabulary = (english, english | code_set_words())
        return self._ocr_vocabulary

    def _ocr_dates(self, text: str, rules: resources.OcrDateRepairs) -> list[Edit]:
        """Damaged dates whose repair is a calendar date near the letter's other dates."""
        damaged, invalid = [], []  # a space or letter in the month or day; digits that make no date
        for m in self.ocr_date.finditer(text):
            if not (m.group("month") + m.group("day")).isdigit():
                damaged.append(m)
            elif rules.digit_confusions and not _is_date(
                int(m.group("month")), int(m.group("day")), _year(m.group("year"))
            ):
                invalid.append(m)  # "42/09/2016": one digit may be misread
        if not damaged and not invalid:
            return []
        # the letter's undamaged dates (not the tail of a damaged one: "1/22/2016" in "1 1/22/2016")
        spans = [(m.start(), m.end()) for m in damaged + invalid]
        years = {
            _year(m.group(2))
            for m in _DATE.finditer(text)
            if not any(start < m.end() and m.start() < end for start, end in spans)
        }
        if not years:
            return []
        out = [edit for m in invalid for edit in self._misread_digit(m, rules, years)]
        for m in damaged:
            repaired = {
                name: "".join(rules.lookalikes.get(c, c) for c in m.group(name) if c != " ")
                for name in ("month", "day")
            }
            year = _year(m.group("year"))
            if not _is_date(int(repaired["month"]), int(repaired["day"]), year):
                continue
            if min(abs(year - y) for y in years) > rules.years_around:
                continue
            for name in ("month", "day"):
                for at in range(m.start(name), m.end(name)):
                    if text[at] == " ":
                        out.append(Edit(at, at + 1, ""))
                    elif not text[at].isdigit():
                        out.append(Edit(at, at + 1, rules.lookalikes[text[at]]))
        return out

    @staticmethod
    def _misread_digit(m: re.Match, rules: resources.OcrDateRepairs, years: set[int]) -> list[Edit]:
        """The one digit of a date that makes no calendar date whose undoing (``digit_confusions``:
        read, meant) makes it one near the letter's other dates ("42/09/2016" -> "12/09/2016");
        none when no such digit, or more than one, would."""
        year = _year(m.group("year"))
        if min(abs(year - y) for y in years) > rules.years_around:
            return []
        found = []
        for name in ("month", "day"):
            for at in range(m.start(name), m.end(name)):
                meant = rules.digit_confusions.get(m.string[at])
                if meant is None:
                    continue
                parts = {n: m.group(n) for n in ("month", "day")}
                offset = at - m.start(name)
                parts[name] = parts[name][:offset] + meant + parts[name][offset + 1 :]
                if _is_date(int(parts["month"]), int(parts["day"]), year):
                    found.append(Edit(at, at + 1, meant))
        return found if len(found) == 1 else []

    def _line_end_hyphens(self, text: str) -> list[Edit]:
        """Plain hyphens ending a line that cut a word ("documen-" / "tation": a half that is no
        word), read like pdfium's soft hyphen; one between two words ("follow-" / "up",
        "Non-" / "opioid") is a hyphen as printed, whatever its place in the line."""
        out = []
        words = None
        for m in self.line_end_hyphen.finditer(text):
            if words is None:
                words = known_words(self.hyphenation.rules.common_word_min_count)
            left = _LEFT_WORD.search(text, max(0, m.start() - 64), m.start()).group()
            if left.lower() in words and m.group("right") in words:
                continue
            out.append(Edit(m.start(), m.end(), "\u00ad"))
        return out

    def _ocr_words(self, text: str, rules: resources.OcrWordRepairs) -> list[Edit]:
        """Words with one OCR confusion undone, and capitals split from their words."""
        english, words = self._vocabulary()
        # each distinct run of letters once (most letters have no unknown word with a confusion,
        # and then the text is not scanned again), its repair remembered across letters
        known, unrepaired = self._word_repairs, self._unrepaired_words
        if len(unrepaired) > 200_000:  # bounded over a long run
            unrepaired.clear()
            known.clear()
        repairs = {}
        for word in set(self.letter_run.findall(text)) - unrepaired:
            repair = known.get(word)
            if repair is None:
                repair = self._word_repair(word, rules.confusions, english, words)
                if repair is None:
                    unrepaired.add(word)
                    continue
                known[word] = repair
            repairs[word] = repair
        out = []
        if repairs:
            for m in self.word.finditer(text):
                if (repair := repairs.get(m.group())) is not None:
                    at, length, meant = repair
                    out.append(Edit(m.start() + at, m.start() + at + length, meant))
        for m in self.split_capital.finditer(text):
            rest = m.group("rest")
            if rest not in words and (m.group("capital") + rest).lower() in english:
                out.append(Edit(m.end("capital"), m.start("rest"), ""))
        return out

    @staticmethod
    def _word_repair(
        word: str, confusions: Sequence[tuple[str, str]], english: frozenset[str], words: frozenset[str]
    ) -> tuple[int, int, str] | None:
        """Where and how to undo the one OCR confusion that makes ``word`` an English word: its
        offset, the length read and the letters meant; None for a known word or no single repair."""
        lower = word.lower()
        if lower in words:
            return None
        found = set()
        for read, meant in confusions:
            at = lower.find(read)
            while at >= 0:
                variant = lower[:at] + meant + lower[at + len(read) :]
                if variant in english:
                    found.add((at, read, meant))
                at = lower.find(read, at + 1)
        if len(found) != 1:
            return None
        ((at, read, meant),) = found
        written = word[at : at + len(read)]
        return at, len(read), meant.upper() if written.isupper() else meant

    def _glued_words(self, text: str, rules: resources.GluedWordRepairs) -> list[Edit]:
        """Words and dates glued where an extractor dropped a line-end hyphen and joined the lines."""
        lines = []  # (start, width) of each line (split: several times faster than a regex)
        start = 0
        for line in text.replace("\f", "\n").split("\n"):
            lines.append((start, len(line.rstrip())))
            start += len(line) + 1
        widths = sorted(width for _, width in lines if width >= 40)
        if len(widths) < 5:
            return []
        usual = widths[len(widths) // 2]
        joined = [(start, width) for start, width in lines if width > rules.joined_line_ratio * usual]
        if not joined:
            return []
        words = known_words(self.hyphenation.rules.common_word_min_count)
        glued: Counter | None = None  # counted once a word may need it (a known word never does)
        out = []
        for start, width in joined:
            line_end = start + width
            physical = start  # where the current physical line began
            for m in _GLUED.finditer(text, start, line_end):
                word = m.group()
                if word[0].isalpha() and word.lower() in words:
                    continue
                if glued is None:
                    glued = Counter(m.group().lower() for m in _GLUED.finditer(text))
                at = self._glue_point(word, text, glued)
                if at is None:
                    continue
                point = m.start() + at
                if not usual - rules.margin_below <= point - physical <= usual + rules.margin_above:
                    continue
                out.append(Edit(point, point, "-"))
                physical = point
        return out

    def _glue_point(self, word: str, text: str, glued: Counter) -> int | None:
        """Where the hyphen of a glued word or date was: a word as the soft hyphen rules
        would keep it, a date where a hyphen makes one."""
        if word[0].isalpha():
            return self.hyphenation.split(word, text, glued[word.lower()])
        digits, _, rest = word.partition("-")
        places = []
        for at in range(1, len(digits)):
            month, day = digits[:at], digits[at:]
            parts = [month, day, rest] if len(digits) > 2 else None
            if parts and len(day) <= 2 and len(rest) in (2, 4):
                places.append((at, parts))
        if len(digits) <= 2:
            for at in range(1, len(rest)):
                parts = [digits, rest[:at], rest[at:]]
                if at <= 2 and len(rest) - at in (2, 4):
                    places.append((len(digits) + 1 + at, parts))
        dates = [at for at, (m, d, y) in places if _is_date(int(m), int(d), _year(y))]
        return dates[0] if len(dates) == 1 else None
