"""Big input and memory: time against text length, and memory after batches.

Usage (from the project root, in the project's environment):

    python benchmarks/robustness.py big      # parse time of 0.25 - 1 MB texts vs 40 letters
    python benchmarks/robustness.py memory   # RSS after batches of letters with new words each
    python benchmarks/robustness.py diagnoses  # diagnosis-shaped texts of growing length

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
    ap.add_argument("what", choices=["big", "memory", "diagnoses"])
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--per-batch", type=int, default=300)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.what == "big":
        big()
    elif args.what == "diagnoses":
        diagnoses()
    else:
        memory(args.batches, args.per_batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
