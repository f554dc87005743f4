"""Letter header fields, the expert reviewer's credentials and the patient's age and sex.

Header labels ("Case Number:", "Date Assigned:", "Application Received:" ...) are read from the
header block, whose PDF layout puts two columns on a line; a date label's value is the date
``imr_dates`` found right after it. Credentials come in two wordings: "State(s) of Licensure:
A, B" / "Certification(s)/Specialty: X, Y", or "Board Certified in X and is licensed to practice
in Y". Labels and wordings are data (resources/header.json). Evidence spans go to
``doc.spans["imr_header"]``, labelled by field, with the normalised value in ``span._.header_value``.
"""

import re
from bisect import bisect_left
from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.components.sections import section_bounds
from imr_nlp.extensions import spans_of

CONTRACT = declare(
    Contract(
        factory="imr_header",
        reads=("spans:sections", "spans:dates", "span._.iso_date"),
        writes=("spans:header", "span._.header_value", "doc._.header", "doc._.reviewer", "doc._.patient"),
        rule_files=("header.json",),
        scores=("header", "injury_date", "ur_date", "reviewer.", "patient."),
    )
)


class IMRHeader(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        rules = self.rules["header.json"]
        self.fields = [(rule, re.compile(rule.pattern, re.I if rule.ignore_case else 0)) for rule in rules.fields]
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

    def match(self, doc: Doc) -> list[tuple[str, int, int, object]]:
        """(field, start_char, end_char, value) for every header, credential and patient fact."""
        text = doc_text(doc)
        found: list[tuple[str, int, int, object]] = []
        bounds = section_bounds(doc, "header")
        first_section = min(
            (s.start_char for s in spans_of(doc, "sections") if s.label_ != "header"),
            default=len(text),
        )
        header_end = bounds[1] if bounds else min(len(text), max(first_section, 600))
        dates = sorted((s.start_char, s.end_char, s._.iso_date) for s in spans_of(doc, "dates"))
        date_starts = [start for start, _, _ in dates]
        done: set[str] = set()
        for rule, pattern in self.fields:
            if rule.field in done:
                continue
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
                    (rule.field, m.start("v"), m.end("v"), self.split_names(value) if rule.kind == "names" else value)
                )
            done.add(rule.field)
            if rule.flag:
                found.append((rule.flag, m.start(), m.end(), True))
                done.add(rule.flag)
        found.extend(self._patient(doc, text))
        return found

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

    def set_annotations(self, doc: Doc, matches) -> Doc:
        header: dict = {}
        reviewer: dict = {"specialties": [], "licensure_states": [], "board_certified": None}
        patient: dict = {"age": None, "sex": None}
        spans = []
        for field, start, end, value in matches:
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
        doc._.reviewer = reviewer
        doc._.patient = patient
        self.write_spans(doc, "header", spans)
        return doc


@Language.factory(
    "imr_header",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_header(nlp: Language, name: str, span_keys: dict[str, str], scorer: Callable[..., dict]) -> IMRHeader:
    return IMRHeader(nlp, name, span_keys=span_keys, scorer=scorer)
