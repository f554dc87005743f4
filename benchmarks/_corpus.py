"""The benchmark corpus: seed letters, each copy made unique by a numbered first line (as
../shared/eval/throughput.py does), generated lazily so the input takes no memory."""

from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED_LETTERS = ROOT.parent / "shared" / "corpus" / "letters"
SAMPLES = ROOT / "imr_nlp" / "samples"


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
