"""A letter's text as other PDF text extractors give it, to measure how well imr_nlp reads text
that did not come from its own reader (imr_nlp.io.read_pdf).

``extract(pdf_path, tool)`` for the tools in :data:`TOOLS`: poppler's ``pdftotext`` in its plain,
``-layout`` and ``-raw`` modes (the poppler-utils command on the path), pdfminer.six and
pdfplumber (the ``dev`` extra). Run as a script, it writes one ``<name>.txt`` per PDF of a folder
into an output folder, which ../shared/eval/score.py reads as ``--letters``::

    python benchmarks/_extracted_texts.py pdftotext ../shared/corpus/pdf /tmp/texts/pdftotext
"""

from __future__ import annotations

import argparse
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path


def _pdftotext(*options: str) -> Callable[[Path], str]:
    def run(pdf_path: Path) -> str:
        done = subprocess.run(
            ["pdftotext", *options, "-enc", "UTF-8", str(pdf_path), "-"], capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")

    return run


def _pdfminer(pdf_path: Path) -> str:
    from pdfminer.high_level import extract_text

    # the letters forbid copying in their metadata, which pdfminer notes (and ignores) each time
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    return extract_text(str(pdf_path))


def _pdfplumber(pdf_path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(str(pdf_path)) as pdf:
        return "\f".join(page.extract_text() or "" for page in pdf.pages)


TOOLS: dict[str, Callable[[Path], str]] = {
    "pdftotext": _pdftotext(),
    "pdftotext-layout": _pdftotext("-layout"),
    "pdftotext-raw": _pdftotext("-raw"),
    "pdfminer": _pdfminer,
    "pdfplumber": _pdfplumber,
}


def extract(pdf_path: Path | str, tool: str) -> str:
    """The text of the PDF at ``pdf_path`` as ``tool`` (one of :data:`TOOLS`) extracts it."""
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r}: one of {', '.join(TOOLS)}")
    return TOOLS[tool](Path(pdf_path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tool", choices=list(TOOLS))
    parser.add_argument("pdfs", type=Path, help="a folder of PDF letters")
    parser.add_argument("out", type=Path, help="the folder the .txt files are written to")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for pdf in sorted(args.pdfs.glob("*.pdf")):
        (args.out / f"{pdf.stem}.txt").write_text(extract(pdf, args.tool), encoding="utf-8")


if __name__ == "__main__":
    main()
