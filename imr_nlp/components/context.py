"""ConText assertions (negated, historical, hypothetical, uncertain, family) on drug and
diagnosis mentions, by medspaCy's ConText.

The rules are medspaCy's defaults plus ours (resources/context_rules.json, in medspaCy's rule
layout), so adding a cue is a data change. ConText reads the sentence boundaries set by
imr_sentences and sets ``span._.is_negated`` and friends on every target.
"""

import warnings

from medspacy.context import ConText, ConTextRule
from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp.components.base import RuleComponent
from imr_nlp.extensions import SPAN_GROUPS

_RULE_FIELDS = ("literal", "category", "pattern", "direction", "max_scope", "max_targets", "allowed_types",
                "excluded_types", "terminated_by", "metadata")


class IMRContext(RuleComponent):
    resource_names = ("context_rules.json",)

    def __init__(self, nlp: Language, name: str, include_medspacy_defaults: bool = True) -> None:
        self.nlp = nlp
        self.include_medspacy_defaults = include_medspacy_defaults
        super().__init__(name)

    def _compile(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            context = ConText(
                self.nlp,
                name=f"{self.name}_medspacy",
                rules="default" if self.include_medspacy_defaults else None,
                input_span_type="group",
                span_group_name=SPAN_GROUPS["context_targets"],
            )
        rules = []
        for data in self.rules["context_rules.json"].context_rules:
            kwargs = {k: v for k, v in data.items() if k in _RULE_FIELDS and v is not None}
            rules.append(ConTextRule(**kwargs))
        context.add(rules)
        self.context = context

    def match(self, doc: Doc) -> list[Span]:
        """Run ConText over the drug and diagnosis mentions; returns the targets it assessed."""
        targets = list(doc.spans.get(SPAN_GROUPS["drugs"], [])) + list(doc.spans.get(SPAN_GROUPS["diagnoses"], []))
        doc.spans[SPAN_GROUPS["context_targets"]] = sorted(targets, key=lambda s: (s.start, s.end))
        if targets:
            self.context(doc)
        return list(doc.spans[SPAN_GROUPS["context_targets"]])

    def set_annotations(self, doc: Doc, targets) -> Doc:
        # ConText stored modifier objects on the spans and the doc; keep only plain values.
        for span in targets:
            span._.modifiers = ()
        doc._.context_graph = None
        return doc


@Language.factory(
    "imr_context",
    assigns=["span._.is_negated", "span._.is_uncertain", "span._.is_historical", "span._.is_hypothetical",
             "span._.is_family"],
    default_config={"include_medspacy_defaults": True},
)
def make_context(nlp: Language, name: str, include_medspacy_defaults: bool) -> IMRContext:
    return IMRContext(nlp, name, include_medspacy_defaults)
