"""Diagnoses, problems and their ICD-10-CM codes: every rule and table entry runs its own
examples; cue and list forms table-driven with negative rows; codes always exist in the code set;
the code tables round-trip through to_disk/from_disk."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imr_nlp import resources
from imr_nlp.normalize import icd10
from imr_nlp.normalize.dates import find_dates

RULES = resources.load("diagnoses.json")
VOCABULARY = resources.load("icd10.json")
TERMS = resources.load("icd10_terms.jsonl")
COMPONENTS = ("imr_sentences", "imr_sections", "imr_diagnoses", "imr_context")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.fixture(scope="module")
def nlp(small_pipeline):
    return small_pipeline(*COMPONENTS)


def _mentions(nlp, text: str) -> tuple[list[str], list[str]]:
    doc = nlp(text)
    return (
        [_norm(s.text) for s in doc.spans["imr_diagnoses"]],
        [_norm(s.text) for s in doc.spans["imr_problems"]],
    )


def _diagnosis_entries():
    out = [(f"list_cue:{c.name}", c.examples) for c in RULES.list_cues]
    out += [(f"statement_cue:{c.name}", c.examples) for c in RULES.statement_cues]
    out += [(f"list_end:{c.name}", c.examples) for c in RULES.list_ends]
    out += [("heads", RULES.heads.examples)]
    grammar = RULES.list_grammar
    out += [
        (f"list_grammar:{name}", getattr(grammar, name).examples)
        for name in type(grammar).model_fields
        if name != "description"
    ]
    if RULES.stated_conditions:
        out.append(("stated_conditions", RULES.stated_conditions.examples))
    for name in (
        "body_words",
        "drop_words",
        "modifiers",
        "phrase_stops",
        "complement_prepositions",
        "complement_determiners",
    ):
        out.append((name, getattr(RULES, name).examples))
    return out


@pytest.mark.parametrize("entry, examples", _diagnosis_entries(), ids=[e[0] for e in _diagnosis_entries()])
def test_every_diagnosis_rule_runs_its_examples(nlp, entry, examples):
    assert len(examples) >= 2
    for example in examples:
        diagnoses, problems = _mentions(nlp, example.text)
        assert sorted(diagnoses) == sorted(_norm(d) for d in example.diagnoses), example.text
        for expected in example.problems:
            assert _norm(expected) in problems, (example.text, problems)
        for absent in example.absent:
            assert not any(_norm(absent) in m for m in diagnoses + problems), (example.text, diagnoses, problems)


@pytest.mark.parametrize("cue", [*RULES.list_cues, *RULES.statement_cues], ids=lambda c: c.name)
def test_cues_match_the_same_in_lower_case(cue):
    """The component searches cues in the lower-cased text: no pattern may depend on case."""
    pattern = re.compile(cue.pattern, re.I)
    lower = re.compile(cue.pattern)
    for example in cue.examples:
        assert [m.span() for m in pattern.finditer(example.text)] == [
            m.span() for m in lower.finditer(example.text.lower())
        ]


@pytest.mark.parametrize("cue", [*RULES.list_cues, *RULES.statement_cues], ids=lambda c: c.name)
def test_cues_start_where_they_are_tried(cue):
    """The component tries a cue only at the text's start and after a non-word character
    (WordStartCue): on its examples that loses none of the plain search's matches."""
    from imr_nlp.components.diagnoses import WordStartCue

    tried = WordStartCue(cue.pattern, re.I)
    for example in cue.examples:
        plain = [m.span() for m in re.finditer(cue.pattern, example.text, re.I)]
        assert tried.spans(example.text, 0, len(example.text)) == plain, example.text


CUE_ROWS = [
    # (text, diagnoses expected, in order)
    ("The injured worker was diagnosed as suffering from lumbar strain.", ["lumbar strain"]),
    (
        "Her diagnoses include right knee sprain; lumbar spine sprain/strain.",
        ["right knee sprain", "lumbar spine sprain/strain"],
    ),
    (
        "The diagnoses were cervical radiculopathy and right elbow lateral epicondylitis.",
        ["cervical radiculopathy", "right elbow lateral epicondylitis"],
    ),
    (
        "Diagnoses:\n1. Lumbar radiculopathy\n2. Left knee meniscus tear\n\nThe plan was therapy.",
        ["lumbar radiculopathy", "left knee meniscus tear"],
    ),
    ("Diagnoses:\n- Cervical strain\n- Right shoulder tendinitis\n", ["cervical strain", "right shoulder tendinitis"]),
    (
        "Impression: 1) L4-5 disc protrusion 2) bilateral lower extremity radiculopathy.",
        ["l4-5 disc protrusion", "bilateral lower extremity radiculopathy"],
    ),
    (
        "Diagnosis 03/02/15- lumbar sprain- right ankle sprain- anxiety.",
        ["lumbar sprain", "right ankle sprain", "anxiety"],
    ),
    (
        "He is being treated for lumbar disc herniation, as well as depression.",
        ["lumbar disc herniation", "depression"],
    ),
    ("The applicant has been diagnosed with PTSD.", ["ptsd"]),
    ("She is undergoing treatments for chronic pain syndrome and GERD.", ["chronic pain syndrome", "gerd"]),
    ("It was noted that the claimant has severe left knee osteoarthritis.", ["severe left knee osteoarthritis"]),
    ("He was treated for cervical, thoracic and lumbar strain.", ["cervical, thoracic and lumbar strain"]),
    # negative rows: guideline text, symptoms, drugs, findings
    ("Benzodiazepines are not recommended for long-term use for anxiety.", []),
    ('Guidelines state "gabapentin is recommended for diabetic neuropathy and postherpetic neuralgia".', []),
    ("The patient complains of low back pain radiating to the left leg.", []),
    ("He was prescribed Norco 10/325 mg and Soma 350 mg.", []),
    ("EMG studies help in establishing the diagnosis of radiculopathy.", []),
    ("On examination there was tenderness over the lumbar paraspinals.", []),
]


@pytest.mark.parametrize("text, expected", CUE_ROWS)
def test_cue_and_list_forms(nlp, text, expected):
    diagnoses, _ = _mentions(nlp, text)
    assert diagnoses == [_norm(e) for e in expected]


def test_problems_reach_the_result_only_with_an_assertion():
    import imr_nlp

    text = (
        "CLINICAL CASE SUMMARY\nThe injured worker was diagnosed with lumbar strain. There was no evidence of "
        "intracranial bleeding. The plan is an EEG to rule out seizure disorder. Guidelines discuss spinal stenosis."
    )
    mentions = {m.text: m for m in imr_nlp.parse(text).diagnoses}
    assert mentions["lumbar strain"].kind == "diagnosis" and not mentions["lumbar strain"].negated
    assert mentions["intracranial bleeding"].kind == "problem" and mentions["intracranial bleeding"].negated
    assert mentions["seizure disorder"].uncertain
    assert "spinal stenosis" not in mentions  # a bare mention with no assertion


def test_a_negated_diagnosis_list_is_problems():
    import imr_nlp

    text = "CLINICAL CASE SUMMARY\nThe patient has not been diagnosed with lumbar radiculopathy."
    (mention,) = [m for m in imr_nlp.parse(text).diagnoses if "radiculopathy" in m.text]
    assert mention.negated and mention.kind == "problem"


def test_status_post_is_historical_and_coded_as_a_postprocedural_state():
    import imr_nlp

    text = "CLINICAL CASE SUMMARY\nDiagnoses included left shoulder impingement and status post carpal tunnel release."
    mentions = {m.text: m for m in imr_nlp.parse(text).diagnoses}
    assert mentions["carpal tunnel release"].historical
    assert mentions["carpal tunnel release"].icd10 == "Z98.890"
    assert mentions["left shoulder impingement"].icd10 == "M75.42"


# -- ICD-10-CM -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coding():
    tables = icd10.IcdTables.from_rules(VOCABULARY, TERMS)
    return tables, icd10.code_index(tables)


def _coding_entries():
    out = [(f"concept:{c.concept}", c.examples) for c in VOCABULARY.concepts]
    for name in ("stop_words", "optional_words", "ignorable_words", "site_words", "tissue_words"):
        out.append((name, getattr(VOCABULARY, name).examples))
    out.append(("postprocedural", VOCABULARY.postprocedural.examples))
    if VOCABULARY.modifier_suffixes:
        out.append(("modifier_suffixes", VOCABULARY.modifier_suffixes.examples))
    if VOCABULARY.joined_prefixes:
        out.append(("joined_prefixes", VOCABULARY.joined_prefixes.examples))
    if VOCABULARY.relational_suffixes:
        out.append(("relational_suffixes", VOCABULARY.relational_suffixes.examples))
    if VOCABULARY.coverage_back_off:
        out.append(("coverage_back_off", VOCABULARY.coverage_back_off.examples))
    out += [(f"region:{r.region}", r.examples) for r in VOCABULARY.regions]
    out += [(f"term:{t.terms[0]}", t.examples) for t in TERMS.entries]
    return out


@pytest.mark.parametrize("entry, examples", _coding_entries(), ids=[e[0] for e in _coding_entries()])
def test_every_coding_rule_runs_its_examples(coding, entry, examples):
    tables, index = coding
    assert len(examples) >= 2
    for example in examples:
        got = icd10.code_mention(example.text, tables, index)
        if example.code is None:
            assert got is None, (example.text, got)
        else:
            assert got is not None and got.code.startswith(example.code), (example.text, got)


CODING_ROWS = [
    ("lumbar radiculopathy", "M54.16"),
    ("right shoulder contusion", "S40.011"),
    ("sprain of ligaments of lumbar spine", "S33.5"),
    ("carpal tunnel syndrome, left upper limb", "G56.02"),
    ("pain in right arm", "M79.601"),
    ("insomnia", "G47.00"),
    ("skull vault fracture-initial", "S02.0XXA"),  # the encounter only when written
    ("left hip pain", "M25.552"),
    ("right knee pain", "M25.561"),
    ("lumbar spinal stenosis", "M48.06"),
    ("C5-6 disc herniation", "M50.222"),  # a level the code set codes
    ("L4-5 disc protrusion", "M51.26"),  # a level it does not: the region
    ("L5-S1 disc herniation", "M51.27"),
    ("type 2 diabetes mellitus", "E11"),
    ("chronic migraine without aura", "G43.7"),
    ("cervical spondylosis", "M47.812"),
    ("plantar fasciitis", "M72.2"),
    ("left de Quervain's tenosynovitis", "M65.4"),
    ("the lesion", None),
    ("pain", "R52"),
    ("strain of muscle", None),  # no site written: no site is invented
    ("nerve compression", None),  # a tissue only: no place is invented
]


@pytest.mark.parametrize("text, code", CODING_ROWS)
def test_codes_are_the_most_specific_the_words_support(coding, text, code):
    tables, index = coding
    got = icd10.code_mention(text, tables, index)
    if code is None:
        assert got is None, got
    else:
        assert got is not None and got.code.startswith(code), got


def test_laterality_only_when_written(coding):
    tables, index = coding
    assert icd10.code_mention("shoulder impingement", tables, index).code == "M75.40"
    assert icd10.code_mention("right shoulder impingement", tables, index).code == "M75.41"
    assert icd10.code_mention("left shoulder impingement", tables, index).code == "M75.42"


def test_every_code_of_the_tables_exists_in_the_code_set():
    codes = [t.code for t in TERMS.entries] + [c for t in TERMS.entries for c in t.sides.values()]
    codes.append(VOCABULARY.postprocedural.code)
    for code in codes:
        assert icd10.is_valid_code(code), code


_WORDS = sorted(
    {w for c in VOCABULARY.concepts for x in c.wordings for w in x.split()}
    | set(VOCABULARY.site_words.words)
    | {"strain", "sprain", "pain", "fracture", "tear", "syndrome", "radiculopathy", "left", "right", "of", "the"}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6))
def test_a_code_is_never_invented(coding, words):
    tables, index = coding
    got = icd10.code_mention(" ".join(words), tables, index)
    assert got is None or (icd10.is_valid_code(got.code) and got.description)


def test_code_tables_round_trip_through_disk(tmp_path, small_pipeline):
    nlp = small_pipeline(*COMPONENTS)
    component = nlp.get_pipe("imr_diagnoses")
    component.to_disk(tmp_path)
    assert (tmp_path / "icd10.json").exists() and (tmp_path / "icd10_terms.jsonl").exists()
    lines = (tmp_path / "icd10_terms.jsonl").read_text().splitlines()
    lines.append(
        '{"terms": ["bowler\'s thumb"], "code": "G56.80", "examples": '
        '[{"text": "bowler\'s thumb", "code": "G56"}, {"text": "bowlers thumb", "code": "G56"}]}'
    )
    (tmp_path / "icd10_terms.jsonl").write_text("\n".join(lines) + "\n")
    other = small_pipeline(*COMPONENTS).get_pipe("imr_diagnoses")
    before = icd10.code_mention("bowler's thumb", other.icd_tables, other.index)
    other.from_disk(tmp_path)
    after = icd10.code_mention("bowler's thumb", other.icd_tables, other.index)
    assert before is None or before.code != "G56.80"
    assert after is not None and after.code == "G56.80"
    # unchanged tables give identical codes
    same = small_pipeline(*COMPONENTS).get_pipe("imr_diagnoses")
    component.to_disk(tmp_path / "again")
    same.from_disk(tmp_path / "again")
    for text in ("lumbar radiculopathy", "neck strain", "status post knee arthroscopy"):
        assert icd10.code_mention(text, same.icd_tables, same.index) == icd10.code_mention(
            text, component.icd_tables, component.index
        )


# -- date roles ------------------------------------------------------------------------------

DATE_RULES = resources.load("dates.json")


@pytest.mark.parametrize("index", range(len(DATE_RULES.roles)))
def test_every_date_role_rule_runs_its_examples(small_pipeline, index):
    component = small_pipeline("imr_dates").get_pipe("imr_dates")
    rule = DATE_RULES.roles[index]
    assert len(rule.examples) >= 2
    for example in rule.examples:
        start, end, _ = find_dates(example.text, component.date_tables)[0]
        assert component.role(example.text, start, end) == example.role, example.text


def test_mentions_keep_their_words(nlp):
    """A mention is a span of the letter: its text is found there verbatim."""
    text = "CLINICAL CASE SUMMARY\nThe diagnoses are left shoulder impingement; cervical strain."
    doc = nlp(text)
    for span in doc.spans["imr_diagnoses"]:
        assert re.search(re.escape(span.text), text)


def test_diagnosis_rows_and_codes_for_grouping_decisions():
    import imr_nlp
    from imr_nlp.rows import COLUMNS, rows

    text = (
        "CLINICAL CASE SUMMARY\nThe injured worker was diagnosed with lumbar radiculopathy and insomnia. "
        "There was no evidence of intracranial bleeding."
    )
    det = imr_nlp.parse(text)
    table = rows(det, "diagnosis")
    assert [r["text"] for r in table] == ["lumbar radiculopathy", "insomnia", "intracranial bleeding"]
    assert all(set(r) == set(COLUMNS["diagnosis"]) for r in table)
    assert table[0]["icd10"] == "M54.16" and table[0]["icd10_category"] == "M54"
    assert table[2]["kind"] == "problem" and table[2]["negated"]
    (letter,) = rows(det, "letter")
    assert letter["diagnosis_codes"] == ["M54.16", "G47.00"]  # stated diagnoses only
    assert rows(det, "decision")[0]["diagnosis_codes"] == ["M54.16", "G47.00"]


@pytest.mark.parametrize(
    "text, code",
    [
        ("HNP L5-S1", "M51.27"),
        ("herniated nucleus pulposus L5-S1", "M51.27"),
        ("lumbar disc herniation at L5-S1", "M51.27"),
        ("Lumbosacral radiculopathy at S1, left", "M54.17"),
        ("lumbar stenosis at L4-5", "M48.061"),
        ("benign hypertension", "I10"),
        ("coccygodynia", "M53.3"),
        ("cervical, thoracic and lumbar strain", "S16.1"),
    ],
)
def test_levels_regions_and_nonessential_words(coding, text, code):
    """A level after the condition is no condition word; a level across two regions outweighs
    one region written beside it; the tabular's parenthesised words may be written."""
    from imr_nlp.normalize.icd10 import code_mention

    tables, index = coding
    found = code_mention(text, tables, index)
    assert (found.code if found else None) == code, text


@pytest.mark.parametrize(
    "text, diagnoses",
    [
        (
            "The injured worker presented with low back pain, right elbow pain and right shoulder pain.",
            ["low back pain", "right elbow pain", "right shoulder pain"],
        ),
        ("He has lumbar radiculopathy and denies hypertension.", ["lumbar radiculopathy"]),
        ("Diagnoses: lumbar strain; coccygodynia.", ["lumbar strain", "coccygodynia"]),
        ("She sustained bilateral knee and ankle sprains when she fell.", ["bilateral knee and ankle sprains"]),
        ("He has hand, wrist and elbow strains.", ["hand, wrist and elbow strains"]),
        ("She presented with neck, left hip and left shoulder complaints.", []),
    ],
)
def test_coordinated_conditions_share_the_statement(nlp, text, diagnoses):
    assert _mentions(nlp, text)[0] == [_norm(d) for d in diagnoses]


@pytest.mark.parametrize(
    "text, code, by",
    [
        ("CLINICAL CASE SUMMARY\nThe diagnoses include lumbar radiculopathy.", "M54.16", "every word"),
        ("CLINICAL CASE SUMMARY\nThe diagnoses include morbid obesity.", "E66", "most words"),
        (
            "CLINICAL CASE SUMMARY\nThe diagnoses include a right knee Baker's cyst.",
            "M71",
            "most words",
        ),
    ],
)
def test_a_code_says_how_the_words_support_it(text, code, by):
    import imr_nlp

    det = imr_nlp.parse(text)
    coded = [m for m in det.diagnoses if m.icd10]
    assert coded and coded[0].icd10 == code and coded[0].icd10_by == by
    frame = imr_nlp.to_dataframe([det], level="diagnosis")
    assert list(frame["icd10_by"]) == [m.icd10_by for m in det.diagnoses]


@pytest.mark.parametrize(
    "name", [n for n in type(RULES.list_grammar).model_fields if n != "description"], ids=lambda n: n
)
def test_every_list_grammar_rule_is_needed_by_its_examples(name):
    """Each piece of the list grammar does work: with it disabled (a pattern that never
    matches, a word list of no connector) at least one of its examples reads differently."""
    import copy

    from imr_nlp import resources
    from imr_nlp.pipeline import build

    nlp = build()
    diagnoses = nlp.get_pipe("imr_diagnoses")
    data = copy.deepcopy(resources.to_data("diagnoses.json", RULES))
    entry = data["list_grammar"][name]
    if "pattern" in entry:
        entry["pattern"] = "(?!)"
    else:
        entry["words"] = ["no such connector"]
    diagnoses.replace_rules({"diagnoses.json": data})
    examples = getattr(RULES.list_grammar, name).examples
    docs = [nlp(e.text) for e in examples]
    read = [sorted(_norm(s.text) for s in doc.spans["imr_diagnoses"]) for doc in docs]
    assert any(got != sorted(_norm(d) for d in e.diagnoses) for got, e in zip(read, examples, strict=True)), name
