"""ConText assertions (negated, historical, hypothetical, uncertain, family) on drug and
diagnosis mentions.

The rules are medspaCy's default ConText rules (read from the installed medspaCy) plus ours in
``resources/context_rules.json``: forward and backward cues, pseudo-cues, terminators, and a few
direction changes to medspaCy's defaults ("resolved" looks backward, ": no" both ways). Adding
a cue is a data change.

The algorithm is ConText's (Harkema et al. 2009, as medspaCy implements it), with the faults
of medspaCy 1.3's implementation fixed:

* a cue inside a concept ("rectal exam ... showed no abnormalities") never modifies it (medspaCy's
  overlap test misses a cue contained in the target);
* PSEUDO cues are matched with the others, so the longest match wins and "no change in" hides
  "no", but they modify nothing and do not end other scopes;
* a cue's scope is its sentence in its direction, cut at the nearest terminator of its category,
  at the nearest cue of the same category, and at ``max_scope`` tokens.

Sentence boundaries come from ``imr_sentences``.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from imr_nlp import resources
from imr_nlp.components.base import RuleComponent, sentence_bounds, token_words
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import spans_of

# ConText category -> the Span extension it sets (the names medspaCy's ConText uses).
CATEGORY_ATTRIBUTES = {
    "NEGATED_EXISTENCE": "is_negated",
    "POSSIBLE_EXISTENCE": "is_uncertain",
    "HISTORICAL": "is_historical",
    "HYPOTHETICAL": "is_hypothetical",
    "FAMILY": "is_family",
}
_MODIFYING = frozenset({"FORWARD", "BACKWARD", "BIDIRECTIONAL"})


@cache
def _medspacy_default_rules() -> tuple[resources.ContextCue, ...]:
    """medspaCy's default English ConText rules, in our rule model: read from the file a ConText
    built with ``rules="default"`` reads, with medspaCy's own ``ConTextRule.from_json`` (the
    ConText itself, on a blank English pipeline, took 0.3 s of every start to give the same
    rules); where that file is not found, from such a ConText."""
    from medspacy.context import ConText, ConTextRule

    rules_file = _medspacy_rules_file()
    if rules_file.is_file():
        loaded = ConTextRule.from_json(rules_file)
    else:  # pragma: no cover - another medspaCy layout
        import spacy

        loaded = ConText(spacy.blank("en"), rules="default").rules
    return tuple(resources.ContextCue.model_validate(_rule_fields(rule)) for rule in loaded)


def _medspacy_rules_file() -> Path:
    """Where ConText's ``rules="default"`` reads medspaCy's English rules (medspacy/context's
    ``DEFAULT_RULES_FILEPATH``: the package's resources/en/context_rules.json)."""
    import medspacy.context.context as medspacy_context

    return Path(medspacy_context.__file__).resolve().parents[2] / "resources" / "en" / "context_rules.json"


def _rule_fields(rule) -> dict:
    """The fields of a medspaCy ConTextRule that our ContextRule model holds (sets as sorted lists)."""
    fields = {"literal": rule.literal, "category": rule.category, "direction": rule.direction}
    for name in ("pattern", "max_scope", "max_targets", "metadata"):
        if getattr(rule, name) is not None:
            fields[name] = getattr(rule, name)
    if rule.terminated_by:
        fields["terminated_by"] = sorted(rule.terminated_by)
    for name in ("allowed_types", "excluded_types"):
        if getattr(rule, name) is not None:
            fields[name] = sorted(getattr(rule, name))
    return fields


def medspacy_default_rules() -> list[resources.ContextCue]:
    """medspaCy's default ConText rules, validated with our rule model (frozen: a caller cannot
    change the defaults for everyone)."""
    return list(_medspacy_default_rules())


def effective_rules(rules: resources.ContextRules, include_medspacy_defaults: bool) -> list[resources.ContextCue]:
    """medspaCy's defaults (with our changes applied) followed by our own rules."""
    out: list[resources.ContextCue] = []
    if include_medspacy_defaults:
        changes = {(c.category, c.literal.lower()): c for c in rules.medspacy_changes}
        for rule in medspacy_default_rules():
            change = changes.pop((rule.category, rule.literal.lower()), None)
            if change is not None:
                update = {
                    "category": change.new_category,
                    "direction": change.direction,
                    "max_scope": change.max_scope,
                    "max_targets": change.max_targets,
                }
                rule = rule.model_copy(update={k: v for k, v in update.items() if v is not None})
            out.append(rule)
        if changes:
            raise ValueError(f"changes to medspaCy ConText rules that do not exist: {sorted(changes)}")
    out.extend(rules.context_rules)
    return [_with_terminating_types(rule, rules.terminating_types) for rule in out]


def _with_terminating_types(rule: resources.ContextCue, terminating_types: dict) -> resources.ContextCue:
    extra = terminating_types.get(rule.category)
    if not extra:
        return rule
    merged = sorted(set(rule.terminated_by or ()) | set(extra))
    return rule.model_copy(update={"terminated_by": merged})


_MAX_PHRASES = 2000


def expand_pattern(pattern: list[dict]) -> list[list[str]] | None:
    """The word sequences a Matcher pattern of lower-case words matches, when it only uses
    ``LOWER`` (a string or ``{"IN": [...]}``) and the optional operator ``"?"``; else None.
    Such patterns run on the PhraseMatcher, which is far faster than the Matcher."""
    sequences: list[list[str]] = [[]]
    for token in pattern:
        if set(token) - {"LOWER", "OP"} or token.get("OP", "!") not in ("!", "?"):
            return None
        value = token.get("LOWER")
        if isinstance(value, str):
            options = [value]
        elif isinstance(value, dict) and set(value) == {"IN"}:
            options = list(value["IN"])
        else:
            return None
        extended = [seq + [option] for seq in sequences for option in options]
        sequences = extended + (sequences if token.get("OP") == "?" else [])
        if len(sequences) > _MAX_PHRASES:
            return None
    return [seq for seq in sequences if seq]


@dataclass(frozen=True)
class Cue:
    """A matched ConText cue and the token range it modifies."""

    start: int
    end: int
    category: str
    direction: str
    rule: int  # index into the component's effective rule list
    scope_start: int = 0
    scope_end: int = 0

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


CONTRACT = declare(
    Contract(
        factory="imr_context",
        reads=(),
        reads_if_present=(
            "spans:drugs",
            "spans:diagnoses",
            "spans:problems",
            "doc.sents",
        ),
        writes=(
            "spans:context_targets",
            "span._.is_negated",
            "span._.is_uncertain",
            "span._.is_historical",
            "span._.is_hypothetical",
            "span._.is_family",
            "span._.context_cues",
        ),
        rule_files=("context_rules.json",),
        scores=("assertions",),
    )
)


class IMRContext(RuleComponent):
    contract = CONTRACT

    def __init__(self, nlp: Language, name: str, include_medspacy_defaults: bool = True, **settings) -> None:
        self.include_medspacy_defaults = include_medspacy_defaults
        super().__init__(nlp, name, **settings)

    def _compile(self) -> None:
        self.context_rules = effective_rules(self.rules[self.resource_names[0]], self.include_medspacy_defaults)
        # Literal cues go to a PhraseMatcher (hash lookups), patterns to a Matcher, as medspaCy
        # splits them; both match lower-cased tokens.
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.matcher = Matcher(self.nlp.vocab)
        for index, rule in enumerate(self.context_rules):
            if not rule.pattern:
                # Tokenised by the pipeline's own tokenizer so "s/p" or "-ve" split alike.
                self.phrase_matcher.add(str(index), [self.nlp.make_doc(rule.literal)])
            elif (phrases := expand_pattern(rule.pattern)) is not None:
                self.phrase_matcher.add(str(index), [Doc(self.nlp.vocab, words=words) for words in phrases])
            else:
                self.matcher.add(str(index), [rule.pattern])

    def _matches(self, doc: Doc, start: int, end: int) -> list[tuple[int, int, int]]:
        """Matches in tokens [start, end) at doc offsets (spaCy's Matcher gives offsets relative to
        a span, its PhraseMatcher gives doc offsets)."""
        span = doc[start:end]
        relative = []
        if len(self.matcher):  # empty when every pattern expanded to phrases
            relative = [(match_id, s + start, e + start) for match_id, s, e in self.matcher(span)]
        return relative + [(m, s, e) for m, s, e in self.phrase_matcher(span) if start <= s and e <= end]

    # -- matching -----------------------------------------------------------------------------
    def cues(self, doc: Doc, targets: list[Span] | None = None) -> list[Cue]:
        """The cues of the sentences holding ``targets`` (of every sentence if None), longest
        match winning where two overlap, each with its scope set.

        Cues inside a target are dropped first: "free" in "free air" is part of the concept, so
        it neither modifies it nor ends the scope of the "no" before it.
        """
        targets = list(targets) if targets is not None else None
        out: list[Cue] = []
        in_target = _covered(targets or (), len(doc))
        for sentence in _sentences(doc, targets):
            out.extend(self._sentence_cues(doc, sentence, in_target))
        return out

    def _sentence_cues(self, doc: Doc, sentence: tuple[int, int], in_target: bytearray) -> list[Cue]:
        sent_start, sent_end = sentence
        found = []
        for match_id, start, end in self._matches(doc, sent_start, sent_end):
            if any(in_target[start:end]):
                continue
            index = int(self.nlp.vocab.strings[match_id])
            rule = self.context_rules[index]
            found.append(Cue(start, end, rule.category, rule.direction, index))
        kept: list[Cue] = []
        taken = bytearray(sent_end - sent_start)
        terminators: set[tuple[int, int]] = set()
        for cue in sorted(found, key=lambda c: (c.start - c.end, c.start)):
            if not any(taken[cue.start - sent_start : cue.end - sent_start]):
                kept.append(cue)
                taken[cue.start - sent_start : cue.end - sent_start] = b"\x01" * (cue.end - cue.start)
                if cue.direction == "TERMINATE":
                    terminators.add((cue.start, cue.end))
            elif cue.direction == "TERMINATE" and (cue.start, cue.end) in terminators:
                kept.append(cue)  # one terminator ends the scopes of several categories (";")
        kept.sort(key=lambda c: c.start)
        # Per category, the cues' starts and ends in order (kept cues do not overlap, so both are
        # sorted): the cue that ends a scope is found by bisection, not by a scan of every cue.
        by_category: dict[str, tuple[list[int], list[int]]] = {}
        for cue in kept:
            starts, ends = by_category.setdefault(cue.category, ([], []))
            starts.append(cue.start)
            ends.append(cue.end)
        parentheses = _parentheses(doc, sentence)
        return [self._with_scope(cue, by_category, parentheses.get(cue.start, sentence)) for cue in kept]

    def _with_scope(self, cue: Cue, by_category: dict[str, tuple[list[int], list[int]]], sentence) -> Cue:
        """``cue`` with its scope: ``sentence`` (or the parenthesis it sits in) in its direction,
        cut at the nearest cue that ends it and at the rule's ``max_scope``."""
        if cue.direction not in _MODIFYING:
            return cue
        rule = self.context_rules[cue.rule]
        sent_start, sent_end = sentence
        ending = [by_category[c] for c in {rule.category, *(rule.terminated_by or ())} if c in by_category]
        start, end = cue.start, cue.end
        if cue.direction in ("BACKWARD", "BIDIRECTIONAL"):
            start = sent_start
            for _, ends in ending:  # the last cue that ends at or before this one starts
                i = bisect_right(ends, cue.start) - 1
                if i >= 0 and ends[i] > start:
                    start = ends[i]
            if rule.max_scope:
                start = max(start, cue.start - rule.max_scope)
        if cue.direction in ("FORWARD", "BIDIRECTIONAL"):
            end = sent_end
            for starts, _ in ending:  # the first cue that starts at or after this one ends
                i = bisect_left(starts, cue.end)
                if i < len(starts) and starts[i] < end:
                    end = starts[i]
            if rule.max_scope:
                end = min(end, cue.end + rule.max_scope)
        return Cue(cue.start, cue.end, cue.category, cue.direction, cue.rule, start, end)

    def _modifies(self, cue: Cue, target: Span) -> bool:
        if cue.direction not in _MODIFYING or cue.overlaps(target.start, target.end):
            return False
        if not (cue.scope_start < target.end and target.start < cue.scope_end):
            return False
        rule = self.context_rules[cue.rule]
        label = target.label_.upper()
        if rule.allowed_types is not None and label not in {t.upper() for t in rule.allowed_types}:
            return False
        return rule.excluded_types is None or label not in {t.upper() for t in rule.excluded_types}

    def _all_edges(self, cues: list[Cue], targets: list[Span]) -> list[list[Cue]]:
        """The cues that modify each of ``targets`` (sorted by start), by a sweep over the
        scopes: each target meets only the scopes open where it lies (a few per category, as
        a cue's scope ends at the next cue of its category), so this is linear, not cues x targets."""
        scoped = sorted((c for c in cues if c.direction in _MODIFYING), key=lambda c: c.scope_start)
        out: list[list[Cue]] = []
        open_cues: list[Cue] = []
        next_cue = 0
        for target in targets:
            while next_cue < len(scoped) and scoped[next_cue].scope_start < target.end:
                open_cues.append(scoped[next_cue])
                next_cue += 1
            open_cues = [c for c in open_cues if c.scope_end > target.start]
            out.append(sorted((c for c in open_cues if self._modifies(c, target)), key=lambda c: c.start))
        return out

    def match(self, doc: Doc, targets: list[Span] | None = None) -> list[tuple[Span, list[Cue]]]:
        """The drug and diagnosis mentions (or ``targets``) with the cues that modify each."""
        if targets is None:
            targets = [span for group in ("drugs", "diagnoses", "problems") for span in spans_of(doc, group)]
        targets = sorted(targets, key=lambda s: (s.start, s.end))
        cues = self.cues(doc, targets) if targets else []
        pairs = list(zip(targets, self._all_edges(cues, targets), strict=True))
        return self._limit_targets(pairs)

    def _limit_targets(self, pairs: list[tuple[Span, list[Cue]]]) -> list[tuple[Span, list[Cue]]]:
        """Drop cues whose rule has ``max_targets`` from all but their nearest targets."""
        reached: dict[int, list[tuple[int, int, int]]] = {}  # cue -> (distance, start, pair index)
        for index, (target, modifiers) in enumerate(pairs):
            for cue in modifiers:
                if self.context_rules[cue.rule].max_targets:
                    reached.setdefault(id(cue), []).append((_distance(cue, target), target.start, index))
        allowed: set[tuple[int, int]] = set()
        for cue_id, hits in reached.items():
            cue = next(c for c in pairs[hits[0][2]][1] if id(c) == cue_id)
            allowed.update((cue_id, index) for _, _, index in sorted(hits)[: self.context_rules[cue.rule].max_targets])
        return [
            (
                target,
                [c for c in modifiers if not self.context_rules[c.rule].max_targets or (id(c), index) in allowed],
            )
            for index, (target, modifiers) in enumerate(pairs)
        ]

    def set_annotations(self, doc: Doc, matches: list[tuple[Span, list[Cue]]]) -> Doc:
        self.write_spans(doc, "context_targets", [target for target, _ in matches])
        for target, modifiers in matches:
            ext = target._  # one Underscore object for the six writes
            set_categories = {cue.category for cue in modifiers}
            for category, attribute in CATEGORY_ATTRIBUTES.items():
                setattr(ext, attribute, category in set_categories)
            ext.context_cues = [
                {"category": cue.category, "cue": doc[cue.start : cue.end].text, "direction": cue.direction}
                for cue in modifiers
            ]
        return doc

    def explain(self, doc: Doc) -> list[dict]:
        """Every cue in ``doc`` with its category, direction and scope text (for debugging rules)."""
        return [
            {
                "cue": doc[c.start : c.end].text,
                "category": c.category,
                "direction": c.direction,
                "scope": doc[c.scope_start : c.scope_end].text,
            }
            for c in self.cues(doc)
        ]


def _distance(cue: Cue, target: Span) -> int:
    if target.start >= cue.end:
        return target.start - cue.end
    return max(0, cue.start - target.end)


def _covered(spans, length: int) -> bytearray:
    """One byte per token of a doc of ``length`` tokens: 1 where a token lies inside a span."""
    covered = bytearray(length)
    for span in spans:
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
    return covered


def _parentheses(doc: Doc, sentence: tuple[int, int]) -> dict[int, tuple[int, int]]:
    """For each token inside a closed parenthesis of ``sentence``, the inside of its innermost
    one: "(slides not submitted) indicates leukemia" does not negate leukemia. One pass with a
    stack; tokens outside any parenthesis are not in the map (their scope is the sentence)."""
    sent_start, sent_end = sentence
    words = token_words(doc)[0]
    inside: dict[int, tuple[int, int]] = {}
    stack: list[tuple[int, list[int]]] = []  # (index of "(", tokens seen directly inside it)
    for i in range(sent_start, sent_end):
        text = words[i]
        if text == "(":
            stack.append((i, []))
        elif text == ")" and stack:
            opened, tokens = stack.pop()
            for j in tokens:
                inside[j] = (opened + 1, i)
            if stack:  # the parenthesis marks themselves lie directly inside the outer one
                stack[-1][1].extend((opened, i))
        elif stack:
            stack[-1][1].append(i)
    return inside


def _sentences(doc: Doc, targets: list[Span] | None) -> list[tuple[int, int]]:
    """(start, end) of the sentences holding ``targets``, in order (every sentence if None; the
    whole doc when no sentence boundaries are set)."""
    if not len(doc):
        return []
    if not doc.has_annotation("SENT_START"):
        return [(0, len(doc))]
    sentences = sentence_bounds(doc)
    if targets is None:
        return sentences
    starts = [start for start, _ in sentences]
    bounds = set()
    for target in targets:  # the sentence of each target by bisection: linear in the targets
        start, end = sentences[max(0, bisect_right(starts, target.start) - 1)]
        bounds.add((start, max(end, target.end)))
    return sorted(bounds)


@Language.factory(
    "imr_context",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"include_medspacy_defaults": True, "span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_context(
    nlp: Language, name: str, include_medspacy_defaults: bool, span_keys: dict[str, str], scorer: Callable[..., dict]
) -> IMRContext:
    return IMRContext(nlp, name, include_medspacy_defaults, span_keys=span_keys, scorer=scorer)
