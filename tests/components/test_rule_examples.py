"""Every rule entry that carries ``examples`` has them run by a test, and has at least two.

The walk finds every example-bearing model in the package's rule files. The kinds whose runner
lives here are run below; the others name the test that runs them (checked to exist), so a new
kind of rule cannot ship with examples nobody runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from imr_nlp import resources
from imr_nlp.components.normalize import line_starts_pattern
from imr_nlp.normalize.text import clean_text

TESTS = Path(__file__).resolve().parents[1]

# Example-bearing kinds run by a test elsewhere: kind -> "file::test function".
RUN_ELSEWHERE = {
    "ClassStem": "components/test_requests.py::test_class_stem_examples_end_with_the_stem",
    "BrandNames": "test_drugs.py::test_brand_name_examples_get_their_generic",
    "CodeSetSection": "components/test_requests.py::test_code_set_section_examples_get_their_category",
    "SystemicPatches": "components/test_requests.py::test_every_entry_has_two_distinct_examples",
    "WordClass": "components/test_requests.py::test_word_class_examples_contain_a_word_of_the_class",
    "WordList": "components/test_requests.py::test_word_list_examples_use_a_listed_word",
    "DefaultCategory": "components/test_requests.py::test_every_entry_has_two_distinct_examples",
    "ServiceName": "components/test_requests.py::test_canonical_name_examples_match_their_patterns",
    "DwcRule": "components/test_requests.py::test_dwc_rule_examples_get_the_rule_classes",
    "BodySite": "components/test_requests.py::test_body_site_examples_find_the_site",
    "FrequencyRule": "components/test_requests.py::test_frequency_examples_give_their_code",
    "DateRoleCue": "components/test_diagnoses.py::test_every_date_role_rule_runs_its_examples",
    "DiagnosisCue": "components/test_diagnoses.py::test_every_diagnosis_rule_runs_its_examples",
    "ConditionHeads": "components/test_diagnoses.py::test_every_diagnosis_rule_runs_its_examples",
    "DiagnosisWords": "components/test_diagnoses.py::test_every_diagnosis_rule_runs_its_examples",
    "ListPattern": "components/test_diagnoses.py::test_every_diagnosis_rule_runs_its_examples",
    "ConceptGroup": "components/test_diagnoses.py::test_every_coding_rule_runs_its_examples",
    "CoverageBackOff": "components/test_diagnoses.py::test_every_coding_rule_runs_its_examples",
    "StatedConditions": "components/test_diagnoses.py::test_every_diagnosis_rule_runs_its_examples",
    "RegionGroup": "components/test_diagnoses.py::test_every_coding_rule_runs_its_examples",
    "CodingWords": "components/test_diagnoses.py::test_every_coding_rule_runs_its_examples",
    "Postprocedural": "components/test_diagnoses.py::test_every_coding_rule_runs_its_examples",
    "IcdTerm": "components/test_diagnoses.py::test_every_coding_rule_runs_its_examples",
    "NextLetterRule": "test_robustness.py::test_next_letter_rule_examples",
    "HeaderField": "components/test_header.py::test_every_header_field_rule_reads_its_examples",
    "PatientRules": "components/test_header.py::test_patient_rules_read_their_examples",
    "CompoundNames": "components/test_header.py::test_compound_name_examples_stay_whole",
    "ValueType": "components/test_header.py::test_value_type_examples_find_their_values",
    "HeaderCells": "components/test_header.py::test_cells_not_read_do_not_end_the_label_block",
    "LetterLayout": "components/test_layout.py::test_layout_examples_are_recognised",
    "DeterminationStatement": "components/test_layout.py::test_determination_statement_examples_hold",
    "ItemLabel": "components/test_layout.py::test_item_label_examples_give_their_item_without_an_outcome",
}


def _example_bearers(model: BaseModel, where: str):
    """(kind, where, model) for every model in the tree of ``model`` with an ``examples`` field."""
    if "examples" in type(model).model_fields:
        yield type(model).__name__, where, model
    for name in type(model).model_fields:
        value = getattr(model, name)
        values = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
        for i, item in enumerate(values):
            if isinstance(item, BaseModel) and item is not model:
                yield from _example_bearers(item, f"{where}.{name}[{i}]")


# the repairs of other extractors' and OCR text (layout.json "repairs"), by field
REPAIR_KINDS = {
    "CharacterRepairs": "characters",
    "PageEdgeRepairs": "page_edges",
    "NoiseRepairs": "noise",
    "PageEndNoise": "page_end_noise",
    "LabelColonRepairs": "label_colons",
    "OcrWordRepairs": "ocr_words",
    "GluedWordRepairs": "glued_words",
    "OcrDateRepairs": "ocr_dates",
    "LineEndHyphens": "line_end_hyphens",
}
ALL = [bearer for name in resources._MODELS for bearer in _example_bearers(resources.load(name), name)]
RUN_HERE = {
    "OutcomeWording",
    "BlockLabel",
    "Preamble",
    "PartialRequests",
    "NecessityStatement",
    "LayoutRules",
    "SoftHyphenRules",
    "DrugWords",
    "Abbreviations",
    "SentenceEnds",
    "Wording",
    "SectionRule",
    "ContextRule",
    "DefaultRuleChange",
    "DrugEntry",
    "RequestTableExamples",
    "DateTableExamples",
    "DateFormat",
    "DrugTail",
    "ReasonCue",
    "ReasonWording",
    "ReasonSetting",
    "ReasonItemCategories",
    "CitationTableExamples",
    "PlausibleYears",
    *REPAIR_KINDS,
}
RUN_ELSEWHERE["EntityRules"] = "components/test_entities.py::test_entity_examples_hold"


def _bearers(kind: str):
    return [model for k, _, model in ALL if k == kind]


@pytest.mark.parametrize("kind, where, model", ALL, ids=[where for _, where, _ in ALL])
def test_every_rule_has_two_distinct_examples_and_a_runner(kind, where, model):
    assert len({repr(e) for e in model.examples}) >= 2, where
    assert kind in RUN_HERE or kind in RUN_ELSEWHERE, f"no test runs the examples of {kind} ({where})"
    if kind in RUN_ELSEWHERE:
        file, test = RUN_ELSEWHERE[kind].split("::")
        assert re.search(rf"^def {test}\(", (TESTS / file).read_text(encoding="utf-8"), re.M), RUN_ELSEWHERE[kind]


@pytest.fixture(scope="module")
def decisions_nlp(small_pipeline):
    return small_pipeline("imr_sentences", "imr_sections", "imr_decisions", "imr_conclusions")


def _section(text: str) -> str:
    return "IMR ISSUES, DECISIONS AND RATIONALES\n" + text + "\n"


ITEM_EXAMPLES = [
    (kind, example)
    for kind in ("OutcomeWording", "Preamble", "PartialRequests")
    for model in _bearers(kind)
    for example in model.examples
]


@pytest.mark.parametrize("kind, example", ITEM_EXAMPLES, ids=[e.text[:40] for _, e in ITEM_EXAMPLES])
def test_item_examples_give_their_item_outcome_and_partial(decisions_nlp, kind, example):
    doc = decisions_nlp(_section(example.text))
    items = list(doc.spans["imr_items"])
    assert items, example.text
    assert (" ".join(items[0].text.split()), items[0].label_) == (example.item, example.outcome)
    assert items[0]._.decision["partial"] is example.partial


BLOCK_EXAMPLES = [(model.section, e) for model in _bearers("BlockLabel") for e in model.examples]


@pytest.mark.parametrize("section, example", BLOCK_EXAMPLES, ids=[e.text[:40] for _, e in BLOCK_EXAMPLES])
def test_block_label_examples_open_their_part(decisions_nlp, section, example):
    doc = decisions_nlp(_section(example.text))
    parts = {p.label_: p.text.strip() for p in doc.spans["imr_block_parts"]}
    assert parts.get(section) == example.content


SOFT_HYPHEN_EXAMPLES = [e for model in _bearers("SoftHyphenRules") for e in model.examples]


@pytest.mark.parametrize("example", SOFT_HYPHEN_EXAMPLES, ids=[e.reads[:40] for e in SOFT_HYPHEN_EXAMPLES])
def test_soft_hyphen_examples_read_as_they_say(example):
    import spacy

    from imr_nlp.components.normalize import IMRTokenizer

    assert IMRTokenizer(spacy.blank("en"))(example.text).text == example.reads


REPAIR_EXAMPLES = [(REPAIR_KINDS[kind], e) for kind in REPAIR_KINDS for model in _bearers(kind) for e in model.examples]


@pytest.mark.parametrize("field, example", REPAIR_EXAMPLES, ids=[f"{f}:{e.reads[:30]}" for f, e in REPAIR_EXAMPLES])
def test_repair_examples_read_as_they_say(field, example):
    """Each repair's examples read as they say, and without that repair they do not: the rule is
    what repairs them."""
    import spacy

    from imr_nlp.components.normalize import IMRTokenizer

    tokenizer = IMRTokenizer(spacy.blank("en"))
    assert tokenizer(example.text).text == example.reads
    layout = tokenizer.layout
    tokenizer.set_layout(layout.model_copy(update={"repairs": layout.repairs.model_copy(update={field: None})}))
    assert tokenizer(example.text).text != example.reads


NECESSITY_EXAMPLES = [e for model in _bearers("NecessityStatement") for e in model.examples]


@pytest.mark.parametrize("example", NECESSITY_EXAMPLES, ids=[e.text[:40] for e in NECESSITY_EXAMPLES])
def test_necessity_examples_give_their_conclusion(decisions_nlp, example):
    doc = decisions_nlp(_section(f"Norco 10/325mg #60: Upheld\nDecision rationale: {example.text}"))
    assert [i._.decision["conclusion"] for i in doc.spans["imr_items"]] == [example.medically_necessary]


LAYOUT_EXAMPLES = [e for model in _bearers("LayoutRules") for e in model.examples]


@pytest.mark.parametrize("example", LAYOUT_EXAMPLES, ids=[e.keeps for e in LAYOUT_EXAMPLES])
def test_layout_examples_keep_their_line_start(example):
    from imr_nlp.components.normalize import midline_starts_pattern

    layout = resources.load("layout.json")
    clean, _ = clean_text(example.text, line_starts_pattern(layout.line_starts), midline_starts_pattern(layout))
    assert any(line.startswith(example.keeps) for line in clean.split("\n")), clean
    # without the layout rules the line start is not kept: the rule is what keeps it
    bare, _ = clean_text(example.text, None, None)
    assert not any(line.startswith(example.keeps) for line in bare.split("\n")), bare


DRUG_RULES = resources.load("drugs.json")


@pytest.mark.parametrize("example", DRUG_RULES.form_words.examples)
def test_form_word_examples_lose_their_form_word(example):
    from imr_nlp.normalize.drugs import canonical_generic, form_words_pattern

    words = DRUG_RULES.form_words.words
    assert any(w in example.lower().split() for w in words), example
    generic = canonical_generic(example, form_words_pattern(words))
    assert not any(w in generic.split() for w in words), generic


@pytest.mark.parametrize("example", DRUG_RULES.topical_before.examples)
def test_topical_before_examples_make_a_topical(small_pipeline, example):
    assert any(w in example.lower().split() for w in DRUG_RULES.topical_before.words), example
    doc = small_pipeline("imr_drugs")(example)
    assert [s._.drug_class for s in doc.spans["imr_drugs"]][:1] == ["topical analgesic"], example


SENTENCE_RULES = resources.load("sentences.json")


@pytest.mark.parametrize(
    "example", [*SENTENCE_RULES.abbreviations.examples, *SENTENCE_RULES.ends.examples], ids=lambda e: e.text[:30]
)
def test_abbreviation_and_sentence_end_examples_split_where_they_say(small_pipeline, example):
    doc = small_pipeline("imr_sentences")(example.text)
    assert len(list(doc.sents)) == example.sentences, [s.text for s in doc.sents]


WORDINGS = [(name, e) for name, w in resources.load("guidelines.json").wordings for e in w.examples]


@pytest.mark.parametrize("name, example", WORDINGS, ids=[f"{n}:{e[:25]}" for n, e in WORDINGS])
def test_wording_examples_are_matched(name, example):
    wording = getattr(resources.load("guidelines.json").wordings, name)
    assert re.search(wording.pattern, example, re.I | re.S), (name, example)


SECTION_EXAMPLES = [(rule, e) for rule in resources.load("sections.json").sections for e in rule.examples]


@pytest.mark.parametrize("rule, example", SECTION_EXAMPLES, ids=[e[:30] for _, e in SECTION_EXAMPLES])
def test_section_heading_examples_open_their_section(small_pipeline, rule, example):
    doc = small_pipeline("imr_sentences", "imr_sections")(example)
    opened = {s.label_: s.text for s in doc.spans["imr_sections"]}
    assert rule.section in opened and opened[rule.section].startswith(rule.literal), opened


CONTEXT_EXAMPLES = [
    (where, example)
    for kind, where, model in ALL
    if kind in ("ContextRule", "DefaultRuleChange")
    for example in model.examples
]


@pytest.mark.parametrize("where, example", CONTEXT_EXAMPLES, ids=[e.text[:40] for _, e in CONTEXT_EXAMPLES])
def test_context_examples_get_their_flags(decisions_nlp, where, example):
    """A ConText rule's examples: the flags it gives its target (imr_context's rules, through
    ``assert_spans``), or the polarity it gives a necessity statement (imr_conclusions')."""
    import imr_nlp

    if where.startswith("conclusions.json"):
        doc = decisions_nlp(_section(f"Norco 10/325mg #60: Upheld\nDecision rationale: {example.text}"))
        statements = [s for s in doc.spans["imr_necessity"] if example.target in s.text]
        assert statements, example.text
        assert {"negated": statements[0]._.is_negated} == example.expected()
        return
    if where.startswith("reasons.json"):
        from imr_nlp.components.base import char_span
        from imr_nlp.components.context import IMRContext

        nlp = imr_nlp.load()
        doc = nlp(example.text)
        start = example.text.index(example.target)
        target = char_span(doc, start, start + len(example.target))
        ((_, cues),) = IMRContext.match(nlp.get_pipe("imr_reasons"), doc, targets=[target])
        flags = {"negated": "NEGATED_EXISTENCE", "uncertain": "POSSIBLE_EXISTENCE"}
        got = {name: any(c.category == flags[name] for c in cues) for name in example.expected()}
        assert got == example.expected(), cues
        return
    start = example.text.index(example.target)
    found = imr_nlp.assert_spans(example.text, [(start, start + len(example.target))])[0]
    assert {name: getattr(found, name) for name in example.expected()} == example.expected(), found.cues


DRUG_EXAMPLES = [(model.generic, example) for model in _bearers("DrugEntry") for example in model.examples]


@pytest.mark.parametrize("generic, example", DRUG_EXAMPLES, ids=[e for _, e in DRUG_EXAMPLES])
def test_drug_entry_examples_give_their_generic(nlp, generic, example):
    doc = nlp.get_pipe("imr_drugs")(nlp.make_doc(example))
    assert generic in [span._.generic for span in doc.spans["imr_drugs"]]


def _field(data: dict, dotted: str):
    """A Treatment field by its dotted path ("strength.unit"); None along a missing branch."""
    for key in dotted.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


REQUEST_TABLE_EXAMPLES = [(m.table, e) for m in _bearers("RequestTableExamples") for e in m.examples]


@pytest.mark.parametrize("table, example", REQUEST_TABLE_EXAMPLES, ids=[e.text for _, e in REQUEST_TABLE_EXAMPLES])
def test_request_table_examples_read_their_fields(table, example):
    import imr_nlp

    treatment = imr_nlp.parse_request(example.text).model_dump(mode="json")
    assert {key: _field(treatment, key) for key in example.expect} == example.expect, table


DATE_TABLE_EXAMPLES = [(m.table, e) for m in _bearers("DateTableExamples") for e in m.examples]


@pytest.mark.parametrize("table, example", DATE_TABLE_EXAMPLES, ids=[e.text for _, e in DATE_TABLE_EXAMPLES])
def test_date_table_examples_read_their_date(nlp, table, example):
    doc = nlp(example.text)
    assert example.iso in [span._.iso_date for span in doc.spans["imr_dates"]], table


DRUG_TAIL_EXAMPLES = [e for m in _bearers("DrugTail") for e in m.examples]


@pytest.mark.parametrize("example", DRUG_TAIL_EXAMPLES, ids=[e.text for e in DRUG_TAIL_EXAMPLES])
def test_drug_tail_examples_read_their_doses(nlp, example):
    doc = nlp(example.text)
    assert [(s.label_, s.text) for s in doc.spans["imr_doses"]] == [tuple(pair) for pair in example.doses]


REASON_EXAMPLES = [
    (m.name if hasattr(m, "name") else m.description, e)
    for kind in ("ReasonCue", "ReasonWording", "ReasonSetting", "ReasonItemCategories")
    for m in _bearers(kind)
    for e in m.examples
]


def reason_letter(example) -> str:
    """A decision section whose one item's rationale is the example's text."""
    outcome = "Overturned" if example.outcome == "overturned" else "Upheld"
    return (
        "IMR ISSUES, DECISIONS AND RATIONALES\n"
        f"{example.item or 'Physical therapy 6 visits'}: {outcome}\n"
        "Claims Administrator guideline: Decision based on MTUS.\n"
        "MAXIMUS guideline: Decision based on MTUS.\n"
        f"Decision rationale: {example.text}\n"
    )


@pytest.mark.parametrize("rule, example", REASON_EXAMPLES, ids=[e.text[:50] for _, e in REASON_EXAMPLES])
def test_reason_examples_give_their_reasons(rule, example):
    import imr_nlp

    (decision,) = imr_nlp.parse(reason_letter(example)).decisions
    pairs = {(r.code, r.direction) for r in decision.reasons}
    assert {tuple(p) for p in example.reasons} <= pairs, (rule, sorted(pairs))
    assert not {tuple(p) for p in example.absent} & pairs, (rule, sorted(pairs))
    for reason in decision.reasons:
        assert reason.text.strip() and reason.text in reason_letter(example)


DATE_FORMAT_EXAMPLES = [(m.name, e) for m in _bearers("DateFormat") for e in m.examples]


@pytest.mark.parametrize("date_format, example", DATE_FORMAT_EXAMPLES, ids=[e.text for _, e in DATE_FORMAT_EXAMPLES])
def test_date_format_examples_read_their_date(nlp, date_format, example):
    doc = nlp(example.text)
    assert [span._.iso_date for span in doc.spans["imr_dates"]] == [example.iso], date_format


IMPLAUSIBLE_DATE_EXAMPLES = [e for m in _bearers("PlausibleYears") for e in m.examples]


@pytest.mark.parametrize("example", IMPLAUSIBLE_DATE_EXAMPLES, ids=[e.text for e in IMPLAUSIBLE_DATE_EXAMPLES])
def test_a_date_with_an_implausible_year_is_a_warning_not_a_date(nlp, example):
    doc = nlp(example.text)
    assert [span._.iso_date for span in doc.spans["imr_dates"]] == ([example.iso] if example.iso else [])
    assert any("outside" in w for w in doc._.imr_warnings or []), doc._.imr_warnings


CITATION_TABLE_EXAMPLES = [(m.table, e) for m in _bearers("CitationTableExamples") for e in m.examples]


@pytest.mark.parametrize(
    "table, example", CITATION_TABLE_EXAMPLES, ids=[e.text[:50] for _, e in CITATION_TABLE_EXAMPLES]
)
def test_citation_table_examples_read_their_sources(nlp, table, example):
    citations = nlp.get_pipe("imr_citations")
    found = citations.parse(example.text)
    assert [c["source"] for c in found] == example.sources, table
    if example.topics is not None:
        assert [t for c in found for t in c["topics"]] == example.topics, table
    if example.mtus_based is not None:
        assert citations.mtus_based(example.text, found) is example.mtus_based, table


@pytest.mark.parametrize("name", ["drugs.json", "doses.json", "dates.json", "guidelines.json", "body_sites.json"])
def test_a_vocabulary_table_without_examples_is_refused(name):
    data = resources.load_raw(name)
    dropped = data["table_examples"].pop(0)["table"]
    with pytest.raises(ValueError, match=f"tables without examples: .*{dropped}|at least 1 item"):
        resources.validate(name, data)
    data["table_examples"].append({"table": "no_such_table", "examples": ["a", "b"]})
    with pytest.raises(ValueError):
        resources.validate(name, data)


@pytest.mark.parametrize("example", DRUG_RULES.analyte_branches.examples)
def test_analyte_examples_are_no_drug(small_pipeline, example):
    """A lexicon entry filed only under the analyte branches is no drug mention; without the
    rule the lexicon would read it as one."""
    from imr_nlp.normalize.drugs import DrugLexicon

    doc = small_pipeline("imr_drugs")(f"{example} was ordered.")
    assert not list(doc.spans["imr_drugs"]), example
    bare = DrugLexicon(rules=DRUG_RULES.model_copy(update={"analyte_branches": None}))
    assert bare.lookup(example.lower()) is not None, example
