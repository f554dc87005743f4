"""Why each decision went the way it did: the findings of its rationale (``Decision.reasons``,
spec: reasons.md), each a criterion (code), a direction (for or against the treatment) and the
sentence that states it.

Each sentence of a rationale is read for the cues of the twelve criteria (resources/reasons.json:
"functional improvement", "red flags", "urine drug screen", "exceeds" ...). Whether a cue is
negated is read by ConText (medspaCy's default cues and the rules' own), the engine of
``imr_context`` run on the cues: "There is no evidence of objective functional improvement" is
functional_improvement, against. A negated cue gives the other direction than an affirmed one,
unless its rule says the negation is of something else ("not indicated for long-term use").
The closing verdict and advice are no reasons; in a sentence quoting a guideline or speaking in
general ("may be appropriate", "most patients"), and saying nothing of this patient, only the
guideline's position is read, and a position made on a condition ("recommended when ...") only
when no finding about the patient follows; a sentence told in the past or present perfect that
quotes no guideline is the story of this case, about the patient. In a clause of a sentence about
the patient where no cue is found (clauses meet at "; however", ", and there" ...), a head noun
of a criterion that ConText denies is the finding ("no objective gains were noted"), the clause
its evidence; in the rationale of an overturned treatment, which states the findings that support it,
an affirmed one too ("her function has improved since the injections"). One reason per (code,
direction) per decision: the first statement is the evidence.

Writes ``doc.spans["imr_reasons"]``: the sentences stating a reason, labelled with its code,
``span._.reasons`` = [{"index": the decision's, "code", "direction"}, ...] (the reasons of that
sentence: spaCy keys span extensions by offsets, so spans of one sentence share them).
"""

import re
from bisect import bisect_left, bisect_right
from typing import NamedTuple, get_args

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import char_span, doc_text, overlaps_any, sentence_bounds, token_words
from imr_nlp.components.context import IMRContext
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import spans_of
from imr_nlp.literal_prefilter import LiteralIndex
from imr_nlp.models import DwcCategory

CONTRACT = declare(
    Contract(
        factory="imr_reasons",
        reads=("spans:items", "span._.decision", "spans:parts", "span._.block_index"),
        reads_if_present=(
            "doc.sents",
            "spans:diagnoses",
            "spans:problems",
            "spans:drugs",
            "span._.generic",
            "spans:services",
            "span._.request",
        ),
        writes=("spans:reasons", "span._.reasons"),
        rule_files=("reasons.json",),
        scores=(),
    )
)


DRUG_REACH = 60  # characters between a cue that needs a drug beside it and the drug (drug_near)


class CueHit(NamedTuple):
    """A cue found in a sentence of a rationale."""

    index: int  # the decision's
    start: int  # characters of the cue
    end: int
    sentence: tuple[int, int]  # characters of its sentence, or a head noun's clause (the evidence)
    rule: int  # the cue rule's position in the rules
    quoted: bool  # in a sentence that quotes a guideline
    conditional: bool  # in a clause that makes a position on a condition
    conceded: bool  # in a clause that grants a finding ("although ...", "... but"): its direction stands
    # in a clause that makes a refusal on a condition ("not recommended unless ..."); as
    # ``conditional`` where the rules have no ``refusal_conditions``
    refusal_conditional: bool = False


class FoundReason(NamedTuple):
    """A reason as found: its decision, the characters of its evidence, its code and direction."""

    index: int
    start: int
    end: int
    code: str
    direction: str
    from_outcome: bool = False  # the direction is the decision's, not the one read (see _with_the_outcome)
    refused: bool = False  # read as a refusal: a cue of "against" not denied, or one of "for" denied


class IMRReasons(IMRContext):
    contract = CONTRACT

    def __init__(self, nlp: Language, name: str, include_medspacy_defaults: bool = True, **settings) -> None:
        super().__init__(nlp, name, include_medspacy_defaults=include_medspacy_defaults, **settings)

    def _compile(self) -> None:
        super()._compile()  # the ConText rules of reasons.json
        rules = self.rules["reasons.json"]
        self.cue_rules = rules.cues
        self.turning = frozenset(rules.turning_categories)
        self.outcome_bound = frozenset(rules.outcome_bound_codes)
        self.head_nouns_affirmed_in = frozenset(rules.head_nouns_affirmed_in)
        # the rules' patterns ignore case: compiled for lower-case text, which the scan of every
        # rationale sentence by every cue runs about 40% faster on than on re.I
        self.cue_patterns = [folded_regex(cue.pattern) for cue in rules.cues]
        # a cue is tried only on the sentences that hold one of the words each of its matches
        # holds (imr_nlp.literal_prefilter), all found in one scan: most cues, most sentences
        self.cue_words = LiteralIndex(self.cue_patterns)
        self.not_reason = folded_regex(rules.not_reasons.pattern)
        self.guideline_quote = folded_regex(rules.guideline_quotes.pattern)
        self.general_statement = folded_regex(rules.general_statements.pattern)
        self.patient_statement = folded_regex(rules.patient_statements.pattern)
        self.narrative_statement = folded_regex(rules.narrative_statements.pattern)
        self.clause_edge = folded_regex(rules.clause_edges.pattern)
        self.condition = folded_regex(rules.conditions.pattern)
        self.refusal_condition = (
            folded_regex(rules.refusal_conditions.pattern) if rules.refusal_conditions is not None else None
        )
        self.concession = folded_regex(rules.concessions.pattern)
        self.conceding_turn = folded_regex(rules.conceding_turns.pattern) if rules.conceding_turns else None
        self.findings_follow_outcome = rules.findings_follow_outcome.enabled
        by_code = dict(rules.item_categories.codes) if rules.item_categories else {}
        # for each DWC category, the cues bound to other categories (by their code or their own
        # item_categories): not tried at all in the rationale of an item of that category, so they
        # neither count nor hide their clause's other findings; an unknown category bars none
        self.barred_cues: dict[str, frozenset[int]] = {
            category: frozenset(
                number
                for number, cue in enumerate(rules.cues)
                if any(
                    bound is not None and category not in bound
                    for bound in (by_code.get(cue.code), cue.item_categories)
                )
            )
            for category in get_args(DwcCategory)
        }
        self.item_bound = any(self.barred_cues.values())
        self.drug_cues = any(cue.drug_near for cue in rules.cues)  # whether drug mentions are read
        # the indication head noun that condition mentions stand for (None: they are not read)
        self.condition_rule = (
            next((n for n, cue in enumerate(rules.cues) if cue.head_noun and cue.code == "indication"), None)
            if rules.condition_mentions is not None and rules.condition_mentions.enabled
            else None
        )

    def match(self, doc: Doc, targets=None) -> list[FoundReason]:  # type: ignore[override]
        """The reasons of every decision, in text order."""
        hits = self.cue_hits(doc)
        spans = [char_span(doc, hit.start, hit.end) for hit in hits]
        kept = [(hit, span) for hit, span in zip(hits, spans, strict=True) if span is not None]
        categories: dict[tuple[int, int], set[str]] = {}  # the ConText categories of each target
        # ConText reads only the cues whose direction a negation turns: a fixed cue ("unclear")
        # as a target would hide its words from ConText as a cue
        turnable = [span for hit, span in kept if self.cue_rules[hit.rule].negation_flips]
        if turnable:
            for target, cues in super().match(doc, targets=turnable):
                categories[(target.start_char, target.end_char)] = {c.category for c in cues}
        reasons: list[FoundReason] = []
        plain: list[bool] = []  # an affirmed cue that ConText could have turned but did not
        for hit, span in kept:
            rule = self.cue_rules[hit.rule]
            direction = rule.affirmed
            found = categories.get((span.start_char, span.end_char), set()) if rule.negation_flips else set()
            was_turned = bool(found & self.turning)
            if was_turned:
                direction = "for" if direction == "against" else "against"
            was_denied = "NEGATED_EXISTENCE" in found  # turned by a negation, not by a doubt
            refused = (rule.affirmed == "against") != was_denied
            reasons.append(FoundReason(hit.index, *hit.sentence, rule.code, direction, refused=refused))
            plain.append(rule.negation_flips and not was_turned)
        outcomes = _outcomes(doc)
        hits, reasons, plain = self._head_nouns_read([hit for hit, _ in kept], reasons, plain, outcomes)
        hits, reasons = _settled_in_sentence(hits, reasons, plain)
        hits, reasons = self._with_the_outcome(outcomes, hits, reasons)
        return _first_of_each(_without_met_conditions(hits, reasons))

    def _head_nouns_read(
        self, hits: list[CueHit], reasons: list[FoundReason], plain: list[bool], outcomes: dict[int, str]
    ) -> tuple[list[CueHit], list[FoundReason], list[bool]]:
        """Of the head nouns (the last resort), only the first in its clause that ConText denies,
        or, in a decision whose outcome is one of ``head_nouns_affirmed_in``, the first denied or not."""
        kept, clauses_done = [], set()
        for hit, reason, affirmed_only in zip(hits, reasons, plain, strict=True):
            if self.cue_rules[hit.rule].head_noun:
                read_affirmed = outcomes.get(hit.index) in self.head_nouns_affirmed_in
                if (affirmed_only and not read_affirmed) or hit.sentence in clauses_done:
                    continue
                clauses_done.add(hit.sentence)  # a head noun's evidence is its clause
            kept.append((hit, reason, affirmed_only))
        return [k[0] for k in kept], [k[1] for k in kept], [k[2] for k in kept]

    def _with_the_outcome(
        self, outcomes: dict[int, str], hits: list[CueHit], reasons: list[FoundReason]
    ) -> tuple[list[CueHit], list[FoundReason]]:
        """Reasons that argue against the way their decision went: those of outcome-bound codes
        are left out (see ``outcome_bound_codes``); the others, unless their clause grants them
        (``concessions``) or their cue carries its direction (``keeps_direction``), take the
        decision's direction (see ``findings_follow_outcome``)."""
        agreeing = {"upheld": "against", "overturned": "for"}
        kept_hits, kept = [], []
        for hit, reason in zip(hits, reasons, strict=True):
            way = agreeing.get(outcomes.get(reason.index, ""), reason.direction)
            if reason.direction != way:
                if reason.code in self.outcome_bound:
                    continue
                if self.findings_follow_outcome and not hit.conceded and not self.cue_rules[hit.rule].keeps_direction:
                    reason = reason._replace(direction=way, from_outcome=True)
            kept_hits.append(hit)
            kept.append(reason)
        return kept_hits, kept

    def cue_hits(self, doc: Doc) -> list[CueHit]:
        """The cues of every rationale sentence, boilerplate and other codes of guideline quotes
        left out."""
        text = folded(doc_text(doc))
        rationales = sorted(
            (part.start_char, part.end_char, part._.block_index)
            for part in spans_of(doc, "parts")
            if part.label_ == "rationale"
        )
        if not rationales:
            return []
        sentences = _sentence_chars(doc)
        pieces: list[tuple[int, int, int]] = []  # each rationale's sentences, cut to the rationale
        for start, end, index in rationales:
            first = max(0, bisect_right(sentences, (start, start)) - 1)  # the sentence holding start
            for a, b in sentences[first:]:
                if a >= end:
                    break
                if b > start:
                    pieces.append((max(a, start), min(b, end), index))
        live = self.cue_words.candidates(text, [(a, b) for a, b, _ in pieces])
        conditions = _condition_mentions(doc) if self.condition_rule is not None else []
        drugs = _other_drugs(doc) if self.drug_cues else {}
        categories = _item_categories(doc) if self.item_bound else {}
        hits: list[CueHit] = []
        granted = self._granted_by_the_next(text, pieces)
        for (a, b, index), cues, whole in zip(pieces, live, granted, strict=True):
            barred = self.barred_cues.get(categories.get(index), frozenset())
            # condition mentions stand for the indication's head noun: read where it may be
            read = [] if self.condition_rule in barred else conditions
            live_cues = sorted(cues - barred)
            hits.extend(self._sentence_hits(text, a, b, index, live_cues, read, drugs.get(index, []), whole))
        return hits

    def _granted_by_the_next(self, text: str, pieces: list[tuple[int, int, int]]) -> list[bool]:
        """For each rationale sentence, whether the next sentence of the same rationale opens by
        turning against it ("However, ..."): then the whole sentence is granted."""
        if self.conceding_turn is None:
            return [False] * len(pieces)
        turn = self.conceding_turn
        return [
            following is not None and following[2] == index and turn.match(text, following[0], following[1]) is not None
            for (_, _, index), following in zip(pieces, [*pieces[1:], None], strict=True)
        ]

    def _sentence_hits(
        self,
        text: str,
        start: int,
        end: int,
        index: int,
        live: list[int],
        conditions: list[tuple[int, int]],
        drugs: list[tuple[int, int]],
        granted_whole: bool = False,
    ) -> list[CueHit]:
        sentence = text[start:end]
        verdicts = [(m.start(), m.end()) for m in self.not_reason.finditer(sentence)]
        flat = " ".join(sentence.split())
        about_patient = self.patient_statement.search(flat) is not None
        # a sentence that quotes a guideline or speaks in general, and says nothing of this
        # patient, these records or this request: only a guideline's position is read in it
        quoted = not about_patient and (
            self.guideline_quote.search(flat) is not None or self.general_statement.search(flat) is not None
        )
        # told in the past or present perfect, and quoting no guideline: the story of this case
        about_patient = about_patient or (not quoted and self.narrative_statement.search(flat) is not None)
        edges = [0, *(m.end() for m in self.clause_edge.finditer(sentence)), len(sentence)]
        clauses = [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]
        # a position made on a condition: the condition in the position's own clause ("not recommended
        # as a primary modality, but a trial may be considered if ..." is one position of each kind)
        conditional = []  # (start, end, on a position's condition, on a refusal's condition)
        refusal = self.refusal_condition
        for a, b in clauses:
            on_condition = self.condition.search(sentence, a, b) is not None
            on_refusal = on_condition if refusal is None else refusal.search(sentence, a, b) is not None
            if on_condition or on_refusal:
                conditional.append((a, b, on_condition, on_refusal))
        conceded = [(0, len(sentence))] if granted_whole else [m.span() for m in self.concession.finditer(sentence)]
        # the cues read only about the patient, or only in general statements, where they are read
        live = [
            number
            for number in live
            if not (self.cue_rules[number].general_only if about_patient else self.cue_rules[number].patient_only)
        ]
        found = self._cue_matches(
            sentence, start, end, index, quoted, conditional, verdicts, head_nouns=False, conceded=conceded, live=live
        )
        found = [hit for hit in found if self._drug_near(hit, drugs)]
        if about_patient:
            found += self._clause_head_nouns(
                sentence, start, index, clauses, verdicts, found, conceded, live, conditions
            )
        found = _longest_per_code(sorted(found, key=lambda hit: (hit.start, hit.rule)), self.cue_rules)
        codes = {self.cue_rules[hit.rule].code for hit in found}
        return [hit for hit in found if not self.cue_rules[hit.rule].alone_only or len(codes) == 1]

    def _drug_near(self, hit: CueHit, drugs: list[tuple[int, int]]) -> bool:
        """Whether a cue that needs a drug beside it (``drug_near``) has one in its sentence."""
        side = self.cue_rules[hit.rule].drug_near
        if side is None:
            return True
        low, high = hit.sentence
        if side == "after":
            return any(hit.end <= s < min(hit.end + DRUG_REACH, high) for s, _ in drugs)
        return any(max(hit.start - DRUG_REACH, low) < e <= hit.start for _, e in drugs)

    def _clause_head_nouns(
        self,
        sentence: str,
        start: int,
        index: int,
        clauses: list[tuple[int, int]],
        verdicts: list[tuple[int, int]],
        cues: list[CueHit],
        conceded: list[tuple[int, int]],
        live: list[int],
        conditions: list[tuple[int, int]],
    ) -> list[CueHit]:
        """The head nouns of each clause of a sentence about the patient in which no cue is found,
        each clause its head nouns' evidence (the last resort: see ``_head_nouns_read``); the
        condition mentions of a clause (``condition_mentions``) are head nouns of ``indication``."""
        found = []
        # a guideline's position in the clause states no finding about the patient: it leaves
        # the clause to the conditions the patient has or lacks ("Nor does she have cervical
        # dystonia, the one neck condition for which the MTUS supports it")
        findings = [hit for hit in cues if self.cue_rules[hit.rule].code != "guideline"]
        positions = [hit.start for hit in cues if self.cue_rules[hit.rule].code == "guideline"]
        for a, b in clauses:
            if any(start + a <= hit.start < start + b for hit in findings):
                continue
            if overlaps_any(a, b, verdicts):
                continue  # the closing verdict's clause: its nouns name the request, not findings
            # what follows a guideline's position in its clause is the position's scope ("not
            # recommended for the treatment of low back pain"), not the patient's condition
            scope = min((p for p in positions if start + a <= p < start + b), default=start + b)
            nouns = []
            if not any(start + a <= hit.start < start + b for hit in cues):
                clause_verdicts = [(s - a, e - a) for s, e in verdicts]
                clause_conceded = [(s - a, e - a) for s, e in conceded]
                nouns = self._cue_matches(
                    sentence[a:b],
                    start + a,
                    start + b,
                    index,
                    False,
                    [],
                    clause_verdicts,
                    head_nouns=True,
                    conceded=clause_conceded,
                    live=live,
                )
                found += nouns
            found += self._condition_hits(
                index, start, (start + a, start + b), scope, conditions, verdicts, conceded, nouns
            )
        return found

    def _condition_hits(
        self,
        index: int,
        start: int,
        clause: tuple[int, int],
        scope: int,
        conditions: list[tuple[int, int]],
        verdicts: list[tuple[int, int]],
        conceded: list[tuple[int, int]],
        nouns: list[CueHit],
    ) -> list[CueHit]:
        """The condition mentions of a clause (before ``scope``) as head nouns of indication, read
        as the head nouns are: never in the closing verdict's words, and once where a head noun of
        indication found the same words (``verdicts`` and ``conceded`` count from ``start``)."""
        found = []
        for cs, ce in conditions[bisect_left(conditions, (clause[0], clause[0])) :]:
            if cs >= clause[1]:
                break
            if (
                ce <= clause[1]
                and cs < scope
                and not overlaps_any(cs - start, ce - start, verdicts)
                and not any(n.rule == self.condition_rule and (n.start, n.end) == (cs, ce) for n in nouns)
            ):
                granted = any(ga <= cs - start < gb for ga, gb in conceded)
                found.append(CueHit(index, cs, ce, clause, self.condition_rule, False, False, granted))
        return found

    def _cue_matches(
        self,
        sentence: str,
        start: int,
        end: int,
        index: int,
        quoted: bool,
        conditional: list[tuple[int, int, bool, bool]],
        verdicts: list[tuple[int, int]],
        head_nouns: bool,
        conceded: list[tuple[int, int]],
        live: list[int],
    ) -> list[CueHit]:
        """The matches of the cues (or of the head nouns only) in a sentence starting at ``start``;
        ``conditional`` holds the sentence's clauses that state a condition (and whether a refusal's
        condition too: ``refusal_conditions``), ``conceded`` the
        stretches that grant a finding, ``live`` the numbers of the cues worth trying."""
        found = []
        for number in live:
            rule = self.cue_rules[number]
            if rule.head_noun != head_nouns or (quoted and rule.code != "guideline"):
                continue
            pattern = self.cue_patterns[number]
            for m in pattern.finditer(sentence):
                if rule.negation_flips and overlaps_any(m.start(), m.end(), verdicts):
                    continue  # the closing verdict's own words
                # the ConText target: the cue's "target" group where it has one (the words a
                # negation before them denies), else the whole cue
                a, b = m.span("target") if "target" in pattern.groupindex and m.group("target") else m.span()
                clause = next((c for c in conditional if c[0] <= m.start() < c[1]), None)
                granted = any(ga <= m.start() < gb for ga, gb in conceded)
                found.append(
                    CueHit(
                        index,
                        start + a,
                        start + b,
                        (start, end),
                        number,
                        quoted,
                        clause is not None and clause[2],
                        granted,
                        clause is not None and clause[3],
                    )
                )
        return found

    def set_annotations(self, doc: Doc, reasons: list[FoundReason]) -> Doc:  # type: ignore[override]
        spans = []
        by_evidence: dict[tuple[int, int], list[dict]] = {}
        for reason in reasons:
            span = char_span(doc, reason.start, reason.end, label=reason.code)
            if span is not None:
                shared = by_evidence.setdefault((reason.start, reason.end), [])
                shared.append({"index": reason.index, "code": reason.code, "direction": reason.direction})
                span._.reasons = shared
                spans.append(span)
        self.write_spans(doc, "reasons", spans)
        return doc


def _ingredients(name: str, generic: str) -> set[str]:
    """A drug mention's words and its generic's ingredients ("hydrocodone / acetaminophen")."""
    return {name, *(part.strip() for part in generic.split("/") if part.strip())}


def _other_drugs(doc: Doc) -> dict[int, list[tuple[int, int]]]:
    """For each decision's index, the character bounds of the drug mentions that are not the
    decision's own drug: a mention that shares an ingredient with a drug of the item's header is
    its own ('a trial of pregabalin' in the rationale of a Lyrica request is no earlier care)."""
    mentions = [
        (span.start_char, span.end_char, _ingredients(span.text.lower(), (span._.generic or "").lower()))
        for span in spans_of(doc, "drugs")
    ]
    out: dict[int, list[tuple[int, int]]] = {}
    for item in spans_of(doc, "items"):
        if not item._.decision:
            continue
        own = set().union(*(i for s, e, i in mentions if item.start_char <= s and e <= item.end_char))
        out[item._.decision["index"]] = [(s, e) for s, e, i in mentions if not i & own]
    return out


def _item_categories(doc: Doc) -> dict[int, str | None]:
    """Each decision's item's DWC category (imr_services), by the decision's index."""
    services = [(span.start_char, span._.request or {}) for span in spans_of(doc, "services")]
    out: dict[int, str | None] = {}
    for item in spans_of(doc, "items"):
        if item._.decision:
            found = [request for start, request in services if item.start_char <= start < item.end_char]
            out[item._.decision["index"]] = found[0].get("dwc_category") if found else None
    return out


def _condition_mentions(doc: Doc) -> list[tuple[int, int]]:
    """Character bounds of the diagnoses and problems imr_diagnoses found, in text order."""
    return sorted(
        {(span.start_char, span.end_char) for group in ("diagnoses", "problems") for span in spans_of(doc, group)}
    )


def _outcomes(doc: Doc) -> dict[int, str]:
    """Each decision's outcome ("upheld" or "overturned"), by its index."""
    return {item._.decision["index"]: item.label_ for item in spans_of(doc, "items") if item._.decision}


def folded(text: str) -> str:
    """The text in lower case, character for character (offsets stay those of the text: a
    character whose lower case is longer, as "İ", is kept as it is)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


_FOLDABLE = re.compile(r"\\.|\(\?P[<=]\w+[>)]?|[A-Z]")


def folded_regex(pattern: str) -> re.Pattern:
    """A case-insensitive rule pattern compiled for ``folded`` text: its letters in lower case,
    escapes (``\\S``, ``\\W``) and group names as they are."""
    return re.compile(_FOLDABLE.sub(lambda m: m.group().lower() if len(m.group()) == 1 else m.group(), pattern))


def _longest_per_code(hits: list[CueHit], rules) -> list[CueHit]:
    """Of cues of one code that overlap, the longest ("the requested surgical intervention is
    not medically necessary" over its "surgical intervention")."""
    kept = []
    for hit in hits:
        code = rules[hit.rule].code
        rivals = [
            other
            for other in hits
            if other is not hit and rules[other.rule].code == code and other.start < hit.end and hit.start < other.end
        ]
        if all(
            other.end - other.start < hit.end - hit.start
            or (other.end - other.start == hit.end - hit.start and other.rule > hit.rule)
            for other in rivals
        ):
            kept.append(hit)
    return kept


def _sentence_chars(doc: Doc) -> list[tuple[int, int]]:
    """Character bounds of the doc's sentences, in order (read once per doc)."""
    words, _, starts = token_words(doc)
    return [(starts[s], starts[e - 1] + len(words[e - 1])) for s, e in sentence_bounds(doc) if s < e <= len(doc)]


def _settled_in_sentence(
    hits: list[CueHit], reasons: list[FoundReason], plain: list[bool]
) -> tuple[list[CueHit], list[FoundReason]]:
    """Where the cues of one code in one sentence disagree on the direction, leave out the plain
    affirmed ones: the negated or fixed cue says what the sentence finds of them ("the
    examination revealed no evidence of nerve compromise": findings named, and denied)."""
    directions: dict[tuple[int, int, str], set[str]] = {}
    for reason in reasons:
        directions.setdefault((reason.index, reason.start, reason.code), set()).add(reason.direction)
    kept = [
        (hit, reason)
        for hit, reason, affirmed_only in zip(hits, reasons, plain, strict=True)
        if not (affirmed_only and len(directions[(reason.index, reason.start, reason.code)]) > 1)
    ]
    return [hit for hit, _ in kept], [reason for _, reason in kept]


def _without_met_conditions(hits: list[CueHit], reasons: list[FoundReason]) -> list[FoundReason]:
    """Leave out a guideline position made on a condition (or quoted with one) when a finding
    about the patient follows it in the same rationale: that finding is the reason. A refusal
    ("not recommended for ...") is conditional only on a refusal's condition ("... unless")."""
    kept = []
    for number, (hit, reason) in enumerate(zip(hits, reasons, strict=True)):
        if reason.code == "guideline" and (hit.refusal_conditional if reason.refused else hit.conditional):
            later = any(
                other.index == hit.index and other.start > hit.sentence[1] and r.code != "guideline"
                for other, r in zip(hits[number + 1 :], reasons[number + 1 :], strict=True)
            )
            if later:
                continue
        kept.append(reason)
    return kept


def _first_of_each(reasons: list[FoundReason]) -> list[FoundReason]:
    """One reason per (decision, code, direction): the first statement, and before it any
    statement whose direction was read rather than taken from the outcome."""
    seen: set[tuple[int, str, str]] = set()
    out = []
    for reason in sorted(reasons, key=lambda r: (r.index, r.from_outcome, r.start)):
        key = (reason.index, reason.code, reason.direction)
        if key not in seen:
            seen.add(key)
            out.append(reason)
    return sorted(out, key=lambda r: (r.index, r.start))


@Language.factory(
    "imr_reasons",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"include_medspacy_defaults": True, "span_keys": {}},
)
def make_reasons(nlp: Language, name: str, include_medspacy_defaults: bool, span_keys: dict[str, str]) -> IMRReasons:
    return IMRReasons(nlp, name, include_medspacy_defaults, span_keys=span_keys)
