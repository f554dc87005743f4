"""Calendar dates in every form the letters use, normalised to ISO, with a role.

Roles come from cue phrases around the date, header labels ("Date of Injury:", "UR Denial
Date:") first (resources/dates.json): injury, utilization_review, prescribed, report, other.
Writes ``doc.spans["imr_dates"]`` with ``span._.iso_date`` and ``span._.role``.
"""

import re
from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp import errors
from imr_nlp.components.base import RuleComponent, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import warn
from imr_nlp.normalize.dates import compile_tables, scan_dates

CONTRACT = declare(
    Contract(
        factory="imr_dates",
        reads=(),
        writes=("spans:dates", "span._.iso_date", "span._.role", "doc._.imr_warnings"),
        rule_files=("dates.json",),
        scores=("dates",),
    )
)


class IMRDates(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        rules = self.rules["dates.json"]
        years = rules.plausible_years
        self.date_tables = compile_tables(
            rules.months, [f.pattern for f in rules.formats], (years.first, years.last) if years else (1, 9999)
        )
        self.window = rules.window
        self.roles = [
            (
                r.role,
                re.compile(r.before, re.I) if r.before else None,
                re.compile(r.after, re.I) if r.after else None,
                r.across_lines,
            )
            for r in rules.roles
        ]

    def match(self, doc: Doc) -> tuple[list[tuple[int, int, str, str]], list[str]]:
        """(start, end, iso, role) for every date in the doc, and the dates written with a year
        outside ``plausible_years`` (as written)."""
        text = doc_text(doc)
        dates, implausible = scan_dates(text, self.date_tables)
        return (
            [(start, end, iso, self.role(text, start, end)) for start, end, iso in dates],
            [text[start:end] for start, end in implausible],
        )

    def role(self, text: str, start: int, end: int) -> str:
        """The role of the date at [start, end) from the cue phrases of its sentence."""
        before_start = max(0, start - self.window)
        window = text[before_start:start]
        cut = max(window.rfind(". "), window.rfind("\n"))
        before = window[cut + 1 :] if cut >= 0 else window
        after = text[end : end + self.window].split("\n", 1)[0]
        for role, before_re, after_re, across_lines in self.roles:
            if before_re is not None and before_re.search(window if across_lines else before):
                return role
            if after_re is not None and after_re.search(after):
                return role
        return "other"

    def set_annotations(self, doc: Doc, matches) -> Doc:
        dates, implausible = matches
        spans = (labelled_span(doc, start, end, "DATE", iso_date=iso, role=role) for start, end, iso, role in dates)
        self.write_spans(doc, "dates", [span for span in spans if span is not None])
        first, last = self.date_tables.years
        for written in implausible:
            warn(doc, errors.warning("W013", written=written, first=first, last=last))
        return doc


@Language.factory(
    "imr_dates",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_dates(nlp: Language, name: str, span_keys: dict[str, str], scorer: Callable[..., dict]) -> IMRDates:
    return IMRDates(nlp, name, span_keys=span_keys, scorer=scorer)
