"""An item's treatment, decided from what the components found in its header: the request the
grammar read, the drug mentions and the dose facts (strengths, quantities, refills, frequencies,
durations) and the dates. Pure functions over plain values: ``imr_services`` calls them for each
item and writes the result on it (``span._.treatment``); assembly only maps offsets and builds
the pydantic ``Treatment``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from imr_nlp.normalize.drugs import combine_generics
from imr_nlp.normalize.values import pick_quantity

# In a combination, a class that names the whole product wins over its ingredients' classes
# (a compounded cream with a muscle relaxant in it is a topical analgesic).
COMBINATION_CLASSES = ("topical analgesic",)


class DrugMention(NamedTuple):
    """A drug mention of the item: character bounds, names and classes, how its class was known."""

    start: int
    end: int
    generic: str | None
    drug_class: str | None
    dwc_class: str | None
    class_evidence: str | None


class DoseFact(NamedTuple):
    """A dose fact of the item: its label (STRENGTH, QUANTITY, ...), start and value dict."""

    label: str
    start: int
    dose: dict


def treatment_values(
    request: dict | None, drugs: Sequence[DrugMention], doses: Sequence[DoseFact], prescribed: Sequence[str]
) -> dict:
    """The item's Treatment fields (``drug`` as a dict with clean-text ``start``/``end``),
    ``partial`` and ``body_sites`` left to the caller. ``prescribed``: the ISO dates the item
    gives the prescribed role, in text order."""
    by_label: dict[str, list[dict]] = {}
    for fact in doses:
        by_label.setdefault(fact.label, []).append(fact.dose)
    values = _classification(request, drugs, by_label)
    values.update(_drug_and_strength(request, values["category"], drugs, doses))
    values["service"] = None if values["category"] == "medication" or not request else request["service"]
    values.update(_amounts(request, by_label))
    values["prescribed_date"] = prescribed[0] if prescribed else None
    return values


def _classification(request: dict | None, drugs: Sequence[DrugMention], by_label: dict[str, list[dict]]) -> dict:
    """Category and DWC class: the grammar's; without a request, a drug or a strength makes it
    a medication, else "other"."""
    if not request:
        return {"category": "medication" if drugs or by_label.get("STRENGTH") else "other"}
    return {
        "category": request["category"],
        "dwc_category": request["dwc_category"],
        "dwc_subcategory": request["dwc_subcategory"],
        "head": request["head_word"],
        "classified_by": request.get("classified_by"),
    }


def _drug_and_strength(
    request: dict | None,
    category: str,
    drugs: Sequence[DrugMention],
    doses: Sequence[DoseFact],
) -> dict:
    """The treatment's drug (its mentions from first to last) and strength. A drug named in a
    diagnostic test is what the test measures or a contrast agent ("TSH level", "MRI with
    gadolinium"), not the treatment: it is left out."""
    tested = bool(request) and request["dwc_category"] == "Diagnostic Testing"
    strengths = [fact for fact in doses if fact.label == "STRENGTH"]
    if drugs and category in ("medication", "procedure") and not tested:
        first, last = drugs[0], drugs[-1]
        classes = [d.drug_class for d in drugs]
        combined = next((c for c in COMBINATION_CLASSES if c in classes), None) if len(drugs) > 1 else None
        drug = {
            "start": first.start,
            "end": last.end,
            "generic": combine_generics([d.generic for d in drugs]),
            "drug_class": combined or classes[0],
            "class_by": next((d.class_evidence for d in drugs if d.dwc_class), None),
        }
        after = [fact.dose for fact in strengths if fact.start >= first.end]
        single = len({d.generic for d in drugs}) == 1
        return {
            "drug": drug,
            "strength": after[0]["value"] if single and after and after[0]["value"] is not None else None,
        }
    if category == "medication" and strengths and strengths[0].dose["value"]:
        return {"strength": strengths[0].dose["value"]}
    return {}


def _amounts(request: dict | None, by_label: dict[str, list[dict]]) -> dict:
    """Quantity, refills, frequency and duration. The grammar's count before the head ("two grab
    bars") is the quantity when no quantity was found; "PRN" wins among frequencies; a visit
    plan's duration comes after any other."""
    found = [(d["value"], d["kind"]) for d in by_label.get("QUANTITY", [])]
    if request and request.get("count") is not None and not found:
        found = [(request["count"], "count")]
    refills = by_label.get("REFILLS", [])
    durations = by_label.get("DURATION", [])
    frequencies = [d["value"] for d in by_label.get("FREQUENCY", [])]
    frequencies = frequencies or [d["frequency"] for d in durations if d.get("frequency")]
    durations = sorted(durations, key=lambda d: d["kind"] == "visit_plan")
    return {
        "quantity": pick_quantity(found),
        "refills": refills[0]["value"] if refills else None,
        "frequency": "PRN" if "PRN" in frequencies else (frequencies[0] if frequencies else None),
        "duration": durations[0]["value"] if durations else None,
    }
