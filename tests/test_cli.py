"""The imr-nlp command line: formats, levels, globs, bad files, progress and schema."""

import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import imr_nlp
from imr_nlp.cli import REASON_EVIDENCE_WIDTH, Progress, expand, main, reason_line
from imr_nlp.models import Reason
from imr_nlp.rows import COLUMNS, LEVELS
from imr_nlp.rows import rows as rows_of

SAMPLES = Path(__file__).resolve().parent.parent / "imr_nlp" / "samples"


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> Path:
    """A folder of the three samples, one in a sub-folder, a broken PDF and a non-letter file."""
    folder = tmp_path_factory.mktemp("letters")
    for path in sorted(SAMPLES.iterdir()):
        shutil.copy(path, folder / path.name)
    (folder / "sub").mkdir()
    shutil.move(folder / "synthetic_letter.txt", folder / "sub" / "synthetic_letter.txt")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    (folder / "notes.md").write_text("not a letter file")
    return folder


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def test_expand_folders_globs_and_missing_names(letters):
    found = expand([str(letters)])
    assert [p.name for p in found] == ["CM16-0232543.pdf", "CM17-0010420.pdf", "broken.pdf", "synthetic_letter.txt"]
    assert [p.name for p in expand([str(letters / "*.pdf")])] == ["CM16-0232543.pdf", "CM17-0010420.pdf", "broken.pdf"]
    assert [p.name for p in expand([str(letters / "**" / "*.txt")])] == ["synthetic_letter.txt"]
    assert expand(["missing.pdf", "nothing/*.pdf"]) == [Path("missing.pdf"), Path("nothing/*.pdf")]


def test_jsonl_letters_with_a_bad_file(letters):
    result = _run("parse", letters)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 4  # counts in = counts out, the broken file included
    broken = next(r for r in records if r["source"].endswith("broken.pdf"))
    assert broken["error"].startswith(str(letters / "broken.pdf")) and broken["decisions"] == []
    assert sum(len(r["decisions"]) for r in records) == 15
    assert f"error: {broken['error']}" in result.stderr
    assert "[#" not in result.stderr  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("level", ["letter", "decision", "medication", "citation", "diagnosis"])
def test_csv_levels(letters, level, tmp_path):
    out = tmp_path / "rows.csv"
    result = _run("parse", letters / "*.pdf", "--format", "csv", "--level", level, "--out", out)
    assert result.exit_code == 1  # broken.pdf
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == list(COLUMNS[level])
    files = expand([str(letters / "*.pdf")])
    assert len(rows) == sum(len(rows_of(det, level)) for det in imr_nlp.parse_many(files))
    assert len(rows) >= 3


def test_parquet_decisions(letters, tmp_path):
    out = tmp_path / "decisions.parquet"
    result = _run("parse", letters, "--format", "parquet", "--out", out, "--workers", "2")
    assert result.exit_code == 1
    frame = pd.read_parquet(out)
    assert list(frame.columns) == list(COLUMNS["decision"])
    assert len(frame) == 16  # 15 decisions and the broken file's error row
    assert frame["outcome"].dropna().isin(["upheld", "overturned"]).all()
    assert frame.loc[frame["error"].notna(), "letter"].str.endswith("broken.pdf").all()
    assert "4 letters, 16 decision records, 1 failed" in result.stderr


@pytest.fixture(scope="module")
def csv_and_parquet(tmp_path_factory) -> tuple[Path, Path]:
    """The decision rows of the sample letters as CSV and as Parquet, both from the CLI."""
    folder = tmp_path_factory.mktemp("tables")
    for fmt in ("csv", "parquet"):
        result = _run("parse", SAMPLES, "--format", fmt, "--out", folder / f"decisions.{fmt}", "--workers", "1")
        assert result.exit_code == 0, result.output
    return folder / "decisions.csv", folder / "decisions.parquet"


DATE_COLUMNS = [name for name, kind in COLUMNS["decision"].items() if kind == "date"]


def _pandas_types(path: Path) -> dict[str, str]:
    """The dtypes pandas reads: Parquet plainly; CSV with pyarrow's reader and types, the one
    reader of pandas that types a date column by itself."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow")
    return {name: str(frame[name].dtype) for name in DATE_COLUMNS}


def _duckdb_types(path: Path) -> dict[str, str]:
    duckdb = pytest.importorskip("duckdb")
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    query = f"SELECT {', '.join(f'typeof({name})' for name in DATE_COLUMNS)} FROM {reader}('{path}') LIMIT 1"
    (row,) = duckdb.connect().execute(query).fetchall()
    return dict(zip(DATE_COLUMNS, row, strict=True))


@pytest.mark.parametrize(
    "read, date_type",
    [(_pandas_types, "date32[day][pyarrow]"), (_duckdb_types, "DATE")],
    ids=["pandas", "duckdb"],
)
def test_a_date_column_reads_as_the_same_date_type_from_csv_and_parquet(csv_and_parquet, read, date_type):
    """The schema says "date" and the Parquet file stores date32, so DuckDB reads DATE from both
    files and pandas date32 from both (and to_dataframe gives the same); before, Parquet held
    timestamp[ms] and DuckDB read TIMESTAMP from it but DATE from the CSV. (duckdb is not a
    dependency: its case is skipped unless it is installed.)"""
    from_csv, from_parquet = (read(path) for path in csv_and_parquet)
    assert from_csv == from_parquet == dict.fromkeys(DATE_COLUMNS, date_type)


def test_parquet_needs_an_output_file(letters):
    result = _run("parse", letters, "--format", "parquet")
    assert result.exit_code == 2 and "--out" in result.stderr


def test_a_talking_run_says_it_is_loading_and_sums_up_with_its_rate():
    result = _run("parse", SAMPLES / "synthetic_letter.txt", "--level", "decision", "--progress")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("loading the pipeline (1 letters to parse) ...")
    summary = result.stderr.strip().splitlines()[-1].split("\r")[-1]
    assert re.fullmatch(
        r"1 letters, 2 decision records, 0 failed in [\d.]+ s \([\d.]+ s loading, [\d.]+ s parsing: [\d.]+ letters/s\)",
        summary,
    ), summary


def test_a_folder_scan_lists_the_files_it_skips(tmp_path):
    shutil.copy(SAMPLES / "synthetic_letter.txt", tmp_path / "letter.txt")
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04word")
    (tmp_path / "README").write_text("not a letter")
    result = _run("parse", tmp_path, "--level", "decision")
    assert result.exit_code == 0, result.stderr
    assert f"skipped: {tmp_path / 'notes.docx'}: unsupported file type .docx" in result.stderr
    assert f"skipped: {tmp_path / 'README'}: no .pdf or .txt suffix" in result.stderr
    assert len(result.stdout.splitlines()) == 2  # the letter's two decisions


def test_all_good_exits_zero(tmp_path):
    result = _run("parse", SAMPLES / "synthetic_letter.txt", "--format", "jsonl", "--level", "decision")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2 and all(list(r) == list(COLUMNS["decision"]) for r in records)
    assert [r["outcome"] for r in records] == ["upheld", "overturned"]
    assert result.stderr == ""


def test_progress_bar_when_asked():
    stream = io.StringIO()
    bar = Progress(3, enabled=True, stream=stream)
    for _ in range(3):
        bar.advance()
    bar.close()
    assert "3/3 letters" in stream.getvalue() and stream.getvalue().endswith("\n")
    quiet = io.StringIO()
    bar = Progress(3, enabled=False, stream=quiet)
    bar.advance()
    bar.close()
    assert quiet.getvalue() == ""


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "startup, batch, seconds_per_letter, total",
    [
        (20.0, 1, 0.1, 300),  # workers take 20 s to start, then a letter every 0.1 s
        (10.0, 16, 0.1, 320),  # a batch of 16 letters at a time, two batches from the start
        (0.5, 1, 0.02, 1000),  # one process, fast letters
        (5.0, 8, 0.5, 200),  # slow letters (large PDFs)
    ],
)
def test_the_progress_estimate_is_never_wild_at_the_start(startup, batch, seconds_per_letter, total):
    """Until a few seconds of letters have been seen the bar says it is estimating; from then on
    the time left it shows is within 25% of the true one (or of one batch's time, near the end),
    however long the workers took to start and however the letters came (one at a time or a batch
    at once). Measured from the start, as it was, the first estimates were 19 to 201 times too long."""
    clock, stream = _Clock(), io.StringIO()
    bar = Progress(total, enabled=True, stream=stream, clock=clock)
    shown = []  # (the time left shown, the true time left)
    for letter in range(total):
        clock.now = startup + (letter // batch + 1) * batch * seconds_per_letter
        if letter < batch:  # the first batches arrive together
            clock.now = startup + batch * seconds_per_letter
        before = stream.getvalue()
        bar.advance()
        drawn = stream.getvalue()[len(before) :]
        if match := re.search(r"(\d+) s left", drawn):
            finished = startup + (total // batch) * batch * seconds_per_letter
            shown.append((float(match.group(1)), finished - clock.now))
        elif drawn:
            assert "estimating" in drawn
    assert "estimating" in stream.getvalue()
    assert shown
    for left, truth in shown:
        assert abs(left - truth) <= max(0.25 * truth, batch * seconds_per_letter, 2.0), (left, truth)


def test_schema_and_columns():
    result = _run("schema")
    schema = json.loads(result.stdout)
    assert schema["title"] == "Determination" and "decisions" in schema["properties"]
    assert json.loads(_run("schema", "--level", "medication").stdout) == COLUMNS["medication"]


def test_show_summarises_and_reports_bad_files(letters):
    result = _run("show", letters)
    assert result.exit_code == 1
    assert "[UPHELD" in result.stdout and "drugs mentioned:" in result.stdout and "[DWC: " in result.stdout
    assert result.stdout.count("[2016 layout]") == 3  # each readable letter names its layout
    assert "broken.pdf" in result.stderr


def test_output_folder_must_exist(letters, tmp_path):
    result = _run("parse", letters, "--format", "csv", "--out", tmp_path / "missing" / "rows.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_nothing_to_parse_is_an_error(tmp_path):
    result = _run("parse", tmp_path)
    assert result.exit_code == 1 and "no .txt or .pdf letters" in result.stderr and result.stdout == ""


def test_output_file_may_not_be_a_letter(tmp_path):
    letter = tmp_path / "a.txt"
    letter.write_text("Case Number: CM16-0000001\nIMR ISSUES, DECISIONS AND RATIONALES\n", encoding="utf-8")
    before = letter.read_text(encoding="utf-8")
    result = _run("parse", letter, "--out", letter)
    assert result.exit_code == 2 and "is one of the letters to parse" in result.output
    assert letter.read_text(encoding="utf-8") == before  # the letter is untouched


# --- outputs that are whole or absent, stops that keep what was written (issue 13) ----------


def test_a_dangling_link_and_an_unlistable_folder_are_reported(tmp_path, monkeypatch):
    shutil.copy(SAMPLES / "synthetic_letter.txt", tmp_path / "good.txt")
    (tmp_path / "gone.pdf").symlink_to(tmp_path / "nowhere.pdf")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # chmod would not stop root
    result = _run("parse", tmp_path)
    assert result.exit_code == 1
    assert f"error: {locked}: cannot list folder: Permission denied" in result.stderr
    assert "dangling symbolic link" in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2 and "2 failed" in result.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_a_failed_write_leaves_the_target_as_it_was(tmp_path, monkeypatch, fmt):
    from imr_nlp import cli

    out = tmp_path / f"out.{fmt}"
    out.write_text("the previous run's output")

    def full(self, records):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli._Writer, "write", full)
    result = _run("parse", SAMPLES / "synthetic_letter.txt", "--format", fmt, "--out", out)
    assert result.exit_code == 1
    assert f"cannot write {out}: No space left on device (nothing written)" in result.stderr
    assert out.read_text() == "the previous run's output"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_an_output_file_appears_only_when_complete(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    result = _run("parse", SAMPLES, "--format", fmt, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_keeps_a_valid_file_of_what_was_written_and_ends_the_workers(tmp_path, workers):
    import signal
    import subprocess
    import sys
    import time

    import pyarrow.parquet as pq

    folder = tmp_path / "letters"
    folder.mkdir()
    for i in range(3000):
        (folder / f"letter{i:04}.txt").write_text(SAMPLES.joinpath("synthetic_letter.txt").read_text())
    out = tmp_path / "out.parquet"
    args = [sys.executable, "-m", "imr_nlp.cli", "parse", str(folder), "--format", "parquet", "--out", str(out)]
    process = subprocess.Popen([*args, "--workers", str(workers), "--progress"], stderr=subprocess.PIPE, text=True)
    seen = ""
    while not re.search(r"\] (\d{3,})/3000", seen):  # stop once 100 or more letters are done
        char = process.stderr.read(1)
        assert char, seen
        seen += char
    children = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    stderr = seen + process.communicate(timeout=120)[1]
    assert process.returncode == 143, stderr
    assert "terminated after" in stderr
    table = pq.read_table(out)  # a valid file
    parsed = int(stderr.split("terminated after ")[1].split()[0])
    assert 0 < parsed < 3000 and table.num_rows == 2 * parsed
    assert not list(tmp_path.glob(".out.parquet.*"))
    deadline = time.monotonic() + 30
    while [pid for pid in children if Path(f"/proc/{pid}").exists()] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_file_name_with_undecodable_bytes_is_written_escaped(tmp_path, fmt):
    name = os.fsdecode(b"letter-\xff.txt")  # a lone surrogate in the str
    shutil.copy(SAMPLES / "synthetic_letter.txt", tmp_path / name)
    out = tmp_path / f"out.{fmt}"
    result = _run("parse", tmp_path / name, "--format", fmt, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "letter-\\udcff.txt" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_out_through_a_link_writes_its_target_and_keeps_the_link(tmp_path, fmt):
    target = tmp_path / "real" / f"out.{fmt}"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / f"link.{fmt}"
    link.symlink_to(target)
    result = _run("parse", SAMPLES, "--format", fmt, "--out", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target
    assert target.read_bytes() != b"old" and target.stat().st_size > 100
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary file left


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_out_to_a_fifo_is_written_through_to_its_reader(tmp_path, fmt):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = _run("parse", SAMPLES, "--format", fmt, "--out", fifo)
    reader.join(timeout=60)
    assert result.exit_code == 0, result.stderr
    assert received and len(received[0]) > 100
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_out_to_a_device_is_written_through_not_replaced():
    before = os.stat("/dev/null")
    result = _run("parse", SAMPLES, "--out", "/dev/null")
    assert result.exit_code == 0, result.stderr
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_long_out_name_is_not_refused_for_its_temporary_name(tmp_path):
    out = tmp_path / ("x" * 240 + ".jsonl")  # 246 bytes: valid, but too long with a temp prefix and suffix
    result = _run("parse", SAMPLES, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 100


@pytest.mark.parametrize(
    "cell, written",
    [
        ('=HYPERLINK("http://example.com")', '\'=HYPERLINK("http://example.com")'),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("+1 cream", "'+1 cream"),
        ("-2 tablets", "'-2 tablets"),
        ("\tTENS unit", "'\tTENS unit"),
        ("Norco 10/325mg", "Norco 10/325mg"),
        (7, 7),
    ],
)
def test_spreadsheet_safe_neutralises_formula_starts(cell, written):
    from imr_nlp.rows import spreadsheet_safe

    assert spreadsheet_safe({"item": cell}) == {"item": written}


@pytest.mark.parametrize("raw", [False, True])
def test_csv_cells_never_run_as_formulas_unless_asked(tmp_path, raw):
    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    letter = tmp_path / "letter.txt"
    letter.write_text(
        text.replace("Norco 10/325mg #90 with one refill", '=HYPERLINK("http://x") #90'), encoding="utf-8"
    )
    out = tmp_path / "out.csv"
    result = _run("parse", letter, "--format", "csv", "--out", out, *(["--csv-formulas"] if raw else []))
    assert result.exit_code == 0, result.stderr
    items = [row["item"] for row in csv.DictReader(out.open(encoding="utf-8"))]
    assert items[0].startswith("=HYPERLINK" if raw else "'=HYPERLINK"), items


def _letter_text() -> str:
    return (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")


def test_a_scan_never_follows_links_out_of_its_folder_and_says_so(tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "x.txt").write_text("SECRET " + _letter_text(), encoding="utf-8")
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "a.txt").write_text(_letter_text(), encoding="utf-8")
    (folder / "letter.txt").symlink_to(secret / "x.txt")
    (folder / "more").symlink_to(secret, target_is_directory=True)
    problems: list = []
    skipped: list = []
    assert [p.name for p in expand([str(folder)], problems, skipped)] == ["a.txt"]
    reasons = {p.name: r for p, r in skipped}
    assert "out of the folder" in reasons["letter.txt"] and "not followed" in reasons["more"]
    out = tmp_path / "report.html"
    result = _run("report", folder, "--out", out, "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert "SECRET" not in out.read_text(encoding="utf-8") and "out of the folder" in result.stderr


def test_every_letter_once_through_links_and_link_loops(tmp_path):
    folder = tmp_path / "letters"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text(_letter_text(), encoding="utf-8")
    (folder / "sub" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "b.txt").symlink_to(folder / "sub" / "a.txt")  # the same letter under a second name
    skipped: list = []
    by_glob = expand([str(folder / "**" / "*.txt")], [], skipped)
    assert len(by_glob) == 1
    by_scan = expand([str(folder), str(folder / "sub")], [], skipped)
    assert len(by_scan) == 1 and any("the same file as" in r for _, r in skipped)


def _write_by_cli(*args):
    def write(letter: Path, out: Path) -> None:
        assert CliRunner().invoke(main, [args[0], str(letter), "--out", str(out), *args[1:]]).exit_code == 0

    return write


def _to_parquet(letter: Path, out: Path) -> None:
    imr_nlp.to_parquet([imr_nlp.parse_file(letter)], out)


def _report(letter: Path, out: Path) -> None:
    imr_nlp.report([letter], out=out, n_process=1)


OUTPUT_WRITERS = {
    "parse jsonl": ("jsonl", _write_by_cli("parse")),
    "parse csv": ("csv", _write_by_cli("parse", "--format", "csv")),
    "parse parquet": ("parquet", _write_by_cli("parse", "--format", "parquet")),
    "report": ("html", _write_by_cli("report", "--no-progress")),
    "imr_nlp.to_parquet": ("parquet", _to_parquet),
    "imr_nlp.report": ("html", _report),
}


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
@pytest.mark.parametrize("writer", sorted(OUTPUT_WRITERS))
def test_outputs_get_the_permissions_of_a_new_file_or_of_the_file_they_replace(writer, umask, mode, tmp_path):
    """Every output written whole through a temporary file (mkstemp makes it 0600) gets the mode
    a new file gets under the umask, as ``open`` would give it; an existing output keeps its own."""
    import stat

    suffix, write = OUTPUT_WRITERS[writer]
    out = tmp_path / f"out.{suffix}"
    previous = os.umask(umask)
    try:
        write(SAMPLES / "synthetic_letter.txt", out)
        assert stat.S_IMODE(out.stat().st_mode) == mode
        out.chmod(0o604)
        write(SAMPLES / "synthetic_letter.txt", out)
        assert stat.S_IMODE(out.stat().st_mode) == 0o604
    finally:
        os.umask(previous)


def test_show_on_a_folder_without_letters_exits_1_as_parse_does(tmp_path):
    for command in ("show", "parse"):
        result = CliRunner().invoke(main, [command, str(tmp_path)])
        assert result.exit_code == 1 and "no .txt or .pdf letters" in result.stderr


ESCAPES = "\x1b]0;owned\x07\x1b[2J\u202e"


def test_file_names_reach_the_terminal_escaped(tmp_path):
    """A folder's file names are not ours: escape sequences and bidirectional overrides in them
    are shown escaped on stderr (skipped files, errors) and in show's view."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"bad{ESCAPES}.txt").write_bytes(b"")  # an empty letter: an error naming it
    (folder / f"not-a-letter{ESCAPES}.docx").write_bytes(b"x")  # skipped, named
    (folder / f"good{ESCAPES}.txt").write_text((SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8"))
    for command in (["parse", str(folder), "--out", str(tmp_path / "o.jsonl")], ["show", str(folder)]):
        result = CliRunner().invoke(main, command)
        everything = result.stdout + result.stderr
        assert "\x1b" not in everything and "\u202e" not in everything and "\x07" not in everything
        assert "\\x1b]0;owned\\x07\\x1b[2J\\u202e" in result.stderr


def test_show_prints_each_decisions_reasons_under_it():
    result = _run("show", SAMPLES / "synthetic_letter.txt")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    norco = lines.index("   [UPHELD    ] Norco 10/325mg #90 with one refill")
    therapy = lines.index("   [OVERTURNED] Physical therapy 2 times a week for 4 weeks for the lumbar spine")
    reason_lines = [(i, line) for i, line in enumerate(lines) if line.startswith("      reason: ")]
    no_improvement = "There is no documentation of functional improvement with opioids."
    within = "The request for eight sessions is within the guidelines and is medically necessary."  # line break gone
    # each under its own decision, after the request and the two guideline lines
    assert reason_lines == [
        (norco + 4, f'      reason: against functional_improvement  "{no_improvement}"'),
        (therapy + 4, f'      reason: for quantity_duration  "{within}"'),
    ]


def test_show_cuts_a_long_reason_and_escapes_what_it_quotes(tmp_path):
    """A reason's evidence is the letter's text: shortened at a word, escapes shown escaped (a
    sentence on one line: one written across lines reads as the cleaned text, which has none)."""
    letter = tmp_path / "letter.txt"
    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    long_sentence = (
        "There is no documentation of functional improvement with opioids in the records of the\x1b[2J\u202e "
        "treating physician from the visits of 2015, 2016 and the first months of 2017, as far as they were provided."
    )
    letter.write_text(text.replace("There is no documentation of functional improvement with opioids.", long_sentence))
    result = _run("show", letter)
    assert result.exit_code == 0 and "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert (
        '      reason: against functional_improvement  "There is no documentation of functional improvement with '
        'opioids in the records of the\\x1b[2J\\u202e..."'
    ) in result.stdout.splitlines()


def test_reason_line_keeps_at_most_its_width_of_the_evidence():
    def line(text: str) -> str:
        return reason_line(Reason(code="risk", direction="for", text=text, start=0, end=len(text)))

    assert line("  a\n\t risk  of\r\ndependence ") == '      reason: for risk  "a risk of dependence"'
    words = line("word " * 40)
    evidence = words.split('"')[1]
    assert len(evidence) <= REASON_EVIDENCE_WIDTH and evidence.endswith("word...")
    assert line("x" * 150).endswith('"' + "x" * (REASON_EVIDENCE_WIDTH - 3) + '..."')


def test_a_hard_link_is_the_same_letter_read_once_and_never_an_output(tmp_path):
    folder = tmp_path / "scan"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(_letter_text(), encoding="utf-8")
    os.link(folder / "a.txt", folder / "sub" / "b.txt")
    skipped: list = []
    assert len(expand([str(folder)], [], skipped)) == 1
    assert any("the same file as" in reason for _, reason in skipped)
    result = _run("parse", folder / "a.txt", "--out", folder / "sub" / "b.txt")
    assert result.exit_code == 2 and "one of the letters" in result.output
    with pytest.raises(ValueError, match="one of the letters"):
        imr_nlp.report([folder / "a.txt"], out=folder / "sub" / "b.txt")
    assert (folder / "a.txt").read_text(encoding="utf-8") == _letter_text()


def test_a_recursive_glob_does_not_follow_a_link_to_a_folder_out_of_it(tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(_letter_text(), encoding="utf-8")
    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "a.txt").write_text(_letter_text(), encoding="utf-8")
    (scan / "linkdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    skipped: list = []
    found = expand([str(scan / "**")], [], skipped)
    assert found == [scan / "a.txt"]
    assert any(path.name == "secret.txt" and "a link to a folder" in reason for path, reason in skipped)
    assert not any("the same file as" in reason for _, reason in skipped)


def test_to_parquet_writes_through_a_fifo_instead_of_replacing_it(tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    imr_nlp.to_parquet([imr_nlp.parse(_letter_text())], fifo)
    reader.join(timeout=60)
    assert received and received[0][:4] == b"PAR1"
    assert fifo.is_fifo() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_jsonl_escapes_unsafe_characters_losslessly(tmp_path):
    """JSON lines carry escape sequences, C1 controls and bidirectional overrides (here in a
    file's name, which the record keeps as its source) as \\u escapes: the same values when read
    back, nothing raw for a terminal."""
    name = "a\x9b31m\u202e\x1b[2J.txt"
    letter = tmp_path / name
    letter.write_text(_letter_text(), encoding="utf-8")
    result = _run("parse", letter)
    assert result.exit_code == 0, result.stderr
    assert not any(char in result.stdout for char in "\x9b\u202e\x1b")
    assert "a\\u009b31m\\u202e\\u001b[2J.txt" in result.stdout
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["source"].endswith(name)


def test_names_in_usage_errors_are_escaped(tmp_path):
    result = _run("parse", SAMPLES / "synthetic_letter.txt", "--out", tmp_path / "no\x1b]0;x\x07dir" / "o.jsonl")
    assert result.exit_code == 2 and "\x1b" not in result.output and "\\x1b]0;x\\x07" in result.output


@pytest.mark.parametrize("pattern", ["*", "**"])
def test_a_glob_does_not_read_a_link_to_a_file_out_of_its_folder(tmp_path, pattern):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(_letter_text(), encoding="utf-8")
    scan = tmp_path / "scan"
    scan.mkdir()
    (scan / "a.txt").write_text(_letter_text(), encoding="utf-8")
    (scan / "evil.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    os.mkfifo(scan / "fifo.txt")
    skipped: list = []
    assert expand([str(scan / pattern)], [], skipped) == [scan / "a.txt"]
    reasons = dict(skipped)
    assert "a link out of the folder" in reasons[scan / "evil.txt"]
    assert "not a regular file" in reasons[scan / "fifo.txt"]


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(tmp_path, monkeypatch):
    """Between the scan and the reading (the pipeline loads in between), a file of the folder is
    replaced by a link to a file outside: it is refused, not read."""
    (tmp_path / "outside").mkdir()
    secret = tmp_path / "outside" / "secret.txt"
    secret.write_text(_letter_text().replace("CM99-0000001", "CM99-7777777"), encoding="utf-8")
    scan = tmp_path / "scan"
    scan.mkdir()
    for name in ("a.txt", "b.txt"):
        (scan / name).write_text(_letter_text(), encoding="utf-8")
    import imr_nlp.api

    real_warm_up = imr_nlp.api.warm_up

    def swap_then_warm_up(*args, **kwargs):
        (scan / "b.txt").unlink()
        (scan / "b.txt").symlink_to(secret)
        return real_warm_up(*args, **kwargs)

    monkeypatch.setattr(imr_nlp.api, "warm_up", swap_then_warm_up)
    result = _run("parse", scan, "--out", tmp_path / "o.jsonl")
    assert result.exit_code == 1 and "no longer the file the scan found" in result.stderr
    assert "CM99-7777777" not in (tmp_path / "o.jsonl").read_text(encoding="utf-8")


def _synthetic_bytes() -> bytes:
    return (SAMPLES / "synthetic_letter.txt").read_bytes()


@pytest.mark.parametrize(
    "stdin, args, exit_code, cases, said",
    [
        (_synthetic_bytes(), ["-"], 0, ["CM99-0000001"], None),
        ((SAMPLES / "CM16-0232543.pdf").read_bytes(), ["-"], 0, ["CM16-0232543"], None),  # a PDF, by its content
        (_synthetic_bytes().decode("utf-8").encode("cp1252"), ["-"], 0, ["CM99-0000001"], None),
        (_synthetic_bytes(), ["-", SAMPLES / "CM16-0232543.pdf"], 0, ["CM99-0000001", "CM16-0232543"], None),
        (_synthetic_bytes(), [SAMPLES / "CM16-0232543.pdf", "-"], 0, ["CM16-0232543", "CM99-0000001"], None),
        (b"%PDF-1.4 truncated", ["-"], 1, [None], "error: <stdin>: "),
        (_synthetic_bytes(), ["-", "-"], 2, [], "can be named once"),
    ],
    ids=["text", "pdf", "cp1252 text", "first of two", "second of two", "a broken PDF", "named twice"],
)
def test_parse_dash_reads_one_letter_from_standard_input(stdin, args, exit_code, cases, said):
    """``-`` is the letter on standard input, read as a file would be (a PDF by its content, text
    by its encoding), named ``<stdin>`` in its record and its messages, in its place among the
    others."""
    result = CliRunner().invoke(main, ["parse", *map(str, args)], input=stdin)
    assert result.exit_code == exit_code, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["case_number"] for r in records] == cases
    from_stdin = [r for r in records if r["source"] == "<stdin>"]
    assert len(from_stdin) == (1 if cases else 0)
    if said:
        assert said in result.stderr
    assert "imr-nlp-stdin-" not in result.output  # the file that held it is never named


def test_show_dash_shows_the_letter_on_standard_input():
    result = CliRunner().invoke(main, ["show", "-"], input=_synthetic_bytes())
    assert result.exit_code == 0 and "== <stdin>" in result.stdout and "CM99-0000001" in result.stdout


def _level_lists() -> list[tuple[str, str]]:
    """Every ``--level a|b|...`` usage line of the docs, the README and the CLI's docstring."""
    import imr_nlp.cli

    root = Path(__file__).resolve().parent.parent
    sources = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in (root / "docs").glob("*.md")}
    sources["README.md"] = (root / "README.md").read_text(encoding="utf-8")
    sources["imr_nlp/cli.py docstring"] = imr_nlp.cli.__doc__
    return [(name, found) for name, text in sources.items() for found in re.findall(r"--level ([a-z|]+\|[a-z]+)", text)]


@pytest.mark.parametrize("source, listed", _level_lists())
def test_every_level_list_of_the_docs_is_the_codes(source, listed):
    assert listed.split("|") == list(LEVELS), source


@pytest.mark.parametrize("command", ["parse", "schema"])
def test_the_level_option_offers_and_names_every_level(command):
    option = next(p for p in main.commands[command].params if p.name == "level")
    assert list(option.type.choices) == list(LEVELS)
    if command == "parse":
        assert all(level in option.help for level in LEVELS)


def test_a_missing_letter_is_said_before_the_pipeline_loads(tmp_path, monkeypatch):
    """A mistyped path is said at once: with nothing else to parse the pipeline is never
    loaded; beside a letter that is there, it is said before the loading, and only once."""
    import imr_nlp.api

    loads = []
    monkeypatch.setattr(imr_nlp.api, "warm_up", lambda: loads.append(1))
    missing = tmp_path / "typo.pdf"
    result = CliRunner().invoke(main, ["parse", str(missing)])
    assert result.exit_code == 1
    assert f"error: {missing}: no such file" in result.stderr
    assert loads == []
    letter = Path(imr_nlp.__file__).parent / "samples" / "synthetic_letter.txt"
    result = CliRunner().invoke(main, ["parse", str(missing), str(letter)])
    assert result.exit_code == 1 and loads == [1]
    assert result.stderr.count(f"{missing}: no such file") == 1
    assert result.stderr.index("no such file") < result.stderr.index("letters,")
