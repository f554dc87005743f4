"""A year of letters: imr_nlp beside spaCy's bare tokenizer and PDF extraction alone, one run.

Usage (from the project root, in the project's environment):

    python benchmarks/year.py [--docs 2000] [--pdfs 5000] [--json]

On real letters (the 97 public PDFs of ../shared, else the bundled samples):

1. texts: ``--docs`` unique letter texts (the real ones cycled, digits replaced at random in
   every copy after the first) through ``spacy.blank("en")`` (the floor: spaCy's tokenizer, no
   rule of ours) and through ``imr_nlp.parse_many`` in one process and with its default
   workers (one per usable core); the ratio is ours to the bare tokenizer's tokens/s;
2. PDFs: ``--pdfs`` PDF paths (the files cycled) through text extraction alone
   (``imr_nlp.io.read_letter``) and through ``parse_many`` (workers read their own PDFs), in
   one process and with the default workers; the minutes a year of letters (172,000) takes
   are projected from each measured rate;
3. memory: the growth of this process's peak resident memory over the one-process text run,
   its resident memory every 500 letters, and the peak of the largest worker.

Cycled PDF files repeat their text, which favours the caches; the text runs do not.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import _no_shadow  # noqa: F401  (before spaCy: keeps benchmarks/profile.py from shadowing stdlib "profile")
from _corpus import pdf_folder, pdf_paths, unique_letters

YEAR = 172_000  # letters in 2017, per the DWC


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _extract(path) -> int:
    from imr_nlp.io import read_letter

    return len(read_letter(path))


def timed(run) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = run()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000, help="unique letter texts for the text runs")
    ap.add_argument("--pdfs", type=int, default=5000, help="PDF parses for the PDF runs")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    import spacy

    import imr_nlp
    from imr_nlp.api import default_workers

    workers = default_workers()
    texts = list(unique_letters(args.docs))
    paths = pdf_paths(args.pdfs)
    blank = spacy.blank("en")
    list(imr_nlp.parse_many(texts[:20], n_process=1))  # build the pipeline outside the timings
    for _ in blank.pipe(texts[:20]):
        pass
    out: dict[str, object] = {"corpus": str(pdf_folder()), "workers": workers, "docs": len(texts), "pdfs": len(paths)}

    # 1. texts
    seconds, tokens = timed(lambda: sum(len(doc) for doc in blank.pipe(texts, batch_size=64)))
    out["tokens"] = tokens
    out["blank_tokens_per_s"] = tokens / seconds
    trace = []

    def one_process():
        for i, _ in enumerate(imr_nlp.parse_many(texts, n_process=1), start=1):
            if i % 500 == 0:
                trace.append((i, round(rss_mb())))
        return i

    before = peak_mb()
    seconds, _ = timed(one_process)
    out["peak_memory_growth_mb"] = peak_mb() - before
    out["rss_mb_every_500"] = trace
    out["text_1_process_letters_per_s"] = len(texts) / seconds
    out["ratio_1_process"] = tokens / seconds / out["blank_tokens_per_s"]
    seconds, _ = timed(lambda: sum(1 for _ in imr_nlp.parse_many(texts)))
    out["text_workers_letters_per_s"] = len(texts) / seconds
    out["ratio_workers"] = tokens / seconds / out["blank_tokens_per_s"]

    # 2. PDFs
    seconds, _ = timed(lambda: [_extract(p) for p in paths])
    out["extract_1_process_letters_per_s"] = len(paths) / seconds
    with ProcessPoolExecutor(workers) as pool:
        seconds, _ = timed(lambda: list(pool.map(_extract, paths, chunksize=16)))
    out["extract_workers_letters_per_s"] = len(paths) / seconds
    seconds, _ = timed(lambda: sum(1 for _ in imr_nlp.parse_many(paths, n_process=1)))
    out["pdf_1_process_letters_per_s"] = len(paths) / seconds
    seconds, _ = timed(lambda: sum(1 for _ in imr_nlp.parse_many(paths)))
    out["pdf_workers_letters_per_s"] = len(paths) / seconds
    for key in ("pdf_1_process", "pdf_workers"):
        out[f"{key}_year_minutes"] = YEAR / out[f"{key}_letters_per_s"] / 60
    out["largest_worker_peak_mb"] = peak_mb(resource.RUSAGE_CHILDREN)

    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}))
        return 0
    print(f"{out['corpus']}: {len(texts)} unique texts ({tokens:,} tokens), {len(paths)} PDF parses, {workers} workers")
    print(f"{'run':44} {'1 process':>12} {f'{workers} workers':>12}")
    rows = [
        ("bare tokenizer, tokens/s (the floor)", out["blank_tokens_per_s"], None),
        ("imr_nlp on texts, letters/s", out["text_1_process_letters_per_s"], out["text_workers_letters_per_s"]),
        ("  ratio to the bare tokenizer", out["ratio_1_process"], out["ratio_workers"]),
        (
            "PDF text extraction alone, letters/s",
            out["extract_1_process_letters_per_s"],
            out["extract_workers_letters_per_s"],
        ),
        ("imr_nlp on PDFs, letters/s", out["pdf_1_process_letters_per_s"], out["pdf_workers_letters_per_s"]),
        (f"  a year ({YEAR:,} PDFs), minutes", out["pdf_1_process_year_minutes"], out["pdf_workers_year_minutes"]),
    ]
    for name, one, many in rows:
        print(f"{name:44} {one:12,.2f} {'' if many is None else f'{many:12,.2f}'}")
    print(f"peak memory growth over the one-process text run: {out['peak_memory_growth_mb']:.1f} MB")
    print("resident memory every 500 letters (MB): " + ", ".join(f"{i}: {mb}" for i, mb in trace))
    print(f"largest worker's peak resident memory: {out['largest_worker_peak_mb']:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
