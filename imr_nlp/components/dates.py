"""Calendar dates in every form the letters use, normalised to ISO, with a role.

Roles come from cue phrases around the date, header labels ("Date of Injury:", "UR Denial
Date:") first (resources/dates.json): injury, utilization_review, prescribed, report, other.
Writes ``doc.spans["imr_dates"]`` with ``span._.iso_date`` and ``span._.role``.
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, doc_text, labelled_span
from imr_nlp.extensions import SPAN_GROUPS
from imr_nlp.normalize.dates import compile_tables, find_dates


class IMRDates(RuleComponent):
    resource_names = ("dates.json",)

    def _compile(self) -> None:
        rules = self.rules["dates.json"]
        self.date_tables = compile_tables(rules.months)
        self.window = rules.window
        self.roles = [
            (
                r.role,
                re.compile(r.before, re.I) if r.before else None,
                re.compile(r.after, re.I) if r.after else None,
            )
            for r in rules.roles
        ]

    def match(self, doc: Doc) -> list[tuple[int, int, str, str]]:
        """(start, end, iso, role) for every date in the doc."""
        text = doc_text(doc)
        return [
            (start, end, iso, self.role(text, start, end)) for start, end, iso in find_dates(text, self.date_tables)
        ]

    def role(self, text: str, start: int, end: int) -> str:
        """The role of the date at [start, end) from the cue phrases of its sentence."""
        before_start = max(0, start - self.window)
        before = text[before_start:start]
        cut = max(before.rfind(". "), before.rfind("\n"))
        if cut >= 0:
            before = before[cut + 1 :]
        after = text[end : end + self.window].split("\n", 1)[0]
        for role, before_re, after_re in self.roles:
            if before_re is not None and before_re.search(before):
                return role
            if after_re is not None and after_re.search(after):
                return role
        return "other"

    def set_annotations(self, doc: Doc, matches) -> Doc:
        spans = (labelled_span(doc, start, end, "DATE", iso_date=iso, role=role) for start, end, iso, role in matches)
        doc.spans[SPAN_GROUPS["dates"]] = [span for span in spans if span is not None]
        return doc


@Language.factory("imr_dates", requires=[], assigns=["doc.spans", "span._.iso_date", "span._.role"], default_config={})
def make_dates(nlp: Language, name: str) -> IMRDates:
    return IMRDates(nlp, name)
