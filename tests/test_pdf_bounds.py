"""PDFs read within bounds (issue 25, items 1, 2 and 10): every decompression-bomb shape refused
or contained, the bomb check's cost linear in the file (counted in bytes handled, never timed),
a PDF that exhausts pdfium's memory bound ending a child process rather than the run, and page
budgets counted in the characters the parser sees."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from pdf_attacks import encrypted, nested, one_page_pdf, text_pdf, zlib_zeros

import imr_nlp
import imr_nlp.io as io
from imr_nlp.cli import main as cli_main
from imr_nlp.io import pdf_reader

SAMPLES = Path(imr_nlp.__file__).parent / "samples"
GIGABYTE = 1 << 30
SMALL_BUDGET = 2_000_000


def _content_bomb(inflated: int) -> bytes:
    """A page content stream of zeros, under one Flate filter."""
    return zlib_zeros(inflated)


def _inner_ends_early(inflated: int) -> bytes:
    """Under one /FlateDecode: a small zlib stream, then plain zeros. A check that follows only
    the nested stream would miss the zeros, which pdfium inflates."""
    return zlib.compress(zlib.compress(b"q Q") + bytes(inflated), 9)


# (name, PDF bytes for a budget of SMALL_BUDGET): each shape inflates to 8x the budget or more
BOMBS = {
    "one filter": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1),
    "two filters": lambda: one_page_pdf(nested(zlib_zeros(8 * SMALL_BUDGET), 1), 2),
    "three filters": lambda: one_page_pdf(nested(zlib_zeros(8 * SMALL_BUDGET), 2), 3),
    "keyword stream CR": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1, b"stream\r"),
    "keyword stream space LF": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1, b"stream \n"),
    "keyword with no line end": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1, b"stream"),
    "keyword and blank lines": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1, b"stream\r\n\t\n"),
    "keyword and other text on its line": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1, b"stream x\n"),
    "keyword and a comment to CR LF": lambda: one_page_pdf(_content_bomb(8 * SMALL_BUDGET), 1, b"stream%c\r\n"),
    "nested stream ends early": lambda: one_page_pdf(_inner_ends_early(8 * SMALL_BUDGET), 1),
}


@pytest.mark.parametrize("shape", sorted(BOMBS))
def test_every_bomb_shape_is_refused_by_the_inflation_check(shape, monkeypatch, tmp_path):
    monkeypatch.setattr(io, "MAX_PDF_INFLATED_BYTES", SMALL_BUDGET)
    bomb = BOMBS[shape]()
    count = pdf_reader.inflation_count(bomb, SMALL_BUDGET)
    assert pdf_reader.is_bomb(count, len(bomb), SMALL_BUDGET)
    # it stops soon after the budget instead of inflating the whole bomb
    assert count.inflated <= SMALL_BUDGET + 3 * (1 << 20)
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    with pytest.raises(imr_nlp.InputError, match="decompression bomb"):
        imr_nlp.parse_file(path)


def test_the_reported_bomb_a_2_kb_file_of_a_gigabyte_under_two_filters_is_refused(tmp_path):
    bomb = one_page_pdf(nested(zlib_zeros(GIGABYTE), 1), 2)
    assert len(bomb) < 60_000
    count = pdf_reader.inflation_count(bomb)
    assert pdf_reader.is_bomb(count, len(bomb))
    assert count.inflated <= io.MAX_PDF_INFLATED_BYTES + 3 * (1 << 20)


def test_what_each_shape_inflates_to_below_the_budget_is_counted_in_full():
    """The check counts every level: a harmless two-level stream counts both outputs."""
    content = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"
    level_one = zlib.compress(content)
    pdf = one_page_pdf(zlib.compress(level_one), 2, b"stream \n")
    assert pdf_reader.inflation_count(pdf).inflated == len(level_one) + len(content)
    assert io.read_pdf_bytes(pdf).strip() == "Hello"


SLOW_SHAPES = {
    "stream keywords with nothing behind": b"stream\n",
    "zlib headers with garbage behind": b"stream\nx\x01garbage",
}


@pytest.mark.parametrize("shape", sorted(SLOW_SHAPES))
def test_the_check_costs_work_linear_in_the_file(shape):
    """The shapes that made the old check copy 1 MB per keyword: counted work (an upper bound of
    what zlib handled) grows with the file, never with the file times the keywords."""
    works = []
    for repeats in (20_000, 160_000):
        data = b"%PDF-1.4\n" + SLOW_SHAPES[shape] * repeats
        count = pdf_reader.inflation_count(data)
        assert count.attempts == repeats
        assert count.work <= 10 * len(data)
        works.append(count.work)
    assert works[1] <= 8.1 * works[0]


def _dolls() -> bytes:
    """Each stream's data (stored, uncompressed deflate) holds the next stream whole."""
    doll = b"1 MB of payload " * 65_536
    for _ in range(200):
        doll = b"stream\n" + zlib.compress(doll, 0)
    return doll


OVERLAPPING = {
    "streams nested inside stored streams": _dolls,
    "stored blocks that run over the next keywords": lambda: b"stream\nx\x01\x00\xff\xff\x00\x00" * 160_000,
}


@pytest.mark.parametrize("shape", sorted(OVERLAPPING))
def test_streams_crafted_to_overlap_are_refused_within_the_budget(shape):
    """Every start would inflate much of the rest of the file again (quadratic): the shared
    budget stops the check, and the file is refused."""
    data = OVERLAPPING[shape]()
    count = pdf_reader.inflation_count(data, SMALL_BUDGET)
    assert pdf_reader.is_bomb(count, len(data), SMALL_BUDGET)
    assert count.work <= SMALL_BUDGET + len(data) + 9 * (1 << 16)


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.pdf")), ids=lambda p: p.name)
def test_real_letters_cost_the_check_no_more_than_their_size(sample):
    data = sample.read_bytes()
    count = pdf_reader.inflation_count(data)
    assert not pdf_reader.is_bomb(count, len(data))
    assert count.work <= len(data)


@pytest.fixture
def small_reader(monkeypatch):
    """A reader process bounded to 256 MB, installed as the library's (restored after)."""
    reader = io.BoundedPdfReader(memory_bytes=256 << 20)
    monkeypatch.setattr(io, "_READER", reader)
    yield reader
    reader.close()


def _encrypted_bomb() -> bytes:
    """A gigabyte under two filters, encrypted: the inflation check cannot see into it."""
    return encrypted(one_page_pdf(nested(zlib_zeros(GIGABYTE), 1), 2))


def test_an_encrypted_bomb_ends_the_reader_process_and_the_next_file_is_read(small_reader, tmp_path):
    bomb = _encrypted_bomb()
    assert not pdf_reader.is_bomb(pdf_reader.inflation_count(bomb), len(bomb))  # unseen by the check
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    with pytest.raises(imr_nlp.InputError, match="memory"):
        io.read_letter_file(path)
    letter = io.read_letter_file(SAMPLES / "CM16-0232543.pdf")
    assert "CM16-0232543" in letter.text


def test_a_cli_run_with_an_encrypted_bomb_writes_every_other_letter(small_reader, tmp_path):
    bomb = tmp_path / "a-bomb.pdf"
    bomb.write_bytes(_encrypted_bomb())
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli_main, ["parse", str(bomb), str(SAMPLES / "CM16-0232543.pdf"), "--out", str(out)])
    assert result.exit_code == 1  # one letter failed, the run went on
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "CM16-0232543" in out.read_text(encoding="utf-8")
    assert "a-bomb.pdf: the PDF reader stopped" in result.stderr
    assert not list(tmp_path.glob("*.partial"))


def test_a_reader_process_that_does_not_answer_in_time_is_ended(tmp_path):
    """The time bound, shown with a reader given no time at all (nothing here waits on a clock)."""
    reader = io.BoundedPdfReader(seconds=0)
    try:
        reply = reader.read((SAMPLES / "CM16-0232543.pdf").read_bytes(), io.MAX_PDF_CHARS, io.MAX_PDF_INFLATED_BYTES)
    finally:
        reader.close()
    assert "took over 0 s" in reply["error"]


def _lines(pages: int, per_page: int) -> list[list[str]]:
    return [[f"p{page:02d}"] + ["abc"] * (per_page - 1) for page in range(pages)]


def test_a_long_pdf_is_read_whole_when_its_text_is_within_the_budget(monkeypatch):
    """pdfium ends lines with CR LF; the parser sees LF: counted as LF, 20 pages of 80,000
    characters fit a budget of 90,000 (counted as CR LF they would not)."""
    monkeypatch.setattr(io, "MAX_PDF_CHARS", 90_000)
    pdf = text_pdf(_lines(20, 1000))
    text = io.read_pdf_bytes(pdf)
    assert "p19" in text and len(text) < 90_000 < len(text) + text.count("\n")
    letter = io._pdf_text(pdf, Path("long.pdf"))
    assert letter.notes == []


def test_a_pdf_over_the_budget_says_which_pages_were_not_read(monkeypatch, tmp_path):
    monkeypatch.setattr(io, "MAX_PDF_CHARS", 50_000)
    path = tmp_path / "long.pdf"
    path.write_bytes(text_pdf(_lines(20, 1000)))
    letter = io.read_letter_file(path)
    assert "p12" in letter.text and "p13" not in letter.text
    assert letter.notes == ["W020: PDF read up to page 13 of 20: its text is over the budget of 50,000 characters"]
    determination = imr_nlp.parse_file(path)
    assert any("page 13 of 20" in warning for warning in determination.warnings)


def test_workers_forked_while_another_thread_reads_a_pdf_get_a_free_reader():
    """parse_many forks its workers; one forked while the parent's reader lock is held (another
    thread reading a PDF) must not inherit it held, or it and the parent wait forever."""
    pdf = SAMPLES / "CM16-0232543.pdf"
    with io._READER._lock:
        results = list(imr_nlp.parse_many([pdf, pdf], n_process=2))
    assert [r.case_number for r in results] == ["CM16-0232543"] * 2


def test_read_pdf_bytes_refuses_what_is_not_bytes_and_what_is_over_the_budget(monkeypatch):
    with pytest.raises(TypeError, match="expects bytes"):
        io.read_pdf_bytes(10**10)
    monkeypatch.setattr(io, "MAX_FILE_BYTES", 1000)
    with pytest.raises(imr_nlp.InputError, match="read budget"):
        io.read_pdf_bytes(b"%PDF-1.4\n" + bytes(2000), "big.pdf")


def test_an_interrupted_read_never_hands_its_reply_to_the_next_file(monkeypatch):
    """Interrupted between request and reply (Ctrl-C in a notebook, a caller's alarm), the reader
    is ended: the next file gets its own text, not the interrupted file's."""
    reader = io.BoundedPdfReader()
    monkeypatch.setattr(io, "_READER", reader)
    first, second = SAMPLES / "CM16-0232543.pdf", sorted(SAMPLES.glob("*.pdf"))[-1]
    assert first != second
    real_receive = reader._receive
    calls = []

    def interrupted_once(child, size, deadline):
        calls.append(size)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real_receive(child, size, deadline)

    monkeypatch.setattr(reader, "_receive", interrupted_once)
    with pytest.raises(KeyboardInterrupt):
        io.read_pdf_bytes(first.read_bytes())
    text = io.read_pdf_bytes(second.read_bytes())
    assert second.stem in text and first.stem not in text
    reader.close()


def test_the_reader_bound_never_exceeds_the_process_hard_limit():
    """Under a hard address-space limit below 1 GiB (set by the caller), the reader takes the
    lower bound instead of failing to start."""
    import subprocess
    import sys

    script = (
        "import resource, imr_nlp.io as io\n"
        "resource.setrlimit(resource.RLIMIT_AS, (900_000_000, 900_000_000))\n"
        f"print(io.read_pdf_bytes(open({str(SAMPLES / 'CM16-0232543.pdf')!r}, 'rb').read())[:2000])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "CM16-0232543" in result.stdout
