"""The benchmark corpora.

* ``unique_letters``: the real letters (the 97 public PDFs of ../shared, else the samples bundled
  in the package) cycled; every copy after the first has each digit replaced at random (same
  length, seeded), so no two texts are the same while their words stay those of real letters,
  as in a year of letters (../shared/eval/throughput.py makes its corpus the same way).
* ``pdf_paths``: the PDF files cycled.
* ``letters``: the seed letters, each copy made unique by a numbered first line (the earlier,
  shorter and cache-friendlier corpus; kept for comparison with older figures).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_LETTERS = ROOT.parent / "shared" / "corpus" / "letters"
PDF_LETTERS = ROOT.parent / "shared" / "corpus" / "pdf"
SAMPLES = ROOT / "imr_nlp" / "samples"
_DIGIT = re.compile(r"\d")


def pdf_folder() -> Path:
    """../shared's public PDF letters, else the bundled samples."""
    return PDF_LETTERS if PDF_LETTERS.exists() else SAMPLES


def seed_texts(folder: Path | None = None) -> list[str]:
    """The .txt and .pdf letters of ``folder`` (default: ../shared's seed letters, else the
    bundled samples)."""
    from imr_nlp.io import read_letter

    if folder is None:
        folder = SEED_LETTERS if SEED_LETTERS.exists() else SAMPLES
    return [read_letter(p) for p in sorted(folder.iterdir()) if p.suffix.lower() in (".txt", ".pdf")]


def letters(n: int, folder: Path | None = None) -> Iterator[str]:
    seeds = seed_texts(folder)
    for i in range(n):
        yield f"Case Number: CM99-{i:07d}\n" + seeds[i % len(seeds)]


def unique_letters(n: int, folder: Path | None = None, seed: int = 97) -> Iterator[str]:
    """``n`` letter texts: the real letters of ``folder`` (default :func:`pdf_folder`) cycled,
    every copy after the first with its digits replaced at random."""
    real = seed_texts(folder or pdf_folder())
    rnd = random.Random(seed)
    for i in range(n):
        text = real[i % len(real)]
        yield text if i < len(real) else _DIGIT.sub(lambda _: str(rnd.randrange(10)), text)


def pdf_paths(n: int, folder: Path | None = None) -> list[Path]:
    """``n`` PDF paths: the PDF letters of ``folder`` (default :func:`pdf_folder`) cycled."""
    paths = sorted((folder or pdf_folder()).glob("*.pdf"))
    return [paths[i % len(paths)] for i in range(n)]
