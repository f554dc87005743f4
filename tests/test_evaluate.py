"""Scoring in spaCy's manner: each component family scores its slots through ``nlp.evaluate``,
and ``imr-nlp evaluate GOLD_DIR`` prints the slot table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import imr_nlp
from imr_nlp.cli import main
from imr_nlp.scoring import Tally, families, make_example, score_letter

SYNTHETIC = Path(imr_nlp.__file__).parent / "samples" / "synthetic_letter.txt"

GOLD = {
    "case_number": "CM16-0000001",
    "patient": {"age": 54, "sex": "female"},
    "medications": ["hydrocodone", "gabapentin"],
    "decisions": [
        {
            "item": "Norco 10/325mg #60",
            "outcome": "upheld",
            "medically_necessary": False,
            "treatment": {"category": "medication", "drug": "hydrocodone", "quantity": 60},
        }
    ],
}


def _predicted(**changes) -> dict:
    predicted = {
        "case_number": "CM16-0000001",
        "patient": {"age": 54, "sex": "female"},
        "medications": [{"generic": "hydrocodone / acetaminophen"}, {"generic": "gabapentin"}],
        "decisions": [
            {
                "item": "Norco 10/325mg #60",
                "outcome": "upheld",
                "medically_necessary": False,
                "treatment": {
                    "category": "medication",
                    "drug": {"generic": "hydrocodone / acetaminophen"},
                    "quantity": 60,
                },
            }
        ],
    }
    predicted.update(changes)
    return predicted


def test_a_perfect_letter_has_no_miss():
    tally = score_letter(GOLD, _predicted())
    assert tally.totals() == (11, 0, 0) and tally.misses == []


@pytest.mark.parametrize(
    "changes, group, counts",
    [
        ({"case_number": "CM16-9"}, "header", [0, 1, 1]),  # a wrong value: one fp and one fn
        ({"case_number": None}, "header", [0, 0, 1]),  # a missed value: one fn
        ({"patient": {"age": 54, "sex": None}}, "patient.sex", [0, 0, 1]),
        ({"medications": [{"generic": "gabapentin"}, {"generic": "aspirin"}]}, "medications", [1, 1, 1]),
        ({"decisions": []}, "decision.found", [0, 0, 1]),
    ],
)
def test_each_kind_of_error_is_counted_in_its_group(changes, group, counts):
    assert score_letter(GOLD, _predicted(**changes)).counts[group] == counts


def test_an_extra_decision_is_a_false_positive():
    extra = _predicted()["decisions"] + [{"item": "MRI of the knee", "outcome": "overturned", "treatment": {}}]
    assert score_letter(GOLD, _predicted(decisions=extra)).counts["decision.found"] == [1, 1, 0]


def test_every_slot_group_has_a_family():
    groups = set(score_letter(GOLD, _predicted()).counts) | {"treatment.strength", "claims_administrator.sources"}
    for group in groups:
        assert any(group.startswith(prefixes) for prefixes in families(imr_nlp.load()).values()), group


def test_language_evaluate_gives_each_family_its_scores(nlp, shared):
    letter = sorted((shared / "corpus" / "letters").glob("*.txt"))[0]
    gold = json.loads((shared / "corpus" / "gold" / f"{letter.stem}.json").read_text())
    scores = nlp.evaluate([make_example(nlp, letter.read_text(encoding="utf-8"), gold, letter.stem)])
    for family in ("imr_header", "imr_decisions", "imr_conclusions", "imr_services", "imr_drugs", "imr_context"):
        assert 0.0 <= scores[f"{family}_f"] <= 1.0
        assert scores[f"{family}_per_group"]
    assert scores["imr_decisions_per_group"]["decision.found"]["tp"] == len(gold["decisions"])


def test_the_evaluate_command_prints_the_shared_scorers_table(shared):
    args = ["--letters", str(shared / "corpus" / "letters"), "--gold", str(shared / "corpus" / "gold")]
    expected = subprocess.run(
        [sys.executable, str(shared / "eval" / "score.py"), *args], capture_output=True, text=True, check=True
    ).stdout
    result = CliRunner().invoke(main, ["evaluate", str(shared / "corpus" / "gold"), "--letters", args[1]])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


def test_evaluate_says_when_no_gold_has_its_letter(tmp_path):
    (tmp_path / "a.json").write_text("{}")
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path)])
    assert result.exit_code == 1 and "no gold file" in result.output


def test_tally_scores_are_spacy_style():
    tally = Tally()
    tally.add("header", tp=3, fp=1)
    scores = tally.scores("imr_header")
    assert scores["imr_header_p"] == 0.75 and scores["imr_header_r"] == 1.0
    assert scores["imr_header_per_group"]["header"]["tp"] == 3


def _entity_example(nlp, changes: str):
    """An ordinary spaCy Example of the synthetic letter, its gold entities the pipeline's own
    ``doc.ents`` changed as ``changes`` says: "none", "drop" (the last one missed), "relabel" (the
    first one given another label)."""
    from spacy.training import Example

    text = SYNTHETIC.read_text(encoding="utf-8")
    entities = [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]
    if changes == "drop":
        entities = entities[:-1]
    elif changes == "relabel":
        start, end, label = entities[0]
        entities[0] = (start, end, "DRUG" if label != "DRUG" else "DATE")
    return Example.from_dict(nlp.make_doc(text), {"entities": entities}), len(entities)


@pytest.mark.parametrize(
    "changes, precision, recall",
    [("none", 1.0, 1.0), ("drop", "below 1", 1.0), ("relabel", "below 1", "below 1")],
)
def test_evaluate_gives_entity_scores_for_ordinary_examples(nlp, changes, precision, recall):
    """``nlp.evaluate`` with ``Example.from_dict(doc, {"entities": ...})`` scores ``doc.ents`` as
    it scores an ``ner`` pipe's (imr_entities' scorer is spacy.ner_scorer.v1), and the slot
    families, which have no gold in such an Example, give None, not a perfect score."""
    example, _ = _entity_example(nlp, changes)
    scores = nlp.evaluate([example])
    for name, expected in (("ents_p", precision), ("ents_r", recall)):
        assert scores[name] < 1.0 if expected == "below 1" else scores[name] == expected, name
    assert scores["ents_per_type"] and 0.0 < scores["ents_f"] <= 1.0
    for family in families(nlp):
        assert scores[f"{family}_f"] is None, family


def test_letter_gold_without_entities_leaves_the_entity_scores_none(nlp):
    text = SYNTHETIC.read_text(encoding="utf-8")
    scores = nlp.evaluate([make_example(nlp, text, GOLD, "synthetic")])
    assert scores["ents_f"] is None and scores["imr_header_f"] is not None
