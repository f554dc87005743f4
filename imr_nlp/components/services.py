"""Services, procedures and equipment named in decision items, with their body sites.

Patterns and categories are data (resources/services.json, resources/body_sites.json). The
earliest service mention in an item names it (ties go to the longer, then the listed-first
rule). Body sites take their laterality from the word before them, and a list shares it:
"right hip and foot" gives "right hip" and "right foot".
Writes ``doc.spans["imr_services"]`` (``span._.value`` = {"service", "category"}) and
``doc.spans["imr_body_sites"]`` (``span._.value`` = the site, laterality included).
"""

import re

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import RuleComponent, char_span, doc_text
from imr_nlp.extensions import SPAN_GROUPS

_LIST_GAP = re.compile(r"^\s*(?:,|/|and|or|&|,\s*and|,\s*or)?\s*(?:the\s+)?$", re.I)


class IMRServices(RuleComponent):
    resource_names = ("services.json", "body_sites.json")

    def __init__(self, nlp: Language, name: str) -> None:
        super().__init__(name)

    def _compile(self) -> None:
        services = self.rules["services.json"]
        self.service_patterns = [
            (order, re.compile(p, re.I), entry.service, entry.category)
            for order, entry in enumerate(services.services)
            for p in entry.patterns
        ]
        sites = self.rules["body_sites.json"]
        self.site_patterns = [(re.compile(p, re.I), s.name, s.lateral) for s in sites.sites for p in s.patterns]
        lat_words = sorted(sites.laterality, key=len, reverse=True)
        self.laterality = {k.lower(): v for k, v in sites.laterality.items()}
        self.laterality_before = re.compile(
            r"\b(" + "|".join(re.escape(w) for w in lat_words) + r")\.?\s+(?:the\s+|side\s+)?$", re.I
        )

    def match(self, doc: Doc) -> list[tuple[int, int, str, object]]:
        text = doc_text(doc)
        out = []
        for item in doc.spans.get(SPAN_GROUPS["items"], []):
            item_text = text[item.start_char : item.end_char]
            service = self.find_service(item_text)
            if service:
                s, e, name, category = service
                out.append(
                    (item.start_char + s, item.start_char + e, "SERVICE", {"service": name, "category": category})
                )
            for s, e, site in self.find_body_sites(item_text):
                out.append((item.start_char + s, item.start_char + e, "BODY_SITE", site))
        return out

    def find_service(self, text: str) -> tuple[int, int, str, str] | None:
        best = None
        for order, pattern, name, category in self.service_patterns:
            m = pattern.search(text)
            if not m:
                continue
            key = (m.start(), -(m.end() - m.start()), order)
            if best is None or key < best[0]:
                best = (key, (m.start(), m.end(), name, category))
        return best[1] if best else None

    def find_body_sites(self, text: str) -> list[tuple[int, int, str]]:
        """Body sites in text order, laterality applied and shared along a list; no repeats."""
        hits = []
        for pattern, name, lateral in self.site_patterns:
            for m in pattern.finditer(text):
                hits.append((m.start(), m.end(), name, lateral))
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        chosen: list[tuple[int, int, str, bool]] = []
        for h in hits:
            if chosen and h[0] < chosen[-1][1]:
                continue
            chosen.append(h)
        out: list[tuple[int, int, str]] = []
        names: list[str] = []
        prev_end, prev_lat = None, None
        for start, end, name, lateral in chosen:
            m = self.laterality_before.search(text, 0, start)
            lat = self.laterality.get(m.group(1).lower()) if m else None
            if lat is None and prev_end is not None and _LIST_GAP.match(text[prev_end:start]):
                lat = prev_lat
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
        return [o for o in out if not (o[2] == "spine" and specific)]

    def set_annotations(self, doc: Doc, matches) -> Doc:
        services, sites = [], []
        for start, end, label, value in matches:
            span = char_span(doc, start, end, label=label)
            if span is None:
                continue
            span._.value = value
            (services if label == "SERVICE" else sites).append(span)
        doc.spans[SPAN_GROUPS["services"]] = services
        doc.spans[SPAN_GROUPS["body_sites"]] = sites
        return doc


@Language.factory("imr_services", assigns=["doc.spans"], default_config={})
def make_services(nlp: Language, name: str) -> IMRServices:
    return IMRServices(nlp, name)
