import re
from pathlib import Path

import pytest
from evidence import reads_as_written
from file_faults import unreadable_file

import imr_nlp
from imr_nlp.errors import warning

NOT_A_LETTER = warning("W002")

SAMPLES = Path(imr_nlp.__file__).parent / "samples"


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_parse_rejects_non_str(bad):
    with pytest.raises(TypeError):
        imr_nlp.parse(bad)


@pytest.mark.parametrize(
    "text", ["", "   \n\n ", "Dear Sir, thank you for your letter.", "Upheld: Upheld::::", "\x00\x01"]
)
def test_odd_text_gives_no_decisions_and_a_warning(text):
    det = imr_nlp.parse(text)
    assert det.decisions == [] and det.warnings


def test_non_letter_warning_text():
    assert NOT_A_LETTER in imr_nlp.parse("Just a shopping list: milk, eggs.").warnings


def _dangling(tmp_path: Path) -> Path:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "nowhere.txt")
    return link


@pytest.mark.parametrize(
    "make, error_type, errno_name",
    [
        (lambda tmp, mp: tmp / "nope.pdf", FileNotFoundError, "ENOENT"),
        (lambda tmp, mp: str(tmp / "nope.txt"), FileNotFoundError, "ENOENT"),
        (lambda tmp, mp: _dangling(tmp), FileNotFoundError, "ENOENT"),
        (unreadable_file, OSError, "EACCES"),
    ],
    ids=["missing", "missing, named by a str", "dangling link", "permission denied"],
)
def test_a_file_the_system_cannot_read_raises_an_input_error_that_is_an_os_error(
    tmp_path, monkeypatch, make, error_type, errno_name
):
    """``except OSError`` (or FileNotFoundError) catches it as it would open()'s error, and the
    existing ``except InputError`` / ``except ValueError`` still do; the message names the file."""
    import errno
    import pickle

    path = make(tmp_path, monkeypatch)
    with pytest.raises(error_type) as info:
        imr_nlp.parse_file(path)
    error = info.value
    assert isinstance(error, imr_nlp.InputError) and isinstance(error, ValueError)
    assert error.errno == getattr(errno, errno_name) and error.filename == str(path)
    assert str(error).startswith(f"{path}: ")
    copy = pickle.loads(pickle.dumps(error))  # as a worker process would hand it over
    assert type(copy) is type(error) and str(copy) == str(error) and copy.errno == error.errno
    if error_type is FileNotFoundError:
        assert isinstance(error, imr_nlp.MissingFileError)


def test_corrupt_pdf_raises_input_error(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 not really a pdf")
    with pytest.raises(imr_nlp.InputError):
        imr_nlp.parse_file(bad)


def test_sample_letter_round_trip_and_evidence():
    path = SAMPLES / "synthetic_letter.txt"
    text = path.read_text(encoding="utf-8")
    det = imr_nlp.parse(text)
    assert det.case_number == "CM99-0000001"
    assert [d.outcome for d in det.decisions] == ["upheld", "overturned"]
    norco = det.decisions[0].treatment
    assert norco.drug.generic == "hydrocodone / acetaminophen" and norco.quantity == 90 and norco.refills == 1
    pt = det.decisions[1].treatment
    assert pt.service == "physical therapy" and pt.frequency == "2xW" and pt.body_sites == ["lumbar spine"]
    assert det.decisions[1].claims_administrator.mtus_based is False
    assert any(m.generic == "clonazepam" for m in det.medications)  # "Klonipin", misspelt
    carpal = [m for m in det.diagnoses if "carpal" in m.text]
    assert carpal and carpal[0].uncertain
    for m in det.medications + det.diagnoses + det.dates:
        assert reads_as_written(text, m.text, m.start, m.end)
    again = imr_nlp.Determination.model_validate_json(det.model_dump_json())
    assert again == det


@pytest.mark.parametrize("n_process", [1, 2])
def test_parse_many_keeps_order_and_bad_items(n_process):
    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    items = [text, Path("/no/such/file.pdf"), "not a letter", 42, SAMPLES / "CM16-0232543.pdf"]
    items += [text.replace("CM99-0000001", f"CM99-{i:07d}") for i in range(2, 12)]
    out = list(imr_nlp.parse_many(items, batch_size=2, n_process=n_process))
    assert len(out) == len(items)
    assert out[0].case_number == "CM99-0000001"
    assert out[1].warnings and out[1].warnings[0].startswith("error:")
    assert out[2].decisions == []
    assert out[3].warnings[0].startswith("error:") and "int" in out[3].warnings[0]
    assert out[4].case_number == "CM16-0232543"
    assert [d.case_number for d in out[5:]] == [f"CM99-{i:07d}" for i in range(2, 12)]


def test_parallel_parse_matches_serial():
    texts = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))] * 3
    serial = list(imr_nlp.parse_many(texts))
    assert list(imr_nlp.parse_many(texts, n_process=2, batch_size=1)) == serial


@pytest.mark.parametrize(
    "n_items, cores, daemon, workers",
    [
        (15, 2, False, 1),  # fewer than two batches per worker: parsed in this process
        (16, 2, False, 2),  # one worker per usable core
        (40, 3, False, 3),
        (40, 1, False, 1),  # one core: no workers
        (40, 2, True, 1),  # inside a worker process, which may not start its own
    ],
)
def test_parse_many_picks_its_workers_from_the_usable_cores(monkeypatch, n_items, cores, daemon, workers):
    from imr_nlp import api, parallel

    monkeypatch.setattr(api.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(api.multiprocessing, "current_process", lambda: type("P", (), {"daemon": daemon})())
    started = []

    def parse_parallel(numbered, n_process, chunk_size, ocr="auto"):
        started.append(n_process)
        for index, item in numbered:
            yield api.error_record(item, index, "parsed by a worker")

    monkeypatch.setattr(parallel, "parse_parallel", parse_parallel)
    items = [f"letter {i}" for i in range(n_items)]
    out = list(imr_nlp.parse_many(items, batch_size=4))
    assert len(out) == n_items
    assert started == ([workers] if workers > 1 else [])
    if workers > 1:  # every item reaches the workers once, in order
        assert [d.error for d in out] == [f"item {i}: parsed by a worker" for i in range(n_items)]
    else:
        assert all(d.error is None for d in out)


def test_usable_cores_follow_the_affinity_mask(monkeypatch):
    from imr_nlp import api

    monkeypatch.setattr(api.os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert api.usable_cores() == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_parse_many_rejects_bad_n_process(bad):
    with pytest.raises(ValueError):
        imr_nlp.parse_many(["x"], n_process=bad)  # at the call, not at the first result


def _second_pass_by_list(stream, tmp_path):
    return list(stream)


def _second_pass_by_frame(stream, tmp_path):
    return imr_nlp.to_dataframe(stream, level="medication")


def _second_pass_by_loop(stream, tmp_path):
    return [det for det in stream]


def _second_pass_by_parquet(stream, tmp_path):
    return [None] * imr_nlp.to_parquet(stream, tmp_path / "again.parquet")


@pytest.mark.parametrize(
    "second_pass", [_second_pass_by_list, _second_pass_by_frame, _second_pass_by_loop, _second_pass_by_parquet]
)
def test_a_second_pass_over_spent_parse_many_results_warns_instead_of_giving_nothing_silently(second_pass, tmp_path):
    """parse_many streams (bounded memory): its results are read once. The first pass is
    silent; a second one is empty, and says so, naming the caller's line."""
    import warnings

    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    stream = imr_nlp.parse_many([text, text], n_process=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the first pass
        assert len(imr_nlp.to_dataframe(stream)) == 4
    with pytest.warns(imr_nlp.SpentResultsWarning, match=r"list\(imr_nlp.parse_many") as caught:
        assert len(second_pass(stream, tmp_path)) == 0
    assert caught[0].filename == __file__


def test_parse_many_reads_its_input_as_its_results_are_asked_for():
    """Nothing is read at the call, and a result needs only its own batch: memory stays bounded
    on any length of input."""
    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    read = []

    def letters():
        for index in range(1000):
            read.append(index)
            yield text

    stream = imr_nlp.parse_many(letters(), batch_size=2, n_process=1)
    assert read == []
    next(stream)
    next(stream)
    assert len(read) <= 3
    stream.close()
    with pytest.warns(imr_nlp.SpentResultsWarning):
        assert list(stream) == []


def test_load_docs_carry_determination(nlp):
    doc = nlp((SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8"))
    assert isinstance(doc._.determination, imr_nlp.Determination)
    assert doc.spans["imr_items"][0].label_ == "upheld"


def test_assert_spans():
    text = "The patient denies chest pain but has possible sleep apnea and a history of hypertension."
    spans = [
        (text.index("chest pain"), text.index("chest pain") + 10),
        (text.index("sleep apnea"), text.index("sleep apnea") + 11),
        (text.index("hypertension"), text.index("hypertension") + 12),
    ]
    chest, apnea, htn = imr_nlp.assert_spans(text, spans)
    assert chest.negated and not apnea.negated
    assert apnea.uncertain
    assert htn.historical


def _die_on(chunk, ocr="auto"):
    import os

    if any(item == "die" for _, item in chunk):
        os._exit(3)  # a worker killed mid-letter (out of memory, a native crash)
    return [imr_nlp.Determination() for _ in chunk]


def test_a_dead_worker_neither_hangs_nor_ends_the_run(monkeypatch):
    import imr_nlp.parallel

    monkeypatch.setattr(imr_nlp.parallel, "_parse_chunk", _die_on)  # forked workers inherit the patch
    results = list(imr_nlp.parse_many(["a", "die", "b"], n_process=2, batch_size=1))
    assert [r.error is not None and "worker process died" in r.error for r in results] == [False, True, False]


@pytest.mark.parametrize("name", ["/letters/CM16-0232543.pdf", "letter.TXT", "  notes/a.pdf\n"])
def test_parse_many_refuses_a_file_name_given_as_text(name):
    """A glob.glob result passed as is: each one-line text naming a .pdf/.txt file becomes an
    error record that says what to do, not an empty "not a letter" result."""
    [record] = list(imr_nlp.parse_many([name], n_process=1))
    assert record.error and "pathlib.Path" in record.error and "parse_file" in record.error


def test_parse_of_a_file_name_warns_to_use_parse_file():
    det = imr_nlp.parse("CM16-0232543.pdf")
    assert det.warnings[0] == "W015: the text is a file name (CM16-0232543.pdf): use imr_nlp.parse_file"


@pytest.mark.parametrize("bad, hint", [(Path("a.pdf"), "parse_file"), (b"%PDF-1.4", "read_pdf_bytes")])
def test_parse_type_errors_name_the_function_to_use(bad, hint):
    with pytest.raises(TypeError, match=hint):
        imr_nlp.parse(bad)


@pytest.mark.parametrize(
    "name, data", [("notes.docx", b"PK\x03\x04word"), ("letters.zip", b"PK\x03\x04"), ("a.rtf", b"{\\rtf1}")]
)
def test_files_of_other_types_are_refused_not_misread(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(imr_nlp.errors.InputError, match="unsupported file type"):
        imr_nlp.io.read_letter_file(path)
    [record] = list(imr_nlp.parse_many([path], n_process=1))
    assert "unsupported file type" in record.error and record.case_number is None


@pytest.mark.parametrize(
    "field, role",
    [
        ("date_assigned", "assigned"),
        ("decision_date", "decision"),
        ("application_received", "application_received"),
        ("injury_date", "injury"),
        ("ur_date", "utilization_review"),
    ],
)
@pytest.mark.parametrize("sample", ["CM16-0232543.pdf", "CM17-0010420.pdf", "synthetic_letter.txt"])
def test_each_header_date_carries_its_role(sample, field, role):
    """The date a header field was read from is a date mention with that field's role (the PDF
    layout may break a label over lines: "Application \\nReceived: \\n12/02/2016")."""
    det = imr_nlp.parse_file(SAMPLES / sample)
    value = getattr(det, field)
    assert value is not None
    in_header = min((m for m in det.dates if m.value == value), key=lambda m: m.start)  # the header comes first
    assert in_header.role == role


SOFT_HYPHEN_LETTER = """CLINICAL CASE SUMMARY
The injured worker is a 50 year old male with right\ufffesided carpal tunnel syndrome and a lumbar
sprain\ufffestrain. He was diagnosed with right
shoulder impingement. Electro\ufffediagnostic studies were
normal on 11-21-
2016. He takes Hydro\u00ad
codone.
IMR ISSUES, DECISIONS AND RATIONALES
The Final Determination was based on decisions for the disputed items/services set forth below:
Electro\ufffediagnostic studies of the
upper extremities: Upheld
Claims Administrator guideline: Decision based on Non\ufffeMTUS Citation Official Disability
Guidelines, Forearm, Wrist and Hand Chapter.
MAXIMUS guideline: Decision based on MTUS Chronic Pain Treatment Guidelines.
Decision rationale: The guide\ufffelines do not support a repeat study. The request is not
medically necessary.
"""


def _strings(value, path=""):
    """Every string of a dumped Determination with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


@pytest.mark.parametrize(
    "path, expected",
    [
        (".decisions[0].item", "Electrodiagnostic studies of the upper extremities"),
        (
            ".decisions[0].rationale",
            "The guidelines do not support a repeat study. The request is not medically necessary.",
        ),
        (".decisions[0].reviewer_basis.citations[0].guideline", "Chronic Pain Treatment Guidelines"),
    ],
)
def test_soft_hyphens_and_line_breaks_never_reach_an_output_field(path, expected):
    det = imr_nlp.parse(SOFT_HYPHEN_LETTER)
    strings = dict(_strings(det.model_dump(mode="json")))
    assert strings[path] == expected
    assert not [(p, s) for p, s in strings.items() if re.search("[\n\r\f\ufffe\u00ad]", s)]
    texts = {s for p, s in strings.items() if p.endswith(".text")}
    assert {"right shoulder impingement", "11-21-2016", "Hydrocodone"} <= texts, texts
    for m in det.medications + det.diagnoses + det.dates:
        assert reads_as_written(SOFT_HYPHEN_LETTER, m.text, m.start, m.end), m
