"""Rule and lexicon data shipped with imr_nlp, loaded from JSON and validated with pydantic.

Every file here is data: adding a drug, a service, a date cue or a section heading is a change
to one of these files plus a test row, never a code change. Loaders return fresh copies so a
component can extend its rules without touching the shared defaults.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from imr_nlp.models import DateRole, DwcCategory, ReasonCode, ReasonDirection

RESOURCE_DIR = Path(__file__).resolve().parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ExampleT = TypeVar("ExampleT")


class WordsWithExamples(_Strict, Generic[ExampleT]):
    """A word list of some rules, with examples of its use (their kind depends on the rules)."""

    description: str = ""
    words: list[str] = Field(min_length=1)
    examples: list[ExampleT] = Field(min_length=2)


class RequestExample(_Strict):
    """An item header and what ``imr_nlp.parse_request`` must read from it: Treatment fields,
    dotted for nested ones ("strength.unit", "drug.generic"), and their values."""

    text: str = Field(min_length=1)
    expect: dict[str, object] = Field(min_length=1)


class DateExample(_Strict):
    """A sentence and the ISO date the date step must read in it."""

    text: str = Field(min_length=1)
    iso: str | None = Field(description="the date read; null: no date is read")


class CitationExample(_Strict):
    """A guideline citation and what the citation step must read: its sources in order, topics
    (optional) and whether the decision is MTUS-based (optional)."""

    text: str = Field(min_length=1)
    sources: list[str]
    topics: list[str] | None = None
    mtus_based: bool | None = None


class TableExamples(_Strict, Generic[ExampleT]):
    """Examples of one vocabulary table of a rule file at work (a word list or a mapping whose
    entries are words, not rules): at least two, each read through the table."""

    table: str
    examples: list[ExampleT] = Field(min_length=2)


class RequestTableExamples(TableExamples[RequestExample]):
    """Item headers that use a table of the drug, dose or body-site rules."""


class DateTableExamples(TableExamples[DateExample]):
    """Sentences that use a table of the date rules."""


class CitationTableExamples(TableExamples[CitationExample]):
    """Citations that use a table of the guideline rules."""


class _ShowsItsTables(_Strict):
    """A rule file whose vocabulary tables (``vocabulary_tables``: word lists and mappings of
    words) each have examples in ``table_examples``, and whose examples each name a table."""

    vocabulary_tables: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _every_table_shown(self) -> _ShowsItsTables:
        named = [e.table for e in self.table_examples]  # type: ignore[attr-defined]
        if missing := sorted(set(self.vocabulary_tables) - set(named)):
            raise ValueError(f"{type(self).__name__}: tables without examples: {missing}")
        if unknown := sorted(set(named) - set(self.vocabulary_tables)):
            raise ValueError(f"{type(self).__name__}: examples of unknown tables: {unknown}")
        return self


def _check_regex(value: str) -> str:
    """A rule's regex must compile and must not have the shapes that backtrack without bound on
    a line that almost matches (a tampered rule file hung a letter for over a minute): a saved
    pipeline's rules are data, so they are refused at load (see ``backtracking_risk``)."""
    try:
        parsed = re._parser.parse(value)  # type: ignore[attr-defined]
    except re.error as exc:  # pragma: no cover - guards data edits
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
    if risk := backtracking_risk(parsed):
        raise ValueError(
            f"regular expression {value!r} {risk} (catastrophic backtracking): bound the repeats, "
            "or make the inner ones possessive (\\s++) or atomic ((?>...))"
        )
    return value


_C = re._constants  # type: ignore[attr-defined]
_REPEATS = frozenset({_C.MAX_REPEAT, _C.MIN_REPEAT})
_UNBOUNDED = _C.MAXREPEAT
_NEGATED_CATEGORIES = frozenset({_C.CATEGORY_NOT_SPACE, _C.CATEGORY_NOT_WORD, _C.CATEGORY_NOT_DIGIT})
# The ways a nest of backtracking repeats may split a run of text (the product of their
# maxima), and the number of backtracking unbounded repeats a sequence may have side by side
# (n of them over one run of text try about len**n splits): beyond either, a rule is refused.
MAX_NESTED_SPLITS = 100
MAX_ADJACENT_UNBOUNDED = 3


def backtracking_risk(items, splits: float = 1) -> str | None:
    """Why a parsed regex can backtrack catastrophically, or None:

    - repeats nested so that their maxima multiply past MAX_NESTED_SPLITS (``(a+)+``,
      ``(?:\\s*){10}``, ``((a{0,10}){0,10}){0,10}``), or a repeat of a part whose length varies
      inside a repeat without bound (``(?:\\S\\S?)*``): its iterations can split a run of text in
      exponentially many ways;
    - more than MAX_ADJACENT_UNBOUNDED unbounded repeats side by side with nothing required
      between them (``\\s*\\s*\\s*\\s*``), or of characters of any kind (``.*``, ``\\S+``,
      ``[^,]*``) in one sequence even with text between them (``C.*N.*N.*N.*#``): polynomially many.

    Conditional groups are read on both branches. Possessive repeats and atomic groups never
    give back, so they end the search."""
    adjacent = wide = 0
    for op, arg in items:
        inner: list = []
        if op in _REPEATS:
            low, high, sub = arg
            count = float("inf") if high == _UNBOUNDED else high
            if splits > 1 and (splits * count > MAX_NESTED_SPLITS or (splits == float("inf") and low != high)):
                return "nests repeats whose counts multiply without bound"
            adjacent = adjacent + 1 if high == _UNBOUNDED else adjacent if low == 0 else 0
            wide += high == _UNBOUNDED and _any_character(sub)
            if adjacent > MAX_ADJACENT_UNBOUNDED:
                return f"has more than {MAX_ADJACENT_UNBOUNDED} unbounded repeats side by side"
            if wide > MAX_ADJACENT_UNBOUNDED:
                return f"has more than {MAX_ADJACENT_UNBOUNDED} unbounded repeats of almost any character in a row"
            inner = [(sub, splits * count if high > 1 else splits)]
        else:
            adjacent = 0
            if op == _C.SUBPATTERN:
                inner = [(arg[-1], splits)]
            elif op == _C.BRANCH:
                inner = [(branch, splits) for branch in arg[1]]
            elif op in (_C.ASSERT, _C.ASSERT_NOT):
                inner = [(arg[1], splits)]
            elif op == _C.GROUPREF_EXISTS:
                inner = [(branch, splits) for branch in arg[1:] if branch is not None]
        for sub, sub_splits in inner:
            if risk := backtracking_risk(sub, sub_splits):
                return risk
    return None


def _any_character(items) -> bool:
    """Whether a repeated part is one character of almost any kind: ``.``, a negated class
    (``[^,]``, ``\\S``, ``\\W``, ``\\D``)."""
    if len(items) != 1:
        return False
    op, arg = items[0]
    if op == _C.ANY:
        return True
    if op == _C.IN:
        return any(item[0] == _C.NEGATE for item in arg) or any(
            item[0] == _C.CATEGORY and item[1] in _NEGATED_CATEGORIES for item in arg
        )
    return False


Regex = Annotated[str, AfterValidator(_check_regex)]


class NextLetterExample(_Strict):
    text: str
    next_letter_starts: str = Field(description="the first characters of the second letter")


class SectionRule(_Strict):
    """A section heading for medspaCy's Sectionizer: ``literal`` at the start of a line; each
    example is a text in which the heading opens that section."""

    section: str
    literal: str
    examples: list[str] = Field(min_length=2)


class NextLetterRule(_Strict):
    """Where a second letter starts in one text: the heading of ``opening_section`` again after
    a decisions section; the new letter begins at the last line starting with ``header`` before
    that heading (its header block), else at the heading. Each example is two letters' worth of
    headings run together, with the text the second letter starts with."""

    opening_section: str
    header: Regex
    examples: list[NextLetterExample] = Field(min_length=2)


class SectionRules(_Strict):
    sections: list[SectionRule]
    next_letter: NextLetterRule


class SentenceExample(_Strict):
    text: str
    sentences: int = Field(ge=1, description="how many sentences the splitter must find")


class Abbreviations(_Strict):
    words: list[str] = Field(min_length=1)
    examples: list[SentenceExample] = Field(min_length=2)


class EntityExample(_Strict):
    """A text and entities ``doc.ents`` must hold for it: [text, label] pairs (``absent``: texts
    no entity may cover whole, because a higher-priority entity overlaps them)."""

    text: str = Field(min_length=1)
    ents: list[tuple[str, str]] = Field(min_length=1)
    absent: list[str] = Field(default_factory=list)


class EntityGroup(_Strict):
    """A span group whose spans become entities (those with one of ``labels``, if given)."""

    group: str = Field(description="a key of imr_nlp.extensions.SPAN_GROUPS")
    labels: list[str] | None = None


class EntityRules(_Strict):
    """imr_entities' rules (resources/entities.json): the span groups ``doc.ents`` is made from,
    highest priority first; where spans overlap, the higher group's wins, then the longer."""

    description: str = ""
    groups: list[EntityGroup] = Field(min_length=1)
    examples: list[EntityExample] = Field(min_length=2)


class SentenceEnds(_Strict):
    """What ends a sentence, for every component that needs it (the splitter, the item headers,
    the truncation check): a stop, then any closers ('daily.', 'daily."', '(see below.)')."""

    description: str = ""
    stops: list[Annotated[str, Field(min_length=1, max_length=1)]] = Field(min_length=1)
    closers: list[Annotated[str, Field(min_length=1, max_length=1)]]
    examples: list[SentenceExample] = Field(min_length=2)


class SentenceRules(_Strict):
    """imr_sentences' rules (resources/sentences.json)."""

    description: str = ""
    ends: SentenceEnds
    abbreviations: Abbreviations


class LayoutExample(_Strict):
    """A text whose wrapped lines the tokenizer's cleaning must join, or keep apart at ``keeps``."""

    text: str
    keeps: str = Field(description="a line start that must stay at the start of its line after cleaning")


class SoftHyphenExample(_Strict):
    """A text with a PDF's soft hyphen and how the tokenizer's cleaning must read it."""

    text: str = Field(min_length=1)
    reads: str = Field(description="the cleaned text: the hyphen kept or the word joined")


class SoftHyphenRules(_Strict):
    """How a word cut at a line end by a PDF's soft hyphen (U+FFFE from pdfium, U+00AD before a
    line break) is read: joined when the letter itself writes it joined, else when the joined
    word is a word, else when its first half is a combining form; otherwise hyphenated."""

    description: str = ""
    common_word_min_count: int = Field(
        51,
        ge=1,
        description="a joined word seen this often in pyspellchecker's English frequency list is a word (the "
        "list's floor, 50, holds its rarest words, variants such as 'followup' among them)",
    )
    combining_form: Regex = Field(
        description="a first half (lower-case) that is a combining form, closed up with a second half that "
        "starts with a consonant ('electro' + 'diagnostic')"
    )
    examples: list[SoftHyphenExample] = Field(min_length=2)


class RepairExample(_Strict):
    """A text from another extractor or OCR and how the tokenizer's cleaning must read it."""

    text: str = Field(min_length=1)
    reads: str = Field(description="the cleaned text")


class CharacterRepairs(_Strict):
    """Characters read as others (ligatures as their letters, dash and quote variants as ASCII);
    every character of a replacement maps back to the character it replaces."""

    description: str = ""
    replace: dict[Annotated[str, Field(min_length=1, max_length=1)], str]
    examples: list[RepairExample] = Field(min_length=2)


class PageEdgeRepairs(_Strict):
    """A running page header or footer: a short line among the first or last ``edge_lines``
    lines of the pages (form feeds part them) that recurs there on every page but at most one,
    on two pages at least, and never away from a page edge; dropped like a page number."""

    description: str = ""
    edge_lines: int = Field(2, ge=1)
    max_length: int = Field(80, ge=1)
    sentence_ends: str = Field(
        ".?!",
        description="a line ending with one of these is a sentence, never a running header or footer (a "
        "rationale's closing 'is not medically necessary.' often ends a page, on page after page)",
    )
    examples: list[RepairExample] = Field(min_length=2)


class NoiseRepairs(_Strict):
    """Specks an OCR engine reads as marks: one of ``specks`` standing alone between spaces or
    line ends, and a line of nothing but one of ``line_marks``; dropped."""

    description: str = ""
    specks: str = Field(min_length=1)
    line_marks: str = Field(min_length=1)
    examples: list[RepairExample] = Field(min_length=2)


class PageEndNoise(_Strict):
    """Lines an OCR engine reads from the speckled margin under a page's last line ("DA",
    "eveveyyyy", "ea aii"): the lines at the end of a page (before its page break) of at most
    ``max_length`` characters, with no digit and no word of ``min_word_length`` letters or more
    that is an English or code-set word; dropped, so that an item header ending a page still
    ends with its outcome."""

    description: str = ""
    max_length: int = Field(12, ge=1)
    min_word_length: int = Field(3, ge=1)
    examples: list[RepairExample] = Field(min_length=2)


class LabelColonRepairs(_Strict):
    """A label of ``line_starts`` (not an upper-case heading) at the start of a line whose colon
    an OCR engine read as one of ``marks`` ("Decision rationale." for "Decision rationale:")."""

    description: str = ""
    marks: str = Field(min_length=1)
    examples: list[RepairExample] = Field(min_length=2)


class OcrWordRepairs(_Strict):
    """Letters an OCR engine confuses (``confusions``: read, meant): a word of at least
    ``min_length`` letters that is no English word, where one confusion undone gives one English
    word and no other, reads as that word; a capital split from the rest of its word ("A
    ccording") is joined where the rest is no word and the whole is one."""

    description: str = ""
    confusions: list[tuple[str, str]] = Field(min_length=1)
    min_length: int = Field(4, ge=2)
    examples: list[RepairExample] = Field(min_length=2)


class GluedWordRepairs(_Strict):
    """Words whose line-end hyphen an extractor dropped when it joined the lines ("right-" +
    "sided" read "rightsided"): in a line longer than ``joined_line_ratio`` times the letter's
    usual line (the median of its lines of 40 characters or more: several lines joined), a word
    or date that spans a former line end (its join point ``margin_below`` characters or fewer
    short of the usual line length after the previous join, or at most ``margin_above`` beyond
    it) is read hyphenated where the soft hyphen rules would keep a hyphen there, or a date
    where a hyphen makes one."""

    description: str = ""
    joined_line_ratio: float = Field(1.25, gt=1)
    margin_below: int = Field(25, ge=0)
    margin_above: int = Field(10, ge=0)
    min_half: int = Field(3, ge=1)
    examples: list[RepairExample] = Field(min_length=2)


class OcrDateRepairs(_Strict):
    """Dates an OCR engine damaged: a space inside the month or day ("1 1/22/2016") or a letter
    read for a digit (``lookalikes``: "l1/22/2016", "O1/05/2016"); repaired only where the result is
    a calendar date within ``years_around`` years of the letter's undamaged dates."""

    description: str = ""
    lookalikes: dict[Annotated[str, Field(min_length=1, max_length=1)], Annotated[str, Field(pattern=r"^\d$")]]
    # a digit read for another (read -> meant), undone only in a date that is none as read
    digit_confusions: dict[Annotated[str, Field(pattern=r"^\d$")], Annotated[str, Field(pattern=r"^\d$")]] = Field(
        default_factory=dict
    )
    years_around: int = Field(2, ge=0)
    examples: list[RepairExample] = Field(min_length=2)


class LineEndHyphens(_Strict):
    """A plain hyphen that ends a line between letters, the next line going on in lower case:
    another extractor's way of writing the line-end hyphen pdfium marks as soft, so it is read
    as a soft hyphen (``soft_hyphens`` decide: joined or hyphenated)."""

    description: str = ""
    examples: list[RepairExample] = Field(min_length=2)


class TextRepairs(_Strict):
    """Repairs of text that came from other PDF extractors or from OCR, made before the lines
    are joined (imr_nlp.normalize.repairs); a repair set to null is not made."""

    description: str = ""
    characters: CharacterRepairs | None = None
    page_edges: PageEdgeRepairs | None = None
    noise: NoiseRepairs | None = None
    page_end_noise: PageEndNoise | None = None
    label_colons: LabelColonRepairs | None = None
    ocr_words: OcrWordRepairs | None = None
    glued_words: GluedWordRepairs | None = None
    ocr_dates: OcrDateRepairs | None = None
    line_end_hyphens: LineEndHyphens | None = None


class LayoutRules(_Strict):
    """The letter layout the tokenizer's cleaning knows (the tokenizer's layout.json): line
    starts (regexes: headings, labels) that always begin a line, so a wrapped line is never
    joined onto them; in a letter whose line breaks were flattened, a label followed by its
    colon or an upper-case heading met inside a line gets its line break back; and how a word
    cut by a soft hyphen is read (``soft_hyphens``)."""

    description: str = ""
    line_starts: list[Regex]
    examples: list[LayoutExample] = Field(min_length=2)
    soft_hyphens: SoftHyphenRules
    repairs: TextRepairs = TextRepairs()


class LetterLayout(_Strict):
    """One layout letters were issued in: its ``signals`` (regexes over the cleaned text, ``^``
    at a line start) and letters' openings or passages that follow it (``examples``)."""

    layout: str
    description: str = ""
    primary: bool = Field(
        False,
        description="the layout the decision rules are written for (a 'Decision rationale:' per item, an outcome "
        "word per item header): only there is a missing rationale or outcome a sign of a letter cut short",
    )
    signals: list[Regex] = Field(min_length=2)
    examples: list[str] = Field(min_length=2)


class LetterLayouts(_Strict):
    """imr_layout's rules (resources/letter_layouts.json): a letter follows the layout with the
    most signals found, at least ``min_signals``; else "unknown" (``unknown_examples``)."""

    description: str = ""
    min_signals: int = Field(ge=1)
    layouts: list[LetterLayout] = Field(min_length=1)
    unknown_examples: list[str] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_primary(self) -> LetterLayouts:
        primary = [layout.layout for layout in self.layouts if layout.primary]
        if len(primary) != 1:
            raise ValueError(f"exactly one layout must be primary, not {len(primary)} ({', '.join(primary)})")
        return self


class ItemExample(_Strict):
    """A decision section's text (after its heading) and its first item as read."""

    text: str
    item: str
    outcome: Literal["upheld", "overturned"]
    partial: bool = False


class OutcomeWording(_Strict):
    """An outcome word ending an item header ("...: Upheld") and the outcome it means."""

    wording: Regex
    outcome: Literal["upheld", "overturned"]
    examples: list[ItemExample] = Field(min_length=2)


class BlockLabelExample(_Strict):
    text: str
    content: str = Field(description="the part's text after the label (white space trimmed)")


class BlockLabel(_Strict):
    """A label that opens a part of a decision block; ``pattern`` is a regex."""

    section: str
    pattern: Regex
    examples: list[BlockLabelExample] = Field(min_length=2)


class Preamble(_Strict):
    """The sentence ending in a colon that introduces the items ("... set forth below:")."""

    pattern: Regex
    examples: list[ItemExample] = Field(min_length=2)


class PartialRequests(_Strict):
    """A partial item: "... portion of the original request, X is: Upheld", after the history
    sentences ("X was the original request.", "Y was authorized by the Claims Administrator.")."""

    original_request: Regex
    portion_words: list[str] = Field(min_length=1)
    history_sentence: Regex
    examples: list[ItemExample] = Field(min_length=2)


class NecessityExample(_Strict):
    text: str
    medically_necessary: bool | None


class NecessityStatement(_Strict):
    """A statement of (no) medical necessity in a rationale: ``positive`` and ``negative`` say
    so themselves; ``context`` is positive unless a ConText negation cue reaches it."""

    pattern: Regex
    polarity: Literal["positive", "negative", "context"]
    examples: list[NecessityExample] = Field(min_length=2)


class DeterminationStatement(_Strict):
    """A numbered determination written as a sentence ("1) MAXIMUS Federal Services, Inc. has
    determined the request for X is not medically necessary and appropriate."), read where the
    decisions section has no "item: Upheld" header. ``pattern`` (a regex, ``^`` at a line start)
    has the groups ``number``, ``item`` and ``negation`` (present when the item is found not
    medically necessary: the denial upheld). A list given twice yields each decision once."""

    pattern: Regex
    examples: list[ItemExample] = Field(min_length=2)


class ItemLabelExample(_Strict):
    text: str
    item: str


class ItemLabel(_Strict):
    """A label whose value is the disputed item, its outcome not stated there ("ISSUE AT
    DISPUTE:"): read where no header or statement gives the items. ``pattern`` is a regex whose
    group ``item`` is the item."""

    pattern: Regex
    examples: list[ItemLabelExample] = Field(min_length=2)


class DecisionRules(_Strict):
    description: str = ""
    outcomes: list[OutcomeWording] = Field(min_length=1)
    block_labels: list[BlockLabel] = Field(description="labels that open parts of a decision block")
    preamble: Preamble
    partial_requests: PartialRequests
    necessity: list[NecessityStatement]
    determination_statements: list[DeterminationStatement] = Field(default_factory=list)
    item_labels: list[ItemLabel] = Field(default_factory=list)


class DrugEntry(_Strict):
    """A drug name our data adds or corrects: ``names`` all map to ``generic``; ``examples``
    are request items in which the drug step must find that generic."""

    names: list[str]
    generic: str
    drug_class: str | None = None
    examples: list[str] = Field(min_length=2)


class ClassStem(_Strict):
    """A generic-name stem (USAN/INN) that names a drug class: an ending ("-prazole": proton pump
    inhibitor) or, with ``prefix``, a beginning ("cef-": a cephalosporin, an anti-infective)."""

    suffix: str = Field(min_length=3)
    prefix: bool = Field(default=False, description="the stem begins the name instead of ending it")
    drug_class: str | None = None
    dwc_subcategory: str
    examples: list[str] = Field(min_length=2, description="generic names with this ending and class")


class SystemicPatches(_Strict):
    classes: list[str]
    cues: list[str]
    examples: list[str] = Field(min_length=2)


class DrugWords(WordsWithExamples[str]):
    """A word list of the drug rules, with mentions that use its words."""


DRUG_TABLES = (
    "classes",
    "ignore_names",
    "ignore_generic_patterns",
    "topical_cues",
    "salt_words",
    "dwc_by_class",
    "dwc_by_generic",
    "topical_agents",
)


class DrugRules(_ShowsItsTables):
    vocabulary_tables = DRUG_TABLES

    drugs: list[DrugEntry]
    classes: dict[str, str] = Field(description="generic name -> drug class")
    ignore_names: list[str] = Field(description="lexicon variants that are not drug mentions here")
    ignore_generic_patterns: list[Regex] = Field(
        default_factory=list, description="lexicon canonical names that are drug classes, not drugs"
    )
    fuzzy_min_length: int = 7
    english_guard_min_count: int = Field(
        50, description="an English word this common (pyspellchecker's counts) is never a misspelt drug name"
    )
    fuzzy_guard: DrugWords | None = Field(
        default=None,
        description="words, besides the code set's, that are never read as a misspelt drug name",
    )
    topical_cues: list[str]
    topical_before: DrugWords
    salt_words: list[str]
    form_words: DrugWords
    class_stems: list[ClassStem] = Field(
        default_factory=list, description="generic-name stems (USAN) -> class, for generics no table lists"
    )
    dwc_by_class: dict[str, str] = Field(default_factory=dict, description="drug class -> DWC subcategory")
    dwc_by_generic: dict[str, str] = Field(
        default_factory=dict,
        description="generic -> DWC subcategory: commonly prescribed generics that no stem classifies, by their "
        "pharmacological class, and generics whose use, not their stem, decides",
    )
    topical_dwc_classes: DrugWords | None = Field(
        default=None,
        description="DWC classes of drugs that, put on the skin, are topical analgesics or compounds; a drug of "
        "another known class keeps its own class in a cream or patch (an antibiotic ointment, a steroid cream)",
    )
    not_skin_cues: DrugWords | None = Field(
        default=None,
        description="words of routes that are not the skin: a percentage or a solution there is no topical",
    )
    analyte_branches: DrugWords | None = Field(
        default=None,
        description="MeSH tree branches of what the body makes or biology names (proteins, enzymes, biological "
        "factors, nucleic acids): a lexicon entry filed only there, with no DrugBank or MedlinePlus id, is a "
        "laboratory analyte, never a drug mention",
    )
    systemic_patch_classes: SystemicPatches | None = Field(
        None, description="classes whose patches act systemically: an opioid patch stays an opioid"
    )
    topical_agents: list[str] = Field(
        default_factory=list, description="generics sold as single-ingredient topicals (else a topical is compounded)"
    )
    table_examples: list[RequestTableExamples] = Field(
        min_length=1, description="item headers that show each vocabulary table at work"
    )


class HeaderFieldExample(_Strict):
    text: str
    value: str | list[str] | bool


class HeaderField(_Strict):
    """One way a header or credential field is written. ``pattern`` is a regex: for ``text`` and
    ``names`` its group ``v`` is the value (``names``: split into a list); for ``date`` and the
    kinds of ``value_types`` it is the label. In the header such a label's value is found by its
    kind in whatever reading order the text has (beside the label, inside a label split around it,
    or in a block of values after a block of labels); in the letter it is the date right after the
    wording. ``flag`` (a field name) is set true when the rule matches."""

    field: str
    kind: str = Field(description='"text", "date", "names" or a kind of the value_types')
    scope: Literal["header", "letter"]
    pattern: Regex
    ignore_case: bool = True
    flag: str | None = None
    date_role: DateRole | None = Field(
        None,
        description="a date field's role (DateMention.role), given to the date it reads: imr_dates reads the "
        "words just before a date, which in a header whose labels and values an extractor wrote apart are "
        "another label's or none",
    )
    examples: list[HeaderFieldExample] = Field(min_length=2)


class PatientExample(_Strict):
    text: str
    age: int | None
    sex: Literal["male", "female"] | None


class PatientRules(_Strict):
    """The patient's age and sex: ``age`` is a regex with groups ``age`` and ``sex`` in which
    ``{sex_words}`` stands for the words of ``sex_words``; without a sex word, the pronouns of
    the case summary decide when one sex has ``pronoun_ratio`` times the other's."""

    age: str
    max_age: int = Field(gt=0)
    sex_words: dict[str, Literal["male", "female"]]
    pronouns: dict[Literal["male", "female"], list[str]]
    pronoun_min_count: int = Field(ge=1)
    pronoun_ratio: float = Field(ge=1)
    examples: list[PatientExample] = Field(min_length=2)


class CompoundNames(_Strict):
    """Names that hold a separator word and are one name ("Physical Medicine and Rehabilitation",
    the American Board of Medical Specialties' names with "and"): never split."""

    names: list[str] = Field(min_length=1)
    examples: list[HeaderFieldExample] = Field(min_length=2)


class ValueTypeExample(_Strict):
    text: str
    values: list[str] = Field(description="every value of the kind in the text, in order")


class ValueType(_Strict):
    """A kind of header value told by its shape (a case number, a priority word): a header label
    of this kind takes a value of this shape and no other, wherever the extractor put it."""

    kind: str
    description: str = ""
    pattern: Regex
    ignore_case: bool = True
    examples: list[ValueTypeExample] = Field(min_length=2)


HEADER_KINDS = ("text", "date", "names")


class HeaderCellExample(_Strict):
    text: str
    header: dict[str, str] = Field(description="the header fields read from the text (every one)")


class HeaderCells(_Strict):
    """Cells of the header table that imr_nlp does not read but that do not end it: a label of
    another field ("Employee:", "Claim Number:", "Date of UR Decision:"), alone on its line or
    before its value, and a value of no kind we know ("Marisol Quintero", "06A16C-204481") on a
    line of its own among lines of values. Without them, the label block (where values written
    apart from their labels are looked for) ends at the first such line."""

    description: str = ""
    label_shape: Regex = Field(description="a line's text that is one label (values and known labels blanked)")
    max_cell_length: int = Field(40, ge=1, description="the longest value of an unknown kind, in characters")
    examples: list[HeaderCellExample] = Field(min_length=2)


class HeaderRules(_Strict):
    description: str = ""
    fields: list[HeaderField]
    value_types: list[ValueType] = Field(default_factory=list)
    cells: HeaderCells | None = None
    name_separators: Regex
    name_stop_words: list[str]
    compound_names: CompoundNames
    patient: PatientRules

    @model_validator(mode="after")
    def _kinds_are_known(self) -> HeaderRules:
        known = set(HEADER_KINDS) | {t.kind for t in self.value_types}
        unknown = sorted({f.kind for f in self.fields} - known)
        if unknown:
            raise ValueError(f"header field kind(s) {unknown} are neither {HEADER_KINDS} nor a kind of value_types")
        return self


ServiceCategory = Literal["medication", "procedure", "service", "equipment", "other"]


class WordClass(_Strict):
    """A class of head words: exact words (a plural is also tried), multi-word phrases, and
    morphology (suffixes, prefixes). A class with a category decides the category of an item
    whose head it names; the others are features for the DWC rules."""

    name: str
    description: str = ""
    category: ServiceCategory | None = None
    overrides: bool = Field(False, description="a word of the class anywhere in the head phrase sets the category")
    words: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    suffixes: list[str] = Field(default_factory=list)
    prefixes: list[str] = Field(default_factory=list)
    examples: list[str] = Field(min_length=2)


class WordList(_Strict):
    description: str = ""
    words: list[str]
    prepositions: list[str] = Field(default_factory=list)
    examples: list[str] = Field(min_length=2)


class DefaultCategory(_Strict):
    description: str = ""
    category: ServiceCategory
    examples: list[str] = Field(min_length=2)


class RequestGrammar(_Strict):
    """The vocabulary of the request grammar (resources/request_grammar.json)."""

    description: str = ""
    word_classes: list[WordClass]
    head_skips: WordList
    light_heads: WordList
    boundaries: WordList
    complement_heads: WordList
    object_heads: WordList
    trailing_drops: WordList
    transaction_words: WordList
    default_category: DefaultCategory


class ServiceName(_Strict):
    """A canonical treatment name and the token patterns (spaCy Matcher syntax) of its synonyms
    and abbreviations; ``category`` only where the head word would mislead ("functional
    capacity evaluation" is a procedure)."""

    name: str
    patterns: list[list[dict]] = Field(min_length=1)
    category: ServiceCategory | None = None
    examples: list[str] = Field(min_length=2)


class ServiceNames(_Strict):
    entries: list[ServiceName]


class CodeSetSection(_Strict):
    """A section of ICD-10-PCS and the request grammar's word classes its terms get."""

    name: str
    classes: list[str] = Field(min_length=1)
    examples: list[str] = Field(min_length=2, description="requests whose head is a term of this section")


class BrandExample(_Strict):
    """A request naming a drug by a name of the table, and the generic it must get."""

    text: str
    generic: str


class BrandNames(_Strict):
    """Drug names the lexicon lacks (resources/brand_names.json, built by
    scripts/build_brand_names.py from the FDA UNII Names list): name -> generic."""

    description: str = ""
    source: str
    examples: list[BrandExample] = Field(min_length=2)
    names: dict[str, str] = Field(description="lower-case brand or official name -> generic")


class ProcedureTerms(_Strict):
    """Procedure heads from a code set (resources/procedure_terms.json, built by
    scripts/build_procedure_terms.py): one-word ICD-10-PCS index terms -> their sections."""

    description: str = ""
    source: str
    sections: dict[str, CodeSetSection]
    terms: dict[str, str] = Field(description="word -> the PCS section letters of its codes")


class DwcRule(_Strict):
    """One DWC class decision: the first rule whose feature tests hold gives the classes.
    Features: ``category:<c>``, ``head:<word class of the head>``, ``class:<word class of any
    word>``, ``drug:<DWC class of the drug>``, ``drug:injected``, ``dose:scheduled`` (the item
    gives a frequency), ``topical:compound|single``. A subcategory of
    ``{drug}`` takes the drug's DWC class."""

    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)
    dwc_category: DwcCategory
    dwc_subcategory: str | None = None
    examples: list[str] = Field(min_length=2)


class DwcRules(_Strict):
    entries: list[DwcRule]


class BodySite(_Strict):
    """A body site: ``keep_text`` names it by the words matched ("distal radius"); a ``level``
    is a spinal level ("L4-5"), given only where no spine region is named."""

    name: str
    patterns: list[Regex]
    lateral: bool = True
    keep_text: bool = False
    level: bool = False
    examples: list[str] = Field(min_length=2)


class BodySiteRules(_ShowsItsTables):
    vocabulary_tables = ("laterality",)

    sites: list[BodySite]
    laterality: dict[str, str]
    table_examples: list[RequestTableExamples] = Field(min_length=1)


class FrequencyRule(_Strict):
    pattern: Regex
    code: str
    examples: list[str] = Field(min_length=2)


class DrugTailExample(_Strict):
    """A sentence naming a drug outside any item, and the dose facts read after it, as
    ``[label, text]`` pairs in text order (``[["STRENGTH", "10mg"], ["FREQUENCY", "twice daily"]]``)."""

    text: str
    doses: list[tuple[str, str]]


class DrugTail(_Strict):
    """How far after a drug mention outside the items its strength and frequency are read: at
    most ``reach`` characters, up to the end of its clause (``clause_end``)."""

    description: str = ""
    reach: int = Field(ge=1)
    clause_end: Regex
    examples: list[DrugTailExample] = Field(min_length=2)


class DoseRules(_ShowsItsTables):
    vocabulary_tables = ("number_words", "units", "count_nouns")

    drug_tail: DrugTail
    number_words: dict[str, int]
    units: dict[str, str] = Field(description="surface unit -> canonical unit")
    frequencies: list[FrequencyRule]
    count_nouns: list[str] = Field(description="nouns counted by a quantity: sessions, visits ...")
    table_examples: list[RequestTableExamples] = Field(min_length=1)


class Wording(_Strict):
    """A regex for a wording of the letters, with texts it must match."""

    pattern: Regex
    description: str = ""
    examples: list[str] = Field(min_length=2)


class CitationWordings(_Strict):
    basis_opening: Wording
    mtus_lead: Wording
    pages: Wording
    page_words: Wording
    sections: Wording
    edition_notes: Wording
    next_guideline: Wording
    chapter_label: Wording


class GuidelineRules(_ShowsItsTables):
    vocabulary_tables = ("mtus_guidelines", "odg_chapters", "acoem_names", "odg_names", "not_mtus")

    mtus_guidelines: list[Regex] = Field(description="regexes, joined as alternatives")
    odg_chapters: list[Regex] = Field(description="regexes, joined as alternatives")
    acoem_names: list[str] = Field(description="names, matched literally")
    odg_names: list[str] = Field(description="names, matched literally")
    not_mtus: list[Regex] = Field(description="regexes, joined as alternatives")
    wordings: CitationWordings
    table_examples: list[CitationTableExamples] = Field(min_length=1)


class DateRoleExample(_Strict):
    """A sentence whose first date must get ``role``."""

    text: str
    role: DateRole


class DateRoleCue(_Strict):
    """Cue words of a date's role in its sentence: the first rule whose ``before`` matches the
    words before the date (in its sentence) or whose ``after`` matches the words after it wins."""

    role: DateRole
    before: Regex | None = Field(None, description="regex matched against the text just before the date")
    after: Regex | None = Field(None, description="regex matched against the text just after the date")
    across_lines: bool = Field(
        False,
        description="match ``before`` across line breaks: a label the PDF layout broke over lines "
        '("Application\\nReceived:\\n12/02/2016"); for a label that must end right before the date',
    )
    examples: list[DateRoleExample] = Field(min_length=2)


class PlausibleYears(_Strict):
    """The years a date of these letters can have: a calendar date outside them is a typing error
    ("March 21, 0202"), reported as a warning and never read as a date."""

    description: str = ""
    first: int = Field(ge=1, le=9999)
    last: int = Field(ge=1, le=9999)
    examples: list[DateExample] = Field(min_length=2, description="texts whose only date is implausible")


class DateFormat(_Strict):
    """One way letters write a date: a regex fragment with placeholders for its parts
    (``imr_nlp.normalize.dates.PLACEHOLDERS``: {day}, {day2}, {month}, {month2}, {month_name},
    {year}, {year4}, {ordinal}, {sep}, {same_sep}); formats are tried in their order."""

    name: str
    pattern: str = Field(description='e.g. "{month_name}\\s+{day}{ordinal}?,?\\s+{year4}" for "March 3rd, 2016"')
    examples: list[DateExample] = Field(min_length=2, description="sentences and the ISO date read in each")

    @model_validator(mode="after")
    def _gives_a_date(self) -> DateFormat:
        from imr_nlp.normalize.dates import format_fields, format_regex

        fields = format_fields(self.pattern)
        if not {"day", "year"} <= fields or not fields & {"month", "month_name"}:
            raise ValueError(f"date format {self.name!r}: needs a day, a month or month name and a year")
        _check_regex(format_regex(self.pattern, "january|february", "f_"))
        return self


class DateRules(_ShowsItsTables):
    vocabulary_tables = ("months",)

    months: dict[str, int]
    formats: list[DateFormat] = Field(min_length=1, description="the date formats, tried in this order")
    plausible_years: PlausibleYears | None = None
    roles: list[DateRoleCue]
    window: int = 80
    table_examples: list[DateTableExamples] = Field(min_length=1)


class DiagnosisExample(_Strict):
    """A sentence and the diagnosis mentions a rule must find in it (``absent``: must not)."""

    text: str
    diagnoses: list[str] = Field(default_factory=list)
    problems: list[str] = Field(
        default_factory=list, description="condition phrases read outside a diagnosis statement"
    )
    absent: list[str] = Field(default_factory=list)


class DiagnosisCue(_Strict):
    """A regex cue: ``list`` cues open a list of diagnoses running to the end of the sentence;
    ``statement`` cues assert the one condition phrase that follows ("the injured worker has").
    A list or statement cue starts a word or a line: it is tried only at the text's start and
    after a character that is not a letter or digit (write a line start as ``(?<=\\n)``)."""

    name: str
    pattern: Regex
    scope: Literal["list", "item"] = Field(
        "list", description="a list end: ends the whole list, or only cuts the item it is in"
    )
    examples: list[DiagnosisExample] = Field(min_length=2)


class ConditionHeads(_Strict):
    """The word class of condition nouns, the head of a diagnosis: words (a plural is also
    tried), morphology (-itis, -osis, -pathy ...) and abbreviations."""

    words: list[str]
    suffixes: list[str]
    abbreviations: list[str] = Field(description="upper-case condition abbreviations (CRPS, DDD, GERD)")
    phrases: list[str] = Field(
        default_factory=list,
        description="multi-word conditions with no head noun of their own (herniated nucleus pulposus)",
    )
    prefixes: list[str] = Field(
        default_factory=list, description="words that make a list item a condition whatever follows (status post)"
    )
    light_heads: list[str] = Field(
        default_factory=list, description="heads that name a condition only with a modifier (injury, condition)"
    )
    adjective_suffixes: list[str] = Field(
        default_factory=list,
        description="adjective endings: a light head's modifier is a site, a level or an adjective",
    )
    test_words: list[str] = Field(
        default_factory=list, description="words after a head that make it a test's name (compression test)"
    )
    not_heads: list[str] = Field(description="words the suffixes would take for conditions (stoma, diploma)")
    examples: list[DiagnosisExample] = Field(min_length=2)


class DiagnosisWords(WordsWithExamples[DiagnosisExample]):
    """A word list of the diagnosis rules, with sentences that show it at work."""


class StatedConditions(_Strict):
    """A condition phrase of the case summary outside any cue is stated as the patient's when a verb
    before it in its sentence asserts it (confirmed, documented, revealed), its head is no light word
    and the code set names it with a specific code; a sentence whose subject is a guideline or the
    literature speaks generically, one about the physical examination states findings."""

    description: str = ""
    nonspecific_codes: list[str] = Field(
        description="ICD-10-CM code prefixes that say neither what nor where (R symptoms and signs, T14 injury of "
        "an unspecified region)"
    )
    generic_subjects: list[str] = Field(
        description="words opening a sentence that speaks generically (guidelines, ODG, studies)"
    )
    assertion_verbs: list[str] = Field(
        description="verbs that state a finding as established (confirmed, documented, revealed): one must come "
        "before the phrase in its sentence"
    )
    finding_subjects: list[str] = Field(
        description="words of a sentence about the physical examination: what it revealed are findings"
    )
    examples: list[DiagnosisExample] = Field(min_length=2)


class ListPattern(_Strict):
    """One piece of a diagnosis list's grammar, as a regex (case ignored unless ``ignore_case``
    is false), with sentences whose mentions show it at work."""

    description: str = ""
    pattern: Regex
    ignore_case: bool = True
    examples: list[DiagnosisExample] = Field(min_length=2)


class ListGrammar(_Strict):
    """How a diagnosis list is written: where it ends, what separates its items, and which
    words join or continue them. A list is split on its numbers ("1. ... 2. ..."), else on its
    semicolons if it has one, else on its commas; an item is then split on its coordination
    unless the code set names it whole ("synovitis and tenosynovitis")."""

    description: str = ""
    sentence_end: ListPattern = Field(description="where a list written inline ends (a sentence end)")
    semicolons: ListPattern = Field(description="separates the items of a list that has a semicolon")
    commas: ListPattern = Field(description="separates the items of a list without semicolons")
    coordination: ListPattern = Field(description="joins two conditions inside an item")
    leading_words: ListPattern = Field(description="words before an item's first word, left out of it")
    coordinated_phrases: ListPattern = Field(
        description="the words between coordinated condition phrases of a statement ('has X, and Y')"
    )
    joining_connectors: DiagnosisWords = Field(
        description="connectors across which an item of site words only joins the next item (lumbar and cervical "
        "strain); the empty string: the list's end"
    )
    continuing_connectors: DiagnosisWords = Field(
        description="connectors after which words with no head continue the item before them"
    )
    bare_head_connectors: DiagnosisWords = Field(
        description="connectors across which a bare head joins the item before it (lumbar sprain & strain)"
    )


class DiagnosisRules(_Strict):
    list_cues: list[DiagnosisCue]
    list_grammar: ListGrammar
    statement_cues: list[DiagnosisCue]
    list_ends: list[DiagnosisCue] = Field(description="where a diagnosis list ends")
    heads: ConditionHeads
    body_words: DiagnosisWords
    drop_words: DiagnosisWords = Field(description="list items that are not diagnoses")
    modifiers: DiagnosisWords = Field(description="leading words kept out of the mention (probable ...)")
    phrase_stops: DiagnosisWords = Field(description="words never part of a condition phrase")
    complement_prepositions: DiagnosisWords = Field(
        description="prepositions that open a condition's site complement (sprain of the ankle)"
    )
    complement_determiners: DiagnosisWords = Field(
        description="determiners a site complement may open with (of the, in both, of his)"
    )
    stated_conditions: StatedConditions | None = Field(
        default=None,
        description="condition phrases of the case summary outside any cue, stated as the patient's",
    )
    qualifiers: DiagnosisWords | None = Field(
        default=None,
        description="words that open a code description's own qualifier after a comma (not intractable, "
        "single episode, subsequent encounter): such a piece continues the item before it",
    )


class CodingExample(_Strict):
    """A mention and the ICD-10-CM code it must get (a prefix: "M54" accepts M54.16), or null."""

    text: str
    code: str | None


class ConceptGroup(_Strict):
    """Wordings of one concept, rewritten to ``concept`` in mentions and code-set descriptions."""

    concept: str
    wordings: list[str] = Field(min_length=1)
    examples: list[CodingExample] = Field(min_length=2)


class RegionGroup(_Strict):
    """Anatomical parts the code set never names (a muscle, a band, a tendon), and the region
    words of the code set they lie in: read as the region only when no code names the part."""

    region: str
    parts: list[str] = Field(min_length=1)
    examples: list[CodingExample] = Field(min_length=2)


class CodingWords(WordsWithExamples[CodingExample]):
    """A word list of the coding vocabulary, with mentions and the codes they must get."""


class Postprocedural(_Strict):
    """ "status post <procedure>": the postprocedural-state code; "status post <condition>": the
    condition's own code."""

    prefixes: list[str]
    procedure_words: list[str]
    procedure_suffixes: list[str]
    code: str
    examples: list[CodingExample] = Field(min_length=2)


class CoverageBackOff(_Strict):
    """The last back-off of the coder, when no code has the condition word and every other word:
    the code-set phrase with the condition word that covers most of what the words tell."""

    description: str = ""
    min_share: float = Field(
        gt=0, le=1, description="share of the words' information (rarity-weighted) the phrase must cover"
    )
    extra_weight: float = Field(ge=0, description="weight of each word the phrase asserts that the words do not")
    examples: list[CodingExample] = Field(min_length=2)


class IcdVocabulary(_Strict):
    """How mentions and code-set descriptions are read for coding (resources/icd10.json)."""

    description: str = ""
    code_set: str
    code_set_release: str
    excluded_chapters: list[str] = Field(
        description="code letters never proposed (perinatal conditions, external causes, Z status codes)"
    )
    concepts: list[ConceptGroup]
    stop_words: CodingWords
    optional_words: CodingWords = Field(description="counted when the description has them, never required")
    ignorable_words: CodingWords = Field(description="description words that add nothing (unspecified, region)")
    site_words: CodingWords
    tissue_words: CodingWords
    laterality: dict[str, list[str]]
    encounter: dict[str, list[str]]
    postprocedural: Postprocedural
    spinal_levels: dict[str, str] = Field(description="a spinal level's letter -> its region (L5 -> lumbar)")
    modifier_suffixes: CodingWords | None = Field(
        default=None,
        description="adjective endings: when no code has every word, a modifier before the condition word "
        "with one of these endings may be left out (the deepest code the other words support)",
    )
    relational_suffixes: CodingWords | None = Field(
        default=None,
        description="endings of relational adjectives (of a place or a domain: cerebral, psychological): "
        "such a modifier is left out only for a code of a category that uses it",
    )
    joined_prefixes: CodingWords | None = Field(
        default=None,
        description="bound prefixes written with a hyphen that the code set joins to their word "
        "(post-laminectomy -> postlaminectomy), where it does",
    )
    coverage_back_off: CoverageBackOff | None = Field(
        default=None,
        description="when no code has every word: the phrase covering most of the words' information, given "
        "up to its deepest parent that asserts nothing unwritten; None: no code",
    )
    regions: list[RegionGroup] = Field(
        default_factory=list,
        description="parts the code set does not name -> the region it codes them by (hamstring -> "
        "posterior muscle of the thigh), tried only when no code has the part",
    )


class IcdTerm(_Strict):
    """Workers' comp wordings the code set does not spell, mapped to a code."""

    terms: list[str] = Field(min_length=1)
    code: str
    sides: dict[Literal["right", "left", "bilateral"], str] = Field(
        default_factory=dict, description="the code when the mention names one side"
    )
    examples: list[CodingExample] = Field(min_length=2)


class IcdTerms(_Strict):
    entries: list[IcdTerm]


ContextCategory = Literal["NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", "FAMILY"]
ContextDirection = Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]


class ContextExample(_Strict):
    """A sentence, a concept in it (``target``, its first occurrence) and the ConText flags the
    rule gives that concept there: True, it must be set; False, it must not be (a PSEUDO or
    TERMINATE cue, or a narrowed scope, keeps a shorter cue from reaching it)."""

    text: str = Field(min_length=1)
    target: str = Field(min_length=1)
    negated: bool | None = None
    uncertain: bool | None = None
    historical: bool | None = None
    hypothetical: bool | None = None
    family: bool | None = None

    @model_validator(mode="after")
    def _target_in_text_and_a_flag(self) -> ContextExample:
        if self.target not in self.text:
            raise ValueError(f"target {self.target!r} is not in {self.text!r}")
        if self.expected() == {}:
            raise ValueError("an example states at least one flag")
        return self

    def expected(self) -> dict[str, bool]:
        """The flags the example states, by their Assertions names."""
        names = ("negated", "uncertain", "historical", "hypothetical", "family")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


class ContextCue(_Strict):
    """One ConText cue in medspaCy's rule layout (medspaCy's defaults are read into it).

    ``literal`` is matched token by token, case-insensitively, unless ``pattern`` (a spaCy Matcher
    pattern) is given. FORWARD / BACKWARD / BIDIRECTIONAL cues modify targets in that part of the
    sentence; TERMINATE cues end the scope of cues of the same category; PSEUDO cues modify nothing
    but, being longer, hide the shorter cue they contain ("no change in" hides "no").
    """

    literal: str = Field(min_length=1)
    category: ContextCategory
    direction: ContextDirection
    pattern: list[dict] | None = None
    max_scope: int | None = Field(None, gt=0, description="scope limit in tokens (default: the sentence)")
    max_targets: int | None = Field(None, gt=0)
    terminated_by: list[ContextCategory] | None = None
    allowed_types: list[str] | None = None
    excluded_types: list[str] | None = None
    metadata: dict | None = None


class ContextRule(ContextCue):
    """One of our ConText cues, with sentences that show it at work."""

    examples: list[ContextExample] = Field(min_length=2)


class DefaultRuleChange(_Strict):
    """A change to one of medspaCy's default cues, found by its category and literal: "resolved"
    looks backward, "evaluate for" is uncertainty rather than negation, "declined" reaches its
    object only."""

    category: ContextCategory
    literal: str
    new_category: ContextCategory | None = None
    direction: ContextDirection | None = None
    max_scope: int | None = Field(None, gt=0)
    max_targets: int | None = Field(None, gt=0, description="the nearest targets it reaches (default: all)")
    reason: str = Field(min_length=1)
    examples: list[ContextExample] = Field(min_length=2)


class ContextRules(_Strict):
    """Our ConText rules: changes to medspaCy's default rules plus the IMR cues we add."""

    medspacy_changes: list[DefaultRuleChange] = Field(default_factory=list)
    terminating_types: dict[ContextCategory, list[ContextCategory]] = Field(
        default_factory=dict,
        description="category -> categories whose cues end its scopes ('without X he would be Y': Y is not negated)",
    )
    context_rules: list[ContextRule]


class ConclusionRules(ContextRules):
    """imr_conclusions' rules (resources/conclusions.json): ConText cues for necessity statements
    and the sections only an IMR letter has (with one of them and no decisions, the letter was
    cut short)."""

    description: str = ""
    letter_sections: list[str] = Field(min_length=1)


class ReasonExample(_Strict):
    """A rationale and reasons it must give, as [code, direction] pairs (``absent``: pairs it
    must not give); the item is upheld unless ``outcome`` says otherwise."""

    text: str = Field(min_length=1)
    reasons: list[tuple[ReasonCode, ReasonDirection]] = Field(default_factory=list)
    absent: list[tuple[ReasonCode, ReasonDirection]] = Field(default_factory=list)
    outcome: Literal["upheld", "overturned"] = "upheld"
    item: str | None = Field(None, description="the decision's item header (default: a physical therapy request)")


class ReasonItemCategories(_Strict):
    """Codes that speak only of items of some DWC categories (``codes``: code -> categories):
    their findings are read only in the decisions whose item is of one of them, or whose
    category is unknown."""

    description: str = ""
    codes: dict[ReasonCode, list[DwcCategory]]
    examples: list[ReasonExample] = Field(min_length=2)


class ReasonCue(_Strict):
    """Words that say which criterion a clause of a rationale is about (``code``), and the
    direction of the finding when the clause affirms them (``affirmed``); a negated cue (ConText)
    gives the other direction unless ``negation_flips`` is false ("not indicated for long-term
    use": the negation is of the indication, the duration still argues against)."""

    name: str
    code: ReasonCode
    affirmed: ReasonDirection
    pattern: Regex
    negation_flips: bool = True
    alone_only: bool = Field(
        False,
        description="counts only in a sentence where no cue of another code is found (a guideline's position stated "
        "with a duration limit is the limit)",
    )
    head_noun: bool = Field(
        False,
        description="a head noun of the criterion, the last resort: read only in a sentence about this patient or "
        "these records where no other cue is found, and only when ConText denies it ('no objective gains were "
        "noted'); the first such noun of the sentence is its finding",
    )
    patient_only: bool = Field(
        False,
        description="read only in a sentence about this patient or these records: words that a guideline's general "
        "statement uses as well ('carries a risk of ...' said of a test in general is no risk in this patient)",
    )
    drug_near: Literal["after", "before"] | None = Field(
        None,
        description="counts only where a drug the lexicon knows (imr_drugs), other than the decision's own, follows "
        "(``after``) or precedes (``before``) the cue within ``DRUG_REACH`` characters of its sentence: 'tried and "
        "failed gabapentin and duloxetine' names care tried whatever the drug",
    )
    general_only: bool = Field(
        False,
        description="read only in a sentence that says nothing of this patient or these records: words that speak "
        "of the evidence in general there and of this patient's course elsewhere ('no benefit')",
    )
    keeps_direction: bool = Field(
        False,
        description="the cue's words carry its direction, whatever the outcome: symptoms that persist despite care "
        "are care that failed, for the treatment ('pain persists despite therapy'); see findings_follow_outcome",
    )
    item_categories: list[DwcCategory] | None = Field(
        None,
        description="counts only in the decisions whose item is of one of these DWC categories (or of an unknown "
        "one): sessions already attended measure a request for more of the same care, and are earlier care for a "
        "surgery or a drug",
    )
    examples: list[ReasonExample] = Field(min_length=2)

    @model_validator(mode="after")
    def _switches_that_can_be_read(self) -> ReasonCue:
        """Refuse switches that would make a cue never read, or be ignored."""
        if self.patient_only and self.general_only:
            raise ValueError(f"cue {self.name!r}: patient_only and general_only together are never read")
        if self.head_noun and (self.general_only or self.drug_near):
            raise ValueError(f"cue {self.name!r}: a head noun is read about the patient, without drug_near")
        return self


class ReasonWording(_Strict):
    """A regex for sentences of a rationale that play a part in reading its reasons."""

    description: str = ""
    pattern: Regex
    examples: list[ReasonExample] = Field(min_length=2)


class ReasonSetting(_Strict):
    """A switch of how reasons are read, with examples that fail without it."""

    description: str = ""
    enabled: bool
    examples: list[ReasonExample] = Field(min_length=2)


class ReasonRules(ContextRules):
    """imr_reasons' rules (resources/reasons.json): the cues of each reason code, the sentences
    that are no reasons (boilerplate, advice) and those that quote a guideline, and ConText rules
    (with medspaCy's defaults) that read whether a cue is negated."""

    description: str = ""
    turning_categories: list[ContextCategory] = Field(
        default_factory=lambda: ["NEGATED_EXISTENCE"],
        description="the ConText categories that turn a cue's direction: a finding denied, or left in doubt",
    )
    cues: list[ReasonCue] = Field(min_length=1)
    outcome_bound_codes: list[ReasonCode] = Field(
        default_factory=list,
        description="codes whose reasons count only when they argue the way the decision went (for an overturned, "
        "against an upheld one): a guideline's position quoted the other way is the condition the findings answer",
    )
    head_nouns_affirmed_in: list[Literal["upheld", "overturned"]] = Field(
        default_factory=list,
        description="outcomes of the decisions in whose rationale a head noun that ConText does not deny is a "
        "finding too, in its cue's affirmed direction: the rationale of an overturned treatment states the "
        "findings that support it ('Her function has improved since the injections'); elsewhere only a denied "
        "head noun is read",
    )
    not_reasons: ReasonWording = Field(description="sentences that give no reason: the closing verdict, advice")
    guideline_quotes: ReasonWording = Field(
        description="sentences that state what a guideline says: only code 'guideline' is read in them"
    )
    general_statements: ReasonWording = Field(
        description="sentences that speak of patients or a treatment in general ('may be appropriate', 'most "
        "patients'): like a guideline quote, only code 'guideline' is read in them unless they speak of this patient"
    )
    patient_statements: ReasonWording = Field(
        description="sentences that speak of this patient, these records or this request: every code is read in "
        "them, even when they quote a guideline"
    )
    narrative_statements: ReasonWording = Field(
        description="sentences in the past or present perfect tense, which tell this case's story rather than "
        "state a guideline ('No trial of a tricyclic was recorded'): read as speaking of this patient when they "
        "neither quote a guideline nor speak in general"
    )
    clause_edges: ReasonWording = Field(
        description="where a sentence's clauses meet (';', ', however', 'and there'): a clause in which no cue is "
        "found is searched for head nouns on its own, with itself as the evidence"
    )
    conditions: ReasonWording = Field(
        description="a guideline statement made on a condition ('recommended when ...'): it is a reason only when no "
        "finding about the patient follows in the rationale"
    )
    refusal_conditions: ReasonWording | None = Field(
        None,
        description="(absent, as in rules saved before it: every condition) the words that make a guideline's "
        "refusal conditional ('not recommended unless ...'); a refusal for a condition or a use ('not recommended "
        "for myofascial pain') is the guideline's position whatever the findings that follow",
    )
    findings_follow_outcome: ReasonSetting = Field(
        description="a finding read against the way its decision went takes the decision's direction, unless its "
        "clause grants it (``concessions``): the outcome says whether the criterion was met, where the wording's "
        "polarity misleads ('only tenderness was documented', 'no aberrant behaviour')"
    )
    concessions: ReasonWording = Field(
        description="stretches of a sentence that grant a finding the decision goes against ('although the "
        "examination shows ...', 'There is evidence of nerve compromise on exam but ...'): their findings keep the "
        "direction read"
    )
    conceding_turns: ReasonWording | None = Field(
        None,
        description="(absent, as in rules saved before it: off) the opening of a sentence that turns against the "
        "one before it ('However, ...', 'Nevertheless, ...'): the sentence before grants its findings, as a "
        "clause of ``concessions`` does, and they keep the direction read",
    )
    item_categories: ReasonItemCategories | None = Field(
        None,
        description="(absent, as in rules saved before it: every code in every decision) codes read only where "
        "the decision's item is of given DWC categories: earlier results say whether a test needs repeating",
    )
    condition_mentions: ReasonSetting | None = Field(
        None,
        description="(absent, as in rules saved before it: off) a condition imr_diagnoses found in a clause (a "
        "diagnosis or a problem: its heads come from the "
        "ICD-10-CM code set and word formation, not from a list of wordings) is a head noun of ``indication`` there, "
        "read as the other head nouns are ('there is no mention of a rotator cuff tear')",
    )

    @model_validator(mode="after")
    def _conditions_have_a_head_noun(self) -> ReasonRules:
        """Condition mentions stand for the head noun of ``indication``: one must exist."""
        if self.condition_mentions is not None and self.condition_mentions.enabled:
            if not any(cue.head_noun and cue.code == "indication" for cue in self.cues):
                raise ValueError("condition_mentions is enabled but no cue is a head noun of indication")
        return self


_MODELS = {
    "sections.json": SectionRules,
    "sentences.json": SentenceRules,
    "layout.json": LayoutRules,
    "letter_layouts.json": LetterLayouts,
    "decisions.json": DecisionRules,
    "header.json": HeaderRules,
    "drugs.json": DrugRules,
    "body_sites.json": BodySiteRules,
    "doses.json": DoseRules,
    "guidelines.json": GuidelineRules,
    "dates.json": DateRules,
    "diagnoses.json": DiagnosisRules,
    "icd10.json": IcdVocabulary,
    "icd10_terms.jsonl": IcdTerms,
    "context_rules.json": ContextRules,
    "conclusions.json": ConclusionRules,
    "reasons.json": ReasonRules,
    "request_grammar.json": RequestGrammar,
    "service_names.jsonl": ServiceNames,
    "procedure_terms.json": ProcedureTerms,
    "brand_names.json": BrandNames,
    "dwc_rules.jsonl": DwcRules,
    "entities.json": EntityRules,
}


@cache
def _load_validated(name: str) -> BaseModel:
    with (RESOURCE_DIR / name).open(encoding="utf-8") as fh:
        if name.endswith(".jsonl"):
            return validate(name, [json.loads(line) for line in fh if line.strip()])
        return validate(name, json.load(fh))


def load(name: str) -> BaseModel:
    """The validated resource ``name`` (a file in this folder), as a fresh deep copy."""
    return copy.deepcopy(_load_validated(name))


def load_raw(name: str) -> dict:
    """The resource as plain JSON data (for serialising a component's rules)."""
    return _load_validated(name).model_dump(mode="json")


def validate(name: str, data: dict | list) -> BaseModel:
    """Validate rule data (for example read back by ``from_disk``) against the resource's model;
    a JSONL resource is a list of entries."""
    if name.endswith(".jsonl"):
        return _MODELS[name].model_validate({"entries": data})
    return _MODELS[name].model_validate(data)


def to_data(name: str, model: BaseModel) -> dict | list:
    """The rule data of a resource model as written to disk (a JSONL resource: its entries)."""
    data = model.model_dump(mode="json", exclude_none=name.endswith(".jsonl"))
    return data["entries"] if name.endswith(".jsonl") else data
