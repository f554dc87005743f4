import pytest

from imr_nlp import resources
from imr_nlp.normalize.drugs import canonical_generic, default_lexicon, edit_distance_at_most_one, form_words_pattern


@pytest.mark.parametrize(
    "name, generic, drug_class",
    [
        ("Klonopin", "clonazepam", "benzodiazepine"),
        ("Ativan", "lorazepam", "benzodiazepine"),
        ("Norco", "hydrocodone / acetaminophen", "opioid"),
        ("Ultram", "tramadol", "opioid"),
        ("Synapryn", "tramadol", "opioid"),
        ("Lorzone", "chlorzoxazone", "muscle relaxant"),
        ("Prilosec", "omeprazole", "proton pump inhibitor"),
        ("Cymbalta", "duloxetine", "antidepressant"),
        ("Gabitril", "tiagabine", "anticonvulsant"),
        ("Atarax", "hydroxyzine", "antihistamine"),
        ("Ambien", "zolpidem", "hypnotic"),
        ("Fioricet", "butalbital / acetaminophen / caffeine", None),
    ],
)
def test_lookup(name, generic, drug_class):
    info = default_lexicon().lookup(name)
    assert info is not None and info.generic == generic and info.drug_class == drug_class


BRANDS = resources.load("brand_names.json")


@pytest.mark.parametrize("example", BRANDS.examples, ids=lambda e: e.text)
def test_brand_name_examples_get_their_generic(example):
    """A drug named by the FDA list's table is a medication with the table's generic."""
    import imr_nlp

    t = imr_nlp.parse_request(example.text)
    assert t.category == "medication" and t.drug is not None and t.drug.generic == example.generic, t


def test_brand_names_are_known_drugs_and_never_real_words():
    """Every name maps to a generic of the DrugBank lexicon with a known class (no pesticide,
    excipient or dye), and no single-word name is an ICD-10-CM word."""
    from imr_nlp.normalize.drugs import DrugLexicon, code_set_words

    bare = DrugLexicon()  # the package lexicon without the table
    generics = {info.generic for info in bare.names.values()}
    assert len(BRANDS.names) > 1000
    medical = code_set_words()
    for name, generic in BRANDS.names.items():
        assert generic in generics, (name, generic)
        assert bare.class_of(generic) or bare.dwc_of(generic, None, topical=False), (name, generic)
        assert " " in name or name not in medical, name


@pytest.mark.parametrize("word", ["benzodiazepines", "opioids", "medications", "reactive", "proton pump"])
def test_class_and_common_words_are_not_drugs(word):
    assert default_lexicon().lookup(word) is None


@pytest.mark.parametrize(
    "word, generic",
    [
        ("Klonipin", "clonazepam"),
        ("Ketaprofen", "ketoprofen"),
        ("Cyclobenzaprin", "cyclobenzaprine"),
        ("Protein", None),
    ],
)
def test_fuzzy(word, generic):
    info = default_lexicon().lookup(word) or default_lexicon().fuzzy(word)
    assert (info.generic if info else None) == generic


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Diclofenac (arthritis pain)", "diclofenac"),
        ("Butalbital/acetaminophen", "butalbital / acetaminophen"),
        ("abacavir, dolutegravir, and lamivudine", "abacavir / dolutegravir / lamivudine"),
        ("lidocaine patch", "lidocaine"),
    ],
)
def test_canonical_generic(name, expected):
    form_words = form_words_pattern(resources.load("drugs.json").form_words.words)
    assert canonical_generic(name, form_words) == expected


@pytest.mark.parametrize("a, b, ok", [("klonipin", "klonopin", True), ("abcd", "abdc", True), ("abc", "axyc", False)])
def test_edit_distance(a, b, ok):
    assert edit_distance_at_most_one(a, b) is ok
