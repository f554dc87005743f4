"""Drug mentions: brand, generic and misspelt names to lower-case generic(s) and a drug class.

Token n-grams are looked up in the drug lexicon (imr_nlp.normalize.drugs: the MIT-licensed
drug-named-entity-recognition data, the FDA UNII names of resources/brand_names.json and
resources/drugs.json), longest match first; words the
lexicon lacks are tried against known drug names at edit distance one ("Klonipin"). A drug
followed by a topical cue ("5%", "cream", "patch") in the same clause is a topical analgesic.
Writes ``doc.spans["imr_drugs"]`` with ``span._.generic``, ``span._.drug_class``, ``span._.dwc_class``
and ``span._.drug_evidence`` (how the name and the DWC class were known).
"""

from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc, Span

from imr_nlp import resources
from imr_nlp.components.base import RuleComponent, doc_text, token_words
from imr_nlp.components.contract import Contract, declare
from imr_nlp.normalize.drugs import DrugLexicon, default_lexicon, leading_word

_TOPICAL_WINDOW = 6  # tokens after a drug name searched for a topical cue
_MAX_MEMO = 100_000  # words whose candidacy is remembered (bounded: a feed of odd words cannot grow it)
# DrugInfo.source -> the evidence named in Treatment.classified_by
_NAME_EVIDENCE = {"imr_nlp": "drug table", "lexicon": "drug lexicon", "fuzzy": "drug misspelling"}


CONTRACT = declare(
    Contract(
        factory="imr_drugs",
        reads=(),
        writes=("spans:drugs", "span._.generic", "span._.drug_class", "span._.dwc_class", "span._.drug_evidence"),
        rule_files=("drugs.json", "brand_names.json"),
        scores=("medications",),
    )
)


class IMRDrugs(RuleComponent):
    contract = CONTRACT

    def __init__(self, nlp: Language, name: str, use_package_lexicon: bool = True, **settings) -> None:
        self.use_package_lexicon = use_package_lexicon
        super().__init__(nlp, name, **settings)

    def _compile(self) -> None:
        self.lexicon: DrugLexicon = _lexicon_for(
            self.rules["drugs.json"], self.rules["brand_names.json"], self.use_package_lexicon
        )
        self._may_start: dict[str, bool] = {}  # word -> whether it may start a mention

    def match(self, doc: Doc) -> list[tuple[int, int, str, str | None, str | None, dict]]:
        """(start token, end token, generic, class, DWC class, evidence) for each drug mention,
        longest match first; evidence is {"name": how the name was known, "class": how its DWC
        class was}.

        A token is looked up only when its leading word starts some lexicon name, and only with
        as many following tokens as that name's length allows; other long words are tried as
        misspellings. Token texts are read once into lists (Token access is slow in Python).
        """
        lexicon = self.lexicon
        text = doc_text(doc).lower()
        words, _, starts = token_words(doc)
        lowers = [w.lower() for w in words]
        n = len(lowers)
        out = []
        end_of_last = 0
        for i in self._candidates(lowers):
            if i < end_of_last:
                continue  # inside the mention before
            lower = lowers[i]
            hit = None
            known = lexicon.lengths_from.get(lower if lower.isalnum() else leading_word(lower))
            if known:
                longest, lengths = known
                ends = []
                j = i + 1
                while j <= n and (length := starts[j - 1] + len(lowers[j - 1]) - starts[i]) <= longest:
                    if length in lengths:
                        ends.append(j)
                    j += 1
                for end in reversed(ends):
                    info = lexicon.lookup(text[starts[i] : starts[end - 1] + len(lowers[end - 1])])
                    if info is not None:
                        hit = (end, info)
                        break
            if hit is None and len(lower) >= lexicon.fuzzy_min_length:  # shorter: never fuzzy
                info = lexicon.fuzzy(lower)
                if info is not None:
                    hit = (i + 1, info)
            if hit is None:
                continue
            end, info = hit
            # Salt and release words belong to the mention: "Nortriptyline HCL", "Diclofenac ER".
            while end < n and lowers[end] in lexicon.salt_words:
                end += 1
            drug_class = info.drug_class
            topical = self._topical(doc, end, info.drug_class) and lexicon.topical_kind(info.generic, info.drug_class)
            if topical:
                drug_class = "topical analgesic"
            dwc, class_evidence = lexicon.dwc_with_evidence(info.generic, info.drug_class, topical)
            evidence = {"name": _NAME_EVIDENCE.get(info.source, info.source), "class": class_evidence}
            out.append((i, end, info.generic, drug_class, dwc, evidence))
            end_of_last = end
        return out

    def _candidates(self, lowers: list[str]) -> list[int]:
        """The indices of the tokens that may start a mention: a word that leads some lexicon
        name, or one a misspelt name may be. Decided once per word (bounded memo): most tokens
        of a letter are common words met in every letter."""
        memo = self._may_start
        flags = [memo.get(word) for word in lowers]
        lexicon = self.lexicon
        for i, flag in enumerate(flags):
            if flag is None:
                word = lowers[i]
                flag = word[:1].isalpha() and (
                    lexicon.lengths_from.get(word if word.isalnum() else leading_word(word)) is not None
                    or (len(word) >= lexicon.fuzzy_min_length and lexicon.fuzzy(word) is not None)
                )
                if len(memo) >= _MAX_MEMO:
                    memo.clear()
                memo[word] = flags[i] = flag
        return [i for i, flag in enumerate(flags) if flag]

    def _topical(self, doc: Doc, end: int, drug_class: str | None = None) -> bool:
        """A topical cue after the drug (or "topical", "compounded" before it); a patch of a drug
        that acts systemically through the skin (an opioid) is not a topical."""
        cues = self.lexicon.topical_cues
        before = self.lexicon.topical_before
        if drug_class in self.lexicon.systemic_patch_classes:
            cues = tuple(c for c in cues if c not in self.lexicon.patch_cues)
            before = tuple(w for w in before if w not in self.lexicon.patch_cues)
        if any(t.lower_ in before for t in doc[max(0, end - 4) : end]):
            return True
        window = doc[end : end + _TOPICAL_WINDOW]
        if any(tok.lower_ in self.lexicon.not_skin_cues for tok in window):
            return False  # eye drops, a nasal spray: a percentage there is no topical
        for tok in window:
            if tok.text in (";", ",", "and", "or", "with", "(") or "\n" in tok.text:
                break
            if tok.lower_ in cues or tok.text in cues:
                return True
        return False

    def set_annotations(self, doc: Doc, matches) -> Doc:
        spans = []
        for start, end, generic, drug_class, dwc, evidence in matches:
            span = Span(doc, start, end, label="DRUG")
            span._.generic = generic
            span._.drug_class = drug_class
            span._.dwc_class = dwc
            span._.drug_evidence = evidence
            spans.append(span)
        self.write_spans(doc, "drugs", spans)
        return doc


def _lexicon_for(rules, brands, use_package_lexicon: bool) -> DrugLexicon:
    """The shared default lexicon when the rules are the shipped ones, else one of their own."""
    if rules == resources.load("drugs.json") and brands == resources.load("brand_names.json"):
        return default_lexicon(use_package_lexicon)
    return DrugLexicon(use_package_lexicon, rules=rules, brands=brands)


@Language.factory(
    "imr_drugs",
    requires=CONTRACT.requires,
    assigns=CONTRACT.assigns,
    default_config={"use_package_lexicon": True, "span_keys": {}, "scorer": {"@scorers": "imr_nlp.scorer.v1"}},
)
def make_drugs(
    nlp: Language, name: str, use_package_lexicon: bool, span_keys: dict[str, str], scorer: Callable[..., dict]
) -> IMRDrugs:
    return IMRDrugs(nlp, name, use_package_lexicon, span_keys=span_keys, scorer=scorer)
