"""Docs that travel without their user data: the extension values ride with the span groups.

spaCy stores custom extension values in ``doc.user_data``, which ``Doc.to_bytes`` and a
``DocBin(store_user_data=True)`` keep and a plain ``DocBin`` drops; span groups and their
attributes are kept by all three. This last component copies the values into the attributes of
an empty span group, ``doc.spans["imr_values"]``, and the extensions' getters
(:mod:`imr_nlp.extensions`) put them back the first time a doc read without them is asked for
one: ConText flags, sections, dates, decisions and the Determination come back from a plain
DocBin as they were. A value set after the pipeline ran is not carried.
"""

from spacy.language import Language
from spacy.tokens import Doc

from imr_nlp.components.base import Component
from imr_nlp.components.contract import Contract, declare
from imr_nlp.extensions import SPAN_GROUPS, carry_values

CONTRACT = declare(
    Contract(
        factory="imr_portable",
        # every group's writer, and the entities' (with their first tokens' sections), runs first
        reads_if_present=(
            *(f"spans:{group}" for group in SPAN_GROUPS if group != "values"),
            "doc.ents",
            "token._.section",
        ),
        writes=("spans:values",),
    )
)


class IMRPortable(Component):
    contract = CONTRACT

    def match(self, doc: Doc) -> None:
        """Nothing to find: the values are the other components'."""
        return None

    def set_annotations(self, doc: Doc, matches: None) -> Doc:
        self.write_spans(doc, "values", [])
        carry_values(doc)
        return doc


@Language.factory(
    "imr_portable", requires=CONTRACT.requires, assigns=CONTRACT.assigns, default_config={"span_keys": {}}
)
def make_portable(nlp: Language, name: str, span_keys: dict[str, str]) -> IMRPortable:
    return IMRPortable(nlp, name, span_keys=span_keys)
