"""PDF text extraction alone (pypdfium2), and whole PDF letters through ``parse_many``.

Usage (from the project root, in the project's environment):

    python benchmarks/pdf.py [--folder ../shared/corpus/pdf] [--repeat 3]

Prints pages/s and letters/s of ``imr_nlp.io.read_letter`` in one process and in two (a
process pool), then letters/s of ``parse_many`` on the PDF paths with n_process 1 and 2
(workers read their own PDFs).
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy: keeps benchmarks/profile.py from shadowing stdlib "profile")
from _corpus import ROOT, SAMPLES

DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "pdf"


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def text_length(path: Path) -> int:
    from imr_nlp.io import read_letter

    return len(read_letter(path))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, default=DEFAULT_FOLDER if DEFAULT_FOLDER.exists() else SAMPLES)
    ap.add_argument("--repeat", type=int, default=3, help="passes over the folder")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    paths = sorted(args.folder.glob("*.pdf")) * args.repeat
    pages = sum(page_count(p) for p in paths)
    print(f"{len(paths)} PDF letters, {pages} pages ({args.folder}, {args.repeat} passes)")

    for path in set(paths):  # warm up: the file system cache and pdfium, outside the timing
        text_length(path)
    t0 = time.perf_counter()
    for path in paths:
        text_length(path)
    one = time.perf_counter() - t0
    print(f"read_letter, 1 process : {pages / one:8.1f} pages/s {len(paths) / one:8.1f} letters/s")
    with ProcessPoolExecutor(2) as pool:
        t0 = time.perf_counter()
        list(pool.map(text_length, paths, chunksize=8))
        two = time.perf_counter() - t0
    print(f"read_letter, 2 processes: {pages / two:8.1f} pages/s {len(paths) / two:8.1f} letters/s")

    import imr_nlp

    list(imr_nlp.parse_many(paths[:3]))
    for n_process in (1, 2):
        t0 = time.perf_counter()
        count = sum(1 for _ in imr_nlp.parse_many(paths, n_process=n_process))
        rate = count / (time.perf_counter() - t0)
        print(f"parse_many(PDF paths), n_process={n_process}: {rate:8.1f} letters/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
