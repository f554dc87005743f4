"""The ``imr-nlp`` command line: parse letters to JSON lines, or show a readable summary."""

from __future__ import annotations

import sys
from pathlib import Path

import click

LETTER_SUFFIXES = {".txt", ".pdf"}


def _expand(paths: tuple[str, ...]) -> list[Path]:
    """Files named, and the .txt/.pdf files inside folders named, in sorted order."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in LETTER_SUFFIXES))
        else:
            out.append(path)
    return out


@click.group()
def main() -> None:
    """imr-nlp: IMR final determination letters as structured data."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="output file (default stdout)")
def parse(paths: tuple[str, ...], out: str | None) -> None:
    """Parse letters (files or folders of .txt/.pdf) to JSON lines, one record per letter."""
    results, failed = _parsed(paths)
    stream = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        for path, det in results:
            record = det.model_dump(mode="json")
            record["source"] = str(path)
            stream.write(_json(record) + "\n")
    finally:
        if out:
            stream.close()
    if failed:
        sys.exit(1)


def _parsed(paths: tuple[str, ...]):
    """(path, Determination) for each letter; unreadable files are reported on stderr and
    counted in the returned list ``failed``."""
    import imr_nlp

    failed: list[Path] = []

    def generate():
        for path in _expand(paths):
            try:
                yield path, imr_nlp.parse_file(path)
            except imr_nlp.InputError as exc:
                failed.append(path)
                click.echo(f"error: {exc}", err=True)

    return generate(), failed


def _json(record: dict) -> str:
    import json

    return json.dumps(record, ensure_ascii=False)


@main.command()
@click.argument("paths", nargs=-1, required=True)
def show(paths: tuple[str, ...]) -> None:
    """Print a readable summary of each letter: header, decisions, outcomes, drugs, citations."""
    results, failed = _parsed(paths)
    for path, det in results:
        click.echo(f"== {path}")
        click.echo(
            f"   case {det.case_number or '-'}  decided {det.decision_date or '-'}  "
            f"injury {det.injury_date or '-'}  UR {det.ur_date or '-'}  "
            f"patient {det.patient.age or '?'} {det.patient.sex or '?'}"
        )
        for d in det.decisions:
            t = d.treatment
            what = t.drug.generic if t.drug else t.service
            details = ", ".join(
                f"{k}={v}"
                for k, v in (
                    ("strength", f"{t.strength.value:g} {t.strength.unit}" if t.strength else None),
                    ("quantity", t.quantity),
                    ("refills", t.refills),
                    ("frequency", t.frequency),
                    ("sites", "/".join(t.body_sites) or None),
                    ("partial", t.partial or None),
                )
                if v is not None
            )
            click.echo(f"   [{(d.outcome or '?').upper():10}] {d.item}")
            click.echo(f"      {t.category}: {what or '-'}" + (f" ({details})" if details else ""))
            for side, basis in (("claims admin", d.claims_administrator), ("reviewer", d.reviewer_basis)):
                cites = "; ".join(f"{c.source} {', '.join(c.topics)}".strip() for c in basis.citations)
                click.echo(f"      {side}: mtus_based={basis.mtus_based} {cites}")
        for w in det.warnings:
            click.echo(f"   warning: {w}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
