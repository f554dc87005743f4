"""nlp.to_disk then spacy.load gives the same results; rules travel with the saved pipeline."""

import spacy

import imr_nlp


def test_round_trip(tmp_path, nlp, shared):
    nlp.to_disk(tmp_path / "imr_pipeline")
    loaded = spacy.load(tmp_path / "imr_pipeline")
    assert loaded.pipe_names == nlp.pipe_names
    for path in sorted((shared / "corpus" / "letters").glob("*.txt"))[:3]:
        text = path.read_text(encoding="utf-8")
        assert loaded(text)._.determination == nlp(text)._.determination


def test_rules_are_written_as_data(tmp_path, nlp):
    nlp.to_disk(tmp_path / "p")
    assert (tmp_path / "p" / "imr_drugs" / "drugs.json").exists()
    assert (tmp_path / "p" / "imr_context" / "context_rules.json").exists()
    assert (tmp_path / "p" / "imr_services" / "request_grammar.json").exists()
    assert (tmp_path / "p" / "imr_services" / "service_names.jsonl").exists()
    assert (tmp_path / "p" / "imr_services" / "dwc_rules.jsonl").exists()


def test_edited_rules_are_used_after_loading(tmp_path, nlp):
    import json

    nlp.to_disk(tmp_path / "p")
    rules_path = tmp_path / "p" / "imr_drugs" / "drugs.json"
    rules = json.loads(rules_path.read_text())
    rules["drugs"].append(
        {
            "names": ["Zorblax"],
            "generic": "zorbaxamine",
            "drug_class": "opioid",
            "examples": ["Zorblax 10mg #60", "Zorblax 5 mg twice daily"],
        }
    )
    rules_path.write_text(json.dumps(rules))
    loaded = spacy.load(tmp_path / "p")
    doc = loaded("CLINICAL CASE SUMMARY\nThe current medications are Zorblax.")
    assert [s._.generic for s in doc.spans["imr_drugs"]] == ["zorbaxamine"]
    # the shared default rules were not touched
    assert imr_nlp.parse("The current medications are Zorblax.").medications == []
