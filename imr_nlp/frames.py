"""Determinations as pandas DataFrames and Parquet files, at the levels of ``imr_nlp.rows``.

Columns follow ``imr_nlp.rows.COLUMNS[level]`` with pandas' nullable types (``string``,
``Int64``, ``Float64``, ``boolean``; dates as dates, ``date32[day][pyarrow]``; lists as Python
lists in ``object`` columns), so a column keeps its type even when every value is missing.
Parquet goes through pyarrow with native list columns (``list<string>``, ``list<int64>``, ``list<double>``), dates
as ``date32`` (a "date" column is a date everywhere: DuckDB and Spark read DATE from the Parquet
file as from the CSV's "YYYY-MM-DD") and pandas' schema metadata, so a plain
``pd.read_parquet`` gives back the same dtypes as ``to_dataframe``; it is written in row groups
so a long run needs little memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from imr_nlp.models import Determination
from imr_nlp.rows import COLUMNS, check_level, rows

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

_PANDAS_TYPES = {
    "string": "string",
    "int": "Int64",
    "double": "Float64",
    "boolean": "boolean",
    "date": "date32[day][pyarrow]",
    "array<string>": "object",
    "array<int>": "object",
    "array<double>": "object",
}
ROW_GROUP = 5000


def _determinations(determinations: Determination | Iterable[Determination]) -> Iterator[Determination]:
    if isinstance(determinations, Determination):
        yield determinations
        return
    for index, determination in enumerate(determinations):
        if not isinstance(determination, Determination):
            raise TypeError(f"item {index}: expected an imr_nlp.Determination, got {type(determination).__name__}")
        yield determination


def iter_rows(determinations: Determination | Iterable[Determination], level: str = "decision") -> Iterator[dict]:
    """Every row of every Determination at ``level``, in order."""
    check_level(level)
    for determination in _determinations(determinations):
        yield from rows(determination, level)


def to_dataframe(determinations: Determination | Iterable[Determination], level: str = "decision") -> pd.DataFrame:
    """A pandas DataFrame of Determinations (one, or an iterable such as ``parse_many``'s) at
    ``level``: "letter", "decision" (default), "medication", "citation", "diagnosis" or "reason"
    (``imr_nlp.rows.LEVELS``)."""
    return _typed_frame(list(iter_rows(determinations, level)), level)


def _typed_frame(row_dicts: list[dict], level: str) -> pd.DataFrame:
    """Rows as a DataFrame with the level's columns, in pandas' nullable dtypes."""
    import pandas as pd

    columns = COLUMNS[level]
    frame = pd.DataFrame(row_dicts, columns=list(columns), dtype=object)
    for name, kind in columns.items():
        if kind == "date":
            frame[name] = pd.Series(_as_dates(frame[name]), index=frame.index, dtype=_PANDAS_TYPES[kind])
        elif _PANDAS_TYPES[kind] != "object":
            frame[name] = frame[name].astype(_PANDAS_TYPES[kind])
    return frame


def _as_dates(values) -> pd.api.extensions.ExtensionArray:
    """Dates (``datetime.date``, ISO strings or missing) as an Arrow ``date32`` array, never
    through pandas' nanosecond timestamps: any year from 1 to 9999 fits a column, so one odd
    value ("0202-03-21") cannot lose the whole table."""
    import datetime as dt

    import pandas as pd
    import pyarrow as pa

    def one(value) -> dt.date | None:
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value)[:10])

    return pd.arrays.ArrowExtensionArray(pa.array([one(v) for v in values], type=pa.date32()))


def arrow_schema(level: str = "decision") -> pa.Schema:
    """The pyarrow schema of a level's Parquet table, with pandas' metadata (the dtypes
    ``pd.read_parquet`` gives back)."""
    import pyarrow as pa

    kinds = {
        "string": pa.string(),
        "int": pa.int64(),
        "double": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "array<string>": pa.list_(pa.string()),
        "array<int>": pa.list_(pa.int64()),
        "array<double>": pa.list_(pa.float64()),
    }
    schema = pa.schema([(name, kinds[kind]) for name, kind in COLUMNS[check_level(level)].items()])
    empty = pa.Table.from_pandas(_typed_frame([], level), schema=schema, preserve_index=False)
    return empty.schema


class ParquetSink:
    """Writes rows to a Parquet file in row groups: ``with ParquetSink(path, level) as sink:
    sink.write(rows)``. The file always has the level's schema, even with no rows."""

    def __init__(self, path: str | Path, level: str = "decision") -> None:
        import pyarrow.parquet as pq

        self.level = level
        self.schema = arrow_schema(level)
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self.buffer: list[dict] = []
        self.count = 0

    def write(self, new_rows: Iterable[dict]) -> None:
        self.buffer.extend(new_rows)
        if len(self.buffer) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.buffer:
            frame = _typed_frame(self.buffer, self.level)
            self.writer.write_table(pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False))
            self.count += len(self.buffer)
            self.buffer = []

    def close(self) -> None:
        self._flush()
        self.writer.close()

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:  # the file is thrown away: close without flushing, and never hide the first error
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001 - the error being raised is the one to report
                pass


def to_parquet(
    determinations: Determination | Iterable[Determination], path: str | Path, level: str = "decision"
) -> int:
    """Write Determinations to a Parquet file at ``level``; returns the number of rows. The file
    appears only when complete: rows go to a temporary file beside ``path``, renamed to it at the
    end; an exception, Ctrl-C or a full disk removes it and leaves ``path`` as it was (a link
    named ``path`` stays a link: its target is written)."""
    import os

    from imr_nlp.io import commit_output, remove_quietly, temporary_for

    check_level(level)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
    target = os.path.realpath(path)
    temp = temporary_for(target)
    try:
        with ParquetSink(temp, level) as sink:
            for determination in _determinations(determinations):
                sink.write(rows(determination, level))
        commit_output(temp, target)
    except BaseException:
        remove_quietly(temp)
        raise
    return sink.count
