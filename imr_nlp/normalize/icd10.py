"""ICD-10-CM codes for diagnosis mentions, from the CMS code set, pure functions over tables.

The code set is the CMS ICD-10-CM tabular list shipped offline by ``simple-icd-10-cm`` (every code,
description and inclusion term). A mention and every description are read the same way: words
lower-cased, plurals made singular, the wordings letters and the code set spell differently
brought to one concept ("neck" and "cervical", "lower back" and "lumbar", "protrusion" and
"displacement", "DDD" and "intervertebral disc degeneration"), function words dropped. The
mention's head (the condition word before any "of"/"in"/"at" or comma) must be in the
description; the description that covers most of the mention's words, adds fewest of its own
and is most specific wins. Laterality and the encounter (7th character) are taken only when
the mention writes them; a description naming the other side is never taken. When no
candidate covers the head and every other word, the back-off (``coverage_back_off``) takes the
phrase with the head that covers most of what the words tell and gives up what it adds by
climbing to a parent (``Coding.by`` "most words"); below its share, or with two equally good
categories: no code (``None``), never a guess.

All wording lives in the tables (``resources/icd10.json`` and ``resources/icd10_terms.jsonl``);
the code index is built once per process and per table content.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from imr_nlp.resources import CodingWords, IcdTerms, IcdVocabulary

CODE_SET = "simple-icd-10-cm"
_WORD = re.compile(r"[a-z0-9]+")
_HEAD_CUT = re.compile(
    r",|;|\(|\b(?:of|in|at|on|to|due|with|without|involving|affecting|from|following|secondary\s+to"
    r"|related\s+to|caused\s+by)\b"
)
# Description clauses that qualify the default ("..., not intractable, without status migrainosus").
_QUALIFIER = re.compile(r",?\s*\b(?:without|not|w/o)\b[^,]*?(?=\s+of\s|,|$)", re.I)
_MEMO_SIZE = 20_000
_NONESSENTIAL = re.compile(r"\([^()]*\)")  # the code set's parenthesised nonessential modifiers
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_PART_GAP = re.compile(r"[\s-]+")  # what separates the words of a region part as written
_LEVEL = re.compile(r"^([ctls])\d{1,2}$")
# A spinal level or range ("L4-5", "C5-C6", "L5-S1"): read as its region(s) before splitting words.
_LEVEL_WORD = re.compile(r"^[ctls]\d{1,2}[ctls]\d{1,2}$")  # "c5c6": counted when a code has it, never required
_LEVEL_RANGE = re.compile(r"\b([ctls])\d{1,2}(?:\s*-\s*([ctls])?\d{1,2})?\b")


def singular(word: str) -> str:
    """A plural noun made singular by its ending (both sides are read the same way, so the
    result need only be consistent): injuries -> injury, seizures -> seizure, status stays."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us", "os")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class IcdTables:
    """The coding vocabulary, compiled from ``resources.IcdVocabulary`` and the term table."""

    rewrites: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]  # first word -> longest first
    stop: frozenset[str]
    optional: frozenset[str]
    ignorable: frozenset[str]
    sites: frozenset[str]  # places (neck, knee) and tissues (nerve, tendon)
    places: frozenset[str]
    laterality: dict[str, str]
    encounter: dict[str, str]
    postprocedural_prefixes: tuple[tuple[str, ...], ...]
    procedure_words: frozenset[str]
    procedure_suffixes: tuple[str, ...]
    postprocedural_code: str
    excluded_chapters: frozenset[str]
    spinal_levels: dict[str, str]
    modifier_suffixes: tuple[str, ...]
    relational_suffixes: tuple[str, ...]
    joined_prefixes: frozenset[str]
    regions: tuple[tuple[tuple[str, ...], str], ...]  # a part's words -> its region's wording, longest first
    terms: dict[tuple[str, ...], tuple[str, dict[str, str]]]  # concepts -> (code, side -> code)
    coverage_min_share: float | None = None  # the coverage back-off (None: off)
    coverage_extra_weight: float = 0.5
    fingerprint: str = ""
    _region_pattern: re.Pattern | None = field(default=None, repr=False, compare=False, hash=False)
    _region_of: dict = field(default_factory=dict, repr=False, compare=False, hash=False)
    _memo: dict = field(default_factory=dict, repr=False, compare=False, hash=False)
    _singular: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    @classmethod
    def from_rules(cls, vocabulary, terms) -> IcdTables:
        post = vocabulary.postprocedural
        tables = cls(
            rewrites=_concept_rewrites(vocabulary),
            stop=frozenset(w.lower() for w in vocabulary.stop_words.words),
            optional=frozenset(singular(w.lower()) for w in vocabulary.optional_words.words),
            ignorable=frozenset(singular(w.lower()) for w in vocabulary.ignorable_words.words),
            sites=frozenset(
                singular(w.lower()) for w in (*vocabulary.site_words.words, *vocabulary.tissue_words.words)
            ),
            places=frozenset(singular(w.lower()) for w in vocabulary.site_words.words),
            laterality={w.lower(): side for side, words in vocabulary.laterality.items() for w in words},
            encounter={w.lower(): kind for kind, words in vocabulary.encounter.items() for w in words},
            postprocedural_prefixes=tuple(tuple(_WORD.findall(p.lower())) for p in post.prefixes),
            procedure_words=frozenset(w.lower() for w in post.procedure_words),
            procedure_suffixes=tuple(s.lower() for s in post.procedure_suffixes),
            postprocedural_code=post.code,
            excluded_chapters=frozenset(vocabulary.excluded_chapters),
            spinal_levels={k.lower(): v.lower() for k, v in vocabulary.spinal_levels.items()},
            modifier_suffixes=_optional_words(vocabulary.modifier_suffixes),
            relational_suffixes=_optional_words(vocabulary.relational_suffixes),
            joined_prefixes=frozenset(_optional_words(vocabulary.joined_prefixes)),
            regions=_region_parts(vocabulary),
            terms={},
            coverage_min_share=vocabulary.coverage_back_off.min_share if vocabulary.coverage_back_off else None,
            coverage_extra_weight=vocabulary.coverage_back_off.extra_weight if vocabulary.coverage_back_off else 0.5,
        )
        term_map = _term_map(tables, terms)
        fingerprint = _rules_fingerprint(vocabulary, terms)
        object.__setattr__(tables, "terms", term_map)
        lookup = _region_lookup(tables.regions)
        if lookup is not None:
            object.__setattr__(tables, "_region_pattern", lookup[0])
            object.__setattr__(tables, "_region_of", lookup[1])
        object.__setattr__(tables, "fingerprint", fingerprint)
        return tables

    def words(self, text: str) -> list[str]:
        """Lower-cased singular words with the concept rewrites applied (function words kept)."""
        cache = self._singular
        words: list[str] = []
        text = text.lower()
        levels = list(_LEVEL_RANGE.finditer(text))
        if levels:
            text = self._levels_as_words(text, levels)
        text = _ROMAN_AFTER.sub(lambda m: f"{m.group(1)} {_ROMAN[m.group(2)]}", text)
        for w in _WORD.findall(text):
            one = cache.get(w)
            if one is None:
                level = _LEVEL.match(w)
                one = self.spinal_levels.get(level.group(1), w) if level else singular(w)
                if len(cache) < _MEMO_SIZE * 10:
                    cache[w] = one
            words.append(one)
        return self._rewrite(self._rewrite(words))

    @cached_property
    def _spine_regions(self) -> frozenset[str]:
        return frozenset(self.spinal_levels.values())

    def _level_regions(self, m: re.Match) -> list[str]:
        """The region(s) of a spinal level range ("C5-6" -> cervical, "L5-S1" -> lumbar, sacral)."""
        return list(dict.fromkeys(self.spinal_levels.get(x, x) for x in (m.group(1), m.group(2) or m.group(1))))

    def _levels_as_words(self, text: str, levels: list[re.Match]) -> str:
        """``text`` with each level range (``levels``, its matches) as :meth:`_level_words`. A level
        across two regions is more exact than one region written beside it ("lumbar disc
        herniation at L5-S1" is lumbosacral): that written region word goes; a level whose
        regions a written region word already names adds none ("lumbosacral radiculopathy at S1"
        is not also sacral)."""
        written = [w for w in _WORD.findall(text) if w.isalpha() and any(r in w for r in self._spine_regions)]
        for m in levels if written else ():
            regions = self._level_regions(m)
            if len(regions) == 2:
                for w in [w for w in written if w in regions]:
                    text = re.sub(rf"\b{w}\b", " ", text)
                    written.remove(w)
        return _LEVEL_RANGE.sub(lambda m: self._level_words(m, written), text)

    def _level_words(self, m: re.Match, written: Sequence[str] = ()) -> str:
        """A spinal level range as its region(s) plus one level word ("C5-6" -> "cervical
        c5c6"): the region matches region codes, the level word the codes of that level. The
        regions are left out when a written region word names them all."""
        first, second = m.group(1), m.group(2) or m.group(1)
        regions = self._level_regions(m)
        if written and all(any(r in w for w in written) for r in regions):
            regions = []
        numbers = re.findall(r"\d+", m.group())
        level = f"{first}{numbers[0]}{second}{numbers[1]}" if len(numbers) == 2 else ""
        return " " + " ".join([*regions, level]) + " "

    def _rewrite(self, words: list[str]) -> list[str]:
        """One pass of the concept rewrites, longest wording first."""
        out: list[str] = []
        i = 0
        while i < len(words):
            for source, target in self.rewrites.get(words[i], ()):
                n = len(source)
                if tuple(words[i : i + n]) == source:
                    out.extend(target)
                    i += n
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def is_modifier(self, word: str) -> bool:
        """Whether ``word`` reads as an adjective by its ending (``modifier_suffixes``)."""
        return len(word) > 4 and word.endswith(self.modifier_suffixes)

    def to_regions(self, text: str, keep: frozenset[str] = frozenset()) -> str:
        """``text`` with every anatomical part of the region table written as its region ("left
        hamstring strain, with tear" -> "left posterior muscle thigh strain, with tear"),
        punctuation and levels kept, except parts of one word in ``keep`` (the code set's own
        words, when only the parts it does not name are to be read as regions)."""
        if self._region_pattern is None:
            return text

        def region(m: re.Match) -> str:
            part = m.group()
            if " " not in part and "-" not in part and singular(part.lower()) in keep:
                return part
            return self._region_of[" ".join(_PART_GAP.split(part.lower()))]

        return self._region_pattern.sub(region, text)

    def term_key(self, text: str) -> tuple[str, ...]:
        """The concepts of ``text`` less sides and optional words: how the term table is keyed."""
        return tuple(w for w in self.concepts(text) if w not in self.laterality and w not in self.optional)

    def concepts(self, text: str) -> list[str]:
        """The content words of ``text`` as concepts, in order (function words dropped)."""
        return [w for w in self.words(text) if w not in self.stop]


def _concept_rewrites(vocabulary: IcdVocabulary) -> dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]]:
    """Wording -> concept rewrites by first word, longest first, so that few are tried per word."""
    rewrites = []
    for group in vocabulary.concepts:
        target = tuple(_WORD.findall(group.concept.lower()))
        for wording in group.wordings:
            source = tuple(singular(w) for w in _WORD.findall(wording.lower()))
            if source and source != target:
                rewrites.append((source, target))
    rewrites.sort(key=lambda r: -len(r[0]))
    by_first: dict[str, list] = {}
    for source, target in rewrites:
        by_first.setdefault(source[0], []).append((source, target))
    return {first: tuple(rules) for first, rules in by_first.items()}


def _optional_words(group: CodingWords | None) -> tuple[str, ...]:
    """The lower-cased words of an optional vocabulary group (none when the tables leave it out)."""
    return tuple(w.lower() for w in group.words) if group else ()


def _region_parts(vocabulary: IcdVocabulary) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(part's words, region) per anatomical part, longest first, so a part wins over one it contains."""
    return tuple(
        sorted(
            (
                (tuple(_WORD.findall(part.lower())), group.region.lower())
                for group in vocabulary.regions
                for part in group.parts
            ),
            key=lambda r: -len(r[0]),
        )
    )


def _term_map(tables: IcdTables, terms: IcdTerms) -> dict[tuple[str, ...], tuple[str, dict[str, str]]]:
    """The term table keyed as ``IcdTables.term_key`` reads a mention: concepts -> (code, side -> code)."""
    term_map = {}
    for entry in terms.entries:
        for wording in entry.terms:
            term_map[tables.term_key(wording)] = (entry.code, dict(entry.sides))
    return term_map


def _rules_fingerprint(vocabulary: IcdVocabulary, terms: IcdTerms) -> str:
    """A digest of the vocabulary and the term table: the code index is built once per content."""
    return hashlib.sha1(
        json.dumps([vocabulary.model_dump(mode="json"), terms.model_dump(mode="json")], sort_keys=True).encode()
    ).hexdigest()


def _region_lookup(regions: tuple[tuple[tuple[str, ...], str], ...]) -> tuple[re.Pattern, dict[str, str]] | None:
    """The pattern of the parts as written and part -> region, for ``to_regions``; None without parts."""
    # a part as written: its words, a plural -s allowed, separated by spaces or a hyphen
    written = {r"[\s-]+".join(re.escape(w) for w in part) + "s?" for part, _ in regions}
    if not written:
        return None
    pattern = re.compile(r"\b(?:" + "|".join(sorted(written, key=len, reverse=True)) + r")\b", re.I)
    region_of = {}
    for part, region in regions:
        region_of[" ".join(part)] = region
        region_of[" ".join(part) + "s"] = region
    return pattern, region_of


class CodeEntry(NamedTuple):
    """One phrase of the code set (a code's description or an inclusion term) as concepts (a
    tuple: 96k of them are made or read back at start)."""

    code: str
    description: str
    words: frozenset[str]  # concepts that count (laterality, encounter, ignorable words taken out)
    sides: frozenset[str]
    encounter: str | None
    residual: bool  # an "Other ..." code, for types the words did not name
    qualified: int  # words of default qualifiers left out ("not intractable, without aura")
    names_site: bool  # the description names a site (not an "unspecified <site>")
    alternatives: tuple[frozenset[str], ...] = ()  # words coordinated as alternatives ("dizziness and giddiness")
    free: frozenset[str] = frozenset()  # bracketed synonyms ("Panic disorder [episodic paroxysmal anxiety]")


@dataclass
class CodeIndex:
    """Every usable code-set phrase (descriptions and inclusion terms) with its concepts, and a
    posting list per concept."""

    entries: Sequence[CodeEntry]  # a list when built, StoredEntries when read from its file
    postings: dict[str, list[int]]
    descriptions: dict[str, str]
    vocabulary: frozenset[str]  # every word of the code set's phrases, lower-case and singular
    by_code: dict[str, int] = field(default_factory=dict)  # code -> its description's entry
    places: frozenset[str] = frozenset()  # the tables' place words (for head_places)
    # every other item of the code set (chapters, blocks, the excluded chapters' codes) -> its
    # description: a code the term table names is described without the code-set package,
    # whose loading costs seconds in every process that would otherwise not need it
    other_descriptions: dict[str, str] = field(default_factory=dict)
    _head_places: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _children: dict[str, list[int]] | None = field(default=None, repr=False)

    def children(self, code: str) -> list[int]:
        """The entries of the codes one level below ``code`` (built once, on first use)."""
        if self._children is None:
            children: dict[str, list[int]] = {}
            for child, i in self.by_code.items():
                parent = self.parent(child)
                if parent is not None:
                    children.setdefault(parent, []).append(i)
            self._children = children
        return self._children.get(code, [])

    def description(self, code: str) -> str | None:
        """The code's description: an indexed code's, else any other code-set item's (None for
        a code not in the code set)."""
        return self.descriptions.get(code) or self.other_descriptions.get(code)

    def parent(self, code: str) -> str | None:
        """The code one level above ``code`` in the code set, or None for a category."""
        parent = code[:3] if len(code) == 5 and code[3] == "." else code[:-1]
        return parent if parent != code and parent in self.by_code else None

    def head_places(self, head: str) -> frozenset[str]:
        """Every place word of the descriptions that have ``head`` (cached per word)."""
        cache = self._head_places
        found = cache.get(head)
        if found is None:
            found = frozenset(w for i in self.postings.get(head, ()) for w in self.entries[i].words & self.places)
            cache[head] = found
        return found


def code_set_items(excluded_chapters: Iterable[str] = ()) -> Iterable[tuple[str, str, list[str]]]:
    """(code, description, inclusion terms and "includes" notes) of every category and
    subcategory of the code set, codes starting with an excluded letter left out."""
    import simple_icd_10_cm as cm

    excluded = tuple(excluded_chapters)
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_chapter_or_block(code) or code.startswith(excluded):
            continue
        yield code, cm.get_description(code), [*cm.get_inclusion_term(code), *cm.get_includes(code)]


def is_valid_code(code: str) -> bool:
    """Whether ``code`` exists in the code set."""
    import simple_icd_10_cm as cm

    return bool(code) and cm.is_valid_item(code)


def build_index(tables: IcdTables, items: Iterable[tuple[str, str, Sequence[str]]]) -> CodeIndex:
    entries: list[CodeEntry] = []
    postings: dict[str, list[int]] = {}
    descriptions: dict[str, str] = {}
    vocabulary: set[str] = set()
    by_code: dict[str, int] = {}
    for code, description, inclusions in items:
        descriptions[code] = description
        by_code[code] = len(entries)
        for phrase in (description, *inclusions):
            vocabulary.update(singular(w) for w in _WORD.findall(phrase.lower()))
            entry = _entry(tables, code, description, phrase)
            for word in entry.words:
                postings.setdefault(word, []).append(len(entries))
            entries.append(entry)
    return CodeIndex(entries, postings, descriptions, frozenset(vocabulary), by_code, tables.places)


def _entry(tables: IcdTables, code: str, description: str, phrase: str) -> CodeEntry:
    # parenthesised nonessential modifiers ("hypertension (arterial) (benign) (essential)") and
    # the square brackets' synonyms and explanations: words a mention may have, never must
    nonessential = [w for m in _NONESSENTIAL.finditer(phrase) for w in tables.concepts(m.group()[1:-1])]
    phrase = _NONESSENTIAL.sub(" ", phrase)
    free = frozenset(w for part in _BRACKETED.findall(phrase) for w in tables.concepts(part)) | frozenset(
        w for w in nonessential if w not in tables.laterality and w not in tables.encounter
    )
    phrase = _BRACKETED.sub(" ", phrase)
    main = _QUALIFIER.sub("", phrase)
    words = tables.concepts(main)
    sides = frozenset(tables.laterality[w] for w in words if w in tables.laterality)
    tail = phrase[len(main) :] if phrase.startswith(main) else phrase
    encounter = next((tables.encounter[w] for w in (*words, *tables.concepts(tail)) if w in tables.encounter), None)
    kept = frozenset(
        w for w in words if w not in tables.laterality and w not in tables.encounter and w not in tables.ignorable
    )
    residual = "other" in _WORD.findall(description.lower())
    all_words = tables.words(main)
    named = {
        w for i, w in enumerate(all_words) if w in tables.places and "unspecified" not in all_words[max(0, i - 3) : i]
    }
    qualified = len(_WORD.findall(phrase)) - len(_WORD.findall(main))
    return CodeEntry(
        code,
        description,
        kept | free,
        sides,
        encounter,
        residual,
        qualified,
        bool(named),
        _alternatives(tables, main),
        free - kept,
    )


# "X and Y" / "X or Y" ending the phrase or followed by a comma or a preposition
_COORDINATED = re.compile(
    r"\b([a-z]+)\s+(?:and|or)\s+([a-z]+)\b(?=\s*(?:$|[,;]|\b(?:of|in|at|on|with|without|due|to|for)\b))"
)


def _alternatives(tables: IcdTables, phrase: str) -> tuple[frozenset[str], ...]:
    """Pairs of single condition words a description coordinates ("Dizziness and giddiness",
    "Synovitis and tenosynovitis"): a mention naming one is not told the other."""
    groups = []
    for m in _COORDINATED.finditer(phrase.lower()):
        pair = frozenset(w for word in m.groups() for w in tables.concepts(word))
        if len(pair) == 2 and not pair & (tables.sites | tables.optional | tables.ignorable):
            groups.append(pair)
    return tuple(groups)


_INDEXES: dict[str, CodeIndex] = {}


def code_index(tables: IcdTables) -> CodeIndex:
    """The index of the installed code set for these tables, once per process: read from its
    stored file (:mod:`imr_nlp.stored_indexes`), built (10-20 s) only where none was stored for
    the same tables, code set and builder."""
    index = _INDEXES.get(tables.fingerprint)
    if index is None:
        from imr_nlp.stored_indexes import stored

        index = stored(
            "icd10_index",
            tables.fingerprint,
            lambda: _with_other_descriptions(build_index(tables, code_set_items(tables.excluded_chapters))),
            encode_index,
            decode_index,
            packages=("simple_icd_10_cm",),
            builders=(__name__,),
        )
        _INDEXES.clear()
        _INDEXES[tables.fingerprint] = index
    return index


# an entry's word sets are stored as one string each, joined by a character no word has (a
# list per set would make msgpack build 1.5M objects: 1.1 s of reading, against 0.06 s)
_SEPARATOR = "\x1f"
_GROUPS = "\x1e"


def _joined(words) -> str:
    return _SEPARATOR.join(sorted(words))


def _word_set(joined: str, _empty: frozenset = frozenset()) -> frozenset[str]:
    return frozenset(joined.split(_SEPARATOR)) if joined else _empty


def _with_other_descriptions(index: CodeIndex) -> CodeIndex:
    """The index with the descriptions of the code set's items it does not index."""
    import simple_icd_10_cm as cm

    index.other_descriptions = {
        code: cm.get_description(code) for code in cm.get_all_codes(with_dots=True) if code not in index.descriptions
    }
    return index


# A stored index is mostly text: each entry is one string (its fields joined by _FIELDS, the
# entries by _ROWS) and each table of strings two (its keys, its values), which msgpack reads as a
# few large strings instead of a million small objects (0.35 s of every start, against 0.05 s).
_FIELDS = "\x1c"
_ROWS = "\x1d"


_SEPARATORS = re.compile("[\x1c-\x1f]")


def _encoded_entry(e: CodeEntry) -> str:
    if _SEPARATORS.search(e.code + e.description + (e.encounter or "")):
        raise ValueError(f"code-set entry {e.code} holds a separator character of the stored index")
    return _FIELDS.join(
        (
            e.code,
            e.description,
            _joined(e.words),
            _joined(e.sides),
            e.encounter or "",
            "1" if e.residual else "",
            str(e.qualified),
            "1" if e.names_site else "",
            _GROUPS.join(_joined(group) for group in e.alternatives),
            _joined(e.free),
        )
    )


def encode_index(index: CodeIndex) -> dict:
    """The index as msgpack-serialisable data, for :func:`decode_index`."""
    from imr_nlp.stored_indexes import joined_table

    return {
        "entries": _ROWS.join(_encoded_entry(e) for e in index.entries),
        "postings": index.postings,
        "descriptions": joined_table(index.descriptions, _ROWS),
        "vocabulary": _joined(index.vocabulary),
        "by_code": [_ROWS.join(index.by_code), list(index.by_code.values())],
        "places": _joined(index.places),
        "other_descriptions": joined_table(index.other_descriptions, _ROWS),
    }


def _decoded_entry(row: str) -> CodeEntry:
    """A stored entry of :func:`encode_index` as its :class:`CodeEntry`."""
    code, description, words, sides, encounter, residual, qualified, names_site, alternatives, free = row.split(_FIELDS)
    return CodeEntry(
        code,
        description,
        _word_set(words),
        _word_set(sides),
        encounter or None,
        residual == "1",
        int(qualified),
        names_site == "1",
        tuple(_word_set(group) for group in alternatives.split(_GROUPS)) if alternatives else (),
        _word_set(free),
    )


class StoredEntries(Sequence):
    """The entries of a stored index, each decoded from its stored row the first time it is read:
    a letter reads a few hundred of the 96k, and decoding them all took a second of every start."""

    __slots__ = ("_entries", "_rows")

    def __init__(self, rows: list[str]) -> None:
        self._rows = rows
        self._entries: list[CodeEntry | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        entry = self._entries[position]
        if entry is None:
            entry = self._entries[position] = _decoded_entry(self._rows[position])
        return entry

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def decode_index(data: dict) -> CodeIndex:
    """The index :func:`encode_index` gave (its entries decoded as they are read). A stored
    index whose entries do not all have their fields raises ValueError here, where
    :func:`imr_nlp.stored_indexes.stored` rebuilds it, not later in a parse."""
    from imr_nlp.stored_indexes import split_table

    rows = data["entries"].split(_ROWS) if data["entries"] else []
    if data["entries"].count(_FIELDS) != (len(CodeEntry._fields) - 1) * len(rows):
        raise ValueError("stored code index: entries without all their fields")
    codes, positions = data["by_code"]
    return CodeIndex(
        StoredEntries(rows),
        data["postings"],
        split_table(data["descriptions"], _ROWS),
        _word_set(data["vocabulary"]),
        dict(zip(codes.split(_ROWS), positions, strict=True)) if codes else {},
        _word_set(data["places"]),
        other_descriptions=split_table(data["other_descriptions"], _ROWS),
    )


@dataclass(frozen=True)
class Coding:
    code: str
    description: str
    by: str = "every word"  # how the words support the code (Mention.icd10_by): "every word" or "most words"


def _before_post_modifier(tables: IcdTables, text: str) -> list[str]:
    """The concepts of ``text`` before its first post-modifier ("of", "in", a comma ...)."""
    cut = _HEAD_CUT.search(text.lower())
    return tables.concepts(text[: cut.start()] if cut and cut.start() > 0 else text)


def _head(tables: IcdTables, text: str) -> str | None:
    """The condition word: the last content word before the first post-modifier ("of",
    "in", a comma ...) that is not a site, side or optional word."""
    for word in reversed(_before_post_modifier(tables, text)):
        if word in tables.sites or word in tables.laterality or word in tables.optional or word in tables.encounter:
            continue
        if word in tables.ignorable or word.isdigit() or _LEVEL_WORD.match(word) or _LEVEL.match(word):
            continue  # a level after the condition ("HNP L5-S1") is no condition word
        return word
    return None


def _site_head(tables: IcdTables, text: str) -> str | None:
    """A site named as the condition by a word no description keeps ("rotator cuff syndrome",
    "sacroiliac joint disorder"): the last site word stands for the head; the description must
    then add no condition word of its own."""
    first = _before_post_modifier(tables, text)
    if not any(w in tables.ignorable for w in first):
        return None
    sites = [w for w in first if w in tables.sites and w not in tables.laterality]
    return sites[-1] if sites else None


def condition_word(tables: IcdTables, text: str) -> str | None:
    """The condition word of ``text`` as the coder reads it (see ``_head``)."""
    return _head(tables, text)


def _is_procedure(tables: IcdTables, words: Sequence[str]) -> bool:
    return any(w in tables.procedure_words or w.endswith(tables.procedure_suffixes) for w in words)


def code_mention(text: str, tables: IcdTables, index: CodeIndex) -> Coding | None:
    """The most specific ICD-10-CM code the words of ``text`` support, or None."""
    key = text.lower().strip()
    memo = tables._memo
    if key in memo:
        return memo[key]
    result = _code(text, tables, index)
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = result
    return result


def names_one_code(text: str, tables: IcdTables, index: CodeIndex) -> bool:
    """Whether one code's description has every word of ``text`` ("other synovitis and
    tenosynovitis, left hand"): the code set names it as one condition."""
    return _code_phrase(text, tables, index) is not None


def _join_hyphenated(text: str, index: CodeIndex, prefixes: frozenset[str]) -> str:
    """A prefix written with a hyphen where the code set writes one word ("post-laminectomy" ->
    "postlaminectomy", "sacro-iliac" -> "sacroiliac"); other hyphens are left alone."""

    def join(m: re.Match) -> str:
        if m.group(1).lower() not in prefixes:
            return m.group()
        joined = m.group(1) + m.group(2)
        return joined if singular(joined.lower()) in index.vocabulary else m.group()

    return _HYPHENATED.sub(join, text)


_CONJUNCTS = re.compile(r"(?:,\s*[\w-]+)+,?\s+(?:and|or)\s+[\w-]+", re.I)
_HYPHENATED = re.compile(r"\b([A-Za-z]{2,})-([A-Za-z]{3,})\b")
# a class, grade or stage numbered in roman numerals reads as the code set's digits
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
_ROMAN_AFTER = re.compile(r"\b(class|grade|stage)\s+(iii|ii|iv|i|v)\b")
_TAIL = re.compile(r",|\b(?:secondary|due|related)\s+to\b|\bcaused\s+by\b", re.I)


def _code(text: str, tables: IcdTables, index: CodeIndex) -> Coding | None:
    text = _join_hyphenated(text, index, tables.joined_prefixes)
    # A part read as its region ("hamstring strain" -> a strain of the posterior muscle group
    # at thigh level) when no code has the words as written, before any word is left out.
    # first the parts the code set does not name (hamstring), then the limbs too (thigh -> leg)
    readings = tuple(dict.fromkeys((text, tables.to_regions(text, index.vocabulary), tables.to_regions(text))))
    for relax in (0, 1, 2):
        for reading in readings:
            found = _code_words(reading, tables, index, relax)
            if found is not None:
                return found
    return _code_by_coverage(text, tables, index)


def _code_words(text: str, tables: IcdTables, index: CodeIndex, relax: int = 0) -> Coding | None:
    """The code at one back-off level: 0, every word; 1, without the words no description of
    the code set uses ("diet-controlled", "uncontrolled": they cannot narrow a code); 2, also
    without the modifiers before the condition word ("acquired hypothyroidism"). The
    condition word, the sites and the side are always kept."""
    if relax:
        return _code_phrase(text, tables, index, relax)
    found = _code_phrase(text, tables, index)
    if found is None and re.search(r"\band\b", text, re.I):
        # Coordinated words ("thoracic and lumbar sprain and strain"): code the first conjuncts.
        first = re.sub(r"\s+and\s+\S+", "", text, flags=re.I)
        if first != text:
            found = _code_phrase(first, tables, index)
        if found is None:  # a comma run before the "and" too ("hand, wrist and elbow strains")
            first = _CONJUNCTS.sub("", text)
            if first != text:
                found = _code_phrase(first, tables, index)
    return found


def _modifiers_before_head(tables: IcdTables, text: str, head: str) -> set[str]:
    """The adjective modifiers before the condition word (not sites, sides or levels)."""
    first = _before_post_modifier(tables, text)
    if head not in first:
        return set()
    before = first[: len(first) - 1 - first[::-1].index(head)]
    # the words of a hyphenated compound before the head are one modifier ("diet-controlled",
    # "full-thickness", "articular-sided"), whatever their endings
    compounds = {w for m in _COMPOUND.finditer(text.lower()) if "-" in m.group() for w in tables.concepts(m.group())}
    return {
        w
        for w in before
        if w not in tables.sites
        and w not in tables.laterality
        and not _LEVEL.match(w)
        and (tables.is_modifier(w) or w in compounds)
    }


_COMPOUND = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b")


def _code_phrase(text: str, tables: IcdTables, index: CodeIndex, relax: int = 0) -> Coding | None:
    """The code whose description has the words of ``text`` at back-off level ``relax`` (see ``_code_words``)."""
    text = _QUALIFIER.sub("", text) or text  # "migraine without aura": read as the descriptions are
    concepts = tables.concepts(text)
    if not concepts:
        return None
    sides = {tables.laterality[w] for w in concepts if w in tables.laterality}
    term = tables.terms.get(tables.term_key(text))
    if term is not None:
        return _term_coding(term, sides, index)
    rest = _postprocedural_rest(tables, text)
    if rest is not None:
        if _is_procedure(tables, rest):
            return _described(tables.postprocedural_code, index)
        text = " ".join(rest)
        concepts = tables.concepts(text)
    head = _head(tables, text)
    site_head = head is None
    head = head or _site_head(tables, text)
    if head is None or head not in index.postings:
        return None
    encounter = next((tables.encounter[w] for w in concepts if w in tables.encounter), None)
    wanted = {
        w for w in concepts if w not in tables.laterality and w not in tables.encounter and w not in tables.ignorable
    }
    strict = {w for w in wanted if w not in tables.optional and not _LEVEL_WORD.match(w)}
    places_written = bool(wanted & tables.places)
    sites_written = bool(wanted & tables.sites)
    known_modifiers: set[str] = set()
    if relax:
        wanted, required, known_modifiers = _relaxed_words(tables, index, text, head, wanted, relax)
        if required == strict:
            return None  # nothing to relax: the strict reading stands
    else:
        required = strict
    # Every required word must be in the description.
    candidates = _candidates(index, required | {head})
    if not candidates:
        return None
    best, unnamed = _best_candidate(
        tables, index, candidates, wanted, required, sides, encounter, site_head, places_written, sites_written
    )
    if relax >= 2 and best is not None and known_modifiers and not (best.words & wanted) - {head}:
        # a bare condition code ("Injury, unspecified") is kept only if its category uses the
        # left-out relational adjective; a code that says more ("Low back pain") stands
        if not _category_uses(best.code[:3], known_modifiers, index):
            return None
    if best is None:
        return _parent_of_unnamed(tables, index, unnamed, head)
    if len(sides) == 1 and not best.sides:
        best = _sided(best, next(iter(sides)), tables, index)
    return Coding(best.code, best.description)


def _described(code: str, index: CodeIndex) -> Coding:
    """``code`` with its description from the index, else from the code set (a code the index left out)."""
    return Coding(code, index.description(code) or "")


def _term_coding(term: tuple[str, dict[str, str]], sides: set[str], index: CodeIndex) -> Coding:
    """The code of a term-table entry, its sided code when the words write one side."""
    code, by_side = term
    if len(sides) == 1:
        code = by_side.get(next(iter(sides)), code)
    return _described(code, index)


def _postprocedural_rest(tables: IcdTables, text: str) -> list[str] | None:
    """The words after a post-procedural prefix ("status post ..."), or None when ``text`` has none."""
    words = tables.words(text)
    for prefix in tables.postprocedural_prefixes:
        if tuple(words[: len(prefix)]) == prefix:
            return words[len(prefix) :]
    return None


def _relaxed_words(
    tables: IcdTables, index: CodeIndex, text: str, head: str, wanted: set[str], relax: int
) -> tuple[set[str], set[str], set[str]]:
    """At back-off level ``relax``: the wanted words left, the required ones, the relational modifiers left out."""
    known_modifiers: set[str] = set()
    # A condition the code set never divides by place ("right arm paresthesias": R20.2
    # names none) cannot be narrowed by one: the written place is left out.
    if not index.head_places(head):
        wanted = wanted - tables.places
    dropped = {w for w in wanted if w != head and w not in index.postings}
    if relax >= 2:
        modifiers = _modifiers_before_head(tables, text, head) - {head}
        # a comma's qualifier or a cause that no code spells ("obesity, BMI 36", "GERD
        # secondary to NSAID use"): its words may go too
        tail = _TAIL.search(text)
        if tail is not None and tail.start() > 0:
            dropped |= {
                w
                for w in tables.concepts(text[tail.start() :])
                if w not in tables.sites and w not in tables.laterality and w not in tables.encounter
            } - {head}
        dropped |= modifiers
        # a left-out relational adjective (of a place or a domain: "cerebral", "psychological")
        # must be one the result's category uses: "cerebral trauma" is not T14.90 "Injury,
        # unspecified", whose category never says "cerebral"; "acquired" and "intermittent"
        # only qualify and may go (E03.9, R42)
        known_modifiers = {
            w for w in modifiers if w in index.postings and w.endswith(tables.relational_suffixes) and len(w) > 4
        }
    wanted = wanted - dropped
    required = {w for w in wanted if w not in tables.optional and not _LEVEL_WORD.match(w)}
    return wanted, required, known_modifiers


def _candidates(index: CodeIndex, words: set[str]) -> set[int]:
    """The entries whose description has every one of ``words``, from the rarest word's postings."""
    lists = sorted((index.postings.get(w, ()) for w in words), key=len)
    if not lists or not lists[0]:
        return set()
    candidates = set(lists[0])
    for other in lists[1:]:
        candidates.intersection_update(other)
        if not candidates:
            return candidates
    return candidates


def _best_candidate(
    tables: IcdTables,
    index: CodeIndex,
    candidates: set[int],
    wanted: set[str],
    required: set[str],
    sides: set[str],
    encounter: str | None,
    site_head: bool,
    places_written: bool,
    sites_written: bool,
) -> tuple[CodeEntry | None, set[str]]:
    """The candidate that covers most words and adds fewest, and the codes that fit but for a place."""
    best, best_key = None, None
    core = wanted - tables.sites
    unnamed: set[str] = set()  # codes that fit but for a place (or site) the words do not name
    for i in sorted(candidates):
        entry = index.entries[i]
        if entry.sides and sides and not (entry.sides & sides):
            continue  # the other side
        if entry.encounter and entry.encounter != encounter:
            continue  # an encounter not written, or another one
        if required - entry.words:
            continue  # a written word (a site too) the description does not have
        covered_core = len(core & entry.words)
        entry_places = entry.words & tables.places
        extra_words, alternatives = _unwritten_words(entry, wanted)
        extra_core = len(extra_words - tables.sites)
        if site_head and extra_words - tables.optional:
            continue  # a site named as the condition: the description adds no word of its own
        if extra_core - len(extra_words & tables.optional) >= max(covered_core, 1 if core else 0) + (not core):
            continue  # the description says more about the condition than the words do
        if (not places_written and entry_places and (entry.names_site or covered_core < 2)) or (
            not sites_written and entry.words & tables.sites and covered_core < 2
        ):
            unnamed.add(entry.code)
            continue  # a place or site the words do not name
        covered = len(wanted & entry.words)
        extra_sites = len(extra_words & tables.sites)
        extra_qualifiers = len(extra_words & tables.optional)
        extra = extra_core - extra_qualifiers + (1 if entry.sides and not sides else 0)
        score = (
            entry.encounter == encounter,
            covered
            - 0.3 * extra
            - 0.2 * extra_qualifiers
            - 0.15 * extra_sites
            - 0.1 * entry.residual
            - 0.1 * alternatives,
            len(entry.sides & sides),
            -entry.qualified,
            len(entry.code),
        )
        if best_key is None or score > best_key:
            best, best_key = entry, score
    return best, unnamed


def _unwritten_words(entry: CodeEntry, wanted: set[str]) -> tuple[set[str], int]:
    """The words a description adds to ``wanted`` less told alternatives, and how many alternatives."""
    extra_words = entry.words - wanted - entry.free
    alternatives = 0
    for pair in entry.alternatives:
        if pair & wanted:
            alternatives += len(pair & extra_words)
            extra_words -= pair  # "dizziness" is told by "dizziness and giddiness"
    return extra_words, alternatives


def _category_uses(category: str, words: set[str], index: CodeIndex) -> bool:
    """Whether some code of ``category`` (its 3 characters) has each of ``words`` in its description."""
    return all(any(index.entries[i].code.startswith(category) for i in index.postings[w]) for w in words)


def _parent_of_unnamed(tables: IcdTables, index: CodeIndex, unnamed: set[str], head: str) -> Coding | None:
    """The common parent of codes differing only by an unwritten place, if of this condition (M51.2)."""
    # "other intervertebral disc displacement" -> M51.2, whatever the region
    parent = _common_parent(unnamed, index)
    if parent is None or _head(tables, index.description(parent) or "") != head:
        return None  # the parent must be of this condition ("complete" is no amputation)
    return Coding(parent, index.description(parent) or "")


def _sided(best: CodeEntry, side: str, tables: IcdTables, index: CodeIndex) -> CodeEntry:
    """The code for the written side: a child of ``best`` or, for an unspecified side, its sibling."""
    sided = _descend_to_side(best, side, tables, index)
    if sided is best and best.code in index.by_code:
        # "Iliotibial band syndrome, unspecified leg" with a written side: its sibling
        parent = index.parent(best.code)
        if parent is not None:
            sibling = _descend_to_side(index.entries[index.by_code[parent]], side, tables, index)
            if sibling.sides == {side} and sibling.words - best.words <= tables.sites:
                sided = sibling
    return sided


def _common_parent(codes: set[str], index: CodeIndex) -> str | None:
    """The deepest code of the code set that is a parent of every code in ``codes`` (not the
    only one's own code: one code that names an unwritten place is no evidence of its parent)."""
    if len(codes) < 2:
        return None
    prefix = min(codes)
    for code in codes:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.rstrip(".")
    while len(prefix) >= 3 and prefix not in index.by_code:
        prefix = prefix[:-1].rstrip(".")
    if len(prefix) < 3:
        return None
    # a parent naming one place ("Superficial injury of head") still asserts it; one naming
    # several ("thoracic, thoracolumbar and lumbosacral") or none does not
    places = index.entries[index.by_code[prefix]].words & index.places
    return prefix if len(places) != 1 else None


def _descend_to_side(entry: CodeEntry, side: str, tables: IcdTables, index: CodeIndex) -> CodeEntry:
    """The one child (or grandchild) of ``entry`` for the written side that adds nothing but
    the side and a site ("lateral epicondylitis" + right -> "Lateral epicondylitis, right elbow",
    bilateral carpal tunnel syndrome -> G56.03); else ``entry`` itself."""
    for _ in range(2):
        children = [index.entries[i] for i in index.children(entry.code)]
        same_side = [
            c for c in children if c.sides == {side} and c.words - entry.words <= tables.sites and not c.residual
        ]
        if len(same_side) != 1:
            break
        entry = same_side[0]
    return entry


def _idf(index: CodeIndex, word: str) -> float:
    """How much a word tells: the log of the share of code-set phrases that do not use it."""
    return math.log(len(index.entries) / (1 + len(index.postings.get(word, ()))))


def _code_by_coverage(text: str, tables: IcdTables, index: CodeIndex) -> Coding | None:
    """The last back-off: the code-set phrase with the condition word that covers most of what
    the other words tell (each word weighted by its rarity in the code set) and asserts least
    that they do not say. A phrase naming a place the words do not name, or another side, is
    never taken; what the best phrase adds beyond the words is given up by climbing to its
    deepest parent that asserts nothing unwritten (at most the 3-character category)."""
    if tables.coverage_min_share is None:
        return None
    text = _QUALIFIER.sub("", text) or text
    head = _head(tables, text)
    if head is None or head not in index.postings:
        return None
    concepts = tables.concepts(text)
    sides = {tables.laterality[w] for w in concepts if w in tables.laterality}
    wanted = {
        w
        for w in concepts
        if w not in tables.laterality
        and w not in tables.encounter
        and w not in tables.ignorable
        and w in index.postings
    }
    written_places = wanted & tables.places - tables.optional  # "joint" names no place
    weight = {w: _idf(index, w) for w in wanted}
    scored = _coverage_scores(tables, index, head, wanted, sides, written_places, weight)
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], len(s[1].code)))
    best_score, best = scored[0]
    told = sum(weight.values())
    if best_score <= weight[head] or sum(weight[w] for w in wanted & best.words) < tables.coverage_min_share * told:
        return None  # nothing beyond the condition word is told, or more is asserted than written
    rivals = {e.code[:3] for s, e in scored if s >= best_score - 1e-9}
    if len(rivals) > 1:
        return None  # equally good phrases of different categories: the words do not decide
    code = _climb_to_written(best.code, wanted, tables, index)
    found = index.entries[index.by_code[code]] if code in index.by_code else None
    if found is not None and (found.words & tables.places) - written_places - tables.optional:
        return None  # even the category names a place the words do not ("... of thorax")
    return Coding(code, index.description(code) or "", "most words")


def _coverage_scores(
    tables: IcdTables,
    index: CodeIndex,
    head: str,
    wanted: set[str],
    sides: set[str],
    written_places: set[str],
    weight: dict[str, float],
) -> list[tuple[float, CodeEntry]]:
    """(words covered less what is asserted, entry) for each phrase with the head and nothing else named."""
    written_sites = wanted & tables.sites
    rarity = dict(weight)  # every word's weight, worked out once per mention (a head has up to 20k phrases)
    scored: list[tuple[float, CodeEntry]] = []
    for i in index.postings[head]:
        entry = index.entries[i]
        if entry.sides and sides and not (entry.sides & sides):
            continue
        if (entry.words & tables.places) - written_places - tables.optional:
            continue  # a place the words do not name (an "unspecified hip" is still a hip)
        entry_sites = entry.words & tables.sites
        if written_sites and entry_sites and not (entry_sites & written_sites):
            continue  # another site or tissue
        extra = entry.words - wanted - entry.free - tables.optional
        covered = sum(weight[w] for w in wanted & entry.words)
        asserted = 0.0
        for w in extra:
            if w not in rarity:
                rarity[w] = _idf(index, w)
            asserted += rarity[w]
        score = covered - tables.coverage_extra_weight * asserted
        scored.append((score, entry))
    return scored


def _climb_to_written(code: str, wanted: set[str], tables: IcdTables, index: CodeIndex) -> str:
    """``code`` or its deepest parent asserting nothing beyond ``wanted``: what it adds is given up."""
    tissues = tables.sites - tables.places
    while (parent := index.parent(code)) is not None:
        entry = index.entries[index.by_code[code]] if code in index.by_code else None
        if entry is None or not (entry.words - wanted - entry.free - tables.optional - tissues):
            break
        code = parent
    return code
