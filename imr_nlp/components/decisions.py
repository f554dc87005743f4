"""Decision blocks of the "IMR ISSUES, DECISIONS AND RATIONALES" section.

Each disputed item has a header that ends with its outcome ("Klonopin 2mg #30: Upheld"), which
may wrap over lines, put the outcome word alone on the next line, follow a rationale or a page
break directly, or read "... The remaining IMR eligible portion of the original request, X is:
Upheld" (a partial item). After the header come the "Claims Administrator guideline:",
"MAXIMUS guideline:" and "Decision rationale:" parts.

Writes ``doc.spans["imr_items"]`` (one span per item, labelled with the outcome or "unknown";
``span._.decision`` = {"index", "partial", "medically_necessary"}) and
``doc.spans["imr_block_parts"]`` (labelled claims_administrator / reviewer_basis / rationale,
``span._.block_index`` = the index of their item).
"""

import re
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp import errors
from imr_nlp.components.base import RuleComponent, char_span, doc_text
from imr_nlp.components.sections import section_bounds
from imr_nlp.extensions import SPAN_GROUPS, warn
from imr_nlp.normalize.requests import ORIGINAL_REQUEST, request_bounds

_OUTCOME = re.compile(
    r"(?P<colon>:)[ \t]*\n?[ \t]*(?P<outcome>Upheld|Overturned|Partially\s+Overturned)\b\.?"
    r"(?=[ \t]*(?:\n|$|Claims\s+Administrator|MAXIMUS|Decision\s+rationale))",
    re.I,
)
_PREAMBLE = re.compile(r"set\s+forth\s+below\s*:\s*", re.I)
# Sentences on a line of their own that tell a partial item's history ("Baclofen 100mg #30 was
# the original request.", "Baclofen 100mg #27 was authorized by the Claims Administrator."): they
# belong to the item header below them, however the lines were wrapped.
_SENTENCE_BREAK = re.compile(r"(?<=\.)\s+(?=[A-Z])")
_REQUEST_HISTORY = re.compile(
    r"^[^.]*(?:\.\d[^.]*)*\b(?:was|were)\s+(?:the\s+original\s+request|(?:authorized|certified|modified|approved)\b"
    r"[^.]*\bClaims\s+Administrator)\s*\.$",
    re.I,
)
_ENDS_SENTENCE = re.compile(r"""[.!?]["')\]]*$""")
_NECESSARY = re.compile(r"\bmedically\s+(?:necessary|indicated|appropriate|reasonable)\b", re.I)
# A negation within the few words before "medically necessary": "is not seen as medically
# necessary", "cannot be deemed medically necessary", "does not appear medically necessary".
_NEGATION_BEFORE = re.compile(r"\b(?:not|cannot|can't|non|nor|neither|never)\b(?:[\s-]+[\w'-]+){0,3}[\s-]*$", re.I)
_UNNECESSARY = re.compile(
    r"\bmedically\s+unnecessary\b|\bnon-?certified\b|\bnot\s+(?:a\s+)?medical\s+necessity\b"
    r"|\bmedical\s+necessity\b[^.]{0,80}?\b(?:is|has|was)\s+not\s+(?:been\s+)?(?:established|demonstrated|supported)\b",
    re.I,
)
# "medical necessity (of ...) has been established": a positive conclusion in other words.
_ESTABLISHED = re.compile(
    r"\bmedical\s+necessity\b[^.]{0,80}?\b(?:is|has\s+been|was)\s+(?:established|demonstrated|supported)\b", re.I
)


@dataclass
class DecisionBlock:
    """Character offsets (in the cleaned text) of one decision block's pieces."""

    item: tuple[int, int]
    outcome: str | None
    partial: bool
    header_start: int
    block_end: int = 0
    parts: dict[str, tuple[int, int]] = field(default_factory=dict)
    medically_necessary: bool | None = None


class IMRDecisions(RuleComponent):
    resource_names = ("sections.json",)

    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)

    def _compile(self) -> None:
        rules = self.rules["sections.json"]
        self.part_patterns = [(b.section, re.compile(b.pattern, re.I)) for b in rules.block_labels]
        self.structural = re.compile("|".join(f"(?:{p})" for p in rules.structural_starts))

    def match(self, doc: Doc) -> list[DecisionBlock]:
        text = doc_text(doc)
        bounds = section_bounds(doc, "decisions")
        start, end = bounds if bounds else (0, len(text))
        blocks: list[DecisionBlock] = []
        floor = start
        for m in _OUTCOME.finditer(text, start, end):
            block = self._header(text, m, floor)
            if block is None:
                continue
            floor = m.end()
            blocks.append(block)
        for i, block in enumerate(blocks):
            block.block_end = blocks[i + 1].header_start if i + 1 < len(blocks) else end
            self._parts(text, block)
            rationale = block.parts.get("rationale")
            if rationale:
                block.medically_necessary = medical_necessity(text[rationale[0] : rationale[1]])
        return blocks

    def _header(self, text: str, m: re.Match, floor: int) -> DecisionBlock | None:
        """Walk back from the outcome to where the item header starts."""
        colon = m.start("colon")
        line_start = text.rfind("\n", floor, colon) + 1 if text.rfind("\n", floor, colon) >= 0 else floor
        header_start = max(line_start, floor)
        if self.structural.match(text, header_start):
            # An item never starts with a block label or a heading: on such a line (a letter
            # whose line breaks were flattened) the item starts after the line's last sentence.
            starts = [b.end() for b in _SENTENCE_BREAK.finditer(text, header_start, colon)]
            if starts:
                item = len(starts) - 1
                # the sentences of a partial request's history belong to its header, as on lines
                while (
                    item > 0
                    and ORIGINAL_REQUEST.search(text, starts[item], colon)
                    and _REQUEST_HISTORY.match(text[starts[item - 1] : starts[item]].strip())
                ):
                    item -= 1
                return self._block(text, m, starts[item], colon)
        for _ in range(8):  # an item header wraps over a few lines at most
            if header_start <= floor:
                break
            prev_end = header_start - 1
            prev_start = text.rfind("\n", floor, prev_end) + 1 if text.rfind("\n", floor, prev_end) >= 0 else floor
            prev_line = text[prev_start:prev_end].strip()
            if ORIGINAL_REQUEST.search(text, header_start, colon) and all(
                _REQUEST_HISTORY.match(sentence) for sentence in _SENTENCE_BREAK.split(prev_line)
            ):
                header_start = prev_start
                continue
            if (
                not prev_line
                or _ENDS_SENTENCE.search(prev_line)
                or _PREAMBLE.search(prev_line)
                or (self.structural.match(prev_line) and not prev_line.endswith(","))
                or _OUTCOME.search(prev_line + "\n")
            ):
                break
            header_start = prev_start
        return self._block(text, m, header_start, colon)

    @staticmethod
    def _block(text: str, m: re.Match, header_start: int, colon: int) -> DecisionBlock | None:
        """The decision block whose item header runs from ``header_start`` to ``colon``."""
        item_start, item_end = header_start, colon
        preamble = _last_match(_PREAMBLE, text, item_start, item_end)
        if preamble:
            item_start = preamble.end()
        item_start, item_end, partial = request_bounds(text, item_start, item_end)
        if item_end <= item_start:
            return None
        outcome = m.group("outcome").lower()
        outcome = "overturned" if "overturned" in outcome else "upheld" if outcome == "upheld" else None
        return DecisionBlock((item_start, item_end), outcome, partial, header_start)

    def _parts(self, text: str, block: DecisionBlock) -> None:
        """Find the guideline and rationale parts between the header and the next block."""
        found = []
        for label, pattern in self.part_patterns:
            m = pattern.search(text, block.item[1], block.block_end)
            if m:
                found.append((m.start(), m.end(), label))
        found.sort()
        for i, (_, content_start, label) in enumerate(found):
            content_end = found[i + 1][0] if i + 1 < len(found) else block.block_end
            block.parts[label] = (content_start, content_end)

    def set_annotations(self, doc: Doc, blocks: list[DecisionBlock]) -> Doc:
        items, parts = [], []
        for index, block in enumerate(blocks):
            span = char_span(doc, *block.item, label=block.outcome or "unknown")
            if span is None:
                continue
            span._.decision = {
                "index": index,
                "partial": block.partial,
                "medically_necessary": block.medically_necessary,
                "start": block.item[0],
                "end": block.item[1],
            }
            items.append(span)
            if block.outcome is None:
                warn(doc, f"decision {index + 1}: the outcome could not be read")
            for label, (s, e) in block.parts.items():
                part = char_span(doc, s, e, label=label)
                if part is not None:
                    part._.block_index = index
                    parts.append(part)
        doc.spans[SPAN_GROUPS["items"]] = items
        doc.spans[SPAN_GROUPS["parts"]] = parts
        labels = {span.label_ for span in doc.spans.get(SPAN_GROUPS["sections"], [])}
        for message in truncation_warnings(
            doc_text(doc), blocks, "decisions" in labels, bool(labels & _LETTER_SECTIONS)
        ):
            warn(doc, message)
        return doc


# Sections only an IMR letter has: with one of them and no decisions, the letter was cut short.
_LETTER_SECTIONS = {"how_made", "credentials", "case_summary"}


def truncation_warnings(
    text: str, blocks: list[DecisionBlock], has_decision_section: bool, is_letter: bool
) -> list[str]:
    """Warnings for a letter that seems cut short: a letter's sections but no decisions
    section, a decisions section without an item, a decision without a rationale, or a last
    rationale that ends mid-sentence or states no conclusion ("... is not medically necessary")."""
    if not blocks:
        if has_decision_section:
            return [errors.NO_DECISION_IN_SECTION]
        return [errors.NO_DECISION_SECTION] if is_letter else []
    found = [errors.no_rationale(i + 1) for i, block in enumerate(blocks) if "rationale" not in block.parts]
    last = blocks[-1].parts.get("rationale")
    if last is not None:
        rationale = text[last[0] : last[1]].rstrip()
        if medical_necessity(rationale) is None:
            found.append(errors.no_conclusion(len(blocks)))
        elif not _ENDS_SENTENCE.search(rationale):
            final = re.split(r"[.!?]\s", rationale)[-1]  # after the last full stop
            if medical_necessity(final) is None:
                found.append(errors.ends_mid_sentence(len(blocks)))
    return found


def _last_match(pattern: re.Pattern, text: str, start: int, end: int) -> re.Match | None:
    """The last match of ``pattern`` in text[start:end], or None."""
    last = None
    for last in pattern.finditer(text, start, end):  # noqa: B007 - keep the last one
        pass
    return last


def medical_necessity(rationale: str) -> bool | None:
    """The reviewer's conclusion: the last "(not) medically necessary" statement of a rationale."""
    statements = [
        (m.start(), not _NEGATION_BEFORE.search(rationale[max(0, m.start() - 60) : m.start()]))
        for m in _NECESSARY.finditer(rationale)
    ]
    statements += [(m.start(), False) for m in _UNNECESSARY.finditer(rationale)]
    statements += [(m.start(), True) for m in _ESTABLISHED.finditer(rationale)]
    return max(statements)[1] if statements else None


@Language.factory("imr_decisions", requires=["doc.spans"], assigns=["doc.spans"], default_config={})
def make_decisions(nlp: Language, name: str) -> IMRDecisions:
    return IMRDecisions(nlp, name)
