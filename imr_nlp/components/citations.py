"""Guideline citations of the "Claims Administrator guideline:" and "MAXIMUS guideline:" parts.

Each "Decision based on [Non-MTUS Citation] ..." sentence is a citation; an MTUS sentence that
also names the ODG ("MTUS Chronic Pain Treatment Guidelines Official Disability Guidelines (ODG):
Mental Illness & Stress: Office visits") gives two. A citation has a source (MTUS, ODG, ACOEM,
OTHER), a guideline name, topics and pages ("Page(s): 24, 124"). A list of MTUS guidelines, each
with its own sections ("Low Back Complaints 2004, Section(s): Summary, and Chronic Pain Medical
Treatment 2016, Section(s): Facet blocks"), is one citation per guideline. An ODG chapter's name
is a topic, its label "Chapter" never is. "did not base their decision on the MTUS" makes
``mtus_based`` false. Guideline names, ODG chapters and phrases are data
(resources/guidelines.json). Writes ``doc.spans["imr_citations"]``: CITATION spans with
``span._.citation`` and, per part, a BASIS span with ``span._.basis`` = {"mtus_based", "part",
"index"}.
"""

import re
from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import spans_of

_TOPIC_SPLIT = re.compile(r"\s*(?:[,:;/]|\.\s)\s*")
# The conjunction of a list ("Initial Care, and Physical Methods") belongs to the list, not to a topic.
_LIST_CONJUNCTION = re.compile(r"^(?:and|or)\s+", re.I)
# A chapter name is followed by another chapter, the topics or nothing.
_CHAPTER_END = re.compile(r"\s*(?:[,:;/]|\band\b|-(?=\s)|$)", re.I)
_YEAR_END = re.compile(r"(?:19|20)\d{2}$")


def split_topics(text: str) -> list[str]:
    """Split a list of guideline topics at commas, colons, semicolons, slashes and full stops,
    but not inside parentheses: "Electrodiagnostic testing (EMG/NCS)" is one topic. A bracket
    that is never closed does not hold back the separators after it."""
    parts: list[str] = []
    start = scanned = depth = 0
    last_close = text.rfind(")")
    for separator in _TOPIC_SPLIT.finditer(text):
        depth += text.count("(", scanned, separator.start()) - text.count(")", scanned, separator.start())
        scanned = separator.start()
        if depth <= 0 or separator.end() > last_close:
            parts.append(text[start : separator.start()])
            start = separator.end()
    parts.append(text[start:])
    return parts


CONTRACT = declare(
    Contract(
        factory="imr_citations",
        reads=("spans:parts", "span._.block_index"),
        writes=("spans:citations", "span._.citation", "span._.basis"),
        rule_files=("guidelines.json",),
        scores=("claims_administrator.", "reviewer_basis."),
    )
)


class IMRCitations(RuleComponent):
    contract = CONTRACT

    def _compile(self) -> None:
        g = self.rules["guidelines.json"]
        self.mtus_guideline = re.compile(r"(?:" + "|".join(g.mtus_guidelines) + r")", re.I)
        self.odg_chapter = re.compile(r"(?:" + "|".join(g.odg_chapters) + r")", re.I)
        self.odg = re.compile(
            r"(?:" + "|".join(re.escape(n) for n in g.odg_names) + r")(?:\s*\((?:ODG|TWC)\))?(?:,\s*\d+\w*\s+Edition)?",
            re.I,
        )
        self.acoem = re.compile(r"(?:" + "|".join(re.escape(n) for n in g.acoem_names) + r")", re.I)
        self.not_mtus = re.compile("|".join(g.not_mtus), re.I)
        w = g.wordings
        self.basis_opening = re.compile(w.basis_opening.pattern, re.I | re.S)
        self.mtus_lead = re.compile(w.mtus_lead.pattern, re.I)
        self.pages = re.compile(w.pages.pattern, re.I)
        self.page_words = re.compile(w.page_words.pattern, re.I)
        self.sections = re.compile(w.sections.pattern, re.I)
        self.edition_notes = re.compile(w.edition_notes.pattern, re.I)
        self.next_guideline = re.compile(w.next_guideline.pattern, re.I)
        self.chapter_label = re.compile(w.chapter_label.pattern, re.I)
        self.section_after = re.compile(r"\s*,?\s*(?:" + w.sections.pattern + ")", re.I)

    def match(self, doc: Doc) -> list[tuple[str, int, int, dict]]:
        text = doc_text(doc)
        out = []
        for part in spans_of(doc, "parts"):
            if part.label_ not in ("claims_administrator", "reviewer_basis"):
                continue
            base = part.start_char
            part_text = text[part.start_char : part.end_char]
            citations = self.parse(part_text)
            for c in citations:
                s, e = c.pop("_span")
                out.append(("CITATION", base + s, base + e, {**c, "part": part.label_, "index": part._.block_index}))
            out.append(
                (
                    "BASIS",
                    part.start_char,
                    part.end_char,
                    {
                        "mtus_based": self.mtus_based(part_text, citations),
                        "part": part.label_,
                        "index": part._.block_index,
                    },
                )
            )
        return out

    def mtus_based(self, part_text: str, citations: list[dict]) -> bool | None:
        if self.not_mtus.search(part_text):
            return False
        if any(c["mtus"] for c in citations):
            return True
        if citations:
            return False
        return None

    def parse(self, part_text: str) -> list[dict]:
        """Citations of one guideline paragraph, each with ``_span`` offsets into it."""
        out: list[dict] = []
        for m in self.basis_opening.finditer(part_text):
            body_start = m.start("body")
            body = m.group("body")
            stripped = body.rstrip(" \n.")
            if not stripped:
                continue
            if m.group("non"):
                out.append(self._citation(self._source(stripped), False, stripped, body_start, part_text))
                continue
            lead = self.mtus_lead.match(stripped)
            if not lead:
                out.append(self._citation(self._source(stripped), False, stripped, body_start, part_text))
                continue
            rest_start = body_start + lead.end()
            rest = stripped[lead.end() :]
            odg = self.odg.search(rest)
            mtus_text = rest[: odg.start()].rstrip(" ,.;:") if odg and odg.start() > 0 else rest
            for piece_start, piece in self.guideline_list(mtus_text):
                out.append(self._citation("MTUS", True, piece, rest_start + piece_start, part_text))
            if odg and odg.start() > 0:
                out.append(self._citation("ODG", False, rest[odg.start() :], rest_start + odg.start(), part_text))
        return out

    def guideline_list(self, text: str) -> list[tuple[int, str]]:
        """The MTUS guidelines of a list, each with its own sections, as (offset, text): a list
        separator (``next_guideline``) followed by a guideline named with its year or followed by
        its "Section(s):" label starts the next one ("Low Back Complaints 2004, Section(s):
        Summary, and Chronic Pain Medical Treatment 2016, ...")."""
        pieces: list[tuple[int, str]] = []
        start = 0
        for separator in self.next_guideline.finditer(text):
            if separator.start() <= start:
                continue
            name = self.mtus_guideline.match(text, separator.end())
            if name and (_YEAR_END.search(name.group()) or self.section_after.match(text, name.end())):
                pieces.append((start, text[start : separator.start()]))
                start = separator.end()
        pieces.append((start, text[start:]))
        return pieces

    def _source(self, text: str) -> str:
        if self.odg.search(text):
            return "ODG"
        if self.acoem.search(text):
            return "ACOEM"
        if self.mtus_lead.match(text):
            return "MTUS"
        return "OTHER"

    def _citation(self, source: str, mtus: bool, text: str, start: int, part_text: str) -> dict:
        text = text.strip()
        pages = []
        for pm in self.pages.finditer(text):
            pages.extend(int(p) for p in re.findall(r"\d+", pm.group("v")) if int(p) not in pages)
        topic_text = self.pages.sub(" ", text)
        topic_text = self.page_words.sub(" ", topic_text)
        topic_text = self.sections.sub(", ", topic_text)
        guideline = None
        if source == "MTUS":
            g = self.mtus_guideline.match(topic_text.strip())
            if g:
                guideline = g.group().strip()
                topic_text = topic_text.strip()[g.end() :]
        elif source == "ODG":
            odg = self.odg.search(topic_text)
            if odg:
                guideline = "Official Disability Guidelines"
                topic_text = topic_text[odg.end() :]
        elif source == "ACOEM":
            guideline = "ACOEM"
            topic_text = ""
        else:
            topic_text = ""
            guideline = " ".join(text.split(",")[0].split()) or None
        topic_text = self.edition_notes.sub(" ", topic_text)
        topics = []
        if source == "ODG":
            chapters, topic_text = self._odg_chapters(self.chapter_label.sub(", ", topic_text))
            topics.extend(chapters)
        for t in split_topics(topic_text):
            t = _LIST_CONJUNCTION.sub("", " ".join(t.split()).strip(" .-&"))
            if t and not t.isdigit() and t.lower() not in ("and", "section", "sections"):
                topics.append(t)
        offset = part_text.find(text, start) if text else start
        offset = start if offset < 0 else offset
        return {
            "source": source,
            "mtus": mtus,
            "guideline": guideline,
            "topics": topics,
            "pages": pages,
            "text": text,
            "_span": (offset, offset + len(text)),
        }

    def _odg_chapters(self, text: str) -> tuple[list[str], str]:
        """The ODG chapters that open ``text`` (the word "Chapter" already read as a separator),
        and the text after them: chapter names keep their commas ("Forearm, Wrist, and Hand"),
        and one may follow another ("Neck & Upper Back and Low Back chapters"). The first ends
        at a word's end ("Low Back Procedures"); a further one only at a separator, so that a
        topic that starts like a chapter stays whole ("Pain, Opioids for chronic pain")."""
        chapters: list[str] = []
        pos = 0
        while True:
            while pos < len(text) and text[pos] in " :,-":
                pos += 1
            chapter = self.odg_chapter.match(text, pos)
            after = chapter and _CHAPTER_END.match(text, chapter.end())
            if not chapter or (chapters and not after) or text[chapter.end() : chapter.end() + 1].isalnum():
                return chapters, text[pos:]
            chapters.append(" ".join(chapter.group().split()))
            pos = after.end() if after and after.group().strip().lower() == "and" else chapter.end()

    def set_annotations(self, doc: Doc, matches) -> Doc:
        spans = (
            labelled_span(doc, start, end, label, **{"citation" if label == "CITATION" else "basis": value})
            for label, start, end, value in matches
        )
        self.write_spans(doc, "citations", [span for span in spans if span is not None])
        return doc


@Language.factory(
    "imr_citations",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_citations(nlp: Language, name: str, span_keys: dict[str, str], scorer: Callable[..., dict]) -> IMRCitations:
    return IMRCitations(nlp, name, span_keys=span_keys, scorer=scorer)
