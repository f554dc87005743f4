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
    """The treatment's drug (its mentions from first to last), its strengths (one per ingredient,
    see :func:`ingredient_strengths`) and strength (the first of them). A drug named in a
    diagnostic test is what the test measures or a contrast agent ("TSH level", "MRI with
    gadolinium"), not the treatment: it is left out."""
    tested = bool(request) and request["dwc_category"] == "Diagnostic Testing"
    strengths = [fact for fact in doses if fact.label == "STRENGTH" and fact.dose["value"] is not None]
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
        found = ingredient_strengths(drugs, [fact for fact in strengths if fact.start >= first.end])
        return {"drug": drug, "strength": found[0] if found else None, "strengths": found}
    if category == "medication" and strengths:
        found = ingredient_strengths((), strengths)
        return {"strength": found[0], "strengths": found}
    return {}


def ingredient_strengths(drugs: Sequence[DrugMention], strengths: Sequence[DoseFact]) -> list[dict]:
    """The strengths written after the drug, in order, each {"value", "unit", "ingredient"}. A
    strength is of the mentions right before it that have none yet: a combination's numbers go to
    their ingredients when they are as many ("Norco 10/325mg", "Hydrocodone/APAP 10/325mg":
    hydrocodone 10, acetaminophen 325), a single strength to the nearest mention when it has one
    ingredient ("Flurbiprofen 20%/Lidocaine 5%"); the ingredient is None where the words do not
    tell ("Gabapentin 100-200mg"). A number with no mention since the last strength is the
    amount dispensed, no ingredient's ("Lidocaine 5% ointment 120 grams")."""
    out: list[dict] = []
    pending: list[DrugMention] = []  # the mentions since the last strength, nearest last
    mentions = sorted(drugs, key=lambda d: d.start)
    seen = 0
    for fact in sorted(strengths, key=lambda f: f.start):
        while seen < len(mentions) and mentions[seen].start < fact.start:
            pending.append(mentions[seen])
            seen += 1
        if out and not pending:
            continue
        parts = fact.dose.get("parts") or [fact.dose["value"]]
        ingredients: list[str] = []
        for mention in reversed(pending):  # the nearest mentions, as many as the numbers
            if len(ingredients) >= len(parts):
                break
            ingredients[:0] = _ingredients(mention)
        named = ingredients if len(ingredients) == len(parts) else [None] * len(parts)
        out.extend({**part, "ingredient": name} for part, name in zip(parts, named, strict=True))
        pending = []
    return out


def _ingredients(drug: DrugMention) -> list[str]:
    """The generic names of a mention's ingredients ("hydrocodone / acetaminophen": two)."""
    return [g.strip() for g in drug.generic.split(" / ")] if drug.generic else []


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
