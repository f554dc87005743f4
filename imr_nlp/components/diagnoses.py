"""Diagnosis and problem mentions from the list forms IMR letters use.

"was diagnosed with a, b and c", "The current diagnoses are ...", "treated for the diagnoses of
...", "Diagnosis 08/20/14- a- b- c": a trigger opens a list that runs to the end of its clause;
the list is split on commas, "and", "with", ";" and dashes. A piece that names only a body part
joins its neighbour ("bilateral wrist and hand strain" stays whole; "... of the left upper
extremity, neck, and upper thoracic region" is one mention). Leading uncertainty words
("probable") stay outside the mention for ConText to read. Triggers, stop phrases and word lists
are data (resources/diagnoses.json). Writes ``doc.spans["imr_diagnoses"]``.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, char_span, doc_text
from imr_nlp.components.sections import section_bounds
from imr_nlp.extensions import SPAN_GROUPS

_SPLIT = re.compile(
    r"\s*(?:,\s*(?:and|or)\s+|,|;|\s+and\s+|\s+with\s+|\s+-\s*|(?<=\w)-\s+|\s+as\s+well\s+as\s+)\s*", re.I
)
_CONDITION_SUFFIX = re.compile(r"(?:itis|osis|pathy|algia|plegia|paresis|trophy|ectomy|otomy|plasty|emia|oma)$")
_LEADING_NOISE = re.compile(r"^(?:(?:the|a|an|of|bilateral\s+of|and|or|also|including|include|includes)\s+)+", re.I)
_DATE_LIKE = re.compile(r"^\(?\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\)?[:-]?\s*")


class IMRDiagnoses(RuleComponent):
    resource_names = ("diagnoses.json",)

    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)

    def _compile(self) -> None:
        rules = self.rules["diagnoses.json"]
        self.trigger = re.compile("|".join(f"(?:{t})" for t in rules.list_triggers), re.I)
        self.stop = re.compile("|".join(f"(?:{s})" for s in rules.stop_phrases), re.I)
        self.condition_words = frozenset(w.lower() for w in rules.condition_words)
        self.body_words = frozenset(w.lower() for w in rules.body_words)
        self.drop = frozenset(w.lower() for w in rules.drop_words)
        mods = sorted(rules.modifiers, key=len, reverse=True)
        self.modifier = re.compile(r"^(?:(?:" + "|".join(re.escape(m) for m in mods) + r")\s+)+", re.I)

    def match(self, doc: Doc) -> list[tuple[int, int]]:
        """(start, end) character spans of diagnosis mentions, in text order."""
        text = doc_text(doc)
        bounds = section_bounds(doc, "case_summary")
        start, end = bounds if bounds else (0, len(text))
        out: list[tuple[int, int]] = []
        pos = start
        while True:
            m = self.trigger.search(text, pos, end)
            if not m:
                break
            list_start = m.end()
            stop = self.stop.search(text, list_start, end)
            line_end = text.find("\n", list_start, end)
            list_end = min(x for x in (stop.start() if stop else end, line_end if line_end >= 0 else end, end))
            out.extend(self.split_list(text, list_start, list_end))
            pos = max(list_end, m.end() + 1)
        return out

    def _kind(self, fragment: str) -> str:
        words = [w for w in re.split(r"[\s/]+", fragment.lower().strip(" .")) if w]
        if not words or fragment.lower().strip(" .") in self.drop:
            return "drop"
        if any(w in self.condition_words or _CONDITION_SUFFIX.search(w) for w in words):
            return "condition"
        if all(w in self.body_words for w in words):
            return "body"
        return "other"

    def split_list(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Split the list text[start:end] into mention spans."""
        segment = text[start:end]
        date = _DATE_LIKE.match(segment)
        offset = start + (date.end() if date else 0)
        segment = text[offset:end]
        pieces, connectors, pos = [], [], 0
        for m in _SPLIT.finditer(segment):
            pieces.append((pos, m.start()))
            connectors.append(m.group())
            pos = m.end()
        pieces.append((pos, len(segment)))
        frags: list[list] = []  # [start, end, kind, connector_after]
        for i, (s, e) in enumerate(pieces):
            while s < e and segment[s].isspace():
                s += 1
            lead = _LEADING_NOISE.match(segment[s:e])
            s += lead.end() if lead else 0
            mod = self.modifier.match(segment[s:e])
            s += mod.end() if mod else 0
            while e > s and segment[e - 1] in " .,:;":
                e -= 1
            if e <= s:
                continue
            frags.append([s, e, self._kind(segment[s:e]), connectors[i] if i < len(connectors) else ""])
        merged: list[list] = []
        i = 0
        while i < len(frags):
            frag = frags[i]
            if frag[2] == "body":
                nxt = frags[i + 1] if i + 1 < len(frags) else None
                if nxt is not None and frag[3].strip().lower() in ("and", "/", "&") and nxt[2] == "condition":
                    merged.append([frag[0], nxt[1], "condition", nxt[3]])
                    i += 2
                    continue
                if merged:
                    merged[-1][1] = frag[1]
                    merged[-1][3] = frag[3]
                i += 1
                continue
            merged.append(frag)
            i += 1
        return [(offset + s, offset + e) for s, e, kind, _ in merged if kind == "condition"]

    def set_annotations(self, doc: Doc, matches) -> Doc:
        spans = []
        for start, end in matches:
            span = char_span(doc, start, end, label="DIAGNOSIS")
            if span is not None:
                spans.append(span)
        doc.spans[SPAN_GROUPS["diagnoses"]] = spans
        return doc


@Language.factory("imr_diagnoses", assigns=["doc.spans"], default_config={})
def make_diagnoses(nlp: Language, name: str) -> IMRDiagnoses:
    return IMRDiagnoses(nlp, name)
