import pytest

from imr_nlp import resources
from imr_nlp.normalize import values
from imr_nlp.normalize.dates import compile_tables as compile_date_tables
from imr_nlp.normalize.dates import parse_date

TABLES = values.compile_tables(resources.load("doses.json"))
DATE_RULES = resources.load("dates.json")
DATE_TABLES = compile_date_tables(DATE_RULES.months, [f.pattern for f in DATE_RULES.formats])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Klonopin 2mg #30", 30),
        ("Clonazepam 0.5mg, # 30", 30),
        ("sessions, quantity: 6", 6),
        ("Quantity 60", 60),
        ("Chiropractic spinal manipulation times 6", 6),
        ("Eight (8) physical therapy sessions", 8),
        ("Occupational therapy for six sessions", 6),
        ("Physical therapy to the lumbar spine 2 times a week for 2 weeks (4)", 4),
        ("Associated surgical service: Physical Therapy sessions, 12", 12),
        ("Norco 5/325mg oral tablet, one tablet twice daily 14 days #40", 40),
        ("two physical therapy sessions for the neck and eight physical therapy sessions for the wrist", None),
        ("Physical therapy 3 times a week for 2 weeks", None),
        ("Four sessions of biofeedback two times a week times 2 weeks", 4),
    ],
)
def test_quantity(text, expected):
    found = [(v, k) for _, _, v, k in values.find_quantities_with_kind(text, TABLES)]
    assert values.pick_quantity(found) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Klonopin 1.0mg #90 with x3 refills", 3),
        ("Pantoprazole 40mg #60 with one refill", 1),
        ("Ibuprofen 600mg plus refill", 1),
        ("Two refills of Ibuprofen 600mg #90", 2),
        ("Tramadol 50mg #60, no refills", 0),
        ("Gabapentin 300mg one po tid #90, 3 refills", 3),
        ("Cymbalta 30mg #60 x3 refills", 3),
        ("Tramadol 50mg #60", None),
    ],
)
def test_refills(text, expected):
    found = values.find_refills(text, TABLES)
    assert (found[0][2] if found else None) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("one tablet twice daily", "BID"),
        ("one by mouth three times a day", "TID"),
        ("1-2 tabs orally every 4-6 hrs as needed", "PRN"),
        ("every night", "QHS"),
        ("Physical therapy 2 times weekly", "2xW"),
        ("three times a week for two weeks", "3xW"),
        ("Monthly psychotropic medication management", "QM"),
        ("every 6 hours", "Q6H"),
        ("chiropractic 2x4", "2xW"),
        ("Physical therapy 2-3 times a week", None),
    ],
)
def test_frequency(text, expected):
    found = [code for _, _, code in values.find_frequencies(text, TABLES)]
    got = "PRN" if "PRN" in found else (found[0] if found else None)
    assert got == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("for 6 weeks", {"value": 6.0, "unit": "week"}),
        ("two times a week times 2 weeks", {"value": 2.0, "unit": "week"}),
        ("Cold compression therapy 30 day rental", {"value": 30.0, "unit": "day"}),
        ("Cryotherapy unit, seven day use", {"value": 7.0, "unit": "day"}),
        ("three times a week over two weeks", {"value": 2.0, "unit": "week"}),
        ("Klonopin 2mg #30", None),
    ],
)
def test_duration(text, expected):
    found = values.find_durations(text, TABLES)
    assert (found[0][2] if found else None) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Klonopin 2mg #30", {"value": 2.0, "unit": "mg"}),
        ("Ativan 0.5 mg", {"value": 0.5, "unit": "mg"}),
        ("Lidocaine ointment 5% 106.32gm", {"value": 5.0, "unit": "%"}),
        ("Synapryn (10mg/1ml oral suspension) 500ml", {"value": 10.0, "unit": "mg/ml"}),
        ("Norco 5/325mg", None),
    ],
)
def test_strength(text, expected):
    found = values.find_strengths(text, TABLES)
    assert (found[0][2] if found else None) == expected


@pytest.mark.parametrize(
    "text, numbers",
    [
        ("Norco 10/325mg #120", [10.0, 325.0]),
        ("Norco 7.5-325 mg", [7.5, 325.0]),
        ("Percocet 5mg/325mg", [5.0, 325.0]),
        ("Fioricet 50/325/40 mg #30", [50.0, 325.0, 40.0]),
        ("Norco 10/325 #60", [10.0, 325.0]),  # no unit: a three-digit last number
        ("Norco 10/325.", [10.0, 325.0]),
        # never a date, a month and year or a pain score
        ("Norco (DOS 12/29) #60", None),
        ("Norco on 10/14/2016", None),
        ("Norco since 12/2016", None),
        ("pain 7/10 with Norco", None),
        ("Klonopin 2mg #30", None),
    ],
)
def test_combination_strength(text, numbers):
    found = values.find_combination_strengths(text)
    assert ([part["value"] for part in found[0][2]] if found else None) == numbers
    assert all(part["unit"] == "mg" for _, _, parts in found for part in parts)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("01/29/09", "2009-01-29"),
        ("8-20-14", "2014-08-20"),
        ("10-13-16", "2016-10-13"),
        ("05/06/2009", "2009-05-06"),
        ("March 21, 2002", "2002-03-21"),
        ("10/5/07", "2007-10-05"),
        ("2/12/1996", "1996-02-12"),
        ("12/31/45", "1945-12-31"),
        ("13/45/2016", None),
        ("6-8", None),
    ],
)
def test_dates(text, expected):
    assert parse_date(text, DATE_TABLES) == expected
