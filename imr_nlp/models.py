"""The output contract (schema_version "1"): pydantic v2 models of ../shared/spec/determination.md.

Field names, types and value sets are public: users' ETL code relies on them. Add fields freely;
rename or remove none without bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"

Outcome = Literal["upheld", "overturned"]
Category = Literal["medication", "procedure", "service", "equipment", "other"]
DateRole = Literal[
    "injury", "utilization_review", "prescribed", "report", "assigned", "decision", "application_received", "other"
]
DateSource = Literal["header", "statement", "body"]
Source = Literal["MTUS", "ODG", "ACOEM", "OTHER"]
ReasonCode = Literal[
    "guideline",
    "indication",
    "functional_improvement",
    "pain_relief",
    "prior_treatment",
    "objective_findings",
    "quantity_duration",
    "monitoring",
    "treatment_plan",
    "prior_results",
    "documentation",
    "risk",
]
ReasonDirection = Literal["for", "against"]
# The DWC's Request Categories (../shared/spec/dwc-taxonomy.md): the values of
# Treatment.dwc_category, and the names the rules give categories by (a misspelt one is refused).
DwcCategory = Literal[
    "Diagnostic Testing",
    "DMEPOS",
    "Evaluation & Management",
    "Home Health",
    "Injection",
    "Pharmaceuticals",
    "Programs",
    "Psych Services",
    "Rehabilitation",
    "Surgery",
    "Therapies",
    "Transportation",
]
# Treatment.classified_by: the evidence that decided a request's category, strongest first
# (imr_nlp.normalize.requests.EVIDENCE_KINDS; a test keeps the two equal).
Evidence_ = Literal[
    "drug table",
    "drug lexicon",
    "drug misspelling",
    "name",
    "procedure code set",
    "word formation",
    "word class",
    "dose or form",
    "context",
    "none",
]
# Medication.class_by: how a drug's DWC class was known.
ClassEvidence = Literal["drug table", "drug stem", "topical form"]


class _Model(BaseModel):
    # A string right under a field is its description (in the JSON Schema and the docs).
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Evidence(_Model):
    """Where a value came from: ``start``/``end`` index the string given to parse, and ``text``
    is ``source[start:end]`` as written, on one line."""

    text: str
    """the evidence as written (``source[start:end]``), on one line: where the source writes it
    across a line break, or with a PDF's soft hyphen (U+FFFE, U+00AD), it reads as the cleaned
    text does ("right shoulder injury", "11-21-2016", "Electrodiagnostic")"""
    start: int
    """its first character's offset in the string given to parse"""
    end: int
    """the offset just after its last character"""


class Assertions(_Model):
    """ConText assertions of a mention."""

    negated: bool = False
    """said not to be present or not taken ("denies", "no evidence of")"""
    historical: bool = False
    """in the past ("history of", "status post", "previously received")"""
    hypothetical: bool = False
    """may happen ("if", "should the patient develop")"""
    uncertain: bool = False
    """possible but not affirmed ("possible", "rule out", "evaluate for")"""
    family: bool = False
    """about a relative, not the patient"""
    cues: list[str] = Field(default_factory=list)
    """the ConText cues behind the flags, "CATEGORY: cue"."""


class Mention(Evidence, Assertions):
    """A diagnosis or problem mention."""

    label: Literal["DIAGNOSIS"] = "DIAGNOSIS"
    """the kind of mention"""
    kind: Literal["diagnosis", "problem"] = "diagnosis"
    """"diagnosis": stated as the patient's diagnosis (a diagnosis list, "the injured worker has X");
    "problem": a condition named elsewhere that ConText marks negated, uncertain or historical
    ("no evidence of intracranial bleeding", "rule out seizure")"""
    icd10: str | None = None
    """the most specific ICD-10-CM code the words support (it exists in the CMS code set), or null"""
    icd10_description: str | None = None
    """the CMS description of ``icd10``"""
    icd10_by: Literal["every word", "most words"] | None = None
    """how the words support ``icd10``: "every word" (a code-set phrase has the condition word and
    every other word written), "most words" (the back-off: the phrase covering most of what the words
    tell, given up to its deepest parent that asserts nothing unwritten; review these first); null
    when there is no code"""
    long_form: str | None = None
    """the expansion when the mention is an abbreviation defined in the letter ("CRPS")"""


class Medication(Evidence, Assertions):
    """A drug mention (brand, generic or misspelt) with its generic name(s) and class."""

    generic: str | None = None
    """lower-case generic name(s), combinations joined with " / " ("hydrocodone / acetaminophen")"""
    drug_class: str | None = None
    """lower-case class ("benzodiazepine", "opioid", "nsaid", "muscle relaxant", ...)"""
    class_by: ClassEvidence | None = None
    """how the drug's DWC class was known: "drug table" (our table), "drug stem" (a USAN stem of
    its generic name), "topical form" (a cream, gel or patch of an analgesic); null when no class
    is known"""


class DateMention(Evidence):
    """A calendar date in the letter."""

    value: dt.date
    """the date (ISO "YYYY-MM-DD"; two-digit years 00-29 are 20xx, 30-99 19xx)"""
    role: DateRole = "other"
    """what the date is: "injury", "utilization_review", "prescribed", "report", the header's
    "assigned" (Date Assigned), "decision" (Decision Date) and "application_received", or "other"."""


class Strength(_Model):
    """A drug strength ("10mg", "5%", one number of "10/325mg")."""

    value: float
    """the number"""
    unit: str
    """lower-case unit: "mg", "mcg", "g", "ml", "%", "mg/ml", ... (a combination written without
    one, "Norco 10/325", is in "mg", as its tablets are labelled)"""
    ingredient: str | None = None
    """the generic name of the ingredient the number is of ("hydrocodone" for the 10 of "Norco
    10/325mg"), when the item tells (a combination's numbers as many as its ingredients, a single
    strength after a one-ingredient drug); null otherwise"""


class Duration(_Model):
    """How long a treatment lasts ("for 6 weeks")."""

    value: float
    """the number of units"""
    unit: Literal["day", "week", "month"]
    """the unit"""


class Treatment(_Model):
    """The parsed request of a decision."""

    category: Category = "other"
    """drugs (compounded creams and patches too); procedures (imaging, electrodiagnostics, labs,
    surgery, injections); services (therapy, visits, evaluations, referrals, home care);
    equipment (TENS unit, braces, supplies)"""
    drug: Medication | None = None
    """the drug of a medication item, or the drug a procedure injects ("Depo-Medrol 80mg
    injection into the left knee"); null for a diagnostic test, whose drug is what it measures
    ("TSH level")"""
    strength: Strength | None = None
    """the drug's strength: the first of ``strengths`` (the first number of a combination: 10 mg
    for "Norco 10/325mg")"""
    strengths: list[Strength] = Field(default_factory=list)
    """every strength written for the drug, in order, one per ingredient: "Norco 10/325mg" gives
    10 mg hydrocodone and 325 mg acetaminophen, "Flurbiprofen 20%/Lidocaine 5% cream" 20 %
    flurbiprofen and 5 % lidocaine (what an opioid dose in morphine milligram equivalents is
    computed from)"""
    frequency: str | None = None
    """canonical code: "QD", "BID", "TID", "QID", "QHS", "QOD", "QW", "QM", "PRN", "Q<n>H", "<n>xW"."""
    duration: Duration | None = None
    """how long ("for 6 weeks")"""
    quantity: int | None = None
    """how many ("#30", "quantity: 6")"""
    refills: int | None = None
    """how many refills ("plus one refill" is 1, "no refills" 0)"""
    prescribed_date: dt.date | None = None
    """when the item was prescribed or requested, when the item says"""
    service: str | None = None
    """the service, procedure or equipment named ("MRI", "physical therapy", "TENS unit")"""
    body_sites: list[str] = Field(default_factory=list)
    """body sites of the item (["lumbar spine"], ["right shoulder"])"""
    partial: bool = False
    """true when the item is the eligible portion of a larger original request"""
    dwc_category: str | None = None
    """the DWC's Request Category ("Diagnostic Testing", "Pharmaceuticals", "DMEPOS" ...), as in
    the DWC's public IMR decision search and annual statistics"""
    dwc_subcategory: str | None = None
    """the DWC's SubCategory/Drug ("Imaging/Radiology", "Opioids", "Topical Compounds" ...)"""
    head: str | None = None
    """the head word of the request as the grammar read it ("injection", "unit", "MRI")"""
    classified_by: Evidence_ | None = None
    """the evidence that decided the category (and with it the DWC classes): "drug table",
    "drug lexicon", "drug misspelling", "name" (a canonical treatment name), "procedure code set"
    (a term of the ICD-10-PCS index), "word formation"
    (-ectomy, -scopy ...), "word class", "dose or form", "context", or "none" (nothing supports a class: the category
    is "other" and the DWC classes are null); null for a decision with no request read"""


class Citation(Evidence):
    """A guideline citation: one guideline and its own sections (a sentence that cites a list of
    guidelines, "Low Back Complaints 2004, Section(s): Summary, and Chronic Pain Medical Treatment
    2016, Section(s): Facet blocks", gives one citation each)."""

    source: Source
    """the guideline family: "MTUS", "ODG", "ACOEM" or "OTHER"."""
    mtus: bool
    """cited as MTUS (false for "Non-MTUS Citation ...")"""
    guideline: str | None = None
    """the guideline's name ("Chronic Pain Medical Treatment 2016")"""
    topics: list[str] = Field(default_factory=list)
    """the sections cited (["Benzodiazepine", "Weaning of medications"]); for the ODG, its chapter
    first, without the word "Chapter" (["Low Back", "Heat therapy"])"""
    pages: list[int] = Field(default_factory=list)
    """the pages cited ([24, 124])"""


class GuidelineBasis(_Model):
    """What one party based its decision on."""

    mtus_based: bool | None = None
    """false where the letter says the decision was not based on the MTUS"""
    citations: list[Citation] = Field(default_factory=list)
    """the guidelines cited"""


class Reason(_Model):
    """Why a decision went the way it did: one finding of its rationale (spec: reasons.md)."""

    code: ReasonCode
    """the criterion: guideline, indication, functional_improvement, pain_relief, prior_treatment,
    objective_findings, quantity_duration, monitoring, treatment_plan, prior_results,
    documentation, risk"""
    direction: ReasonDirection
    """whether the finding argues for the treatment's medical necessity or against it"""
    text: str
    """the evidence: the sentence of the rationale that states the finding (on one line, as
    every evidence's ``text``)"""
    start: int
    """where ``text`` starts in the string given to parse"""
    end: int
    """where ``text`` ends"""


class Decision(_Model):
    """One disputed item and its outcome."""

    item: str
    """the disputed item as written, without the trailing outcome word"""
    start: int
    """where ``item`` starts in the string given to parse"""
    end: int
    """where ``item`` ends"""
    outcome: Outcome | None = None
    """"upheld" (the utilization review denial stands) or "overturned" (it is reversed)"""
    medically_necessary: bool | None = None
    """whether the item is medically necessary: the outcome's meaning where the outcome is read
    (overturned: true, upheld: false), so the two never contradict (warning W022 where the
    rationale concludes otherwise); else the rationale's conclusion"""
    treatment: Treatment = Field(default_factory=Treatment)
    """the parsed request"""
    claims_administrator: GuidelineBasis = Field(default_factory=GuidelineBasis)
    """the "Claims Administrator guideline:" paragraph"""
    reviewer_basis: GuidelineBasis = Field(default_factory=GuidelineBasis)
    """the "MAXIMUS guideline:" paragraph (the expert reviewer's)"""
    rationale: str = ""
    """the "Decision rationale:" text, white space normalised"""
    reasons: list[Reason] = Field(default_factory=list)
    """the findings of the rationale, each once per direction, in text order"""


class Reviewer(_Model):
    """The expert reviewer's credentials."""

    specialties: list[str] = Field(default_factory=list)
    """e.g. ["Physical Medicine & Rehabilitation", "Pain Management"]"""
    licensure_states: list[str] = Field(default_factory=list)
    """full state names"""
    board_certified: bool | None = None
    """whether the letter says the reviewer is board certified"""


class Patient(_Model):
    """The injured worker."""

    age: int | None = None
    """age in years"""
    sex: Literal["female", "male"] | None = None
    """"female" or "male"."""


class Determination(_Model):
    """One IMR final determination letter as data."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    """the contract's version"""
    layout: str = "unknown"
    """the layout the letter follows, from its headings: "2016", "2013-notice", "2014",
    "professional-review" or "unknown" (resources/letter_layouts.json)"""
    case_number: str | None = None
    """e.g. "CM16-0213037"."""
    date_assigned: dt.date | None = None
    """header "Date Assigned:"."""
    decision_date: dt.date | None = None
    """header "Decision Date:"."""
    application_received: dt.date | None = None
    """header "Application Received:"."""
    priority: str | None = None
    """header "Priority:" ("Standard", "Expedited")"""
    reviewer: Reviewer = Field(default_factory=Reviewer)
    """the expert reviewer"""
    patient: Patient = Field(default_factory=Patient)
    """the injured worker"""
    injury_date: dt.date | None = None
    """the date of the industrial injury"""
    ur_date: dt.date | None = None
    """the date of the utilization review denial being challenged"""
    injury_date_source: DateSource | None = None
    """where ``injury_date`` was read: "header" (the header's "Date of Injury:"), "statement" (a
    sentence of the letter that states it), or "body" (no such label or statement: the first
    date the letter's text gives the injury role, as in "injured on 5/6/2014", which may be
    another date than the header's); null without a date"""
    ur_date_source: DateSource | None = None
    """where ``ur_date`` was read: "header" ("UR Denial Date:"), "statement" ("disputing the
    Utilization Review Denial dated ..."), or "body" (the first date the text gives the
    utilization review role); null without a date"""
    diagnoses: list[Mention] = Field(default_factory=list)
    """every diagnosis or problem mention, in text order"""
    medications: list[Medication] = Field(default_factory=list)
    """every drug mention, in text order"""
    dates: list[DateMention] = Field(default_factory=list)
    """every calendar date, in text order"""
    decisions: list[Decision] = Field(default_factory=list)
    """one per disputed item, in letter order"""
    warnings: list[str] = Field(
        default_factory=list,
        description=(
            "what could not be parsed and why, each starting with its stable code (docs/warnings.md); "
            "empty when all went well"
        ),
    )
    """what could not be parsed and why; empty when all went well"""
    source: str | None = None
    """the file the letter was read from, as its resolved absolute path (parse_file, batches of
    paths; see ``imr_nlp.io.letter_identity``)"""
    ocr_pages: list[int] = Field(default_factory=list)
    """the pages of a PDF read by OCR (1-based; ``ocr="auto"`` OCRs only pages without a text
    layer, ``"always"`` every page); empty for a text, or a PDF read from its text layer"""
    error: str | None = None
    """why a batch item could not be read or parsed (its path or index first); then no data"""
