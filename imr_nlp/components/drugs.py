"""Drug mentions: brand, generic and misspelt names to lower-case generic(s) and a drug class.

Token n-grams are looked up in the drug lexicon (imr_nlp.normalize.drugs: the MIT-licensed
drug-named-entity-recognition data plus resources/drugs.json), longest match first; words the
lexicon lacks are tried against known drug names at edit distance one ("Klonipin"). A drug
followed by a topical cue ("5%", "cream", "patch") in the same clause is a topical analgesic.
Writes ``doc.spans["imr_drugs"]`` with ``span._.generic`` and ``span._.drug_class``.
"""

from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp import resources
from imr_nlp.components.base import RuleComponent
from imr_nlp.extensions import SPAN_GROUPS
from imr_nlp.normalize.drugs import DrugLexicon, default_lexicon

_TOPICAL_WINDOW = 6  # tokens after a drug name searched for a topical cue
_FORM_WORDS = frozenset({"tab", "tabs", "tablet", "tablets", "capsule", "capsules", "oral"})


class IMRDrugs(RuleComponent):
    resource_names = ("drugs.json",)

    def __init__(self, nlp: Language, name: str, use_package_lexicon: bool = True) -> None:
        self.use_package_lexicon = use_package_lexicon
        super().__init__(name)

    def _compile(self) -> None:
        self.lexicon: DrugLexicon = _lexicon_for(self.rules["drugs.json"], self.use_package_lexicon)

    def match(self, doc: Doc) -> list[tuple[int, int, str, str | None]]:
        """(start token, end token, generic, class) for each drug mention, longest match first."""
        lexicon = self.lexicon
        out = []
        i, n = 0, len(doc)
        while i < n:
            tok = doc[i]
            if tok.is_space or tok.is_punct or tok.like_num or not tok.text[0].isalpha():
                i += 1
                continue
            hit = None
            for size in range(min(lexicon.max_words, n - i), 0, -1):
                span_text = doc[i : i + size].text
                info = lexicon.lookup(span_text)
                if info is not None:
                    hit = (size, info)
                    break
            if hit is None:
                info = lexicon.fuzzy(tok.text)
                if info is not None:
                    hit = (1, info)
            if hit is None:
                i += 1
                continue
            size, info = hit
            end = i + size
            # Salt and release words belong to the mention: "Nortriptyline HCL", "Diclofenac ER".
            while end < n and doc[end].lower_ in lexicon.salt_words and doc[end].lower_ not in _FORM_WORDS:
                end += 1
            drug_class = info.drug_class
            if self._topical(doc, end):
                drug_class = "topical analgesic"
            out.append((i, end, info.generic, drug_class))
            i = end
        return out

    def _topical(self, doc: Doc, end: int) -> bool:
        cues = self.lexicon.topical_cues
        if any(t.lower_ in ("topical", "compound", "compounded", "transdermal") for t in doc[max(0, end - 4) : end]):
            return True
        for tok in doc[end : end + _TOPICAL_WINDOW]:
            if tok.text in (";", ",", "and", "or", "with", "(") or "\n" in tok.text:
                break
            if tok.lower_ in cues or tok.text in cues:
                return True
        return False

    def set_annotations(self, doc: Doc, matches) -> Doc:
        spans = []
        for start, end, generic, drug_class in matches:
            span = Span(doc, start, end, label="DRUG")
            span._.generic = generic
            span._.drug_class = drug_class
            spans.append(span)
        doc.spans[SPAN_GROUPS["drugs"]] = spans
        return doc


def _lexicon_for(rules, use_package_lexicon: bool) -> DrugLexicon:
    """The shared default lexicon when the rules are the shipped ones, else one of their own."""
    if rules == resources.load("drugs.json"):
        return default_lexicon(use_package_lexicon)
    return DrugLexicon(use_package_lexicon, rules=rules)


@Language.factory(
    "imr_drugs",
    assigns=["doc.spans", "span._.generic", "span._.drug_class"],
    default_config={"use_package_lexicon": True},
)
def make_drugs(nlp: Language, name: str, use_package_lexicon: bool) -> IMRDrugs:
    return IMRDrugs(nlp, name, use_package_lexicon)
