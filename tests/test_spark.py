"""imr_nlp.spark in Spark local mode. Skipped when pyspark is not installed (``.[spark]``),
unless IMR_NLP_REQUIRE_SPARK=1 (as in CI), where a missing pyspark fails the run."""

import os
import sys
from pathlib import Path

import pytest

if os.environ.get("IMR_NLP_REQUIRE_SPARK") == "1":
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark")

import imr_nlp  # noqa: E402
from imr_nlp import spark as imr_spark  # noqa: E402
from imr_nlp.rows import COLUMNS, DECISION_COLUMNS, decision_rows, rows  # noqa: E402

SAMPLES = Path(imr_nlp.__file__).resolve().parent / "samples"


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("imr_nlp-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2")
        .getOrCreate()
    )
    yield session
    session.stop()


def _expected(determination, letter):
    return [
        {k: (str(v) if v is not None else None) for k, v in row.items()} for row in decision_rows(determination, letter)
    ]


def _as_strings(rows):
    return [{k: (str(v) if v is not None else None) for k, v in row.asDict().items()} for row in rows]


def test_decisions_from_texts_match_parse(spark):
    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    letters = [
        ("a", text),
        ("b", "not a letter at all"),
        ("c", None),
        ("d", text.replace("CM99-0000001", "CM99-0000002")),
    ]
    df = spark.createDataFrame(letters, "id string, text string")
    rows = imr_spark.decisions(df, text_col="text", id_col="id").orderBy("letter", "decision_index").collect()
    assert list(rows[0].asDict()) == list(DECISION_COLUMNS)
    expected = _expected(imr_nlp.parse(text), "a") + _expected(imr_nlp.parse("not a letter at all"), "b")
    expected += [_expected(imr_nlp.Determination(), "c")[0]]
    expected += _expected(imr_nlp.parse(text.replace("CM99-0000001", "CM99-0000002")), "d")
    got = _as_strings(rows)
    assert [r["letter"] for r in got] == [r["letter"] for r in expected]
    for g, e in zip(got, expected, strict=True):
        if e["letter"] == "c":
            assert g["warnings"].startswith("['error:") and g["item"] is None and g["error"] == "c: no text"
        else:
            assert g == e


def test_decisions_from_a_folder_of_pdfs(spark, tmp_path):
    for pdf in SAMPLES.glob("*.pdf"):
        (tmp_path / pdf.name).write_bytes(pdf.read_bytes())
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    rows = imr_spark.decisions_from_pdfs(spark, str(tmp_path)).collect()
    by_file = {}
    for row in rows:
        by_file.setdefault(Path(row["letter"]).name, []).append(row)
    assert set(by_file) == {p.name for p in SAMPLES.glob("*.pdf")} | {"broken.pdf"}
    for pdf in SAMPLES.glob("*.pdf"):
        det = imr_nlp.parse_file(pdf)
        got = by_file[pdf.name]
        assert len(got) == max(1, len(det.decisions))
        assert {r["case_number"] for r in got} == {det.case_number}
        assert [r["outcome"] for r in sorted(got, key=lambda r: r["decision_index"])] == [
            d.outcome for d in det.decisions
        ]
    (broken,) = by_file["broken.pdf"]
    assert broken["warnings"][0].startswith("error:") and broken["decision_index"] is None
    assert broken["error"].startswith(broken["letter"]) and "not a readable PDF" in broken["error"]
    # one letter identity: Spark's file: URIs become the resolved path parse_file gives
    for pdf in SAMPLES.glob("*.pdf"):
        assert by_file[pdf.name][0]["letter"] == imr_nlp.parse_file(tmp_path / pdf.name).source


@pytest.mark.parametrize("level", ["medication", "citation", "letter", "diagnosis"])
def test_every_level_from_pdfs_matches_the_rows_of_parse_file(spark, tmp_path, level):
    for pdf in SAMPLES.glob("*.pdf"):
        (tmp_path / pdf.name).write_bytes(pdf.read_bytes())
    got = imr_spark.rows_from_pdfs(spark, str(tmp_path), level=level).collect()
    assert got and list(got[0].asDict()) == list(COLUMNS[level])
    expected = [row for pdf in sorted(tmp_path.glob("*.pdf")) for row in rows(imr_nlp.parse_file(pdf), level)]
    as_strings = [{k: (str(v) if v is not None else None) for k, v in r.items()} for r in expected]
    assert sorted(_as_strings(got), key=lambda r: str(sorted(r.items()))) == sorted(
        as_strings, key=lambda r: str(sorted(r.items()))
    )


def test_an_unknown_level_is_a_clear_error(spark):
    df = spark.createDataFrame([("x",)], "text string")
    with pytest.raises(ValueError, match="level must be one of"):
        imr_spark.rows_from_texts(df, level="drug")


def test_missing_column_is_a_clear_error(spark):
    df = spark.createDataFrame([("x",)], "body string")
    with pytest.raises(ValueError, match="text"):
        imr_spark.decisions(df)
