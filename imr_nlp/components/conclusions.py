"""The reviewer's conclusion on each decision, and warnings for a letter that seems cut short.

A rationale's conclusion is its last statement of (no) medical necessity, found by
``imr_decisions`` (``doc.spans["imr_necessity"]``). A statement of polarity "context" ("...
medically necessary") is positive unless a ConText negation cue reaches it ("is not seen as
medically necessary"): this component is ConText (the algorithm of ``imr_context``) over those
statements, with its own cues (resources/conclusions.json), whose scope is a few words.

Sets ``conclusion`` (what the rationale concludes: necessary, not, or None) and
``medically_necessary`` in each item's ``span._.decision``, and ``span._.is_negated`` on the
statements. ``medically_necessary`` never contradicts the item's outcome: where the outcome is
read (upheld: not necessary; overturned: necessary) it is the outcome's meaning, and a conclusion
that says otherwise is a warning; where it is not, the conclusion. Warns (``doc._.imr_warnings``)
too when a letter has a letter's sections but no decisions, a decisions section without an item,
a decision without a rationale, or a last rationale that ends mid-sentence or states no conclusion.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp import errors
from imr_nlp.components.base import doc_text
from imr_nlp.components.context import IMRContext
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import spans_of, warn
from imr_nlp.normalize.sentences import SentenceEnds, sentence_ends_from

# The outcomes an item's label can be, and what they mean: "overturned" is medically necessary.
OUTCOMES = ("upheld", "overturned")


@dataclass
class Conclusions:
    """What ``match`` found: per statement (by offsets) whether a cue negates it, per item
    index the rationale's conclusion and medical necessity, and the warnings."""

    negated: dict[tuple[int, int], bool] = field(default_factory=dict)
    conclusion: dict[int, bool | None] = field(default_factory=dict)
    necessary: dict[int, bool | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


CONTRACT = declare(
    Contract(
        factory="imr_conclusions",
        reads=(
            "spans:sections",
            "spans:items",
            "spans:parts",
            "spans:necessity",
            "span._.decision",
            "span._.block_index",
            "span._.necessity_polarity",
            "vocab.lookups:sentence_ends",
        ),
        reads_if_present=(
            "doc.sents",
            "doc._.layout",
            "doc._.layout_read_as_primary",
        ),
        writes=("span._.decision", "span._.is_negated", "doc._.imr_warnings"),
        rule_files=("conclusions.json",),
        scores=("decision.medically_necessary",),
    )
)


class IMRConclusions(IMRContext):
    contract = CONTRACT

    def __init__(self, nlp: Language, name: str, **settings) -> None:
        super().__init__(nlp, name, include_medspacy_defaults=False, **settings)

    def _compile(self) -> None:
        super()._compile()
        self.letter_sections = frozenset(self.rules["conclusions.json"].letter_sections)

    def match(self, doc: Doc) -> Conclusions:  # type: ignore[override]
        statements = list(spans_of(doc, "necessity"))
        found = Conclusions()
        contextual = [s for s in statements if s._.necessity_polarity == "context"]
        for target, cues in super().match(doc, contextual) if contextual else []:
            found.negated[(target.start_char, target.end_char)] = any(c.category == "NEGATED_EXISTENCE" for c in cues)
        polarity = {
            (s.start_char, s.end_char): s._.necessity_polarity == "positive"
            or (s._.necessity_polarity == "context" and not found.negated.get((s.start_char, s.end_char), False))
            for s in statements
        }
        by_block: dict[int, list[tuple[int, bool]]] = {}
        for s in statements:
            by_block.setdefault(s._.block_index, []).append((s.start_char, polarity[(s.start_char, s.end_char)]))
        disagreements = []
        for number, item in enumerate(spans_of(doc, "items"), start=1):
            index = item._.decision["index"]
            said = max(by_block[index])[1] if index in by_block else None
            outcome = item.label_ if item.label_ in OUTCOMES else None
            if outcome is not None and said is not None and said != (outcome == "overturned"):
                necessity = "medically necessary" if said else "not medically necessary"
                disagreements.append(errors.warning("W022", decision=number, said=necessity, outcome=outcome))
            found.conclusion[index] = said
            found.necessary[index] = said if outcome is None else outcome == "overturned"
        found.warnings = self.truncation_warnings(doc, statements, polarity) + disagreements
        return found

    def ends(self, doc: Doc) -> SentenceEnds:
        """What ends a sentence, as imr_sentences shares it."""
        return sentence_ends_from(self.shared(doc, "sentence_ends"))

    def truncation_warnings(self, doc: Doc, statements, polarity) -> list[str]:
        """The warnings of a letter that seems cut short (see the module's docstring)."""
        items = list(spans_of(doc, "items"))
        labels = {span.label_ for span in spans_of(doc, "sections")}
        layout = doc._.layout or "unknown"
        primary = doc._.layout_read_as_primary is not False  # no imr_layout: read as primary
        if not items and not primary:
            return []  # another layout without a decision read: assembly's warning names it
        if not items:
            if "decisions" in labels:
                return [errors.warning("W004")]
            return [errors.warning("W003")] if labels & self.letter_sections else []
        rationales = {p._.block_index: p for p in spans_of(doc, "parts") if p.label_ == "rationale"}
        indexes = [item._.decision["index"] for item in items]
        missing = [n + 1 for n, index in enumerate(indexes) if index not in rationales]
        if missing and not primary:
            # another layout's rationale is not written as "Decision rationale:": not a sign of a cut
            found = [errors.warning("W010", layout=layout, decisions=", ".join(map(str, missing)))]
        else:
            found = [errors.warning("W005", decision=n) for n in missing]
        last = rationales.get(indexes[-1])
        if last is not None:
            text = doc_text(doc)
            start, end = last.start_char, last.start_char + len(text[last.start_char : last.end_char].rstrip())
            inside = [s for s in statements if start <= s.start_char and s.end_char <= end]
            ends = self.ends(doc)
            if not inside:
                found.append(errors.warning("W006", decision=len(items)))
            elif not ends.ends_text.search(text, start, end):
                cuts = list(ends.stop_before_space.finditer(text, start, end))
                final = cuts[-1].end() if cuts else start
                if not any(s.start_char >= final for s in inside):
                    found.append(errors.warning("W007", decision=len(items)))
        return found

    def set_annotations(self, doc: Doc, matches: Conclusions) -> Doc:  # type: ignore[override]
        for statement in spans_of(doc, "necessity"):
            statement._.is_negated = matches.negated.get((statement.start_char, statement.end_char), False)
        for item in spans_of(doc, "items"):
            decision = dict(item._.decision)
            decision["conclusion"] = matches.conclusion.get(decision["index"])
            decision["medically_necessary"] = matches.necessary.get(decision["index"])
            item._.decision = decision
        for message in matches.warnings:
            warn(doc, message)
        return doc


@Language.factory(
    "imr_conclusions",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_conclusions(nlp: Language, name: str, scorer: Callable[..., dict]) -> IMRConclusions:
    return IMRConclusions(nlp, name, scorer=scorer)
