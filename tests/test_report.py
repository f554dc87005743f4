"""The HTML report: breakdowns counted from hand-built Determinations, evidence views nested and
escaped, a self-contained page, and ``imr-nlp report``. The page in a real browser is tested in
tests/test_report_browser.py."""

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import imr_nlp
from imr_nlp.cli import main
from imr_nlp.html_report import (
    BREAKDOWNS,
    NOT_STATED,
    REASON_BREAKDOWNS,
    Highlight,
    build_report,
    evidence_html,
    group_decisions,
    highlights,
    letters_with_texts,
)
from imr_nlp.models import (
    Citation,
    Decision,
    Determination,
    GuidelineBasis,
    Medication,
    Reason,
    Reviewer,
    Treatment,
)

SAMPLES = Path(__file__).resolve().parent.parent / "imr_nlp" / "samples"
BY_NAME = {b.name: b for b in (*BREAKDOWNS, *REASON_BREAKDOWNS)}


def _decision(outcome, category=None, subcategory=None, drug_class=None, citations=(), reasons=()):
    drug = Medication(text="x", start=0, end=1, generic="x", drug_class=drug_class) if drug_class else None
    return Decision(
        item="an item",
        start=0,
        end=7,
        outcome=outcome,
        treatment=Treatment(dwc_category=category, dwc_subcategory=subcategory, drug=drug),
        reviewer_basis=GuidelineBasis(
            citations=[
                Citation(text=s, start=0, end=1, source=s, mtus=s == "MTUS", topics=list(t)) for s, t in citations
            ]
        ),
        reasons=[Reason(code=code, direction=direction, text="x", start=0, end=1) for code, direction in reasons],
    )


@pytest.fixture()
def corpus() -> list[Determination]:
    """Three letters: two decisions each in the first two (five reasons), none in an unreadable third."""
    no_improvement = ("functional_improvement", "against")
    return [
        Determination(
            source="/x/a.pdf",
            decision_date=dt.date(2016, 12, 5),
            reviewer=Reviewer(specialties=["Pain Management", "Anesthesiology"]),
            decisions=[
                _decision(
                    "upheld",
                    "Pharmaceuticals",
                    "Opioids",
                    "opioid",
                    [("MTUS", ["Opioids", "Weaning"])],
                    reasons=[no_improvement, ("monitoring", "against")],
                ),
                _decision(
                    "overturned",
                    "Rehabilitation",
                    "Acupuncture",
                    citations=[("ODG", ["Acupuncture"])],
                    reasons=[("functional_improvement", "for")],
                ),
            ],
        ),
        Determination(
            source="/x/b.pdf",
            decision_date=dt.date(2017, 1, 9),
            decisions=[
                _decision("upheld", "Pharmaceuticals", "Opioids", "opioid", [("MTUS", ["Opioids"])], [no_improvement]),
                _decision(None, reasons=[("documentation", "against")]),
            ],
        ),
        Determination(source="/x/c.pdf", error="/x/c.pdf: not a readable PDF"),
    ]


def _counts(groups):
    return {g.key: (len(g.decisions), len(g.upheld), len(g.overturned), g.overturn_rate) for g in groups}


@pytest.mark.parametrize(
    ("breakdown", "depth", "expected"),
    [
        (
            "dwc",
            None,
            {
                ("Pharmaceuticals", "Opioids"): (2, 2, 0, 0.0),
                ("Rehabilitation", "Acupuncture"): (1, 0, 1, 1.0),
                (NOT_STATED, ""): (1, 0, 0, None),
            },
        ),
        ("drug-class", None, {("opioid",): (2, 2, 0, 0.0)}),
        (
            "guideline",
            None,
            {
                ("MTUS", "Opioids"): (2, 2, 0, 0.0),
                ("MTUS", "Weaning"): (1, 1, 0, 0.0),
                ("ODG", "Acupuncture"): (1, 0, 1, 1.0),
                (NOT_STATED, ""): (1, 0, 0, None),
            },
        ),
        # one decision citing two MTUS topics counts once for MTUS
        ("guideline", 1, {("MTUS",): (2, 2, 0, 0.0), ("ODG",): (1, 0, 1, 1.0), (NOT_STATED,): (1, 0, 0, None)}),
        (
            "specialty",
            None,
            {("Pain Management",): (2, 1, 1, 0.5), ("Anesthesiology",): (2, 1, 1, 0.5), (NOT_STATED,): (2, 1, 0, 0.0)},
        ),
        ("month", None, {("2016-12",): (2, 1, 1, 0.5), ("2017-01",): (2, 1, 0, 0.0)}),
        # why upheld / why overturned: reasons by outcome, code and direction
        (
            "reasons",
            None,
            {
                ("functional_improvement", "against"): (2, 2, 0, 0.0),
                ("monitoring", "against"): (1, 1, 0, 0.0),
                ("functional_improvement", "for"): (1, 0, 1, 1.0),
                ("documentation", "against"): (1, 0, 0, None),
            },
        ),
        (
            "reasons-dwc",
            None,
            {
                ("Pharmaceuticals", "functional_improvement", "against"): (2, 2, 0, 0.0),
                ("Pharmaceuticals", "monitoring", "against"): (1, 1, 0, 0.0),
                ("Rehabilitation", "functional_improvement", "for"): (1, 0, 1, 1.0),
                (NOT_STATED, "documentation", "against"): (1, 0, 0, None),
            },
        ),
        # only the decisions of a drug, as in "Drugs by class"
        (
            "reasons-drug-class",
            None,
            {
                ("opioid", "functional_improvement", "against"): (2, 2, 0, 0.0),
                ("opioid", "monitoring", "against"): (1, 1, 0, 0.0),
            },
        ),
    ],
)
def test_breakdowns_count_each_decision_in_its_groups(corpus, breakdown, depth, expected):
    assert _counts(group_decisions(corpus, BY_NAME[breakdown], depth)) == expected


def test_groups_keep_their_letters_and_a_chronological_order(corpus):
    (opioids,) = [g for g in group_decisions(corpus, BY_NAME["dwc"]) if g.key[1] == "Opioids"]
    # each decision by its letter and its place in the letter
    assert opioids.decisions == [(0, 0), (1, 0)] and opioids.upheld == [(0, 0), (1, 0)] and opioids.overturned == []
    months = [g.key for g in group_decisions(corpus, BY_NAME["month"])]
    assert months == sorted(months)


class _Marks(HTMLParser):
    """Checks that <mark> tags nest and collects the text inside each."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.spans, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            self.stack.append((dict(attrs)["class"], len("".join(self.text))))
        elif tag == "span":
            self.stack.append(("lbl", None))

    def handle_endtag(self, tag):
        kind, start = self.stack.pop()
        if tag == "mark":
            self.spans.append((kind, start, len("".join(self.text))))

    def handle_data(self, data):
        if not self.stack or self.stack[-1][0] != "lbl":
            self.text.append(data)


def _marks(markup: str) -> tuple[str, list]:
    parser = _Marks()
    parser.feed(markup)
    assert parser.stack == []
    return "".join(parser.text), sorted(parser.spans)


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        # nested: an item holding a drug
        (
            "Norco 10mg #60\nnext",
            [Highlight(0, 14, "upheld", "UPHELD"), Highlight(0, 5, "drug", "DRUG")],
            [("k-drug", 0, 5), ("k-upheld", 0, 14)],
        ),
        # crossing the end of the span holding it: cut there
        (
            "abcdefghij",
            [Highlight(0, 5, "item", "ITEM"), Highlight(3, 8, "date", "DATE")],
            [("k-date", 3, 5), ("k-item", 0, 5)],
        ),
        # outside the text, empty, or repeated: left out (once)
        (
            "abc",
            [Highlight(1, 9, "drug", "DRUG"), Highlight(2, 2, "date", "DATE"), Highlight(0, 1, "date", "D")] * 2,
            [("k-date", 0, 1)],
        ),
        # markup in the letter is text, never HTML
        ("<script>alert(1)</script> & more", [Highlight(0, 8, "drug", "<b>")], [("k-drug", 0, 8)]),
    ],
)
def test_evidence_html_keeps_the_text_and_nests_the_marks(text, spans, expected):
    markup = str(evidence_html(text, spans))
    assert "<script>" not in markup and "<b>" not in markup
    shown, marks = _marks(markup)
    assert shown == text  # every character, line breaks included
    assert marks == sorted(expected)


def test_highlights_of_a_parsed_letter_match_their_text():
    import imr_nlp

    text = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    det = imr_nlp.parse(text)
    spans = highlights(det)
    kinds = {s.kind for s in spans}
    assert {"drug", "date", "citation", "diagnosis"} <= kinds and kinds & {"upheld", "overturned"}
    shown, marks = _marks(str(evidence_html(text, spans)))
    assert shown == text and len(marks) >= len(det.decisions) + len(det.medications)


def test_the_page_is_self_contained_and_links_each_count_to_its_letters(corpus):
    texts = ["a <letter> text", "b letter text", None]
    page = build_report(zip(corpus, texts, strict=True), title="Test & <corpus>")
    assert page.startswith("<!DOCTYPE html>") and "<title>Test &amp; &lt;corpus&gt;</title>" in page
    # nothing fetched from elsewhere: no src attribute, links only within the page
    assert not re.search(r"\ssrc=", page)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert set(re.findall(r"https?://[^\"' ]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert page.count('<svg class="chart"') == len(BREAKDOWNS)
    assert "<letter>" not in page and "er&gt; text" in page  # the text escaped
    # the DWC table's Pharmaceuticals / Opioids count: 2 decisions, the first of letters 0 and 1
    assert re.search(r'data-l="0-0 1-0" data-t="Pharmaceuticals / Opioids: 2 decisions">2<', page)
    assert re.search(r'data-l="0-1" data-t="Rehabilitation / Acupuncture: 1 overturned">1<', page)
    # evidence views for readable letters with a text only; every letter in the index
    assert re.findall(r'<section class="letter" id="letter-(\d+)"', page) == ["0", "1"]
    # each decision's item is where its links land; letters are numbered from 1
    assert sorted(re.findall(r'<mark class="k-\w+" id="(letter-\d-decision-\d)"', page)) == [
        "letter-0-decision-0",
        "letter-0-decision-1",
        "letter-1-decision-0",
        "letter-1-decision-1",
    ]
    assert re.findall(r'<tr id="row-\d">\s*<td class="num" data-v="(\d)">', page) == ["1", "2", "3"]
    assert all(f'id="row-{i}"' in page for i in range(3)) and "not a readable PDF" in page
    assert "33.3%" in page  # overturn rate: 1 of 3 decisions with a known outcome


def _why_links(page: str) -> list[tuple[str, str, str]]:
    """(letters, label, count) of every count link in the "why upheld / why overturned" section."""
    section = page[page.index('<section id="why">') :]
    section = section[: section.index("</section>")]
    return re.findall(r'<a href="#selection" class="n" data-l="([\d -]*)" data-t="([^"]*)">(\d+)<', section)


def test_the_why_section_counts_every_reason_and_links_it_to_its_letters(corpus):
    page = build_report(zip(corpus, ["a <letter> text", "b letter text", None], strict=True))
    assert '<a href="#why">' in page and "<h2>Why upheld / why overturned</h2>" in page
    links = _why_links(page)
    groups = sum(len(group_decisions(corpus, breakdown)) for breakdown in REASON_BREAKDOWNS)
    assert len(links) == 3 * groups  # reasons, upheld, overturned
    by_code = {label: (letters, int(count)) for letters, label, count in links}
    assert by_code["functional_improvement / against: 2 reasons"] == ("0-0 1-0", 2)
    assert by_code["functional_improvement / against: 2 upheld"] == ("0-0 1-0", 2)
    assert by_code["functional_improvement / for: 1 overturned"] == ("0-1", 1)
    assert by_code["documentation / against: 1 reasons"] == ("1-1", 1)  # its outcome unknown: neither column
    assert by_code["Pharmaceuticals / monitoring / against: 1 upheld"] == ("0-0", 1)
    assert by_code["opioid / functional_improvement / against: 2 reasons"] == ("0-0 1-0", 2)
    reasons = sum(len(d.reasons) for det in corpus for d in det.decisions)
    assert (
        sum(int(n) for _, label, n in links if re.fullmatch(r"\w+ / \w+: \d+ reasons", html.unescape(label))) == reasons
    )
    # each link names its decisions (as many as its count), each with its item in the page
    for refs, _, count in links:
        assert len(refs.split()) == int(count)
        assert all(f'id="letter-{ref.replace("-", "-decision-")}"' in page for ref in refs.split())


@pytest.fixture(scope="module")
def samples() -> list[tuple[Determination, str]]:
    """The bundled sample letters, parsed, each with the text its offsets refer to."""
    return list(letters_with_texts(sorted(SAMPLES.iterdir()), n_process=1))


def test_the_why_section_counts_what_the_reason_table_counts(samples):
    """The report's reasons of parsed letters agree with to_dataframe(level="reason"): by code and
    direction, by DWC category, by drug class (of the decisions of a drug whose class is known)."""
    page = build_report(samples)
    frame = imr_nlp.to_dataframe([det for det, _ in samples], level="reason").fillna({"dwc_category": NOT_STATED})
    assert len(frame) >= 10
    shown = {html.unescape(label): int(n) for _, label, n in _why_links(page) if label.endswith(" reasons")}

    def expected(table) -> dict[str, int]:
        counts = table.groupby(list(table.columns)).size()
        return {" / ".join(key) + f": {n} reasons": n for key, n in counts.items()}

    by_code = expected(frame[["code", "direction"]])
    by_dwc = expected(frame[["dwc_category", "code", "direction"]])
    by_class = expected(frame.loc[frame["drug_class"].notna(), ["drug_class", "code", "direction"]])
    class_unknown = {label: n for label, n in shown.items() if label.startswith("(class unknown) / ")}
    assert shown == {**by_code, **by_dwc, **by_class, **class_unknown}
    assert sum(by_code.values()) == len(frame) == sum(len(d.reasons) for det, _ in samples for d in det.decisions)
    for refs, _, count in _why_links(page):
        assert len(refs.split()) == int(count)
        assert all(f'id="letter-{ref.replace("-", "-decision-")}"' in page for ref in refs.split())


def test_each_reason_of_a_parsed_letter_is_highlighted_with_its_code_and_direction(samples):
    for det, text in samples:
        reasons = [reason for decision in det.decisions for reason in decision.reasons]
        spans = [s for s in highlights(det) if s.kind == "reason"]
        assert [(s.start, s.end, s.label) for s in spans] == [
            (r.start, r.end, f"{r.code} · {r.direction}") for r in reasons
        ]
        shown, marks = _marks(str(evidence_html(text, highlights(det))))
        assert shown == text
        assert [(start, end) for kind, start, end in marks if kind == "k-reason"] == sorted(
            (r.start, r.end) for r in reasons
        )


def test_a_reason_in_the_evidence_view_is_escaped():
    """A reason's evidence and its decision's item are the letter's text: shown, never run."""
    text = 'Norco "10" <img src=x>: Upheld\nDecision rationale: <script>alert("x")</script> & no improvement. Denied.\n'
    item = 'Norco "10" <img src=x>'
    evidence = '<script>alert("x")</script> & no improvement.'
    start = text.index(evidence)
    reason = Reason(
        code="functional_improvement", direction="against", text=evidence, start=start, end=start + len(evidence)
    )
    det = Determination(decisions=[Decision(item=item, start=0, end=len(item), outcome="upheld", reasons=[reason])])
    page = build_report([(det, text)])
    assert "<script>alert" not in page and "<img" not in page
    assert (
        '<mark class="k-reason" title="a reason of: Norco &quot;10&quot; &lt;img src=x&gt;">'
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; no improvement."
        '<span class="lbl">functional_improvement · against</span></mark>'
    ) in page
    # the letter's list of decisions names its reasons too
    assert (
        '<span class="reasons">reasons: <mark class="k-reason">functional_improvement · against</mark></span>' in page
    )


def test_evidence_limit_keeps_the_tables_whole(corpus):
    page = build_report(zip(corpus, ["a", "b", None], strict=True), evidence_limit=1)
    assert re.findall(r'<section class="letter" id="letter-(\d+)"', page) == ["0"]
    assert "2 letters have no view" in page
    assert 'data-t="Pharmaceuticals / Opioids: 2 decisions"' in page


def test_cli_report_of_a_folder(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(SAMPLES), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert len(re.findall(r'<section class="letter"', page)) == 3
    assert "3 letters (0 failed)" in result.stderr


def test_cli_report_says_what_is_wrong(tmp_path):
    runner = CliRunner()
    missing_folder = runner.invoke(main, ["report", str(SAMPLES), "--out", str(tmp_path / "no" / "r.html")])
    assert missing_folder.exit_code == 2 and "does not exist" in missing_folder.output
    (tmp_path / "empty").mkdir()
    nothing = runner.invoke(main, ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "r.html")])
    assert nothing.exit_code == 1 and "no .txt or .pdf letters" in nothing.stderr
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 truncated")
    failed = runner.invoke(
        main, ["report", str(broken), str(SAMPLES / "synthetic_letter.txt"), "--out", str(tmp_path / "r.html")]
    )
    assert failed.exit_code == 1 and "error:" in failed.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "broken.pdf" in page and len(re.findall(r'<section class="letter"', page)) == 1


def test_each_file_is_read_once_and_its_view_shows_the_text_that_was_parsed(monkeypatch, tmp_path):
    """A file changed between parsing and the report must not get marks on the wrong text."""
    import imr_nlp.batches

    letter = tmp_path / "a.txt"
    original = (SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")
    letter.write_text(original, encoding="utf-8")
    reads = []
    real = imr_nlp.batches.read_letter_file

    def read_then_change(path, *options):
        reads.append(path)
        read = real(path, *options)
        if path == letter:
            letter.write_text("changed after it was read", encoding="utf-8")
        return read

    monkeypatch.setattr(imr_nlp.batches, "read_letter_file", read_then_change)
    items = [letter, *sorted(SAMPLES.iterdir())]
    pairs = list(letters_with_texts(items, n_process=1, texts=2))
    assert sorted(reads) == sorted(items)  # each once
    assert [text is not None for _, text in pairs] == [True, True, False, False]
    det, text = pairs[0]
    assert text == original and det.decisions
    assert all(d.item in text for d in det.decisions)


@pytest.mark.parametrize("one", ["a letter's text", Path("letter.pdf"), b"%PDF-1.4"])
def test_report_refuses_one_text_or_path_instead_of_reporting_its_characters(one):
    with pytest.raises(TypeError, match="iterable of letters"):
        imr_nlp.report(one)


def test_a_report_counts_letters_without_keeping_their_determinations():
    """Past the evidence limit, a letter leaves counts and a row of plain values, not itself."""
    import gc
    import weakref

    from imr_nlp.html_report import ReportTally

    tally = ReportTally(evidence_limit=1)
    texts = [(SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8")] * 3
    refs = []
    for text in texts:
        det = imr_nlp.parse(text)
        refs.append(weakref.ref(det))
        tally.add(det, text)
        del det
    gc.collect()
    assert [ref() is not None for ref in refs] == [True, False, False]
    assert tally.glance_figures()["letters"] == 3 and len(tally.rows) == 3
    assert sum(len(g.decisions) for g in tally.tables()[0]["groups"]) == 3 * len(refs[0]().decisions)


def test_cli_report_onto_one_of_its_letters_is_refused(tmp_path):
    letter = tmp_path / "a.txt"
    letter.write_text((SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8"), encoding="utf-8")
    before = letter.read_bytes()
    result = CliRunner().invoke(main, ["report", str(letter), "--out", str(letter), "--no-progress"])
    assert result.exit_code == 2 and "one of the letters" in result.output
    assert letter.read_bytes() == before


def test_cli_report_on_a_full_disk_keeps_the_old_report(tmp_path, monkeypatch):
    import builtins
    import errno

    out = tmp_path / "report.html"
    out.write_text("the previous report", encoding="utf-8")

    class Full:
        """A file that fills the disk when written (files opened to read open as usual)."""

        def __new__(cls, path, mode="r", **options):
            if "w" not in mode:
                return builtins.open(path, mode, **options)
            return super().__new__(cls)

        def __init__(self, path, mode):
            self.sink = builtins.open(path, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.sink.close()

        def write(self, data):
            self.sink.write(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("imr_nlp.io.open", Full, raising=False)
    result = CliRunner().invoke(main, ["report", str(SAMPLES / "synthetic_letter.txt"), "--out", str(out)])
    assert result.exit_code == 1 and "No space left on device (nothing written)" in result.output
    assert out.read_text(encoding="utf-8") == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_cli_report_with_an_undecodable_file_name(tmp_path):
    import os as os_module

    name = os_module.fsdecode(b"caf\xe9.txt")  # a Latin-1 name on a UTF-8 file system
    (tmp_path / name).write_text((SAMPLES / "synthetic_letter.txt").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path.parent / f"{tmp_path.name}-report.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path), "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "caf" in page and len(re.findall(r'<section class="letter"', page)) == 1
