"""The request grammar over decision items: service, category, DWC classes and body sites.

Each item header is read by :func:`imr_nlp.normalize.requests.parse_request` as its parts (core
clause, context prefix, head phrase, complements); values the dose and date components found,
and the drugs the drug component found, are its inputs. Canonical names (synonyms and
abbreviations only) are spaCy Matcher token patterns (resources/service_names.jsonl); word
classes and morphology are resources/request_grammar.json; the DWC classes come from the ordered
rules of resources/dwc_rules.jsonl. Body sites take their laterality from the word before them
(shared along a list: "right hip and foot"), or from a trailing ", right"; spinal levels are
sites only where no spine region is named.

Writes ``doc.spans["imr_services"]`` (one per item; ``span._.request`` = {"service",
"category", "classified_by", "dwc_category", "dwc_subcategory", "head_word"}) and ``doc.spans["imr_body_sites"]``
(``span._.body_site`` = the site, laterality included).
"""

import re
from bisect import bisect_left
from collections.abc import Callable

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from imr_nlp.components.base import RuleComponent, SpanIndex, doc_text, labelled_span
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import shared_table, spans_of
from imr_nlp.normalize import requests as grammar
from imr_nlp.normalize.treatments import DoseFact, DrugMention, treatment_values

_LIST_GAP = re.compile(r"^\s*(?:,|/|and|or|&|,\s*and|,\s*or)?\s*(?:the\s+)?$", re.I)
_LATERALITY_REACH = 40  # characters before a site searched for its laterality ("right side of the")


CONTRACT = declare(
    Contract(
        factory="imr_services",
        reads=(
            "spans:items",
            "spans:drugs",
            "spans:doses",
            "span._.decision",
            "span._.dose",
            "span._.generic",
            "span._.dwc_class",
            "span._.drug_evidence",
            "span._.drug_class",
            "vocab.lookups:number_words",
        ),
        reads_if_present=("spans:dates", "span._.role", "span._.iso_date"),
        writes=("spans:services", "spans:body_sites", "span._.request", "span._.body_site", "span._.treatment"),
        rule_files=(
            "request_grammar.json",
            "procedure_terms.json",
            "service_names.jsonl",
            "dwc_rules.jsonl",
            "body_sites.json",
        ),
        scores=("treatment.",),
    )
)


class IMRServices(RuleComponent):
    contract = CONTRACT

    def __init__(self, nlp: Language, name: str, **settings) -> None:
        self.vocab = nlp.vocab
        self._tables: tuple[object, grammar.Tables] | None = None
        super().__init__(nlp, name, **settings)

    def _compile(self) -> None:
        sites = self.rules["body_sites.json"]
        self.site_patterns = [
            (re.compile(p, re.I), s.name, s.lateral, s.keep_text or s.level, s.level)
            for s in sites.sites
            for p in s.patterns
        ]
        lat_words = sorted(sites.laterality, key=len, reverse=True)
        self.laterality = {k.lower(): v for k, v in sites.laterality.items()}
        self.laterality_before = re.compile(
            r"\b(" + "|".join(re.escape(w) for w in lat_words) + r")\.?\s+(?:the\s+|side\s+)?$", re.I
        )
        # a side named alone after the sites ("knee and leg, right"): whole words, not "r" or "l"
        words_after = [w for w in lat_words if w.isalpha() and len(w) > 1]
        self.laterality_after = re.compile(
            r",\s*(?P<lat>" + "|".join(re.escape(w) for w in words_after) + r")\s*(?:side)?\s*(?:$|[,(;])", re.I
        )
        self._tables = None  # rebuilt from the new rules on the next call
        self.names = self.rules["service_names.jsonl"].entries
        self.matcher = Matcher(self.vocab)
        for index, entry in enumerate(self.names):
            self.matcher.add(str(index), entry.patterns)
        self.dwc_rules = grammar.compile_dwc_rules(self.rules["dwc_rules.jsonl"].entries)

    @property
    def tables(self) -> grammar.Tables:
        """The grammar's tables, with the number words ``imr_doses`` shares from its rules
        (their one home) in the vocabulary's lookups, rebuilt when either's rules change."""
        number_words = shared_table(self.vocab, "number_words")
        if number_words is None:
            self._refuse("vocab.lookups:number_words")  # read outside a doc (``read``): no self.shared
        if self._tables is None or self._tables[0] is not number_words:
            sites = self.rules["body_sites.json"]
            tables = grammar.Tables.from_rules(
                self.rules["request_grammar.json"],
                laterality=[w for w in sites.laterality if len(w) > 1 and w.isalpha()],
                number_words=dict(number_words),
                procedure_terms=self.rules["procedure_terms.json"],
            )
            self._tables = (number_words, tables)
        return self._tables[1]

    def canonical(self, words: list[str]) -> list[grammar.Canonical]:
        """Canonical-name matches over a token list (spaCy Matcher on a Doc of those words)."""
        if not words:
            return []
        doc = Doc(self.vocab, words=words)
        out = []
        for match_id, start, end in self.matcher(doc):
            entry = self.names[int(self.vocab.strings[match_id])]
            out.append(grammar.Canonical(start, end, entry.name, entry.category))
        return out

    def read(self, text: str, masks=(), drugs=(), strengths=(), scheduled: bool = False) -> dict:
        """One item header -> {"service", "category", "classified_by", "dwc_category",
        "dwc_subcategory", "head", "head_word", "sites"}; ``drugs`` are (start, end, generic,
        dwc class[, evidence]); ``scheduled``: the item gives a frequency ("once weekly"), so a
        drug injected on it is taken at home, not given once in the office."""
        core = grammar.core_clause(text)
        sites = self.find_body_sites(text[: core[0] + grammar.MAX_REQUEST_CHARS])
        parse = grammar.parse_request(
            text,
            self.tables,
            masks=masks,
            sites=[(s, e) for s, e, _ in sites],
            drugs=[(d[0], d[1]) for d in drugs],
            strengths=strengths,
            canonical=self.canonical,
            core=core,
            scheduled=scheduled,
        )
        features = set(parse.features)
        core_drugs = [d for d in drugs if parse.core[0] <= d[0] < parse.core[1]]
        drug_dwc = next((d[3] for d in core_drugs if d[3]), None)
        if sites:
            features.add("sites:any")
        if scheduled and drug_dwc:
            features.add("dose:scheduled")
        if not drug_dwc:  # a drug of no known class injected at home still reads as an injection
            features.discard("class:self_injection")
        if parse.category == "medication" and core_drugs:
            # a topical of several ingredients, or of a drug not sold as a topical, is compounded
            dwcs = [d[3] for d in core_drugs]
            generics = {g for d in core_drugs for g in d[2].split(" / ")}
            if "Topical Compounds" in dwcs or (len(generics) > 1 and "Topical Analgesics" in dwcs):
                features.add("topical:compound")
                drug_dwc = "Topical Compounds"
            elif "Topical Analgesics" in dwcs:
                features.add("topical:single" if "word:compound" not in features else "topical:compound")
        if drug_dwc:
            features.add(f"drug:{drug_dwc}")
        dwc_category, dwc_subcategory = grammar.dwc_classes(features, self.dwc_rules, drug_dwc)
        evidence = parse.evidence
        if evidence == grammar.DRUG_LEXICON and core_drugs and len(core_drugs[0]) > 4:
            evidence = (core_drugs[0][4] or {}).get("name") or evidence  # the first drug's own evidence
        return {
            "classified_by": evidence,
            "service": parse.service if parse.category != "medication" else None,
            "category": parse.category,
            "dwc_category": dwc_category,
            "dwc_subcategory": dwc_subcategory,
            "head": parse.head,
            "head_word": parse.head_word,
            "count": parse.count,
            "core": parse.core,
            "sites": sites,
        }

    def match(self, doc: Doc) -> list[tuple[int, int, str, object]]:
        text = doc_text(doc)
        out = []
        # Values the grammar does not read as words: a "6 visits" count is read by the grammar.
        values = [
            (s.start_char, s.end_char)
            for key in ("doses", "dates")
            for s in spans_of(doc, key)
            if not (s.label_ == "QUANTITY" and s._.dose.get("kind") == "count")
        ]
        values.sort()
        value_starts = [s for s, _ in values]
        drug_index = SpanIndex(list(spans_of(doc, "drugs")))
        dose_index = SpanIndex(list(spans_of(doc, "doses")))
        date_index = SpanIndex(list(spans_of(doc, "dates")))
        for item in spans_of(doc, "items"):
            a, b = item.start_char, item.end_char
            item_text = text[a:b]
            first = bisect_left(value_starts, a)
            masks = [(s - a, e - a) for s, e in values[first : bisect_left(value_starts, b, first)] if e <= b]
            drugs = [
                (d.start_char - a, d.end_char - a, d._.generic, d._.dwc_class, d._.drug_evidence)
                for d in drug_index.within(a, b)
            ]
            item_doses = dose_index.within(a, b)
            strengths = [(s.start_char - a, s.end_char - a) for s in item_doses if s.label_ == "STRENGTH"]
            scheduled = any(s.label_ == "FREQUENCY" for s in item_doses)
            request = self.read(item_text, masks, drugs, strengths, scheduled)
            head = request.pop("head") or (0, len(item_text))
            core = request.pop("core")
            sites = request.pop("sites")
            out.append((a + head[0], a + head[1], "SERVICE", request))
            for s, e, site in sites:
                if s >= core[0] or not any(cs >= core[0] for cs, _, _ in sites):
                    out.append((a + s, a + e, "BODY_SITE", site))
            out.append((item.start, item.end, "TREATMENT", item_facts(drug_index, item_doses, date_index, a, b)))
        return out

    def find_body_sites(self, text: str) -> list[tuple[int, int, str]]:
        """Body sites in text order, laterality applied and shared along a list; no repeats;
        spinal levels only where no spine region is named."""
        hits = []
        for pattern, name, lateral, keep_text, level in self.site_patterns:
            for m in pattern.finditer(text):
                label = re.sub(r"\s*-\s*", "-", m.group()) if level else (m.group().lower() if keep_text else name)
                hits.append((m.start(), m.end(), label, lateral, level))
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        chosen: list[tuple[int, int, str, bool, bool]] = []
        for h in hits:
            if chosen and h[0] < chosen[-1][1]:
                continue
            chosen.append(h)
        if any(not level and name.endswith("spine") for _, _, name, _, level in chosen):
            chosen = [h for h in chosen if not h[4]]
        after = self.laterality_after.search(text)
        out: list[tuple[int, int, str]] = []
        names: list[str] = []
        prev_end, prev_lat = None, None
        for start, end, name, lateral, _level in chosen:
            m = self.laterality_before.search(text, max(0, start - _LATERALITY_REACH), start)
            lat = self.laterality.get(m.group(1).lower()) if m else None
            if lat is None and prev_end is not None and _LIST_GAP.match(text[prev_end:start]):
                lat = prev_lat
            if lat is None and after is not None and after.start() >= end and lateral:
                lat = self.laterality[after.group("lat").lower()]
            if lat is not None and lateral and not name.startswith(lat):
                label = f"{lat} {name}"
            else:
                label = name
            if lat is None or not lateral:
                prev_lat = lat if lateral or lat else prev_lat
            else:
                prev_lat = lat
            prev_end = end
            if label not in names:
                names.append(label)
                out.append((m.start() if (m and lateral) else start, end, label))
        specific = [n for n in names if n != "spine" and n.endswith(" spine")]
        out = [o for o in out if not (o[2] == "spine" and specific)]
        # a bare site named again after its lateral form ("Left knee total knee replacement")
        return [
            o
            for o in out
            if not any(
                n != o[2] and n.endswith(" " + o[2]) and n.split(" ")[0] in self.laterality.values() for n in names
            )
        ]

    def set_annotations(self, doc: Doc, matches) -> Doc:
        """The service and body-site spans, and each item's treatment (``span._.treatment``),
        decided from its request (the service span's, when one was written) and its facts."""
        services, sites = [], []
        request = None
        for start, end, label, value in matches:
            if label == "TREATMENT":
                Span(doc, start, end)._.treatment = treatment_values(request, *value)
                request = None
                continue
            service = label == "SERVICE"
            span = labelled_span(doc, start, end, label, **{"request" if service else "body_site": value})
            if span is not None:
                (services if service else sites).append(span)
                if service:
                    request = value
        self.write_spans(doc, "services", services)
        self.write_spans(doc, "body_sites", sites)
        return doc


def item_facts(
    drug_index: SpanIndex, item_doses: list[Span], date_index: SpanIndex, start: int, end: int
) -> tuple[list[DrugMention], list[DoseFact], list[str]]:
    """An item's drug mentions, dose facts and prescribed dates as plain values."""
    drugs = [
        DrugMention(
            d.start_char,
            d.end_char,
            d._.generic,
            d._.drug_class,
            d._.dwc_class,
            (d._.drug_evidence or {}).get("class"),
        )
        for d in drug_index.within(start, end)
    ]
    doses = [DoseFact(s.label_, s.start_char, s._.dose) for s in item_doses]
    prescribed = [d._.iso_date for d in date_index.within(start, end) if d._.role == "prescribed"]
    return drugs, doses, prescribed


@Language.factory(
    "imr_services",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_services(nlp: Language, name: str, span_keys: dict[str, str], scorer: Callable[..., dict]) -> IMRServices:
    return IMRServices(nlp, name, span_keys=span_keys, scorer=scorer)
