"""Never crash, never lose a record: hostile text, reformatted letters, bad files, failing items
in batches, big input, determinism, threads and bounded memory."""

import json
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from file_faults import unreadable_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import imr_nlp
from imr_nlp.io import read_letter

SAMPLES = Path(imr_nlp.__file__).parent / "samples"
SAMPLE_PATHS = sorted(SAMPLES.iterdir())
SYNTHETIC = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def letters() -> list[str]:
    return [read_letter(p) for p in SAMPLE_PATHS]


# --- parse never raises on a str -------------------------------------------------------------

_PIECES = [
    *SYNTHETIC.splitlines(keepends=True),
    ": Upheld",
    ": Overturned\n",
    "Decision rationale:",
    "Claims Administrator guideline:",
    "MAXIMUS guideline:",
    "IMR ISSUES, DECISIONS AND RATIONALES\n",
    "Page 2 of 5\n",
    "(",
    ")",
    "#",
    "\f",
    "\r\n",
    "\u00a0",
    "\u2019",
    "\u00b2",
    "Dr.",
    "no",
    "1.",
    "10/325mg",
    "Date of Injury: 13/45/2019\n",
    "Page(s): 99999999999999999999",
]
_TEXTS = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=12)), max_size=40).map("".join),
)


@settings(max_examples=1000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_parse_never_raises_on_any_str(text):
    det = imr_nlp.parse(text)
    assert det.error is None  # the pipeline itself never failed
    json.loads(det.model_dump_json())
    for d in det.decisions:
        assert 0 <= d.start <= d.end <= len(text)
    if not det.decisions:
        assert det.warnings  # no decisions is always explained


@pytest.mark.parametrize("bad", [None, 42, b"%PDF bytes", ["a list"], Path("letter.txt")])
def test_parse_rejects_non_str(bad):
    with pytest.raises(TypeError, match="expects a str"):
        imr_nlp.parse(bad)


# --- warnings instead of guesses ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " \n\f\n ", "Dear Sir, thanks for your letter of 1/2/2016.", "Upheld"])
def test_empty_or_non_letter_text_gives_no_decisions_and_a_warning(text):
    det = imr_nlp.parse(text)
    assert det.decisions == [] and det.warnings


@pytest.mark.parametrize("fraction", [0.2, 0.45, 0.6, 0.75, 0.9, 0.97])
def test_truncated_letter_gives_what_it_can_and_a_warning(letters, fraction):
    for text in letters:
        full = imr_nlp.parse(text)
        cut = imr_nlp.parse(text[: int(len(text) * fraction)])
        assert any("may be truncated" in w for w in cut.warnings), (fraction, cut.warnings)
        # what was read is what the full letter says (the last item may lose its rationale)
        for got, want in zip(cut.decisions[:-1], full.decisions, strict=False):
            assert (got.item, got.outcome, got.treatment) == (want.item, want.outcome, want.treatment)


def test_complete_letters_have_no_truncation_warning(letters):
    for text in letters:
        assert not imr_nlp.parse(text).warnings


# --- formatting invariance ------------------------------------------------------------------------


def _rewrap(width):
    def rewrap(text):
        return "\n".join(
            "\f".join(
                textwrap.fill(part, width, break_long_words=False) if part.strip() else part
                for part in line.split("\f")
            )
            for line in text.split("\n")
        )

    return rewrap


def _every(n, insert):
    def add(text):
        lines = text.split("\n")
        return "\n".join(line + (insert(i) if i % n == 0 else "") for i, line in enumerate(lines, 1))

    return add


FORMATS = {
    "unwrapped paragraphs": lambda t: re.sub(r"(?<![.:!?])\n(?=[a-z(])", " ", t),
    "rewrapped at 60": _rewrap(60),
    "rewrapped at 40": _rewrap(40),
    "double spaced": lambda t: t.replace("\n", "\n\n"),
    "single spaced": lambda t: re.sub(r"\n\s*\n", "\n", t),
    "CRLF": lambda t: t.replace("\n", "\r\n"),
    "non-breaking spaces": lambda t: re.sub(r"(?<=\w) (?=\w)", "\u00a0", t),
    "curly quotes": lambda t: re.sub(r'"(\w)', "\u201c\\1", t).replace('"', "\u201d").replace("'", "\u2019"),
    "page footers": _every(23, lambda i: f"\nPage {i // 23} of 9"),
    "form feeds": _every(29, lambda i: "\f"),
    "footers and form feeds": _every(31, lambda i: f"\n- {i // 31} -\f"),
    "every line break flattened": lambda t: " ".join(t.split()),
}


def _decisions(det) -> list[dict]:
    """What a decision says, without offsets and evidence text (they move with the formatting)."""
    out = []
    for d in det.decisions:
        t = d.treatment
        out.append(
            {
                "item": d.item,
                "outcome": d.outcome,
                "medically_necessary": d.medically_necessary,
                "treatment": t.model_dump(exclude={"drug"}),
                "drug": (t.drug.generic, t.drug.drug_class) if t.drug else None,
                "bases": [
                    (b.mtus_based, [(c.source, c.guideline, c.topics, c.pages) for c in b.citations])
                    for b in (d.claims_administrator, d.reviewer_basis)
                ],
                "rationale": d.rationale,
            }
        )
    return out


@pytest.mark.parametrize("name", FORMATS)
def test_formatting_does_not_change_the_decisions(letters, name):
    for text in letters:
        assert _decisions(imr_nlp.parse(FORMATS[name](text))) == _decisions(imr_nlp.parse(text)), name


def test_all_formatting_changes_at_once(letters):
    for text in letters:
        changed = text
        for name in ("rewrapped at 60", "double spaced", "page footers", "curly quotes", "non-breaking spaces", "CRLF"):
            changed = FORMATS[name](changed)
        det = imr_nlp.parse(changed)
        assert _decisions(det) == _decisions(imr_nlp.parse(text))
        for d in det.decisions:  # offsets still point into the string given
            assert " ".join(changed[d.start : d.end].split()) == d.item


# --- files -------------------------------------------------------------------------------------------


def _pdf(tmp_path, name, text=None, password=None) -> Path:
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(612, 792)
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    path = tmp_path / name
    with path.open("wb") as handle:
        writer.write(handle)
    return path


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda tmp, mp: tmp / "missing.pdf", "no such file"),
        (lambda tmp, mp: tmp, "is a directory"),
        (unreadable_file, "Permission denied"),
        (lambda tmp, mp: _write(tmp / "corrupt.pdf", b"%PDF-1.4\n%garbage\n"), "not a readable PDF"),
        (lambda tmp, mp: _write(tmp / "empty.pdf", b""), "not a readable PDF"),
        (lambda tmp, mp: _write(tmp / "cut.pdf", (SAMPLES / "CM16-0232543.pdf").read_bytes()[:3000]), "PDF"),
        (lambda tmp, mp: _pdf(tmp, "locked.pdf", password="secret"), "encrypted PDF that needs a password"),
        (lambda tmp, mp: _pdf(tmp, "scan.pdf"), "no text layer"),
        (lambda tmp, mp: _write(tmp / "renamed.doc", b"%PDF-1.4 broken"), "not a readable PDF"),
    ],
    ids=[
        "missing",
        "directory",
        "unreadable",
        "corrupt",
        "empty",
        "truncated download",
        "encrypted",
        "image-only",
        "PDF without .pdf",
    ],
)
def test_bad_files_raise_input_error_with_path_and_reason(tmp_path, monkeypatch, make, reason):
    path = make(tmp_path, monkeypatch)
    with pytest.raises(imr_nlp.InputError) as info:
        imr_nlp.parse_file(path)
    assert info.value.path == str(path) and reason in info.value.reason
    assert str(info.value).startswith(str(path))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- batches: an error record per bad item, nothing dropped -------------------------------------


def _break_on(marker):
    """A component that fails on texts holding ``marker``, as a bug would."""

    def component(doc):
        if marker in doc.text:
            raise RuntimeError("boom")
        return doc

    return component


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_failing_item_becomes_an_error_record_and_the_batch_goes_on(monkeypatch, n_process):
    header = imr_nlp.load().get_pipe("imr_header")
    original = type(header).__call__
    monkeypatch.setattr(type(header), "__call__", lambda self, doc: _break_on("EXPLODE")(original(self, doc)))
    items = [SYNTHETIC, "EXPLODE " + SYNTHETIC, Path("nope.pdf"), 7, SYNTHETIC.replace("CM99-0000001", "CM99-0000002")]
    out = list(imr_nlp.parse_many(items, batch_size=5, n_process=n_process))
    assert len(out) == len(items)
    assert [d.case_number for d in out] == ["CM99-0000001", None, None, None, "CM99-0000002"]
    assert out[1].error == "item 1: internal error: RuntimeError: boom" and out[1].decisions == []
    assert out[2].error == "nope.pdf: no such file" and out[2].source == str(Path("nope.pdf").resolve())
    assert out[3].error.startswith("item 3: expected str or pathlib.Path")
    assert all(d.warnings[0] == f"error: {d.error}" for d in out if d.error)


def test_parse_never_raises_even_when_the_pipeline_fails(monkeypatch, caplog):
    header = imr_nlp.load().get_pipe("imr_header")
    original = type(header).__call__
    monkeypatch.setattr(type(header), "__call__", lambda self, doc: _break_on("EXPLODE")(original(self, doc)))
    det = imr_nlp.parse("EXPLODE")
    assert det.error == "internal error: RuntimeError: boom" and det.warnings
    assert "imr_nlp failed on a text" in caplog.text  # logged with its traceback, not hidden


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_parse_many_rejects_a_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        list(imr_nlp.parse_many(["x"], batch_size=bad))


# --- big input ---------------------------------------------------------------------------------------


def test_a_megabyte_of_letters_parses(letters):
    """A 1 MB text (letters run together, as a bad export gives) parses; the time grows linearly
    with the length (measured by benchmarks/robustness.py, not here)."""
    big = "\n".join(letters * (1_000_000 // sum(map(len, letters)) + 1))[:1_000_000]
    det = imr_nlp.parse(big)
    assert det.decisions and det.error is None
    assert all(0 <= d.start <= d.end <= len(big) for d in det.decisions)


# --- determinism and threads -------------------------------------------------------------------------

_DUMP = """
import json, sys, warnings
warnings.simplefilter("ignore")
import imr_nlp
print(json.dumps([imr_nlp.parse_file(p).model_dump(mode="json") for p in sys.argv[1:]]))
"""


def test_same_input_same_json_across_processes():
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", _DUMP, *map(str, SAMPLE_PATHS)], capture_output=True, text=True, env=env, check=True
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    here = json.dumps([imr_nlp.parse_file(p).model_dump(mode="json") for p in SAMPLE_PATHS])
    assert json.loads(outputs[0]) == json.loads(here)


def test_parse_from_many_threads_at_once(letters):
    texts = [t.replace("CM", f"CM{i % 7}") for i, t in enumerate(letters * 12)]
    serial = [imr_nlp.parse(t).model_dump_json() for t in texts]
    with ThreadPoolExecutor(max_workers=6) as pool:
        threaded = list(pool.map(lambda t: imr_nlp.parse(t).model_dump_json(), texts))
    assert threaded == serial


# --- bounded memory ----------------------------------------------------------------------------------


def test_the_vocabulary_is_renewed_when_it_outgrows_its_budget(monkeypatch, letters):
    import imr_nlp.loading as loading

    monkeypatch.setattr(loading, "MAX_NEW_STRINGS", 500)
    first = imr_nlp.load()
    expected = [imr_nlp.parse(t).model_dump_json() for t in letters]
    unique = [t + " " + " ".join(f"word{i}x{j}" for j in range(400)) for i, t in enumerate(letters * 4)]
    list(imr_nlp.parse_many(unique))
    renewed = imr_nlp.load()
    assert renewed is not first
    assert len(renewed.vocab.strings) - loading._BASE_STRINGS[""] <= 500 + 2 * 4000  # budget + one batch
    assert [imr_nlp.parse(t).model_dump_json() for t in letters] == expected  # same answers after renewal


def test_reset_forgets_the_pipeline_and_parsing_goes_on(letters):
    before = imr_nlp.load()
    expected = imr_nlp.parse(letters[0])
    imr_nlp.reset()
    assert imr_nlp.load() is not before
    assert imr_nlp.parse(letters[0]) == expected


def test_a_lone_surrogate_loses_nothing(shared):
    """A lone surrogate (unencodable) is read as U+FFFD: same decisions, offsets into the text
    as given, and a warning."""
    text = imr_nlp.parse_file(shared / "corpus" / "pdf" / "CM16-0233904.pdf").model_dump()
    letter = imr_nlp.io.read_pdf(shared / "corpus" / "pdf" / "CM16-0233904.pdf")
    damaged = letter[:500] + "\ud800" + letter[500:]
    result = imr_nlp.parse(damaged)
    assert result.error is None
    assert [d["item"] for d in text["decisions"]] == [d.item for d in result.decisions]
    for decision in result.decisions:
        assert damaged[decision.start : decision.end].split() == decision.item.split()
    assert any("unencodable" in w for w in result.warnings)


# --- two letters in one text (issue 13, item 14) ---------------------------------------------


def _next_letter_examples():
    from imr_nlp import resources

    return resources.load("sections.json").next_letter.examples


@pytest.mark.parametrize("example", _next_letter_examples(), ids=lambda e: e.next_letter_starts[:20])
def test_next_letter_rule_examples(example):
    nlp = imr_nlp.load()
    doc = nlp(example.text)
    starts = [s for s in doc.spans["imr_sections"] if s.label_ == "next_letter"]
    assert len(starts) == 1 and starts[0].text.startswith(example.next_letter_starts)
    assert any("more than one letter" in w for w in doc._.determination.warnings)


def test_a_second_letter_in_the_same_text_is_not_absorbed_and_is_warned():
    first = imr_nlp.parse(SYNTHETIC)
    both = imr_nlp.parse(SYNTHETIC + "\n" + SYNTHETIC.replace("CM99-0000001", "CM99-0000002"))
    assert _decisions(both) == _decisions(first)
    assert both.case_number == first.case_number
    warning = next(w for w in both.warnings if "more than one letter" in w)
    assert f"character {len(SYNTHETIC) + 1}" in warning
    assert not any("ends mid-sentence" in w for w in both.warnings)
    assert not any("more than one letter" in w for w in first.warnings)
