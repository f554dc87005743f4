"""Processed Docs travel the spaCy way: Doc.to_bytes, DocBin (with and without user data) and
nlp.pipe(n_process=2) give back every span group, entity, ConText flag, section and the
Determination."""

from pathlib import Path

import pytest
from spacy.tokens import Doc, DocBin

import imr_nlp
from imr_nlp.errors import ValuesNotStoredError
from imr_nlp.io import read_pdf

SAMPLES = Path(imr_nlp.__file__).parent / "samples"
CONTEXT_FLAGS = ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family")


@pytest.fixture(scope="module")
def letters() -> list[str]:
    return [read_pdf(path) for path in sorted(SAMPLES.glob("*.pdf"))] + [
        (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    ]


@pytest.fixture(scope="module")
def docs(nlp, letters) -> list[Doc]:
    return [nlp(text) for text in letters]


def span_groups(doc: Doc) -> dict[str, list[tuple[int, int, str]]]:
    return {key: [(s.start_char, s.end_char, s.label_) for s in group] for key, group in doc.spans.items()}


def entity_flags(doc: Doc) -> list[tuple]:
    return [(e.start_char, e.end_char, e.label_, *(getattr(e._, flag) for flag in CONTEXT_FLAGS)) for e in doc.ents]


def sections(doc: Doc) -> list[tuple[int, str]]:
    return [(t.i, t._.section.category) for t in doc if t._.section is not None]


def assert_same(copy: Doc, original: Doc) -> None:
    assert copy.text == original.text
    assert span_groups(copy) == span_groups(original)
    assert entity_flags(copy) == entity_flags(original)
    assert sections(copy) == sections(original)
    assert copy._.determination == original._.determination


def test_the_samples_have_what_must_travel(docs):
    """The round trips below compare something: entities with ConText flags, sections, decisions."""
    assert all(doc.ents and sections(doc) for doc in docs)
    assert any(any(flags[3:]) for doc in docs for flags in entity_flags(doc))
    assert all(doc._.determination.decisions for doc in docs)


def test_doc_to_bytes_round_trip(nlp, docs):
    for doc in docs:
        assert_same(Doc(nlp.vocab).from_bytes(doc.to_bytes()), doc)


def test_docbin_with_user_data_round_trip(nlp, docs):
    data = DocBin(docs=docs, store_user_data=True).to_bytes()
    copies = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    assert len(copies) == len(docs)
    for copy, doc in zip(copies, docs, strict=True):
        assert_same(copy, doc)


def test_docbin_without_user_data_round_trip(nlp, docs):
    # spaCy drops user_data here; imr_portable's span group carries the values instead
    copies = list(DocBin(docs=docs).get_docs(nlp.vocab))
    assert len(copies) == len(docs)
    for copy, doc in zip(copies, docs, strict=True):
        assert not copy.user_data or set(copy.user_data) <= {"imr_nlp.values_restored"}
        assert_same(copy, doc)


@pytest.mark.parametrize("first_read", ["entity flag", "section", "determination", "header"])
def test_values_come_back_whatever_is_read_first(nlp, docs, first_read):
    """The carried values are put back on the first read of any of them, not only through the
    Determination."""
    doc = docs[0]
    copy = next(DocBin(docs=[doc]).get_docs(nlp.vocab))
    read = {
        "entity flag": lambda d: entity_flags(d),
        "section": lambda d: sections(d),
        "determination": lambda d: d._.determination,
        "header": lambda d: d._.header,
    }[first_read]
    assert read(copy) == read(doc)
    assert_same(copy, doc)


def test_docbin_without_user_data_or_carried_values_says_what_is_lost(nlp, docs):
    """A doc whose values were not carried (a pipeline without imr_portable) cannot be
    assembled: said, never an empty Determination."""
    doc = Doc(nlp.vocab).from_bytes(docs[0].to_bytes())
    del doc.spans["imr_values"]
    copy = next(DocBin(docs=[doc]).get_docs(nlp.vocab))
    assert span_groups(copy) == span_groups(doc)
    with pytest.raises(ValuesNotStoredError, match="store_user_data=True"):
        _ = copy._.determination


def test_pipe_with_two_processes(nlp, letters, docs):
    # spaCy's workers send docs back as bytes: a doc that cannot be read back would hang the pipe
    # rather than fail it, so that is checked first
    Doc(nlp.vocab).from_bytes(docs[0].to_bytes())
    piped = list(nlp.pipe(letters, n_process=2, batch_size=1))
    assert len(piped) == len(docs)
    for copy, doc in zip(piped, docs, strict=True):
        assert_same(copy, doc)


def test_carried_values_found_under_a_renamed_key(letters):
    """The carrying group is found by what it carries, not by its key (the renaming itself is
    one of the values it carries)."""
    from imr_nlp.pipeline import build

    nlp = build(config={"imr_portable": {"span_keys": {"values": "moved_values"}}})
    doc = nlp(letters[-1])
    assert "moved_values" in doc.spans and "imr_values" not in doc.spans
    copy = next(DocBin(docs=[doc]).get_docs(nlp.vocab))
    assert_same(copy, doc)
