"""Big input and memory: time against text length, and memory after batches.

Usage (from the project root, in the project's environment):

    python benchmarks/robustness.py big      # parse time of 0.25 - 1 MB texts vs 40 letters
    python benchmarks/robustness.py memory   # RSS after batches of letters with new words each
    python benchmarks/robustness.py diagnoses  # diagnosis-shaped texts of growing length
    python benchmarks/robustness.py shapes   # hostile shapes at n and 2n: time and memory growth
    python benchmarks/robustness.py flattened  # the public letters with every line break flattened

``big`` runs letters together into one text of growing length and compares the time per
character with that of 40 letters parsed one by one: linear time means a flat time per
character. ``memory`` parses batches whose letters each carry words never seen before (the
worst case for spaCy's vocabulary, which keeps every distinct token text) and prints the
resident memory after each batch; the API renews the pipeline once its vocabulary has grown by
``imr_nlp.api.MAX_NEW_STRINGS`` strings, so memory stays bounded.
"""

from __future__ import annotations

import argparse
import time
import warnings
from functools import partial
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy)
from _corpus import seed_texts

PDF_LETTERS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "pdf"


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 1e6


def big() -> None:
    import imr_nlp

    texts = seed_texts(PDF_LETTERS if PDF_LETTERS.exists() else None)
    imr_nlp.parse(texts[0])
    forty = [texts[i % len(texts)] for i in range(40)]
    t0 = time.perf_counter()
    for text in forty:
        imr_nlp.parse(text)
    t_forty = time.perf_counter() - t0
    chars = sum(map(len, forty))
    print(f"40 letters one by one: {chars:>9,} chars {t_forty:6.2f} s {t_forty / chars * 1e6:6.2f} us/char")
    joined = "\n".join(texts * (1_100_000 // sum(map(len, texts)) + 1))
    for size in (250_000, 500_000, 1_000_000):
        t0 = time.perf_counter()
        imr_nlp.parse(joined[:size])
        seconds = time.perf_counter() - t0
        print(f"one text of {size:>9,} chars:       {seconds:6.2f} s {seconds / size * 1e6:6.2f} us/char")


# Case summaries shaped to stress the diagnoses component: one endless list, many list cues with
# list ends, many headings, a condition phrase repeated in one sentence.
DIAGNOSIS_SHAPES = {
    "one long list": lambda n: "The injured worker was diagnosed with " + "lumbar strain, " * n + ".",
    "many cues": lambda n: "He was diagnosed with lumbar strain who " * n,
    "many headings": lambda n: "Diagnoses:\n" * n,
    "one long sentence": lambda n: "no evidence of intracranial bleeding or " * n,
}


def diagnoses() -> None:
    """Time per character of diagnosis-shaped texts at two lengths: flat means linear."""
    import imr_nlp

    imr_nlp.parse("warm up")
    for name, make in DIAGNOSIS_SHAPES.items():
        for n in (2_000, 8_000):
            text = "CLINICAL CASE SUMMARY\n" + make(n)
            t0 = time.perf_counter()
            result = imr_nlp.parse(text)
            seconds = time.perf_counter() - t0
            print(
                f"{name:18} {len(text):>9,} chars {seconds:6.2f} s {seconds / len(text) * 1e6:6.2f} us/char "
                f"{len(result.diagnoses):>6} mentions"
            )


# Hostile or sloppy shapes, each a text of about n characters. Linear cost means the time at 2n
# is about twice the time at n (a ratio near 2; 4 would be quadratic).
def _decision_blocks(n: int) -> str:
    block = (
        "Norco 10/325mg #120: Upheld\nClaims Administrator guideline: MTUS.\nMAXIMUS guideline: MTUS Opioids.\n"
        "Decision rationale: The guidelines do not support it. The request is not medically necessary.\n"
    )
    return "IMR ISSUES, DECISIONS AND RATIONALES\n" + block * (n // len(block))


HOSTILE_SHAPES = {
    "no spaces": lambda n: "x" * n,
    "a run of '#'": lambda n: "#" * n,
    "a run of '='": lambda n: "=" * n,
    "mixed punctuation": lambda n: '#=*"[](){}' * (n // 12),
    "digits": lambda n: "#" + "9" * n,
    "invisible characters": lambda n: "Upheld\u200b\u200e\x00 " * (n // 10),
    "one long sentence of drugs": lambda n: "no Norco or " * (n // 12),
    "body sites": lambda n: "MRI of the " + "left knee, right shoulder, " * (n // 27),
    "decision blocks": _decision_blocks,
    "diagnosis list": lambda n: "CLINICAL CASE SUMMARY\nDiagnoses: " + "lumbar strain, " * (n // 15),
}


def _timed(call, repeat: int = 2) -> tuple[float, object]:
    """The best of ``repeat`` runs (a collection of the garbage of the run before can land in any)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - t0)
    return best, result


def shapes(n: int) -> None:
    """Seconds at n and 2n characters for each hostile shape, and their ratio (2 = linear)."""
    import imr_nlp

    imr_nlp.parse(seed_texts(PDF_LETTERS if PDF_LETTERS.exists() else None)[0])  # warm up
    print(f"{'shape':28} {'chars n':>9} {'s at n':>7} {'s at 2n':>8} {'ratio':>6}  rss MB")
    for name, make in HOSTILE_SHAPES.items():
        small, large = make(n), make(2 * n)
        t_small, _ = _timed(partial(imr_nlp.parse, small))
        t_large, _ = _timed(partial(imr_nlp.parse, large))
        ratio = t_large / max(t_small, 1e-6)
        print(f"{name:28} {len(small):>9,} {t_small:7.2f} {t_large:8.2f} {ratio:6.1f}  {rss_mb():.0f}")
    for label, count in (("assert_spans, n spans", n // 17), ("assert_spans, 2n spans", n // 8)):
        long_text = " ".join(["no pain or fever"] * count)
        spans = [(i * 17 + 3, i * 17 + 7) for i in range(count)]
        seconds, _ = _timed(partial(imr_nlp.assert_spans, long_text, spans))
        print(f"{label:28} {len(long_text):>9,} {seconds:7.2f}")


def flattened() -> None:
    """Letters whose decisions (item, outcome, quantity, rationale) change when every run of white
    space, line breaks included, becomes one space."""
    import imr_nlp

    texts = seed_texts(PDF_LETTERS if PDF_LETTERS.exists() else None)

    def decisions(text: str) -> list[tuple]:
        return [
            (d.outcome, " ".join(d.item.split()), d.treatment.quantity, " ".join(d.rationale.split()))
            for d in imr_nlp.parse(text).decisions
        ]

    changed = [i for i, text in enumerate(texts) if decisions(text) != decisions(" ".join(text.split()))]
    print(f"letters whose decisions change when flattened: {len(changed)} of {len(texts)}")


def memory(batches: int, per_batch: int) -> None:
    import imr_nlp
    import imr_nlp.api as api

    texts = seed_texts(PDF_LETTERS if PDF_LETTERS.exists() else None)
    imr_nlp.parse(texts[0])
    print(f"after loading: rss {rss_mb():.0f} MB (vocabulary budget {api.MAX_NEW_STRINGS:,} new strings)")
    for batch in range(batches):
        items = [
            texts[i % len(texts)] + "\n" + " ".join(f"w{batch}x{i}x{j}" for j in range(200)) for i in range(per_batch)
        ]
        for _ in imr_nlp.parse_many(items):
            pass
        strings = len(imr_nlp.load().vocab.strings)
        done = f"after batch {batch + 1:>2} ({per_batch} letters)"
        print(f"{done}: rss {rss_mb():.0f} MB, vocabulary {strings:,} strings")
    imr_nlp.reset()
    print(f"after imr_nlp.reset(): rss {rss_mb():.0f} MB")
    imr_nlp.parse(texts[0])
    print(f"after loading again: rss {rss_mb():.0f} MB")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["big", "memory", "diagnoses", "shapes", "flattened"])
    ap.add_argument("--chars", type=int, default=100_000, help="n for shapes")
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--per-batch", type=int, default=300)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.what == "big":
        big()
    elif args.what == "diagnoses":
        diagnoses()
    elif args.what == "shapes":
        shapes(args.chars)
    elif args.what == "flattened":
        flattened()
    else:
        memory(args.batches, args.per_batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
