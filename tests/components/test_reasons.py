"""imr_reasons' case folding: rule patterns compiled for lower-case text find what they find
with re.I, at the same offsets."""

import re

import pytest

from imr_nlp import resources
from imr_nlp.components.reasons import folded, folded_regex

RULES = resources.load("reasons.json")
WORDINGS = [
    RULES.not_reasons,
    RULES.guideline_quotes,
    RULES.general_statements,
    RULES.patient_statements,
    RULES.narrative_statements,
    RULES.clause_edges,
    RULES.conditions,
]
PATTERNS = [(cue.name, cue.pattern, [e.text for e in cue.examples]) for cue in RULES.cues] + [
    (w.description[:30], w.pattern, [e.text for e in w.examples]) for w in WORDINGS
]


@pytest.mark.parametrize("text", ["There is NO documentation.", "İstanbul MRI of the knee", "Straße und ǅ", "ΣΊΣΥΦΟΣ"])
def test_folded_keeps_every_offset(text):
    lower = folded(text)
    assert len(lower) == len(text)
    assert lower.casefold() == text.casefold()


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (r"\bMTUS\s+(?P<target>Recommended)\b", r"\bmtus\s+(?P<target>recommended)\b"),
        (r"\S+\W\D\B[A-Z]", r"\S+\W\D\B[a-z]"),
        (r"(?P<Word>X)(?P=Word)", r"(?P<Word>x)(?P=Word)"),
    ],
)
def test_folded_regex_lowers_letters_but_not_escapes_or_group_names(pattern, expected):
    assert folded_regex(pattern).pattern == expected


@pytest.mark.parametrize("name, pattern, texts", PATTERNS, ids=[name for name, _, _ in PATTERNS])
def test_folded_patterns_find_what_re_i_finds(name, pattern, texts):
    ignoring_case = re.compile(pattern, re.I)
    for text in texts + [text.upper() for text in texts]:
        expected = [m.span() for m in ignoring_case.finditer(text)]
        assert [m.span() for m in folded_regex(pattern).finditer(folded(text))] == expected, text


@pytest.mark.parametrize(
    "sentence, conceded",
    [
        (
            "There is evidence of nerve compromise on exam but there is no plan for surgery.",
            "there is evidence of nerve compromise on exam",
        ),
        (
            "There is evidence of nerve compromise on exam yet there is no plan for surgery.",
            "there is evidence of nerve compromise on exam",
        ),
        ("Although the exam shows a positive sign, the MRI is normal.", "although the exam shows a positive sign"),
        ("The patient has not yet completed a trial of physical therapy.", None),  # "yet" of time
    ],
)
def test_concessions_are_the_granted_stretch(sentence, conceded):
    found = [m.group() for m in folded_regex(RULES.concessions.pattern).finditer(folded(sentence))]
    assert found == ([conceded] if conceded else [])


def _letter(rationale: str, header: str = "Physical therapy 6 visits", outcome: str = "Upheld") -> str:
    """A decision section whose one item's rationale is ``rationale``."""
    return (
        f"IMR ISSUES, DECISIONS AND RATIONALES\n{header}: {outcome}\n"
        "Claims Administrator guideline: Decision based on MTUS.\nMAXIMUS guideline: Decision based on MTUS.\n"
        f"Decision rationale: {rationale}\n"
    )


@pytest.mark.parametrize(
    "setting, rationale, pair",
    [
        (  # the direction as read is kept
            "findings_follow_outcome",
            "However, on 12/23/2016, the only objective findings that were documented were tenderness in all "
            "corresponding areas.",
            ("objective_findings", "against"),
        ),
        (  # a condition no cue names gives no reason
            "condition_mentions",
            "There is no mention of a rotator cuff tear in the records.",
            ("indication", "against"),
        ),
    ],
)
def test_a_setting_turned_off_is_off(setting, rationale, pair):
    """A ReasonSetting with ``enabled: false`` no longer gives the reason it gives when on."""
    from imr_nlp.pipeline import build

    letter = _letter(rationale)

    def pairs(nlp):
        return {(r.code, r.direction) for r in nlp(letter)._.determination.decisions[0].reasons}

    nlp = build()
    assert pair in pairs(nlp)
    component = nlp.get_pipe("imr_reasons")
    data = resources.to_data("reasons.json", component.rules["reasons.json"])
    data[setting]["enabled"] = False
    component.replace_rules({"reasons.json": data})
    assert pair not in pairs(nlp)


def _reason_pairs(rationale: str, outcome: str = "Upheld") -> set[tuple[str, str]]:
    import imr_nlp

    letter = _letter(rationale, header="Ibuprofen 800mg #60", outcome=outcome)
    return {(r.code, r.direction) for r in imr_nlp.parse(letter).decisions[0].reasons}


@pytest.mark.parametrize(
    "rationale, is_risk",
    [
        ("Relying on imaging alone carries a risk of overdiagnosis.", False),  # said of a test in general
        ("Severe adverse effects or overdose events can occur.", False),
        ("The claimant takes warfarin, which places her at risk with an NSAID.", True),
        ("The patient has a history of overdose on opioids.", True),
    ],
)
def test_a_patient_only_cue_is_read_only_about_the_patient(rationale, is_risk):
    assert (("risk", "against") in _reason_pairs(rationale)) is is_risk


@pytest.mark.parametrize(
    "rationale, is_prior_care",
    [
        ("He has tried and failed naproxen and meloxicam.", True),
        ("He has tried and failed ibuprofen.", False),  # the decision's own drug is no earlier care
        ("He has tried and failed to attend his visits.", False),  # no drug beside the cue
        ("Celecoxib was discontinued after two weeks.", True),
    ],
)
def test_a_drug_cue_needs_another_drug_beside_it(rationale, is_prior_care):
    codes = {code for code, _ in _reason_pairs(rationale)}  # upheld: no head noun read affirmed
    assert ("prior_treatment" in codes) is is_prior_care


@pytest.mark.parametrize(
    "rationale",
    [
        "The records show no evidence of tendinitis.",
        "There is no mention of bursitis.",
        "There is no mention of neuropathy in the records.",
    ],
)
def test_a_condition_found_twice_is_one_reason(rationale):
    """A condition mention with the bounds of an indication head noun ("-itis") is not its rival."""
    assert ("indication", "against") in _reason_pairs(rationale)


def test_a_condition_in_the_closing_verdict_is_no_reason():
    rationale = "Therefore, physical therapy for his shoulder tendinitis is medically necessary."
    assert not _reason_pairs(rationale, outcome="Overturned")


def _letter_pairs(header: str, rationale: str) -> set[str]:
    import imr_nlp

    return {r.code for r in imr_nlp.parse(_letter(rationale, header=header)).decisions[0].reasons}


@pytest.mark.parametrize(
    "header, rationale, is_prior_care",
    [
        ("Lyrica 75mg #60", "He has tried and failed pregabalin.", False),  # the same drug by its generic
        ("Norco 10/325mg #120", "He has tried and failed hydrocodone.", False),  # an ingredient of it
        ("Hydrocodone/Acetaminophen 10/325mg #120", "He has tried and failed Norco.", False),
        ("Lyrica 75mg #60", "He has tried and failed gabapentin.", True),
    ],
)
def test_the_decisions_own_drug_by_any_name_is_no_earlier_care(header, rationale, is_prior_care):
    assert ("prior_treatment" in _letter_pairs(header, rationale)) is is_prior_care


@pytest.mark.parametrize(
    "switches",
    [
        {"patient_only": True, "general_only": True},
        {"head_noun": True, "general_only": True},
        {"head_noun": True, "drug_near": "after"},
    ],
)
def test_cue_switches_that_could_never_be_read_are_refused(switches):
    from pydantic import ValidationError

    from imr_nlp.resources import ReasonCue

    cue = {"name": "x", "code": "risk", "affirmed": "against", "pattern": r"\brisk\b", **switches}
    cue["examples"] = [{"text": "a risk", "reasons": [["risk", "against"]]}] * 2
    with pytest.raises(ValidationError):
        ReasonCue(**cue)


def test_rules_saved_before_condition_mentions_load_with_it_off():
    data = resources.to_data("reasons.json", RULES)
    del data["condition_mentions"]
    assert resources.validate("reasons.json", data).condition_mentions is None


# The examples of spec/reasons.md's table of codes, each in a sentence of its own, with the item
# and outcome it speaks of: the contract's own wordings are read as the contract says.
SPEC_EXAMPLES = [
    ("TENS is not recommended as a primary treatment modality.", "upheld", "TENS unit", "guideline", "against"),
    ("Muscle relaxants in topical form are not supported.", "upheld", "Cyclobenzaprine 2% cream", "guideline",
     "against"),
    ("NSAIDs are recommended as an option for short-term symptomatic relief.", "overturned", "Naproxen 550mg #60",
     "guideline", "for"),
    ("There is a lack of documentation of gastrointestinal complaints to warrant this request.", "upheld",
     "Omeprazole 20mg #30", "indication", "against"),
    ("The patient has neuropathic pain, an indication for this medication.", "overturned", "Gabapentin 300mg #90",
     "indication", "for"),
    ("There is no evidence of objective functional improvement.", "upheld", None, "functional_improvement", "against"),
    ("There is documented improvement in activities of daily living.", "overturned", None, "functional_improvement",
     "for"),
    ("There is no evidence of at least 30% pain relief.", "upheld", None, "pain_relief", "against"),
    ("The claimant is taking Naprosyn with improvement in pain.", "overturned", "Naproxen 550mg #60", "pain_relief",
     "for"),
    ("There is no documentation of failure of conservative care.", "upheld", "MRI of the lumbar spine",
     "prior_treatment", "against"),
    ("There is no evidence of failed first line therapy.", "upheld", "Lidoderm patches #30", "prior_treatment",
     "against"),
    ("The injection is requested after at least 1 month of conservative therapy.", "overturned",
     "Lumbar epidural steroid injection", "prior_treatment", "for"),
    ("There were no red flag symptoms.", "upheld", "MRI of the lumbar spine", "objective_findings", "against"),
    ("There were no neurological abnormalities.", "upheld", "EMG of the lower extremities", "objective_findings",
     "against"),
    ("There is presence of neurologic deficit which is decreased sensation.", "overturned",
     "EMG of the lower extremities", "objective_findings", "for"),
    ("The request would exceed the MTUS recommended number of visits.", "upheld", None, "quantity_duration", "against"),
    ("This medication is not indicated for long term use.", "upheld", "Cyclobenzaprine 10mg #60", "quantity_duration",
     "against"),
    ("The recommended number of visits is within the guidelines.", "overturned", None, "quantity_duration", "for"),
    ("There is no indication the patient is being monitored for aberrant drug taking behavior.", "upheld",
     "Norco 10/325mg #120", "monitoring", "against"),
    ("Consistent urine drug screens are documented.", "overturned", "Norco 10/325mg #120", "monitoring", "for"),
    ("There was no plan for surgery.", "upheld", "MRI of the lumbar spine", "treatment_plan", "against"),
    ("It is not recommended as an adjunct to a program of functional restoration here, as none is in place.",
     "upheld", "TENS unit", "treatment_plan", "against"),
    ("A recommendation was made for a spine surgery evaluation.", "overturned", "MRI of the lumbar spine",
     "treatment_plan", "for"),
    ("There has been no significant change in symptoms since the prior MRI.", "upheld",
     "Repeat MRI of the lumbar spine", "prior_results", "against"),
    ("The prior study is two years old and the symptoms have progressed.", "overturned",
     "Repeat MRI of the lumbar spine", "prior_results", "for"),
    ("The provider did not provide a rationale for this request.", "upheld", None, "documentation", "against"),
    ("It is unclear how many sessions she has had.", "upheld", None, "documentation", "against"),
    ("In this patient there is a risk of dependence.", "upheld", "Alprazolam 1mg #60", "risk", "against"),
    ("There is no contraindication to this medication.", "overturned", "Naproxen 550mg #60", "risk", "for"),
]


@pytest.mark.parametrize("text, outcome, item, code, direction", SPEC_EXAMPLES, ids=[r[0][:40] for r in SPEC_EXAMPLES])
def test_the_specs_examples_are_read_as_the_spec_labels_them(text, outcome, item, code, direction):
    import imr_nlp

    letter = _letter(text, header=item or "Physical therapy 6 visits", outcome=outcome.capitalize())
    (decision,) = imr_nlp.parse(letter).decisions
    assert (code, direction) in {(r.code, r.direction) for r in decision.reasons}
