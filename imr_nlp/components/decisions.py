"""Decision blocks of the "IMR ISSUES, DECISIONS AND RATIONALES" section.

Each disputed item has a header that ends with its outcome ("Klonopin 2mg #30: Upheld"), which
may wrap over lines, put the outcome word alone on the next line, follow a rationale or a page
break directly, or read "... The remaining IMR eligible portion of the original request, X is:
Upheld" (a partial item). After the header come the "Claims Administrator guideline:",
"MAXIMUS guideline:" and "Decision rationale:" parts.

Writes ``doc.spans["imr_items"]`` (one span per item, labelled with the outcome or "unknown";
``span._.decision`` = {"index", "partial", "medically_necessary"}) and
``doc.spans["imr_block_parts"]`` (labelled claims_administrator / reviewer_basis / rationale,
``span._.block_index`` = the index of their item) and ``doc.spans["imr_necessity"]``: the
rationales' statements of (no) medical necessity, whose conclusion ``imr_conclusions`` reads.
Outcome words, block labels and necessity wordings are data (resources/decisions.json).
"""

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, char_span, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.components.normalize import line_starts_pattern
from imr_nlp.components.sections import section_bounds
from imr_nlp.extensions import spans_of
from imr_nlp.normalize.requests import request_bounds
from imr_nlp.normalize.sentences import SentenceEnds, sentence_ends_from

# Sentences on a line of their own that tell a partial item's history ("Baclofen 100mg #30 was
# the original request.", "Baclofen 100mg #27 was authorized by the Claims Administrator.") belong
# to the item header below them, however the lines were wrapped.


@dataclass
class DecisionBlock:
    """Character offsets (in the cleaned text) of one decision block's pieces."""

    item: tuple[int, int]
    outcome: str | None
    partial: bool
    header_start: int
    block_end: int = 0
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (start, end, polarity) of the rationale's necessity statements
    statements: list[tuple[int, int, str]] = field(default_factory=list)


CONTRACT = declare(
    Contract(
        factory="imr_decisions",
        reads=("spans:sections", "vocab.lookups:line_starts", "vocab.lookups:sentence_ends"),
        writes=(
            "spans:items",
            "spans:parts",
            "spans:necessity",
            "span._.decision",
            "span._.block_index",
            "span._.necessity_polarity",
        ),
        rule_files=("decisions.json",),
        scores=("decision.found", "decision.outcome"),
    )
)


class IMRDecisions(RuleComponent):
    contract = CONTRACT
    _line_starts: tuple[list[str], re.Pattern] | None = None  # (shared patterns, compiled)

    def _compile(self) -> None:
        rules = self.rules["decisions.json"]
        self.outcome_words = [(re.compile(o.wording + r"$", re.I), o.outcome) for o in rules.outcomes]
        wordings = "|".join(f"(?:{o.wording})" for o in rules.outcomes)
        labels = "|".join(f"(?:{b.pattern})" for b in rules.block_labels)
        # "Item: Upheld" at the end of a line or before a block label (the label may follow on
        # the same line); the outcome word may stand alone on the next line.
        # A page break can glue the next label to the outcome word ("UpheldClaims Administrator").
        self.outcome = re.compile(
            rf"(?P<colon>:)[ \t]*\n?[ \t]*(?P<outcome>{wordings})(?:\b|(?={labels}))\.?(?=[ \t]*(?:\n|$|{labels}))",
            re.I,
        )
        self.part_patterns = [(b.section, re.compile(b.pattern, re.I)) for b in rules.block_labels]
        self.preamble = re.compile(rules.preamble.pattern, re.I)
        partial = rules.partial_requests
        self.original_request = re.compile(partial.original_request, re.I)
        self.portion = re.compile(r"\b(?:" + "|".join(map(re.escape, partial.portion_words)) + r")\b", re.I)
        self.request_history = re.compile(partial.history_sentence, re.I)
        self.necessity = [(re.compile(n.pattern, re.I), n.polarity) for n in rules.necessity]
        self.determination_statements = [re.compile(d.pattern, re.I | re.M) for d in rules.determination_statements]
        self.item_labels = [re.compile(label.pattern, re.M) for label in rules.item_labels]

    def line_starts(self, doc: Doc) -> re.Pattern:
        """The pipeline's line starts (headings, labels): an item header never starts with one.
        The tokenizer shares them from its layout rules, their one home in the pipeline."""
        patterns = self.shared(doc, "line_starts")
        if self._line_starts is None or self._line_starts[0] is not patterns:
            self._line_starts = (patterns, line_starts_pattern(patterns))
        return self._line_starts[1]

    def request_bounds(self, text: str, start: int = 0, end: int | None = None) -> tuple[int, int, bool]:
        """(start, end, partial) of the request in an item header text[start:end]."""
        return request_bounds(text, start, end, self.original_request, self.portion)

    def match(self, doc: Doc) -> list[DecisionBlock]:
        text = doc_text(doc)
        bounds = section_bounds(doc, "decisions")
        start, end = bounds if bounds else (0, len(text))
        structural = self.line_starts(doc)
        ends = sentence_ends_from(self.shared(doc, "sentence_ends"))
        blocks: list[DecisionBlock] = []
        floor = start
        for m in self.outcome.finditer(text, start, end):
            block = self._header(text, m, floor, structural, ends)
            if block is None:
                continue
            floor = m.end()
            blocks.append(block)
        if not blocks:  # other layouts: numbered determination sentences, else labelled items
            ranges = [(start, end)] + ([(0, len(text))] if bounds else [])
            blocks = next((b for b in (self.statement_blocks(text, *r) for r in ranges) if b), [])
            if not blocks:
                start, end = 0, len(text)
                blocks = self.labelled_items(text)
        section_ends = sorted(s.end_char for s in spans_of(doc, "sections"))
        for i, block in enumerate(blocks):
            block.block_end = blocks[i + 1].header_start if i + 1 < len(blocks) else end
            self._parts(text, block, section_ends)
            rationale = block.parts.get("rationale")
            if rationale:
                block.statements = self.statements(text, *rationale)
        return blocks

    def statement_blocks(self, text: str, start: int, end: int) -> list[DecisionBlock]:
        """Blocks of the numbered determination sentences in text[start:end], each (number,
        item) once: a list given twice yields each decision once, where it is first given."""
        found = sorted(
            (m for pattern in self.determination_statements for m in pattern.finditer(text, start, end)),
            key=lambda m: m.start(),
        )
        blocks, seen = [], set()
        for m in found:
            key = (m.group("number"), " ".join(m.group("item").lower().split()))
            if key in seen:
                continue
            seen.add(key)
            item_start, item_end, partial = self.request_bounds(text, m.start("item"), m.end("item"))
            if item_end > item_start:
                outcome = "upheld" if m.group("negation") is not None else "overturned"
                blocks.append(DecisionBlock((item_start, item_end), outcome, partial, m.start()))
        return blocks

    def labelled_items(self, text: str) -> list[DecisionBlock]:
        """Blocks of items given after a label ("ISSUE AT DISPUTE:"), their outcome unknown."""
        blocks = []
        for pattern in self.item_labels:
            for m in pattern.finditer(text):
                item_start, item_end, partial = self.request_bounds(text, m.start("item"), m.end("item"))
                if item_end > item_start:
                    blocks.append(DecisionBlock((item_start, item_end), None, partial, m.start()))
        return sorted(blocks, key=lambda b: b.header_start)

    def statements(self, text: str, start: int, end: int) -> list[tuple[int, int, str]]:
        """(start, end, polarity) of the necessity statements in text[start:end], in order."""
        found = [
            (m.start(), m.end(), polarity)
            for pattern, polarity in self.necessity
            for m in pattern.finditer(text, start, end)
        ]
        return sorted(found)

    def _header(
        self, text: str, m: re.Match, floor: int, structural: re.Pattern, ends: SentenceEnds
    ) -> DecisionBlock | None:
        """Walk back from the outcome to where the item header starts."""
        colon = m.start("colon")
        line_start = text.rfind("\n", floor, colon) + 1 if text.rfind("\n", floor, colon) >= 0 else floor
        header_start = max(line_start, floor)
        if structural.match(text, header_start):
            # An item never starts with a block label or a heading: on such a line (a letter
            # whose line breaks were flattened) the item starts after the line's last sentence.
            starts = [b.end() for b in ends.break_before_capital.finditer(text, header_start, colon)]
            if starts:
                item = len(starts) - 1
                # the sentences of a partial request's history belong to its header, as on lines
                while (
                    item > 0
                    and self.original_request.search(text, starts[item], colon)
                    and self.request_history.match(text[starts[item - 1] : starts[item]].strip())
                ):
                    item -= 1
                return self._block(text, m, starts[item], colon)
        for _ in range(8):  # an item header wraps over a few lines at most
            if header_start <= floor:
                break
            prev_end = header_start - 1
            prev_start = text.rfind("\n", floor, prev_end) + 1 if text.rfind("\n", floor, prev_end) >= 0 else floor
            prev_line = text[prev_start:prev_end].strip()
            if self.original_request.search(text, header_start, colon) and all(
                self.request_history.match(sentence) for sentence in ends.break_before_capital.split(prev_line)
            ):
                header_start = prev_start
                continue
            if (
                not prev_line
                or ends.ends_text.search(prev_line)
                or self.preamble.search(prev_line)
                or (structural.match(prev_line) and not prev_line.endswith(","))
                or self.outcome.search(prev_line + "\n")
            ):
                break
            header_start = prev_start
        return self._block(text, m, header_start, colon)

    def _block(self, text: str, m: re.Match, header_start: int, colon: int) -> DecisionBlock | None:
        """The decision block whose item header runs from ``header_start`` to ``colon``."""
        item_start, item_end = header_start, colon
        preamble = _last_match(self.preamble, text, item_start, item_end)
        if preamble:
            item_start = preamble.end()
        item_start, item_end, partial = self.request_bounds(text, item_start, item_end)
        if item_end <= item_start:
            return None
        word = m.group("outcome")
        outcome = next((o for pattern, o in self.outcome_words if pattern.match(word)), None)
        return DecisionBlock((item_start, item_end), outcome, partial, header_start)

    def _parts(self, text: str, block: DecisionBlock, section_ends: list[int]) -> None:
        """Find the guideline and rationale parts between the header and the next block; a
        part ends at the next part or at the end of the section its label is in."""
        found = []
        for label, pattern in self.part_patterns:
            m = pattern.search(text, block.item[1], block.block_end)
            if m:
                found.append((m.start(), m.end(), label))
        found.sort()
        for i, (label_start, content_start, label) in enumerate(found):
            content_end = found[i + 1][0] if i + 1 < len(found) else block.block_end
            in_section = bisect_right(section_ends, label_start)
            if in_section < len(section_ends):
                content_end = min(content_end, section_ends[in_section])
            block.parts[label] = (content_start, content_end)

    def set_annotations(self, doc: Doc, blocks: list[DecisionBlock]) -> Doc:
        items, parts, statements = [], [], []
        for index, block in enumerate(blocks):
            span = char_span(doc, *block.item, label=block.outcome or "unknown")
            if span is None:
                continue
            span._.decision = {
                "index": index,
                "partial": block.partial,
                "conclusion": None,  # imr_conclusions reads it from the statements
                "medically_necessary": None,  # and decides it with the outcome
                "start": block.item[0],
                "end": block.item[1],
            }
            items.append(span)
            parts.extend(labelled_span(doc, s, e, label, block_index=index) for label, (s, e) in block.parts.items())
            statements.extend(
                labelled_span(doc, s, e, "NECESSITY", block_index=index, necessity_polarity=polarity)
                for s, e, polarity in block.statements
            )
        self.write_spans(doc, "items", items)
        self.write_spans(doc, "parts", [span for span in parts if span is not None])
        self.write_spans(doc, "necessity", [span for span in statements if span is not None])
        return doc


def _last_match(pattern: re.Pattern, text: str, start: int, end: int) -> re.Match | None:
    """The last match of ``pattern`` in text[start:end], or None."""
    last = None
    for last in pattern.finditer(text, start, end):  # noqa: B007 - keep the last one
        pass
    return last


@Language.factory(
    "imr_decisions",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_decisions(nlp: Language, name: str, span_keys: dict[str, str], scorer: Callable[..., dict]) -> IMRDecisions:
    return IMRDecisions(nlp, name, span_keys=span_keys, scorer=scorer)
