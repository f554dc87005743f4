"""The request grammar: an item header read as its parts, pure functions over tables.

An item header reads [count] [unit of count] [modifiers] HEAD [of/for/to site or levels]
[strength] [frequency] [duration] [refills] [retrospective, dates of service] [partial,
purchase, rental]. :func:`parse_request` finds the core clause (the request itself, after any
history sentences and "portion of the original request,"), a context prefix ending in a colon
("Associated surgical service:", "Pre-op labs:"), and the head phrase: the words from the first
content word to the first boundary (a preposition, a comma, a number, a masked value). The head
phrase, normalised, is the service; the word classes of its head word give the category; every
word's classes, the prefix and the drug give the features the DWC rules read.

Nothing here knows a treatment by name: names come from the canonical-name matcher passed in
(synonyms and abbreviations only), categories from word classes and morphology.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# A count of more digits is an identifier or noise (and would not fit the int64 columns).
MAX_COUNT_DIGITS = 12

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)?(?:[-/.][A-Za-z0-9]+)*|\S")
_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)?|\.\d+)(?:[-/]\d+(?:\.\d+)?)*$")
_LEVEL = re.compile(r"^[CTLS]\d{1,2}(?:-[CTLS]?\d{1,2})?$")
# "... The remaining IMR eligible portion of the original request, X is: Upheld" (a partial item);
# "... leaving the original request IMR eligible. The original request, X is: Upheld" (whole).
_TRAILING_IS = re.compile(r"\s+(?:is|are|was)\s*$", re.I)
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z])")
MAX_REQUEST_CHARS = 1_000
_MEMO_SIZE = 50_000  # word -> classes entries kept (bounded: a feed of odd words cannot grow it)
# Number words that are adjectives or adverbs, never a count of items ("Single point cane").
_NOT_COUNTS = frozenset({"single", "once", "twice", "thrice"})
_PUNCT_BOUNDARY = frozenset(",;:()[]{}#=<>+")

# The evidence that decided a request's category (Treatment.classified_by), strongest first.
DRUG_TABLE = "drug table"  # a name in our own drug table (resources/drugs.json)
DRUG_LEXICON = "drug lexicon"  # a name in the shipped drug lexicon (20k drugs)
DRUG_MISSPELLING = "drug misspelling"  # one edit from a lexicon name
NAME = "name"  # a canonical treatment name (resources/service_names.jsonl)
CODE_SET = "procedure code set"  # a term of the ICD-10-PCS index (resources/procedure_terms.json)
WORD_FORMATION = "word formation"  # a medical prefix or suffix (-ectomy, -scopy, -plasty ...)
WORD_CLASS = "word class"  # a listed head word of a class (resources/request_grammar.json)
DOSE_OR_FORM = "dose or form"  # a strength or a dosage form with no drug name known
CONTEXT = "context"  # the class of a leading label ("Labs to include: ...")
NO_EVIDENCE = "none"  # nothing supports a class: category "other", DWC classes null
EVIDENCE_KINDS = (
    DRUG_TABLE,
    DRUG_LEXICON,
    DRUG_MISSPELLING,
    NAME,
    CODE_SET,
    WORD_FORMATION,
    WORD_CLASS,
    DOSE_OR_FORM,
    CONTEXT,
    NO_EVIDENCE,
)


@dataclass(frozen=True)
class Token:
    text: str
    lower: str
    start: int
    end: int


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Words (keeping "L4-5", "x-ray", "EMG/NCV", "3-in-1" whole) and single punctuation marks."""
    return [Token(m.group(), m.group().lower(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(text)]


@dataclass
class WordClasses:
    """Word classes compiled for lookup: word -> class names, morphology, phrases."""

    words: dict[str, list[str]]
    suffixes: list[tuple[str, str]]
    prefixes: list[tuple[str, str]]
    phrases: list[tuple[tuple[str, ...], str]]
    category: dict[str, str]
    overriding: frozenset[str] = frozenset()
    code_set: dict[str, tuple[str, ...]] = field(default_factory=dict)  # code-set term -> its classes
    _memo: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _phrase_texts: list[tuple[str, str]] | None = field(default=None, repr=False)

    @classmethod
    def from_rules(cls, word_classes, procedure_terms=None) -> WordClasses:
        words: dict[str, list[str]] = {}
        suffixes, prefixes, phrases, category = [], [], [], {}
        for wc in word_classes:
            if wc.category:
                category[wc.name] = wc.category
            for w in wc.words:
                words.setdefault(w.lower(), []).append(wc.name)
            suffixes += [(s.lower(), wc.name) for s in wc.suffixes]
            prefixes += [(p.lower(), wc.name) for p in wc.prefixes]
            phrases += [(tuple(p.lower().split()), wc.name) for p in wc.phrases]
        suffixes.sort(key=lambda s: -len(s[0]))
        overriding = frozenset(wc.name for wc in word_classes if wc.overrides)
        code_set: dict[str, tuple[str, ...]] = {}
        if procedure_terms is not None:
            by_section = {letter: tuple(section.classes) for letter, section in procedure_terms.sections.items()}
            for word, letters in procedure_terms.terms.items():
                found = [c for letter in letters for c in by_section.get(letter, ())]
                if found:
                    code_set[word.lower()] = tuple(dict.fromkeys(found))
        return cls(words, suffixes, prefixes, phrases, category, overriding, code_set)

    @property
    def phrase_texts(self) -> list[tuple[str, str]]:
        """Phrases as " word word " strings, for a substring test on a joined token text."""
        if self._phrase_texts is None:
            self._phrase_texts = [(f" {' '.join(ws)} ", name) for ws, name in self.phrases]
        return self._phrase_texts

    def of(self, word: str) -> list[str]:
        """The classes of one lower-case word (memoised: items share most words)."""
        return [name for name, _ in self.with_evidence(word)]

    def with_evidence(self, word: str) -> list[tuple[str, str]]:
        """(class, evidence) pairs of one lower-case word: "word class" for a listed word,
        "word formation" for a class read from a prefix or suffix (memoised)."""
        found = self._memo.get(word)
        if found is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            found = self._memo[word] = self._classes_of(word)
        return found

    def evidence(self, word: str, name: str) -> str | None:
        """How ``word`` came to have class ``name`` (None when it has not)."""
        return next((ev for n, ev in self.with_evidence(word) if n == name), None)

    def _classes_of(self, word: str) -> list[tuple[str, str]]:
        """Listed (or its singular), else by morphology."""
        found = self.words.get(word)
        if found is None and word.endswith("s") and len(word) > 3:
            found = self.words.get(word[:-1]) or (self.words.get(word[:-2]) if word.endswith("es") else None)
        listed = [(name, WORD_CLASS) for name in found or ()]
        if listed and any(name in self.category for name, _ in listed):
            return listed
        # A term of the procedure code set (ICD-10-PCS): its section's classes.
        coded = self.code_set.get(word) or (self.code_set.get(word[:-1]) if word.endswith("s") else None)
        if coded:
            return listed + [(name, CODE_SET) for name in coded]
        if "/" in word and not listed:  # "MRI/CT", "PT/OT": the classes of its parts
            return [c for part in word.split("/") if part for c in self.with_evidence(part)]
        # A listed word of feature classes only ("chondroplasty": arthroscopic) still takes its
        # category from its formation (-plasty: operative).
        out = listed + [
            (name, WORD_FORMATION) for p, name in self.prefixes if word.startswith(p) and len(word) > len(p)
        ]
        for suffix, name in self.suffixes:
            if word.endswith(suffix) and len(word) > len(suffix) + 2 and word.isalpha():
                out.append((name, WORD_FORMATION))
                break
        return out

    def category_of(self, word: str) -> str | None:
        for name in self.of(word):
            if name in self.category:
                return self.category[name]
        return None

    def head_class(self, word: str) -> str | None:
        return next((n for n in self.of(word) if n in self.category), None)


@dataclass
class Tables:
    """Everything the grammar reads, compiled from resources/request_grammar.json."""

    classes: WordClasses
    skips: frozenset[str]
    boundaries: frozenset[str]
    complement_heads: frozenset[str]
    complement_preps: frozenset[str]
    object_heads: frozenset[str]
    trailing_drops: frozenset[str]
    transaction_words: frozenset[str]
    laterality: frozenset[str]
    number_words: frozenset[str]
    numbers: dict[str, int]
    default_category: str

    @classmethod
    def from_rules(
        cls, grammar, laterality: Sequence[str], number_words: dict[str, int], procedure_terms=None
    ) -> Tables:
        low = lambda ws: frozenset(w.lower() for w in ws)  # noqa: E731
        return cls(
            classes=WordClasses.from_rules(grammar.word_classes, procedure_terms),
            skips=low(grammar.head_skips.words) | low(grammar.light_heads.words),
            boundaries=low(grammar.boundaries.words),
            complement_heads=low(grammar.complement_heads.words),
            complement_preps=low(grammar.complement_heads.prepositions),
            object_heads=low(grammar.object_heads.words),
            trailing_drops=low(grammar.trailing_drops.words),
            transaction_words=low(grammar.transaction_words.words),
            laterality=low(laterality),
            number_words=low(number_words),
            numbers={k.lower(): v for k, v in number_words.items()},
            default_category=grammar.default_category.category,
        )


@dataclass
class Canonical:
    """A canonical-name match over tokens [start, end) of the core."""

    start: int
    end: int
    name: str
    category: str | None = None


@dataclass
class RequestParse:
    """What the grammar read in one item header (offsets into the text given)."""

    core: tuple[int, int]
    prefix: str = ""
    head: tuple[int, int] | None = None
    head_word: str | None = None
    head_token: tuple[int, int] | None = None
    service: str | None = None
    category: str = "other"
    evidence: str = "none"
    features: set[str] = field(default_factory=set)
    count: int | None = None


def request_bounds(
    text: str,
    start: int = 0,
    end: int | None = None,
    original_request: re.Pattern | None = None,
    portion: re.Pattern | None = None,
) -> tuple[int, int, bool]:
    """(start, end, partial) of the request inside an item header text[start:end]: after the
    last match of ``original_request`` ("... the original request,"; partial when ``portion``,
    a "portion"/"remaining" word, precedes it), without a trailing "is", surrounding white space
    or a trailing colon. The decisions component cuts its items with it, passing its wordings."""
    end = len(text) if end is None else end
    partial = False
    if original_request is not None:
        originals = list(original_request.finditer(text, start, end))
        if originals:
            partial = bool(portion is not None and portion.search(text, start, originals[-1].start()))
            start = originals[-1].end()
    trailing = _TRAILING_IS.search(text, start, end)
    if trailing:
        end = trailing.start()
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1] in " \t\n:":
        end -= 1
    return start, end, partial


def core_clause(text: str) -> tuple[int, int]:
    """The request itself in an item as the decisions component cut it (after any "original
    request,"): without a trailing "is", and after the history sentences before the last one
    ("X was the original request. Y was authorized ... Z")."""
    start, end, _ = request_bounds(text)
    depth, last = 0, 0  # sentence ends outside parentheses
    for m in _SENTENCE_END.finditer(text, start, end):
        depth += text.count("(", last, m.start()) - text.count(")", last, m.start())
        last = m.start()
        if depth == 0:
            start = m.end()
    return start, end


def _context_prefix(tokens: list[Token]) -> int:
    """Index after a short leading "Label:" ("Associated surgical service:", "Labs to include:"),
    or 0; the colon of "quantity: 2" or "DOS: 11/14/16" is not one."""
    for i, t in enumerate(tokens[:7]):
        if t.text == ":":
            if i == 0 or i + 1 >= len(tokens) or tokens[i - 1].lower in ("quantity", "qty", "dos", "refills"):
                return 0
            return i + 1
        if t.text in "(),;#":
            return 0
    return 0


def _overlaps(pos: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(pos[0] < e and s < pos[1] for s, e in spans)


def _show(token_text: str) -> str:
    """Lower case, but abbreviations and brand capitals kept ("MRI", "EMG/NCV", "Synvisc-One")."""
    return token_text if sum(c.isupper() for c in token_text) >= 2 else token_text.lower()


def _token_kinds(tokens: list[Token], tables: Tables, masks: Sequence[tuple[int, int]]) -> list[str]:
    """Each token's kind: mask (a value or a parenthesised gloss), punct, number, laterality,
    level or word."""
    parens, depth, open_at = [], 0, 0
    for t in tokens:
        if t.text == "(":
            depth += 1
            open_at = t.start if depth == 1 else open_at
        elif t.text == ")" and depth:
            depth -= 1
            if depth == 0:
                parens.append((open_at, t.end))
    masked = list(masks) + parens

    def kind(t: Token) -> str:
        if _overlaps((t.start, t.end), masked):
            return "mask"
        if t.text in _PUNCT_BOUNDARY or (len(t.text) == 1 and not t.text.isalnum() and t.text not in "/&-"):
            return "punct"
        if _NUMBER.match(t.text) or t.lower in tables.number_words:
            return "number"
        if t.lower in tables.laterality:
            return "laterality"
        if _LEVEL.match(t.text):
            return "level"
        return "word"

    return [kind(t) for t in tokens]


@dataclass
class _Reading:
    """The request's tokens as the grammar walks them."""

    tokens: list[Token]
    kinds: list[str]
    tables: Tables

    def lower(self, q: int) -> str:
        return self.tokens[q].lower

    def head_phrase(self, drugs: Sequence[tuple[int, int]]) -> tuple[int, list[int], int]:
        """(first content index, the head phrase's word indices, the index that ended it)."""
        tokens, kinds, tables, n = self.tokens, self.kinds, self.tables, len(self.tokens)
        i = 0  # skip request words, counts, laterality, levels
        while i < n and (kinds[i] != "word" or tokens[i].lower in tables.skips or tokens[i].text in "/&-"):
            i += 1
        phrase: list[int] = []
        j = i
        while j < n:
            k, low = kinds[j], tokens[j].lower
            if k == "laterality" and phrase and not any(tables.classes.category_of(tokens[p].lower) for p in phrase):
                j += 1  # "Open right ankle arthrodesis": a side after a modifier, before the head
                continue
            if k in ("mask", "punct", "number", "laterality") or (low in tables.boundaries and phrase):
                break
            if k == "word" or (k == "level" and phrase):
                phrase.append(j)
            j += 1
        # "[drug] [strength] [route] injection": a procedure-headed run after the drug's values is
        # the head ("Toradol 60mg intramuscular injection"); a dosage form is not ("nasal spray").
        if (
            phrase
            and j < n
            and kinds[j] == "mask"
            and _overlaps((tokens[phrase[0]].start, tokens[phrase[-1]].end), drugs)
        ):
            q = j
            while q < n and kinds[q] in ("mask", "number"):
                q += 1
            run = []
            while q < n and kinds[q] == "word" and tokens[q].lower not in tables.boundaries:
                run.append(q)
                q += 1
            if run and tables.classes.category_of(tokens[run[-1]].lower) == "procedure":
                phrase, j = run, q
        phrase = [p for p in phrase if kinds[p] == "word"]
        while phrase and (
            tokens[phrase[-1]].lower in ("and", "or", "&", "/") or tokens[phrase[-1]].lower in tables.skips
        ):
            phrase.pop()
        return i, phrase, j

    def count_before(self, i: int) -> int | None:
        """A count just before the head phrase: "Installation of two grab bars", "Two (2) injections"."""
        for q in range(i - 1, -1, -1):
            if self.kinds[q] == "number" and self.lower(q) not in _NOT_COUNTS:
                value = self.lower(q)
                if value.isdigit():
                    return int(value) if len(value) <= MAX_COUNT_DIGITS else None
                return self.tables.numbers.get(value)
            if self.kinds[q] not in ("mask", "punct") and self.lower(q) not in ("a", "an", "the", "of"):
                return None
        return None

    def trim(self, phrase: list[int], sites: Sequence[tuple[int, int]]) -> list[int]:
        """Without a body site at its end when earlier words name the treatment ("MRI cervical
        spine"), nor units of count and transaction words ("physical therapy sessions", "cane
        purchase"; "office visit" keeps its visit)."""
        tokens, classes = self.tokens, self.tables.classes
        if len(phrase) > 1:
            for s, e in sites:
                if tokens[phrase[0]].start < s and e >= tokens[phrase[-1]].end - 1 and s <= tokens[phrase[-1]].start:
                    keep = [p for p in phrase if tokens[p].end <= s]
                    if keep and any(classes.category_of(tokens[p].lower) for p in keep):
                        phrase = keep
                    break
        while len(phrase) > 1 and self.lower(phrase[-1]) in self.tables.trailing_drops:
            last_is_service = classes.category_of(self.lower(phrase[-1])) is not None
            if last_is_service and classes.category_of(self.lower(phrase[-2])) is None:
                break
            phrase = phrase[:-1]
        return phrase

    def complement(self, stop: int, head_low: str, sites: Sequence[tuple[int, int]]) -> list[int]:
        """The object that belongs to the service: "Referral to a psychiatrist" (a specialty),
        "Excision of dorsal ganglion cyst" (what is operated on, when it is not a body site)."""
        tokens, kinds, tables, n = self.tokens, self.kinds, self.tables, len(self.tokens)
        if stop >= n or kinds[stop] != "word":
            return []
        prep = tokens[stop].lower
        takes = (prep in tables.complement_preps and head_low in tables.complement_heads) or (
            prep == "of" and head_low in tables.object_heads
        )
        if not takes:
            return []
        obj, q = [], stop + 1
        while q < n and kinds[q] in ("word", "laterality", "level"):
            low = tokens[q].lower
            if low in tables.boundaries or (low in ("and", "or") and obj):
                break
            if kinds[q] == "word" and low not in ("a", "an", "the", "his", "her", "their"):
                obj.append(q)
            q += 1
        if obj and prep == "of" and _overlaps((tokens[obj[0]].start, tokens[obj[-1]].end), sites):
            return []
        return obj


def _canonicalise(phrase: list[int], tokens: list[Token], matches: list[Canonical]):
    """Canonical names replace the tokens they cover (a match may run past the phrase's end).
    Returns the token indices, the words, the forced category and the canonical name of the head."""
    first, last = phrase[0], phrase[-1]
    replaced: dict[int, str] = {}
    forced = None
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if first <= m.start <= last and not any(q in replaced for q in range(m.start, m.end)):
            replaced.update({q: "" for q in range(m.start, m.end)})
            replaced[m.start] = m.name
            if m.category and (forced is None or m.end - 1 >= last):  # the head's name wins
                forced = m.category
            last = max(last, m.end - 1)
    span = sorted(set(phrase) | {q for q in replaced if q > phrase[-1]})
    words = [w for w in (replaced[q] if q in replaced else _show(tokens[q].text) for q in span) if w]
    covering = [m for m in matches if m.start <= span[-1] < m.end and replaced.get(m.start) == m.name]
    return span, words, forced, (covering[0] if covering else None)


_TARGET_PREPOSITIONS = frozenset({"to", "into", "in", "at", "of"})


def _has_target(
    reading: _Reading,
    stop: int,
    core: tuple[int, int],
    sites: Sequence[tuple[int, int]],
    drugs: Sequence[tuple[int, int]] = (),
) -> bool:
    """Whether an injection names where it goes: a body site in the request, a word of its head
    phrase that is neither the drug nor a route ("trigger point injection", "facet injection"),
    or a preposition after the head ("injection to the knee", "injections into the trigger points")."""
    if any(core[0] <= s < core[1] for s, _ in sites):
        return True
    tokens, classes = reading.tokens, reading.tables.classes
    # words of the head phrase before the injection word other than a route ("trigger point")
    head_end = stop
    while head_end > 0 and reading.kinds[head_end - 1] != "word":
        head_end -= 1
    q = head_end - 2
    while q >= 0 and reading.kinds[q] == "word" and classes.head_class(tokens[q].lower) != "injection":
        if _overlaps((tokens[q].start, tokens[q].end), drugs):
            break  # the drug's own name: what is injected, not where
        own = classes.of(tokens[q].lower)
        if not own or ("facet" in own and classes.category_of(tokens[q].lower) is None):
            return True  # a word no class knows ("trigger point"), or a facet word: a target
        q -= 1
    return stop < len(tokens) and reading.kinds[stop] == "word" and tokens[stop].lower in _TARGET_PREPOSITIONS


OPERATIVE = "operative"  # the word class of operations (request_grammar.json)
COUNTED = "counted"  # the head feature of an operation or unknown head had in sessions or on a schedule


def _plausible_word(text: str) -> bool:
    """A head no class knows still names something only if it looks like a word: not too long,
    with a vowel, or an abbreviation ("CPAP")."""
    return len(text) <= 30 and (any(c in "aeiouyAEIOUY" for c in text) or text.isupper())


def _has_class(classes: WordClasses, name: str, words: list[str]) -> bool:
    """A word of the class, or one of its phrases, among ``words``."""
    joined = f" {' '.join(words)} "
    return any(name in classes.of(w) for w in words) or any(
        n == name and text in joined for text, n in classes.phrase_texts
    )


def parse_request(
    text: str,
    tables: Tables,
    *,
    masks: Sequence[tuple[int, int]] = (),
    sites: Sequence[tuple[int, int]] = (),
    drugs: Sequence[tuple[int, int]] = (),
    strengths: Sequence[tuple[int, int]] = (),
    canonical: Callable[[list[str]], list[Canonical]] | None = None,
    core: tuple[int, int] | None = None,
    scheduled: bool = False,
) -> RequestParse:
    """Read one item header. ``masks`` are value spans (strengths, quantities, frequencies,
    durations, refills, dates) found by the value finders, ``sites`` body-site spans, ``drugs``
    drug mentions, ``strengths`` drug strengths, all as offsets into ``text``; ``canonical``
    maps token texts to canonical name matches; ``core`` is :func:`core_clause` when the caller
    has it already; ``scheduled``: the item gives a frequency ("3 times a week")."""
    core = core or core_clause(text)
    # Item headers are short (the longest real ones, history included, are a few hundred
    # characters); reading at most MAX_REQUEST_CHARS keeps a hostile one-line "item" linear.
    core = (core[0], min(core[1], core[0] + MAX_REQUEST_CHARS))
    tokens = tokenize(text[core[0] : core[1]], core[0])
    result = RequestParse(core=core)
    if not tokens:
        return result
    cut = _context_prefix(tokens)
    prefix_tokens, tokens = tokens[:cut], tokens[cut:]
    result.prefix = " ".join(t.text for t in prefix_tokens[:-1])
    reading = _Reading(tokens, _token_kinds(tokens, tables, masks), tables)

    start, phrase, stop = reading.head_phrase(drugs)
    result.count = reading.count_before(start)
    phrase = reading.trim(phrase, sites)
    matches = canonical([t.text for t in tokens]) if canonical else []
    forced_category = None
    head_classes: list[tuple[str, str]] = []  # (class, evidence)
    if phrase:
        forced_category, named = _read_head(result, reading, phrase, stop, matches, sites)
        head_classes = _head_classes(reading, phrase, stop, named, result.head_word, sites)
    head_classes = _counted_as_service(reading, phrase, stop, head_classes, scheduled)
    feats = _request_features(tables.classes, prefix_tokens + tokens, head_classes)
    category, evidence = _category_by_evidence(
        result, reading, phrase, stop, prefix_tokens, head_classes, forced_category, feats, sites, drugs, strengths
    )
    category, evidence = _overridden_category(result, reading, phrase, stop, category, evidence, feats, sites, drugs)
    result.category = category or "other"
    result.evidence = evidence if category else NO_EVIDENCE
    feats.add(f"category:{result.category}")
    result.features = feats
    return result


def _read_head(
    result: RequestParse,
    reading: _Reading,
    phrase: list[int],
    stop: int,
    matches: list[Canonical],
    sites: Sequence[tuple[int, int]],
) -> tuple[str | None, Canonical | None]:
    """Read the head phrase into ``result`` (head, word, service); the forced category and head's name."""
    tokens = reading.tokens
    span, words, forced_category, named = _canonicalise(phrase, tokens, matches)
    head_token = tokens[span[-1]]
    result.head = (tokens[span[0]].start, head_token.end)
    result.head_word = head_token.lower
    result.head_token = (head_token.start, head_token.end)
    obj = reading.complement(stop, named.name.split()[-1].lower() if named else head_token.lower, sites)
    if obj:
        words = words[:-1] + [_show(tokens[o].text) for o in obj] + words[-1:]
        result.head = (result.head[0], tokens[obj[-1]].end)
    result.service = " ".join(words)
    return forced_category, named


def _head_classes(
    reading: _Reading,
    phrase: list[int],
    stop: int,
    named: Canonical | None,
    head_word: str,
    sites: Sequence[tuple[int, int]],
) -> list[tuple[str, str]]:
    """The head's (class, evidence) pairs, from its words, a gloss, its canonical name and conjuncts."""
    # The last phrase word with a category class (else the head word's) or a parenthesised
    # gloss's, the classes of a canonical name's words and of the words it covers, and the
    # first conjunct of "consultation and treatment".
    classes, tokens = reading.tables.classes, reading.tokens
    head_classes = _phrase_head_classes(classes, tokens, phrase, sites) or classes.with_evidence(head_word)
    if not any(c in classes.category for c, _ in head_classes) and stop < len(tokens) and tokens[stop].text == "(":
        head_classes = _gloss_classes(classes, tokens, stop) or head_classes
    if named:
        names = [w.lower() for w in named.name.split()]
        covered = [tokens[q].lower for q in range(named.start, named.end)]
        head_classes = [
            (c, NAME) for w in [names[-1], *names, *covered] for c, _ in classes.with_evidence(w)
        ] + head_classes
    head_classes = head_classes + classes.with_evidence(head_word)
    for a, b in zip(phrase, phrase[1:], strict=False):
        if tokens[b].lower in ("and", "or", "&"):
            head_classes = head_classes + classes.with_evidence(tokens[a].lower)
    return head_classes


def _phrase_head_classes(
    classes: WordClasses, tokens: list[Token], phrase: list[int], sites: Sequence[tuple[int, int]]
) -> list[tuple[str, str]]:
    """The classes of the last phrase word with a category class: what the head phrase names."""
    head_classes: list[tuple[str, str]] = []
    for p in reversed(phrase):
        head_classes = classes.with_evidence(tokens[p].lower)
        if p != phrase[-1]:  # a modifier is a procedure by a listed word, not a code-set noun
            head_classes = [(c, ev) for c, ev in head_classes if ev != CODE_SET]  # ("transfer board")
        if any(c in classes.category for c, _ in head_classes):
            break
        if p == phrase[-1] and not head_classes and not _overlaps((tokens[p].start, tokens[p].end), sites):
            break  # an unknown last noun is the head: its modifiers do not say what it is ("test strips")
    return head_classes


def _gloss_classes(classes: WordClasses, tokens: list[Token], stop: int) -> list[tuple[str, str]] | None:
    """The classes of an unknown head's parenthesised gloss, as it says what the head is (or None)."""
    # "QSART (quantitative sudomotor axon reflex test)", "Barium swallow (esophagram)"
    close = next((q for q in range(stop + 1, len(tokens)) if tokens[q].text == ")"), None)
    for q in reversed(range(stop + 1, close or stop + 1)):
        gloss = classes.with_evidence(tokens[q].lower)
        if any(c in classes.category for c, _ in gloss):
            return gloss
    return None


def _counted_as_service(
    reading: _Reading, phrase: list[int], stop: int, head_classes: list[tuple[str, str]], scheduled: bool
) -> list[tuple[str, str]]:
    """The head's classes, a counted service if an operation or nothing comes in sessions or on a schedule."""
    # An operation does not come in sessions or on a weekly schedule, and sessions are had of a
    # service: a head that names an operation or nothing, so counted, is a service ("Manual
    # lymphatic drainage 3 times a week", "Myofascial release x 6 sessions", "Moxibustion x 6
    # sessions").
    classes, tokens = reading.tables.classes, reading.tokens
    first_category_class = next((c for c, _ in head_classes if c in classes.category), None)
    counted = any(
        classes.head_class(tokens[q].lower) == "service" and reading.kinds[q - 1] in ("number", "mask")
        for q in range(max(stop, 1), len(tokens))
    )  # "x 6 sessions", "8 weekly sessions", "for 12 visits"
    if first_category_class in (None, OPERATIVE) and phrase and ((scheduled and first_category_class) or counted):
        return [(c, ev) for c, ev in head_classes if c != OPERATIVE] + [
            ("service", WORD_CLASS),
            (COUNTED, WORD_CLASS),
        ]
    return head_classes


def _request_features(classes: WordClasses, tokens: list[Token], head_classes: list[tuple[str, str]]) -> set[str]:
    """Features for the DWC rules: every word and its classes (the prefix's too), the head's classes."""
    lowers = [t.lower for t in tokens]
    feats = {f"word:{w}" for w in lowers} | {f"class:{c}" for w in lowers for c in classes.of(w)}
    joined = f" {' '.join(lowers)} "
    feats.update(f"class:{name}" for text_, name in classes.phrase_texts if text_ in joined)
    feats.update(f"head:{c}" for c, _ in head_classes)
    return feats


def _category_by_evidence(
    result: RequestParse,
    reading: _Reading,
    phrase: list[int],
    stop: int,
    prefix_tokens: list[Token],
    head_classes: list[tuple[str, str]],
    forced_category: str | None,
    feats: set[str],
    sites: Sequence[tuple[int, int]],
    drugs: Sequence[tuple[int, int]],
    strengths: Sequence[tuple[int, int]],
) -> tuple[str | None, str]:
    """The category (None when nothing supports a class) and the strongest evidence that decided it."""
    # A drug in the head phrase; the head's class; a strength or a dosage form (a drug no lexicon
    # knows); the prefix's class ("Labs to include: free and total testosterone").
    classes, tables, tokens, core = reading.tables.classes, reading.tables, reading.tokens, result.core
    if forced_category:
        head_category, head_evidence = forced_category, NAME
    else:
        head_category, head_evidence = next(
            ((classes.category[c], ev) for c, ev in head_classes if c in classes.category), (None, NO_EVIDENCE)
        )
    prefix_class = next(
        (c for t in reversed(prefix_tokens) for c in classes.of(t.lower) if c in classes.category), None
    )
    if (result.head and _overlaps(result.head, drugs)) or (not phrase and drugs and _overlaps(core, drugs)):
        return _drug_category(result, reading, stop, feats, sites, drugs)
    if head_category:
        return head_category, head_evidence
    if any(s >= core[0] for s, _ in strengths) or any(classes.category_of(t.lower) == "medication" for t in tokens):
        return "medication", DOSE_OR_FORM
    if prefix_class:
        feats.add(f"head:{prefix_class}")
        return classes.category[prefix_class], CONTEXT
    if phrase and tables.default_category != "other" and _plausible_word(tokens[phrase[-1]].text):
        return tables.default_category, NO_EVIDENCE
    return None, NO_EVIDENCE


def _drug_category(
    result: RequestParse,
    reading: _Reading,
    stop: int,
    feats: set[str],
    sites: Sequence[tuple[int, int]],
    drugs: Sequence[tuple[int, int]],
) -> tuple[str, str]:
    """A request naming a drug is a medication, or a procedure when its head word says so."""
    classes = reading.tables.classes
    own = classes.category_of(result.head_word) if result.head_word else None
    procedure_head = own == "procedure" and not _overlaps(result.head_token, drugs)
    # A named drug given by injection into no target ("Toradol 60mg IM injection", "B12
    # injections") is the drug: a medication; into a target (a joint, the epidural space,
    # a trigger point: a body site or a "to/into/at" complement) it is a procedure.
    if (
        procedure_head
        and classes.head_class(result.head_word) == "injection"
        and not _has_target(reading, stop, result.core, sites, drugs)
    ):
        procedure_head = False
        feats.add("drug:injected")
    if procedure_head:
        return "procedure", classes.evidence(result.head_word, classes.head_class(result.head_word)) or WORD_CLASS
    return "medication", DRUG_LEXICON


def _overridden_category(
    result: RequestParse,
    reading: _Reading,
    phrase: list[int],
    stop: int,
    category: str | None,
    evidence: str,
    feats: set[str],
    sites: Sequence[tuple[int, int]],
    drugs: Sequence[tuple[int, int]],
) -> tuple[str | None, str]:
    """The category after the words that override the evidence (injected drug, class, transaction)."""
    classes, tokens, core = reading.tables.classes, reading.tokens, result.core
    if (
        category == "procedure"
        and "drug:injected" not in feats
        and result.head_word
        and classes.head_class(result.head_word) == "injection"
        and any(core[0] <= s and e <= result.head[0] for s, e in drugs)
        and not _has_target(reading, stop, core, sites, drugs)
    ):  # "[drug] [strength] [route] injection": the drug's values before the injection head
        category, evidence = "medication", DRUG_LEXICON
        feats.add("drug:injected")
    phrase_words = [tokens[p].lower for p in phrase]
    for name in sorted(classes.overriding):  # implanting is a procedure; a vehicle is outside care
        if _has_class(classes, name, phrase_words):
            category, evidence = classes.category[name], WORD_CLASS
            feats.add(f"head:{name}")
    if category == "service" and any(t.lower in reading.tables.transaction_words for t in tokens):
        category, evidence = "equipment", WORD_CLASS  # what is rented or bought is equipment
    return category, evidence


@dataclass(frozen=True)
class CompiledDwcRule:
    all: tuple[str, ...]
    any: tuple[str, ...]
    none: tuple[str, ...]
    dwc_category: str
    dwc_subcategory: str | None


def compile_dwc_rules(rules) -> list[CompiledDwcRule]:
    return [
        CompiledDwcRule(tuple(r.all), tuple(r.any), tuple(r.none), r.dwc_category, r.dwc_subcategory) for r in rules
    ]


def _holds(test: str, features: set[str]) -> bool:
    if test.endswith(":*"):
        return any(f.startswith(test[:-1]) for f in features)
    return test in features


def dwc_classes(
    features: set[str], rules: Sequence[CompiledDwcRule], drug_dwc: str | None
) -> tuple[str | None, str | None]:
    """The DWC (category, subcategory) of the first rule whose tests hold."""
    for r in rules:
        if not all(_holds(t, features) for t in r.all):
            continue
        if r.any and not any(_holds(t, features) for t in r.any):
            continue
        if any(_holds(t, features) for t in r.none):
            continue
        sub = r.dwc_subcategory
        if sub == "{drug}":
            sub = drug_dwc
        return r.dwc_category, sub
    return None, None
