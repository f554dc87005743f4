"""How well the case summary alone gives the injury and UR dates: the header's "Date of Injury:"
and "UR Denial Date:" lines are removed from each letter, then the dates the pipeline finds are
compared with the gold header values.

    python benchmarks/summary_dates.py [--letters ../shared/corpus/pdf --gold ../shared/corpus/gold-pdf]
"""

import argparse
import json
import re
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy: keeps benchmarks/profile.py from shadowing stdlib "profile")

import imr_nlp
from imr_nlp.io import read_pdf

_HEADER_LINES = re.compile(r"^[ \t]*(?:Date\s+of\s+Injury|UR\s+Denial\s+Date)\s*:.*$", re.I | re.M)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", default="../shared/corpus/pdf")
    parser.add_argument("--gold", default="../shared/corpus/gold-pdf")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    counts = {"injury_date": [0, 0, 0], "ur_date": [0, 0, 0]}  # right, wrong, none
    for gold_file in sorted(Path(args.gold).glob("*.json")):
        gold = json.loads(gold_file.read_text())
        pdf = Path(args.letters) / f"{gold_file.stem}.pdf"
        txt = Path(args.letters) / f"{gold_file.stem}.txt"
        if pdf.exists():
            text = read_pdf(pdf)
        elif txt.exists():
            text = txt.read_text(encoding="utf-8")
        else:
            continue
        result = imr_nlp.parse(_HEADER_LINES.sub("", text))
        for field, tally in counts.items():
            if gold.get(field) is None:
                continue
            got = getattr(result, field)
            got = got.isoformat() if hasattr(got, "isoformat") else got
            index = 0 if got == gold[field] else (2 if got is None else 1)
            tally[index] += 1
            if index and args.misses:
                print(f"{gold_file.stem} {field}: gold={gold[field]} got={got}")
    for field, (right, wrong, none) in counts.items():
        total = right + wrong + none
        print(f"{field}: {right}/{total} right ({right / max(1, total):.3f}), {wrong} wrong, {none} not found")


if __name__ == "__main__":
    main()
