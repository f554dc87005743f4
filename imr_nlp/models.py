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
DateRole = Literal["injury", "utilization_review", "prescribed", "report", "other"]
Source = Literal["MTUS", "ODG", "ACOEM", "OTHER"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Model):
    """Where a value came from: ``text == source[start:end]`` of the string given to parse."""

    text: str
    start: int
    end: int


class Assertions(_Model):
    """ConText assertions of a mention."""

    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    uncertain: bool = False
    family: bool = False
    cues: list[str] = Field(default_factory=list, description='the ConText cues behind the flags, "CATEGORY: cue"')


class Mention(Evidence, Assertions):
    """A diagnosis or problem mention."""

    label: Literal["DIAGNOSIS"] = "DIAGNOSIS"
    icd10: str | None = None
    long_form: str | None = Field(None, description="expansion when the mention is an abbreviation")


class Medication(Evidence, Assertions):
    """A drug mention (brand, generic or misspelt) with its generic name(s) and class."""

    generic: str | None = None
    drug_class: str | None = None


class DateMention(Evidence):
    value: dt.date
    role: DateRole = "other"


class Strength(_Model):
    value: float
    unit: str


class Duration(_Model):
    value: float
    unit: Literal["day", "week", "month"]


class Treatment(_Model):
    category: Category = "other"
    drug: Medication | None = None
    strength: Strength | None = None
    frequency: str | None = None
    duration: Duration | None = None
    quantity: int | None = None
    refills: int | None = None
    prescribed_date: dt.date | None = None
    service: str | None = None
    body_sites: list[str] = Field(default_factory=list)
    partial: bool = False


class Citation(Evidence):
    source: Source
    mtus: bool
    guideline: str | None = None
    topics: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)


class GuidelineBasis(_Model):
    mtus_based: bool | None = None
    citations: list[Citation] = Field(default_factory=list)


class Decision(_Model):
    item: str
    start: int
    end: int
    outcome: Outcome | None = None
    medically_necessary: bool | None = None
    treatment: Treatment = Field(default_factory=Treatment)
    claims_administrator: GuidelineBasis = Field(default_factory=GuidelineBasis)
    reviewer_basis: GuidelineBasis = Field(default_factory=GuidelineBasis)
    rationale: str = ""


class Reviewer(_Model):
    specialties: list[str] = Field(default_factory=list)
    licensure_states: list[str] = Field(default_factory=list)
    board_certified: bool | None = None


class Patient(_Model):
    age: int | None = None
    sex: Literal["female", "male"] | None = None


class Determination(_Model):
    """One IMR final determination letter as data."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    case_number: str | None = None
    date_assigned: dt.date | None = None
    decision_date: dt.date | None = None
    application_received: dt.date | None = None
    priority: str | None = None
    reviewer: Reviewer = Field(default_factory=Reviewer)
    patient: Patient = Field(default_factory=Patient)
    injury_date: dt.date | None = None
    ur_date: dt.date | None = None
    diagnoses: list[Mention] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    dates: list[DateMention] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    source: str | None = Field(None, description="the file the letter was read from (parse_file, batches of paths)")
    error: str | None = Field(
        None, description="why a batch item could not be read or parsed (its path or index first); then no data"
    )
