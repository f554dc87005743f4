"""imr_layout and the other layouts (issue 17): every layout's examples are recognised, the
synthetic letters of each layout (tests/data/layouts, written from public facts, marked
synthetic) are read, and every real letter of our corpus is the 2016 layout."""

import json
from pathlib import Path

import pytest

import imr_nlp
from imr_nlp import resources
from imr_nlp.errors import warning

NOT_A_LETTER = warning("W002")

LAYOUTS = Path(__file__).resolve().parents[1] / "data" / "layouts"
RULES = resources.load("letter_layouts.json")
EXAMPLES = [(layout.layout, text) for layout in RULES.layouts for text in layout.examples]
EXAMPLES += [("unknown", text) for text in RULES.unknown_examples]


@pytest.fixture(scope="module")
def layout_nlp(small_pipeline):
    return small_pipeline("imr_layout")


@pytest.mark.parametrize("layout, text", EXAMPLES, ids=[f"{name}:{text[:30]}" for name, text in EXAMPLES])
def test_layout_examples_are_recognised(layout_nlp, layout, text):
    doc = layout_nlp(text)
    assert doc._.layout == layout
    assert all(text[start:end] for _, start, end in doc._.layout_signals)


def test_every_layout_has_a_signal_of_its_own():
    """A layout is told apart by signals no other layout has."""
    for layout in RULES.layouts:
        others = {s for other in RULES.layouts if other is not layout for s in other.signals}
        assert len(set(layout.signals) - others) >= RULES.min_signals, layout.layout


DECISION_RULES = resources.load("decisions.json")
STATEMENTS = [e for rule in DECISION_RULES.determination_statements for e in rule.examples]
ITEM_LABELS = [e for rule in DECISION_RULES.item_labels for e in rule.examples]


@pytest.fixture(scope="module")
def decisions_nlp(small_pipeline):
    return small_pipeline("imr_layout", "imr_sentences", "imr_sections", "imr_decisions", "imr_conclusions")


@pytest.mark.parametrize("example", STATEMENTS, ids=[e.text[:40] for e in STATEMENTS])
def test_determination_statement_examples_hold(decisions_nlp, example):
    doc = decisions_nlp(example.text + "\n")
    (item,) = doc.spans["imr_items"]
    assert (" ".join(item.text.split()), item.label_) == (example.item, example.outcome)


@pytest.mark.parametrize("example", ITEM_LABELS, ids=[e.text[:40] for e in ITEM_LABELS])
def test_item_label_examples_give_their_item_without_an_outcome(decisions_nlp, example):
    doc = decisions_nlp(example.text + "\n")
    (item,) = doc.spans["imr_items"]
    assert (" ".join(item.text.split()), item.label_) == (example.item, "unknown")


def test_a_list_given_twice_yields_each_decision_once(decisions_nlp):
    statement = "{n}) MAXIMUS Federal Services, Inc. has determined the request for {item} is {verdict}."
    listing = "\n".join(
        statement.format(n=n, item=item, verdict=verdict)
        for n, item, verdict in (
            (1, "Norco 10/325mg #60", "not medically necessary and appropriate"),
            (2, "an MRI of the knee", "medically necessary and appropriate"),
        )
    )
    doc = decisions_nlp(f"{listing}\nINDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE\n{listing}\n")
    assert [(s.text, s.label_) for s in doc.spans["imr_items"]] == [
        ("Norco 10/325mg #60", "upheld"),
        ("an MRI of the knee", "overturned"),
    ]


def _letter(name: str) -> imr_nlp.Determination:
    return imr_nlp.parse((LAYOUTS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name, layout",
    [
        ("synthetic-2013-notice.txt", "2013-notice"),
        ("synthetic-2013-notice-b.txt", "2013-notice"),
        ("synthetic-2014.txt", "2014"),
        ("synthetic-professional-review.txt", "professional-review"),
    ],
)
def test_each_synthetic_letter_is_recognised_and_never_called_not_a_letter(name, layout):
    det = _letter(name)
    assert det.layout == layout
    assert NOT_A_LETTER not in det.warnings and det.decisions
    assert not any("may be truncated" in w for w in det.warnings)


def test_the_2013_notice_is_read_fully():
    det = _letter("synthetic-2013-notice.txt")
    assert (det.case_number, str(det.decision_date), str(det.application_received), str(det.ur_date)) == (
        "CM13-0001234",
        "2013-09-16",
        "2013-07-19",
        "2013-07-02",
    )
    assert [(d.item, d.outcome, d.medically_necessary) for d in det.decisions] == [
        ("physical therapy two times a week for six weeks for the lumbar spine", "upheld", False),
        ("Tramadol 50mg #60", "overturned", True),
        ("an MRI of the lumbar spine", "upheld", False),
    ]
    tramadol = det.decisions[1].treatment
    assert (tramadol.drug.generic, tramadol.strength.value, tramadol.quantity) == ("tramadol", 50.0, 60)
    assert det.reviewer.board_certified and det.reviewer.licensure_states == ["California"]
    assert (det.patient.age, det.patient.sex) == (47, "male")
    assert {"lumbar radiculopathy", "lumbar disc displacement"} <= {m.text for m in det.diagnoses}
    assert det.warnings == ["W010: 2013-notice layout: no rationale read for decision(s) 1, 2, 3"]


def test_the_2013_notice_with_words_run_together():
    det = _letter("synthetic-2013-notice-b.txt")
    (decision,) = det.decisions
    assert (decision.outcome, decision.treatment.drug.generic, decision.treatment.refills) == ("upheld", "zolpidem", 2)
    assert (str(det.decision_date), det.reviewer.specialties, det.reviewer.licensure_states) == (
        "2013-11-04",
        ["Internal Medicine"],
        ["Texas"],
    )


def test_the_professional_review_names_its_layout_where_it_cannot_read():
    det = _letter("synthetic-professional-review.txt")
    (decision,) = det.decisions
    assert decision.item == "Lumbar epidural steroid injection at L4-L5" and decision.outcome is None
    assert decision.medically_necessary is False  # from its rationale
    assert decision.rationale.startswith("The guidelines require radiculopathy")
    assert "MEDICAL REVIEWER" not in decision.rationale  # the part ends with its section
    assert det.warnings and all(
        w.startswith(
            (
                "W009: professional-review layout:",
                "W010: professional-review layout:",
                "W008: professional-review layout:",
            )
        )
        for w in det.warnings
    )


def test_a_known_layout_without_a_readable_decision_is_warned_by_its_name():
    text = (LAYOUTS / "synthetic-2014.txt").read_text(encoding="utf-8")
    cut = text[: text.index("IMR DECISION(S) AND RATIONALE(S)")]  # the letter without its decisions
    det = imr_nlp.parse(cut)
    assert det.layout == "2014" and not det.decisions
    assert det.warnings == ["W008: 2014 layout: no decision could be read from this letter"]


def test_an_unknown_text_is_still_not_a_letter():
    det = imr_nlp.parse("Dear Dr. Smith, thank you for the referral of this patient with knee pain.")
    assert det.layout == "unknown" and NOT_A_LETTER in det.warnings


def test_every_real_letter_of_our_corpus_is_the_2016_layout(shared):
    paths = sorted((shared / "corpus" / "pdf").glob("*.pdf"))
    assert {det.layout for det in imr_nlp.parse_many(paths, n_process=1)} == {"2016"}


@pytest.mark.parametrize("name", sorted(p.name for p in (LAYOUTS / "gold").glob("*.json")))
def test_a_2013_letter_is_scored_as_our_letters_are(name):
    """The scorer works on a letter of another layout as on ours: gold in the same format."""
    from imr_nlp import scoring

    nlp = imr_nlp.load()
    _, tally, letters = scoring.evaluate(nlp, LAYOUTS / "gold", LAYOUTS)
    assert letters and json.loads((LAYOUTS / "gold" / name).read_text(encoding="utf-8"))
    table = scoring.table(tally, letters, False)
    assert "micro-F1: 1.000" in table, table


@pytest.mark.parametrize("layout, text", EXAMPLES[:: max(1, len(EXAMPLES) // 8)])
def test_the_primary_layout_is_a_flag_of_the_rules_not_a_name_in_the_code(small_pipeline, layout, text):
    """Renaming every layout leaves which letters are read as primary unchanged: the code knows
    the primary layout by its flag (and an unknown layout is read as primary)."""
    primary = {rule.layout for rule in RULES.layouts if rule.primary}
    data = resources.to_data("letter_layouts.json", RULES)
    for rule in data["layouts"]:
        rule["layout"] = f"renamed-{rule['layout']}"
    nlp = small_pipeline("imr_layout")
    nlp.get_pipe("imr_layout").replace_rules({"letter_layouts.json": data})
    doc = nlp(text)
    assert doc._.layout == (layout if layout == "unknown" else f"renamed-{layout}")
    assert doc._.layout_read_as_primary == (layout in primary or layout == "unknown")


def test_exactly_one_layout_is_primary():
    data = resources.to_data("letter_layouts.json", RULES)
    for rule in data["layouts"]:
        rule["primary"] = True
    with pytest.raises(ValueError, match="exactly one layout must be primary"):
        resources.validate("letter_layouts.json", data)
