"""The request grammar: every rule and table entry runs its own examples; requests never seen in
a letter; the saved pipeline is the single source of the grammar's rules."""

from __future__ import annotations

import json

import pytest
import spacy
from evidence import reads_as_written
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imr_nlp
from imr_nlp import resources
from imr_nlp.normalize import requests as grammar
from imr_nlp.normalize.drugs import DrugLexicon

GRAMMAR = resources.load("request_grammar.json")
NAMES = resources.load("service_names.jsonl").entries
DWC = resources.load("dwc_rules.jsonl").entries
DRUGS = resources.load("drugs.json")
SITES = resources.load("body_sites.json").sites
FREQUENCIES = resources.load("doses.json").frequencies
LISTS = {
    name: getattr(GRAMMAR, name)
    for name in (
        "head_skips",
        "light_heads",
        "boundaries",
        "complement_heads",
        "object_heads",
        "trailing_drops",
        "transaction_words",
    )
}


def _entries():
    """(id, examples) of every entry that carries examples."""
    out = [(f"class:{c.name}", c.examples) for c in GRAMMAR.word_classes]
    out += [(f"list:{k}", v.examples) for k, v in LISTS.items()]
    out += [(f"name:{n.name}", n.examples) for n in NAMES]
    out += [(f"dwc:{i}:{r.dwc_subcategory}", r.examples) for i, r in enumerate(DWC)]
    out += [(f"stem:{s.suffix}", s.examples) for s in DRUGS.class_stems]
    out += [(f"site:{s.name}:{i}", s.examples) for i, s in enumerate(SITES)]
    out += [(f"frequency:{f.code}", f.examples) for f in FREQUENCIES]
    return out


@pytest.mark.parametrize("entry, examples", _entries(), ids=[e[0] for e in _entries()])
def test_every_entry_has_two_distinct_examples(entry, examples):
    assert len(examples) >= 2 and len(set(examples)) == len(examples), entry


@pytest.mark.parametrize("wc", GRAMMAR.word_classes, ids=[c.name for c in GRAMMAR.word_classes])
def test_word_class_examples_contain_a_word_of_the_class(wc):
    classes = grammar.WordClasses.from_rules(GRAMMAR.word_classes)
    for example in wc.examples:
        lowers = [t.lower for t in grammar.tokenize(example)]
        joined = " ".join(lowers)
        assert any(wc.name in classes.of(w) for w in lowers) or any(p.lower() in joined for p in wc.phrases), (
            wc.name,
            example,
        )


@pytest.mark.parametrize("name", LISTS, ids=list(LISTS))
def test_word_list_examples_use_a_listed_word(name):
    words = {w.lower() for w in LISTS[name].words}
    for example in LISTS[name].examples:
        assert words & {t.lower for t in grammar.tokenize(example)}, (name, example)


@pytest.fixture(scope="module")
def services(small_pipeline):
    return small_pipeline("imr_doses", "imr_services").get_pipe("imr_services")


@pytest.mark.parametrize("entry", NAMES, ids=[n.name for n in NAMES])
def test_canonical_name_examples_match_their_patterns(services, entry):
    for example in entry.examples:
        words = [t.text for t in grammar.tokenize(example)]
        assert any(m.name == entry.name for m in services.canonical(words)), (entry.name, example)


@pytest.mark.parametrize("index", range(len(DWC)), ids=[f"{i}:{r.dwc_subcategory}" for i, r in enumerate(DWC)])
def test_dwc_rule_examples_get_the_rule_classes(index):
    rule = DWC[index]
    for example in rule.examples:
        t = imr_nlp.parse_request(example)
        assert t.dwc_category == rule.dwc_category, (example, t.dwc_category, t.dwc_subcategory)
        if rule.dwc_subcategory and rule.dwc_subcategory != "{drug}":
            assert t.dwc_subcategory == rule.dwc_subcategory, (example, t.dwc_subcategory)


@pytest.mark.parametrize("stem", DRUGS.class_stems, ids=[s.suffix for s in DRUGS.class_stems])
def test_class_stem_examples_end_with_the_stem(stem):
    lexicon = DrugLexicon(include_package_lexicon=False)
    for generic in stem.examples:
        first = generic.split(" ")[0]
        assert first.startswith(stem.suffix) if stem.prefix else first.endswith(stem.suffix), generic
        if generic not in DRUGS.classes and generic not in DRUGS.dwc_by_generic:
            assert lexicon.dwc_of(generic, lexicon.class_of(generic), topical=False) == stem.dwc_subcategory


@pytest.mark.parametrize("site", SITES, ids=[f"{s.name}:{i}" for i, s in enumerate(SITES)])
def test_body_site_examples_find_the_site(services, site):
    import re

    for example in site.examples:
        assert any(re.search(p, example, re.I) for p in site.patterns), (site.name, example)
        assert services.find_body_sites(example), example


@pytest.mark.parametrize("rule", FREQUENCIES, ids=[f.code for f in FREQUENCIES])
def test_frequency_examples_give_their_code(rule):
    from imr_nlp.normalize.values import compile_tables, find_frequencies

    tables = compile_tables(resources.load("doses.json"))

    for example in rule.examples:
        assert rule.code in [code for _, _, code in find_frequencies(example, tables)], example


# Requests written the way IMR letters write them, for treatments absent from ../shared.
@pytest.mark.parametrize(
    "text, category, service, dwc",
    [
        ("Hyperbaric oxygen therapy x 20 sessions", "service", "hyperbaric oxygen therapy", "Rehabilitation"),
        ("Kinesio tape for the right shoulder", "equipment", "kinesio tape", "DMEPOS"),
        ("Right carpal tunnel release", "procedure", "carpal tunnel release", "Surgery"),
        ("Genicular nerve block, left knee", "procedure", "genicular nerve block", "Injection"),
        (
            "Retrospective request for a nerve conduction velocity study (DOS 03/02/2015)",
            "procedure",
            "NCV",
            "Diagnostic Testing",
        ),
        ("Stellate ganglion block x2", "procedure", "stellate ganglion block", "Injection"),
        ("Referral to an orthopedic surgeon", "service", "orthopedic surgeon referral", "Surgery"),
        ("Lumbar laminectomy at L3-4", "procedure", "lumbar laminectomy", "Surgery"),
        ("Bilateral wrist splints", "equipment", "wrist splints", "DMEPOS"),
        ("Knee wrap", "equipment", "knee wrap", "DMEPOS"),
        (
            "Follow up with psychiatrist for medication management",
            "service",
            "psychiatrist follow-up",
            "Psych Services",
        ),
        ("Gym membership with pool access for 6 months", "other", "gym membership", "Programs"),
        ("Vitamin D3 50,000 units #12", "medication", None, "Pharmaceuticals"),
    ],
)
def test_unseen_requests(text, category, service, dwc):
    t = imr_nlp.parse_request(text)
    assert (t.category, t.service, t.dwc_category) == (category, service, dwc)


@pytest.mark.parametrize(
    "text, sites",
    [
        ("Bilateral L4-5 and L5-S1 medial branch blocks", ["bilateral L4-5", "bilateral L5-S1"]),
        ("Radiofrequency ablation at left L3-4 and L4-5", ["left L3-4", "left L4-5"]),
        ("Lumbar medial branch blocks at L3-L4 and L4-L5", ["lumbar spine"]),
        ("Total knee arthroplasty, right", ["right knee"]),
        ("Open reduction and internal fixation, left fifth metatarsal", ["left fifth metatarsal"]),
        ("Left knee total knee replacement", ["left knee"]),
    ],
)
def test_sites_by_grammar(text, sites):
    assert imr_nlp.parse_request(text).body_sites == sites


@pytest.mark.parametrize(
    "text, quantity, frequency, duration, refills",
    [
        ("Installation of two grab bars in the shower", 2, None, None, None),
        ("Home health aide 4 hours per day, 7 days a week for 6 weeks", None, "QD", (6, "week"), None),
        ("Cymbalta 30mg #60 x3 refills", 60, None, None, 3),
        ("Massage therapy 2x4 for the cervical spine", None, "2xW", (4, "week"), None),
        ("Physical therapy 3 x 4 for the lumbar spine", None, "3xW", (4, "week"), None),
        ("Single point cane", None, None, None, None),
    ],
)
def test_counts_frequencies_durations(text, quantity, frequency, duration, refills):
    t = imr_nlp.parse_request(text)
    assert t.quantity == quantity and t.frequency == frequency and t.refills == refills
    assert (t.duration and (t.duration.value, t.duration.unit)) == (duration and (float(duration[0]), duration[1]))


def test_opioid_patch_stays_an_opioid():
    t = imr_nlp.parse_request("Butrans 5mcg/hr patch, apply one patch weekly, #4")
    assert t.drug.drug_class == "opioid" and t.dwc_subcategory == "Opioids"
    t = imr_nlp.parse_request("Ketamine 10% cream 60gm")
    assert t.drug.drug_class == "topical analgesic" and t.dwc_subcategory == "Topical Compounds"


def test_unseen_generic_gets_its_class_from_its_stem():
    lexicon = DrugLexicon(include_package_lexicon=False)
    assert lexicon.class_of("rabeprazole") == "proton pump inhibitor"
    assert lexicon.class_of("tapentadol") == "opioid"
    assert lexicon.dwc_of("nizatidine", None, topical=False) == "H2 Blocker"
    assert lexicon.dwc_of("aripiprazole", None, topical=False) == "Atypical Antipsychotic"  # not a PPI


@pytest.mark.parametrize("text", ["", "   ", "x" * 5000, "#### ----", "zzzz qqqq"])
def test_no_readable_head_is_other(text):
    t = imr_nlp.parse_request(text)
    assert t.category == "other" and t.dwc_category is None


def test_parse_request_rejects_non_text():
    with pytest.raises(TypeError):
        imr_nlp.parse_request(b"MRI")


def test_partial_request():
    t = imr_nlp.parse_request(
        "The remaining IMR eligible portion of the original request, Lumbar sympathetic blocks x2"
    )
    assert t.partial and t.quantity == 2 and t.service == "lumbar sympathetic blocks"


def test_saved_pipeline_is_the_source_of_the_grammar(tmp_path):
    nlp = imr_nlp.load()
    nlp.get_pipe("imr_services").to_disk(tmp_path)
    names = tmp_path / "service_names.jsonl"
    assert names.exists() and (tmp_path / "dwc_rules.jsonl").exists() and (tmp_path / "request_grammar.json").exists()
    entries = [json.loads(line) for line in names.read_text().splitlines()]
    entries.append({"name": "quux scan", "patterns": [[{"LOWER": "quux"}]], "examples": ["Quux of the knee", "Quux"]})
    names.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    blank = spacy.blank("en")
    blank.add_pipe("imr_doses")
    pipe = blank.add_pipe("imr_services")
    pipe.from_disk(tmp_path)
    assert pipe.read("Quux of the knee")["service"] == "quux scan"
    assert nlp.get_pipe("imr_services").read("Quux of the knee")["service"] == "quux"


@pytest.mark.parametrize(
    "text, head",
    [
        ("Physical therapy 2-3 times a week for 6 weeks", "therapy"),
        ("Acupuncture 1-2 times per week for 4 weeks", "acupuncture"),
        ("3-in-1 commode", "commode"),
    ],
)
def test_number_ranges_are_values_not_heads(text, head):
    assert imr_nlp.parse_request(text).head == head


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_parse_request_never_raises_on_text(text):
    t = imr_nlp.parse_request(text)
    assert t.category in ("medication", "procedure", "service", "equipment", "other")
    if t.drug is not None:
        assert reads_as_written(text, t.drug.text, t.drug.start, t.drug.end)


def test_grammar_reads_a_bounded_prefix_of_a_hostile_item(services):
    """A one-line "item" of any length costs linear time: the grammar reads at most
    MAX_REQUEST_CHARS of its core clause (real headers are a few hundred characters)."""
    text = "MRI of the knee " + "#1 x2 5mg " * 5000
    parse = grammar.parse_request(text, services.tables, canonical=services.canonical)
    assert parse.core[1] - parse.core[0] <= grammar.MAX_REQUEST_CHARS
    assert parse.service == "MRI" and parse.category == "procedure"


# How each category was decided (Treatment.classified_by): one case per kind of evidence, none
# from the held-out sets.
@pytest.mark.parametrize(
    "text, category, evidence",
    [
        ("Norco 10/325mg #90", "medication", "drug table"),
        ("Metformin 500mg twice daily #60", "medication", "drug lexicon"),
        ("Gabapentinn 300mg #90", "medication", "drug misspelling"),
        ("Right trapeziectomy", "procedure", "word formation"),
        ("Left ankle arthrodesis", "procedure", "procedure code set"),
        ("Physical therapy 2x4 for the lumbar spine", "service", "word class"),
        ("Unlisted 10mg tablets #30", "medication", "dose or form"),
        ("Labs to include: free and total testosterone", "procedure", "word class"),
        ("Zorbfile apparatus for the garage", "other", "none"),
    ],
)
def test_classified_by_names_the_evidence(text, category, evidence):
    t = imr_nlp.parse_request(text)
    assert (t.category, t.classified_by) == (category, evidence), text


def test_evidence_kinds_are_the_contract_values():
    from typing import get_args

    from imr_nlp.models import Evidence_

    assert set(get_args(Evidence_)) == set(grammar.EVIDENCE_KINDS)


def test_nothing_supports_a_class_gives_other_and_no_dwc_classes():
    t = imr_nlp.parse_request("Zorbfile apparatus")
    assert (t.category, t.dwc_category, t.dwc_subcategory, t.classified_by) == ("other", None, None, "none")


# A named drug given by injection into no target is the drug; into a target, a procedure. A drug
# injected once is the DWC's "Injection"; one the patient injects on a schedule or from a pen is
# its own class.
@pytest.mark.parametrize(
    "text, category, dwc",
    [
        ("Ketorolac 30mg IM injection", "medication", ("Pharmaceuticals", "Injection")),
        ("Enoxaparin 40mg subcutaneous injection daily #10", "medication", ("Pharmaceuticals", "Anti-coagulant")),
        ("Nalbuphine 10mg IM injection x1", "medication", ("Pharmaceuticals", "Injection")),
        ("Teriparatide 20mcg pen, inject under the skin, #1", "medication", ("Pharmaceuticals", "Hormones")),
        ("Ceftriaxone 1 g IM", "medication", ("Pharmaceuticals", "Anti-infectives")),
        ("Depo-Medrol 80mg injection into the left knee", "procedure", ("Injection", "Injection")),
        ("Lidocaine 1% trigger point injection", "procedure", ("Injection", "Injection")),
        ("Kenalog 40mg epidural injection at L4-5", "procedure", ("Injection", "Injection")),
    ],
)
def test_injected_drugs_and_injections_into_a_target(text, category, dwc):
    t = imr_nlp.parse_request(text)
    assert (t.category, (t.dwc_category, t.dwc_subcategory)) == (category, dwc), text


# A topical of a drug whose own class is not an analgesic keeps that class; eye and nose drops
# are no topicals; a salt or ester word leaves the generic.
@pytest.mark.parametrize(
    "text, generic, dwc",
    [
        ("Hydrocortisone 2.5% cream 30gm", "hydrocortisone", "Adrenal Cortical Steroids"),
        ("Diclofenac 1% gel 100gm", "diclofenac", "Topical Analgesics"),
        ("Ketorolac 0.5% ophthalmic solution", "ketorolac", "NSAID"),
        ("Nandrolone decanoate 200mg/ml #1", "nandrolone", "Androgens & Anabolic Steroids"),
        ("Amlodipine besylate 10mg #30", "amlodipine", "Calcium Channel Blocker"),
    ],
)
def test_topicals_routes_and_salts(text, generic, dwc):
    t = imr_nlp.parse_request(text)
    assert (t.drug.generic if t.drug else None, t.dwc_subcategory) == (generic, dwc), text


PROCEDURE_TERMS = resources.load("procedure_terms.json")


@pytest.mark.parametrize("letter", sorted(PROCEDURE_TERMS.sections), ids=sorted(PROCEDURE_TERMS.sections))
def test_code_set_section_examples_get_their_category(letter):
    """A request headed by a term of an ICD-10-PCS section is classified by the code set, with
    the category of the section's first class that has one."""
    section = PROCEDURE_TERMS.sections[letter]
    categories = {wc.name: wc.category for wc in GRAMMAR.word_classes if wc.category}
    category = next(categories[c] for c in section.classes if c in categories)
    for example in section.examples:
        t = imr_nlp.parse_request(example)
        assert (t.category, t.classified_by) == (category, "procedure code set"), example


def test_code_set_terms_name_known_sections():
    assert PROCEDURE_TERMS.terms
    assert all(set(letters) <= set(PROCEDURE_TERMS.sections) for letters in PROCEDURE_TERMS.terms.values())


# Grammar over lists: an endoscopy (the PCS root operation Inspection) is a test; a code-set noun
# is no head as a modifier; what comes in sessions or on a schedule is a service; an unknown last
# noun is the head, glossed in parentheses by the gloss's head.
@pytest.mark.parametrize(
    "text, category, dwc_category",
    [
        ("Flexible sigmoidoscopy", "procedure", "Diagnostic Testing"),
        ("Diagnostic bronchoscopy", "procedure", "Diagnostic Testing"),
        ("Exploratory laparotomy", "procedure", "Surgery"),
        ("Transfer board", "equipment", "DMEPOS"),
        ("Transfer sheet", "other", None),
        ("Myofascial release x 6 sessions", "service", "Rehabilitation"),
        ("Manual lymphatic drainage 3 times a week for 4 weeks, left arm", "service", "Rehabilitation"),
        ("Closed reduction of the left wrist", "procedure", "Surgery"),
        ("Nutritional counseling, 4 sessions", "service", "Evaluation & Management"),
        ("Glucometer test strips #100", "equipment", "DMEPOS"),
        ("Sleep study questionnaire", "other", None),
        ("Barium swallow (esophagram)", "procedure", "Diagnostic Testing"),
        ("Right knee MRI", "procedure", "Diagnostic Testing"),
    ],
)
def test_heads_by_grammar(text, category, dwc_category):
    t = imr_nlp.parse_request(text)
    assert (t.category, t.dwc_category) == (category, dwc_category), text


@pytest.mark.parametrize(
    "text, generic",
    [
        ("C-reactive protein", None),
        ("Thyroid stimulating hormone (TSH) level", None),
        ("Serum testosterone level", None),
        ("Ferrous sulfate 325mg every other day #45", "ferrous sulfate"),
        ("Magnesium oxide 400mg daily #30", "magnesium oxide"),
        ("Tacrolimus 1mg twice daily #60", "tacrolimus"),
    ],
)
def test_analytes_and_salts(text, generic):
    """A lab analyte or a test names no drug; a leading salt word keeps the salt; a name ending
    in -us is no plural class word."""
    t = imr_nlp.parse_request(text)
    assert (t.drug.generic if t.drug else None) == generic, text


@pytest.mark.parametrize(
    "header, strength, strengths",
    [
        ("Norco 10/325mg #120", (10.0, "mg"), [(10.0, "mg", "hydrocodone"), (325.0, "mg", "acetaminophen")]),
        ("Percocet 5/325 #60", (5.0, "mg"), [(5.0, "mg", "oxycodone"), (325.0, "mg", "acetaminophen")]),
        ("Tramadol ER 150mg #30", (150.0, "mg"), [(150.0, "mg", "tramadol")]),
        (
            "Flurbiprofen 20%/Lidocaine 5% cream 120gm",
            (20.0, "%"),
            [(20.0, "%", "flurbiprofen"), (5.0, "%", "lidocaine")],  # 120 grams: the amount
        ),
        ("MRI of the lumbar spine", None, []),
    ],
)
def test_parse_request_gives_the_strength_of_each_ingredient(header, strength, strengths):
    t = imr_nlp.parse_request(header)
    assert ((t.strength.value, t.strength.unit) if t.strength else None) == strength
    assert [(s.value, s.unit, s.ingredient) for s in t.strengths] == strengths
