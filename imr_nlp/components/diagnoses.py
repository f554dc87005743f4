"""Diagnosis and problem mentions, with ICD-10-CM codes, from the ways case summaries state them.

Four readings, all driven by data (resources/diagnoses.json):

* **Lists** after a diagnosis cue ("was diagnosed as having", "The current diagnoses are
  documented as", "undergoing treatment for", a "Diagnoses:" heading, "history of"). A list runs
  to the end of its sentence (a heading's list: over its marked lines) or to a list end ("who",
  "he was"). It is split on its strongest separator: list markers or lines, else semicolons (so
  ICD wording such as "strain of muscle, fascia, and tendon at neck level" stays whole), else
  commas, "and", dashes. A piece of site words only joins its neighbour ("bilateral wrist and hand
  strain"); a bare condition word after "&" joins the one before ("sprain & strain").
  Uncertainty words ("probable") stay outside the mention for ConText.
* **Statements**: the condition phrase right after "the injured worker has", "he had" ... is a
  diagnosis too, wherever it is (rationales included).
* **Stated conditions**: a condition phrase of the case summary outside any cue ("The MRI
  confirmed a SLAP tear", "The physician documented cubital tunnel syndrome") is a diagnosis when
  its head is no light word (pain, injury), the code set names it with a specific code (no
  symptom, no injury of an unspecified region) and its sentence's subject is no guideline
  (``stated_conditions``). ConText then makes negated, uncertain and hypothetical ones problems.
* **Problems**: every other condition phrase of the case summary and rationales. A condition
  phrase is a run of words of the code set's vocabulary, site words or condition words, ending in
  a condition head (a word of the head class or of its morphology: -itis, -osis, -pathy ...),
  with an "of the <site>" complement. Problems go to their own span group; the result keeps those
  ConText marks negated, uncertain or historical ("no evidence of intracranial bleeding").

Every mention gets the most specific ICD-10-CM code its words support (normalize.icd10), or none.
Writes ``doc.spans["imr_diagnoses"]`` and ``doc.spans["imr_problems"]`` with ``span._.icd10``,
``span._.icd10_description`` and ``span._.icd10_by``.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, char_span, doc_text, overlaps_any
from imr_nlp.components.contract import Contract, declare
from imr_nlp.components.sections import section_bounds
from imr_nlp.literal_prefilter import match_prefixes, trie_alternation
from imr_nlp.normalize.icd10 import CodeIndex, IcdTables, code_index, code_mention, names_one_code, singular
from imr_nlp.normalize.icd10 import condition_word as icd_head

_MARKER = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[-\u2022*\u25cf\u25aa]|[a-h][.)])[ \t]+", re.M)
_INLINE_NUMBERS = re.compile(r"(?:^|\s)\(?(?:\d{1,2}|[A-H])[.)]\s+")
_DATE_LIKE = re.compile(r"^\(?\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\)?[:-]?\s*")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['/-][A-Za-z0-9]+)*")
_PHRASE_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*")  # "/" separates alternatives
_PHRASE_TOKEN_SPLIT = re.compile(f"({_PHRASE_TOKEN.pattern})")
_LEVEL = re.compile(r"^[CTLS]\d{1,2}(?:-[CTLS]?\d{1,2})?$", re.I)
_GAP_OK = re.compile(r"^[ \t]*\n?[ \t]*$")
_QUOTE = re.compile(r"[\"\u201c\u201d]")
_MAX_QUOTE = 1500
_STATEMENT_GAP = 2  # modifier words a statement cue may leave before the condition phrase
_GAP_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*$")
_MAX_LIST_CHARS = 3000  # a diagnosis list is read this far at most (real ones: a few hundred)
# Qualifiers that may carry a light head of their own and still continue the item ("current injury").
_QUALIFIERS_WITH_HEADS = frozenset(
    {"not", "without", "current", "initial", "subsequent", "sequela", "single", "recurrent"}
)
_MAX_MEMO = 100_000  # words whose kind is remembered (bounded: a feed of odd words cannot grow it)


class WordStartCue:
    """A cue regex tried only where a cue may start: at the text's start and after a character
    that is not a letter, digit or underscore (a cue starts a word or a line). Led by that
    character, the regex engine skips from one such character to the next instead of trying
    every alternative at every character: about three times faster over a letter."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.plain = re.compile(pattern, flags)
        # where every match starts with one of a few strings, a lookahead for them (shaped as a
        # trie) turns most positions away before the regex's alternatives are tried
        starts = match_prefixes(self.plain)
        guard = f"(?={trie_alternation(sorted(starts))})" if starts else ""
        self.led = re.compile(rf"\W{guard}(?=({pattern}))", flags)

    def spans(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """(start, end) of the cue's non-overlapping matches in text[start:end], in text order."""
        out: list[tuple[int, int]] = []
        taken = start  # where the previous match ended
        if start == 0:  # no character before the first one
            first = self.plain.match(text, 0, end)
            if first is not None:
                out.append(first.span())
                taken = max(first.end(), 1)
        for m in self.led.finditer(text, max(start - 1, 0), end):
            s, e = m.span(1)
            if s >= taken:
                out.append((s, e))
                taken = e if e > s else s + 1
        return out


def _word_class(words, before: str = r"\b") -> re.Pattern:
    """A pattern for any of ``words`` as whole words (lower case), right after ``before``; one
    that never matches when ``words`` is empty."""
    alternatives = "|".join(re.escape(w.lower()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"{before}(?:{alternatives})\b" if alternatives else r"(?!)")


def cue_matches(
    cue: WordStartCue, cue_lower: WordStartCue, text: str, lower: str, start: int, end: int
) -> list[tuple[int, int]]:
    """The spans of a cue in text[start:end]. The cue is searched in the lower-cased text
    without IGNORECASE when lower-casing kept every offset (1.7x faster on these long
    alternations); else in the text itself."""
    if len(lower) == len(text):
        return cue_lower.spans(lower, start, end)
    return cue.spans(text, start, end)


def quoted_regions(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The spans between paired double quotes (guideline quotes: generic text, not the
    patient's facts); a quote left open, or longer than ``_MAX_QUOTE``, is no quote."""
    marks = [m.start() for m in _QUOTE.finditer(text, start, end)]
    out = []
    i = 0
    while i + 1 < len(marks):
        a, b = marks[i], marks[i + 1]
        if b - a <= _MAX_QUOTE and text[a] != "\u201d" and text[b] != "\u201c":
            out.append((a, b + 1))
            i += 2
        else:
            i += 1
    return out


def _inside_any(start: int, end: int, regions: list[tuple[int, int]]) -> bool:
    """Whether [start, end) lies inside one of ``regions`` (sorted, not overlapping)."""
    i = bisect_right(regions, (start, float("inf"))) - 1
    return i >= 0 and regions[i][0] <= start and end <= regions[i][1]


CONTRACT = declare(
    Contract(
        factory="imr_diagnoses",
        reads=("spans:sections",),
        reads_if_present=("doc.sents",),
        writes=("spans:diagnoses", "spans:problems", "span._.icd10", "span._.icd10_description", "span._.icd10_by"),
        rule_files=("diagnoses.json", "icd10.json", "icd10_terms.jsonl"),
        scores=("diagnoses",),
    )
)


class IMRDiagnoses(RuleComponent):
    contract = CONTRACT

    def __init__(self, nlp: Language, name: str, code_icd10: bool = True, **settings) -> None:
        self.code_icd10 = code_icd10
        super().__init__(nlp, name, **settings)

    def _compile(self) -> None:
        rules = self.rules["diagnoses.json"]
        list_cues = "|".join(f"(?:{c.pattern})" for c in rules.list_cues)
        statement_cues = "|".join(f"(?:{c.pattern})" for c in rules.statement_cues)
        self.list_cue = WordStartCue(list_cues, re.I)
        self.statement_cue = WordStartCue(statement_cues, re.I)
        self.list_cue_lower = WordStartCue(list_cues)
        self.statement_cue_lower = WordStartCue(statement_cues)
        self._compile_list_grammar(rules.list_grammar)
        self.list_end = re.compile("|".join(f"(?:{c.pattern})" for c in rules.list_ends if c.scope == "list"), re.I)
        self.item_end = re.compile("|".join(f"(?:{c.pattern})" for c in rules.list_ends if c.scope == "item"), re.I)
        heads = rules.heads
        self.head_words = frozenset(w.lower() for w in heads.words)
        self.head_suffixes = tuple(s.lower() for s in heads.suffixes)
        self.abbreviations = frozenset(heads.abbreviations)
        self.not_heads = frozenset(w.lower() for w in heads.not_heads)
        self.light_heads = frozenset(w.lower() for w in heads.light_heads)
        self.test_words = frozenset(w.lower() for w in heads.test_words)
        self.adjective_suffixes = tuple(x.lower() for x in heads.adjective_suffixes)
        self.head_phrases = {tuple(p.lower().split()) for p in heads.phrases}
        self.head_phrases_by_last: dict[str, list[tuple[str, ...]]] = {}
        for phrase in self.head_phrases:
            self.head_phrases_by_last.setdefault(phrase[-1], []).append(phrase)
        self._kinds: dict[str, str] = {}
        self.prefix = (
            re.compile(
                r"(?:" + "|".join(re.escape(p) for p in sorted(heads.prefixes, key=len, reverse=True)) + r")(?![\w/])",
                re.I,
            )
            if heads.prefixes
            else None
        )
        self.body_words = frozenset(w.lower() for w in rules.body_words.words)
        self.drop = frozenset(w.lower() for w in rules.drop_words.words)
        self.phrase_stops = frozenset(w.lower() for w in rules.phrase_stops.words)
        self.complement_prepositions = frozenset(w.lower() for w in rules.complement_prepositions.words)
        self.complement_determiners = frozenset(w.lower() for w in rules.complement_determiners.words)
        self.qualifiers = frozenset(w.lower() for w in rules.qualifiers.words) if rules.qualifiers else frozenset()
        mods = sorted(rules.modifiers.words, key=len, reverse=True)
        self.modifier = re.compile(r"^(?:(?:" + "|".join(re.escape(m) for m in mods) + r")\s+)+", re.I)
        self.icd_tables = IcdTables.from_rules(self.rules["icd10.json"], self.rules["icd10_terms.jsonl"])
        self.stated = stated = rules.stated_conditions
        self.nonspecific_codes = tuple(stated.nonspecific_codes) if stated else ()
        self.generic_subject = _word_class(stated.generic_subjects if stated else (), before=r"(?:the\s+)?")
        self.assertion_verb = _word_class(stated.assertion_verbs if stated else ())
        self.finding_subject = _word_class(stated.finding_subjects if stated else ())
        # the phrase as the subject of a passive assertion, after the other conjuncts of its list
        self.passive_assertion = _word_class(
            stated.assertion_verbs if stated else (),
            before=r"[^.;:]*?\b(?:was|were|is|are|has\s+been|have\s+been)\s+(?:also\s+)?",
        )
        self._index: CodeIndex | None = None

    @property
    def index(self) -> CodeIndex:
        """The code-set index, built on first use (once per process and table content)."""
        if self._index is None:
            self._index = code_index(self.icd_tables)
        return self._index

    # -- word classes ---------------------------------------------------------------------
    def is_head(self, word: str) -> bool:
        """Whether ``word`` names a condition: a head word (or its plural), a condition suffix,
        a condition abbreviation."""
        if word in self.abbreviations:
            return True
        low = word.lower()
        if low in self.not_heads:
            return False
        if low in self.head_words or singular(low) in self.head_words:
            return True
        if len(low) > 5 and low.endswith(self.head_suffixes):
            return True
        parts = re.split(r"[-/]", low)
        return len(parts) > 1 and any(p and self.is_head(p) for p in parts)

    def is_light(self, word: str) -> bool:
        """A head that names a condition only with a modifier ("injury", "post-injury")."""
        low = word.lower()
        if low in self.light_heads:
            return True
        parts = [p for p in re.split(r"[-/]", low) if p and self.is_head(p)]
        return len(parts) > 0 and all(p in self.light_heads for p in parts)

    def _has_condition(self, words: list[str]) -> bool:
        """Whether a list item names a condition: a head, with a modifier when the head is light
        ("lumbar spine injury", not "any of these medical conditions")."""
        for i, word in enumerate(words):
            if not self.is_head(word):
                continue
            if not self.is_light(word):
                return True
            if any(w.lower() not in self.phrase_stops for k, w in enumerate(words) if k != i):
                return True
        low = [w.lower() for w in words]
        return any(tuple(low[i : i + len(p)]) == p for p in self.head_phrases for i in range(len(low)))

    def _piece_kind(self, piece: str) -> str:
        text = piece.strip(" .").lower()
        words = [w for w in re.split(r"[\s/]+", text) if w]
        if not words or text in self.drop:
            return "drop"
        if (self.prefix is not None and self.prefix.match(piece.strip())) or self._has_condition(_TOKEN.findall(piece)):
            return "condition"
        if all(w in self.body_words for w in words):
            return "body"
        if self.code_icd10 and self._named_by_code_set(piece):
            return "condition"  # a list item the code set names ("benign prostatic hyperplasia")
        return "other"

    def _stated_outside_cues(self, doc: Doc, text: str, start: int, end: int) -> bool:
        """Whether a condition phrase of the case summary that no cue opened is stated as the
        patient's (``stated_conditions``): a head that is no light word, a code of the code set
        that says what and where (no symptom, no injury of an unspecified region), after a verb
        that asserts it or as the subject of one in the passive ("X and Y were diagnosed"), in a
        sentence whose subject is not a guideline, the literature or the physical examination."""
        if self.stated is None:
            return False
        phrase = text[start:end]
        heads = [w for w in _PHRASE_TOKEN.findall(phrase) if self.is_head(w)]
        if not heads or self.is_light(heads[-1]):
            return False  # a complaint ("constant neck pain") or a bare injury
        coding = code_mention(phrase, self.icd_tables, self.index)
        if coding is None or coding.code.startswith(self.nonspecific_codes):
            return False
        sentence = doc.char_span(start, end, alignment_mode="expand")
        opening = text[sentence.sent.start_char : start].lower() if sentence is not None else ""
        if self.generic_subject.match(opening.lstrip()) or self.finding_subject.search(opening):
            return False
        if self.assertion_verb.search(opening):
            return True  # "The MRI confirmed a SLAP tear"
        closing = text[end : sentence.sent.end_char].lower() if sentence is not None else ""
        return self.passive_assertion.match(closing) is not None  # "X and Y were diagnosed"

    def _named_by_code_set(self, piece: str) -> bool:
        """Whether the item's condition word is the condition word of its code's own description:
        "benign prostatic hyperplasia" is N40; "still" (only an inclusion term, "Still's
        disease") is not, nor is an adjective alone ("central")."""
        coding = code_mention(piece, self.icd_tables, self.index)
        if coding is None or coding.by != "every word":
            return False  # the back-off's partial cover names no condition by itself
        head = icd_head(self.icd_tables, piece)
        if head is None or self.icd_tables.is_modifier(head):
            return False  # an adjective alone ("central", "partial") names no condition
        return head == icd_head(self.icd_tables, coding.description)

    # -- match ----------------------------------------------------------------------------
    def match(self, doc: Doc) -> list[tuple[int, int, str, int]]:
        """(start, end, kind, code_start) of every mention, kind "diagnosis" or "problem", in text
        order; the code is read from ``code_start`` (before a "status post" left out of the mention)."""
        text = doc_text(doc)
        bounds = section_bounds(doc, "case_summary")
        start = bounds[0] if bounds else 0
        end = len(text)
        diagnoses: list[tuple[int, int, int]] = []
        covered: list[tuple[int, int]] = []
        pos = start
        lower = text.lower()
        cues = cue_matches(self.list_cue, self.list_cue_lower, text, lower, start, end)
        for k, (cue_start, cue_end) in enumerate(cues):
            if cue_start < pos:
                continue  # inside the list of an earlier cue
            # a list ends where the next cue opens another ("history of X; current diagnoses are Y")
            limit = next((s for s, _ in cues[k + 1 :] if s >= cue_end), end)
            list_start, list_end, lines = self._list_extent(text, cue_end, limit)
            diagnoses.extend(self.split_list(text, list_start, list_end, lines))
            covered.append((cue_start, list_end))
            pos = max(list_end, cue_end + 1)
        statements = {
            cue_end: cue_start
            for cue_start, cue_end in cue_matches(self.statement_cue, self.statement_cue_lower, text, lower, start, end)
        }
        quotes = quoted_regions(text, start, end)
        diagnoses = [d for d in diagnoses if not _inside_any(d[0], d[1], quotes)]
        problems: list[tuple[int, int]] = []
        stated_end = -1  # the end of the last mention a statement opened
        for s, e in self.condition_phrases(text, start, end):
            if overlaps_any(s, e, covered) or _inside_any(s, e, quotes):
                continue
            opened = self._after_statement(text, s, statements)
            if opened is None and stated_end >= 0 and self.coordinated.fullmatch(text, stated_end, s):
                opened = s  # coordinated with a stated one: "he has lumbar radiculopathy and hypertension"
            if opened is not None:
                diagnoses.append((opened, e, opened))
                stated_end = e
            elif bounds and s < bounds[1] and self._stated_outside_cues(doc, text, s, e):
                diagnoses.append((s, e, s))  # "The MRI confirmed a type II SLAP tear"
                stated_end = e
            else:
                problems.append((s, e))
                stated_end = -1
        out = [(s, e, "diagnosis", c) for s, e, c in diagnoses] + [(s, e, "problem", s) for s, e in problems]
        return sorted(set(out))

    def _after_statement(self, text: str, start: int, statements: dict[int, int]) -> int | None:
        """Where the mention opens when a statement cue ends right before ``start``: white space
        between, or up to ``_STATEMENT_GAP`` modifier words the condition phrase did not take
        ("sustained a full-thickness tear": the mention opens at "full-thickness"); else None."""
        i = start
        opened = start
        for _ in range(_STATEMENT_GAP + 1):
            while i > 0 and text[i - 1].isspace():
                i -= 1
            if i in statements or opened in statements:
                return opened
            word = _GAP_WORD.search(text, max(0, i - 40), i)
            if word is None or word.end() != i or word.group().lower() in self.phrase_stops:
                return None
            opened = i = word.start()
        return None

    def _list_extent(self, text: str, start: int, end: int) -> tuple[int, int, bool]:
        """Where the list opened at ``start`` ends, and whether its items are lines."""
        line_end = text.find("\n", start, end)
        rest_of_line = text[start : line_end if line_end >= 0 else end]
        if line_end >= 0 and not rest_of_line.strip():
            # A heading: its items are the following marked lines (or the one paragraph).
            pos = line_end + 1
            last = pos
            end = min(end, pos + _MAX_LIST_CHARS)
            while pos < end:
                nl = text.find("\n", pos, end)
                line = text[pos : nl if nl >= 0 else end]
                if not line.strip() or (last > line_end + 1 and not _MARKER.match(line)):
                    break
                last = nl if nl >= 0 else end
                if nl < 0:
                    break
                pos = nl + 1
            if _MARKER.match(text[line_end + 1 : last]):
                return line_end + 1, last, True
            start = line_end + 1
        limit = min(end, start + _MAX_LIST_CHARS)
        stop = self.list_end.search(text, start, limit)
        sentence = self.list_sentence_end.search(text, start, limit)
        candidates = [x.start() for x in (stop, sentence) if x is not None]
        return start, min(candidates, default=limit), False

    def _compile_list_grammar(self, grammar) -> None:
        """The list grammar's patterns and connector words (diagnoses.json ``list_grammar``)."""

        def compiled(rule) -> re.Pattern:
            return re.compile(rule.pattern, re.I if rule.ignore_case else 0)

        self.list_sentence_end = compiled(grammar.sentence_end)
        self.semicolon_split = compiled(grammar.semicolons)
        self.comma_split = compiled(grammar.commas)
        self.and_split = compiled(grammar.coordination)
        self.leading_words = compiled(grammar.leading_words)
        self.coordinated = compiled(grammar.coordinated_phrases)
        self.joining_connectors = frozenset(grammar.joining_connectors.words)
        self.continuing_connectors = frozenset(grammar.continuing_connectors.words)
        self.bare_head_connectors = frozenset(grammar.bare_head_connectors.words)

    def split_list(self, text: str, start: int, end: int, lines: bool = False) -> list[tuple[int, int]]:
        """Split the list text[start:end] into mention spans, on its strongest separator."""
        segment = text[start:end]
        date = _DATE_LIKE.match(segment)
        offset = start + (date.end() if date else 0)
        segment = text[offset:end]
        if lines:
            splitter = re.compile(r"\s*\n\s*")
        elif len(_INLINE_NUMBERS.findall(segment)) >= 2:
            splitter = _INLINE_NUMBERS
        elif ";" in segment:
            splitter = self.semicolon_split
        else:
            splitter = self.comma_split
        pieces, connectors, pos = [], [], 0
        for m in splitter.finditer(segment):
            pieces.append((pos, m.start()))
            connectors.append(m.group())
            pos = m.end()
        pieces.append((pos, len(segment)))
        connectors.append("")
        pieces, connectors = self._split_coordination(segment, pieces, connectors)
        frags: list[list] = []  # [start, end, kind, connector_after]
        for i, (s, e) in enumerate(pieces):
            s, e = self._trim(segment, s, e)
            if e <= s:
                continue
            frags.append([s, e, self._piece_kind(segment[s:e]), connectors[i] if i < len(connectors) else ""])
        merged = self._merge(frags, segment)
        out = []
        for s, e, kind, _ in merged:
            if kind != "condition":
                continue
            # "status post X": X is the mention, ConText reads the prefix; the code reads both.
            prefix = self.prefix.match(segment, s, e) if self.prefix is not None else None
            mention_start = s
            if prefix is not None:
                mention_start = prefix.end()
                while mention_start < e and segment[mention_start].isspace():
                    mention_start += 1
            if mention_start < e:
                out.append((offset + mention_start, offset + e, offset + s))
        return out

    def _split_coordination(
        self, segment: str, pieces: list[tuple[int, int]], connectors: list[str]
    ) -> tuple[list[tuple[int, int]], list[str]]:
        """Split the items that still coordinate conditions ("facet arthropathy and sacroiliitis"
        is two; "obesity, asthma and benign prostatic hyperplasia" three), unless the code set
        names the item whole; "sprain of muscle and tendon" stays one (a piece of site or tissue
        words joins its neighbour in the merge)."""
        finer, finer_connectors = [], []
        for (s, e), connector in zip(pieces, connectors, strict=True):
            if (
                self.code_icd10
                and self.and_split.search(segment, s, e)
                and names_one_code(segment[s:e], self.icd_tables, self.index)
            ):
                finer.append((s, e))  # the code set names it whole: "synovitis and tenosynovitis"
                finer_connectors.append(connector)
                continue
            at = s
            for m in self.and_split.finditer(segment, s, e):
                finer.append((at, m.start()))
                finer_connectors.append(m.group())
                at = m.end()
            finer.append((at, e))
            finer_connectors.append(connector)
        return finer, finer_connectors

    def _trim(self, segment: str, s: int, e: int) -> tuple[int, int]:
        marker = _MARKER.match(segment[s:e])
        s += marker.end() if marker else 0
        while s < e and segment[s].isspace():
            s += 1
        cut = self.item_end.search(segment, s, e)
        if cut is not None:
            e = cut.start()
        lead = self.leading_words.match(segment[s:e])
        s += lead.end() if lead else 0
        mod = self.modifier.match(segment[s:e])
        s += mod.end() if mod else 0
        while e > s and segment[e - 1] in " \t\n.,:;-":
            e -= 1
        return s, e

    def _merge(self, frags: list[list], segment: str) -> list[list]:
        merged: list[list] = []
        pending: int | None = None  # start of a run of site-only items waiting for their condition
        i = 0
        while i < len(frags):
            frag = frags[i]
            nxt = frags[i + 1] if i + 1 < len(frags) else None
            joins = frag[3].strip().lower() in self.joining_connectors
            if frag[2] == "body":
                complement = re.search(r"\b(?:of|at|in)\b", segment[frag[0] : frag[1]], re.I)
                if not complement and nxt is not None and joins and nxt[2] in ("condition", "body"):
                    pending = frag[0] if pending is None else pending
                    i += 1
                    continue
                if merged:
                    merged[-1][1] = frag[1]
                    merged[-1][3] = frag[3]
                pending = None
                i += 1
                continue
            if pending is not None:
                frag = [pending, frag[1], frag[2], frag[3]]
                pending = None
            if merged and self._continues(frag, merged[-1], segment):
                merged[-1][1] = frag[1]
                merged[-1][3] = frag[3]
                i += 1
                continue
            merged.append(frag)
            i += 1
        return merged

    def _continues(self, frag: list, previous: list, segment: str) -> bool:
        """Whether a piece continues the item before it instead of starting one:
        - a code description's own qualifier after a comma ("migraine without aura, not intractable");
        - words with no head after a continuing connector ("strain of muscle and or tendon of wrist");
        - a bare head after a bare-head connector ("lumbar sprain & strain")."""
        if previous[2] != "condition":
            return False
        connector = previous[3].strip()
        if frag[2] in ("other", "condition") and connector == ",":
            first_word = (_TOKEN.findall(segment[frag[0] : frag[1]])[:1] or [""])[0].lower()
            if first_word in self.qualifiers and (frag[2] == "other" or first_word in _QUALIFIERS_WITH_HEADS):
                return True
        if frag[2] == "other" and connector.lower() in self.continuing_connectors:
            return True
        return (
            frag[2] == "condition"
            and connector.lower() in self.bare_head_connectors
            and len(_TOKEN.findall(segment[frag[0] : frag[1]])) == 1
            and len(_TOKEN.findall(segment[previous[0] : previous[1]])) > 1
        )

    def condition_phrases(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Every condition phrase in text[start:end]: a run of modifier words ending in a head,
        with an "of/in/at the <site>" complement."""
        vocabulary = self.index.vocabulary
        # the words and the gaps between them by one split; their offsets by running sums
        parts = _PHRASE_TOKEN_SPLIT.split(text[start:end])
        words = parts[1::2]
        bounds = list(accumulate(map(len, parts), initial=start))
        tokens = list(zip(bounds[1:-1:2], bounds[2::2], words, strict=True))
        known = self._kinds.get  # the memo read inline: most words are known
        kinds = [known(word) or self._word_kind(word, vocabulary) for word in words]
        lows = list(map(str.lower, words))
        by_last = self.head_phrases_by_last
        for k in [k for k, low in enumerate(lows) if low in by_last]:
            for phrase in by_last[lows[k]]:
                n = len(phrase)
                if k + 1 >= n and tuple(lows[k + 1 - n : k + 1]) == phrase:
                    kinds[k + 1 - n : k + 1] = ["mod"] * (n - 1) + ["head"]
        out: list[tuple[int, int]] = []
        n = len(tokens)
        # a phrase starts at a word that is not a stop: only those are visited
        openers = [k for k, kind in enumerate(kinds) if kind != "stop"]
        p = 0
        while p < len(openers):
            i = openers[p]
            j = i
            last_head = -1
            while j < n and kinds[j] != "stop":
                if j > i and not _GAP_OK.match(text[tokens[j - 1][1] : tokens[j][0]]):
                    break
                if kinds[j] == "head":
                    last_head = j
                j += 1
            following = j
            if last_head >= 0:
                followed_by_test = last_head + 1 < n and lows[last_head + 1] in self.test_words
                light = self.is_light(lows[last_head]) and not any(
                    kinds[k] == "head"
                    or lows[k] in self.body_words
                    or _LEVEL.match(tokens[k][2])
                    or (len(lows[k]) > 4 and lows[k].endswith(self.adjective_suffixes))
                    for k in range(i, last_head)
                )
                if not followed_by_test and not light:
                    phrase_end = self._complement(text, tokens, kinds, last_head)
                    # sites coordinated before a condition head share it; a light head (pain,
                    # complaints) keeps its own sites: a list of complaints is no diagnosis
                    first = i if self.is_light(lows[last_head]) else self._coordinated_sites(text, tokens, lows, i)
                    out.append((tokens[first][0], tokens[phrase_end][1]))
                    following = max(j, phrase_end + 1)
            p = bisect_left(openers, following, p + 1)
        return out

    def _coordinated_sites(self, text: str, tokens, lows: list[str], i: int) -> int:
        """The first token of the site words coordinated before the phrase at ``i`` ("bilateral
        knee and ankle sprains", "hand, wrist and elbow strains"): sites that share its head."""
        if i < 1 or lows[i - 1] not in ("and", "or"):
            return i  # the sites end in "and"/"or" right before the phrase ("the ankle, foot, carpal ..." do not)
        first, k = i, i - 1
        while k >= 0:
            gap = text[tokens[k][1] : tokens[first][0]].strip()
            if lows[k] in ("and", "or") and not gap:
                k -= 1
                if k < 0 or text[tokens[k][1] : tokens[k + 1][0]].strip() not in ("", ","):
                    break
            elif gap != ",":
                break
            if not self._is_site_word(lows[k]):
                break
            j = k
            while j >= 1 and self._is_site_word(lows[j - 1]) and not text[tokens[j - 1][1] : tokens[j][0]].strip():
                j -= 1
            first, k = j, j - 1
        return first

    def _is_site_word(self, low: str) -> bool:
        return low in self.body_words or low in self.icd_tables.laterality

    def _word_kind(self, word: str, vocabulary: frozenset[str]) -> str:
        """ "head", "mod" (a word of the code set's vocabulary, a site or a spinal level) or
        "stop", memoised per word (bounded)."""
        kind = self._kinds.get(word)
        if kind is None:
            low = word.lower()
            if low in self.phrase_stops or low.isdigit():
                kind = "stop"
            elif self.is_head(word):
                kind = "head"
            elif low in self.body_words or singular(low) in vocabulary or _LEVEL.match(word):
                kind = "mod"
            elif "-" in low and all(
                singular(p) in vocabulary or p in self.body_words or p in self.icd_tables.laterality
                for p in low.split("-")
            ):
                kind = "mod"  # a hyphenated compound of known words ("full-thickness", "left-sided")
            else:
                kind = "stop"
            if len(self._kinds) >= _MAX_MEMO:
                self._kinds.clear()
            self._kinds[word] = kind
        return kind

    def _complement(self, text: str, tokens, kinds, head: int) -> int:
        """The last token of an "of [the] <site words>" complement after the head, or the head."""
        k = head + 1
        if k >= len(tokens) or tokens[k][2].lower() not in self.complement_prepositions:
            return head
        if not _GAP_OK.match(text[tokens[head][1] : tokens[k][0]]):
            return head
        k += 1
        while k < len(tokens) and tokens[k][2].lower() in self.complement_determiners:
            k += 1
        last = head
        while k < len(tokens) and kinds[k] != "stop" and _GAP_OK.match(text[tokens[k - 1][1] : tokens[k][0]]):
            if tokens[k][2].lower() in self.body_words or kinds[k] == "head" or _LEVEL.match(tokens[k][2]):
                last = k
            k += 1
        return last

    # -- annotations ----------------------------------------------------------------------
    def set_annotations(self, doc: Doc, matches) -> Doc:
        groups: dict[str, list] = {"diagnosis": [], "problem": []}
        text = doc_text(doc)
        for start, end, kind, code_start in matches:
            span = char_span(doc, start, end, label="DIAGNOSIS" if kind == "diagnosis" else "PROBLEM")
            if span is None:
                continue
            if self.code_icd10:
                coding = code_mention(text[code_start : span.end_char], self.icd_tables, self.index)
                if coding is not None:
                    span._.icd10 = coding.code
                    span._.icd10_description = coding.description
                    span._.icd10_by = coding.by
            groups[kind].append(span)
        self.write_spans(doc, "diagnoses", groups["diagnosis"])
        self.write_spans(doc, "problems", groups["problem"])
        return doc


@Language.factory(
    "imr_diagnoses",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"code_icd10": True, "span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_diagnoses(
    nlp: Language, name: str, code_icd10: bool, span_keys: dict[str, str], scorer: Callable[..., dict]
) -> IMRDiagnoses:
    return IMRDiagnoses(nlp, name, code_icd10, span_keys=span_keys, scorer=scorer)
