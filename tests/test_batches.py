"""Counts in = counts out, whatever the input does (issue 13): failing generators, workers that
die, locks held across a fork, device files and FIFOs, encodings and files under other names."""

import codecs
import os
import signal
import threading
from pathlib import Path

import pytest

import imr_nlp
import imr_nlp.api as api
import imr_nlp.batches as batches
import imr_nlp.loading as loading
import imr_nlp.parallel as parallel
from imr_nlp.io import decode_text, read_letter_file

SAMPLES = Path(imr_nlp.__file__).parent / "samples"
SYNTHETIC = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")


def _failing_at(position: int, total: int):
    for i in range(total):
        if i == position:
            raise RuntimeError("the feed broke")
        yield SYNTHETIC


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_failing_generator_becomes_an_error_record_and_ends_the_input(n_process):
    results = list(imr_nlp.parse_many(_failing_at(21, 30), batch_size=4, n_process=n_process))
    assert len(results) == 22
    assert all(r.error is None and r.decisions for r in results[:21])
    assert results[21].error == "item 21: the input iterator failed: RuntimeError: the feed broke"
    assert results[21].warnings[0].startswith("error:")


def _kill_on_marker(chunk, ocr="auto"):
    if any(item == "KILL" for _, item in chunk):
        os.kill(os.getpid(), signal.SIGKILL)
    return batches.parse_chunk(chunk, ocr)


def test_a_worker_that_dies_costs_its_item_one_record_and_the_pool_is_rebuilt(monkeypatch):
    monkeypatch.setattr(parallel, "_parse_chunk", _kill_on_marker)
    items = [SYNTHETIC, "KILL", SYNTHETIC, SYNTHETIC, "KILL", SYNTHETIC, SYNTHETIC]
    results = list(imr_nlp.parse_many(items, batch_size=2, n_process=2))
    assert len(results) == len(items)
    for item, result in zip(items, results, strict=True):
        if item == "KILL":
            assert "worker process died" in result.error
        else:
            assert result.error is None and result.decisions


def test_parse_many_with_workers_does_not_deadlock_while_another_thread_holds_the_lock():
    api.load()
    held, release = threading.Event(), threading.Event()

    def hold():
        with loading._LOCK:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        # the workers are forked while the lock is held; each must get its own
        results = list(imr_nlp.parse_many([SYNTHETIC] * 4, n_process=2, batch_size=1))
    finally:
        release.set()
        holder.join()
    assert [bool(r.decisions) for r in results] == [True] * 4


def test_a_forked_child_gets_a_free_lock_while_the_parent_holds_it():
    with loading._LOCK:
        pid = os.fork()
        if pid == 0:  # the child: the lock must be its own, and free
            os._exit(0 if loading._LOCK.acquire(timeout=10) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


class _Sneaky(str):
    def __reduce__(self):
        raise SystemExit("pickling exits")


def test_a_str_subclass_is_sent_to_workers_as_a_plain_str():
    results = list(imr_nlp.parse_many([_Sneaky(SYNTHETIC), SYNTHETIC], n_process=2))
    assert [r.error for r in results] == [None, None]


@pytest.mark.parametrize("one", [SYNTHETIC, b"%PDF"])
def test_parse_many_refuses_one_text(one):
    with pytest.raises(TypeError, match="not one"):
        list(imr_nlp.parse_many(one))


# --- files -------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device_files_are_refused_by_type_and_the_batch_goes_on(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    results = list(imr_nlp.parse_many([Path(device), SAMPLES / "synthetic_letter.txt"]))
    assert "not a regular file" in results[0].error
    assert results[1].error is None and results[1].decisions


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "letter.txt"
    os.mkfifo(fifo)
    with pytest.raises(imr_nlp.InputError, match="not a regular file"):
        imr_nlp.parse_file(fifo)


def test_a_dangling_link_is_named_as_such(tmp_path):
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(imr_nlp.InputError, match="dangling symbolic link"):
        imr_nlp.parse_file(link)


def test_a_file_over_the_read_budget_is_refused(tmp_path, monkeypatch):
    import imr_nlp.io as io

    monkeypatch.setattr(io, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.txt"
    path.write_text(SYNTHETIC)
    with pytest.raises(imr_nlp.InputError, match="read budget"):
        imr_nlp.parse_file(path)


@pytest.mark.parametrize(
    "encoding, bom",
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
    ],
)
def test_text_with_a_byte_order_mark_is_decoded_by_it(tmp_path, encoding, bom):
    path = tmp_path / "letter.txt"
    path.write_bytes(bom + SYNTHETIC.encode(encoding))
    determination = imr_nlp.parse_file(path)
    assert determination.case_number == imr_nlp.parse(SYNTHETIC).case_number
    assert len(determination.decisions) == len(imr_nlp.parse(SYNTHETIC).decisions)
    assert not [w for w in determination.warnings if "read as" in w]


@pytest.mark.parametrize(
    "data, text, note",
    [
        ("café ½".encode(), "café ½", None),
        ("caf\u00e9 \u2019".encode("cp1252"), "caf\u00e9 \u2019", "read as cp1252"),
        (b"\x81\x8d", "\x81\x8d", "read as Latin-1"),
    ],
)
def test_text_without_a_mark_is_utf8_else_cp1252_said_in_a_note(data, text, note):
    letter = decode_text(data)
    assert letter.text == text
    assert (note is None and letter.notes == []) or (note and note in letter.notes[0])


def test_a_pdf_named_txt_is_read_as_a_pdf_and_said_so(tmp_path):
    path = tmp_path / "letter.txt"
    path.write_bytes((SAMPLES / "CM16-0232543.pdf").read_bytes())
    letter = read_letter_file(path)
    assert "CM16-0232543" in letter.text and "read as a PDF" in letter.notes[0]
    determination = imr_nlp.parse_file(path)
    assert determination.case_number == "CM16-0232543"
    assert any("read as a PDF" in w for w in determination.warnings)


def test_reset_frees_the_drug_name_index():
    from imr_nlp.normalize.drugs import default_lexicon

    first = default_lexicon()
    imr_nlp.reset()
    assert default_lexicon() is not first


def _flate_pdf(inflated_megabytes: int) -> bytes:
    import zlib

    deflater = zlib.compressobj(9)
    stream = b"".join(deflater.compress(b"\0" * (1 << 20)) for _ in range(inflated_megabytes)) + deflater.flush()
    head = b"%PDF-1.4\n1 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n"
    return head + stream + b"\nendstream\nendobj\n%%EOF\n"


def test_a_decompression_bomb_is_refused_before_pdfium_inflates_it(tmp_path, monkeypatch):
    import imr_nlp.io as io

    monkeypatch.setattr(io, "MAX_PDF_INFLATED_BYTES", 2_000_000)
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(_flate_pdf(16))
    with pytest.raises(imr_nlp.InputError, match="decompression bomb"):
        imr_nlp.parse_file(bomb)
    # counted in steps: it stops soon after the budget instead of inflating all 16 MB
    assert io.inflated_size(bomb.read_bytes(), 2_000_000) <= 2_000_000 + (1 << 20)
    assert io.inflated_size(_flate_pdf(3), 10**9) == 3 << 20


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.pdf")), ids=lambda p: p.name)
def test_real_letters_are_far_below_the_inflation_budget(sample):
    import imr_nlp.io as io

    assert io.inflated_size(sample.read_bytes(), io.MAX_PDF_INFLATED_BYTES) < 10_000_000
