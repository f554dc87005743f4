"""``assemble`` tested directly on hand-built Docs: one row per business rule of the treatment
(decided by imr_services through ``imr_nlp.normalize.treatments``), the decision and the
determination, with no component run (spacy.blank("en") and spans set by hand, as the
components would set them)."""

from __future__ import annotations

import pytest
import spacy

from imr_nlp import errors
from imr_nlp.assemble import assemble
from imr_nlp.components.services import item_facts
from imr_nlp.doc_views import SpanIndex
from imr_nlp.extensions import SPAN_GROUPS, register_extensions
from imr_nlp.normalize.treatments import treatment_values

register_extensions()
NLP = spacy.blank("en")


def build(text: str, spans: list[tuple], item: str | None = None, outcome: str = "upheld", necessary=None):
    """A Doc of ``text`` with ``spans`` = (group, words, label, extensions) and, when ``item``
    is given, one decision item over those words."""
    doc = NLP(text)
    groups: dict[str, list] = {}
    for group, words, label, extensions in spans:
        start = text.index(words)
        span = doc.char_span(start, start + len(words), label=label, alignment_mode="expand")
        for name, value in extensions.items():
            setattr(span._, name, value)
        groups.setdefault(group, []).append(span)
    if item is not None:
        start = text.index(item)
        span = doc.char_span(start, start + len(item), label=outcome, alignment_mode="expand")
        span._.decision = {"index": 0, "partial": False, "medically_necessary": necessary}
        groups["items"] = [span]
    for group, found in groups.items():
        doc.spans[SPAN_GROUPS[group]] = found
    return doc


def drug(words, generic, drug_class=None):
    return ("drugs", words, "DRUG", {"generic": generic, "drug_class": drug_class})


def dose(words, label, value, kind, **more):
    return ("doses", words, label, {"dose": {"value": value, "kind": kind, **more}})


def combination(words, *numbers, unit="mg"):
    parts = [{"value": n, "unit": unit} for n in numbers]
    return dose(words, "STRENGTH", parts[0], "combination", parts=parts)


def strength(value, unit, ingredient):
    return {"value": value, "unit": unit, "ingredient": ingredient}


def request(words, category, service=None, count=None):
    value = {"service": service, "category": category, "dwc_category": "X", "dwc_subcategory": None}
    return ("services", words, "SERVICE", {"request": {**value, "head_word": None, "count": count}})


def treatment_of(text, spans):
    """The item's treatment as imr_services decides it from the spans (item_facts, then the
    normaliser treatment_values), then assembled."""
    doc = build(text, spans, item=text)
    (item,) = doc.spans[SPAN_GROUPS["items"]]
    services = list(doc.spans.get(SPAN_GROUPS["services"], []))
    doses = list(doc.spans.get(SPAN_GROUPS["doses"], []))
    facts = item_facts(
        SpanIndex(list(doc.spans.get(SPAN_GROUPS["drugs"], []))),
        doses,
        SpanIndex(list(doc.spans.get(SPAN_GROUPS["dates"], []))),
        item.start_char,
        item.end_char,
    )
    item._.treatment = treatment_values(services[0]._.request if services else None, *facts)
    return assemble(doc).decisions[0].treatment


TREATMENT_RULES = [
    # (business rule, item text, spans, expected treatment fields)
    (
        "a topical analgesic among an item's drugs makes the item's class",
        "Lidocaine/Gabapentin cream",
        [drug("Lidocaine", "lidocaine", "local anesthetic"), drug("Gabapentin", "gabapentin", "topical analgesic")],
        {"drug.drug_class": "topical analgesic", "category": "medication"},
    ),
    (
        "else the first drug's class",
        "Norco and Soma",
        [drug("Norco", "hydrocodone / acetaminophen", "opioid"), drug("Soma", "carisoprodol", "muscle relaxant")],
        {"drug.drug_class": "opioid"},
    ),
    (
        "several drugs: one generic combining them, evidence from the first to the last",
        "Norco and Soma",
        [drug("Norco", "hydrocodone", "opioid"), drug("Soma", "carisoprodol", "muscle relaxant")],
        {"drug.generic": "hydrocodone / carisoprodol", "drug.text": "Norco and Soma"},
    ),
    (
        "a strength after the drug is the drug's strength",
        "Klonopin 2mg #30",
        [
            drug("Klonopin", "clonazepam", "benzodiazepine"),
            dose("2mg", "STRENGTH", {"value": 2.0, "unit": "mg"}, "strength"),
        ],
        {"strength.value": 2.0, "strength.unit": "mg"},
    ),
    (
        "several drugs: the first strength after the first drug is the strength; a single strength is the "
        "ingredient's of the mention right before it",
        "Norco and Soma 350mg",
        [
            drug("Norco", "hydrocodone", "opioid"),
            drug("Soma", "carisoprodol", None),
            dose("350mg", "STRENGTH", {"value": 350.0, "unit": "mg"}, "strength"),
        ],
        {"strength.value": 350.0, "strengths": [strength(350.0, "mg", "carisoprodol")]},
    ),
    (
        "a combination's first number is the strength; its numbers go to the ingredients in order",
        "Norco 10/325mg",
        [drug("Norco", "hydrocodone / acetaminophen", "opioid"), combination("10/325mg", 10.0, 325.0)],
        {
            "strength.value": 10.0,
            "strength.ingredient": "hydrocodone",
            "strengths": [strength(10.0, "mg", "hydrocodone"), strength(325.0, "mg", "acetaminophen")],
        },
    ),
    (
        "a combination after one mention per ingredient",
        "Hydrocodone/APAP 10/325mg",
        [
            drug("Hydrocodone", "hydrocodone", "opioid"),
            drug("APAP", "acetaminophen", None),
            combination("10/325mg", 10.0, 325.0),
        ],
        {"strengths": [strength(10.0, "mg", "hydrocodone"), strength(325.0, "mg", "acetaminophen")]},
    ),
    (
        "numbers and ingredients not as many: no ingredient is guessed",
        "Gabapentin 100-200mg",
        [drug("Gabapentin", "gabapentin", None), combination("100-200mg", 100.0, 200.0)],
        {"strength.value": 100.0, "strengths": [strength(100.0, "mg", None), strength(200.0, "mg", None)]},
    ),
    (
        "a compound: each strength is the ingredient's before it; an amount after the last is no strength",
        "Flurbiprofen 20%/Lidocaine/Capsaicin 0.025% 120g",
        [
            drug("Flurbiprofen", "flurbiprofen", None),
            dose("20%", "STRENGTH", {"value": 20.0, "unit": "%"}, "strength"),
            drug("Lidocaine", "lidocaine", None),
            drug("Capsaicin", "capsaicin", None),
            dose("0.025%", "STRENGTH", {"value": 0.025, "unit": "%"}, "strength"),
            dose("120g", "STRENGTH", {"value": 120.0, "unit": "g"}, "strength"),
        ],
        {
            "strengths": [
                strength(20.0, "%", "flurbiprofen"),
                strength(0.025, "%", "capsaicin"),
            ]
        },
    ),
    (
        "a medication no lexicon knows keeps its strength, not the amount after it",
        "Zorblax 5% cream 120g",
        [
            request("Zorblax 5% cream 120g", "medication"),
            dose("5%", "STRENGTH", {"value": 5.0, "unit": "%"}, "strength"),
            dose("120g", "STRENGTH", {"value": 120.0, "unit": "g"}, "strength"),
        ],
        {"strength.value": 5.0, "strengths": [strength(5.0, "%", None)]},
    ),
    (
        "a medication no lexicon knows keeps its strength",
        "Zorblax 5mg",
        [request("Zorblax 5mg", "medication"), dose("5mg", "STRENGTH", {"value": 5.0, "unit": "mg"}, "strength")],
        {"category": "medication", "drug": None, "strength.value": 5.0},
    ),
    (
        "without the grammar's reading, a drug makes a medication",
        "Norco",
        [drug("Norco", "hydrocodone", "opioid")],
        {"category": "medication", "service": None},
    ),
    (
        "without the grammar's reading or a drug, the category is other",
        "Something",
        [],
        {"category": "other", "service": None},
    ),
    (
        "a medication has no service name; a service keeps the grammar's",
        "MRI of the knee",
        [request("MRI of the knee", "procedure", service="mri")],
        {"category": "procedure", "service": "mri", "dwc_category": "X"},
    ),
    (
        "the strongest quantity wording wins ('#' over a count)",
        "Physical therapy 6 visits #12",
        [dose("6 visits", "QUANTITY", 6, "count"), dose("#12", "QUANTITY", 12, "hash")],
        {"quantity": 12},
    ),
    (
        "two values of the strongest wording: the quantity is ambiguous",
        "Norco #30 #60",
        [dose("#30", "QUANTITY", 30, "hash"), dose("#60", "QUANTITY", 60, "hash")],
        {"quantity": None},
    ),
    (
        "no quantity wording: the grammar's count before the head",
        "Two grab bars",
        [request("Two grab bars", "equipment", service="grab bars", count=2)],
        {"quantity": 2},
    ),
    (
        "PRN wins among frequencies",
        "Norco BID PRN",
        [dose("BID", "FREQUENCY", "BID", "frequency"), dose("PRN", "FREQUENCY", "PRN", "frequency")],
        {"frequency": "PRN"},
    ),
    (
        "else the first frequency",
        "Norco BID TID",
        [dose("BID", "FREQUENCY", "BID", "frequency"), dose("TID", "FREQUENCY", "TID", "frequency")],
        {"frequency": "BID"},
    ),
    (
        "a visit plan gives the frequency when none is written",
        "Physical therapy 2x4",
        [dose("2x4", "DURATION", {"value": 4.0, "unit": "week"}, "visit_plan", frequency="2xW")],
        {"frequency": "2xW", "duration.value": 4.0},
    ),
    (
        "a written duration wins over a visit plan",
        "Physical therapy 2x4 for 6 weeks",
        [
            dose("2x4", "DURATION", {"value": 4.0, "unit": "week"}, "visit_plan", frequency="2xW"),
            dose("for 6 weeks", "DURATION", {"value": 6.0, "unit": "week"}, "duration"),
        ],
        {"duration.value": 6.0},
    ),
    (
        "refills from the first refills span",
        "Norco with 2 refills",
        [dose("with 2 refills", "REFILLS", 2, "refills")],
        {"refills": 2},
    ),
    (
        "the prescribed date is the item's date with that role",
        "Norco (DOS 10/01/2016)",
        [("dates", "10/01/2016", "DATE", {"iso_date": "2016-10-01", "role": "prescribed"})],
        {"prescribed_date": "2016-10-01"},
    ),
    (
        "body sites in the item, in order",
        "MRI of the left knee and right hip",
        [
            ("body_sites", "left knee", "SITE", {"body_site": "left knee"}),
            ("body_sites", "right hip", "SITE", {"body_site": "right hip"}),
        ],
        {"body_sites": ["left knee", "right hip"]},
    ),
]


def _field(model, dotted: str):
    for name in dotted.split("."):
        model = getattr(model, name)
    return model


@pytest.mark.parametrize("rule, text, spans, expected", TREATMENT_RULES, ids=[r[0] for r in TREATMENT_RULES])
def test_treatment_rules(rule, text, spans, expected):
    treatment = treatment_of(text, spans)
    got = {key: _field(treatment, key) for key in expected}
    got = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in got.items()}
    got = {k: [x.model_dump() for x in v] if k == "strengths" else v for k, v in got.items()}
    assert got == expected


@pytest.mark.parametrize(
    "outcome, statement, expected",
    [
        ("upheld", None, False),  # no statement: the outcome's meaning in the contract
        ("overturned", None, True),
        ("upheld", True, False),  # the outcome wins: the two never contradict
        ("overturned", False, True),
        ("unknown", True, True),  # no outcome read: the rationale's conclusion
        ("unknown", None, None),
    ],
)
def test_medical_necessity_falls_back_to_the_outcome(outcome, statement, expected):
    decision = assemble(build("Norco", [], item="Norco", outcome=outcome, necessary=statement)).decisions[0]
    assert decision.medically_necessary is expected
    assert decision.outcome == (outcome if outcome != "unknown" else None)


def test_dates_with_a_role_fill_missing_header_dates():
    text = "She was injured on 5/6/2014. The UR denied it on 10/1/2016 and 11/1/2016."
    doc = build(
        text,
        [
            ("dates", "5/6/2014", "DATE", {"iso_date": "2014-05-06", "role": "injury"}),
            ("dates", "10/1/2016", "DATE", {"iso_date": "2016-10-01", "role": "utilization_review"}),
            ("dates", "11/1/2016", "DATE", {"iso_date": "2016-11-01", "role": "utilization_review"}),
        ],
    )
    doc._.header = {}
    result = assemble(doc)
    assert (str(result.injury_date), str(result.ur_date)) == ("2014-05-06", "2016-10-01")


def test_a_header_date_is_not_overridden_by_a_date_role():
    doc = build("Injured on 5/6/2014.", [("dates", "5/6/2014", "DATE", {"iso_date": "2014-05-06", "role": "injury"})])
    doc._.header = {"injury_date": "2013-01-02"}
    assert str(assemble(doc).injury_date) == "2013-01-02"


@pytest.mark.parametrize(
    "group, flags, kind",
    [
        ("diagnoses", {}, "diagnosis"),
        ("diagnoses", {"is_negated": True}, "problem"),  # "has not been diagnosed with X"
        ("diagnoses", {"is_hypothetical": True}, "problem"),  # "if he develops X"
        ("problems", {"is_negated": True}, "problem"),
        ("problems", {"is_family": True}, "problem"),
        ("problems", {}, None),  # a bare condition word is no fact about the patient
    ],
)
def test_diagnosis_kinds(group, flags, kind):
    doc = build("He has lumbar strain.", [(group, "lumbar strain", "CONDITION", flags)])
    mentions = assemble(doc).diagnoses
    assert [m.kind for m in mentions] == ([kind] if kind else [])


@pytest.mark.parametrize(
    "text, warnings, expected",
    [
        ("", [], [errors.warning("W001")]),
        ("A note about something else.", [], [errors.warning("W002")]),
        ("HOW THE IMR", [errors.warning("W003")], [errors.warning("W003")]),  # truncated, still a letter
    ],
)
def test_letter_warnings(text, warnings, expected):
    doc = build(text, [])
    doc._.imr_warnings = warnings
    assert assemble(doc).warnings == expected
