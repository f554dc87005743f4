"""Scaling of ``imr_nlp.parse_many``: speed-up across processes and memory over long runs.

Usage (from the project root, in the project's environment):

    python benchmarks/scale.py speedup [--docs 2000]      # n_process=1, 2, and the default
    python benchmarks/scale.py memory [--docs 20000]      # resident memory while parsing

Letters are the real letters of ../shared (else the bundled samples), cycled with their digits
replaced at random in every copy after the first, generated lazily, so the input itself takes
no memory. ``memory`` parses in this process and prints its resident set size and peak after
1,000 letters, every 5,000 and at the end.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import _no_shadow  # noqa: F401  (before spaCy: keeps benchmarks/profile.py from shadowing stdlib "profile")
from _corpus import unique_letters as letters


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speedup(n: int) -> None:
    import imr_nlp

    list(imr_nlp.parse_many(letters(10), n_process=1))  # build the pipeline outside the timing
    rates = {}
    for n_process in (1, 2, None):
        t0 = time.perf_counter()
        count = sum(1 for _ in imr_nlp.parse_many(letters(n), n_process=n_process))
        rates[n_process] = count / (time.perf_counter() - t0)
        print(f"n_process={n_process}: {count} letters, {rates[n_process]:.1f} letters/s")
    print(f"speed-up n_process=2 / n_process=1: {rates[2] / rates[1]:.2f}x")


def memory(n: int) -> None:
    import imr_nlp

    list(imr_nlp.parse_many(letters(10), n_process=1))
    print(f"after loading: rss {rss_mb():.0f} MB")
    t0 = time.perf_counter()
    for i, _ in enumerate(imr_nlp.parse_many(letters(n), n_process=1), start=1):
        if i in (1000, n) or i % 5000 == 0:
            rate = i / (time.perf_counter() - t0)
            print(f"{i:>7} letters: rss {rss_mb():.0f} MB, peak {peak_mb():.0f} MB, {rate:.1f} letters/s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["speedup", "memory"])
    ap.add_argument("--docs", type=int, default=None)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.what == "speedup":
        speedup(args.docs or 2000)
    else:
        memory(args.docs or 20000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
