"""The ``imr-nlp`` command line.

    imr-nlp parse PATH... [--format jsonl|csv|parquet] [--out FILE]
                          [--level letter|decision|medication|citation|diagnosis|reason] [--workers N]
    imr-nlp show PATH...      a readable summary of each letter
    imr-nlp report PATH... --out report.html   one self-contained HTML report of the letters
    imr-nlp schema [--level]  the JSON Schema of a record, or a table level's columns

PATHs are files, folders (their .txt and .pdf files, recursively) and glob patterns; ``-`` is one
letter (text or PDF) read from standard input. A file that cannot be read is reported on stderr
with its path, still gives its error record or row, and makes the exit code 1; the other letters
are written all the same.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import glob
import itertools
import json
import os
import re
import signal
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

import click

from imr_nlp.io import (
    MAX_FILE_BYTES,
    commit_output,
    expect_files,
    file_key,
    is_special_file,
    letter_identity,
    looks_like_pdf,
    missing_reason,
    remove_quietly,
    temporary_for,
    unsupported_type,
    write_whole,
)
from imr_nlp.models import Decision, Reason
from imr_nlp.rows import LEVELS

LETTER_SUFFIXES = {".txt", ".pdf"}
MAX_SKIPPED_SHOWN = 20  # a folder's files that are not letters, listed by name (then counted)
FORMATS = ("jsonl", "csv", "parquet")
REASON_EVIDENCE_WIDTH = 100  # characters of a reason's evidence that ``show`` prints


def expand(
    paths: Iterable[str],
    problems: list[tuple[Path, str]] | None = None,
    skipped: list[tuple[Path, str]] | None = None,
) -> list[Path]:
    """The letter files named by ``paths``: files as given, folders' .txt/.pdf files (sorted,
    recursively), glob patterns' matches. A name that matches nothing is kept, so it is reported
    as missing rather than silently skipped; so is a dangling link with a letter's suffix. A
    subfolder that cannot be listed is added to ``problems`` with the reason; a folder's other
    files are added to ``skipped`` with the reason (a file named on its own is read, or refused
    as a failed letter)."""
    out: list[Path] = []
    problems = problems if problems is not None else []
    skipped = skipped if skipped is not None else []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(_letters_in(path, problems, skipped))
        elif path.exists() or path.is_symlink() or not glob.has_magic(raw):
            out.append(path)
        else:
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                out.append(path)
            base = _fixed_part(raw)
            for match in map(Path, matches):
                if link := _folder_link_between(base, match):
                    skipped.append((match, f"reached through {link}, a link to a folder: not followed"))
                elif match.is_dir() and match.is_symlink():
                    skipped.append((match, "a link to a folder: not followed (name the folder to read it)"))
                elif match.is_dir():
                    out.extend(_letters_in(match, problems, skipped))
                elif reason := _why_not_a_letter(match, os.path.realpath(base)):
                    skipped.append((match, reason))
                else:
                    out.append(match)
    return _each_file_once(out, skipped)


def _fixed_part(pattern: str) -> Path:
    """The folder a glob pattern starts from: its leading parts without wildcards."""
    parts = Path(pattern).parts
    fixed = list(itertools.takewhile(lambda part: not glob.has_magic(part), parts))
    return Path(*fixed) if fixed else Path(".")


def _folder_link_between(base: Path, match: Path) -> Path | None:
    """The first link to a folder on the way from ``base`` down to ``match`` (a ``**`` glob
    follows them; a scan does not), or None."""
    try:
        steps = match.relative_to(base).parts[:-1]
    except ValueError:
        return None
    here = base
    for step in steps:
        here = here / step
        if here.is_symlink():
            return here
    return None


def _each_file_once(paths: list[Path], skipped: list[tuple[Path, str]]) -> list[Path]:
    """``paths`` with every file once: a later name of the same file (a symbolic or hard link, a
    folder named twice) is skipped, saying which name was kept."""
    kept: dict[tuple[int, int] | str, Path] = {}
    out = []
    for path in paths:
        key = file_key(path)
        if key in kept:
            if kept[key] != path:  # the same name met twice (a folder and a glob in it) is no news
                skipped.append((path, f"the same file as {kept[key]}"))
            continue
        kept[key] = path
        out.append(path)
    return out


def _letters_in(folder: Path, problems: list[tuple[Path, str]], skipped: list[tuple[Path, str]]) -> list[Path]:
    """The .txt/.pdf files under ``folder`` (dangling links included, to be reported as such);
    folders that cannot be listed go to ``problems``, other files to ``skipped``. A scan never
    leaves its folder: a link to a folder is not followed, a link to a file outside the folder is
    not read (both are reported in ``skipped``); name such a file on its own to read it."""
    found = []
    inside = os.path.realpath(folder)

    def unlistable(error: OSError) -> None:
        problems.append((Path(error.filename or folder), f"cannot list folder: {error.strerror or error}"))

    for root, folders, names in os.walk(folder, onerror=unlistable):
        for name in folders:
            if os.path.islink(os.path.join(root, name)):
                skipped.append((Path(root, name), "a link to a folder: not followed (name the folder to read it)"))
        for name in names:
            path = Path(root, name)
            if reason := _why_not_a_letter(path, inside):
                skipped.append((path, reason))
            else:
                found.append(path)
    return sorted(found)


def _why_not_a_letter(path: Path, inside: str) -> str | None:
    """Why a file met by a scan or a glob under the folder ``inside`` (a real path) is not read
    as a letter, or None: a link out of the folder, a FIFO or device, another type."""
    if path.is_symlink() and path.exists() and os.path.commonpath([inside, os.path.realpath(path)]) != inside:
        return "a link out of the folder: not followed (name the file to read it)"
    if path.suffix.lower() not in LETTER_SUFFIXES:
        return unsupported_type(path) if path.suffix else "no .pdf or .txt suffix"
    if path.exists() and not path.is_file():
        return "not a regular file (a FIFO, device or socket is not read)"
    return None


STDIN = "-"  # the PATH that stands for standard input
STDIN_NAME = "<stdin>"  # the letter's name in records, rows and messages


@contextlib.contextmanager
def stdin_letter(paths: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Path | None]]:
    """``paths`` with ``-`` standing for a file that holds what standard input gave (read once, up
    to the read budget: more is refused as a file over it would be), and that file, removed
    afterwards; ``paths`` as they are without ``-``. A file that is read like any other: a PDF
    by its content, text by its encoding, each letter's error its own."""
    if STDIN not in paths:
        yield paths, None
        return
    if paths.count(STDIN) > 1:
        raise click.UsageError("- (standard input) can be named once")
    if sys.stdin.isatty():
        _say("reading one letter from standard input (end it with Ctrl-D) ...")
    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    with tempfile.TemporaryDirectory(prefix="imr-nlp-stdin-") as folder:
        file = Path(folder) / ("stdin.pdf" if looks_like_pdf(data) else "stdin.txt")
        file.write_bytes(data)
        yield tuple(str(file) if path == STDIN else path for path in paths), file


def named_as_given(determination, stdin_file: Path | None):
    """A Determination of the letter read from standard input named ``<stdin>`` (its source, its
    error and warnings), not by the file that held it; any other as it is."""
    if stdin_file is not None and determination.source == letter_identity(stdin_file):
        held = str(stdin_file)
        determination.source = STDIN_NAME
        if determination.error:
            determination.error = determination.error.replace(held, STDIN_NAME)
        determination.warnings = [w.replace(held, STDIN_NAME) for w in determination.warnings]
    return determination


def _letter_files(paths: Iterable[str], problems: list[tuple[Path, str]]) -> list[Path]:
    """``expand(paths)``, saying on stderr which files of the folders were skipped and why (the
    first MAX_SKIPPED_SHOWN by name, then a count); folders that cannot be listed go to
    ``problems``."""
    skipped: list[tuple[Path, str]] = []
    files = expand(paths, problems, skipped)
    named = {Path(path) for path in paths}
    expect_files({str(f): key for f in files if f not in named and isinstance(key := file_key(f), tuple)})
    skipped = sorted(set(skipped))  # a glob and the folder it lies in may meet one file twice
    for path, reason in skipped[:MAX_SKIPPED_SHOWN]:
        _say(f"skipped: {path}: {reason}")
    if len(skipped) > MAX_SKIPPED_SHOWN:
        _say(f"skipped: {len(skipped) - MAX_SKIPPED_SHOWN} more files that are not letters")
    return files


# Control, format (bidirectional overrides), surrogate (undecodable bytes of a name), private,
# unassigned and line/paragraph separator characters: escaped before they reach a terminal.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def terminal_safe(text: str) -> str:
    """``text`` with every unsafe character escaped (``\\x1b``, ``\\u202e``, ``\\udcff``): a file
    named with terminal escape sequences or bidirectional overrides shows as its name, never as
    commands to the terminal."""
    return "".join(_escaped(char) if unicodedata.category(char) in _UNSAFE_CATEGORIES else char for char in text)


@functools.lru_cache(maxsize=1)
def _unsafe_pattern() -> re.Pattern:
    """Every unsafe character of the Basic Multilingual Plane, and the planes above's format
    characters (tags, language marks), as one character class."""
    chars = (chr(code) for code in range(0x80, 0x10000))
    unsafe = "".join(re.escape(char) for char in chars if unicodedata.category(char) in _UNSAFE_CATEGORIES)
    return re.compile(f"[{unsafe}\U000e0000-\U000e007f]")


def json_terminal_safe(line: str) -> str:
    """A JSON text with every unsafe character inside its strings written as a ``\\uXXXX``
    escape: the same JSON value (nothing lost), but no escape sequence or bidirectional override
    reaches a terminal or a log viewer raw."""
    return _unsafe_pattern().sub(lambda match: json.dumps(match.group())[1:-1], line)


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _line(text: str) -> None:
    """One line of a terminal view on stdout, made terminal-safe."""
    click.echo(terminal_safe(text))


def _say(message: str) -> None:
    """One message on stderr, made terminal-safe (file names from folder scans are not ours);
    leading line breaks (after a progress bar) are kept."""
    text = message.lstrip("\n")
    click.echo(message[: len(message) - len(text)] + terminal_safe(text), err=True)


def _letters_or_exit(paths: Iterable[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """``_letter_files(paths)`` with the folders that could not be listed said on stderr; no
    letter at all is exit 1 (report, show)."""
    problems: list[tuple[Path, str]] = []
    files = _letter_files(paths, problems)
    for folder, reason in problems:
        _say(f"error: {folder}: {reason}")
    if not files:
        _say(f"error: no .txt or .pdf letters in {', '.join(paths)}")
        sys.exit(1)
    return files, problems


class Progress:
    """A one-line progress bar on stderr (letters done, rate, time left); silent when off.

    The rate, and the time left from it, are measured from the first letters done, not from the
    start (which holds starting the worker processes), up to the last letters before this
    moment's: workers hand their letters back a batch at a time, and a batch half counted would
    halve the rate. Until ``ESTIMATE_AFTER`` seconds of letters have been seen the bar says
    "estimating" instead of a guess that could be off by a factor of ten."""

    ESTIMATE_AFTER = 3.0  # seconds of letters before a rate is shown

    def __init__(
        self, total: int, enabled: bool, stream: TextIO | None = None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.clock = clock
        self.done = 0
        self.started = self.last = clock()
        # (when, letters done by then) of the first letters, of the letters before this moment's, of the latest
        self.first: tuple[float, int] | None = None
        self.settled: tuple[float, int] | None = None
        self.latest: tuple[float, int] | None = None

    def advance(self) -> None:
        self.done += 1
        now = self.clock()
        if self.latest is not None and now > self.latest[0]:
            self.settled = self.latest  # the letters of an earlier moment are all in
            if self.first is None:
                self.first = self.latest
        self.latest = (now, self.done)
        if self.enabled and (now - self.last >= 0.1 or self.done == self.total):
            self.last = now
            self._draw(now)

    def rate(self) -> float | None:
        """Letters a second from the first letters to the last complete moment, or None while
        fewer than ``ESTIMATE_AFTER`` seconds lie between them."""
        if self.first is None or self.settled is None:
            return None
        seconds = self.settled[0] - self.first[0]
        if seconds < self.ESTIMATE_AFTER or self.settled[1] <= self.first[1]:
            return None
        return (self.settled[1] - self.first[1]) / seconds

    def _draw(self, now: float) -> None:
        filled = int(30 * self.done / self.total) if self.total else 30
        bar = "#" * filled + "-" * (30 - filled)
        rate = self.rate()
        if self.done == self.total:
            pace = f"{self.done / max(now - self.started, 1e-9):5.1f}/s     0 s left"
        elif rate is None:
            pace = "estimating the time left"
        else:
            pace = f"{rate:5.1f}/s  {(self.total - self.done) / rate:4.0f} s left"
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} letters  {pace:<24} ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _json_default(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _records(determination, level: str, fmt: str) -> list[dict]:
    """A letter's records: its whole Determination for jsonl at the letter level, else its rows."""
    from imr_nlp.rows import rows

    if fmt == "jsonl" and level == "letter":
        return [determination.model_dump(mode="json")]
    return rows(determination, level)


def _refuse_out_among_letters(out: str, files: list[Path], verb: str) -> None:
    """A usage error when ``--out`` is one of the letters: writing it would destroy the letter
    (before it is read, or in place of it)."""
    if os.path.exists(out) and any(file_key(out) == file_key(f) for f in files):
        raise click.BadParameter(f"{terminal_safe(str(out))} is one of the letters to {verb}", param_hint="--out")


class _Writer:
    """Writes records as JSON lines, CSV or Parquet, to stdout or to a file that appears only
    when it is complete: records go to a temporary file beside ``out``, renamed to it by
    :meth:`commit` (a stopped run commits what was written: every format is then valid), and
    removed by :meth:`discard` (a failed write leaves ``out`` as it was). A link named ``out``
    stays a link: its target is written so. A FIFO or a device is written through, never
    replaced (a FIFO's reader gets the records; ``/dev/stdout`` stays a device)."""

    def __init__(self, fmt: str, level: str, out: str | None, csv_formulas: bool = False) -> None:
        from imr_nlp.rows import COLUMNS

        self.fmt, self.out, self.count, self.temp = fmt, out, 0, None
        self.csv_formulas = csv_formulas  # CSV cells as they are, formula starts included
        self.on_terminal = not out and sys.stdout.isatty()
        self.target = os.path.realpath(out) if out else None  # a link's target, renamed onto
        # a FIFO or device: text streams straight to it; Parquet (which seeks) is copied to it
        # from a temporary file at commit
        self.special = self.target is not None and is_special_file(self.target)
        if out and (not self.special or fmt == "parquet"):
            self.temp = temporary_for(self.target)
        path = self.temp or self.target
        if fmt == "parquet":
            from imr_nlp.frames import ParquetSink

            self.sink = ParquetSink(path, level)
            return
        # a file name with undecodable bytes comes back as lone surrogates: written escaped
        if out:
            self.stream = open(path, "w", encoding="utf-8", errors="backslashreplace", newline="")
        else:
            self.stream = sys.stdout
            if hasattr(self.stream, "reconfigure"):
                self.stream.reconfigure(errors="backslashreplace")
        if fmt == "csv":
            self.csv = csv.DictWriter(self.stream, fieldnames=list(COLUMNS[level]))
            self.csv.writeheader()

    def write(self, records: list[dict]) -> None:
        if self.fmt == "parquet":
            self.sink.write(records)
        elif self.fmt == "csv":
            from imr_nlp.rows import flat_row, spreadsheet_safe

            flat = map(flat_row, records)
            if self.on_terminal:  # a view, not data: names and texts shown terminal-safe
                flat = ({k: terminal_safe(v) if isinstance(v, str) else v for k, v in row.items()} for row in flat)
            self.csv.writerows(flat if self.csv_formulas else map(spreadsheet_safe, flat))
        else:
            for record in records:
                line = json.dumps(record, ensure_ascii=False, default=_json_default)
                self.stream.write(json_terminal_safe(line) + "\n")
        self.count += len(records)

    def _close(self) -> None:
        if self.fmt == "parquet":
            self.sink.close()
        elif self.stream is not sys.stdout:
            self.stream.close()
        else:
            self.stream.flush()

    def commit(self) -> None:
        """Close the output; a file is then renamed into place (OSError if that fails)."""
        try:
            self._close()
            if self.temp:
                commit_output(self.temp, self.target)
                self.temp = None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary file, if any (``out`` is left untouched)."""
        if self.temp:
            try:
                if self.fmt != "parquet" and not self.stream.closed:
                    self.stream.close()
            except OSError:
                pass
            remove_quietly(self.temp)
            self.temp = None


class _Stopped(BaseException):
    """SIGTERM received: stop parsing, keep what was written (a BaseException, like
    KeyboardInterrupt, so no handler of a failing letter mistakes it for one)."""


def _cannot_write(out: str | None, exc: OSError) -> click.ClickException:
    where = terminal_safe(str(out)) if out else "the output"
    return click.ClickException(f"cannot write {where}: {exc.strerror or exc} (nothing written)")


def _stop_on_sigterm(signum, frame) -> None:
    raise _Stopped()


@click.group()
@click.version_option(package_name="imr-nlp")
def main() -> None:
    """imr-nlp: IMR final determination letters as structured data."""


_ocr_option = click.option(
    "--ocr",
    type=click.Choice(["auto", "never", "always"]),
    default="auto",
    show_default=True,
    help="OCR of PDF pages (the ocr extra: pip install 'imr-nlp[ocr]' and tesseract): auto reads only pages "
    "without a text layer by OCR, always every page, never none (a page without text is then a W023 warning)",
)


def _check_ocr_option(ocr: str) -> None:
    """A usage error, before anything loads, for --ocr always where OCR cannot run."""
    from imr_nlp.io import OcrUnavailableError, check_ocr

    try:
        check_ocr(ocr)
    except OcrUnavailableError as exc:
        raise click.UsageError(str(exc).replace('ocr="always"', "--ocr always")) from exc


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None, help="output file [stdout]")
@click.option(
    "--level",
    type=click.Choice(list(LEVELS)),
    default=None,
    help="a record per letter, decision, medication (drug mention), citation, diagnosis (mention) or reason "
    "(of a decision) [jsonl: letter; csv, parquet: decision]",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="worker processes [one per usable core; 1 for a short run]",
)
@click.option("--progress/--no-progress", default=None, help="progress bar on stderr [on when stderr is a terminal]")
@click.option(
    "--csv-formulas",
    is_flag=True,
    help="write CSV cells as they are; by default a cell starting with = + - @, a tab or a carriage return "
    "gets a leading ' so that a spreadsheet shows it as text instead of running it",
)
@_ocr_option
def parse(
    paths: tuple[str, ...],
    fmt: str,
    out: str | None,
    level: str | None,
    workers: int | None,
    progress: bool | None,
    csv_formulas: bool,
    ocr: str,
) -> None:
    """Parse letters (files, folders of .txt/.pdf, globs; - for one letter on standard input) to
    JSON lines, CSV or Parquet."""
    started = time.perf_counter()
    if fmt == "parquet" and not out:  # before standard input is read
        raise click.UsageError("--format parquet needs --out FILE")
    _check_ocr_option(ocr)
    with stdin_letter(paths) as (paths, stdin_file):
        level, files, problems = _parse_inputs(paths, fmt, out, level)
        talk = sys.stderr.isatty() if progress is None else progress  # quiet on success when piped
        bar, said = _load_pipeline(files, problems, talk)
        try:
            writer = _Writer(fmt, level, out, csv_formulas)
        except OSError as exc:
            raise click.ClickException(f"cannot write {terminal_safe(out)}: {exc.strerror or exc}") from exc
        letters, failed_letters, stopped = _parse_into(
            writer, files, workers, bar, level, fmt, out, stdin_file, ocr, said
        )
    failed = len(problems) + failed_letters
    try:
        writer.commit()
    except OSError as exc:
        bar.close()
        raise _cannot_write(out, exc) from exc
    bar.close()
    if bar.enabled or failed or stopped:
        _say(_parse_summary(started, bar, letters, len(files), writer.count, level, failed, stopped, out))
    if stopped:
        sys.exit(130 if stopped == "interrupted" else 143)
    if failed:
        sys.exit(1)


def _parse_inputs(
    paths: tuple[str, ...], fmt: str, out: str | None, level: str | None
) -> tuple[str, list[Path], list[tuple[Path, str]]]:
    """Check the options, then (record level, letter files, unreadable folders); exit without letters."""
    if fmt == "parquet" and not out:
        raise click.UsageError("--format parquet needs --out FILE")
    level = level or ("letter" if fmt == "jsonl" else "decision")
    if out and not Path(out).resolve().parent.is_dir():
        raise click.BadParameter(f"the folder of {terminal_safe(out)} does not exist", param_hint="--out")
    problems: list[tuple[Path, str]] = []
    files = _letter_files(paths, problems)
    if not files and not problems:
        _say(f"error: no .txt or .pdf letters in {', '.join(paths)}")
        sys.exit(1)
    if out:
        _refuse_out_among_letters(out, files, "parse")
    return level, files, problems


def _load_pipeline(files: list[Path], problems: list[tuple[Path, str]], talk: bool) -> tuple[Progress, set[str]]:
    """Say the letter files that are not there, then load the pipeline (unless no letter is
    there: a mistyped path is said at once, not after the loading) before the progress bar's
    clock starts (its rate is the parsing rate). Also gives the errors said (not said again)."""
    from imr_nlp.api import warm_up

    said = set()
    for path in files:
        if not path.exists():
            said.add(message := f"{path}: {missing_reason(path)}")
            _say(f"error: {message}")
    if len(said) < len(files):
        if talk:
            _say(f"loading the pipeline ({len(files)} letters to parse) ...")
        warm_up()
    for folder, reason in problems:
        _say(f"error: {folder}: {reason}")
    return Progress(len(files), talk), said


def _parse_into(
    writer: _Writer,
    files: list[Path],
    workers: int | None,
    bar: Progress,
    level: str,
    fmt: str,
    out: str | None,
    stdin_file: Path | None = None,
    ocr: str = "auto",
    said: set[str] = frozenset(),
) -> tuple[int, int, str | None]:
    """Parse and write every letter (PDF pages OCR'd by ``ocr``): (letters written, failed,
    "interrupted"/"terminated" or None); errors in ``said`` were said before the loading and are
    not said again."""
    import imr_nlp

    failed, letters, stopped = 0, 0, None
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        for determination in imr_nlp.parse_many(files, n_process=workers, ocr=ocr):
            determination = named_as_given(determination, stdin_file)
            if determination.error:
                failed += 1
                if determination.error not in said:
                    if bar.enabled:
                        sys.stderr.write("\n")
                    _say(f"error: {determination.error}")
            try:
                writer.write(_records(determination, level, fmt))
            except OSError as exc:  # a full disk, a closed pipe: the target is left as it was
                writer.discard()
                bar.close()
                raise _cannot_write(out, exc) from exc
            letters += 1
            bar.advance()
    except (KeyboardInterrupt, _Stopped) as exc:
        stopped = "interrupted" if isinstance(exc, KeyboardInterrupt) else "terminated"
    finally:
        signal.signal(signal.SIGTERM, previous)
    return letters, failed, stopped


def _parse_summary(
    started: float,
    bar: Progress,
    letters: int,
    total: int,
    records: int,
    level: str,
    failed: int,
    stopped: str | None,
    out: str | None,
) -> str:
    """The closing line: letters, records, failures, loading and parsing time (and why it stopped)."""
    parsing = time.perf_counter() - bar.started
    wall = time.perf_counter() - started
    summary = (
        f"{letters} letters, {records} {level} records, {failed} failed in {wall:.1f} s"
        f" ({wall - parsing:.1f} s loading, {parsing:.1f} s parsing: {letters / max(parsing, 1e-9):.1f} letters/s)"
    )
    if stopped:
        summary = f"{stopped} after {letters} of {total} letters: " + summary
    return summary + (f" -> {out}" if out else "")


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="the HTML file to write")
@click.option("--title", default="IMR final determinations", show_default=True, help="the report's title")
@click.option(
    "--evidence-limit",
    type=click.IntRange(min=0),
    default=None,
    help="letters given an evidence view, in order [1000]; every letter is counted in the tables",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="worker processes [one per usable core]")
@click.option("--progress/--no-progress", default=None, help="progress bar on stderr [on when stderr is a terminal]")
@_ocr_option
def report(
    paths: tuple[str, ...],
    out: str,
    title: str,
    evidence_limit: int | None,
    workers: int | None,
    progress: bool | None,
    ocr: str,
) -> None:
    """Write one self-contained HTML report of letters (files, folders, globs): outcomes and
    overturn rates by DWC category, drug class, guideline, reviewer specialty and month, the
    decisions' reasons (why upheld or overturned), each count linked to its letters, and every
    letter's text with what was extracted highlighted."""
    from imr_nlp.html_report import EVIDENCE_LIMIT, build_report, letters_with_texts

    started = time.perf_counter()
    _check_ocr_option(ocr)
    if not Path(out).resolve().parent.is_dir():
        raise click.BadParameter(f"the folder of {terminal_safe(out)} does not exist", param_hint="--out")
    files, problems = _letters_or_exit(paths)
    _refuse_out_among_letters(out, files, "report on")
    talk = sys.stderr.isatty() if progress is None else progress
    from imr_nlp.api import warm_up

    if talk:
        _say(f"loading the pipeline ({len(files)} letters to parse) ...")
    warm_up()
    bar = Progress(len(files), talk)
    failed = 0

    def on_letter(determination) -> None:
        nonlocal failed
        if determination.error:
            failed += 1
            _say(("\n" if bar.enabled else "") + f"error: {determination.error}")
        bar.advance()

    limit = EVIDENCE_LIMIT if evidence_limit is None else evidence_limit
    letters = letters_with_texts(files, n_process=workers, on_letter=on_letter, texts=limit, ocr=ocr)
    page = build_report(letters, title=title, evidence_limit=limit)
    bar.close()
    try:
        write_whole(out, page)
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {terminal_safe(str(out))}: {exc.strerror or exc} (nothing written)"
        ) from exc
    wall = time.perf_counter() - started
    _say(f"{len(files)} letters ({failed} failed) in {wall:.1f} s -> {out} ({len(page) / 1e6:.1f} MB)")
    if failed or problems:
        sys.exit(1)


@main.command()
@click.option(
    "--level",
    type=click.Choice(list(LEVELS)),
    default=None,
    help="print a table level's columns and types instead",
)
def schema(level: str | None) -> None:
    """Print the JSON Schema of a letter's record (Determination), or a table level's columns."""
    from imr_nlp.models import Determination
    from imr_nlp.rows import COLUMNS

    document = COLUMNS[level] if level else Determination.model_json_schema()
    click.echo(json.dumps(document, indent=2))


@main.command()
@click.argument("paths", nargs=-1, required=True)
@_ocr_option
def show(paths: tuple[str, ...], ocr: str) -> None:
    """Print a readable summary of each letter: header, decisions, outcomes, reasons, drugs,
    citations (made terminal-safe: a letter's text is not ours). Exit 1 when a letter failed or
    none was found."""
    import imr_nlp

    _check_ocr_option(ocr)
    with stdin_letter(paths) as (paths, stdin_file):
        files, problems = _letters_or_exit(paths)
        failed = len(problems)
        for det in imr_nlp.parse_many(files, ocr=ocr):
            failed += _show_letter(named_as_given(det, stdin_file))
    if failed:
        sys.exit(1)


def _show_letter(det) -> bool:
    """``show``'s lines for one letter; whether it failed."""
    if det.error:
        _say(f"error: {det.error}")
        return True
    _line(f"== {det.source}  [{det.layout} layout]")
    _line(
        f"   case {det.case_number or '-'}  decided {det.decision_date or '-'}  "
        f"injury {det.injury_date or '-'}  UR {det.ur_date or '-'}  "
        f"patient {det.patient.age or '?'} {det.patient.sex or '?'}"
    )
    if det.ocr_pages:
        _line(f"   pages read by OCR: {', '.join(map(str, det.ocr_pages))}")
    for decision in det.decisions:
        _show_decision(decision)
    drugs = sorted({m.generic for m in det.medications if m.generic and not m.negated})
    if drugs:
        _line(f"   drugs mentioned: {', '.join(drugs)}")
    for w in det.warnings:
        _line(f"   warning: {w}")
    return False


def _show_decision(decision: Decision) -> None:
    """``show``'s lines for one decision: outcome and item, the parsed request, each side's
    guidelines, then its reasons."""
    t = decision.treatment
    what = t.drug.generic if t.drug else t.service
    details = ", ".join(
        f"{k}={v}"
        for k, v in (
            ("strength", " / ".join(f"{x.value:g} {x.unit}" for x in t.strengths) or None),
            ("quantity", t.quantity),
            ("refills", t.refills),
            ("frequency", t.frequency),
            ("sites", "/".join(t.body_sites) or None),
            ("partial", t.partial or None),
        )
        if v is not None
    )
    _line(f"   [{(decision.outcome or '?').upper():10}] {decision.item}")
    dwc = " / ".join(x for x in (t.dwc_category, t.dwc_subcategory) if x)
    _line(
        f"      {t.category}: {what or '-'}" + (f" ({details})" if details else "") + (f"  [DWC: {dwc}]" if dwc else "")
    )
    for side, basis in (("claims admin", decision.claims_administrator), ("reviewer", decision.reviewer_basis)):
        cites = "; ".join(f"{c.source} {', '.join(c.topics)}".strip() for c in basis.citations)
        _line(f"      {side}: mtus_based={basis.mtus_based} {cites}")
    for reason in decision.reasons:
        _line(reason_line(reason))


def reason_line(reason: Reason) -> str:
    """A reason as ``show`` prints it: direction, code and its evidence, white space collapsed
    and cut after a word to at most REASON_EVIDENCE_WIDTH characters ("..." marks the cut)."""
    evidence = " ".join(reason.text.split())
    if len(evidence) > REASON_EVIDENCE_WIDTH:
        kept = evidence[: REASON_EVIDENCE_WIDTH - 3]
        evidence = (kept.rsplit(" ", 1)[0] if " " in kept else kept) + "..."
    return f'      reason: {reason.direction} {reason.code}  "{evidence}"'


@main.command()
@click.argument("gold_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--letters",
    "letters_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="folder of the letters (NAME.txt or NAME.pdf for each GOLD_DIR/NAME.json); default: GOLD_DIR",
)
@click.option("--misses", is_flag=True, help="list every slot that was wrong")
@click.option("--json", "as_json", is_flag=True, help="print spaCy's scores (nlp.evaluate) as JSON instead")
def evaluate(gold_dir: Path, letters_dir: Path | None, misses: bool, as_json: bool) -> None:
    """Score the pipeline against hand-made gold: every GOLD_DIR/NAME.json with its letter.
    Prints tp, fp, fn and F1 per slot group (nlp.evaluate with each component family's scorer)."""
    import imr_nlp
    from imr_nlp import scoring

    _say("loading the pipeline ...")
    nlp = imr_nlp.load()
    scores, tally, letters = scoring.evaluate(nlp, gold_dir, letters_dir or gold_dir)
    if not letters:
        raise click.ClickException(f"no gold file in {gold_dir} has its letter (NAME.txt or NAME.pdf) beside it")
    click.echo(json.dumps(scores, indent=2) if as_json else scoring.table(tally, letters, misses))


if __name__ == "__main__":  # pragma: no cover
    main()
