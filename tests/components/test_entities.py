"""imr_entities: doc.ents, the mentions without overlaps, by the priority of their groups."""

from __future__ import annotations

import pytest
from spacy.tokens import Span

import imr_nlp
from imr_nlp import resources
from imr_nlp.extensions import SPAN_GROUPS

RULES = resources.load("entities.json")


@pytest.fixture(scope="module")
def nlp():
    return imr_nlp.load()


def _doc_with(nlp, text: str, groups: dict[str, list[tuple[int, int, str]]]):
    """A hand-built doc: ``text`` tokenized, with span groups of (start token, end token, label)."""
    doc = nlp.make_doc(text)
    doc.spans[SPAN_GROUPS["sections"]] = [Span(doc, 0, len(doc), label="case_summary")]
    for key, spans in groups.items():
        doc.spans[SPAN_GROUPS[key]] = [Span(doc, s, e, label=label) for s, e, label in spans]
    return doc


@pytest.mark.parametrize(
    "groups, expected",
    [
        # a drug and a strength side by side: both
        ({"drugs": [(0, 1, "DRUG")], "doses": [(1, 3, "STRENGTH")]}, [("Norco", "DRUG"), ("10 mg", "STRENGTH")]),
        # overlapping: the higher group wins, whatever the lengths
        ({"drugs": [(0, 1, "DRUG")], "diagnoses": [(0, 3, "DIAGNOSIS")]}, [("Norco", "DRUG")]),
        # in one group: the longer span wins
        ({"doses": [(1, 2, "QUANTITY"), (1, 3, "STRENGTH")]}, [("10 mg", "STRENGTH")]),
        # a group's spans of other labels are left out (the citation paragraph)
        ({"citations": [(0, 4, "BASIS")]}, []),
    ],
)
def test_overlaps_are_settled_by_group_priority_then_length(nlp, groups, expected):
    doc = _doc_with(nlp, "Norco 10 mg nightly", groups)
    doc = nlp.get_pipe("imr_entities")(doc)
    assert [(e.text, e.label_) for e in doc.ents] == expected


def test_entities_keep_their_assertions_and_get_their_section(nlp):
    doc = nlp("CLINICAL CASE SUMMARY\nThe patient denies taking Norco. She takes Gabapentin 600 mg.\n")
    ents = {e.text: e for e in doc.ents}
    assert ents["Norco"]._.is_negated and not ents["Gabapentin"]._.is_negated
    assert {e._.section_category for e in doc.ents} == {"case_summary"}


@pytest.mark.parametrize("example", RULES.examples, ids=[e.text[:40] for e in RULES.examples])
def test_entity_examples_hold(nlp, example):
    doc = nlp(example.text)
    found = [(e.text, e.label_) for e in doc.ents]
    for pair in example.ents:
        assert tuple(pair) in found, (pair, found)
    for text in example.absent:
        assert text not in [e.text for e in doc.ents], (text, found)


def test_an_unknown_group_is_refused(nlp):
    from imr_nlp.components.entities import IMREntities

    component = IMREntities(nlp, "imr_entities")
    component.rules["entities.json"] = RULES.model_copy(
        update={"groups": [resources.EntityGroup(group="no_such_group")]}
    )
    with pytest.raises(ValueError, match="unknown span groups"):
        component._compile()


def test_the_ent_view_renders_in_the_letters_own_spacing(nlp):
    text = "CLINICAL CASE SUMMARY\nCase CM16-0232543. The patient denies taking Norco.\n"
    html = imr_nlp.render(text, jupyter=False, style="ent")
    assert "CM16-0232543" in html and "CM16 - 0232543" not in html
    assert "<br>" in html and "DRUG negated" in html
    with pytest.raises(ValueError, match="'span' or 'ent'"):
        imr_nlp.render(text, jupyter=False, style="dep")
