"""Letter header fields, the expert reviewer's credentials and the patient's age and sex.

The header is a two-column block of labels ("Case Number:", "Date Assigned:", "Application
Received:" ...) and values, which extractors write in different reading orders: row by row (our
PDF reader, ``pdftotext -raw``), every label first and then every value (plain ``pdftotext``,
pdfminer.six), or rows with a two-line label split around its value (``pdftotext -layout``,
pdfplumber). So a label's value is found by its kind (a date from ``imr_dates``, a case number's
shape, a priority word: resources/header.json ``value_types``), never by position alone: the
value inside a split label, else the value beside the label on its line, else, for the labels
left, the values standing alone on their lines, matched kind by kind in the labels' order. A
label found without a value of its kind is a warning (W021) naming its field.

Credentials come in two wordings: "State(s) of Licensure: A, B" / "Certification(s)/Specialty:
X, Y", or "Board Certified in X and is licensed to practice in Y". Labels and wordings are data
(resources/header.json). Evidence spans go to ``doc.spans["imr_header"]``, labelled by field, with
the normalised value in ``span._.header_value``; ``doc._.header_sources`` says where each header
field was read: ``header`` (its label) or ``statement`` (a sentence of the letter).
"""

import re
from bisect import bisect_left
from collections.abc import Callable
from typing import NamedTuple

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp import errors
from imr_nlp.components.base import RuleComponent, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.components.sections import section_bounds
from imr_nlp.extensions import spans_of, warn

CONTRACT = declare(
    Contract(
        factory="imr_header",
        reads=("spans:sections", "spans:dates", "span._.iso_date", "span._.role"),
        writes=(
            "spans:header",
            "span._.role",
            "span._.header_value",
            "doc._.header",
            "doc._.header_sources",
            "doc._.reviewer",
            "doc._.patient",
            "doc._.imr_warnings",
        ),
        rule_files=("header.json",),
        scores=("header", "injury_date", "ur_date", "reviewer.", "patient."),
    )
)

# Kinds whose value is the rule regex's group ``v``, where the rule matches (not found by kind).
POSITIONAL_KINDS = ("text", "names")
# Where a header field was read (doc._.header_sources), by the scope of the rule that read it.
SOURCE_OF_SCOPE = {"header": "header", "letter": "statement"}


class HeaderValue(NamedTuple):
    """A value of the header block told by its kind: a date, a case number, a priority word."""

    start: int
    end: int
    kind: str
    value: object


class HeaderLabel(NamedTuple):
    """A label of the header block whose value is found by its kind (``rule``: its index)."""

    rule: int
    field: str
    kind: str
    start: int
    end: int


class CellRules(NamedTuple):
    """The header table's cells not read that do not end the label block (header.json ``cells``)."""

    label_shape: re.Pattern
    max_length: int


class HeaderMatches(NamedTuple):
    """What ``IMRHeader.match`` found: (field, start, end, value) facts, each header field's source,
    and the fields whose label was found without a value of its kind."""

    found: list[tuple[str, int, int, object]]
    sources: dict[str, str]
    unread: list[str]


def mask_values(text: str, values: list[HeaderValue]) -> str:
    """The text with every value blanked out (its line breaks kept, offsets unchanged), so that a
    label split over two lines around its value ("Application  11/03/2016\n  Received:") reads
    as one label, and a line holding only values reads as blank."""
    return _blanked(text, values)


def _blanked(text: str, spans: list[HeaderValue] | list[HeaderLabel]) -> str:
    """The text with the characters of each span (anything with ``start`` and ``end``) turned
    to spaces, its line breaks kept."""
    chars = list(text)
    for span in spans:
        for i in range(span.start, span.end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def pair_labels(
    text: str, labels: list[HeaderLabel], values: list[HeaderValue], cells: CellRules | None = None
) -> dict[HeaderLabel, HeaderValue]:
    """Each label's value, told by its kind, in any reading order an extractor gives the header:
    the value inside a label split around it; else the value beside the label on its line; else,
    for the labels left, in their order, the next value of their kind among those standing alone
    on a line of the label block (a block of values after a block of labels, or interleaved;
    ``cells``: the table's other cells, which do not end the block)."""
    view = mask_values(text, values)
    values = sorted(values)
    starts = [v.start for v in values]
    paired: dict[HeaderLabel, HeaderValue] = {}
    used: set[HeaderValue] = set()
    for label in labels:
        within = values[bisect_left(starts, label.start) : bisect_left(starts, label.end)]
        inside = [v for v in within if v.end <= label.end and v.kind == label.kind]
        i = bisect_left(starts, label.end)
        beside = values[i] if i < len(values) and not text[label.end : values[i].start].strip(" \t") else None
        value = inside[0] if inside else beside if beside is not None and beside.kind == label.kind else None
        if value is not None and value not in used:
            paired[label] = value
            used.add(value)
    block_start, block_end = label_block(view, labels, text, cells)
    alone = [v for v in values if v not in used and block_start < v.start < block_end and _alone_on_line(view, v)]
    last = -1
    for label in sorted(labels, key=lambda lab: lab.start):
        if label in paired:
            continue
        value = next((v for v in alone if v.kind == label.kind and v.start > last and v not in used), None)
        if value is not None:
            paired[label] = value
            used.add(value)
            last = value.start
    return paired


def label_block(
    view: str, labels: list[HeaderLabel], text: str | None = None, cells: CellRules | None = None
) -> tuple[int, int]:
    """Where the block of labels and values runs: from the first label through the lines that
    hold nothing but labels and values (``view`` has its values blanked out; ``text`` is the
    text itself), and, given ``cells``, the table's other cells: a label of a field not read, a
    run of lines each holding one value of no known kind between two lines of values. It ends
    at the first line with anything else, so that a label without its value ("Date of Injury:
    unknown") never takes a date from the text further on."""
    if not labels:
        return len(view), len(view)
    blank = _blanked(view, labels)
    first = min(label.start for label in labels)
    lines = []  # (start, what is left of the line, whether it holds values and nothing else)
    line_start = first
    while line_start < len(blank):
        line_end = blank.find("\n", line_start)
        line_end = len(blank) if line_end < 0 else line_end
        left = blank[line_start:line_end].strip()
        valued = text is not None and not left and bool(text[line_start:line_end].strip())
        lines.append((line_start, left, valued))
        line_start = line_end + 1
    for at, (start, left, _) in enumerate(lines):
        if not left or (cells is not None and (cells.label_shape.match(left) or _among_values(lines, at, cells))):
            continue
        return first, start
    return first, len(blank)


def _among_values(lines: list[tuple[int, str, bool]], at: int, cells: CellRules) -> bool:
    """Whether line ``at`` is in a run of lines of one short value each (no sentence) whose
    neighbours on both sides are lines of values."""

    def cell(left: str) -> bool:
        return 0 < len(left) <= cells.max_length and not left.endswith((".", ";", ","))

    def valued_beyond(step: int) -> bool:
        i = at + step
        while 0 <= i < len(lines) and cell(lines[i][1]):
            i += step
        return 0 <= i < len(lines) and lines[i][2]

    return cell(lines[at][1]) and valued_beyond(-1) and valued_beyond(1)


def _alone_on_line(view: str, value: HeaderValue) -> bool:
    """Whether the value's line holds nothing but values (blank once values are masked)."""
    line_start = view.rfind("\n", 0, value.start) + 1
    line_end = view.find("\n", value.end)
    return not view[line_start : line_end if line_end >= 0 else len(view)].strip()


class IMRHeader(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        rules = self.rules["header.json"]
        self.fields = [(rule, re.compile(rule.pattern, re.I if rule.ignore_case else 0)) for rule in rules.fields]
        self.date_roles = {rule.field: rule.date_role for rule in rules.fields if rule.date_role}
        self.cells = (
            CellRules(re.compile(rules.cells.label_shape), rules.cells.max_cell_length) if rules.cells else None
        )
        self.value_types = [(t.kind, re.compile(t.pattern, re.I if t.ignore_case else 0)) for t in rules.value_types]
        self.name_separators = re.compile(rules.name_separators, re.I)
        self.name_stop_words = frozenset(w.lower() for w in rules.name_stop_words)
        compounds = sorted(rules.compound_names.names, key=len, reverse=True)
        self.compound_names = re.compile(
            r"\b(?:" + "|".join(r"\s+".join(map(re.escape, name.split())) for name in compounds) + r")\b", re.I
        )
        patient = rules.patient
        sex_words = "|".join(sorted((re.escape(w) for w in patient.sex_words), key=len, reverse=True))
        self.age = re.compile(patient.age.replace("{sex_words}", sex_words), re.I)
        self.sex_words = {w.lower(): sex for w, sex in patient.sex_words.items()}
        self.pronouns = {
            sex: re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.I)
            for sex, words in patient.pronouns.items()
        }
        self.patient_rules = patient

    def split_names(self, value: str) -> list[str]:
        """ "A, B and C." -> ["A", "B", "C"]; a compound name ("Physical Medicine and
        Rehabilitation") stays whole."""
        kept: list[str] = []

        def keep(m: re.Match) -> str:
            kept.append(m.group())
            return f"\x00{len(kept) - 1}\x00"

        protected = self.compound_names.sub(keep, value.strip().rstrip("."))
        names = []
        for part in self.name_separators.split(protected):
            part = re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], part)
            part = " ".join(part.split()).strip(" .")
            if part and part.lower() not in self.name_stop_words:
                names.append(part)
        return names

    def header_values(self, text: str, end: int, dates: list[tuple[int, int, str]]) -> list[HeaderValue]:
        """Every value of the header block (before ``end``) told by its kind: the dates, then the
        matches of each value type that overlap no date."""
        values = [HeaderValue(start, stop, "date", iso) for start, stop, iso in dates if stop <= end]
        date_starts = [v.start for v in values]  # dates are sorted and never overlap
        for kind, pattern in self.value_types:
            for m in pattern.finditer(text, 0, end):
                before = bisect_left(date_starts, m.end()) - 1  # the last date starting before the match ends
                if before < 0 or values[before].end <= m.start():
                    values.append(HeaderValue(m.start(), m.end(), kind, m.group()))
        return values

    def header_labels(self, text: str, end: int, values: list[HeaderValue]) -> list[HeaderLabel]:
        """The labels of the header block whose value is found by its kind: a field's first rule
        whose label is there (read with values blanked out, so a label split around its value is
        one)."""
        view = mask_values(text[:end], values)
        labels: dict[str, HeaderLabel] = {}
        for index, (rule, pattern) in enumerate(self.fields):
            if rule.scope != "header" or rule.kind in POSITIONAL_KINDS or rule.field in labels:
                continue
            m = pattern.search(view)
            if m:
                labels[rule.field] = HeaderLabel(index, rule.field, rule.kind, m.start(), m.end())
        return sorted(labels.values(), key=lambda label: label.start)

    def match(self, doc: Doc) -> HeaderMatches:
        """Every header, credential and patient fact, where each header field was read, and the
        header labels whose value could not be read."""
        text = doc_text(doc)
        found: list[tuple[str, int, int, object]] = []
        sources: dict[str, str] = {}
        bounds = section_bounds(doc, "header")
        first_section = min(
            (s.start_char for s in spans_of(doc, "sections") if s.label_ != "header"),
            default=len(text),
        )
        header_end = bounds[1] if bounds else min(len(text), max(first_section, 600))
        dates = sorted((s.start_char, s.end_char, s._.iso_date) for s in spans_of(doc, "dates"))
        date_starts = [start for start, _, _ in dates]
        values = self.header_values(text, header_end, dates)
        labels = self.header_labels(text, header_end, values)
        pairs = pair_labels(text[:header_end], labels, values, self.cells)
        paired = {label.rule: value for label, value in pairs.items()}
        label_of = {label.rule: label for label in labels}
        done: set[str] = set()
        for index, (rule, pattern) in enumerate(self.fields):
            if rule.field in done:
                continue
            if rule.scope == "header" and rule.kind not in POSITIONAL_KINDS:
                value = paired.get(index)
                if value is None:
                    continue
                found.append((rule.field, value.start, value.end, value.value))
                flag_span = (label_of[index].start, label_of[index].end)
            else:
                m = pattern.search(text, 0, header_end if rule.scope == "header" else len(text))
                if not m:
                    continue
                if rule.kind == "date":
                    i = bisect_left(date_starts, m.end())
                    if i == len(dates) or text[m.end() : dates[i][0]].strip():  # only space between
                        continue
                    found.append((rule.field, dates[i][0], dates[i][1], dates[i][2]))
                else:
                    value = m.group("v")
                    found.append(
                        (
                            rule.field,
                            m.start("v"),
                            m.end("v"),
                            self.split_names(value) if rule.kind == "names" else value,
                        )
                    )
                flag_span = (m.start(), m.end())
            done.add(rule.field)
            sources[rule.field] = SOURCE_OF_SCOPE[rule.scope]
            if rule.flag:
                found.append((rule.flag, *flag_span, True))
                done.add(rule.flag)
        unread = [label.field for label in labels if label.rule not in paired]
        found.extend(self._patient(doc, text))
        return HeaderMatches(found, sources, unread)

    def _patient(self, doc: Doc, text: str) -> list[tuple[str, int, int, object]]:
        """Age and sex from the case summary (else the whole letter), sex also from pronouns."""
        found: list[tuple[str, int, int, object]] = []
        summary = section_bounds(doc, "case_summary")
        s_start, s_end = summary if summary else (0, len(text))
        m = self.age.search(text, s_start, s_end) or self.age.search(text)
        if m:
            age = int(m.group("age"))
            if 0 < age < self.patient_rules.max_age:
                found.append(("age", m.start("age"), m.end("age"), age))
            if m.group("sex"):
                found.append(("sex", m.start("sex"), m.end("sex"), self.sex_words[m.group("sex").lower()]))
        if not any(f[0] == "sex" for f in found):
            counts = {sex: len(pattern.findall(text, s_start, s_end)) for sex, pattern in self.pronouns.items()}
            he, she = counts.get("male", 0), counts.get("female", 0)
            ratio = self.patient_rules.pronoun_ratio
            if he + she >= self.patient_rules.pronoun_min_count and (
                he >= ratio * max(she, 1) or she >= ratio * max(he, 1)
            ):
                found.append(("sex", s_start, s_start, "male" if he > she else "female"))
        return found

    def set_annotations(self, doc: Doc, matches: HeaderMatches) -> Doc:
        header: dict = {}
        reviewer: dict = {"specialties": [], "licensure_states": [], "board_certified": None}
        patient: dict = {"age": None, "sex": None}
        spans = []
        for field, start, end, value in matches.found:
            if field in reviewer:
                reviewer[field] = value
            elif field in patient:
                patient[field] = value
            else:
                header[field] = value
            span = labelled_span(doc, start, end, field, header_value=value)
            if span is not None:
                spans.append(span)
        doc._.header = header
        doc._.header_sources = {field: source for field, source in matches.sources.items() if field in header}
        doc._.reviewer = reviewer
        doc._.patient = patient
        self.write_spans(doc, "header", spans)
        self._give_date_roles(doc, matches.found)
        if matches.unread:
            warn(doc, errors.warning("W021", fields=", ".join(matches.unread)))
        return doc

    def _give_date_roles(self, doc: Doc, found: list[tuple[str, int, int, object]]) -> None:
        """A date read as a header field takes the field's role. imr_dates reads the words just
        before a date; in a header whose labels and values an extractor wrote apart those are
        another label's, or none, while the header pairs its labels and values as a block."""
        read_as = {(start, end): self.date_roles[field] for field, start, end, _ in found if field in self.date_roles}
        for span in spans_of(doc, "dates"):
            role = read_as.get((span.start_char, span.end_char))
            if role is not None and span._.role != role:
                span._.role = role


@Language.factory(
    "imr_header",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_header(nlp: Language, name: str, span_keys: dict[str, str], scorer: Callable[..., dict]) -> IMRHeader:
    return IMRHeader(nlp, name, span_keys=span_keys, scorer=scorer)
