"""imr_nlp on Apache Spark: a DataFrame of letter texts, or a folder of PDFs, to a DataFrame of
rows at any level of ``imr_nlp.rows`` (decision, letter, medication, citation, diagnosis, reason).

Install with ``pip install "imr-nlp[spark]"`` (pyspark 4 needs Java 17). Work runs in
``mapInPandas``: each Python worker loads the pipeline once and reuses it for every batch. A
letter that cannot be read or parsed still gives one row at the letter and decision levels,
with ``error`` set and a warning starting "error:", so row counts can be reconciled with the
input. ``letter`` is the file's resolved local path (``imr_nlp.io.letter_identity``: Spark's
``file:`` URIs become the path the CLI and ``parse_file`` give), so tables from both join.

    from pyspark.sql import SparkSession
    from imr_nlp import spark as imr_spark

    spark = SparkSession.builder.master("local[2]").getOrCreate()
    decisions = imr_spark.decisions_from_pdfs(spark, "/data/imr/2016/")
    citations = imr_spark.rows_from_pdfs(spark, "/data/imr/2016/", level="citation")
    decisions.write.parquet("/data/imr/2016-decisions.parquet")
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from imr_nlp.rows import COLUMNS, check_level, rows

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession


def schema(level: str = "decision") -> str:
    """The Spark DDL schema of a level's rows (``COLUMNS[level]`` are Spark SQL types)."""
    return ", ".join(f"`{name}` {kind}" for name, kind in COLUMNS[check_level(level)].items())


def decision_schema() -> str:
    """The Spark DDL schema of the decision rows."""
    return schema("decision")


def _rows_frame(row_dicts: list[dict], level: str) -> pd.DataFrame:
    import pandas as pd

    # object columns: Arrow keeps None as null in int, boolean, date and array columns
    return pd.DataFrame(row_dicts, columns=list(COLUMNS[level]), dtype=object)


def _parse_batches(text_col: str, id_col: str | None, level: str, error_col: str | None = None):
    """The mapInPandas function: letters to rows at ``level``. A non-null ``error_col`` (a file
    that could not be read) gives that letter's error record without parsing."""

    def parse_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from imr_nlp.api import error_record, parse_text

        for batch in batches:
            ids = batch[id_col].tolist() if id_col else [None] * len(batch)
            problems = batch[error_col].tolist() if error_col else [None] * len(batch)
            out: list[dict] = []
            for index, (letter, text, problem) in enumerate(zip(ids, batch[text_col].tolist(), problems, strict=True)):
                if problem is None and not isinstance(text, str):
                    problem = f"{letter if letter is not None else f'row {index}'}: no text"
                if problem is not None:
                    determination = error_record(None, None, problem)
                else:
                    determination = parse_text(text, index=index)
                out.extend(rows(determination, level, None if letter is None else str(letter)))
            yield _rows_frame(out, level)

    return parse_batches


def rows_from_texts(
    df: DataFrame, level: str = "decision", text_col: str = "text", id_col: str | None = None
) -> DataFrame:
    """The rows at ``level`` of the letters in ``df[text_col]``; ``id_col`` fills ``letter``."""
    check_level(level)
    for column in (text_col, id_col):
        if column is not None and column not in df.columns:
            raise ValueError(f"column {column!r} is not in the DataFrame (columns: {df.columns})")
    columns = [text_col] + ([id_col] if id_col and id_col != text_col else [])
    return df.select(*columns).mapInPandas(_parse_batches(text_col, id_col, level), schema=schema(level))


def decisions(df: DataFrame, text_col: str = "text", id_col: str | None = None) -> DataFrame:
    """One row per decision of the letters in ``df[text_col]``; ``id_col`` fills ``letter``."""
    return rows_from_texts(df, "decision", text_col, id_col)


def _read_pdf_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    import pandas as pd

    from imr_nlp.errors import InputError
    from imr_nlp.io import letter_identity, read_pdf_bytes

    for batch in batches:
        paths, texts, problems = [], [], []
        for uri, content in zip(batch["path"].tolist(), batch["content"].tolist(), strict=True):
            path = letter_identity(uri)
            paths.append(path)
            try:
                texts.append(read_pdf_bytes(content, path))
                problems.append(None)
            except InputError as exc:
                texts.append(None)
                problems.append(str(exc))
        yield pd.DataFrame({"path": paths, "text": texts, "error": problems})


def read_pdfs(spark: SparkSession, path: str) -> DataFrame:
    """A DataFrame (path, text, error) of the PDFs under ``path`` (recursively): ``path`` is the
    file's resolved local path (``imr_nlp.io.letter_identity``); ``text`` is null and ``error``
    says why when a PDF cannot be read (encrypted, corrupt, no text layer)."""
    files = (
        spark.read.format("binaryFile")
        .option("pathGlobFilter", "*.[pP][dD][fF]")
        .option("recursiveFileLookup", "true")
        .load(str(path))
    )
    return files.select("path", "content").mapInPandas(
        _read_pdf_batches, schema="path string, text string, error string"
    )


def rows_from_pdfs(spark: SparkSession, path: str, level: str = "decision") -> DataFrame:
    """The rows at ``level`` of every PDF under ``path``; ``letter`` is the file's path."""
    parse = _parse_batches("text", "path", check_level(level), error_col="error")
    return read_pdfs(spark, path).mapInPandas(parse, schema=schema(level))


def decisions_from_pdfs(spark: SparkSession, path: str) -> DataFrame:
    """One row per decision of every PDF under ``path``; ``letter`` is the file's path."""
    return rows_from_pdfs(spark, path, "decision")
