"""One declared contract per pipeline component: what it reads and writes on the Doc, its rule
files and the slots of the output it is scored on, said once and used everywhere.

From a component's ``Contract`` come its factory's ``requires``/``assigns`` (spaCy's coarse
names), the run-time check of its inputs (a reordered or incomplete pipeline fails naming the
missing producer), the generated docs' reads and writes, the scoring families, and the pipeline
order (derived from the reads/writes graph and checked against ``imr_nlp.pipeline.PIPELINE``).

What a contract names:
- ``spans:KEY``: the span group ``SPAN_GROUPS[KEY]`` (``doc.spans["imr_items"]`` for ``spans:items``);
- ``doc._.NAME``, ``span._.NAME``, ``token._.NAME``: extensions (imr_nlp.extensions);
- ``vocab.lookups:NAME``: a table one component shares with others (``SHARED_TABLES[NAME]`` in
  the vocabulary's lookups, read from ``doc.vocab``);
- ``doc.sents``, ``doc.ents``, ``token.is_sent_start``: spaCy's own attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

SPANS = "spans:"
LOOKUPS = "vocab.lookups:"
# The tokenizer runs before every component: what it writes is there for all of them.
TOKENIZER = "imr_nlp.tokenizer.v1"


@dataclass(frozen=True)
class Contract:
    """What one component (by factory name) reads and writes, its rule files, and the slots of
    the output contract it fills (its scoring family: prefixes of ``imr_nlp.scoring`` slots).

    ``reads`` must be on the Doc (a doc without one is refused, naming its producer);
    ``reads_if_present`` is read when there (abbreviations of the mentions, when mentions were
    found): both order the pipeline, only ``reads`` are checked."""

    factory: str
    reads: tuple[str, ...] = ()
    reads_if_present: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    rule_files: tuple[str, ...] = ()
    scores: tuple[str, ...] = ()

    @property
    def requires(self) -> list[str]:
        """spaCy's ``requires``: the inputs in its coarse names (a span group is ``doc.spans``)."""
        return _spacy_names(self.reads + self.reads_if_present)

    @property
    def assigns(self) -> list[str]:
        """spaCy's ``assigns``: the outputs in its coarse names."""
        return _spacy_names(self.writes)

    def span_groups_read(self) -> tuple[str, ...]:
        return tuple(name[len(SPANS) :] for name in self.reads if name.startswith(SPANS))

    def span_groups_written(self) -> tuple[str, ...]:
        return tuple(name[len(SPANS) :] for name in self.writes if name.startswith(SPANS))


def _spacy_names(names: tuple[str, ...]) -> list[str]:
    """spaCy's names: a span group is ``doc.spans``; a shared table has none (left out)."""
    return list(
        dict.fromkeys("doc.spans" if name.startswith(SPANS) else name for name in names if not name.startswith(LOOKUPS))
    )


CONTRACTS: dict[str, Contract] = {}


def declare(contract: Contract) -> Contract:
    """Register a component's contract under its factory name (once; a module imported again
    declares the same contract)."""
    known = CONTRACTS.setdefault(contract.factory, contract)
    if known != contract:
        raise ValueError(f"{contract.factory}: declared twice, differently")
    return contract


def _all_reads(contract: Contract) -> tuple[str, ...]:
    return contract.reads + contract.reads_if_present


def producers() -> dict[str, list[str]]:
    """Each name written on the Doc -> the components that produce it: those that write it
    without reading it (``imr_conclusions`` reads and amends ``span._.decision``, which
    ``imr_decisions`` produces). A name may have several (``span._.is_negated``: ConText on
    the mentions, ``imr_conclusions`` on the necessity statements); a reader comes after all."""
    written: dict[str, list[str]] = {}
    for contract in CONTRACTS.values():
        for name in contract.writes:
            if name not in _all_reads(contract):
                written.setdefault(name, []).append(contract.factory)
    return written


def missing_inputs(order: list[str]) -> list[tuple[str, str, list[str]]]:
    """``(component, input, its producers)`` for every input a component of ``order`` (factory
    names) reads before all of the input's producers have run (no producer at all: ``[]``)."""
    made = producers()
    done: set[str] = {TOKENIZER}
    missing = []
    for factory in order:
        contract = CONTRACTS.get(factory)
        if contract is None:
            continue
        for name in _all_reads(contract):
            makers = made.get(name, [])
            if not makers or not set(makers) <= done:
                missing.append((factory, name, makers))
        done.add(factory)
    return missing


def dependency_order(factories: list[str]) -> list[str]:
    """``factories`` in an order where every component comes after the producers of what it
    reads, keeping the given order wherever the reads/writes graph leaves a choice."""
    made = producers()
    needs = {
        factory: {maker for name in _all_reads(CONTRACTS[factory]) for maker in made.get(name, ()) if maker != factory}
        & set(factories)
        for factory in factories
    }
    ordered: list[str] = []
    remaining = list(factories)
    while remaining:
        ready = next((f for f in remaining if needs[f] <= set(ordered)), None)
        if ready is None:
            raise ValueError(f"the components {remaining} read one another's outputs in a circle")
        ordered.append(ready)
        remaining.remove(ready)
    return ordered
