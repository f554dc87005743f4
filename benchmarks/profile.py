"""Where the time goes: per-component timings of the imr_nlp pipeline.

Usage (from the project root, in the project's environment):

    python benchmarks/profile.py [--docs 300] [--warm 300] [--letters DIR]

Runs the tokenizer, every pipeline component and the assembly of the pydantic Determination
one after another over the same letters, and prints a table of seconds, share of the total and
milliseconds per letter, with spaCy's bare tokenizer as the reference. The letters are the real
ones (the public PDFs of ../shared, else the samples bundled in the package, or the letters of
DIR), cycled with their digits replaced at random in every copy after the first; ``--warm``
letters are parsed first, so the caches are in the state a long run keeps them in.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy: keeps this file from shadowing stdlib "profile")
from _corpus import unique_letters


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--warm", type=int, default=300, help="letters parsed before the timings")
    ap.add_argument("--letters", type=Path, default=None, help="folder of .txt/.pdf letters to cycle through")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    import spacy

    import imr_nlp

    texts = list(unique_letters(args.warm + args.docs, args.letters))
    nlp = imr_nlp.load()
    list(imr_nlp.parse_many(texts[: max(args.warm, 5)], n_process=1))  # warm up
    texts = texts[args.warm :]

    timings: dict[str, float] = {}
    blank = spacy.blank("en")
    t0 = time.perf_counter()
    tokens = sum(len(blank.make_doc(t)) for t in texts)
    reference = time.perf_counter() - t0

    t0 = time.perf_counter()
    docs = [nlp.make_doc(t) for t in texts]
    timings["tokenizer (cleaning + scispaCy rules)"] = time.perf_counter() - t0
    for name, pipe in nlp.pipeline:
        t0 = time.perf_counter()
        docs = [pipe(doc) for doc in docs]
        timings[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for doc in docs:
        doc._.determination  # noqa: B018  (the getter assembles the pydantic objects)
    timings["assemble (pydantic Determination)"] = time.perf_counter() - t0

    total = sum(timings.values())
    print(f"{len(texts)} letters, {tokens} tokens (spacy.blank('en') count)")
    print(f"{'step':40} {'seconds':>8} {'share':>7} {'ms/letter':>10}")
    for name, seconds in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"{name:40} {seconds:8.2f} {seconds / total:7.1%} {seconds * 1000 / len(texts):10.2f}")
    print(f"{'total':40} {total:8.2f} {1:7.1%} {total * 1000 / len(texts):10.2f}")
    print(f"{'reference: spacy.blank tokenizer':40} {reference:8.2f} {'':7} {reference * 1000 / len(texts):10.2f}")
    print(f"ratio to the bare tokenizer: {reference / total:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
