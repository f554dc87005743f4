"""The header component's rules (resources/header.json) run their own examples, and a
two-column header reads the same in every reading order an extractor gives it."""

import re

import pytest

import imr_nlp
from imr_nlp import resources
from imr_nlp.errors import warning_code

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


@pytest.mark.parametrize("example", RULES.cells.examples, ids=lambda e: e.text[:40])
def test_cells_not_read_do_not_end_the_label_block(nlp, example):
    """The header table's other cells (a label of a field not read, a value of no known kind)
    leave the values after them to their labels; without the rule they would be lost."""
    assert len({e.text for e in RULES.cells.examples}) >= 2
    doc = nlp(example.text + BODY)
    assert doc._.header == example.header, example.text
    assert not doc._.imr_warnings


def test_without_the_cells_rule_each_example_loses_a_value(nlp, monkeypatch):
    """The examples need the rule: without it, each loses a header value (the block ends early)."""
    monkeypatch.setattr(nlp.get_pipe("imr_header"), "cells", None)
    for example in RULES.cells.examples:
        assert nlp(example.text + BODY)._.header != example.header, example.text


@pytest.mark.parametrize("value_type", RULES.value_types, ids=lambda t: t.kind)
def test_value_type_examples_find_their_values(value_type):
    pattern = re.compile(value_type.pattern, re.I if value_type.ignore_case else 0)
    for example in value_type.examples:
        assert pattern.findall(example.text) == example.values, example.text


# One invented two-column header (every value different, so a value given to the wrong label
# fails), written in the reading orders extractors give it. "Application Received:" is a
# two-line label in the right column.
HEADER = {
    "case_number": "CM17-0456789",
    "date_assigned": "2017-02-03",
    "decision_date": "2017-03-01",
    "priority": "Expedited",
    "injury_date": "2012-06-15",
    "ur_date": "2017-01-20",
    "application_received": "2017-01-27",
}
READING_ORDERS = {
    "rows, the split label's value on the line after it (pypdfium2, pdftotext -raw)": (
        "Case Number: CM17-0456789\n"
        "Date Assigned: 02/03/2017 Date of Injury: 06/15/2012\n"
        "Decision Date: 03/01/2017 UR Denial Date: 01/20/2017\n"
        "Priority: Expedited Application \nReceived: \n01/27/2017\n"
    ),
    "all labels, then all values, column by column (plain pdftotext)": (
        "Case Number:\nDate Assigned:\nDecision Date:\nPriority:\n\n"
        "CM17-0456789\n02/03/2017\n03/01/2017\nExpedited\n\n"
        "Date of Injury:\nUR Denial Date:\nApplication\nReceived:\n\n"
        "06/15/2012\n01/20/2017\n01/27/2017\n\n"
    ),
    "labels then values, a value before its label in the right column (pdfminer.six)": (
        "Case Number: \nDate Assigned: \nDecision Date: \nPriority:  \n\n"
        "CM17-0456789 \n02/03/2017 \n03/01/2017 \nExpedited \n\n"
        "06/15/2012 \nDate of Injury:  \nUR Denial Date:   01/20/2017 \n01/27/2017 \nApplication \nReceived:  \n\n"
    ),
    "labels then values, the split label around its value (pdfminer.six)": (
        "Case Number: \nDate Assigned: \nDecision Date: \nPriority:  \n\n"
        "CM17-0456789 \n02/03/2017 \n03/01/2017 \nExpedited \n\n"
        "Date of Injury:  \n06/15/2012 \nUR Denial Date:   01/20/2017 \nApplication \n01/27/2017 \nReceived:  \n\n"
    ),
    "rows laid out in columns, the split label around its value (pdftotext -layout)": (
        "Case Number:          CM17-0456789\n"
        "Date Assigned:        02/03/2017                      Date of Injury:      06/15/2012\n"
        "Decision Date:        03/01/2017                      UR Denial Date:      01/20/2017\n"
        "Priority:             Expedited                       Application          01/27/2017\n"
        "                                                      Received:\n\n"
    ),
    "rows, the split label around its value (pdfplumber)": (
        "Case Number: CM17-0456789\n"
        "Date Assigned: 02/03/2017 Date of Injury: 06/15/2012\n"
        "Decision Date: 03/01/2017 UR Denial Date: 01/20/2017\n"
        "Priority: Expedited Application 01/27/2017\nReceived:\n"
    ),
}
BODY = (
    "HOW THE IMR FINAL DETERMINATION WAS MADE\n"
    "MAXIMUS Federal Services sent the complete case file to an expert reviewer.\n"
    "CLINICAL CASE SUMMARY\n"
    "The injured worker is a 50 year old male who was injured on 04/04/2011. A utilization review dated "
    "12/12/2016 denied the request.\n"
)


@pytest.mark.parametrize("header", READING_ORDERS.values(), ids=list(READING_ORDERS))
def test_a_two_column_header_reads_the_same_in_every_reading_order(nlp, header):
    doc = nlp(header + BODY)
    assert doc._.header == HEADER
    assert not doc._.imr_warnings


HEADER_DATE_ROLES = {
    "2017-02-03": "assigned",
    "2017-03-01": "decision",
    "2012-06-15": "injury",
    "2017-01-20": "utilization_review",
    "2017-01-27": "application_received",
}


@pytest.mark.parametrize("header", READING_ORDERS.values(), ids=list(READING_ORDERS))
def test_header_dates_carry_their_role_in_every_reading_order(header):
    """A date read as a header field is that field's DateMention role, even where no label
    stands before it (labels and values written apart): never "other"."""
    dates = imr_nlp.parse(header + BODY).dates
    assert {str(d.value): d.role for d in dates if str(d.value) in HEADER_DATE_ROLES} == HEADER_DATE_ROLES


@pytest.mark.parametrize(
    "text, value",
    [
        ("Priority: Standard Application 11/30/2016\nReceived:\n", "2016-11-30"),
        ("Priority:   Standard      Application     11/30/2016\n                          Received:\n", "2016-11-30"),
        ("Priority: Standard Application\nReceived:\n11/30/2016\n", "2016-11-30"),
        ("Application\n11/30/2016\nReceived:\n", "2016-11-30"),
        ("IMR Application Received: 11/30/2016\n", "2016-11-30"),
    ],
)
def test_the_application_received_label_is_read_split_around_its_value(nlp, text, value):
    assert nlp(text + BODY)._.header.get("application_received") == value


@pytest.mark.parametrize(
    "text, value",
    [
        ("Case Number: Date Assigned: 02/03/2017\n", None),  # the old reading gave "Date"
        ("Case Number:\nDate Assigned:\n\n02/03/2017\nCM17-0456789\n", "CM17-0456789"),
        ("Priority:\nDecision Date:\n\n03/01/2017\nStandard\n", "Standard"),
    ],
)
def test_a_label_takes_only_a_value_of_its_kind(nlp, text, value):
    field = "case_number" if text.startswith("Case") else "priority"
    assert nlp(text + BODY)._.header.get(field) == value


@pytest.mark.parametrize(
    "header, unread",
    [
        (
            "Case Number:\nDate Assigned:\nDecision Date:\nPriority:\n\n",
            "case_number, date_assigned, decision_date, priority",
        ),
        (
            "Case Number: CM17-0456789\nDate Assigned: pending Date of Injury: unknown\nPriority: Standard\n",
            "date_assigned, injury_date",
        ),
        ("Case Number: [redacted]\nDecision Date: 03/01/2017\n", "case_number"),
        # a date alone on a line after other text is not in the label block
        ("Date of Injury: unknown\nThe claim was reviewed.\n04/04/2011\n", "injury_date"),
    ],
)
def test_a_header_label_without_a_value_is_a_warning_naming_its_field(nlp, header, unread):
    doc = nlp(header + BODY)
    assert not set(unread.split(", ")) & set(doc._.header)
    warnings = doc._.imr_warnings
    assert [w for w in warnings if warning_code(w) == "W021"] == [
        f"W021: header field(s) not read: {unread} (the label is there, but no value of its kind: a date, a case "
        "number, a priority word)"
    ]


def test_body_dates_standing_in_for_header_dates_say_so():
    """Header labels without values: the body's injury and UR dates fill in, their source said,
    and the warning names the fields."""
    unread = imr_nlp.parse("Date of Injury:\nUR Denial Date:\n\n" + BODY)
    assert (str(unread.injury_date), unread.injury_date_source) == ("2011-04-04", "body")
    assert (str(unread.ur_date), unread.ur_date_source) == ("2016-12-12", "body")
    assert any(w.startswith("W021: header field(s) not read: injury_date, ur_date") for w in unread.warnings)
    read = imr_nlp.parse(READING_ORDERS["all labels, then all values, column by column (plain pdftotext)"] + BODY)
    assert (str(read.injury_date), read.injury_date_source) == ("2012-06-15", "header")
    assert (str(read.ur_date), read.ur_date_source) == ("2017-01-20", "header")
    statement = imr_nlp.parse(
        "An application for Independent Medical Review was filed on 7/19/2013 disputing the Utilization Review "
        "Denial dated 7/2/2013."
    )
    assert (str(statement.ur_date), statement.ur_date_source, statement.injury_date_source) == (
        "2013-07-02",
        "statement",
        None,
    )
