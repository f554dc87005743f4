"""to_dataframe / to_parquet at every level, and the displaCy render."""

from pathlib import Path

import pandas as pd
import pytest

import imr_nlp
from imr_nlp.rows import COLUMNS, LEVELS, rows

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
                "date": "date32[day][pyarrow]",
                "array<string>": "object",
                "array<int>": "object",
                "array<double>": "object",
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
    reasons = imr_nlp.to_dataframe(determinations, "reason")
    assert len(reasons) == sum(len(dec.reasons) for d in determinations for dec in d.decisions) > 0
    assert set(reasons["direction"]) <= {"for", "against"}
    by_letter = {d.source: d for d in determinations}
    for row in reasons.itertuples():
        decision = by_letter[row.letter].decisions[row.decision_index]
        assert (row.item, row.outcome) == (decision.item, decision.outcome)
        assert row.evidence in decision.rationale or " ".join(row.evidence.split()) in decision.rationale


def test_dataframe_of_one_letter_and_bad_input(determinations):
    assert len(imr_nlp.to_dataframe(determinations[0], "letter")) == 1
    with pytest.raises(ValueError, match="level must be one of"):
        imr_nlp.to_dataframe(determinations, level="drug")
    with pytest.raises(TypeError, match="item 1"):
        imr_nlp.to_dataframe([determinations[0], {"case_number": "x"}])


def test_letter_level_keeps_the_error(determinations):
    letters = imr_nlp.to_dataframe(determinations, "letter")
    missing = letters[letters["letter"] == str(Path("missing.pdf").resolve())].iloc[0]
    assert "no such file" in missing["error"] and missing["decisions"] == 0


@pytest.mark.parametrize("level", LEVELS)
def test_parquet_round_trip(determinations, level, tmp_path):
    """A plain pd.read_parquet gives to_dataframe's frame back: the same dtypes (dates,
    nullable Int64 and boolean, string) from the schema's pandas metadata, lists as lists."""
    path = tmp_path / f"{level}.parquet"
    count = imr_nlp.to_parquet(determinations, path, level=level)
    frame = pd.read_parquet(path)
    expected = imr_nlp.to_dataframe(determinations, level)
    assert len(frame) == count == len(expected)
    assert list(frame.columns) == list(COLUMNS[level])
    assert frame.dtypes.to_dict() == expected.dtypes.to_dict()
    lists = [name for name, kind in COLUMNS[level].items() if kind.startswith("array<")]
    for name in lists:  # pyarrow reads a list column as numpy arrays
        frame[name] = [None if v is None else list(v) for v in frame[name]]
    pd.testing.assert_frame_equal(frame, expected)


def test_list_columns_are_native_lists_and_dates_are_dates(determinations, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "citation.parquet"
    imr_nlp.to_parquet(determinations, path, level="citation")
    schema = pq.read_schema(path)
    assert str(schema.field("topics").type) == "list<element: string>"
    assert str(schema.field("pages").type) == "list<element: int64>"
    citations = pd.read_parquet(path)
    assert all(len(topics) >= 0 and all(isinstance(t, str) for t in topics) for topics in citations["topics"])
    decisions = imr_nlp.to_dataframe(determinations, "decision")
    dates = decisions["decision_date"]
    assert str(dates.dtype) == "date32[day][pyarrow]" and dates.notna().any()
    assert (dates.dt.year >= 2016).any()  # the .dt accessor works on them


def test_letter_is_the_resolved_path_in_every_table(tmp_path, monkeypatch):
    """One ``letter`` identity: a file named relative to the working folder, or through a link,
    gives its resolved path in parse_file, parse_many and the rows."""
    sample = next(p for p in SAMPLES if p.suffix == ".pdf")
    (tmp_path / "real.pdf").write_bytes(sample.read_bytes())
    (tmp_path / "link.pdf").symlink_to(tmp_path / "real.pdf")
    monkeypatch.chdir(tmp_path)
    resolved = str((tmp_path / "real.pdf").resolve())
    assert imr_nlp.parse_file("link.pdf").source == resolved
    for det in imr_nlp.parse_many([Path("real.pdf"), Path("link.pdf")]):
        assert {row["letter"] for level in LEVELS for row in rows(det, level)} == {resolved}


def test_parquet_of_nothing_keeps_the_schema(tmp_path):
    import pyarrow.parquet as pq

    assert imr_nlp.to_parquet([], tmp_path / "empty.parquet") == 0
    schema = pq.read_schema(tmp_path / "empty.parquet")
    assert schema.names == list(COLUMNS["decision"])
    assert str(schema.field("decision_date").type) == "date32[day]"
    assert str(schema.field("warnings").type) == "list<element: string>"
    assert schema.pandas_metadata is not None


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
    with pytest.raises(TypeError, match=r"text \(str\), a letter file \(pathlib.Path\) or a spaCy Doc"):
        imr_nlp.render(42)


def test_render_shows_outcomes_citations_and_dates():
    from imr_nlp.io import read_letter

    html = imr_nlp.render(read_letter(SAMPLES[0]), jupyter=False)
    for label in ("UPHELD", "CITATION MTUS", "DATE injury", "QUANTITY"):
        assert label in html, label


@pytest.mark.parametrize(
    "given, shown",
    [
        (lambda tmp: SAMPLES[0], "0232543"),  # a PDF, read as parse_file reads it
        (lambda tmp: next(p for p in SAMPLES if p.suffix == ".txt"), "0000001"),
        (lambda tmp: next(p for p in SAMPLES if p.suffix == ".txt").read_text(encoding="utf-8"), "0000001"),
        (lambda tmp: "Norco 10/325mg #120 is not medically necessary.", "Norco"),  # a one-line text
    ],
    ids=["Path of a PDF", "Path of a text", "a letter's text", "a one-line text"],
)
def test_render_shows_a_letter_given_as_a_path_or_as_its_text(given, shown, tmp_path):
    assert shown in imr_nlp.render(given(tmp_path), jupyter=False)


def _plain_file(tmp: Path) -> str:
    (tmp / "letter").write_text("a letter", encoding="utf-8")
    return str(tmp / "letter")


@pytest.mark.parametrize(
    "name",
    [
        lambda tmp: str(SAMPLES[0]),  # an existing PDF's path as a str
        lambda tmp: "letters/CM16-0232543.pdf",  # a letter's name, the file not there
        lambda tmp: " letter.txt\n",
        _plain_file,  # an existing file without a suffix
    ],
    ids=["existing pdf", "missing pdf", "txt name", "existing file, no suffix"],
)
def test_render_refuses_a_file_name_given_as_text(name, tmp_path):
    """Its view would be of the name, not of the letter: a TypeError saying to pass a Path."""
    with pytest.raises(TypeError, match=r"file name as text .*pathlib\.Path"):
        imr_nlp.render(name(tmp_path), jupyter=False)


def test_decision_rows_carry_the_rationale_and_where_the_item_is():
    from imr_nlp.rows import decision_rows

    synthetic = next(p for p in SAMPLES if p.suffix == ".txt")
    text = synthetic.read_text(encoding="utf-8")
    rows = decision_rows(imr_nlp.parse(text))
    assert len(rows) == 2
    for row in rows:
        assert " ".join(text[row["item_start"] : row["item_end"]].split()) == row["item"]
        assert row["rationale"] and len(row["rationale"]) > 40


@pytest.mark.parametrize("year", [1, 202, 1899, 2999, 9999])
def test_no_date_can_break_a_table(determinations, tmp_path, year):
    """A date pandas' nanosecond timestamps cannot hold (year 202) keeps its row in every table."""
    import datetime as dt

    odd = determinations[0].model_copy(update={"injury_date": dt.date(year, 3, 21)})
    for level in ("letter", "decision"):
        frame = imr_nlp.to_dataframe([odd, *determinations[1:]], level=level)
        assert frame["injury_date"].iloc[0].year == year
    path = tmp_path / "odd.parquet"
    imr_nlp.to_parquet([odd], path, level="letter")
    assert pd.read_parquet(path)["injury_date"].iloc[0].year == year


def test_a_mistyped_year_is_a_warning_and_no_date():
    det = imr_nlp.parse("CLINICAL CASE SUMMARY\nThe injured worker sustained an injury on March 21, 0202.")
    assert det.injury_date is None and not det.dates
    assert any("0202" in w and "outside" in w for w in det.warnings)


def test_to_parquet_refuses_a_path_that_is_no_path(determinations):
    with pytest.raises(TypeError, match="path must be"):
        imr_nlp.to_parquet(determinations, None)


def test_to_parquet_leaves_no_partial_file_when_the_input_fails(determinations, tmp_path):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the previous export")

    def failing():
        yield determinations[0]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        imr_nlp.to_parquet(failing(), out)
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_to_parquet_appears_whole(determinations, tmp_path):
    out = tmp_path / "out.parquet"
    count = imr_nlp.to_parquet(determinations, out, level="letter")
    assert count == len(pd.read_parquet(out)) and sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_to_parquet_on_a_full_disk_keeps_the_old_file(determinations, tmp_path, monkeypatch):
    import errno

    from imr_nlp import frames

    out = tmp_path / "out.parquet"
    out.write_bytes(b"the previous export")

    def no_space(self, new_rows):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(frames.ParquetSink, "write", no_space)
    with pytest.raises(OSError, match="No space left"):
        imr_nlp.to_parquet(determinations, out)
    assert out.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


@pytest.mark.parametrize(
    "strengths, values, units, ingredients, csv",
    [
        (
            [(10.0, "mg", "hydrocodone"), (325.0, "mg", "acetaminophen")],
            [10.0, 325.0],
            ["mg", "mg"],
            ["hydrocodone", "acetaminophen"],
            ("10.0; 325.0", "mg; mg", "hydrocodone; acetaminophen"),
        ),
        (  # one entry per ingredient, not each value once; an unknown ingredient stays in its place
            [(5.0, "%", None), (5.0, "%", "lidocaine")],
            [5.0, 5.0],
            ["%", "%"],
            [None, "lidocaine"],
            ("5.0; 5.0", "%; %", "; lidocaine"),
        ),
        ([], [], [], [], (None, None, None)),
    ],
)
def test_strength_lists_side_by_side_in_every_table(strengths, values, units, ingredients, csv, tmp_path):
    from imr_nlp.rows import flat_row

    treatment = imr_nlp.Treatment(
        category="medication",
        strength=imr_nlp.Strength(value=strengths[0][0], unit=strengths[0][1]) if strengths else None,
        strengths=[imr_nlp.Strength(value=v, unit=u, ingredient=i) for v, u, i in strengths],
    )
    determination = imr_nlp.Determination(decisions=[imr_nlp.Decision(item="x", start=0, end=1, treatment=treatment)])
    (row,) = rows(determination, "decision")
    columns = ("strength_values", "strength_units", "strength_ingredients")
    assert [row[c] for c in columns] == [values, units, ingredients]
    assert tuple(flat_row(row)[c] for c in columns) == csv
    imr_nlp.to_parquet(determination, tmp_path / "d.parquet")
    frame = pd.read_parquet(tmp_path / "d.parquet")
    assert [list(frame[c][0]) for c in columns] == [values, units, ingredients]
