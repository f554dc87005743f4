"""models/imr_pipeline: the committed nlp.to_disk() output loads with spacy.load alone."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import imr_nlp
from imr_nlp.io import read_letter

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "imr_pipeline"
SAMPLES = sorted((ROOT / "imr_nlp" / "samples").iterdir())

# Run in a fresh interpreter: spacy.load must find our factories through the entry points.
_LOAD_ALONE = """
import json, sys
import spacy
assert "imr_nlp" not in sys.modules
nlp = spacy.load(sys.argv[1])  # imports our factories through the spacy_factories entry points
out = []
for text in json.load(sys.stdin):
    doc = nlp(text)
    out.append({
        "groups": {k: [[s.start_char, s.end_char, s.label_] for s in g] for k, g in doc.spans.items()},
        "determination": doc._.determination.model_dump(mode="json"),
    })
print(json.dumps(out))
"""


def _entities(doc) -> dict:
    return {k: [[s.start_char, s.end_char, s.label_] for s in g] for k, g in doc.spans.items()}


@pytest.mark.skipif(not MODEL.exists(), reason="models/imr_pipeline not built")
def test_saved_pipeline_loads_without_importing_imr_nlp_and_agrees():
    texts = [read_letter(p) for p in SAMPLES]
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _LOAD_ALONE, str(MODEL)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout)
    nlp = imr_nlp.load()
    for text, got in zip(texts, loaded, strict=True):
        doc = nlp(text)
        assert got["groups"] == _entities(doc)
        assert got["determination"] == doc._.determination.model_dump(mode="json")
    assert any(got["groups"]["imr_drugs"] for got in loaded)


def test_saved_pipeline_is_what_the_build_script_writes(tmp_path):
    subprocess.run(
        [sys.executable, "-W", "ignore", str(ROOT / "scripts" / "build_model.py"), str(tmp_path / "p")],
        check=True,
        capture_output=True,
    )
    written = sorted(p.relative_to(tmp_path / "p") for p in (tmp_path / "p").rglob("*") if p.is_file())
    committed = sorted(p.relative_to(MODEL) for p in MODEL.rglob("*") if p.is_file())
    assert written == committed
    for rel in written:
        assert (tmp_path / "p" / rel).read_bytes() == (MODEL / rel).read_bytes(), f"rebuild models/: {rel} differs"


def test_warning_codes_are_unique_stable_and_what_code_matches():
    from imr_nlp import errors

    codes = list(errors.WARNINGS)
    assert codes == sorted(codes) and all(len(code) == 4 and code.startswith("W") for code in codes)
    message = errors.warning("W005", decision=3)
    assert message == "W005: decision 3: no 'Decision rationale:' found: the letter may be truncated"
    assert errors.warning_code(message) == "W005" and errors.is_truncation(message)
    assert errors.warning_code("decision 3: no rationale") is None and not errors.is_truncation("may be truncated")


def test_every_warning_of_the_samples_and_odd_texts_has_a_code():
    import imr_nlp
    from imr_nlp import errors

    texts = ["", "A note about something else.", "HOW THE IMR", "letter.pdf", "Date of injury: March 21, 0202."]
    texts += [p.read_text(encoding="utf-8") for p in SAMPLES if p.suffix == ".txt"]
    warnings = [w for text in texts for w in imr_nlp.parse(text).warnings]
    assert len(warnings) >= 5
    assert all(errors.warning_code(w) in errors.WARNINGS for w in warnings), warnings
