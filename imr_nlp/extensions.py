"""Every Doc and Span extension imr_nlp uses, declared in one table and registered idempotently.

Extensions hold plain, serialisable values (str, int, float, bool, list, dict); pydantic objects
appear only at the API boundary, through the ``determination`` getter.
"""

from __future__ import annotations

from typing import Any

from spacy.tokens import Doc, Span

# name -> default value
DOC_EXTENSIONS: dict[str, Any] = {
    # the string given to the pipeline, before cleaning (lone surrogates as U+FFFD, cut to the budget)
    "source_text": None,
    "offset_map": None,  # OffsetMap.to_dict(): cleaned-text offsets -> source offsets
    "header": None,  # {"case_number": ..., "date_assigned": ..., ...}
    "reviewer": None,  # {"specialties": [...], "licensure_states": [...], "board_certified": ...}
    "patient": None,  # {"age": ..., "sex": ...}
    "imr_warnings": None,  # list[str]: what could not be parsed and why
}

SPAN_EXTENSIONS: dict[str, Any] = {
    "value": None,  # the normalised value of a span (ISO date, strength dict, frequency code, ...)
    "role": None,  # a date's role: injury, utilization_review, prescribed, report, other
    "generic": None,  # a drug mention's lower-case generic name(s)
    "drug_class": None,  # a drug mention's class
    "dwc_class": None,  # a drug mention's DWC Pharmaceuticals subcategory ("Opioids", "Topical Compounds")
    "long_form": None,  # an abbreviation's expansion (also set by scispaCy's AbbreviationDetector)
    "icd10": None,  # a diagnosis or problem mention's ICD-10-CM code (exists in the CMS code set)
    "icd10_description": None,  # that code's CMS description
    # Span extension values are keyed by character offsets, so each group gets its own name.
    "request": None,  # an item's request as the grammar read it: {"service", "category", "dwc_category", ...}
    "decision": None,  # a decision item: {"index", "partial", "medically_necessary"}
    "block_index": None,  # the index of the decision a block part or necessity statement belongs to
    "necessity_polarity": None,  # a necessity statement's polarity: positive, negative or context
    "citation": None,  # a guideline citation: {"source", "mtus", "guideline", "topics", "pages", ...}
    "basis": None,  # a guideline paragraph's verdict: {"mtus_based": bool | None}
    # ConText assertions, under the names medspaCy's ConText sets
    "is_negated": False,
    "is_historical": False,
    "is_hypothetical": False,
    "is_uncertain": False,
    "is_family": False,
    "context_cues": None,  # [{"category", "cue", "direction"}]: the ConText cues that set them
}

# Span groups the components write, in pipeline order.
SPAN_GROUPS = {
    "sections": "imr_sections",
    "header": "imr_header",
    "items": "imr_items",
    "parts": "imr_block_parts",
    "necessity": "imr_necessity",
    "dates": "imr_dates",
    "drugs": "imr_drugs",
    "doses": "imr_doses",
    "services": "imr_services",
    "body_sites": "imr_body_sites",
    "diagnoses": "imr_diagnoses",
    "problems": "imr_problems",
    "citations": "imr_citations",
    "context_targets": "imr_context_targets",
}


def _determination(doc: Doc):
    from imr_nlp.assemble import assemble

    return assemble(doc)


def register_extensions() -> None:
    """Register every extension once; safe to call again (existing ones are left alone)."""
    for name, default in DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    for name, default in SPAN_EXTENSIONS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)
    if not Doc.has_extension("determination"):
        Doc.set_extension("determination", getter=_determination)


def warn(doc: Doc, message: str) -> None:
    """Add a warning to the doc (kept in text order of discovery, without repeats)."""
    warnings = list(doc._.imr_warnings or [])
    if message not in warnings:
        warnings.append(message)
    doc._.imr_warnings = warnings


register_extensions()
