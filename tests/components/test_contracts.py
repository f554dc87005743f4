"""One declared contract per component (imr_nlp.components.contract): the pipeline order, the
run-time input checks, spaCy's requires/assigns, the docs and the scoring families all come
from it, so they cannot disagree."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

import imr_nlp
from imr_nlp.components.base import Component
from imr_nlp.components.contract import CONTRACTS, dependency_order, missing_inputs, producers
from imr_nlp.extensions import SPAN_GROUPS
from imr_nlp.pipeline import PIPELINE

LETTER = "IMR ISSUES, DECISIONS AND RATIONALES\nNorco 10/325mg #60: Upheld\nDecision rationale: Not needed.\n"


def test_every_pipeline_component_declares_a_contract_and_the_order_follows_from_them():
    assert set(PIPELINE) <= set(CONTRACTS)
    assert missing_inputs(list(PIPELINE)) == []
    assert dependency_order(list(PIPELINE)) == list(PIPELINE)
    # from any order, the declarations alone give an order with no missing input
    assert missing_inputs(dependency_order(list(reversed(PIPELINE)))) == []


@pytest.mark.parametrize("factory", sorted(CONTRACTS))
def test_a_contract_names_only_known_span_groups_and_extensions(factory):
    from imr_nlp.extensions import DOC_EXTENSIONS, SHARED_TABLES, SPAN_EXTENSIONS

    contract = CONTRACTS[factory]
    for name in contract.reads + contract.reads_if_present + contract.writes:
        if name.startswith("spans:"):
            assert name[len("spans:") :] in SPAN_GROUPS, name
        elif name.startswith("doc._."):
            assert name[len("doc._.") :] in DOC_EXTENSIONS or name == "doc._.abbreviation_map", name
        elif name.startswith("span._."):
            assert name[len("span._.") :] in SPAN_EXTENSIONS, name
        elif name.startswith("vocab.lookups:"):
            assert name[len("vocab.lookups:") :] in SHARED_TABLES, name
        else:
            assert name in ("doc.sents", "doc.ents", "token.is_sent_start", "token._.section"), name


@pytest.mark.parametrize("factory", sorted(set(PIPELINE)))
def test_the_factory_requires_and_assigns_are_the_contracts(factory):
    meta = spacy.Language.get_factory_meta(factory)
    contract = CONTRACTS[factory]
    assert list(meta.requires) == contract.requires and list(meta.assigns) == contract.assigns


@pytest.mark.parametrize("removed", ["imr_decisions", "imr_drugs", "imr_sections", "imr_dates"])
def test_a_pipeline_without_a_producer_fails_loudly_naming_it(small_pipeline, removed):
    readers = [f for f in PIPELINE if any(removed in producers().get(n, []) for n in CONTRACTS[f].reads)]
    assert readers, removed
    nlp = small_pipeline(*[name for name in PIPELINE if name != removed])
    with pytest.raises(ValueError, match=rf"reads .* which the doc does not have: {removed} writes it"):
        nlp(LETTER)


def test_a_component_outside_the_contracts_runs_unchecked():
    class Free(Component):
        def match(self, doc):
            return None

        def set_annotations(self, doc, matches):
            return doc

    doc = spacy.blank("en")("text")
    assert Free(None, "free")(doc) is doc


def test_scores_are_keyed_by_factory_not_by_instance_name(shared):
    """A component added under another name scores under its factory's keys."""
    import json

    from imr_nlp.scoring import make_example

    nlp = imr_nlp.pipeline.build()
    nlp.rename_pipe("imr_decisions", "my_decisions")
    letter = sorted((shared / "corpus" / "letters").glob("*.txt"))[0]
    gold = json.loads((shared / "corpus" / "gold" / f"{letter.stem}.json").read_text(encoding="utf-8"))
    scores = nlp.evaluate([make_example(nlp, letter.read_text(encoding="utf-8"), gold, letter.stem)])
    assert "imr_decisions_f" in scores and not any(key.startswith("my_decisions") for key in scores)


def test_a_reordered_pipeline_fails_loudly_naming_the_late_producer(small_pipeline):
    order = [name for name in PIPELINE if name != "imr_drugs"]
    order.insert(order.index("imr_doses") + 1, "imr_drugs")  # drugs after the doses that read them
    nlp = small_pipeline(*order)
    with pytest.raises(
        ValueError, match=r"imr_doses reads doc.spans\['imr_drugs'\].* imr_drugs writes it and must run before"
    ):
        nlp(LETTER)


def test_span_groups_renamed_by_config_give_the_same_determination():
    """Every span group written under another key (as SpanRuler's ``spans_key``): the readers
    follow the renaming, so the Determination is the same and no default key is written."""
    from imr_nlp.pipeline import build

    renamed = {
        factory: {"span_keys": {group: f"renamed_{group}" for group in CONTRACTS[factory].span_groups_written()}}
        for factory in PIPELINE
        if CONTRACTS[factory].span_groups_written()
    }
    nlp = build(config=renamed)
    from imr_nlp.io import read_letter

    samples = sorted((Path(imr_nlp.__file__).parent / "samples").glob("*.*"))
    assert len(samples) >= 3
    for path in samples:
        text = read_letter(path)
        doc = nlp(text)
        assert not set(doc.spans) & set(SPAN_GROUPS.values()), sorted(doc.spans)
        assert {f"renamed_{group}" for group in SPAN_GROUPS} <= set(doc.spans)
        assert doc._.determination.model_dump() == imr_nlp.parse(text).model_dump(), path.name


@pytest.mark.parametrize(
    ("factory", "span_keys", "error"),
    [
        ("imr_drugs", {"items": "x"}, "span_keys names items, which it does not write"),
        ("imr_drugs", {"drugs": ""}, "span_keys gives drugs no key"),
    ],
)
def test_a_span_key_setting_that_cannot_work_is_refused(small_pipeline, factory, span_keys, error):
    with pytest.raises(ValueError, match=error):
        small_pipeline(factory, config={factory: {"span_keys": span_keys}})


def test_shared_tables_pass_through_the_vocabulary_not_through_another_component():
    """imr_services reads the number words imr_doses shares, and imr_decisions the line starts
    the tokenizer shares, from the vocabulary's lookups: without their producer they fail naming
    it; an edit of the producer's rules reaches the reader."""
    bare = spacy.blank("en")  # spaCy's own tokenizer: it shares no line starts
    decisions = bare.add_pipe("imr_decisions")
    doc = bare.make_doc("IMR ISSUES, DECISIONS AND RATIONALES")
    doc.spans["imr_sections"] = []
    with pytest.raises(ValueError, match=r"doc.vocab.lookups\['imr_line_starts'\].* imr_nlp.tokenizer.v1 writes it"):
        decisions(doc)

    alone = spacy.blank("en").add_pipe("imr_services")
    with pytest.raises(ValueError, match=r"doc.vocab.lookups\['imr_number_words'\].* imr_doses writes it"):
        alone.read("Physical therapy six visits")

    nlp = spacy.blank("en")
    doses = nlp.add_pipe("imr_doses")
    services = nlp.add_pipe("imr_services")
    rules = doses.rules["doses.json"].model_copy(deep=True)
    rules.number_words["sixish"] = 6
    doses._load_rules({"doses.json": rules.model_dump(mode="json")})
    assert services.tables.numbers["sixish"] == 6


def test_a_component_scores_through_its_registered_versioned_scorer(small_pipeline):
    from spacy.util import registry

    from imr_nlp.scoring import score_slots

    assert registry.scorers.get("imr_nlp.scorer.v1")() is score_slots
    assert small_pipeline("imr_drugs").config["components"]["imr_drugs"]["scorer"] == {"@scorers": "imr_nlp.scorer.v1"}

    @registry.scorers("imr_nlp_tests.counting_scorer.v1")
    def make_counting_scorer():
        return lambda examples, *, factory, slots, **_: {f"{factory}_seen": len(list(examples)), "slots": slots}

    nlp = small_pipeline(
        "imr_drugs", config={"imr_drugs": {"scorer": {"@scorers": "imr_nlp_tests.counting_scorer.v1"}}}
    )
    assert nlp.get_pipe("imr_drugs").score([object(), object()]) == {"imr_drugs_seen": 2, "slots": ("medications",)}


def test_one_sentence_end_definition_reaches_every_reader(small_pipeline):
    """The stops and closers of sentences.json are the splitter's, the item headers' and the
    truncation check's: a stop added there ends sentences for all of them."""
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_decisions")
    sentences = nlp.get_pipe("imr_sentences")
    assert nlp.get_pipe("imr_decisions").shared(nlp.make_doc(""), "sentence_ends") == {
        "stops": [".", "?", "!"],
        "closers": ['"', "'", ")", "]"],
    }
    assert len(list(nlp("Pain persists; Norco helps").sents)) == 1
    rules = sentences.rules["sentences.json"].model_dump(mode="json")
    rules["ends"]["stops"].append(";")
    sentences.replace_rules({"sentences.json": rules})
    assert len(list(nlp("Pain persists; Norco helps").sents)) == 2
    assert nlp.get_pipe("imr_decisions").shared(nlp.make_doc(""), "sentence_ends")["stops"] == [".", "?", "!", ";"]
