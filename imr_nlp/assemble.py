"""Doc -> Determination: pure assembly from the spans and extensions the components wrote.

No recognition happens here; every value is read from a span group, mapped back to the source
text through the offset map, and checked by the pydantic models at this one boundary.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from imr_nlp import errors, models
from imr_nlp.doc_views import SpanIndex, doc_text
from imr_nlp.extensions import VALUES_MARK, restore_values, spans_of
from imr_nlp.normalize.text import OffsetMap

# What a text on one line never holds: line and page breaks, and the characters PDFs use for
# soft hyphens (U+FFFE, U+00AD), which the cleaned text has read.
_OFF_ONE_LINE = re.compile("[\r\n\f\v\u2028\u2029\x85\ufffe\u00ad]")


class _Source:
    """The source text and the way back to it from cleaned-text offsets."""

    def __init__(self, doc: Doc) -> None:
        self.clean = doc_text(doc)
        self.text = doc._.source_text if doc._.source_text is not None else self.clean
        self.map = OffsetMap.from_dict(doc._.offset_map) if doc._.offset_map else OffsetMap.identity(len(self.clean))
        self.indexes: dict[str, SpanIndex] = {}

    def inside(self, doc: Doc, group: str, start: int, end: int) -> list[Span]:
        """The spans of a span group lying inside [start, end) (the group indexed once per doc)."""
        if group not in self.indexes:
            self.indexes[group] = SpanIndex(list(spans_of(doc, group)))
        return self.indexes[group].within(start, end)

    def clean_words(self, span: Span) -> str:
        """The span's cleaned text with runs of white space collapsed (slicing the text once is
        much faster than ``span.text``, which visits every token)."""
        return " ".join(self.clean[span.start_char : span.end_char].split())

    def evidence(self, start_char: int, end_char: int) -> dict:
        """The source offsets of a cleaned-text span and its text as written, on one line: a
        span the source writes across a line break, or with a PDF's soft hyphen, reads as the
        cleaned text does ("right shoulder injury", "11-21-2016", "Electrodiagnostic")."""
        start, end = self.map.span(start_char, end_char)
        text = self.text[start:end]
        if _OFF_ONE_LINE.search(text):
            text = " ".join(self.clean[start_char:end_char].split())
        return {"text": text, "start": start, "end": end}


def assertion_fields(span: Span) -> dict:
    """The ConText flags of a mention and the cues that set them, as Assertions fields."""
    ext = span._  # one Underscore object for the six reads
    return {
        "negated": bool(ext.is_negated),
        "historical": bool(ext.is_historical),
        "hypothetical": bool(ext.is_hypothetical),
        "uncertain": bool(ext.is_uncertain),
        "family": bool(ext.is_family),
        "cues": [f"{c['category']}: {c['cue']}" for c in ext.context_cues or []],
    }


def _medication(src: _Source, span: Span) -> models.Medication:
    ext = span._
    return models.Medication(
        **src.evidence(span.start_char, span.end_char),
        generic=ext.generic,
        drug_class=ext.drug_class,
        **assertion_fields(span),
    )


def diagnosis_mentions(doc: Doc, src: _Source) -> list[models.Mention]:
    """The diagnoses, and the problems ConText marks negated, uncertain, historical or about a
    relative (a bare condition word in a guideline quote is not a fact about the patient), in
    text order. A listed diagnosis ConText negates, makes hypothetical or uncertain ("has not been
    diagnosed with X", "if he develops X", "possible X") is a problem."""
    diagnoses = [
        (s, "problem" if s._.is_negated or s._.is_hypothetical or s._.is_uncertain else "diagnosis")
        for s in spans_of(doc, "diagnoses")
    ]
    problems = [
        (s, "problem")
        for s in spans_of(doc, "problems")
        if s._.is_negated or s._.is_uncertain or s._.is_historical or s._.is_family
    ]
    return [
        models.Mention(
            **src.evidence(s.start_char, s.end_char),
            kind=kind,
            icd10=s._.icd10,
            icd10_description=s._.icd10_description,
            icd10_by=s._.icd10_by,
            long_form=s._.long_form,
            **assertion_fields(s),
        )
        for s, kind in sorted(diagnoses + problems, key=lambda pair: (pair[0].start_char, pair[0].end_char))
    ]


def _treatment(doc: Doc, src: _Source, item: Span, decision: dict) -> models.Treatment:
    """The item's Treatment: the fields ``imr_services`` decided (``span._.treatment``), the
    drug's offsets mapped to the source text with its ConText flags, and the body sites."""
    fields = dict(item._.treatment or {})
    drug = fields.pop("drug", None)
    if drug is not None:
        first = src.inside(doc, "drugs", drug["start"], drug["end"])[0]
        fields["drug"] = models.Medication(
            **src.evidence(drug["start"], drug["end"]),
            generic=drug["generic"],
            drug_class=drug["drug_class"],
            class_by=drug["class_by"],
            **assertion_fields(first),
        )
    sites = src.inside(doc, "body_sites", item.start_char, item.end_char)
    return models.Treatment(**fields, partial=bool(decision.get("partial")), body_sites=[s._.body_site for s in sites])


def request_treatment(doc: Doc, item: Span) -> models.Treatment:
    """The Treatment of one item span of a doc (``imr_nlp.parse_request``)."""
    return _treatment(doc, _Source(doc), item, item._.decision or {})


def _bases(doc: Doc, src: _Source) -> dict[tuple, models.GuidelineBasis]:
    """(decision index, part) -> its GuidelineBasis, reading every citation span once."""
    verdicts: dict[tuple, bool | None] = {}
    citations: dict[tuple, list[models.Citation]] = {}
    for span in spans_of(doc, "citations"):
        ext = span._
        if span.label_ == "BASIS":
            basis = ext.basis
            verdicts[(basis["index"], basis["part"])] = basis["mtus_based"]
        elif span.label_ == "CITATION":
            c = ext.citation
            citations.setdefault((c["index"], c["part"]), []).append(
                models.Citation(
                    **src.evidence(span.start_char, span.end_char),
                    source=c["source"],
                    mtus=c["mtus"],
                    guideline=c["guideline"],
                    topics=c["topics"],
                    pages=c["pages"],
                )
            )
    return {
        key: models.GuidelineBasis(mtus_based=verdicts.get(key), citations=citations.get(key, []))
        for key in verdicts.keys() | citations.keys()
    }


def _decision(doc: Doc, src: _Source, item: Span, parts: dict, bases: dict, reasons: dict) -> models.Decision:
    """One item's Decision: outcome, necessity (the outcome's meaning where the outcome is read,
    so that the two never contradict; else the rationale's conclusion), treatment, the two
    guideline bases and the rationale."""
    info = item._.decision or {}
    index = info.get("index")
    rationale = parts.get((index, "rationale"))
    medically_necessary = info.get("medically_necessary")
    outcome = item.label_ if item.label_ in ("upheld", "overturned") else None
    if outcome is not None:
        # the contract's meaning of the outcome (imr_conclusions warns where the rationale disagrees)
        medically_necessary = outcome == "overturned"
    ev = src.evidence(item.start_char, item.end_char)
    return models.Decision(
        item=src.clean_words(item),
        start=ev["start"],
        end=ev["end"],
        outcome=outcome,
        medically_necessary=medically_necessary,
        treatment=_treatment(doc, src, item, info),
        claims_administrator=bases.get((index, "claims_administrator")) or models.GuidelineBasis(),
        reviewer_basis=bases.get((index, "reviewer_basis")) or models.GuidelineBasis(),
        rationale=src.clean_words(rationale) if rationale is not None else "",
        reasons=reasons.get(index, []),
    )


def _reasons(src: _Source, doc: Doc) -> dict[int, list[models.Reason]]:
    """Decision index -> its reasons (imr_reasons), evidence mapped to the source text."""
    found: dict[int, list[models.Reason]] = {}
    evidence_read: set[tuple[int, int]] = set()
    for span in spans_of(doc, "reasons"):
        if (span.start_char, span.end_char) in evidence_read:
            continue  # a sentence of two reasons: its spans share one list
        evidence_read.add((span.start_char, span.end_char))
        for reason in span._.reasons or []:
            found.setdefault(reason["index"], []).append(
                models.Reason(
                    code=reason["code"], direction=reason["direction"], **src.evidence(span.start_char, span.end_char)
                )
            )
    return found


def _letter_warnings(doc: Doc, src: _Source, decisions: list[models.Decision], layout: str) -> list[str]:
    """The components' warnings, then the letter's own: empty, no decision read (naming a known
    layout), outcomes unread in a layout the rules are not written for."""
    warnings = list(doc._.imr_warnings or [])
    if not src.clean.strip():
        warnings.append(errors.warning("W001"))
    elif not decisions and layout != "unknown":
        warnings.append(errors.warning("W008", layout=layout))
    elif not decisions and not any(errors.is_truncation(w) for w in warnings):
        warnings.append(errors.warning("W002"))
    unread = [i for i, d in enumerate(decisions) if d.outcome is None]
    if unread and doc._.layout_read_as_primary is False:
        warnings.append(errors.warning("W009", layout=layout, decisions=", ".join(map(str, unread))))
    return warnings


def _values_lost(doc: Doc) -> bool:
    """Whether the doc's span groups were written by the pipeline (they carry its mark) but their
    extension values were not stored with them (a DocBin without user data, of a pipeline without
    ``imr_portable``, whose ``imr_values`` group carries them)."""
    restore_values(doc)
    marked = [group for group in doc.spans.values() if group.attrs.get(VALUES_MARK)]
    return any(len(group) for group in marked) and not any(isinstance(key, tuple) for key in doc.user_data)


def assemble(doc: Doc) -> models.Determination:
    """The Determination of a processed Doc."""
    if _values_lost(doc):
        raise errors.ValuesNotStoredError()
    src = _Source(doc)
    header = dict(doc._.header or {})
    sources = {field: (doc._.header_sources or {}).get(field, "header") for field in header}
    dates = [
        models.DateMention(**src.evidence(s.start_char, s.end_char), value=s._.iso_date, role=s._.role or "other")
        for s in spans_of(doc, "dates")
    ]
    for field, role in (("injury_date", "injury"), ("ur_date", "utilization_review")):
        if field not in header:
            first = next((d.value for d in dates if d.role == role), None)
            if first is not None:
                header[field] = first
                sources[field] = "body"
    parts = {(span._.block_index, span.label_): span for span in spans_of(doc, "parts")}
    bases = _bases(doc, src)
    reasons = _reasons(src, doc)
    decisions = [_decision(doc, src, item, parts, bases, reasons) for item in spans_of(doc, "items")]
    layout = doc._.layout or "unknown"
    return models.Determination(
        layout=layout,
        case_number=header.get("case_number"),
        date_assigned=header.get("date_assigned"),
        decision_date=header.get("decision_date"),
        application_received=header.get("application_received"),
        priority=header.get("priority"),
        reviewer=models.Reviewer(**(doc._.reviewer or {})),
        patient=models.Patient(**(doc._.patient or {})),
        injury_date=header.get("injury_date"),
        ur_date=header.get("ur_date"),
        injury_date_source=sources.get("injury_date"),
        ur_date_source=sources.get("ur_date"),
        diagnoses=diagnosis_mentions(doc, src),
        medications=[_medication(src, s) for s in spans_of(doc, "drugs")],
        dates=dates,
        decisions=decisions,
        warnings=_letter_warnings(doc, src, decisions, layout),
    )


def register_determination() -> None:
    """Give every Doc ``doc._.determination`` (assembled when read); safe to call again."""
    if not Doc.has_extension("determination"):
        Doc.set_extension("determination", getter=assemble)


register_determination()
