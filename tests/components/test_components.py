"""Components on small pipelines built from spacy.blank("en"): matching tested alone."""

import pytest
import spacy

import imr_nlp.pipeline  # noqa: F401  (registers the factories)
from imr_nlp.components.normalize import IMRTokenizer

LETTER_TAIL = """IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
{header}
Claims Administrator guideline: Decision based on MTUS Chronic Pain Treatment Guidelines Benzodiazepines.
MAXIMUS guideline: Decision based on MTUS Chronic Pain Treatment Guidelines Benzodiazepine, Weaning of
medications Page(s): 24, 124.
Decision rationale: The request is not medically necessary.
"""


@pytest.mark.parametrize(
    "header, item, outcome, partial",
    [
        ("Klonopin 2mg #30: Upheld", "Klonopin 2mg #30", "upheld", False),
        (
            "Monthly psychotropic medication management and treatment sessions, quantity: 6:\nUpheld",
            "Monthly psychotropic medication management and treatment sessions, quantity: 6",
            "upheld",
            False,
        ),
        (
            "Right shoulder arthroscopy RCR (rotator cuff repair) and\ndecompression: Overturned",
            "Right shoulder arthroscopy RCR (rotator cuff repair) and decompression",
            "overturned",
            False,
        ),
        (
            "Baclofen 100mg #30 was the original request. Baclofen 100mg #27 was authorized by the Claims\n"
            "Administrator. The remaining IMR eligible portion of the original request,\nBaclofen 100mg #3: Upheld",
            "Baclofen 100mg #3",
            "upheld",
            True,
        ),
        (
            "The remaining IMR eligible portion of the original request, Two refills of Ibuprofen 600mg #90 is: Upheld",
            "Two refills of Ibuprofen 600mg #90",
            "upheld",
            True,
        ),
        (
            "Acupuncture (unspecified quantity) was the original request. The original request,\n"
            "Acupuncture (unspecified quantity) is: Upheld",
            "Acupuncture (unspecified quantity)",
            "upheld",
            False,
        ),
        ("Labs to include: EKG: Upheld", "Labs to include: EKG", "upheld", False),
        (
            "X-rays of the lumbar spine, 3 views: UpheldClaims Administrator guideline: MTUS.",
            "X-rays of the lumbar spine, 3 views",
            "upheld",
            False,
        ),
        (
            "Naproxen 550mg #60: OverturnedMAXIMUS guideline: Decision based on MTUS.",
            "Naproxen 550mg #60",
            "overturned",
            False,
        ),
    ],
)
def test_decision_headers(small_pipeline, header, item, outcome, partial):
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_decisions")
    doc = nlp(LETTER_TAIL.format(header=header))
    decisions = nlp.get_pipe("imr_decisions").match(doc)
    assert len(decisions) == 1
    block = decisions[0]
    assert " ".join(doc.text[block.item[0] : block.item[1]].split()) == item
    assert block.outcome == outcome and block.partial is partial
    assert set(block.parts) == {"claims_administrator", "reviewer_basis", "rationale"}


def test_a_rationale_without_a_necessity_statement_has_no_conclusion(small_pipeline):
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_decisions", "imr_conclusions")
    doc = nlp(
        LETTER_TAIL.format(header="Klonopin 2mg #30: Upheld").replace(
            "The request is not medically necessary.", "No conclusion here."
        )
    )
    assert [item._.decision["conclusion"] for item in doc.spans["imr_items"]] == [None]
    assert [item._.decision["medically_necessary"] for item in doc.spans["imr_items"]] == [False]  # the outcome's


@pytest.mark.parametrize(
    "text, expected",
    [
        ("MRI of the right shoulder without contrast", ["right shoulder"]),
        ("Additional physical therapy of the right hip and foot", ["right hip", "right foot"]),
        (
            "Physical therapy bilateral shoulder, elbow and wrist",
            ["bilateral shoulder", "bilateral elbow", "bilateral wrist"],
        ),
        ("Acupuncture for the cervical and thoracic spine", ["cervical spine", "thoracic spine"]),
        (
            "TENS unit, lumbar spine, left hip, lower leg, and knee",
            ["lumbar spine", "left hip", "left lower leg", "left knee"],
        ),
        ("PT/OT 18 sessions left hand, right lower leg", ["left hand", "right lower leg"]),
        ("NCS/EMG RUE", ["right upper extremity"]),
        ("MRI of the lumbar without contrast", ["lumbar spine"]),
    ],
)
def test_body_sites(small_pipeline, text, expected):
    nlp = small_pipeline("imr_doses", "imr_services")
    sites = nlp.get_pipe("imr_services").find_body_sites(text)
    assert [s for _, _, s in sites] == expected


@pytest.mark.parametrize(
    "text, service, category",
    [
        ("Chiropractic physiotherapy treatment 6 visits", "chiropractic physical therapy treatment", "service"),
        ("EMG/NCV of the bilateral upper extremities", "EMG/NCV", "procedure"),
        (
            "Associated surgical service: Cold compression therapy 30 day rental",
            "cold compression therapy",
            "equipment",
        ),
        ("Consult with hip replacement specialist", "hip replacement specialist consultation", "service"),
        ("Bilateral hearing aids", "hearing aids", "equipment"),
        ("Gym membership", "gym membership", "other"),
        ("Electroencephalogram", "EEG", "procedure"),
    ],
)
def test_services(small_pipeline, text, service, category):
    nlp = small_pipeline("imr_doses", "imr_services")
    found = nlp.get_pipe("imr_services").read(text)
    assert (found["service"], found["category"]) == (service, category)


def test_diagnosis_list_keeps_body_parts_with_their_condition(small_pipeline):
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_diagnoses")
    text = (
        "CLINICAL CASE SUMMARY\nThe injured worker was diagnosed with pain disorder, cervical spine strain and "
        "bilateral wrist and hand strain and probable bilateral carpal tunnel syndrome. The exam was normal."
    )
    doc = nlp(text)
    got = [doc.text[s:e] for s, e, kind, _ in nlp.get_pipe("imr_diagnoses").match(doc) if kind == "diagnosis"]
    assert got == [
        "pain disorder",
        "cervical spine strain",
        "bilateral wrist and hand strain",
        "bilateral carpal tunnel syndrome",
    ]


@pytest.mark.parametrize(
    "part, mtus_based, sources, topics, pages",
    [
        (
            "Decision based on MTUS Chronic Pain Treatment Guidelines Benzodiazepine, Weaning of medications "
            "Page(s): 24, 124.",
            True,
            ["MTUS"],
            ["Benzodiazepine", "Weaning of medications"],
            [24, 124],
        ),
        (
            "The Claims Administrator did not base their decision on the MTUS. Decision based on Non-MTUS Citation "
            "Goodman and Gilman's The Pharmacological Basic of Therapeutics, 12th ed. McGraw Hill, 2010.",
            False,
            ["OTHER"],
            [],
            [],
        ),
        (
            "Decision based on MTUS Chronic Pain Treatment Guidelines Official Disability Guidelines (ODG): Mental "
            "Illness & Stress: Office visits (2015).",
            True,
            ["MTUS", "ODG"],
            ["Mental Illness & Stress", "Office visits"],
            [],
        ),
        ("The Expert Reviewer did not cite any medical evidence for its decision.", None, [], [], []),
    ],
)
def test_citations(small_pipeline, part, mtus_based, sources, topics, pages):
    nlp = small_pipeline("imr_citations")
    comp = nlp.get_pipe("imr_citations")
    cites = comp.parse(part)
    assert comp.mtus_based(part, cites) is mtus_based
    assert [c["source"] for c in cites] == sources
    assert [t for c in cites for t in c["topics"]] == topics
    assert [p for c in cites for p in c["pages"]] == pages


@pytest.mark.parametrize(
    "part, citations",
    [
        (  # a list of MTUS guidelines, each with its own sections: one citation each
            "Decision based on MTUS Low Back Complaints 2004, Section(s): Summary, and Chronic Pain Medical "
            "Treatment 2016, Section(s): Facet blocks.",
            [
                ("Low Back Complaints 2004", ["Summary"], "Low Back Complaints 2004, Section(s): Summary"),
                (
                    "Chronic Pain Medical Treatment 2016",
                    ["Facet blocks"],
                    "Chronic Pain Medical Treatment 2016, Section(s): Facet blocks",
                ),
            ],
        ),
        (  # guidelines named with their years, no sections; a comma-list of three
            "Decision based on MTUS Shoulder Complaints 2004, Elbow Complaints 2007, and Forearm, Wrist, and Hand "
            "Complaints 2004.",
            [
                ("Shoulder Complaints 2004", [], "Shoulder Complaints 2004"),
                ("Elbow Complaints 2007", [], "Elbow Complaints 2007"),
                ("Forearm, Wrist, and Hand Complaints 2004", [], "Forearm, Wrist, and Hand Complaints 2004"),
            ],
        ),
        (  # a topic that starts like a guideline, with no year and no sections: not a new citation
            "Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): TENS, chronic pain.",
            [("Chronic Pain Medical Treatment 2016", ["TENS", "chronic pain"], None)],
        ),
        (  # "and" of the topic list is not a topic's
            "Decision based on MTUS Knee Complaints 2004, Section(s): Initial Care, and Follow-up Visits.",
            [("Knee Complaints 2004", ["Initial Care", "Follow-up Visits"], None)],
        ),
        (  # "Chapter" is a label: neither a topic nor part of one
            "Decision based on Non-MTUS Citation Official Disability Guidelines, Low Back Chapter, Heat therapy.",
            [("Official Disability Guidelines", ["Low Back", "Heat therapy"], None)],
        ),
        (
            "Decision based on Non-MTUS Citation ODG Knee Chapter Indications for surgery.",
            [("Official Disability Guidelines", ["Knee", "Indications for surgery"], None)],
        ),
        (  # a chapter qualified after its label, and a chapter followed by its topic without a comma
            "Decision based on Non-MTUS Citation ODG, Low Back & Thoracic chapter (Acute & Chronic): Preoperative "
            "testing. Decision based on Non-MTUS Citation ODG Low Back Procedures",
            [
                ("Official Disability Guidelines", ["Low Back & Thoracic", "Preoperative testing"], None),
                ("Official Disability Guidelines", ["Low Back", "Procedures"], None),
            ],
        ),
    ],
)
def test_citation_lists_and_chapters(small_pipeline, part, citations):
    comp = small_pipeline("imr_citations").get_pipe("imr_citations")
    found = comp.parse(part)
    assert [(c["guideline"], c["topics"]) for c in found] == [(g, t) for g, t, _ in citations]
    for c, (_, _, text) in zip(found, citations, strict=True):
        start, end = c["_span"]
        assert part[start:end] == c["text"]
        if text is not None:
            assert c["text"] == text
    assert not any(t.lower().startswith("and ") or "chapter" in t.lower() for c in found for t in c["topics"])


def test_tokenizer_cache_gives_spacys_own_tokens(monkeypatch):
    """Chunks are cached one by one before the text is tokenized (spaCy stops caching after a
    special case such as "Dr."); the tokens must be exactly those of the bare tokenizer, also
    after the bounded cache is flushed."""
    from imr_nlp.components import normalize

    text = (
        "Seen by Dr. Smith (e.g. on 10/14/2016): Norco 10/325mg #60, Lidocaine/Capsaicin 5%/Amitriptyline "
        "x2 refills; CRPS-related pain 7/10. Dr. Jones' note: can't walk >10 min.\n"
    )
    chunks = len(set(text.split()))
    monkeypatch.setattr(normalize, "MAX_CACHED_CHUNKS", chunks + 5)
    cached = IMRTokenizer(spacy.blank("en"))
    bare = IMRTokenizer(spacy.blank("en")).tokenizer  # spaCy's own path, never filled by chunk
    flushes = 0
    for variant in (text, text * 2, text.upper(), text.lower(), (text + " ") * 3 + text.upper()):
        before = cached._cached_chunks
        doc = cached(variant)
        flushes += cached._cached_chunks is not before
        assert [t.text_with_ws for t in doc] == [t.text_with_ws for t in bare(doc.text)]
        assert len(cached._cached_chunks) <= chunks + 5
    assert flushes == 3  # upper, lower, then the mixed text whose new chunks alone fit


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("TENS unit (purchase):", ["TENS", "unit", "(", "purchase", ")", ":"]),
        ("CT scan (DOS 11/18/16):", ["CT", "scan", "(", "DOS", "11/18/16", ")", ":"]),
        ("Norco (1): 8)", ["Norco", "(", "1", ")", ":", "8", ")"]),
        # a label's colon glued to its value (pdfplumber): the value is a token of its own
        ("Application Received:06/17/2016", ["Application", "Received", ":", "06/17/2016"]),
        ("Date of Injury:03/14/2012 at 10:30", ["Date", "of", "Injury", ":", "03/14/2012", "at", "10:30"]),
    ],
)
def test_tokenizer_has_no_emoticons(text, tokens):
    """spaCy's emoticon special cases ("):", "8)") would glue a parenthesis to the colon after it."""
    assert [t.text for t in IMRTokenizer(spacy.blank("en"))(text)] == tokens


def test_the_tokenizer_is_scispacys_with_our_affixes_and_no_emoticons():
    """Built in one step, the tokenizer has the rules and affixes scispaCy's own builder gives a
    pipeline, with our extra infixes and suffixes and without spaCy's emoticons."""
    import warnings

    from scispacy.custom_tokenizer import combined_rule_tokenizer
    from spacy.lang.en import English
    from spacy.lang.tokenizer_exceptions import emoticons

    from imr_nlp.components import normalize

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        scispacy = combined_rule_tokenizer(English())
    ours = IMRTokenizer(spacy.blank("en")).tokenizer
    assert ours.rules == {text: tokens for text, tokens in scispacy.rules.items() if text not in emoticons}
    assert len(ours.rules) > 1000 and "):" not in ours.rules and "e.g." in ours.rules
    assert ours.prefix_search.__self__.pattern == scispacy.prefix_search.__self__.pattern
    for affix, extra in (("infix_finditer", normalize._EXTRA_INFIXES), ("suffix_search", normalize._EXTRA_SUFFIXES)):
        pattern = getattr(ours, affix).__self__.pattern
        assert pattern.startswith(getattr(scispacy, affix).__self__.pattern)
        assert all(part in pattern for part in extra)
    assert (ours.token_match, ours.url_match) == (scispacy.token_match, scispacy.url_match)


@pytest.mark.parametrize("header", ["TENS unit (purchase): Upheld", "CT scan of the neck (DOS 11/18/16):\nOverturned"])
def test_an_item_ending_in_a_parenthesis_has_no_colon(small_pipeline, header):
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_decisions")
    doc = nlp(LETTER_TAIL.format(header=header))
    (item,) = doc.spans["imr_items"]
    assert item.text.endswith(")")


@pytest.mark.parametrize(
    "chunks, cached",
    [
        (["Norco", "10/325mg", "#60"], 3),  # no special case: all cached in one pass
        (["Seen", "Dr.", "Smith"], 2),  # the cache takes nothing after "Dr."
        (["(e.g.", "on", "10/14/2016):"], 1),  # a special case inside a chunk's affixes
        (["walk", "can't", "far"], 2),  # a special case split into several tokens
    ],
)
def test_tokenizer_fills_its_cache_up_to_the_first_special_case(chunks, cached):
    assert IMRTokenizer(spacy.blank("en"))._cached_up_to(chunks) == cached


def test_component_batches_give_the_same_docs_as_one_by_one():
    import imr_nlp

    nlp = imr_nlp.load()
    texts = [f"Case Number: CM{i}\nDr. Smith prescribed Norco 10/325 #60 on 1/{i}/2016." for i in range(1, 20)]
    piped = [doc._.determination.model_dump_json() for doc in nlp.pipe(texts, batch_size=5)]
    assert piped == [nlp(text)._.determination.model_dump_json() for text in texts]


@pytest.mark.parametrize(
    "text, topics",
    [
        ("Electrodiagnostic testing (EMG/NCS), Low Back", ["Electrodiagnostic testing (EMG/NCS)", "Low Back"]),
        ("Benzodiazepine; Weaning of medications", ["Benzodiazepine", "Weaning of medications"]),
        ("Topical analgesics (lidocaine, capsaicin) / NSAIDs", ["Topical analgesics (lidocaine, capsaicin)", "NSAIDs"]),
        ("Opioids (never closed, Weaning", ["Opioids (never closed", "Weaning"]),
        ("Physical Methods. Summary", ["Physical Methods", "Summary"]),
    ],
)
def test_split_topics(text, topics):
    from imr_nlp.components.citations import split_topics

    assert split_topics(text) == topics


@pytest.mark.parametrize(
    "tail, expected",
    [
        ("Decision rationale: The request is not medically necessary.", []),
        ("Decision rationale: The request for the EMG is not medically necessary", []),
        (
            "Decision rationale: The guidelines recommend a trial. The request is not medically necessary. Also the",
            ["W007: decision 1: the rationale ends mid-sentence: the letter may be truncated"],
        ),
        (
            "Decision rationale: The guidelines recommend a trial of",
            ["W006: decision 1: the rationale states no conclusion: the letter may be truncated"],
        ),
        ("", ["W005: decision 1: no 'Decision rationale:' found: the letter may be truncated"]),
    ],
)
def test_truncated_decisions_are_warned(small_pipeline, tail, expected):
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_decisions", "imr_conclusions")
    text = LETTER_TAIL.format(header="Klonopin 2mg #30: Upheld").split("Decision rationale:")[0] + tail
    assert (nlp(text)._.imr_warnings or []) == expected


@pytest.mark.parametrize(
    "outcome, conclusion, said, warned",
    [
        ("Upheld", "Therefore, the request is not-medically necessary.", False, False),
        ("Upheld", "The request is non-medically necessary at this time.", False, False),
        ("Upheld", "The request is not-certified.", False, False),
        (
            "Upheld",
            "The request for Norco is not supported by the guidelines as being medically necessary.",
            False,
            False,
        ),
        ("Upheld", "The documentation does not support this request as medically necessary.", False, False),
        ("Upheld", "There is no evidence to establish the request as medically necessary.", False, False),
        ("Overturned", "It was not tolerated before, but the request is medically necessary.", True, False),
        ("Overturned", "The guidelines support the request as medically necessary.", True, False),
        # the conclusion and the outcome still disagree: the outcome wins, and a warning says so
        ("Upheld", "The request is medically necessary.", True, True),
        ("Overturned", "The request is not medically necessary.", False, True),
    ],
)
def test_medically_necessary_never_contradicts_the_outcome(small_pipeline, outcome, conclusion, said, warned):
    nlp = small_pipeline("imr_sentences", "imr_sections", "imr_decisions", "imr_conclusions")
    doc = nlp(
        LETTER_TAIL.format(header=f"Klonopin 2mg #30: {outcome}").replace(
            "The request is not medically necessary.", conclusion
        )
    )
    (item,) = doc.spans["imr_items"]
    assert item._.decision["conclusion"] is said
    assert item._.decision["medically_necessary"] is (outcome == "Overturned")
    said_words = "medically necessary" if said else "not medically necessary"
    expected = f"W022: decision 1: the rationale concludes {said_words!r} but the outcome is {outcome.lower()}"
    disagreements = [w for w in doc._.imr_warnings or [] if w.startswith("W022")]
    assert disagreements == ([expected + ": medically_necessary follows the outcome"] if warned else [])


@pytest.mark.parametrize(
    "text, warning",
    [
        ("IMR ISSUES, DECISIONS AND RATIONALES\nThe Final Determination was based on decisions for", "no item"),
        ("HOW THE IMR FINAL DETERMINATION WAS MADE\nMAXIMUS Federal Services sent the complete case", "section found"),
    ],
)
def test_letters_cut_before_their_decisions_are_warned(text, warning):
    import imr_nlp

    warnings = imr_nlp.parse(text).warnings
    assert any(warning in w and "may be truncated" in w for w in warnings), warnings
    assert not any("does not look like an IMR" in w for w in warnings)
