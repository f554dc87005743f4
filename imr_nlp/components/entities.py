"""Entities: the non-overlapping view of the mentions, in ``doc.ents``.

The span groups hold every mention, overlaps included (a drug inside a decision item, a date
inside a citation). ``doc.ents`` holds one reading of each stretch of text, so spaCy's own tools
work on it: ``displacy.render(doc, style="ent")``, medspaCy's visualiser, ``ent._.is_negated``.
Which groups feed it, and their priority where spans overlap, are data (resources/entities.json):
the span of the higher group wins, then the longer span. Each entity keeps its group span's
label and extension values (spaCy keys them by offsets and label); its first token gets
medspaCy's ``token._.section``, so ``ent._.section_category`` names the section it lies in, as
after medspaCy's Sectionizer.
"""

from bisect import bisect_right
from collections.abc import Callable

from medspacy.section_detection import Section, SectionRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp.components.base import RuleComponent
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import SPAN_GROUPS, spans_of

CONTRACT = declare(
    Contract(
        factory="imr_entities",
        reads=("spans:sections",),
        reads_if_present=(
            "spans:drugs",
            "spans:doses",
            "spans:diagnoses",
            "spans:problems",
            "spans:dates",
            "spans:body_sites",
            "spans:citations",
        ),
        writes=("doc.ents", "token._.section"),
        rule_files=("entities.json",),
        scores=(),
    )
)


class IMREntities(RuleComponent):
    contract = CONTRACT

    def score(self, examples, **kwargs) -> dict:
        """spaCy's entity scores (``ents_p``, ``ents_r``, ``ents_f``, ``ents_per_type``) of
        ``doc.ents`` against the Examples' reference entities (``Example.from_dict(doc,
        {"entities": ...})``), by the ``scorer`` setting (``spacy.ner_scorer.v1``, the entity
        recognizer's own): ``nlp.evaluate`` scores the entities as it would an ``ner`` pipe's.
        Examples without entity annotation are not counted (all None when none has any)."""
        return self.scorer(examples, **kwargs) if self.scorer is not None else {}

    def _compile(self) -> None:
        rules = self.rules["entities.json"]
        unknown = [g.group for g in rules.groups if g.group not in SPAN_GROUPS]
        if unknown:
            raise ValueError(f"{self.name}: unknown span groups {unknown} (keys of SPAN_GROUPS)")
        self.groups = [(g.group, frozenset(g.labels) if g.labels else None) for g in rules.groups]

    def match(self, doc: Doc) -> list[Span]:
        """The entities: spans of the groups by priority, then length, none overlapping another."""
        ranked = []
        for priority, (group, labels) in enumerate(self.groups):
            for span in spans_of(doc, group):
                start, end = span.start, span.end
                if end > start and (labels is None or span.label_ in labels):
                    ranked.append((priority, start - end, start, end, span))
        ranked.sort(key=lambda r: r[:3])
        taken: set[int] = set()
        out = []
        for _, _, start, end, span in ranked:
            tokens = range(start, end)
            if taken.isdisjoint(tokens):
                taken.update(tokens)
                out.append((start, span))
        return [span for _, span in sorted(out, key=lambda pair: pair[0])]

    def set_annotations(self, doc: Doc, entities: list[Span]) -> Doc:
        doc.ents = entities
        sections = sorted((s.start, s.end, s.label_) for s in spans_of(doc, "sections"))
        starts = [s[0] for s in sections]
        found: dict[int, Section] = {}
        for ent in entities:
            first = ent.start
            i = bisect_right(starts, first) - 1
            if i >= 0 and first < sections[i][1]:
                if i not in found:
                    start, end, label = sections[i]
                    # with its rule, as medspaCy's Sectionizer gives it: medspaCy's deserialiser
                    # (Doc.from_bytes, DocBin, nlp.pipe(n_process=N)) cannot read a Section without one
                    found[i] = Section(label, start, start + 1, start, end, rule=SectionRule(label, label))
                # medspaCy reads a span's section from its first token (the Sectionizer sets
                # every token's; only the entities' first tokens need it here)
                doc[first]._.section = found[i]
        return doc


@Language.factory(
    "imr_entities",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"scorer": {"@scorers": "spacy.ner_scorer.v1"}},
)
def make_entities(nlp: Language, name: str, scorer: Callable[..., dict] | None) -> IMREntities:
    return IMREntities(nlp, name, scorer=scorer)
