"""Drug names to lower-case generic names and drug classes: pure functions, no spaCy.

The lexicon joins two sources: the 107k name variants shipped by the MIT-licensed
``drug-named-entity-recognition`` package (DrugBank open data, MeSH, NHS, MedlinePlus) and our
own ``resources/drugs.json`` (combination products such as Norco, compounded creams, IMR
favourites such as Synapryn, and corrections). Misspellings ("Klonipin") are matched by edit
distance 1 against the names of drugs whose class we know.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from imr_nlp import resources

_PAREN = re.compile(r"\s*\([^)]*\)")
_LEADING_WORD = re.compile(r"[a-z0-9]+")
_FUZZY_CACHE_SIZE = 50_000


class DrugInfo(NamedTuple):
    """What a name of the lexicon stands for (a tuple: 107k of them are made at start)."""

    generic: str
    drug_class: str | None
    source: str  # "imr_nlp" (our data) or "lexicon" (the drug NER package)


def form_words_pattern(words) -> re.Pattern:
    """The dosage-form words (drugs.json ``form_words``) as one pattern."""
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b")


def canonical_generic(name: str, form_words: re.Pattern) -> str:
    """Lexicon canonical names to our generic form.

    "Diclofenac (arthritis pain)" -> "diclofenac"; "Butalbital/acetaminophen" ->
    "butalbital / acetaminophen"; "abacavir, dolutegravir, and lamivudine" ->
    "abacavir / dolutegravir / lamivudine"; "lidocaine patch" -> "lidocaine".
    """
    g = _PAREN.sub("", name.lower())
    g = form_words.sub("", g)
    parts = re.split(r"\s*(?:/|,\s*and\s+|,|\s+and\s+)\s*", g)
    parts = [" ".join(p.split()) for p in parts]
    return " / ".join(p for p in parts if p)


def without_salts(generic: str, salt_words: frozenset[str]) -> str:
    """A generic without the salt, ester and release words after its first word
    ("triamcinolone acetonide" -> "triamcinolone", "testosterone cypionate" -> "testosterone");
    a leading salt word names the salt that is the drug, kept whole ("potassium chloride",
    "sodium bicarbonate", "ferrous sulfate", "magnesium oxide")."""
    parts = []
    for part in generic.split(" / "):
        first, *rest = part.split(" ")
        if first in salt_words:
            parts.append(part)
            continue
        parts.append(" ".join([first, *(w for w in rest if w not in salt_words)]))
    return " / ".join(dict.fromkeys(parts))


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion or substitution,
    or one swap of neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


class DrugLexicon:
    """Lower-case drug names (one or more words) to :class:`DrugInfo`."""

    def __init__(
        self,
        include_package_lexicon: bool = True,
        rules: resources.DrugRules | None = None,
        brands: resources.BrandNames | None = None,
    ) -> None:
        rules = rules if rules is not None else resources.load("drugs.json")
        self._set_class_tables(rules)
        self._set_word_lists(rules)
        form_words = form_words_pattern(rules.form_words.words)
        self.names: dict[str, DrugInfo] = {}
        class_like = re.compile("|".join(rules.ignore_generic_patterns)) if rules.ignore_generic_patterns else None
        if include_package_lexicon:
            self._add_package_names(rules, form_words, class_like)
        if brands is not None:
            self._add_brand_names(brands)
        for entry in rules.drugs:
            drug_class = entry.drug_class or self.class_of(entry.generic)
            for name in entry.names:
                self.names[name.lower()] = DrugInfo(entry.generic, drug_class, "imr_nlp")
        self.max_words = max((n.count(" ") + 1 for n in self.names), default=1)
        self.lengths_from: dict[str, tuple[int, frozenset[int]]] = _lengths_by_leading_word(self.names)
        self._fuzzy_index: dict[str, str] | None = None
        self._guard: frozenset[str] | None = None
        self.english_min_count = rules.english_guard_min_count
        self.extra_guard: frozenset[str] = (
            frozenset(w.lower() for w in rules.fuzzy_guard.words) if (rules.fuzzy_guard) else frozenset()
        )
        self._fuzzy_cache: dict[str, DrugInfo | None] = {}
        self._fuzzy_longest: int | None = None

    def _set_class_tables(self, rules: resources.DrugRules) -> None:
        """The drug classes, class stems and DWC subcategories of the rules, read by ``class_of``."""
        self.classes: dict[str, str] = dict(rules.classes)
        # stem ending -> (class, DWC class); endings tried longest first ("piprazole" before "prazole")
        self.stems: dict[str, tuple[str | None, str]] = {
            st.suffix: (st.drug_class, st.dwc_subcategory) for st in rules.class_stems if not st.prefix
        }
        self.stem_lengths = sorted({len(suffix) for suffix in self.stems}, reverse=True)
        self.prefix_stems: dict[str, tuple[str | None, str]] = {
            st.suffix: (st.drug_class, st.dwc_subcategory) for st in rules.class_stems if st.prefix
        }
        self.prefix_lengths = sorted({len(stem) for stem in self.prefix_stems}, reverse=True)
        self.dwc_by_class: dict[str, str] = dict(rules.dwc_by_class)
        self.dwc_by_generic: dict[str, str] = dict(rules.dwc_by_generic)
        self.topical_agents: frozenset[str] = frozenset(rules.topical_agents)
        patches = rules.systemic_patch_classes
        self.systemic_patch_classes = frozenset(patches.classes) if patches else frozenset()
        self.patch_cues = frozenset(patches.cues) if patches else frozenset()

    def _set_word_lists(self, rules: resources.DrugRules) -> None:
        """The word lists of the rules: names to ignore, salt words, topical and skin cues, fuzzy length."""
        self.ignore: set[str] = {n.lower() for n in rules.ignore_names}
        self.fuzzy_min_length = rules.fuzzy_min_length
        self.topical_cues: tuple[str, ...] = tuple(rules.topical_cues)
        self.salt_words: frozenset[str] = frozenset(rules.salt_words)
        self.topical_before: tuple[str, ...] = tuple(w.lower() for w in rules.topical_before.words)
        topical_dwc = rules.topical_dwc_classes
        self.topical_dwc_classes: frozenset[str] | None = frozenset(topical_dwc.words) if topical_dwc else None
        self.not_skin_cues: frozenset[str] = (
            frozenset(w.lower() for w in rules.not_skin_cues.words) if (rules.not_skin_cues) else frozenset()
        )

    def _add_package_names(
        self, rules: resources.DrugRules, form_words: re.Pattern, class_like: re.Pattern | None
    ) -> None:
        """The drug NER package's name variants, as our generics with their classes: read from
        their stored file (:mod:`imr_nlp.stored_indexes`, keyed by these rules), built from the
        package (5-8 s) only where none was stored."""
        from imr_nlp.stored_indexes import stored

        names = stored(
            "drug_package_names",
            rules.model_dump(mode="json"),
            lambda: self._package_names(rules, form_words, class_like),
            lambda found: {variant: [info.generic, info.drug_class] for variant, info in found.items()},
            lambda data: {
                variant: DrugInfo(generic, drug_class, "lexicon") for variant, (generic, drug_class) in data.items()
            },
            packages=("drug-named-entity-recognition",),
            builders=(__name__,),
        )
        self.names.update(names)

    def _package_names(
        self, rules: resources.DrugRules, form_words: re.Pattern, class_like: re.Pattern | None
    ) -> dict[str, DrugInfo]:
        """Built from the package: its variants as our generics (no ignored name, class word or analyte)."""
        analytes = _package_analytes(tuple(rules.analyte_branches.words)) if rules.analyte_branches else frozenset()
        names: dict[str, DrugInfo] = {}
        for variant, canonicals in _package_variants().items():
            if variant in self.ignore or len(variant) < 3 or not canonicals or canonicals[0] in analytes:
                continue
            generic = without_salts(canonical_generic(canonicals[0], form_words), self.salt_words)
            if not generic or generic in self.ignore:
                continue
            if class_like and class_like.search(generic) and generic not in self.classes:
                continue
            names[variant] = DrugInfo(generic, self.class_of(generic), "lexicon")
        return names

    def _add_brand_names(self, brands: resources.BrandNames) -> None:
        """Names of the FDA's list the lexicon lacks ("Keflex", "Demerol"): the lexicon's own win."""
        for name, generic in brands.names.items():
            if name not in self.names and name not in self.ignore:
                self.names[name] = DrugInfo(generic, self.class_of(generic), "lexicon")

    def lookup(self, name: str) -> DrugInfo | None:
        """Exact (case-insensitive) lookup of a name of one or more words."""
        return self.names.get(" ".join(name.lower().split()))

    def _fuzzy_targets(self) -> dict[str, str]:
        """Every single-word lexicon name (not only those of classes we know), indexed by its
        one-letter deletions (the names of a deletion joined by ``_NAMES``); words of the guard
        never become targets. Read from its stored file (:mod:`imr_nlp.stored_indexes`, keyed by
        the target names themselves), built (about a second) only where none was stored."""
        if self._fuzzy_index is None:
            import hashlib

            from imr_nlp.stored_indexes import joined_table, split_table, stored

            guard = self.guard()
            targets = sorted(
                name
                for name in self.names
                if " " not in name and len(name) >= self.fuzzy_min_length - 1 and name.isalpha() and name not in guard
            )
            self._fuzzy_longest = max(map(len, targets), default=0)
            digest = hashlib.sha256(_NAMES.join(targets).encode()).hexdigest()
            # strings, which the garbage collector does not track (268k lists it would scan
            # again and again in a long run), read back without building an object per name
            self._fuzzy_index = stored(
                "drug_fuzzy_index",
                digest,
                lambda: _deletion_index(targets),
                lambda index: joined_table(index, _KEYS),
                lambda data: split_table(data, _KEYS),
                builders=(__name__,),
            )
        return self._fuzzy_index

    def _fuzzy_max_length(self) -> int:
        self._fuzzy_targets()
        return self._fuzzy_longest or 0

    def guard(self) -> frozenset[str]:
        """Words that are never read as a misspelt drug, unless they are drug names themselves:
        every word of the ICD-10-CM code set's descriptions and inclusion terms (medical words),
        the common English words of pyspellchecker's frequency list (``english_guard_min_count``),
        spaCy's English stop words and the drug rules' own ``fuzzy_guard`` words (built once, on
        first use)."""
        if self._guard is None:
            # drug names the code set uses ("Poisoning by tramadol") stay names
            real_words = code_set_words() | english_words(self.english_min_count)
            self._guard = real_words.difference(self.names) | self.extra_guard
        return self._guard

    def fuzzy(self, word: str) -> DrugInfo | None:
        """A misspelt single-word name ("Klonipin", "Levoquin") within edit distance one of a
        name of the lexicon; None for a word of the guard (a real word is not a misspelling),
        when no name is that close, or when two drugs are equally close."""
        w = word.lower()
        # longer than every name by more than one letter: no name is one edit away (and the
        # deletion variants of a long word would cost the square of its length)
        if not self.fuzzy_min_length <= len(w) <= self._fuzzy_max_length() + 1 or not w.isalpha() or w in self.ignore:
            return None
        if w in self._fuzzy_cache:
            return self._fuzzy_cache[w]
        if len(self._fuzzy_cache) >= _FUZZY_CACHE_SIZE:  # bounded: letters share most words
            self._fuzzy_cache.clear()
        self._fuzzy_cache[w] = info = None if w in self.guard() else self._fuzzy_uncached(w)
        return info

    def _fuzzy_uncached(self, w: str) -> DrugInfo | None:
        index = self._fuzzy_targets()
        candidates = {c for key in _deletes(w) if key in index for c in index[key].split(_NAMES)}
        hits = {self.names[c].generic for c in candidates if c[0] == w[0] and edit_distance_at_most_one(w, c)}
        if len(hits) != 1:
            return None
        generic = hits.pop()
        return DrugInfo(generic, self.classes.get(generic), "fuzzy")

    def drug_class(self, generic: str) -> str | None:
        return self.class_of(generic)

    def _stem(self, generic: str) -> tuple[str | None, str] | None:
        """(class, DWC class) of the first ingredient whose first word ends with a known stem."""
        for part in generic.split(" / "):
            word = part.split(" ")[0]
            for length in self.stem_lengths:
                if length <= len(word) and (found := self.stems.get(word[-length:])):
                    return found
            for length in self.prefix_lengths:
                if length <= len(word) and (found := self.prefix_stems.get(word[:length])):
                    return found
        return None

    def class_of(self, generic: str) -> str | None:
        """The drug class: our table, else the class its name's stem (USAN) says, per ingredient."""
        if generic in self.classes:
            return self.classes[generic]
        for part in generic.split(" / "):
            if part in self.classes:
                return self.classes[part]
        stem = self._stem(generic)
        return stem[0] if stem else None

    def dwc_of(self, generic: str, drug_class: str | None, topical: bool) -> str | None:
        """The DWC's Pharmaceuticals subcategory: a topical is a single agent ("Topical
        Analgesics") or compounded ("Topical Compounds"); else by generic, class or stem."""
        return self.dwc_with_evidence(generic, drug_class, topical)[0]

    def dwc_with_evidence(self, generic: str, drug_class: str | None, topical: bool) -> tuple[str | None, str | None]:
        """:meth:`dwc_of` and how it decided (Medication.class_by): "topical form", "drug table"
        or "drug stem"; (None, None) when no class is known."""
        parts = generic.split(" / ")
        if topical:
            single = len(parts) == 1 and parts[0] in self.topical_agents
            return ("Topical Analgesics" if single else "Topical Compounds"), "topical form"
        if generic in self.dwc_by_generic:
            return self.dwc_by_generic[generic], "drug table"
        if drug_class in self.dwc_by_class:
            listed = generic in self.classes or any(p in self.classes for p in parts)
            return self.dwc_by_class[drug_class], "drug table" if listed else "drug stem"
        for part in parts:
            if part in self.dwc_by_generic:
                return self.dwc_by_generic[part], "drug table"
            stem = self._stem(part)
            if stem:
                return stem[1], "drug stem"
        return None, None

    def topical_kind(self, generic: str, drug_class: str | None) -> bool:
        """Whether a drug on the skin is read as a topical analgesic or compound: an agent sold as
        a topical, or a drug whose own DWC class is an analgesic one or unknown (a steroid cream
        or an antibiotic ointment keeps its own class)."""
        if self.topical_dwc_classes is None:
            return True
        parts = generic.split(" / ")
        if len(parts) > 1 or parts[0] in self.topical_agents:
            return True
        own = self.dwc_of(generic, drug_class, topical=False)
        return own is None or own in self.topical_dwc_classes


def leading_word(text: str) -> str:
    """The leading run of lower-case letters and digits of ``text`` ("" if none)."""
    match = _LEADING_WORD.match(text)
    return match.group() if match else ""


def _lengths_by_leading_word(names: dict[str, DrugInfo]) -> dict[str, tuple[int, frozenset[int]]]:
    """Leading word -> (longest, all lengths) of its names: a text is looked up only if one could match.

    Most leading words lead names of one length (28,000 of 33,000): they share one entry per
    length instead of a set each (a third of the lexicon's build time)."""
    lengths: dict[str, int | set[int]] = {}
    for name in names:
        # a name of lower-case letters and digits only is its own leading word (most are)
        word = name if name.isascii() and name.isalnum() and name.islower() else leading_word(name)
        if not word:
            continue
        found = lengths.get(word)
        if found is None or found == len(name):
            lengths[word] = len(name)
        elif isinstance(found, int):
            lengths[word] = {found, len(name)}
        else:
            found.add(len(name))
    one_length = {n: (n, frozenset((n,))) for n in {found for found in lengths.values() if isinstance(found, int)}}
    return {
        word: one_length[found] if isinstance(found, int) else (max(found), frozenset(found))
        for word, found in lengths.items()
    }


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


_NAMES = "\x1f"  # joins the names of one deletion key (no name has it)
_KEYS = "\x1e"  # joins the keys (and the values) of the stored index: two strings, read fast
_WORDS = " "  # joins the stored English words (letters only)


def _deletion_index(names: list[str]) -> dict[str, str]:
    """Each one-letter deletion of the names (and each name) -> the names that give it."""
    index: dict[str, list[str]] = {}
    for name in names:
        for key in _deletes(name):
            index.setdefault(key, []).append(name)
    return {key: _NAMES.join(found) for key, found in index.items()}


@lru_cache(maxsize=2)
def english_words(min_count: int) -> frozenset[str]:
    """English words seen at least ``min_count`` times in the word-frequency list that the
    MIT-licensed ``pyspellchecker`` package ships (en.json.gz): the common words ("warrant",
    "ability", "precise") a misspelt drug name is never taken for (read from their stored file,
    :mod:`imr_nlp.stored_indexes`, as one string: decoding the package's list costs a tenth of
    a second of every start)."""
    from imr_nlp.stored_indexes import stored

    return stored(
        "english_words",
        min_count,
        lambda: _english_words(min_count),
        lambda words: _WORDS.join(sorted(words)),
        lambda joined: frozenset(joined.split(_WORDS)) if joined else frozenset(),
        packages=("pyspellchecker",),
        builders=(__name__,),
    )


def _english_words(min_count: int) -> frozenset[str]:
    import gzip
    import json
    from importlib import resources as package_files

    data = package_files.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
    counts = json.loads(gzip.decompress(data))
    return frozenset(w for w, n in counts.items() if n >= min_count and w.isalpha())


@lru_cache(maxsize=1)
def code_set_words() -> frozenset[str]:
    """Every lower-case word of the ICD-10-CM descriptions and inclusion terms, with spaCy's
    English stop words: the real words a misspelt drug name is never taken for (read from its
    stored file, :mod:`imr_nlp.stored_indexes`; built in about 4 s where none was stored)."""
    from imr_nlp.stored_indexes import stored

    return stored(
        "code_set_words",
        None,
        _code_set_words,
        sorted,
        frozenset,
        packages=("simple_icd_10_cm", "spacy"),
        builders=(__name__,),
    )


def _code_set_words() -> frozenset[str]:
    import simple_icd_10_cm as cm
    from spacy.lang.en.stop_words import STOP_WORDS

    words: set[str] = set(STOP_WORDS)
    for code in cm.get_all_codes(with_dots=True):
        for phrase in (cm.get_description(code), *cm.get_inclusion_term(code)):
            words.update(re.findall(r"[a-z]+", phrase.lower()))
    return frozenset(words)


def _package_variants() -> dict[str, list[str]]:
    """Variant -> canonical names from the drug NER package (loaded once, read-only)."""
    from drug_named_entity_recognition import drugs_finder

    return drugs_finder.drug_variant_to_canonical


@lru_cache(maxsize=4)
def _package_analytes(branches: tuple[str, ...]) -> frozenset[str]:
    """Canonical names of the drug NER package that are analytes, not drugs: no DrugBank or
    MedlinePlus id, and every MeSH tree number in one of ``branches`` ("C-reactive protein",
    "rheumatoid factor", "antinuclear antibodies")."""
    from drug_named_entity_recognition import drugs_finder

    return frozenset(
        name
        for name, data in drugs_finder.drug_canonical_to_data.items()
        if data.get("mesh_tree")
        and "drugbank_id" not in data
        and "medline_plus_id" not in data
        and all(tree.startswith(branches) for tree in data["mesh_tree"])
    )


@lru_cache(maxsize=2)
def default_lexicon(include_package_lexicon: bool = True) -> DrugLexicon:
    """The shared lexicon with the shipped brand-name table (built once per process; treat it
    as read-only)."""
    return DrugLexicon(include_package_lexicon, brands=resources.load("brand_names.json"))


def combine_generics(generics: list[str]) -> str:
    """Generic names of a combination product in order, joined with " / ", without repeats."""
    seen: list[str] = []
    for g in generics:
        for part in g.split(" / "):
            if part not in seen:
                seen.append(part)
    return " / ".join(seen)
