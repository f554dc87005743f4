"""Diagnoses and ICD-10-CM categories on case-summary sentences written for a held-out check
(benchmarks/data/unseen_diagnoses.jsonl, wordings absent from our letters; negative rows too).

    python benchmarks/unseen_diagnoses.py [--data FILE.jsonl] [--misses]

Each row is {"text", "diagnoses": [...], "codes": [3-character category, ...]} and optionally
"full_codes": [the most specific code the words support, ...], "acceptable": [[categories], ...] and
"assertions": [{"text", "negated" | "historical" | "uncertain": bool}].
Diagnoses are scored as the facts scorer does (loose text match); a code counts when its
3-character category is the expected one (or one of the acceptable ones); the full code counts
when it equals the gold code (dots ignored).
"""

import argparse
import json
import re
from pathlib import Path

import _no_shadow  # noqa: F401  (before spaCy: keeps benchmarks/profile.py from shadowing stdlib "profile")

import imr_nlp

DATA = Path(__file__).resolve().parent / "data" / "unseen_diagnoses.jsonl"


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9/ ]+", " ", text.lower()).split())


def _same(a: str, b: str) -> bool:
    a, b = _norm(a), _norm(b)
    return bool(a and b) and (a == b or a in b or b in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    tp = fp = fn = code_ok = code_n = full_ok = full_n = assert_ok = assert_n = 0
    for line in args.data.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        result = imr_nlp.parse("CLINICAL CASE SUMMARY\n" + row["text"])
        found = [m for m in result.diagnoses if m.kind == "diagnosis"]
        full_codes = row.get("full_codes") or [None] * len(row["diagnoses"])
        acceptable = row.get("acceptable") or [[] for _ in row["diagnoses"]]
        for gold, category, full, also in zip(row["diagnoses"], row["codes"], full_codes, acceptable, strict=True):
            hits = [m for m in found if _same(gold, m.text)]
            if not hits:
                fn += 1
                if args.misses:
                    print(f"missed {gold!r} in {row['text'][:60]!r}")
                continue
            tp += 1
            code_n += 1
            if any((m.icd10 or "").replace(".", "")[:3] in {category, *also} for m in hits):
                code_ok += 1
            elif args.misses:
                print(f"code {gold!r}: want {category}, got {[m.icd10 for m in hits]}")
            if full:
                full_n += 1
                if any((m.icd10 or "").replace(".", "").upper() == full.replace(".", "").upper() for m in hits):
                    full_ok += 1
                elif args.misses:
                    print(f"full code {gold!r}: want {full}, got {[m.icd10 for m in hits]}")
        for assertion in row.get("assertions") or []:
            flag = next(k for k in ("negated", "historical", "uncertain") if k in assertion)
            hits = [m for m in result.diagnoses if _same(assertion["text"], m.text)]
            assert_n += 1
            if any(bool(getattr(m, flag)) == bool(assertion[flag]) for m in hits):
                assert_ok += 1
            elif args.misses:
                got = [(m.text, getattr(m, flag)) for m in hits]
                print(f"assertion {assertion['text']!r} {flag}={assertion[flag]}: got {got}")
        for m in found:
            if not any(_same(g, m.text) for g in row["diagnoses"]):
                fp += 1
                if args.misses:
                    print(f"extra {m.text!r} in {row['text'][:60]!r}")
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(f"diagnoses P/R/F1 {p:.3f}/{r:.3f}/{f1:.3f} (tp {tp}, fp {fp}, fn {fn})")
    print(f"icd10 category {code_ok}/{code_n} = {code_ok / max(1, code_n):.3f}")
    if full_n:
        print(f"icd10 full code {full_ok}/{full_n} = {full_ok / max(1, full_n):.3f}")
    if assert_n:
        print(f"assertions {assert_ok}/{assert_n} = {assert_ok / assert_n:.3f} (a mention found with the flag as gold)")


if __name__ == "__main__":
    main()
