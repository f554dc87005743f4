"""A self-contained HTML report of a corpus of letters: the corpus at a glance, decisions and
overturn rates by DWC category and subcategory, drug class, guideline source and topic,
reviewer specialty and decision month, each as a sortable table beside an inline SVG chart
whose counts open the list of their letters; why decisions were upheld or overturned, their
reasons counted by code and direction (also by DWC category and by drug class); and for every
letter an evidence view, its text with each extracted span highlighted and labelled (reasons
too), line breaks kept.

One HTML file: no network, no script or style from elsewhere, so it can be mailed or archived.

    imr-nlp report ../letters --out report.html
    imr_nlp.report(paths, out="report.html")
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from imr_nlp.models import Decision, Determination

EVIDENCE_LIMIT = 1000  # letters given an evidence view (all are counted in the tables)
CHART_BARS = 15  # the largest groups drawn in a bar chart (the table lists every group)
NOT_STATED = "(not stated)"

COLORS = {"upheld": "#d9534f", "overturned": "#4cae4c", "unknown": "#bbbbbb"}
# evidence view: span kind -> background colour
SPAN_COLORS = {
    "upheld": "#f8d0cf",
    "overturned": "#cdebcd",
    "item": "#eeeeee",
    "drug": "#9cc9f5",
    "diagnosis": "#d9b8f0",
    "date": "#e0e0e0",
    "citation": "#f5e87c",
    "reason": "#fcd9a8",
}


# A decision of the report: (its letter's index, its index among the letter's decisions).
DecisionRef = tuple[int, int]


@dataclass
class Group:
    """One row of a breakdown: its key and each of its decisions (letter and decision index),
    so that its counts link to the very decisions they count."""

    key: tuple[str, ...]
    decisions: list[DecisionRef] = field(default_factory=list)
    upheld: list[DecisionRef] = field(default_factory=list)
    overturned: list[DecisionRef] = field(default_factory=list)

    def add(self, where: DecisionRef, decision: Decision) -> None:
        self.decisions.append(where)
        if decision.outcome == "upheld":
            self.upheld.append(where)
        elif decision.outcome == "overturned":
            self.overturned.append(where)

    @property
    def overturn_rate(self) -> float | None:
        """Overturned among decisions with a known outcome, or None when none is known."""
        known = len(self.upheld) + len(self.overturned)
        return len(self.overturned) / known if known else None


KeyFunction = Callable[[Determination, Decision], Iterable[tuple[str, ...]]]


def _dwc(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    t = decision.treatment
    return [(t.dwc_category or NOT_STATED, t.dwc_subcategory or "")]


def _drug_class(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    drug = decision.treatment.drug
    return [(drug.drug_class or "(class unknown)",)] if drug is not None else []


def _evidence(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    """The evidence that classified the treatment (Treatment.classified_by), then its category:
    a user reviews the weak kinds ("none", "dose or form") first."""
    t = decision.treatment
    return [(t.classified_by or NOT_STATED, t.category)]


def _guideline(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    keys = [(c.source, topic) for c in decision.reviewer_basis.citations for topic in (c.topics or [""])]
    return list(dict.fromkeys(keys)) or [(NOT_STATED, "")]


def _specialty(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    return [(s,) for s in dict.fromkeys(det.reviewer.specialties)] or [(NOT_STATED,)]


def _month(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    return [(det.decision_date.strftime("%Y-%m") if det.decision_date else NOT_STATED,)]


@dataclass(frozen=True)
class Breakdown:
    """A table of the report: decisions grouped by ``keys`` (a decision may fall in several
    groups, as a decision citing two guideline topics does)."""

    name: str
    title: str
    columns: tuple[str, ...]
    keys: KeyFunction
    chronological: bool = False  # ordered by key and charted as columns, not bars
    counted: str = "decisions"  # what a group's count counts, as its table says


BREAKDOWNS = (
    Breakdown("dwc", "By DWC category and subcategory", ("DWC category", "subcategory"), _dwc),
    Breakdown("drug-class", "Drugs by class", ("drug class",), _drug_class),
    Breakdown("evidence", "How each treatment was classified", ("evidence", "category"), _evidence),
    Breakdown("guideline", "Guidelines the reviewer relied on", ("source", "topic"), _guideline),
    Breakdown("specialty", "By reviewer specialty", ("specialty",), _specialty),
    Breakdown("month", "Over decision dates", ("decision month",), _month, chronological=True),
)


def _reasons(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
    """The (code, direction) of each of a decision's reasons: the contract gives each pair once
    per decision, so a group counts as many decisions as it has reasons."""
    return [(reason.code, reason.direction) for reason in decision.reasons]


def _with_reasons(groups: KeyFunction, width: int) -> KeyFunction:
    """A key function of one key per reason of a decision in each of ``groups``'s groups (their
    first ``width`` parts): (*group, code, direction)."""

    def keys(det: Determination, decision: Decision) -> list[tuple[str, ...]]:
        return [(*group[:width], *reason) for group in groups(det, decision) for reason in _reasons(det, decision)]

    return keys


def _reasons_by(name: str, title: str, column: str, groups: KeyFunction) -> Breakdown:
    """A table of reasons by the first part of ``groups``'s groups, then code and direction."""
    return Breakdown(name, title, (column, "code", "direction"), _with_reasons(groups, 1), counted="reasons")


# "Why upheld / why overturned": tables without a chart, their groups' counts are reasons.
REASON_BREAKDOWNS = (
    Breakdown("reasons", "Reasons by code and direction", ("code", "direction"), _reasons, counted="reasons"),
    _reasons_by("reasons-dwc", "Reasons by DWC category", "DWC category", _dwc),
    _reasons_by("reasons-drug-class", "Reasons by drug class", "drug class", _drug_class),
)


def group_decisions(letters: list[Determination], breakdown: Breakdown, depth: int | None = None) -> list[Group]:
    """The groups of a breakdown, largest first (or in key order for a chronological one).
    ``depth`` keeps the first keys only (a DWC category without its subcategories); a decision
    then counts once in each group it falls in."""
    groups: dict[tuple[str, ...], Group] = {}
    for index, det in enumerate(letters):
        add_to_groups(groups, index, det, breakdown, depth)
    return sorted_groups(groups, breakdown)


def add_to_groups(
    groups: dict[tuple[str, ...], Group], index: int, det: Determination, breakdown: Breakdown, depth: int | None
) -> None:
    """Count one letter's decisions in a breakdown's groups (the report adds letters one by one)."""
    for number, decision in enumerate(det.decisions):
        keys = [key[:depth] for key in breakdown.keys(det, decision)]
        for key in dict.fromkeys(keys):
            groups.setdefault(key, Group(key)).add((index, number), decision)


def sorted_groups(groups: dict[tuple[str, ...], Group], breakdown: Breakdown) -> list[Group]:
    if breakdown.chronological:
        return sorted(groups.values(), key=lambda g: (g.key[0] == NOT_STATED, g.key))
    return sorted(groups.values(), key=lambda g: (-len(g.decisions), g.key))


# --- charts (inline SVG) -------------------------------------------------------------------


def _svg_text(x: float, y: float, text: str, anchor: str = "start", size: int = 11) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">{html.escape(text)}</text>'


def bar_chart(groups: list[Group], title: str) -> Markup:
    """Horizontal bars, one per group (the CHART_BARS largest), split into upheld, overturned
    and unknown outcome; each part carries a tooltip with its count."""
    shown = groups[:CHART_BARS]
    label_width, bar_width, row = 230, 420, 20
    height = 30 + row * len(shown) + 10
    largest = max((len(g.decisions) for g in shown), default=1) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{html.escape(title)}" width="{label_width + bar_width + 60}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{html.escape(title)}</title>",
    ]
    parts += _legend(label_width, 12)
    for i, g in enumerate(shown):
        y = 30 + i * row
        label = " / ".join(k for k in g.key if k) or NOT_STATED
        parts.append(_svg_text(label_width - 6, y + 13, label if len(label) < 38 else label[:36] + "…", "end"))
        x = float(label_width)
        unknown = len(g.decisions) - len(g.upheld) - len(g.overturned)
        for outcome, count in (("upheld", len(g.upheld)), ("overturned", len(g.overturned)), ("unknown", unknown)):
            if count:
                w = bar_width * count / largest
                parts.append(
                    f'<rect class="bar {outcome}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                    f'fill="{COLORS[outcome]}"><title>{html.escape(label)}: {count} {outcome}</title></rect>'
                )
                x += w
        parts.append(_svg_text(x + 4, y + 13, str(len(g.decisions))))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(x: float, y: float) -> list[str]:
    out = []
    for outcome in ("upheld", "overturned", "unknown"):
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLORS[outcome]}"/>')
        out.append(_svg_text(x + 14, y, outcome))
        x += 90
    return out


def column_chart(groups: list[Group], title: str) -> Markup:
    """Columns over time (upheld and overturned stacked) with the overturn rate as a line."""
    dated = [g for g in groups if g.key[0] != NOT_STATED]
    width = max(260, 40 + 28 * len(dated))
    top, plot = 30, 180
    largest = max((len(g.decisions) for g in dated), default=1) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="{html.escape(title)}" width="{width + 40}" '
        f'height="{top + plot + 50}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{html.escape(title)}</title>",
    ]
    parts += _legend(40, 12)
    rate_points = []
    for i, g in enumerate(dated):
        x = 40 + i * 28
        y = top + plot
        unknown = len(g.decisions) - len(g.upheld) - len(g.overturned)
        for outcome, count in (("upheld", len(g.upheld)), ("overturned", len(g.overturned)), ("unknown", unknown)):
            if count:
                h = plot * count / largest
                y -= h
                parts.append(
                    f'<rect class="bar {outcome}" x="{x}" y="{y:.1f}" width="22" height="{h:.1f}" '
                    f'fill="{COLORS[outcome]}"><title>{g.key[0]}: {count} {outcome}</title></rect>'
                )
        if g.overturn_rate is not None:
            rate_points.append(f"{x + 11},{top + plot * (1 - g.overturn_rate):.1f}")
        parts.append(
            f'<text x="{x + 11}" y="{top + plot + 12}" font-size="9" text-anchor="end" '
            f'transform="rotate(-60 {x + 11} {top + plot + 12})">{html.escape(g.key[0])}</text>'
        )
    if rate_points:
        parts.append(
            f'<polyline class="rate" points="{" ".join(rate_points)}" fill="none" stroke="#333" stroke-width="1.5">'
            "<title>overturn rate (0-100% of the plot's height)</title></polyline>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# --- evidence views ------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    """A span of the letter's text to highlight: where, what kind, its label and tooltip."""

    start: int
    end: int
    kind: str
    label: str
    note: str = ""
    anchor: str = ""  # the mark's id, which links land on (a decision's item)


def _flags(mention) -> list[str]:
    return [name for name in ("negated", "historical", "hypothetical", "uncertain", "family") if getattr(mention, name)]


def decision_anchor(letter: int, decision: int) -> str:
    """The id of a decision's item in its letter's evidence view (``decision`` from 0), where a
    count's link lands."""
    return f"letter-{letter}-decision-{decision}"


def highlights(det: Determination, letter: int | None = None) -> list[Highlight]:
    """Every span the Determination records, decision items first (they hold the others); with
    ``letter`` (its index in the report), each item carries its ``decision_anchor``."""
    out = []
    for number, d in enumerate(det.decisions):
        kind = d.outcome or "item"
        anchor = decision_anchor(letter, number) if letter is not None else ""
        out.append(Highlight(d.start, d.end, kind, (d.outcome or "item").upper(), d.treatment.category, anchor))
        for r in d.reasons:
            out.append(Highlight(r.start, r.end, "reason", f"{r.code} · {r.direction}", f"a reason of: {d.item}"))
    for m in det.medications:
        out.append(Highlight(m.start, m.end, "drug", " ".join(["DRUG", *_flags(m)]), m.generic or ""))
    for m in det.diagnoses:
        by = "(from most words)" if m.icd10_by == "most words" else None  # the back-off: review first
        note = " ".join(x for x in (m.icd10, m.icd10_description, by) if x)
        out.append(Highlight(m.start, m.end, "diagnosis", " ".join([m.kind.upper(), *_flags(m)]), note))
    for m in det.dates:
        role = f" {m.role}" if m.role != "other" else ""
        out.append(Highlight(m.start, m.end, "date", f"DATE{role}", m.value.isoformat()))
    for d in det.decisions:
        for basis in (d.claims_administrator, d.reviewer_basis):
            for c in basis.citations:
                out.append(Highlight(c.start, c.end, "citation", f"CITATION {c.source}", "; ".join(c.topics)))
    return out


def evidence_html(text: str, spans: Iterable[Highlight]) -> Markup:
    """The text with each span as a labelled ``<mark>``, escaped, its line breaks kept. Spans
    are nested: one that would cross the end of the span holding it is cut there; a span
    outside the text, or repeated, is left out."""
    ordered = sorted({s for s in spans if 0 <= s.start < s.end <= len(text)}, key=lambda s: (s.start, -s.end, s.kind))
    parts: list[str] = []
    open_ends: list[tuple[int, Highlight]] = []
    position = 0

    def close_until(limit: int) -> None:
        nonlocal position
        while open_ends and open_ends[-1][0] <= limit:
            end, span = open_ends.pop()
            parts.append(html.escape(text[position:end]))
            parts.append(f'<span class="lbl">{html.escape(span.label)}</span></mark>')
            position = end

    for span in ordered:
        close_until(span.start)
        end = min(span.end, open_ends[-1][0]) if open_ends else span.end
        if end <= span.start:
            continue
        parts.append(html.escape(text[position : span.start]))
        title = f' title="{html.escape(span.note)}"' if span.note else ""
        anchor = f' id="{html.escape(span.anchor)}"' if span.anchor else ""
        parts.append(f'<mark class="k-{span.kind}"{anchor}{title}>')
        open_ends.append((end, span))
        position = span.start
    close_until(len(text))
    parts.append(html.escape(text[position:]))
    return Markup("".join(parts))


# --- the page ------------------------------------------------------------------------------


def _decision_refs(refs: list[DecisionRef]) -> str:
    """A count's decisions as its link carries them: "letter-decision" pairs (from 0), in order."""
    return " ".join(f"{letter}-{decision}" for letter, decision in sorted(set(refs)))


def _letter_name(det: Determination, index: int) -> str:
    """A letter's short name in the report: its file's name, else "text N" (N from 1)."""
    return Path(det.source).name if det.source else f"text {index + 1}"


class ReportTally:
    """The report's figures, added letter by letter: every letter is counted in the breakdowns,
    the glance and the letters table (a row of plain values), and only the first
    ``evidence_limit`` letters with a text keep their Determination, for their evidence view. A
    corpus of any size costs the report its counts, not its Determinations."""

    def __init__(self, evidence_limit: int = EVIDENCE_LIMIT):
        self.evidence_limit = evidence_limit
        self.groups = {(b.name, depth): {} for b in BREAKDOWNS for depth in (None, 1)}
        self.groups.update({(b.name, None): {} for b in REASON_BREAKDOWNS})  # no chart: whole keys only
        self.rows: list[dict] = []
        self.views: list[dict] = []
        self.glance = dict.fromkeys(("letters", "failed", "decisions", "upheld", "overturned"), 0)
        self.glance.update(first=None, last=None)

    def add(self, det: Determination, text: str | None) -> None:
        index = len(self.rows)
        for breakdown in BREAKDOWNS:
            for depth in (None, 1):
                add_to_groups(self.groups[breakdown.name, depth], index, det, breakdown, depth)
        for breakdown in REASON_BREAKDOWNS:
            add_to_groups(self.groups[breakdown.name, None], index, det, breakdown, None)
        outcomes = [d.outcome for d in det.decisions]
        row = {
            "index": index,
            "name": _letter_name(det, index),
            "case_number": det.case_number,
            "decision_date": det.decision_date,
            "decisions": len(outcomes),
            "upheld": outcomes.count("upheld"),
            "overturned": outcomes.count("overturned"),
            "warnings": len(det.warnings),
            "error": det.error,
        }
        self.rows.append(row)
        glance = self.glance
        glance["letters"] += 1
        glance["failed"] += det.error is not None
        for key in ("decisions", "upheld", "overturned"):
            glance[key] += row[key]
        if det.decision_date:
            glance["first"] = min(filter(None, (glance["first"], det.decision_date)))
            glance["last"] = max(filter(None, (glance["last"], det.decision_date)))
        if text is not None and det.error is None and len(self.views) < self.evidence_limit:
            self.views.append({"index": index, "det": det, "html": evidence_html(text, highlights(det, index))})

    def tables(self) -> list[dict]:
        tables = []
        for breakdown in BREAKDOWNS:
            groups = sorted_groups(self.groups[breakdown.name, None], breakdown)
            if breakdown.chronological:
                chart = column_chart(groups, breakdown.title)
            else:
                chart = bar_chart(sorted_groups(self.groups[breakdown.name, 1], breakdown), breakdown.title)
            tables.append({"breakdown": breakdown, "groups": groups, "chart": chart})
        return tables

    def reason_tables(self) -> list[dict]:
        """The tables of "why upheld / why overturned" (no chart)."""
        return [{"breakdown": b, "groups": sorted_groups(self.groups[b.name, None], b)} for b in REASON_BREAKDOWNS]

    def glance_figures(self) -> dict:
        known = self.glance["upheld"] + self.glance["overturned"]
        return {**self.glance, "rate": self.glance["overturned"] / known if known else None}


def build_report(
    letters: Iterable[tuple[Determination, str | None]],
    *,
    title: str = "IMR final determinations",
    evidence_limit: int = EVIDENCE_LIMIT,
) -> str:
    """The report's HTML from ``(Determination, text)`` pairs, taken one at a time (see
    ``ReportTally``): ``text`` is the string the letter was parsed from (its evidence view is
    left out when it is None, or past ``evidence_limit``)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    tally = ReportTally(evidence_limit)
    for det, text in letters:
        tally.add(det, text)
    environment = Environment(loader=PackageLoader("imr_nlp", "templates"), autoescape=select_autoescape(["j2"]))
    environment.filters["refs"] = _decision_refs
    template = environment.get_template("report.html.j2")
    return template.render(
        title=title,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        glance=tally.glance_figures(),
        tables=tally.tables(),
        reason_tables=tally.reason_tables(),
        letters=tally.rows,
        views=tally.views,
        viewed={view["index"] for view in tally.views},
        evidence_limit=evidence_limit,
        span_colors=SPAN_COLORS,
        not_stated=NOT_STATED,
    )


def letters_with_texts(
    items: Iterable[str | Path],
    n_process: int | None = None,
    on_letter: Callable[[Determination], None] | None = None,
    texts: int | None = None,
    ocr: str = "auto",
) -> Iterator[tuple[Determination, str | None]]:
    """Each item parsed (as ``parse_many`` does) with the text its offsets refer to: a text item
    itself, a file's text as read for parsing (each file is read once, so its evidence view
    shows the very text that was parsed, even if the file changes meanwhile; None when it could
    not be read). ``texts`` bounds how many texts are given (the letters that get an evidence
    view); PDF pages without a text layer are OCR'd by ``ocr``, as in ``parse_file``."""
    from collections import deque

    from imr_nlp.api import parse_many
    from imr_nlp.batches import InputIteratorError, error_record, item_text, numbered_items
    from imr_nlp.errors import InputError
    from imr_nlp.io import letter_identity

    in_flight: deque = deque()  # (item, index, LetterText or the error) in input order

    def readable_texts() -> Iterator[str]:
        for index, item in numbered_items(items):
            if isinstance(item, InputIteratorError):
                in_flight.append((None, index, item))
                continue
            try:
                letter = item_text(item, index, ocr)
            except (InputError, TypeError) as exc:
                in_flight.append((item, index, exc))
                continue
            in_flight.append((item, index, letter))
            yield letter.text

    given = 0

    def finished(item, index, read, det: Determination | None) -> tuple[Determination, str | None]:
        nonlocal given
        if det is None:
            det = error_record(item, index, read)
        elif isinstance(item, Path):
            det.source = letter_identity(item)
            det.warnings.extend(read.notes)
            det.ocr_pages = list(read.ocr_pages)
        if on_letter is not None:
            on_letter(det)
        text = read.text if det.error is None and (texts is None or given < texts) else None
        given += text is not None
        return det, text

    for det in parse_many(readable_texts(), n_process=n_process):
        while not hasattr(in_flight[0][2], "text"):
            yield finished(*in_flight.popleft(), None)
        yield finished(*in_flight.popleft(), det)
    while in_flight:
        yield finished(*in_flight.popleft(), None)


def report(
    items: Iterable[str | Path],
    out: str | Path | None = None,
    *,
    title: str = "IMR final determinations",
    evidence_limit: int = EVIDENCE_LIMIT,
    n_process: int | None = None,
    ocr: str = "auto",
) -> str:
    """Parse letters (an iterable of texts or ``pathlib.Path`` files, as ``parse_many``, PDF
    pages without a text layer OCR'd by ``ocr``) and return the HTML report; with ``out``, also
    write it there (UTF-8, complete or not at all).
    One text or one path is a TypeError, not a corpus of its characters; an ``out`` that is one
    of the letters (by any name) is a ValueError, raised before anything is written."""
    if isinstance(items, (str, bytes, Path)):
        raise TypeError(
            f"imr_nlp.report expects an iterable of letters (texts or paths), not one {type(items).__name__}: "
            "pass a list, e.g. imr_nlp.report([letter])"
        )
    from imr_nlp.io import check_ocr, file_key, write_whole

    check_ocr(ocr)
    target = file_key(out) if out is not None and os.path.exists(out) else None
    overwritten: list[Path] = []

    def watched(items: Iterable) -> Iterator:
        for item in items:
            if target is not None and isinstance(item, Path) and file_key(item) == target:
                overwritten.append(item)
            yield item

    letters = letters_with_texts(watched(items), n_process, texts=evidence_limit, ocr=ocr)
    page = build_report(letters, title=title, evidence_limit=evidence_limit)
    if overwritten:
        raise ValueError(f"out={out} is one of the letters ({overwritten[0]}): the report would destroy it")
    if out is not None:
        write_whole(out, page)
    return page
