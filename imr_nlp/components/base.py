"""Shared serialisation for rule components: rules are data, written to and read from disk."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import srsly
from spacy.attrs import IDX, LENGTH, SPACY
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from imr_nlp import resources
from imr_nlp.components.contract import LOOKUPS, SPANS, Contract
from imr_nlp.doc_views import SpanIndex, doc_text, remember_text  # noqa: F401 - the components' helpers
from imr_nlp.extensions import SHARED_TABLES, SPAN_GROUPS, set_spans, shared_table, span_key

# Docs per batch in Component.pipe: small, since nlp.pipe holds a batch per component in flight.
PIPE_BATCH = 8


class Component:
    """A pipeline component split into ``match`` (testable alone) and ``set_annotations``.
    It has no rules of its own, so serialising it writes nothing.

    ``contract`` (``imr_nlp.components.contract.Contract``) says what the component reads and
    writes: a doc without one of its inputs (a pipeline whose components were reordered or left
    out, or a component run alone) is refused with an error naming the component that produces
    it, never read as empty."""

    contract: Contract | None = None

    def __init__(
        self,
        nlp: Language,
        name: str,
        span_keys: dict[str, str] | None = None,
        scorer: Callable[..., dict] | None = None,
    ) -> None:
        self.nlp = nlp
        self.name = name
        self.span_keys = self._checked_span_keys(span_keys or {})
        self.scorer = scorer
        self._inputs = _input_checks(self.contract) if self.contract is not None else ()

    def _checked_span_keys(self, span_keys: dict[str, str]) -> dict[str, str]:
        """The ``span_keys`` setting (group -> key in ``doc.spans``, as SpanRuler's
        ``spans_key``), refused when it names a group the component does not write or a key
        that is not a non-empty string."""
        written = self.contract.span_groups_written() if self.contract is not None else ()
        if unknown := sorted(group for group in span_keys if group not in written):
            raise ValueError(
                f"{self.name}: span_keys names {', '.join(unknown)}, which it does not write "
                f"(it writes {', '.join(written) or 'no span group'})"
            )
        if bad := sorted(group for group, key in span_keys.items() if not isinstance(key, str) or not key):
            raise ValueError(f"{self.name}: span_keys gives {', '.join(bad)} no key (a non-empty string)")
        return dict(span_keys)

    def shared(self, doc: Doc, name: str):
        """A table another component shares through the vocabulary (``SHARED_TABLES``); a doc
        whose pipeline has no producer of it is refused, naming the producer."""
        table = shared_table(doc.vocab, name)
        if table is None:
            self._refuse(LOOKUPS + name)
        return table

    def write_spans(self, doc: Doc, group: str, spans) -> None:
        """Write a group this component produces, under its configured key."""
        set_spans(doc, group, spans, self.span_keys.get(group))

    def __call__(self, doc: Doc) -> Doc:
        self.check_inputs(doc)
        return self.set_annotations(doc, self.match(doc))

    def check_inputs(self, doc: Doc) -> None:
        """Raise the error of the first input the doc lacks (see the class docstring)."""
        for name, present in self._inputs:
            if not present(doc):
                self._refuse(name)

    def _refuse(self, name: str) -> None:
        from imr_nlp.components.contract import producers

        makers = " and ".join(producers().get(name, []))
        what = describe(name)
        made = f"{makers} writes it and must run before {self.name}" if makers else "no component writes it"
        raise ValueError(
            f"{self.name} reads {what}, which the doc does not have: {made} (imr_nlp.pipeline.PIPELINE gives the order)"
        )

    def pipe(self, docs: Iterable[Doc], batch_size: int = 8) -> Iterator[Doc]:
        """Process docs ``PIPE_BATCH`` at a time, so that in ``nlp.pipe`` each component runs over
        a small batch before the next one starts: its code and data stay in the CPU caches (about
        20% faster than one doc through the whole pipeline at a time). ``batch_size`` (spaCy's
        buffer size, 1000 by default) is not used: a batch per component is held in flight."""
        for batch in minibatch(docs, size=PIPE_BATCH):
            yield from [self(doc) for doc in batch]

    def score(self, examples, **kwargs) -> dict:
        """spaCy's scorer hook (``nlp.evaluate``): the slots of the output contract this
        component fills, against the gold carried by each Example, by its ``scorer`` setting
        (``imr_nlp.scorer.v1``: ``imr_nlp.scoring.score_slots``), keyed by factory name."""
        if self.scorer is None or self.contract is None or not self.contract.scores:
            return {}
        return self.scorer(examples, factory=self.contract.factory, slots=self.contract.scores, **kwargs)

    def match(self, doc: Doc):  # pragma: no cover - overridden
        raise NotImplementedError

    def set_annotations(self, doc: Doc, matches) -> Doc:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_disk(self, path, exclude=()) -> None:
        pass

    def from_disk(self, path, exclude=()):
        return self


class RuleComponent(Component):
    """A pipeline component whose behaviour is fully described by resource files.

    Subclasses declare their resource files in their contract's ``rule_files`` and rebuild
    their matchers in ``_compile``. ``to_disk`` writes the rules as JSON; ``from_disk`` validates and loads them,
    so a saved pipeline carries its own rules and gives identical results.
    """

    @property
    def resource_names(self) -> tuple[str, ...]:
        """The rule files, as the component's contract declares them."""
        return self.contract.rule_files if self.contract is not None else ()

    def __init__(self, nlp: Language, name: str, **settings) -> None:
        super().__init__(nlp, name, **settings)
        self.rules: dict[str, object] = {n: resources.load(n) for n in self.resource_names}
        self._compile()

    def _compile(self) -> None:  # pragma: no cover - overridden
        pass

    def to_disk(self, path, exclude=()) -> None:
        """Write the rules, one file each (JSON or JSON lines), unless ``"rules"`` is excluded."""
        if "rules" in exclude:
            return
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name, model in self.rules.items():
            data = resources.to_data(name, model)
            if name.endswith(".jsonl"):
                srsly.write_jsonl(path / name, data)
            else:
                srsly.write_json(path / name, data)

    def from_disk(self, path, exclude=()):
        """Load every rule file from ``path``, validated; a missing one is an error (never a
        silent fall-back to the package's copy: the saved pipeline is the one source of its
        rules). The rules are replaced whole, then compiled."""
        if "rules" in exclude:
            return self
        path = Path(path)
        data = {}
        for name in self.resource_names:
            file = path / name
            if not file.exists():
                raise ValueError(f"{self.name}: the saved pipeline has no rule file {file}")
            data[name] = (
                list(srsly.read_jsonl(file))
                if name.endswith(".jsonl")
                else json.loads(file.read_text(encoding="utf-8"))
            )
        return self._load_rules(data)

    def to_bytes(self, exclude=()) -> bytes:
        """The rules as bytes (``nlp.to_bytes``), unless ``"rules"`` is excluded."""
        rules = {} if "rules" in exclude else {n: resources.to_data(n, m) for n, m in self.rules.items()}
        # JSON, not msgpack: medspaCy's global msgpack decoders would turn any rule holding a
        # "section" or "modifiers" key into its own objects
        return srsly.json_dumps(rules).encode("utf-8")

    def from_bytes(self, data: bytes, exclude=()):
        """Load the rules written by ``to_bytes``; every rule file must be there."""
        if "rules" in exclude:
            return self
        rules = srsly.json_loads(data.decode("utf-8"))
        if missing := [name for name in self.resource_names if name not in rules]:
            raise ValueError(f"{self.name}: the serialized pipeline has no rule file {', '.join(missing)}")
        return self._load_rules(rules)

    def initialize(self, get_examples=None, *, nlp: Language | None = None, rules: dict | None = None) -> None:
        """spaCy's initialize hook (``nlp.initialize``, with settings from the config's
        ``[initialize.components.NAME]``): ``rules`` (file name -> data as ``to_disk`` writes
        it) replace those rule files whole, validated; the other files keep their rules, and no
        ``rules`` leaves every rule as it is (unlike SpanRuler, which starts empty, a component
        starts with the package's rules)."""
        if rules:
            self.replace_rules(rules)

    def replace_rules(self, rules: dict) -> None:
        """Replace whole rule files (file name -> data), validated before anything changes."""
        if unknown := sorted(set(rules) - set(self.resource_names)):
            raise ValueError(
                f"{self.name}: no rule file {', '.join(unknown)} (its files: {', '.join(self.resource_names)})"
            )
        current = {name: resources.to_data(name, model) for name, model in self.rules.items()}
        self._load_rules({**current, **rules})

    def add_rules(self, file: str, entries: list[dict], field: str | None = None) -> None:
        """Add entries to one rule file, as SpanRuler's ``add_patterns`` adds patterns: a
        ``.jsonl`` file's entries, or the list ``field`` of a ``.json`` file. The file is
        validated whole (every entry with its examples) before it replaces the current rules,
        so a bad entry changes nothing; the package's own copy is never touched."""
        if file not in self.resource_names:
            raise ValueError(f"{self.name}: no rule file {file} (its files: {', '.join(self.resource_names)})")
        data = resources.to_data(file, self.rules[file])  # a fresh copy
        if file.endswith(".jsonl"):
            data = [*data, *entries]
        else:
            lists = sorted(key for key, value in data.items() if isinstance(value, list))
            if field not in lists:
                raise ValueError(f"{self.name}: {file} takes entries in one of its lists: {', '.join(lists)}")
            data[field] = [*data[field], *entries]
        self.replace_rules({file: data})

    def _load_rules(self, data: dict) -> RuleComponent:
        self.rules = {name: resources.validate(name, data[name]) for name in self.resource_names}
        self._compile()
        return self


def describe(name: str) -> str:
    """A contract's name as a user reads it: ``spans:items`` is ``doc.spans['imr_items']``."""
    if name.startswith(SPANS):
        return f"doc.spans[{SPAN_GROUPS[name[len(SPANS) :]]!r}]"
    if name.startswith(LOOKUPS):
        return f"doc.vocab.lookups[{SHARED_TABLES[name[len(LOOKUPS) :]]!r}]"
    return name


def _input_checks(contract: Contract) -> tuple[tuple[str, Callable[[Doc], bool]], ...]:
    """For each input of a contract that a doc can be checked for (span groups, sentences and
    doc extensions that a producer sets), the check; span extensions are read per span, and
    span groups checked, so they need none."""
    checks = []
    for name in contract.reads:
        if name.startswith(SPANS):
            group = name[len(SPANS) :]
            checks.append((name, lambda doc, group=group: span_key(doc, group) in doc.spans))
        elif name.startswith(LOOKUPS):
            table = name[len(LOOKUPS) :]
            checks.append((name, lambda doc, table=table: shared_table(doc.vocab, table) is not None))
        elif name == "doc.sents":
            checks.append((name, lambda doc: doc.has_annotation("SENT_START")))
        elif name.startswith("doc._."):
            attribute = name[len("doc._.") :]
            checks.append((name, lambda doc, attribute=attribute: getattr(doc._, attribute) is not None))
    return tuple(checks)


_SENTENCES_KEY = "imr_nlp.sentences"


def remember_sentences(doc: Doc, starts: list[int]) -> None:
    """Record the sentence starts a sentence splitter set, for :func:`sentence_bounds`."""
    doc.user_data[_SENTENCES_KEY] = (len(doc), list(starts))


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """(start, end) token offsets of the doc's sentences: from the starts ``imr_sentences``
    recorded when it set them (iterating ``doc.sents`` makes a Span per sentence), else from
    ``doc.sents``."""
    cached = doc.user_data.get(_SENTENCES_KEY)
    if cached is not None and cached[0] == len(doc):
        starts = cached[1]
        return list(zip(starts, [*starts[1:], len(doc)], strict=True))
    return [(sent.start, sent.end) for sent in doc.sents]


_WORDS_KEY = "imr_nlp.words"


def token_words(doc: Doc) -> tuple[list[str], list[str], list[int]]:
    """Every token's text, trailing white space and character offset as plain lists, read once
    per doc and shared by the components that loop over tokens (Token attributes are slow to
    read from Python)."""
    cached = doc.user_data.get(_WORDS_KEY)
    if cached is None or len(cached[0]) != len(doc):
        # one array read instead of a Token object per token and attribute; the words are
        # sliced from the text (faster than looking each up in the string store)
        text = doc_text(doc)
        rows = doc.to_array([IDX, LENGTH, SPACY])
        starts = rows[:, 0].tolist()
        words = [text[start:end] for start, end in zip(starts, (rows[:, 0] + rows[:, 1]).tolist(), strict=True)]
        spaces = [" " if space else "" for space in rows[:, 2].tolist()]
        cached = (words, spaces, starts)
        doc.user_data[_WORDS_KEY] = cached
    return cached


def overlaps_any(start: int, end: int, regions: list[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps one of ``regions`` (sorted, not overlapping)."""
    i = bisect_right(regions, (end, -1)) - 1  # the last region starting before ``end``
    return i >= 0 and regions[i][1] > start


def char_span(doc: Doc, start: int, end: int, label: str = "") -> Span | None:
    """A span covering the characters [start, end), expanded to token boundaries."""
    text = doc_text(doc)
    start = max(0, start)
    end = min(len(text), end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start:
        return None
    return doc.char_span(start, end, label=label, alignment_mode="expand")


def labelled_span(doc: Doc, start: int, end: int, label: str, **extensions) -> Span | None:
    """:func:`char_span` with its label and extension values set; None when no span fits."""
    span = char_span(doc, start, end, label=label)
    if span is not None:
        underscore = span._
        for name, value in extensions.items():
            setattr(underscore, name, value)
    return span
