"""Strengths, quantities, refills, frequencies and durations of the disputed items.

Runs the pure finders of imr_nlp.normalize.values, with the tables compiled from its
``doses.json``, over each decision item and over the clause
after each drug mention. Writes ``doc.spans["imr_doses"]`` labelled STRENGTH, QUANTITY, REFILLS,
FREQUENCY or DURATION, with ``span._.dose``: {"value": ..., "kind": ...} (the kind says which
wording gave a quantity: "hash" for "#30", "count" for "6 visits" ...).
"""

import re
from bisect import bisect_right
from itertools import accumulate

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import share_table, spans_of
from imr_nlp.normalize import values

CONTRACT = declare(
    Contract(
        factory="imr_doses",
        reads=("spans:items", "spans:drugs"),
        writes=("spans:doses", "span._.dose", "vocab.lookups:number_words"),
        rule_files=("doses.json",),
        scores=(),
    )
)


class IMRDoses(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        rules = self.rules["doses.json"]
        self.tables = values.compile_tables(rules)
        self.tail_reach = rules.drug_tail.reach
        self.tail_end = re.compile(rules.drug_tail.clause_end)
        # the number words are English, not dose wording: the request grammar reads them too
        share_table(self.nlp.vocab, "number_words", dict(self.tables.number_words))

    def match(self, doc: Doc) -> list[tuple[int, int, str, dict]]:
        """(start, end, label, value) for every dose fact in items and after drug mentions."""
        text = doc_text(doc)
        out: list[tuple[int, int, str, dict]] = []
        for item in spans_of(doc, "items"):
            out.extend(item_values(text[item.start_char : item.end_char], self.tables, item.start_char))
        covered = sorted((s.start_char, s.end_char) for s in spans_of(doc, "items"))
        starts = [s for s, _ in covered]
        reach = list(accumulate((e for _, e in covered), max))  # the furthest end so far
        for drug in spans_of(doc, "drugs"):
            last = bisect_right(starts, drug.start_char) - 1  # inside an item: read there
            if last >= 0 and drug.start_char < reach[last]:
                continue
            tail = text[drug.end_char : drug.end_char + self.tail_reach]
            cut = self.tail_end.search(tail)
            tail = tail[: cut.start()] if cut else tail
            for s, e, v in values.find_strengths(tail, self.tables):
                out.append((drug.end_char + s, drug.end_char + e, "STRENGTH", {"value": v, "kind": "strength"}))
            for s, e, v in values.find_frequencies(tail, self.tables):
                out.append((drug.end_char + s, drug.end_char + e, "FREQUENCY", {"value": v, "kind": "frequency"}))
        return out

    def set_annotations(self, doc: Doc, matches) -> Doc:
        spans = []
        seen = set()
        # One span per offsets (span extension values are keyed by offsets): a "2x4" visit plan
        # is one DURATION span whose value also carries its frequency.
        for start, end, label, value in sorted(matches, key=lambda m: (m[0], m[1], m[2] != "DURATION")):
            if (start, end) in seen:
                continue
            span = labelled_span(doc, start, end, label, dose=value)
            if span is not None:
                seen.add((start, end))
                spans.append(span)
        self.write_spans(doc, "doses", spans)
        return doc


def item_values(item_text: str, tables: values.DoseTables, offset: int = 0) -> list[tuple[int, int, str, dict]]:
    """Every dose fact of one item header, offsets shifted by ``offset``."""
    out = []
    for s, e, v in values.find_strengths(item_text, tables):
        out.append((offset + s, offset + e, "STRENGTH", {"value": v, "kind": "strength"}))
    for s, e, parts in values.find_combination_strengths(item_text):
        # the first number is the strength; every ingredient's is in "parts"
        out.append((offset + s, offset + e, "STRENGTH", {"value": parts[0], "kind": "combination", "parts": parts}))
    for s, e, v, kind in values.find_quantities_with_kind(item_text, tables):
        out.append((offset + s, offset + e, "QUANTITY", {"value": v, "kind": kind}))
    for s, e, v in values.find_refills(item_text, tables):
        out.append((offset + s, offset + e, "REFILLS", {"value": v, "kind": "refills"}))
    for s, e, v in values.find_frequencies(item_text, tables):
        out.append((offset + s, offset + e, "FREQUENCY", {"value": v, "kind": "frequency"}))
    for s, e, v in values.find_durations(item_text, tables):
        out.append((offset + s, offset + e, "DURATION", {"value": v, "kind": "duration"}))
    plan = values.visit_plan(item_text)
    if plan and not values.find_durations(item_text, tables):
        m = re.search(rf"\b{plan[0]}\s?x\s?{plan[1]}\b", item_text, re.I)
        if m:
            # "3 x 4" is 3 a week for 4 weeks, not a quantity of 4
            out = [o for o in out if not (o[2] == "QUANTITY" and offset + m.start() <= o[0] < offset + m.end())]
            out.append(
                (
                    offset + m.start(),
                    offset + m.end(),
                    "DURATION",
                    {
                        "value": {"value": float(plan[1]), "unit": "week"},
                        "kind": "visit_plan",
                        "frequency": f"{plan[0]}xW",
                    },
                )
            )
    return out


@Language.factory("imr_doses", requires=CONTRACT.requires, assigns=CONTRACT.assigns, default_config={"span_keys": {}})
def make_doses(nlp: Language, name: str, span_keys: dict[str, str]) -> IMRDoses:
    return IMRDoses(nlp, name, span_keys=span_keys)
