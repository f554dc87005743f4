"""Input sources: the public PDFs scored through our reader (their text layer) and through OCR
of their pages as a scanner would give them, with the seconds each page costs.

Usage (from the project root, in the project's environment, with ../shared beside it and the
ocr extra installed for the OCR conditions):

    python benchmarks/sources.py reader              # the text layer (ocr="never")
    python benchmarks/sources.py pdftotext           # text another extractor wrote: pdftotext,
                                                     # pdftotext-layout, pdftotext-raw, pdfminer, pdfplumber
    python benchmarks/sources.py all                 # the reader and every extractor, one table
    python benchmarks/sources.py clean [--limit N]   # pages rendered at 300 dpi, OCR'd
    python benchmarks/sources.py degraded [--limit N]  # rendered, turned 0.7 degree, 80% scale, noise
    python benchmarks/sources.py all --letters benchmarks/data/unseen_letters  # letters we have as text
                                                     # only, typeset as PDFs first (reportlab)

An extractor condition gives each PDF to that tool (benchmarks/_extracted_texts.py: Debian's
poppler-utils for pdftotext; pdfminer.six and pdfplumber of the dev extra) and parses its text
with ``imr_nlp.parse``: the text a data lake holds from another tool. Each OCR condition makes,
for every letter, an image-only PDF of its pages (pypdfium2 renders
them in grey; Pillow writes the PDF) and parses it with ``parse_file(ocr="auto")``, so the
pages go through the same reader process and OCR as a user's scans. Scores are those of
../shared/eval/score.py (micro-F1 over all slots, hard-F1 over those fixed wording does not give
away) against ../shared/corpus/gold-pdf. Seconds a page are wall time of reading and parsing,
one letter at a time (tesseract on one thread), divided by the pages; making the scans is not
counted. OCR costs about 1.7 s a page: a full OCR condition of the 97 letters takes 10 minutes.
"""

from __future__ import annotations

import argparse
import importlib.util
import io as bytes_io
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy)
from _extracted_texts import TOOLS, extract

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PDFS, GOLD = SHARED / "corpus" / "pdf", SHARED / "corpus" / "gold-pdf"
DPI = 300
# the degraded scan: a page fed askew, scanned at 80% of the resolution, with sensor noise
TILT_DEGREES, SCALE, NOISE_SIGMA = 0.7, 0.8, 12.0


def _scorer():
    spec = importlib.util.spec_from_file_location("score", SHARED / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scan(pdf: Path, degraded: bool, seed: int = 0) -> bytes:
    """An image-only PDF of ``pdf``'s pages rendered at DPI in grey; ``degraded``: each page
    turned TILT_DEGREES, scaled to SCALE and given Gaussian noise of NOISE_SIGMA grey levels."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    document = pdfium.PdfDocument(pdf)
    images = []
    rng = np.random.default_rng(seed)
    for page in document:
        image = page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
        if degraded:
            image = image.rotate(TILT_DEGREES, resample=Image.BICUBIC, fillcolor=255)
            image = image.resize((round(image.width * SCALE), round(image.height * SCALE)), Image.LANCZOS)
            noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, NOISE_SIGMA, (image.height, image.width))
            image = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        images.append(image)
    document.close()
    out = bytes_io.BytesIO()
    resolution = DPI * (SCALE if degraded else 1)  # the page keeps its size
    images[0].save(out, "PDF", resolution=resolution, save_all=True, append_images=images[1:])
    return out.getvalue()


def run(condition: str, limit: int | None, pdfs: Path = PDFS, gold_dir: Path = GOLD) -> dict:
    import pypdfium2 as pdfium

    import imr_nlp
    from imr_nlp.api import warm_up

    score = _scorer()
    tally = score.Tally()
    golds = sorted(gold_dir.glob("*.json"))
    if limit:
        golds = random.Random(0).sample(golds, min(limit, len(golds)))
        golds.sort()
    warm_up()  # the pipeline and its lazy tables, so that the first letter's time is its own
    seconds, pages, letters, codes, ocr_pages = 0.0, 0, 0, Counter(), 0
    with tempfile.TemporaryDirectory() as folder:
        for gold in golds:
            pdf = pdfs / f"{gold.stem}.pdf"
            if not pdf.exists():
                continue
            path = pdf
            if condition in ("clean", "degraded"):
                path = Path(folder) / pdf.name
                path.write_bytes(scan(pdf, condition == "degraded", seed=letters))
            started = time.perf_counter()
            try:
                if condition in TOOLS:
                    determination = imr_nlp.parse(extract(pdf, condition))
                else:
                    determination = imr_nlp.parse_file(path, ocr="never" if condition == "reader" else "auto")
            except imr_nlp.InputError as exc:
                print(f"{pdf.name}: {exc}", file=sys.stderr)
                determination = imr_nlp.Determination(error=str(exc))
            seconds += time.perf_counter() - started
            pages += len(pdfium.PdfDocument(pdf))
            ocr_pages += len(determination.ocr_pages)
            codes.update(w.split(":")[0] for w in determination.warnings)
            score.score_doc(tally, gold.stem, json.loads(gold.read_text()), determination.model_dump(mode="json"))
            letters += 1
            print(f"{letters}/{len(golds)} {pdf.name} {seconds / pages:.2f} s/page", file=sys.stderr, flush=True)
    totals = [sum(v[i] for v in tally.c.values()) for i in range(3)]
    hard = [sum(v[i] for g, v in tally.c.items() if not g.startswith(score.EASY)) for i in range(3)]
    return {
        "condition": condition,
        "letters": letters,
        "pages": pages,
        "ocr_pages": ocr_pages,
        "micro_f1": round(score.Tally.f1(*totals)[2], 3),
        "hard_f1": round(score.Tally.f1(*hard)[2], 3),
        "seconds_per_page": round(seconds / max(pages, 1), 3),
        "warnings": dict(sorted(codes.items())),
        "groups_under_0.99": {
            group: round(score.Tally.f1(*counts)[2], 3)
            for group, counts in sorted(tally.c.items())
            if score.Tally.f1(*counts)[2] < 0.99
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("condition", choices=["reader", *TOOLS, "clean", "degraded", "all"])
    parser.add_argument("--limit", type=int, default=None, help="a seeded sample of this many letters")
    parser.add_argument(
        "--letters",
        type=Path,
        default=None,
        help="a folder of letters written as text (letters/*.txt, gold/*.json: benchmarks/data/unseen_letters), "
        "typeset as PDFs first (benchmarks/_render_letters.py) instead of ../shared's PDFs",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pdfs, gold_dir = PDFS, GOLD
        if args.letters:
            from _render_letters import render_pdf

            pdfs, gold_dir = Path(folder), args.letters / "gold"
            for letter in sorted((args.letters / "letters").glob("*.txt")):
                (pdfs / f"{letter.stem}.pdf").write_bytes(render_pdf(letter.read_text(encoding="utf-8")))
        if args.condition != "all":
            print(json.dumps(run(args.condition, args.limit, pdfs, gold_dir)))
            return
        results = [run(condition, args.limit, pdfs, gold_dir) for condition in ("reader", *TOOLS)]
    print("| text | letters | micro-F1 | hard-F1 | s/page |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['condition']} | {r['letters']} | {r['micro_f1']:.3f} | {r['hard_f1']:.3f} "
            f"| {r['seconds_per_page']:.3f} |"
        )


if __name__ == "__main__":
    main()
