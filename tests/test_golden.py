"""Golden tests: the scorer of ../shared/eval over the seed letters and the public PDFs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from evidence import reads_as_written

import imr_nlp

ROOT = Path(__file__).resolve().parents[1]


def _scorer(shared):
    spec = importlib.util.spec_from_file_location("imr_score", shared / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _score(shared, letters, gold):
    score = _scorer(shared)
    tally = score.Tally()
    n = 0
    for gold_path in sorted(gold.glob("*.json")):
        txt, pdf = letters / f"{gold_path.stem}.txt", letters / f"{gold_path.stem}.pdf"
        if txt.exists():
            det = imr_nlp.parse(txt.read_text(encoding="utf-8"))
        elif pdf.exists():
            det = imr_nlp.parse_file(pdf)
        else:
            continue
        score.score_doc(tally, gold_path.stem, json.loads(gold_path.read_text()), det.model_dump(mode="json"))
        n += 1
    totals = [sum(v[i] for v in tally.c.values()) for i in range(3)]
    hard = [sum(v[i] for g, v in tally.c.items() if not g.startswith(score.EASY)) for i in range(3)]
    return n, score.Tally.f1(*totals)[2], score.Tally.f1(*hard)[2], tally.misses


def test_seed_letters_meet_the_bar(shared):
    n, micro, hard, misses = _score(shared, shared / "corpus" / "letters", shared / "corpus" / "gold")
    assert n >= 3
    assert micro >= 0.97 and hard >= 0.95, misses


def test_public_pdfs_meet_the_bar(shared):
    n, micro, hard, misses = _score(shared, shared / "corpus" / "pdf", shared / "corpus" / "gold-pdf")
    assert n >= 97
    assert micro >= 0.99 and hard >= 0.98, misses


def _group_f1(shared, letters, gold) -> dict[str, float]:
    score = _scorer(shared)
    tally = score.Tally()
    for gold_path in sorted(gold.glob("*.json")):
        pdf = letters / f"{gold_path.stem}.pdf"
        if pdf.exists():
            det = imr_nlp.parse_file(pdf)
            score.score_doc(tally, gold_path.stem, json.loads(gold_path.read_text()), det.model_dump(mode="json"))
    return {group: score.Tally.f1(*counts)[2] for group, counts in tally.c.items()}


def test_case_summary_facts_meet_the_bar(shared):
    """Regression floor (issue 12): diagnoses, their ICD-10-CM categories, assertions, dates and
    medications of 24 real letters."""
    f1 = _group_f1(shared, shared / "corpus" / "pdf", shared / "corpus" / "gold-pdf-facts")
    assert f1["diagnoses"] >= 0.92 and f1["diagnoses.icd10"] >= 0.85 and f1["assertions"] >= 0.85, f1
    assert f1["dates"] >= 0.98 and f1["medications"] >= 0.98, f1


def test_every_pdf_parses_with_evidence_offsets(shared):
    for pdf in sorted((shared / "corpus" / "pdf").glob("*.pdf")):
        text = imr_nlp.io.read_letter(pdf)
        det = imr_nlp.parse(text)
        assert det.decisions, pdf.name
        for d in det.decisions:
            assert " ".join(text[d.start : d.end].split()).replace("- ", "-") == d.item.replace("- ", "-"), pdf.name
        for m in det.medications + det.diagnoses + det.dates:
            assert reads_as_written(text, m.text, m.start, m.end), pdf.name


def _requests_scores(shared, capsys, *args):
    spec = importlib.util.spec_from_file_location("imr_requests_eval", shared / "eval" / "requests_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--json", *args])
    return json.loads(capsys.readouterr().out)


def test_requests_for_unseen_treatments_meet_the_bar(shared, capsys):
    """Regression floor (issue 11): item headers of treatments in none of our letters."""
    result = _requests_scores(shared, capsys)
    groups = result["groups"]
    assert result["items"] >= 300 and result["f1"] >= 0.95, groups
    assert groups["treatment.category"] >= 0.95 and groups["treatment.service"] >= 0.90, groups
    assert groups["treatment.dwc_category"] >= 0.93, groups


def test_letter_items_alone_meet_the_bar(shared, capsys):
    items = shared / "corpus" / "requests" / "letter-items.jsonl"
    groups = _requests_scores(shared, capsys, "--items", str(items))["groups"]
    for slot in ("category", "service", "dwc_category"):
        assert groups[f"treatment.{slot}"] >= 0.97, groups


def _reasons_scores(shared, capsys, monkeypatch, *args: str) -> dict:
    spec = importlib.util.spec_from_file_location("imr_reasons_eval", shared / "eval" / "reasons_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["reasons_eval.py", "--json", *args])
    module.main()
    return json.loads(capsys.readouterr().out)


def test_reasons_meet_the_bar(shared, capsys, monkeypatch):
    """Regression floor (issue 27): the reasons of the public letters' 207 decisions."""
    result = _reasons_scores(shared, capsys, monkeypatch)
    assert result["decisions"] == 207
    assert result["f1"] >= 0.82 and result["evidence"] >= 0.90, result


# The synthetic sets written blind from the spec (tests/data/reasons_unseen*/README.md) and the two
# development sets (reasons_dev*, written blind too, then read to widen the vocabulary): floors a
# little under their scores at the sixth version of the rules (set 9's runs, 0.669 -> 0.680, were
# its forecast; set 8 was read after its forecast; sets 10 and 11, written blind in the seventh
# session, forecast its changes: 0.618 -> 0.636 and 0.593 -> 0.600), so that a rule change that
# loses wordings it did not aim at shows here, not only on the public letters the rules were
# written from.
REASON_SET_FLOORS = {
    "reasons_unseen": 0.70,
    "reasons_unseen2": 0.80,
    "reasons_unseen3": 0.73,
    "reasons_unseen4": 0.66,
    "reasons_unseen5": 0.71,
    "reasons_unseen6": 0.68,
    "reasons_unseen7": 0.59,
    "reasons_unseen8": 0.66,
    "reasons_unseen9": 0.65,
    "reasons_unseen10": 0.61,
    "reasons_unseen11": 0.57,
    "reasons_dev1": 0.77,
    "reasons_dev2": 0.70,
}


@pytest.mark.parametrize("folder, floor", REASON_SET_FLOORS.items(), ids=list(REASON_SET_FLOORS))
def test_synthetic_reason_sets_stay_above_their_floor(shared, capsys, monkeypatch, folder, floor):
    data = ROOT / "tests" / "data" / folder
    result = _reasons_scores(
        shared, capsys, monkeypatch, "--letters", str(data / "letters"), "--gold", str(data / "gold")
    )
    gold = [json.loads(path.read_text(encoding="utf-8")) for path in (data / "gold").glob("*.json")]
    assert result["decisions"] == sum(len(letter["decisions"]) for letter in gold)
    assert result["f1"] >= floor, result


def _record_outputs():
    spec = importlib.util.spec_from_file_location("record_outputs", ROOT / "scripts" / "record_outputs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pdf_outputs_match_their_recorded_fingerprints(shared):
    """Every public PDF's Determination is exactly the recorded one (tests/data/pdf_outputs.json):
    speed work and refactoring must not move a single field. A change meant to alter the output
    re-records them with scripts/record_outputs.py, naming the letters that changed."""
    module = _record_outputs()
    recorded = json.loads((ROOT / "tests" / "data" / "pdf_outputs.json").read_text(encoding="utf-8"))
    now = module.fingerprints(shared / "corpus" / "pdf")
    assert sorted(now) == sorted(recorded)
    changed = sorted(name for name in recorded if now[name] != recorded[name])
    assert not changed, f"{len(changed)} letters' output changed: {', '.join(changed)}"


def test_seed_and_request_outputs_match_their_recorded_fingerprints(shared):
    """Each seed letter's Determination and each request header's Treatment is exactly the
    recorded one (tests/data/text_outputs.json), as for the PDFs above."""
    recorded = json.loads((ROOT / "tests" / "data" / "text_outputs.json").read_text(encoding="utf-8"))
    now = _record_outputs().text_fingerprints(shared / "corpus")
    assert sorted(now) == sorted(recorded)
    changed = sorted(name for name in recorded if now[name] != recorded[name])
    assert not changed, f"{len(changed)} outputs changed: {', '.join(changed[:20])}"
