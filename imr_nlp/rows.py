"""Flat rows for tables (pandas, CSV, Parquet, Spark), at six levels:

- ``letter``: one row per letter, with counts and lists;
- ``decision``: one row per decision, each carrying its letter's fields (a letter with no
  decision, such as an unreadable file, still gives one row with its error and warnings);
- ``medication``: one row per drug mention, with its ConText flags and the decision it is the
  treatment of, if any;
- ``citation``: one row per guideline citation of a decision (claims administrator or reviewer);
- ``diagnosis``: one row per diagnosis or problem mention, with its ICD-10-CM code and ConText
  flags (group decisions by condition by joining on ``letter``);
- ``reason``: one row per reason of a decision (code, direction, evidence), with the decision's
  item, outcome, DWC classes and drug class.

At the letter and decision levels every letter gives at least one row, so nothing is lost;
at the medication, citation, diagnosis and reason levels a letter gives as many rows as it has
mentions, citations or reasons. ``letter`` is the resolved path of the file a letter was read from (the
same in the CLI, the API and Spark), or None for a text. Each level's columns and their types
are in ``COLUMNS[level]``, written as Spark SQL types: "string", "int", "double", "boolean",
"date", and the lists "array<string>", "array<int>" and "array<double>" (Python lists in the
rows; each value once, in the letter's order; ``items`` has one entry per decision, and the
``strength_*`` lists one per ingredient, side by side: ``strength_ingredients`` is null where the
item does not tell). CSV joins a list with ``LIST_SEPARATOR`` ("; "), a null entry as nothing.
A "date" is a date wherever it goes: ``date32`` in Parquet (DuckDB and Spark read DATE),
``date32[day][pyarrow]`` in pandas, "YYYY-MM-DD" in CSV and JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from imr_nlp.models import Assertions, Citation, Decision, Determination

# The letter's own fields, first in every level.
_LETTER_ID: dict[str, str] = {"letter": "string", "case_number": "string"}
_LETTER_FIELDS: dict[str, str] = {
    **_LETTER_ID,
    "layout": "string",
    "date_assigned": "date",
    "decision_date": "date",
    "application_received": "date",
    "priority": "string",
    "injury_date": "date",
    "ur_date": "date",
    "patient_age": "int",
    "patient_sex": "string",
    "reviewer_specialties": "array<string>",
    "reviewer_licensure_states": "array<string>",
}

LETTER_COLUMNS: dict[str, str] = {
    **_LETTER_FIELDS,
    "injury_date_source": "string",
    "ur_date_source": "string",
    "decisions": "int",
    "upheld": "int",
    "overturned": "int",
    "items": "array<string>",
    "diagnoses": "array<string>",
    "diagnosis_codes": "array<string>",
    "drugs": "array<string>",
    "error": "string",
    "warnings": "array<string>",
    "ocr_pages": "array<int>",
}

DECISION_COLUMNS: dict[str, str] = {
    **_LETTER_FIELDS,
    "decision_index": "int",
    "item": "string",
    "item_start": "int",
    "item_end": "int",
    "outcome": "string",
    "medically_necessary": "boolean",
    "category": "string",
    "drug": "string",
    "drug_class": "string",
    "strength_value": "double",
    "strength_unit": "string",
    "strength_values": "array<double>",
    "strength_units": "array<string>",
    "strength_ingredients": "array<string>",
    "quantity": "int",
    "refills": "int",
    "frequency": "string",
    "duration_value": "double",
    "duration_unit": "string",
    "service": "string",
    "body_sites": "array<string>",
    "partial": "boolean",
    "dwc_category": "string",
    "dwc_subcategory": "string",
    "classified_by": "string",
    "drug_class_by": "string",
    "diagnosis_codes": "array<string>",
    "claims_administrator_sources": "array<string>",
    "reviewer_sources": "array<string>",
    "reviewer_mtus_based": "boolean",
    "rationale": "string",
    "error": "string",
    "warnings": "array<string>",
}

# The ConText flags of a drug or diagnosis mention and the cues behind them.
_ASSERTION_COLUMNS: dict[str, str] = {
    "negated": "boolean",
    "historical": "boolean",
    "hypothetical": "boolean",
    "uncertain": "boolean",
    "family": "boolean",
    "cues": "array<string>",
}

MEDICATION_COLUMNS: dict[str, str] = {
    **_LETTER_ID,
    "text": "string",
    "start": "int",
    "end": "int",
    "generic": "string",
    "drug_class": "string",
    **_ASSERTION_COLUMNS,
    "decision_index": "int",
    "outcome": "string",
}

CITATION_COLUMNS: dict[str, str] = {
    **_LETTER_ID,
    "decision_index": "int",
    "item": "string",
    "outcome": "string",
    "basis": "string",  # "claims_administrator" or "reviewer"
    "mtus_based": "boolean",
    "source": "string",
    "mtus": "boolean",
    "guideline": "string",
    "topics": "array<string>",
    "pages": "array<int>",
    "text": "string",
    "start": "int",
    "end": "int",
}

DIAGNOSIS_COLUMNS: dict[str, str] = {
    **_LETTER_ID,
    "text": "string",
    "start": "int",
    "end": "int",
    "kind": "string",
    "icd10": "string",
    "icd10_category": "string",
    "icd10_description": "string",
    "icd10_by": "string",
    **_ASSERTION_COLUMNS,
}

REASON_COLUMNS: dict[str, str] = {
    **_LETTER_ID,
    "decision_index": "int",
    "item": "string",
    "outcome": "string",
    "dwc_category": "string",
    "dwc_subcategory": "string",
    "drug_class": "string",
    "code": "string",
    "direction": "string",
    "evidence": "string",
    "start": "int",
    "end": "int",
}

COLUMNS: dict[str, dict[str, str]] = {
    "letter": LETTER_COLUMNS,
    "decision": DECISION_COLUMNS,
    "medication": MEDICATION_COLUMNS,
    "citation": CITATION_COLUMNS,
    "diagnosis": DIAGNOSIS_COLUMNS,
    "reason": REASON_COLUMNS,
}
LEVELS = tuple(COLUMNS)
LIST_SEPARATOR = "; "


def _list(values: Iterable) -> list:
    """The values that are not None, each once, in order."""
    return list(dict.fromkeys(v for v in values if v is not None))


def _letter_id(d: Determination, letter: str | None) -> dict:
    """The columns of _LETTER_ID: ``letter`` (default: the file it was read from), case number."""
    return {"letter": letter if letter is not None else d.source, "case_number": d.case_number}


def _letter_fields(d: Determination, letter: str | None) -> dict:
    return {
        **_letter_id(d, letter),
        "layout": d.layout,
        "date_assigned": d.date_assigned,
        "decision_date": d.decision_date,
        "application_received": d.application_received,
        "priority": d.priority,
        "injury_date": d.injury_date,
        "ur_date": d.ur_date,
        "patient_age": d.patient.age,
        "patient_sex": d.patient.sex,
        "reviewer_specialties": _list(d.reviewer.specialties),
        "reviewer_licensure_states": _list(d.reviewer.licensure_states),
    }


def letter_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """One row: the letter's fields, decision counts and joined lists."""
    d = determination
    outcomes = [dec.outcome for dec in d.decisions]
    return [
        {
            **_letter_fields(d, letter),
            "injury_date_source": d.injury_date_source,
            "ur_date_source": d.ur_date_source,
            "decisions": len(d.decisions),
            "upheld": outcomes.count("upheld"),
            "overturned": outcomes.count("overturned"),
            "items": [dec.item for dec in d.decisions],
            "diagnoses": _list(m.text for m in _stated_diagnoses(d)),
            "diagnosis_codes": diagnosis_codes(d),
            "drugs": _list(m.generic for m in d.medications if not m.negated),
            "error": d.error,
            "warnings": _list(d.warnings),
            "ocr_pages": list(d.ocr_pages),
        }
    ]


def _assertion_fields(m: Assertions) -> dict:
    """The _ASSERTION_COLUMNS of a mention."""
    return {
        "negated": m.negated,
        "historical": m.historical,
        "hypothetical": m.hypothetical,
        "uncertain": m.uncertain,
        "family": m.family,
        "cues": _list(m.cues),
    }


def _stated_diagnoses(d: Determination):
    return [m for m in d.diagnoses if m.kind == "diagnosis" and not m.negated]


def diagnosis_codes(d: Determination) -> list[str]:
    """The ICD-10-CM codes of the letter's stated diagnoses, each once."""
    return _list(m.icd10 for m in _stated_diagnoses(d))


def diagnosis_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """One row per diagnosis or problem mention, in text order."""
    d = determination
    ident = _letter_id(d, letter)
    return [
        {
            **ident,
            "text": m.text,
            "start": m.start,
            "end": m.end,
            "kind": m.kind,
            "icd10": m.icd10,
            "icd10_category": m.icd10.replace(".", "")[:3] if m.icd10 else None,
            "icd10_description": m.icd10_description,
            "icd10_by": m.icd10_by,
            **_assertion_fields(m),
        }
        for m in d.diagnoses
    ]


def _decision_fields(index: int, decision: Decision) -> dict:
    t = decision.treatment
    return {
        "decision_index": index,
        "item": decision.item,
        "item_start": decision.start,
        "item_end": decision.end,
        "outcome": decision.outcome,
        "medically_necessary": decision.medically_necessary,
        "category": t.category,
        "drug": t.drug.generic if t.drug else None,
        "drug_class": t.drug.drug_class if t.drug else None,
        "strength_value": t.strength.value if t.strength else None,
        "strength_unit": t.strength.unit if t.strength else None,
        # one entry per ingredient, in order (not each value once: "5/5 mg" is two)
        "strength_values": [x.value for x in t.strengths],
        "strength_units": [x.unit for x in t.strengths],
        "strength_ingredients": [x.ingredient for x in t.strengths],
        "quantity": t.quantity,
        "refills": t.refills,
        "frequency": t.frequency,
        "duration_value": t.duration.value if t.duration else None,
        "duration_unit": t.duration.unit if t.duration else None,
        "service": t.service,
        "body_sites": _list(t.body_sites),
        "partial": t.partial,
        "dwc_category": t.dwc_category,
        "dwc_subcategory": t.dwc_subcategory,
        "classified_by": t.classified_by,
        "drug_class_by": t.drug.class_by if t.drug else None,
        "claims_administrator_sources": _list(c.source for c in decision.claims_administrator.citations),
        "reviewer_sources": _list(c.source for c in decision.reviewer_basis.citations),
        "reviewer_mtus_based": decision.reviewer_basis.mtus_based,
        "rationale": decision.rationale or None,
    }


def decision_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """The rows of one letter: one per decision (at least one), keys as in DECISION_COLUMNS.
    ``letter`` names the letter (default: the file it was read from)."""
    d = determination
    letter_fields = {
        **_letter_fields(d, letter),
        "diagnosis_codes": diagnosis_codes(d),
        "error": d.error,
        "warnings": _list(d.warnings),
    }
    empty = dict.fromkeys(DECISION_COLUMNS)
    if not d.decisions:
        return [{**empty, **letter_fields}]
    return [{**empty, **letter_fields, **_decision_fields(i, dec)} for i, dec in enumerate(d.decisions)]


def medication_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """One row per drug mention; ``decision_index`` is set when it is a decision's drug."""
    d = determination
    by_offsets = {
        (dec.treatment.drug.start, dec.treatment.drug.end): (i, dec.outcome)
        for i, dec in enumerate(d.decisions)
        if dec.treatment.drug is not None
    }
    ident = _letter_id(d, letter)
    rows = []
    for m in d.medications:
        index, outcome = by_offsets.get((m.start, m.end), (None, None))
        rows.append(
            {
                **ident,
                "text": m.text,
                "start": m.start,
                "end": m.end,
                "generic": m.generic,
                "drug_class": m.drug_class,
                **_assertion_fields(m),
                "decision_index": index,
                "outcome": outcome,
            }
        )
    return rows


def _citation_row(citation: Citation) -> dict:
    return {
        "source": citation.source,
        "mtus": citation.mtus,
        "guideline": citation.guideline,
        "topics": _list(citation.topics),
        "pages": _list(citation.pages),
        "text": citation.text,
        "start": citation.start,
        "end": citation.end,
    }


def citation_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """One row per guideline citation of each decision, claims administrator's then reviewer's."""
    d = determination
    ident = _letter_id(d, letter)
    rows = []
    for i, dec in enumerate(d.decisions):
        for basis_name, basis in (("claims_administrator", dec.claims_administrator), ("reviewer", dec.reviewer_basis)):
            for citation in basis.citations:
                rows.append(
                    {
                        **ident,
                        "decision_index": i,
                        "item": dec.item,
                        "outcome": dec.outcome,
                        "basis": basis_name,
                        "mtus_based": basis.mtus_based,
                        **_citation_row(citation),
                    }
                )
    return rows


_REASON_DECISION_FIELDS = ("decision_index", "item", "outcome", "dwc_category", "dwc_subcategory", "drug_class")


def reason_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """One row per reason of each decision (``Decision.reasons``), with its decision's item,
    outcome and classes, so that reasons can be counted by code, DWC category or drug class."""
    d = determination
    ident = _letter_id(d, letter)
    rows = []
    for i, dec in enumerate(d.decisions):
        fields = _decision_fields(i, dec)
        decision = {name: fields[name] for name in _REASON_DECISION_FIELDS}
        for reason in dec.reasons:
            rows.append(
                {
                    **ident,
                    **decision,
                    "code": reason.code,
                    "direction": reason.direction,
                    "evidence": reason.text,
                    "start": reason.start,
                    "end": reason.end,
                }
            )
    return rows


ROWS: dict[str, Callable[[Determination, str | None], list[dict]]] = {
    "letter": letter_rows,
    "decision": decision_rows,
    "medication": medication_rows,
    "citation": citation_rows,
    "diagnosis": diagnosis_rows,
    "reason": reason_rows,
}


def flat_row(row: dict) -> dict:
    """A row with its lists joined by LIST_SEPARATOR (an empty list as None, a null entry as
    nothing), for CSV."""
    return {
        name: (LIST_SEPARATOR.join("" if v is None else str(v) for v in value) or None)
        if isinstance(value, list)
        else value
        for name, value in row.items()
    }


# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(row: dict) -> dict:
    """A CSV row whose text cells cannot run as formulas in a spreadsheet: a cell starting with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
    advice: the spreadsheet shows the text as written). Numbers are left alone."""
    return {
        name: "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value
        for name, value in row.items()
    }


def check_level(level: str) -> str:
    """``level`` if it is one of LEVELS, else ValueError naming them."""
    if level not in COLUMNS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    return level


def rows(determination: Determination, level: str = "decision", letter: str | None = None) -> list[dict]:
    """The rows of one letter at ``level`` (see the module docstring), keys as in COLUMNS[level]."""
    return ROWS[check_level(level)](determination, letter)
