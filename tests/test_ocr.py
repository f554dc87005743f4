"""OCR of PDF pages without a text layer (the ``ocr`` extra): which pages are OCR'd, the
warnings when they cannot be, and a bundled letter read back from images of its pages.

Scanned letters are made here: a bundled sample's pages rendered with pypdfium2 and saved by
Pillow as an image-only PDF (pypdf joins text and image pages into a mixed one). The tests that
run tesseract are skipped when pytesseract or the tesseract program is missing, unless
IMR_NLP_REQUIRE_OCR=1 (as in CI, whose .ci/run installs them), where a missing OCR fails the run.
"""

import html
import io as bytes_io
import json
import os
import shutil
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

import imr_nlp
from imr_nlp import io
from imr_nlp.cli import main as cli_main
from imr_nlp.errors import warning_code
from imr_nlp.io import pdf_reader

SAMPLES = Path(imr_nlp.__file__).resolve().parent / "samples"
LETTER = SAMPLES / "CM16-0232543.pdf"  # four pages: the last one blank (no text, no image)
REQUIRED = os.environ.get("IMR_NLP_REQUIRE_OCR") == "1"
MISSING = io.ocr_unavailable()

if REQUIRED:
    assert MISSING is None, f"IMR_NLP_REQUIRE_OCR=1 but OCR is not available: {MISSING}"

needs_ocr = pytest.mark.skipif(
    MISSING is not None, reason=f"OCR is not available ({MISSING}): pip install '.[ocr]' and tesseract-ocr"
)


def scanned(pdf: Path, pages: list[int] | None = None, dpi: int = 200) -> bytes:
    """An image-only PDF of ``pdf``'s pages (1-based; all by default), each a greyscale image."""
    document = pdfium.PdfDocument(pdf)
    numbers = pages or list(range(1, len(document) + 1))
    images = [document[n - 1].render(scale=dpi / 72, grayscale=True).to_pil() for n in numbers]
    document.close()
    out = bytes_io.BytesIO()
    images[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return out.getvalue()


def mixed(pdf: Path, text_pages: int) -> bytes:
    """``pdf`` with its first ``text_pages`` pages as they are and the later ones scanned."""
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    for page in pypdf.PdfReader(pdf).pages[:text_pages]:
        writer.add_page(page)
    total = len(pypdf.PdfReader(pdf).pages)
    for page in pypdf.PdfReader(bytes_io.BytesIO(scanned(pdf, list(range(text_pages + 1, total + 1))))).pages:
        writer.add_page(page)
    out = bytes_io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The sample letter scanned whole, scanned after page 1 (mixed), and its first page scanned."""
    folder = tmp_path_factory.mktemp("scans")
    made = {"scan": scanned(LETTER), "mixed": mixed(LETTER, 1), "page1": scanned(LETTER, [1])}
    for name, data in made.items():
        (folder / f"{name}.pdf").write_bytes(data)
    return {name: folder / f"{name}.pdf" for name in made}


@pytest.fixture
def no_pytesseract(monkeypatch):
    """OCR as without the extra: pytesseract cannot be imported."""
    monkeypatch.setitem(sys.modules, "pytesseract", None)


@pytest.fixture
def no_tesseract(monkeypatch):
    """OCR as without Debian's tesseract-ocr: no tesseract program on the path."""
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "tesseract" else which(name, *a, **k))


def _codes(determination) -> list[str | None]:
    return [warning_code(w) for w in determination.warnings]


def _decisions(determination) -> list[tuple[str, str]]:
    return [(d.item, d.outcome) for d in determination.decisions]


# --- which pages are OCR'd (the reader's choice, with tesseract replaced) ----------------------------


@pytest.mark.parametrize(
    "source, mode, ocr_pages, unread",
    [
        ("letter", pdf_reader.OCR_AUTO, [], []),  # text on every page (the blank 4th has no image): none
        ("letter", pdf_reader.OCR_ALWAYS, [1, 2, 3], []),  # every page with something on it
        ("letter", pdf_reader.OCR_NEVER, [], []),
        ("mixed", pdf_reader.OCR_AUTO, [2, 3, 4], []),  # only the scanned pages
        ("mixed", pdf_reader.OCR_NEVER, [], [2, 3, 4]),  # named, not read
        ("scan", pdf_reader.OCR_AUTO, [1, 2, 3, 4], []),
    ],
)
def test_auto_ocrs_only_pages_without_a_text_layer(monkeypatch, files, source, mode, ocr_pages, unread):
    read = []

    def fake_ocr(page, *args, **kwargs):
        read.append(page)
        return f"OCR TEXT {len(read)}\n", 95.0

    monkeypatch.setattr(pdf_reader, "page_ocr", fake_ocr)
    data = (LETTER if source == "letter" else files[source]).read_bytes()
    result = pdf_reader.read_text(data, io.MAX_PDF_CHARS, ocr=mode)
    assert result.ocr_pages == ocr_pages and result.unread_pages == unread
    assert len(read) == len(ocr_pages)
    pages = result.text.split("\f")
    for number in ocr_pages:
        assert pages[number - 1].startswith("OCR TEXT")
    if source != "scan":
        assert "CM16-0232543" in pages[0] or 1 in ocr_pages  # a page with text keeps its text


def test_a_page_whose_ocr_fails_is_said_and_an_all_image_pdf_is_an_error(monkeypatch, files):
    def failing(page, *args, **kwargs):
        raise pdf_reader.OcrFailed("Tesseract process timeout")

    monkeypatch.setattr(pdf_reader, "page_ocr", failing)
    result = pdf_reader.read_text(files["mixed"].read_bytes(), io.MAX_PDF_CHARS, ocr=pdf_reader.OCR_AUTO)
    assert result.ocr_failed == dict.fromkeys([2, 3, 4], "Tesseract process timeout")
    assert result.ocr_pages == []
    with pytest.raises(pdf_reader.PdfReadError, match="no text layer, and OCR failed: Tesseract process timeout"):
        pdf_reader.read_text(files["scan"].read_bytes(), io.MAX_PDF_CHARS, ocr=pdf_reader.OCR_AUTO)


def test_ocr_stops_at_its_page_bound(monkeypatch, files):
    monkeypatch.setattr(pdf_reader, "page_ocr", lambda page, *a, **k: ("OCR TEXT\n", 95.0))
    monkeypatch.setattr(pdf_reader, "MAX_OCR_PAGES", 2)
    result = pdf_reader.read_text(files["scan"].read_bytes(), io.MAX_PDF_CHARS, ocr=pdf_reader.OCR_AUTO)
    assert result.ocr_pages == [1, 2] and result.unread_pages == [3, 4]


@pytest.mark.parametrize(
    "rows, mean",
    [
        (["5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t96.5\tDate", "5\t1\t1\t1\t1\t2\t0\t0\t9\t9\t83.5\tAssigned:"], 90.0),
        (["4\t1\t1\t1\t1\t0\t0\t0\t9\t9\t-1\t", "5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t40\tNorco"], 40.0),  # lines: no score
        (["5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t95\t "], None),  # a word of white space is none
        ([], None),
    ],
)
def test_word_confidence_is_the_mean_over_words(rows, mean):
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    assert pdf_reader.word_confidence("\n".join([header, *rows])) == mean


# --- without OCR: never, or the extra missing ----------------------------------------------------------


def test_never_names_each_image_page_of_a_mixed_pdf(files):
    determination = imr_nlp.parse_file(files["mixed"], ocr="never")
    assert determination.case_number == "CM16-0232543"  # page 1 is read
    assert determination.ocr_pages == []
    unread = [w for w in determination.warnings if warning_code(w) == "W023"]
    assert unread == [
        f"W023: PDF page {page} of 4 has no text layer (a scanned image?) and was not read: OCR is off (ocr='never')"
        for page in (2, 3, 4)
    ]


@pytest.mark.parametrize("missing", ["no_pytesseract", "no_tesseract"])
def test_without_the_extra_auto_warns_per_image_page_and_always_refuses(request, files, missing):
    request.getfixturevalue(missing)
    assert io.ocr_unavailable() is not None
    determination = imr_nlp.parse_file(files["mixed"])  # ocr="auto"
    assert determination.case_number == "CM16-0232543" and determination.ocr_pages == []
    unread = [w for w in determination.warnings if warning_code(w) == "W023"]
    assert [w.split(" has ")[0] for w in unread] == [f"W023: PDF page {page} of 4" for page in (2, 3, 4)]
    assert all("pip install 'imr-nlp[ocr]'" in w and "tesseract-ocr" in w for w in unread)
    with pytest.raises(imr_nlp.InputError, match=r"no text layer \(an image-only PDF needs OCR first\): .*pip install"):
        imr_nlp.parse_file(files["scan"])
    with pytest.raises(io.OcrUnavailableError, match="pip install"):
        imr_nlp.parse_file(files["mixed"], ocr="always")
    with pytest.raises(io.OcrUnavailableError):
        imr_nlp.parse_many([files["mixed"]], ocr="always")  # at the call, not per letter


def test_a_text_pdf_reads_the_same_whatever_the_mode(no_pytesseract):
    """Without the extra and with it, a letter with a text layer is read from it alone."""
    texts = {mode: io.read_letter_file(LETTER, ocr=mode) for mode in ("auto", "never")}
    assert texts["auto"].text == texts["never"].text and texts["auto"].notes == [] and texts["auto"].ocr_pages == []


@pytest.mark.parametrize("mode", ["sometimes", None, True])
def test_an_unknown_mode_is_refused(mode):
    with pytest.raises(ValueError, match="ocr must be one of"):
        imr_nlp.parse_file(LETTER, ocr=mode)
    with pytest.raises(ValueError, match="ocr must be one of"):
        io.read_letter_file(SAMPLES / "synthetic_letter.txt", ocr=mode)


def test_the_cli_option(no_pytesseract, files, tmp_path):
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli_main, ["parse", str(files["mixed"]), "--ocr", "never", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["ocr_pages"] == [] and sum(w.startswith("W023") for w in record["warnings"]) == 3
    refused = CliRunner().invoke(cli_main, ["parse", str(files["mixed"]), "--ocr", "always"])
    assert refused.exit_code == 2 and "--ocr always but OCR is not available" in refused.output
    assert CliRunner().invoke(cli_main, ["parse", str(files["mixed"]), "--ocr", "maybe"]).exit_code == 2


@pytest.mark.parametrize("command", ["report", "show"])
def test_report_and_show_take_the_option_too(no_pytesseract, files, tmp_path, command):
    out = ["--out", str(tmp_path / "report.html")] if command == "report" else []
    refused = CliRunner().invoke(cli_main, [command, str(files["mixed"]), *out, "--ocr", "always"])
    assert refused.exit_code == 2 and "--ocr always but OCR is not available" in refused.output
    result = CliRunner().invoke(
        cli_main, [command, str(files["mixed"]), *out, "--ocr", "never", "--no-progress"][: None if out else -1]
    )
    assert result.exit_code == 0, result.output
    if command == "show":  # the pages left unread are named
        assert result.output.count("warning: W023") == 3


def test_the_report_function_checks_its_mode_first(files, tmp_path):
    with pytest.raises(ValueError, match="ocr must be one of"):
        imr_nlp.report([files["mixed"]], ocr="maybe")


# --- with OCR: tesseract reads the scanned pages -------------------------------------------------------


@needs_ocr
def test_a_scanned_letter_reads_as_its_text_layer(files):
    text = imr_nlp.parse_file(LETTER)
    scan = imr_nlp.parse_file(files["scan"])
    assert scan.ocr_pages == [1, 2, 3, 4]
    assert _decisions(scan) == _decisions(text) and len(text.decisions) == 6
    assert [d.treatment.category for d in scan.decisions] == [d.treatment.category for d in text.decisions]
    assert "W025" not in _codes(scan)  # a clean page reads with high confidence


@needs_ocr
def test_auto_ocrs_the_image_pages_of_a_mixed_pdf(files):
    determination = imr_nlp.parse_file(files["mixed"])
    assert determination.ocr_pages == [2, 3, 4]
    assert determination.case_number == "CM16-0232543"
    assert _decisions(determination) == _decisions(imr_nlp.parse_file(LETTER))
    assert not {"W023", "W024", "W025"} & set(_codes(determination))


@needs_ocr
def test_low_confidence_is_said_and_the_cli_reads_a_scan(monkeypatch, files, tmp_path):
    monkeypatch.setattr(io, "OCR_MIN_CONFIDENCE", 101)  # every page is under it
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli_main, ["parse", str(files["page1"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["ocr_pages"] == [1]
    low = [w for w in record["warnings"] if w.startswith("W025")]
    assert len(low) == 1 and low[0].startswith("W025: PDF page 1 was read by OCR with a mean word confidence of 9")
    always = imr_nlp.parse_many([files["page1"]], ocr="always", n_process=1)
    assert [d.ocr_pages for d in always] == [[1]]
    shown = CliRunner().invoke(cli_main, ["show", str(files["page1"])])
    assert shown.exit_code == 0 and "pages read by OCR: 1" in shown.output


@needs_ocr
def test_the_report_reads_scanned_pages(files):
    items = [html.escape(d.item) for d in imr_nlp.parse_file(LETTER).decisions]
    read = imr_nlp.report([files["mixed"]], n_process=1)
    unread = imr_nlp.report([files["mixed"]], n_process=1, ocr="never")
    assert all(item in read for item in items) and not any(item in unread for item in items)


@pytest.mark.parametrize(
    "row, length, expected",
    [
        ("..####..", 3, "..####.."),
        ("..##.###", 3, ".....###"),
        ("##......", 3, "........"),
        ("########", 8, "########"),
        ("###", 4, "..."),
    ],
)
def test_runs_of_ink_at_least_a_length_are_found(row, length, expected):
    import numpy as np

    mask = np.array([[c == "#" for c in row]])
    assert "".join("#" if hit else "." for hit in pdf_reader._in_runs(mask, length)[0]) == expected


def _long_ink(tilt: float) -> tuple[int, int]:
    """Ink in runs of 0.15 inch or more along a row (rules, and what is left of them) on the first
    page of the sample at 200 dpi (turned ``tilt`` degrees with a scanner's noise, as a page fed
    askew), before and after ``without_rules``."""
    import numpy as np
    from PIL import Image

    page = pdfium.PdfDocument(LETTER)[0]
    image = page.render(scale=200 / 72, grayscale=True).to_pil().convert("L")
    if tilt:
        image = image.rotate(tilt, resample=Image.BICUBIC, fillcolor=255)
        noise = np.random.default_rng(0).normal(0, 12, (image.height, image.width))
        image = Image.fromarray(np.clip(np.asarray(image, dtype=float) + noise, 0, 255).astype(np.uint8))
    before = np.asarray(image) < 160
    after = np.asarray(pdf_reader.without_rules(image, 200)) < 160
    assert not (after & ~before).any()  # only whitened, never darkened
    return tuple(int(pdf_reader._in_runs(ink, 30).sum()) for ink in (before, after))


def test_a_tables_rules_are_whitened_and_its_text_kept():
    """The header table of a rendered letter: its borders go (each a whole row of ink), the
    letters of its labels stay; on a page turned 0.7 degree, with noise, the borders are noisy
    staircases, and no piece of them is left either (one a stray mark tesseract reads as | or _)."""
    import numpy as np

    page = pdfium.PdfDocument(LETTER)[0]
    image = page.render(scale=200 / 72, grayscale=True).to_pil()
    before = np.asarray(image) < 160
    after = np.asarray(pdf_reader.without_rules(image, 200)) < 160
    removed = before & ~after
    assert (removed.sum(axis=1) > 0.5 * 200).sum() >= 4  # the header's horizontal borders, each whole
    assert 0.5 < after.sum() / before.sum() < 1  # the text's ink stays
    for tilt in (0, 0.7):
        long_before, long_after = _long_ink(tilt)
        assert long_after < 0.01 * long_before
