"""Letter header fields, the expert reviewer's credentials and the patient's age and sex.

Header labels ("Case Number:", "Date Assigned:", "Application Received:" ...) are read from the
header block, whose PDF layout puts two columns on a line. Credentials come in two wordings:
"State(s) of Licensure: A, B" / "Certification(s)/Specialty: X, Y", or "Board Certified in X and
is licensed to practice in Y". Evidence spans go to ``doc.spans["imr_header"]``, labelled by field,
with the normalised value in ``span._.value``.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import Component, char_span, doc_text
from imr_nlp.components.sections import section_bounds
from imr_nlp.extensions import SPAN_GROUPS
from imr_nlp.normalize.dates import DATE_PATTERN, iso_from_match

_DATE = DATE_PATTERN.pattern
_HEADER_FIELDS = {
    "case_number": re.compile(r"Case\s+Number\s*:\s*(?P<v>[A-Z]{2}\d{2}-\d{5,8}|\S+)"),
    "date_assigned": re.compile(rf"Date\s+Assigned\s*:\s*(?P<v>{_DATE})", re.I),
    "decision_date": re.compile(rf"Decision\s+Date\s*:\s*(?P<v>{_DATE})", re.I),
    "application_received": re.compile(rf"Application\s+Received\s*:\s*(?P<v>{_DATE})", re.I),
    "injury_date": re.compile(rf"Date\s+of\s+Injury\s*:\s*(?P<v>{_DATE})", re.I),
    "ur_date": re.compile(rf"UR\s+Denial\s+Date\s*:\s*(?P<v>{_DATE})", re.I),
    "priority": re.compile(r"Priority\s*:\s*(?P<v>Standard|Expedited|Urgent|[A-Z][a-z]+)"),
}
_LICENSURE = re.compile(r"State\(s\)\s+of\s+Licensure\s*:\s*(?P<v>[^\n]+)", re.I)
_SPECIALTY = re.compile(r"Certification\(s\)\s*/\s*Specialty\s*:\s*(?P<v>[^\n]+)", re.I)
_BOARD = re.compile(r"\bBoard\s+Certified\s+in\s+(?P<v>.+?)(?=\s+and\s+(?:is\s+)?licensed|[.;\n])", re.I)
_LICENSED = re.compile(r"\blicensed\s+to\s+practice\s+in\s+(?P<v>.+?)(?=\.\s|[;\n]|\.$|$)", re.I)
_AGE = re.compile(
    r"\b(?P<age>\d{1,3})[\s-]+years?[\s-]+old"
    r"(?:\s*,?\s*(?:(?:right|left)[- ]hand(?:ed)?\s+)?(?P<sex>male|female|man|woman|gentleman|lady|boy|girl)\b)?",
    re.I,
)
_SEX_WORDS = {
    "male": "male",
    "man": "male",
    "gentleman": "male",
    "boy": "male",
    "female": "female",
    "woman": "female",
    "lady": "female",
    "girl": "female",
}
_HE = re.compile(r"\b(?:he|his|him|himself)\b", re.I)
_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.I)
_SPLIT_LIST = re.compile(r"\s*(?:,|;|\band\b)\s*")


def _split_names(value: str) -> list[str]:
    names = []
    for part in _SPLIT_LIST.split(value.strip().rstrip(".")):
        part = " ".join(part.split()).strip(" .")
        if part and part.lower() not in ("and", "the"):
            names.append(part)
    return names


class IMRHeader(Component):
    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)

    def match(self, doc: Doc) -> list[tuple[str, int, int, object]]:
        """(field, start_char, end_char, value) for every header, credential and patient fact."""
        text = doc_text(doc)
        found: list[tuple[str, int, int, object]] = []
        bounds = section_bounds(doc, "header")
        first_section = min(
            (s.start_char for s in doc.spans.get(SPAN_GROUPS["sections"], []) if s.label_ != "header"),
            default=len(text),
        )
        header_end = bounds[1] if bounds else min(len(text), max(first_section, 600))
        header_text = text[:header_end]
        for field, pattern in _HEADER_FIELDS.items():
            m = pattern.search(header_text)
            if not m:
                continue
            raw = m.group("v")
            if field in ("case_number", "priority"):
                value: object = raw
            else:
                dm = DATE_PATTERN.fullmatch(raw)
                value = iso_from_match(dm) if dm else None
            if value is not None:
                found.append((field, m.start("v"), m.end("v"), value))

        for label, pattern in (("licensure_states", _LICENSURE), ("specialties", _SPECIALTY)):
            m = pattern.search(text)
            if m:
                found.append((label, m.start("v"), m.end("v"), _split_names(m.group("v"))))
        if not any(f[0] == "specialties" for f in found):
            m = _BOARD.search(text)
            if m:
                found.append(("specialties", m.start("v"), m.end("v"), _split_names(m.group("v"))))
                found.append(("board_certified", m.start(), m.end(), True))
        if not any(f[0] == "licensure_states" for f in found):
            m = _LICENSED.search(text)
            if m:
                found.append(("licensure_states", m.start("v"), m.end("v"), _split_names(m.group("v"))))

        summary = section_bounds(doc, "case_summary")
        s_start, s_end = summary if summary else (0, len(text))
        m = _AGE.search(text, s_start, s_end) or _AGE.search(text)
        if m:
            age = int(m.group("age"))
            if 0 < age < 120:
                found.append(("age", m.start("age"), m.end("age"), age))
            if m.group("sex"):
                found.append(("sex", m.start("sex"), m.end("sex"), _SEX_WORDS[m.group("sex").lower()]))
        if not any(f[0] == "sex" for f in found):
            summary_text = text[s_start:s_end]
            he, she = len(_HE.findall(summary_text)), len(_SHE.findall(summary_text))
            if he + she >= 2 and (he >= 3 * max(she, 1) or she >= 3 * max(he, 1)):
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
            span = char_span(doc, start, end, label=field)
            if span is not None:
                span._.value = value
                spans.append(span)
        doc._.header = header
        doc._.reviewer = reviewer
        doc._.patient = patient
        doc.spans[SPAN_GROUPS["header"]] = spans
        return doc


@Language.factory(
    "imr_header", requires=["doc.spans"], assigns=["doc._.header", "doc._.reviewer", "doc._.patient"], default_config={}
)
def make_header(nlp: Language, name: str) -> IMRHeader:
    return IMRHeader(nlp, name)
