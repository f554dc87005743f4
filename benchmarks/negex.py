"""Negation on the public NegEx test kit: imr_nlp's assertions against medspaCy's defaults.

Usage (from the project root, in the project's environment):

    python benchmarks/negex.py [--data ../shared/data/negex/Annotations-dev.txt]

For every annotated sentence both systems get the same concept span. "medspaCy defaults" is
``medspacy.load()`` (PyRuSH sentence splitter + ConText with its default rules), the concept
passed as an entity. Prints accuracy, Negated precision / recall / F1 and the time per sentence
of each system, then the speed of the two sentence splitters alone.
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import time
import warnings
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy: keeps benchmarks/profile.py from shadowing stdlib "profile")

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "negex" / "Annotations-dev.txt"


def read_kit(path: Path) -> list[tuple[str, tuple[int, int], bool]]:
    """(sentence, concept span, negated) rows; the concept is found as the scorer finds it."""
    rows = []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        for row in reader:
            if len(row) < 4 or row[3].strip() not in ("Affirmed", "Negated"):
                continue
            words = row[1].split()
            match = re.search(r"\s+".join(re.escape(w) for w in words), row[2], flags=re.I) if words else None
            if match:
                rows.append((row[2], match.span(), row[3].strip() == "Negated"))
    return rows


def scores(predicted: list[bool], gold: list[bool]) -> dict[str, float]:
    pairs = list(zip(predicted, gold, strict=True))
    tp = sum(p and g for p, g in pairs)
    fp = sum(p and not g for p, g in pairs)
    fn = sum(g and not p for p, g in pairs)
    accuracy = sum(p == g for p, g in pairs) / len(pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def run_imr_nlp(rows) -> list[bool]:
    import imr_nlp

    return [imr_nlp.assert_spans(sentence, [span])[0].negated for sentence, span, _ in rows]


def run_medspacy(rows) -> list[bool]:
    import medspacy

    nlp = medspacy.load()  # PyRuSH + target matcher + ConText, default rules
    out = []
    for sentence, (start, end), _ in rows:
        doc = nlp.make_doc(sentence)
        doc = nlp.get_pipe("medspacy_pyrush")(doc)
        span = doc.char_span(start, end, label="CONCEPT", alignment_mode="expand")
        doc.ents = [span] if span is not None else []
        doc = nlp.get_pipe("medspacy_context")(doc)
        out.append(bool(span is not None and doc.ents and doc.ents[0]._.is_negated))
    return out


def time_splitters(rows, repeats: int = 3) -> dict[str, float]:
    """Milliseconds per 1,000 sentences for each sentence splitter alone (best of ``repeats``)."""
    import medspacy

    import imr_nlp

    ours = imr_nlp.load()
    theirs = medspacy.load()
    docs_ours = [ours.make_doc(s) for s, _, _ in rows]
    docs_theirs = [theirs.make_doc(s) for s, _, _ in rows]
    result = {}
    for name, pipe, docs in (
        ("imr_sentences", ours.get_pipe("imr_sentences"), docs_ours),
        ("medspacy_pyrush", theirs.get_pipe("medspacy_pyrush"), docs_theirs),
    ):
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for doc in docs:
                pipe(doc)
            best = min(best, time.perf_counter() - t0)
        result[name] = best * 1_000_000 / len(docs)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    try:  # PyRuSH logs every sentence through loguru
        from loguru import logger

        logger.disable("PyRuSH")
    except ImportError:
        pass
    rows = read_kit(args.data)
    gold = [negated for _, _, negated in rows]
    print(f"NegEx kit: {args.data} ({len(rows)} rows)")
    print(f"{'system':20} {'accuracy':>9} {'P':>6} {'R':>6} {'F1':>6} {'ms/sentence':>12}")
    for name, runner in (("medspaCy defaults", run_medspacy), ("imr_nlp", run_imr_nlp)):
        runner(rows[:5])  # warm up: build the pipeline outside the timing
        t0 = time.perf_counter()
        predicted = runner(rows)
        ms = (time.perf_counter() - t0) * 1000 / len(rows)
        s = scores(predicted, gold)
        print(f"{name:20} {s['accuracy']:9.3f} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {ms:12.2f}")
    print("sentence splitter alone, ms per 1,000 sentences:")
    for name, ms in time_splitters(rows).items():
        print(f"  {name:18} {ms:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
