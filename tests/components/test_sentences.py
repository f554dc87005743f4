"""The sentence splitter: where sentences start in IMR-letter and clinical-note text."""

import pytest

import imr_nlp.pipeline  # noqa: F401  (registers the factories)


@pytest.fixture(scope="module")
def splitter_nlp(small_pipeline):
    return small_pipeline("imr_sentences")


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("He has pain. She has none.", ["He has pain.", "She has none."]),
        ("Seen by Dr. Smith vs. Dr. Jones today.", ["Seen by Dr. Smith vs. Dr. Jones today."]),
        ("Take e.g. ibuprofen daily.", ["Take e.g. ibuprofen daily."]),
        ("Pain is 7/10.The diagnoses are lumbar strain.", ["Pain is 7/10.", "The diagnoses are lumbar strain."]),
        ("Relief was brief.Diagnoses include CRPS.", ["Relief was brief.", "Diagnoses include CRPS."]),
        ("Diagnoses: 1. Lumbar strain 2. Cervical strain", ["Diagnoses:", "1. Lumbar strain", "2. Cervical strain"]),
        ("DIAGNOSES: 1) Stenosis 2) Colitis", ["DIAGNOSES:", "1) Stenosis", "2) Colitis"]),
        ("Diagnosis 08/20/14- lumbar strain, anxiety", ["Diagnosis 08/20/14- lumbar strain, anxiety"]),
        (
            "Size 0.9 cm (0.7-1.1 cm) REFERRING DIAGNOSIS: syncope",
            ["Size 0.9 cm (0.7-1.1 cm)", "REFERRING DIAGNOSIS: syncope"],
        ),
        ("Not obtainable REFERRING DIAGNOSIS: syncope", ["Not obtainable", "REFERRING DIAGNOSIS: syncope"]),
        ("See the image (figure 1) for details.", ["See the image (figure 1) for details."]),
        ("He has CRPS: see the report.", ["He has CRPS: see the report."]),
        ("Norco 10/325 #60 2 refills", ["Norco 10/325 #60 2 refills"]),
        ("Fever resolved.\n\nno rash on exam", ["Fever resolved.", "no rash on exam"]),
        ("wrapped line without a stop\n\ncontinues here", ["wrapped line without a stop continues here"]),
        ("", []),
    ],
)
def test_sentence_starts(splitter_nlp, text, sentences):
    doc = splitter_nlp(text)
    assert [s.text.strip() for s in doc.sents if s.text.strip()] == sentences
