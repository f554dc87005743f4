"""ConText assertions: one table row per rule category, each with cases that must not fire.

The concept of each case is marked with [brackets]; the expected flags are the ones that must
be set (every other flag must be clear).
"""

import json

import pytest

import imr_nlp
import imr_nlp.pipeline  # noqa: F401  (registers the factories)
from imr_nlp import resources
from imr_nlp.components.context import CATEGORY_ATTRIBUTES, effective_rules, medspacy_default_rules


@pytest.fixture(scope="module")
def context_nlp(small_pipeline):
    return small_pipeline("imr_sentences", "imr_context")


def _flags(nlp, marked: str) -> set[str]:
    """The ConText categories that modify the [bracketed] concept of ``marked``."""
    concept = marked[marked.index("[") + 1 : marked.index("]")]
    doc = nlp.get_pipe("imr_sentences")(nlp.make_doc(marked.replace("[", "").replace("]", "")))
    start = doc.text.index(concept)  # in the cleaned text (runs of spaces collapsed)
    span = doc.char_span(start, start + len(concept), label="CONCEPT", alignment_mode="expand")
    ((_, cues),) = nlp.get_pipe("imr_context").match(doc, [span])
    return {cue.category for cue in cues}


NEG, UNC, HIST, HYP, FAM = ("NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", "FAMILY")

CASES = {
    "forward negation": [
        ("The patient denies [chest pain].", {NEG}),
        ("No [clubbing], cyanosis or edema.", {NEG}),
        ("No clubbing, cyanosis or [edema].", {NEG}),
        ("There is no evidence of [radiculopathy].", {NEG}),
        ("Without any evidence of [infection].", {NEG}),
        ("The patient has [chest pain].", set()),
        ("[Chest pain] is reported, no nausea.", set()),
    ],
    "backward negation": [
        ("His nausea and [vomiting] resolved.", {NEG}),
        ("[Fever] has resolved.", {NEG}),
        ("[Infection] was ruled out.", {NEG}),
        ("[Clonus] is absent.", {NEG}),
        ("[Intracranial hemorrhage] is not identified.", {NEG}),
        ("She reports [headache] and was given medication.", set()),
    ],
    "colon negation, both ways": [
        ("SKIN: No [rashes].", {NEG}),
        ("ALLERGIES: NO KNOWN [DRUG ALLERGIES].", {NEG}),
        ("[Fever]: no.", {NEG}),
        ("SKIN: [rashes] on both arms.", set()),
    ],
    "negative for, whitespace and -ve": [
        ("Review of systems negative for [fever].", {NEG}),
        ("Review of systems negative   for [fever].", {NEG}),
        ("Review of systems negative\tfor [fever].", {NEG}),
        ("GI ROS is -ve for [bleeding].", {NEG}),
        ("Review of systems positive for [fever].", set()),
    ],
    "pseudo-negation": [
        ("There is no change in [lumbar radiculopathy].", set()),
        ("No increase in [pain] was reported.", set()),
        ("MRI without contrast showed [disc protrusion].", set()),
        ("Not only [depression] but anxiety.", set()),
        ("Culture grew gram negative [rods].", set()),
        ("There is no [pain] and no change in gait.", {NEG}),
        ("There was no significant improvement in [pain].", set()),
        ("Without the medications he was using ([Klonopin], Prozac) he would be bedridden.", set()),
        ("Guidelines do not support the use of topical [lidocaine].", set()),
        ("The requested [Diclofenac ER] is not seen as medically necessary.", set()),
        ("The [Diclofenac ER] is not seen on the medication list.", {NEG}),
    ],
    "terminators": [
        ("No fever but [cough] persists.", set()),
        ("No fever, however [cough] persists.", set()),
        ("MRI showed no biliary dilatation and positive for [cholecystolithiasis].", set()),
        ("CT was done which showed [hydrocephalus], no hemorrhage.", set()),
        ("There is no documentation of functional improvement with [Baclofen].", set()),
        ("Utilization review denied a request for [Lorzone].", set()),
        ("Utilization review denied the medication due to [gastritis].", set()),
        ("Use of NSAIDs is not appropriate and therefore the need for [Pantoprazole] is unclear.", set()),
        ("No fever, no [cough].", {NEG}),
        ("There is no documentation of [functional improvement] with Baclofen.", {NEG}),
    ],
    "cue inside the concept": [
        ("Digital [rectal exam was performed and showed no abnormalities].", set()),
        ("The x-ray shows no [free air].", {NEG}),
        ("[Sigmoid diverticulosis without diverticulitis] was seen.", set()),
    ],
    "parenthesis": [
        ("The report (slides not submitted) indicates a diagnosis of [leukemia].", set()),
        ("The report indicates (no [leukemia]).", {NEG}),
    ],
    "list items and labels end scope": [
        ("DIAGNOSES: 1) No fracture 2) [Colitis] of the sigmoid colon", set()),
        ("Temperature not obtainable REFERRING DIAGNOSIS: [syncope] and collapse", set()),
        ("Pain was not relieved.The diagnoses are [lumbar strain] and anxiety.", set()),
    ],
    "uncertainty": [
        ("Findings suggest possible [sleep apnea].", {UNC}),
        ("Probable [carpal tunnel syndrome] bilaterally.", {UNC}),
        ("Rule out [lumbar radiculopathy].", {UNC}),
        ("Suspected [CRPS] of the left arm.", {UNC}),
        ("Dopplers were done to evaluate for [DVT].", {UNC}),
        ("[Tendinitis] versus tear of the rotator cuff.", {UNC}),
        ("Confirmed [carpal tunnel syndrome] bilaterally.", set()),
    ],
    "history": [
        ("She has a history of [hypertension].", {HIST}),
        ("Status post [rotator cuff repair].", {HIST}),
        ("S/p [lumbar fusion] in 2012.", {HIST}),
        ("Treatment to date has included [OxyContin] and therapy.", {HIST}),
        ("He previously received [epidural steroid injections].", {HIST}),
        ("She has tried and failed [gabapentin].", {HIST}),
        ("He took [ibuprofen] in the past.", {HIST}),
        ("He presents with [hypertension] today.", set()),
    ],
    "hypothetical": [
        ("Return if [chest pain] recurs.", {HYP}),
        ("Should [swelling] worsen, call the clinic.", {HYP}),
        ("Without the medications he would be [bedridden].", {HYP}),
        ("He is [bedridden].", set()),
    ],
    "family": [
        ("Family history of [diabetes].", {FAM}),
        ("His mother had [breast cancer].", {FAM}),
        ("He had [breast cancer].", set()),
    ],
}


@pytest.mark.parametrize(
    "marked, expected",
    [pytest.param(text, flags, id=f"{category}: {text}") for category, rows in CASES.items() for text, flags in rows],
)
def test_context_categories(context_nlp, marked, expected):
    assert _flags(context_nlp, marked) == expected


def test_assert_spans_matches_the_component():
    text = "No clubbing,  cyanosis or edema. Family history of diabetes."
    spans = [(text.index(w), text.index(w) + len(w)) for w in ("cyanosis", "diabetes")]
    cyanosis, diabetes = imr_nlp.assert_spans(text, spans)
    assert cyanosis.negated and not cyanosis.family
    assert diabetes.family and not diabetes.negated
    assert cyanosis.cues == ["NEGATED_EXISTENCE: No"]


@pytest.mark.parametrize("bad", [[(5, 2)], [(0, 999)], [(-1, 3)]])
def test_assert_spans_rejects_spans_outside_the_text(bad):
    with pytest.raises(ValueError):
        imr_nlp.assert_spans("No fever today.", bad)


def test_assert_spans_rejects_non_pairs():
    with pytest.raises(TypeError):
        imr_nlp.assert_spans("No fever today.", ["fever"])


def test_empty_span_gives_no_flags():
    (result,) = imr_nlp.assert_spans("No fever today.", [(3, 3)])
    assert not any([result.negated, result.uncertain, result.historical, result.hypothetical, result.family])


def test_rules_are_a_superset_of_medspacy_defaults():
    ours = effective_rules(resources.load("context_rules.json"), include_medspacy_defaults=True)
    ours_keys = {r.literal.lower() for r in ours}
    defaults = medspacy_default_rules()
    assert len(defaults) > 90
    assert {r.literal.lower() for r in defaults} <= ours_keys
    assert len(ours) > len(defaults)
    assert {r.category for r in ours} == set(CATEGORY_ATTRIBUTES)
    assert {"FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"} <= {r.direction for r in ours}


def test_change_to_a_missing_default_rule_is_an_error():
    data = resources.load_raw("context_rules.json")
    data["medspacy_changes"].append(
        {
            "category": "NEGATED_EXISTENCE",
            "literal": "no such cue",
            "direction": "BACKWARD",
            "reason": "test",
            "examples": [
                {"text": "Pain no such cue.", "target": "Pain", "negated": True},
                {"text": "Nausea no such cue.", "target": "Nausea", "negated": True},
            ],
        }
    )
    with pytest.raises(ValueError, match="do not exist"):
        effective_rules(resources.validate("context_rules.json", data), include_medspacy_defaults=True)


def test_shared_default_rules_are_not_mutated():
    before = json.dumps(resources.load_raw("context_rules.json"), sort_keys=True)
    rules = resources.load("context_rules.json")
    effective_rules(rules, include_medspacy_defaults=True)
    assert json.dumps(resources.load_raw("context_rules.json"), sort_keys=True) == before


def test_without_medspacy_defaults_only_our_rules_apply(small_pipeline):
    nlp = small_pipeline("imr_sentences", "imr_context", config={"imr_context": {"include_medspacy_defaults": False}})
    assert _flags(nlp, "There is no evidence of [radiculopathy].") == {NEG}  # ours
    assert _flags(nlp, "[Pneumonia] is unlikely.") == set()  # medspaCy's "unlikely"


def test_medspacy_defaults_come_through_medspacys_public_api_frozen():
    import spacy
    from medspacy.context import ConText

    from imr_nlp.components.context import medspacy_default_rules

    rules = medspacy_default_rules()
    assert len(rules) == len(ConText(spacy.blank("en"), rules="default").rules) > 50
    assert any(r.literal == "no" and r.category == "NEGATED_EXISTENCE" for r in rules)
    with pytest.raises(ValueError, match="frozen"):
        rules[0].literal = "changed"  # the shared defaults cannot be mutated


def test_the_pipeline_declares_its_chain_and_analyze_pipes_finds_no_problem():
    import imr_nlp

    nlp = imr_nlp.load()
    analysis = nlp.analyze_pipes(pretty=False)
    assert all(problems == [] for problems in analysis["problems"].values())
    assert "doc.sents" in analysis["summary"]["imr_context"]["requires"]
    # moved before the sentence splitter, ConText would lack what it needs: analyze_pipes says so
    import spacy

    reordered = spacy.blank("en")
    reordered.add_pipe("imr_context")
    reordered.add_pipe("imr_sentences")
    assert "doc.sents" in reordered.analyze_pipes(pretty=False)["problems"]["imr_context"]


def _moved_before(moved: str, before: str) -> list[str]:
    """The pipeline's components with ``moved`` put just before ``before``."""
    from imr_nlp.pipeline import PIPELINE

    order = [name for name in PIPELINE if name != moved]
    order.insert(order.index(before), moved)
    return order


@pytest.mark.parametrize(
    "moved, before, attribute",
    [
        ("imr_header", "imr_dates", "span._.iso_date"),
        ("imr_conclusions", "imr_decisions", "span._.decision"),
        ("imr_services", "imr_doses", "span._.dose"),
        ("imr_services", "imr_drugs", "span._.generic"),
        ("imr_citations", "imr_decisions", "span._.block_index"),
    ],
)
def test_analyze_pipes_flags_a_component_moved_before_what_it_requires(moved, before, attribute):
    import spacy

    nlp = spacy.blank("en")
    for name in _moved_before(moved, before):
        nlp.add_pipe(name)
    assert attribute in nlp.analyze_pipes(pretty=False)["problems"][moved]


@pytest.mark.parametrize(
    "moved, before, group",
    [
        ("imr_services", "imr_decisions", "imr_items"),
        ("imr_doses", "imr_drugs", "imr_drugs"),
        ("imr_conclusions", "imr_decisions", "imr_items"),
        ("imr_header", "imr_dates", "imr_dates"),
        ("imr_citations", "imr_decisions", "imr_block_parts"),
    ],
)
def test_a_reordered_pipeline_fails_loudly(small_pipeline, moved, before, group):
    """A component moved before the one whose span group it reads raises, naming both."""
    nlp = small_pipeline(*_moved_before(moved, before))
    expected = rf"{moved} reads doc.spans\['{group}'\].*{before} writes it and must run before"
    with pytest.raises(ValueError, match=expected):
        nlp("IMR ISSUES, DECISIONS AND RATIONALES\nNorco 10/325mg #60: Upheld\nDecision rationale: Not needed.\n")


@pytest.mark.parametrize(
    "text, doubted, stated",
    [
        (
            "CLINICAL CASE SUMMARY\nThe injured worker was treated for possible cubital tunnel syndrome, lateral "
            "epicondylitis of the right elbow and a right wrist sprain.",
            "cubital tunnel syndrome",
            "lateral epicondylitis of the right elbow",
        ),
        (
            "CLINICAL CASE SUMMARY\nThe diagnoses include possible carpal tunnel syndrome and cervical radiculopathy.",
            "carpal tunnel syndrome",
            "cervical radiculopathy",
        ),
    ],
)
def test_possible_in_a_list_doubts_its_own_item_only(text, doubted, stated):
    import imr_nlp

    mentions = {m.text: m for m in imr_nlp.parse(text).diagnoses}
    assert mentions[doubted].uncertain and mentions[doubted].kind == "problem"
    assert not mentions[stated].uncertain and mentions[stated].kind == "diagnosis"


def test_medspacys_default_context_rules_are_read_as_a_default_context_reads_them():
    """The default ConText rules are read from medspaCy's file with its own reader: the same rules,
    in the same order, as a ConText built with rules="default" holds."""
    import spacy
    from medspacy.context import ConText

    from imr_nlp.components import context

    expected = [context._rule_fields(rule) for rule in ConText(spacy.blank("en"), rules="default").rules]
    read = [rule.model_dump(exclude_none=True) for rule in context._medspacy_default_rules()]
    assert [{key: value for key, value in rule.items() if value not in (None, [])} for rule in read] == [
        {key: value for key, value in rule.items() if value not in (None, [])} for rule in expected
    ]
