"""The header component's rules (resources/header.json) run their own examples."""

import pytest

from imr_nlp import resources

RULES = resources.load("header.json")
COMPONENTS = ("imr_sentences", "imr_sections", "imr_dates", "imr_header")


@pytest.fixture(scope="module")
def nlp(small_pipeline):
    return small_pipeline(*COMPONENTS)


def _fields(doc) -> dict:
    return {**doc._.header, **doc._.reviewer, **doc._.patient}


@pytest.mark.parametrize("index", range(len(RULES.fields)), ids=lambda i: f"{RULES.fields[i].field}-{i}")
def test_every_header_field_rule_reads_its_examples(nlp, index):
    rule = RULES.fields[index]
    assert len({e.text for e in rule.examples}) >= 2
    for example in rule.examples:
        doc = nlp(example.text)
        assert _fields(doc).get(rule.field) == example.value, example.text
        if rule.flag:
            assert _fields(doc).get(rule.flag) is True, example.text


@pytest.mark.parametrize("example", RULES.patient.examples, ids=lambda e: e.text[22:50])
def test_patient_rules_read_their_examples(nlp, example):
    patient = nlp(example.text)._.patient
    assert (patient["age"], patient["sex"]) == (example.age, example.sex)


def test_a_date_label_takes_only_the_date_right_after_it(nlp):
    doc = nlp("Date Assigned: pending  Decision Date: 02/01/2017")
    assert "date_assigned" not in doc._.header
    assert doc._.header["decision_date"] == "2017-02-01"


@pytest.mark.parametrize("example", RULES.compound_names.examples, ids=lambda e: e.text[:40])
def test_compound_name_examples_stay_whole(nlp, example):
    assert _fields(nlp(example.text)).get("specialties") == example.value
