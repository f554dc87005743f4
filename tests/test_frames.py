"""to_dataframe / to_parquet at every level, and the displaCy render."""

from pathlib import Path

import pandas as pd
import pytest

import imr_nlp
from imr_nlp.rows import COLUMNS, LEVELS

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "imr_nlp" / "samples").iterdir())


@pytest.fixture(scope="module")
def determinations():
    return list(imr_nlp.parse_many(SAMPLES + [Path("missing.pdf")]))


@pytest.mark.parametrize("level", LEVELS)
def test_dataframe_columns_and_types(determinations, level):
    frame = imr_nlp.to_dataframe(determinations, level=level)
    assert list(frame.columns) == list(COLUMNS[level])
    for name, kind in COLUMNS[level].items():
        dtype = str(frame[name].dtype)
        assert (
            dtype
            == {
                "string": "string",
                "int": "Int64",
                "double": "Float64",
                "boolean": "boolean",
                "date": "datetime64[ns]",
            }[kind]
        ), name


def test_dataframe_rows_per_level(determinations):
    decisions = sum(len(d.decisions) for d in determinations)
    assert len(imr_nlp.to_dataframe(determinations, "letter")) == 4
    assert len(imr_nlp.to_dataframe(determinations, "decision")) == decisions + 1  # the missing file's row
    medications = imr_nlp.to_dataframe(determinations, "medication")
    assert len(medications) == sum(len(d.medications) for d in determinations)
    decision_drugs = medications.dropna(subset=["decision_index"])
    assert len(decision_drugs) == sum(1 for d in determinations for dec in d.decisions if dec.treatment.drug)
    citations = imr_nlp.to_dataframe(determinations, "citation")
    assert set(citations["basis"]) == {"claims_administrator", "reviewer"}
    assert set(citations["source"]) <= {"MTUS", "ODG", "ACOEM", "OTHER"}


def test_dataframe_of_one_letter_and_bad_input(determinations):
    assert len(imr_nlp.to_dataframe(determinations[0], "letter")) == 1
    with pytest.raises(ValueError, match="level must be one of"):
        imr_nlp.to_dataframe(determinations, level="drug")
    with pytest.raises(TypeError, match="item 1"):
        imr_nlp.to_dataframe([determinations[0], {"case_number": "x"}])


def test_letter_level_keeps_the_error(determinations):
    letters = imr_nlp.to_dataframe(determinations, "letter")
    missing = letters[letters["letter"] == "missing.pdf"].iloc[0]
    assert "no such file" in missing["error"] and missing["decisions"] == 0


@pytest.mark.parametrize("level", LEVELS)
def test_parquet_round_trip(determinations, level, tmp_path):
    path = tmp_path / f"{level}.parquet"
    count = imr_nlp.to_parquet(determinations, path, level=level)
    frame = pd.read_parquet(path)
    assert len(frame) == count == len(imr_nlp.to_dataframe(determinations, level))
    assert list(frame.columns) == list(COLUMNS[level])


def test_parquet_of_nothing_keeps_the_schema(tmp_path):
    import pyarrow.parquet as pq

    assert imr_nlp.to_parquet([], tmp_path / "empty.parquet") == 0
    schema = pq.read_schema(tmp_path / "empty.parquet")
    assert schema.names == list(COLUMNS["decision"])
    assert str(schema.field("decision_date").type) == "date32[day]"


def test_render_labels_with_assertions():
    text = (
        "CLINICAL CASE SUMMARY\nThe patient denies taking Norco. She takes ibuprofen 800mg #60 daily.\n"
        "Diagnoses: lumbar strain."
    )
    html = imr_nlp.render(text, jupyter=False)
    assert "DRUG negated" in html and "DRUG" in html and "STRENGTH" in html


def test_render_leaves_the_doc_alone_and_checks_its_input():
    synthetic = next(p for p in SAMPLES if p.suffix == ".txt")
    doc = imr_nlp.load()(synthetic.read_text(encoding="utf-8"))
    groups = set(doc.spans)
    html = imr_nlp.render(doc, jupyter=False, page=True)
    assert html.startswith("<!DOCTYPE html>") and set(doc.spans) == groups
    with pytest.raises(TypeError, match="str or a spaCy Doc"):
        imr_nlp.render(42)


def test_render_shows_outcomes_citations_and_dates():
    from imr_nlp.io import read_letter

    html = imr_nlp.render(read_letter(SAMPLES[0]), jupyter=False)
    for label in ("UPHELD", "CITATION MTUS", "DATE injury", "QUANTITY"):
        assert label in html, label


def test_decision_rows_carry_the_rationale_and_where_the_item_is():
    from imr_nlp.rows import decision_rows

    synthetic = next(p for p in SAMPLES if p.suffix == ".txt")
    text = synthetic.read_text(encoding="utf-8")
    rows = decision_rows(imr_nlp.parse(text))
    assert len(rows) == 2
    for row in rows:
        assert " ".join(text[row["item_start"] : row["item_end"]].split()) == row["item"]
        assert row["rationale"] and len(row["rationale"]) > 40
