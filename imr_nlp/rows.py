"""Flat rows: one per decision, each carrying its letter's fields, for tables (Spark, pandas,
CSV, Parquet). A letter with no decision (not a letter, unreadable) still gives one row, with
empty decision fields and its warnings, so nothing is lost. Lists are joined with "; ".
"""

from __future__ import annotations

from imr_nlp.models import Decision, Determination

# column -> type name ("string", "int", "double", "boolean", "date"): the table schema.
DECISION_COLUMNS: dict[str, str] = {
    "letter": "string",
    "case_number": "string",
    "date_assigned": "date",
    "decision_date": "date",
    "application_received": "date",
    "priority": "string",
    "injury_date": "date",
    "ur_date": "date",
    "patient_age": "int",
    "patient_sex": "string",
    "reviewer_specialties": "string",
    "reviewer_licensure_states": "string",
    "decision_index": "int",
    "item": "string",
    "outcome": "string",
    "medically_necessary": "boolean",
    "category": "string",
    "drug": "string",
    "drug_class": "string",
    "strength_value": "double",
    "strength_unit": "string",
    "quantity": "int",
    "refills": "int",
    "frequency": "string",
    "duration_value": "double",
    "duration_unit": "string",
    "service": "string",
    "body_sites": "string",
    "partial": "boolean",
    "claims_administrator_sources": "string",
    "reviewer_sources": "string",
    "reviewer_mtus_based": "boolean",
    "warnings": "string",
}


def _join(values) -> str | None:
    values = [str(v) for v in values if v is not None]
    return "; ".join(dict.fromkeys(values)) if values else None


def _decision_fields(index: int, decision: Decision) -> dict:
    t = decision.treatment
    return {
        "decision_index": index,
        "item": decision.item,
        "outcome": decision.outcome,
        "medically_necessary": decision.medically_necessary,
        "category": t.category,
        "drug": t.drug.generic if t.drug else None,
        "drug_class": t.drug.drug_class if t.drug else None,
        "strength_value": t.strength.value if t.strength else None,
        "strength_unit": t.strength.unit if t.strength else None,
        "quantity": t.quantity,
        "refills": t.refills,
        "frequency": t.frequency,
        "duration_value": t.duration.value if t.duration else None,
        "duration_unit": t.duration.unit if t.duration else None,
        "service": t.service,
        "body_sites": _join(t.body_sites),
        "partial": t.partial,
        "claims_administrator_sources": _join(c.source for c in decision.claims_administrator.citations),
        "reviewer_sources": _join(c.source for c in decision.reviewer_basis.citations),
        "reviewer_mtus_based": decision.reviewer_basis.mtus_based,
    }


def decision_rows(determination: Determination, letter: str | None = None) -> list[dict]:
    """The rows of one letter: one per decision (at least one), keys as in DECISION_COLUMNS."""
    d = determination
    letter_fields = {
        "letter": letter,
        "case_number": d.case_number,
        "date_assigned": d.date_assigned,
        "decision_date": d.decision_date,
        "application_received": d.application_received,
        "priority": d.priority,
        "injury_date": d.injury_date,
        "ur_date": d.ur_date,
        "patient_age": d.patient.age,
        "patient_sex": d.patient.sex,
        "reviewer_specialties": _join(d.reviewer.specialties),
        "reviewer_licensure_states": _join(d.reviewer.licensure_states),
        "warnings": _join(d.warnings),
    }
    empty = dict.fromkeys(DECISION_COLUMNS)
    if not d.decisions:
        return [{**empty, **letter_fields}]
    return [{**empty, **letter_fields, **_decision_fields(i, dec)} for i, dec in enumerate(d.decisions)]
