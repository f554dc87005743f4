import pytest

from imr_nlp.normalize.text import OffsetMap, clean_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("treated with anti-\n\ndepressants daily.", "treated with anti-depressants daily."),
        ("pain for 20 minutes without.Diagnosis was made.", "pain for 20 minutes without. Diagnosis was made."),
        ("a wrapped \n\nline of text.\n\nNext sentence.", "a wrapped line of text.\nNext sentence."),
        ("claim from 10/14/\n2016 on", "claim from 10/14/2016 on"),
        ("Dr.   Smith\u00a0saw\tthe worker.", "Dr. Smith saw the worker."),
        ("first page.\fSecond page.", "first page.\nSecond page."),
        ("CRLF line\r\nends here.", "CRLF line ends here."),
        ("", ""),
    ],
)
def test_clean_text(raw, expected):
    clean, _ = clean_text(raw)
    assert clean == expected


@pytest.mark.parametrize(
    "raw",
    [
        "Klonopin 2mg\n\n#30: Upheld \n \nClaims Administrator guideline: x",
        "  leading spaces and   runs   of spaces.\n\nthen text.Another one",
        "anti-\ndepressants and 10/14/\n2016\r\nend",
    ],
)
def test_offsets_point_back_to_source(raw):
    clean, omap = clean_text(raw)
    for word in clean.replace("\n", " ").split(" "):
        if not word:
            continue
        start = clean.index(word)
        s, e = omap.span(start, start + len(word))
        # every cleaned word maps to a source span holding the same characters, line breaks aside
        assert raw[s:e].replace("\n", "").replace("\r", "").replace(" ", "") == word.replace(" ", "")


def test_offset_map_round_trips_as_plain_data():
    _, omap = clean_text("a\n\nb  c")
    assert OffsetMap.from_dict(omap.to_dict()) == omap


class _Lexicon:
    """A Hyphenation over a fixed word list: joins a word it knows, else keeps the hyphen."""

    def __init__(self, *words: str) -> None:
        self.words = set(words)

    def joins(self, left: str, right: str, letter: str) -> bool:
        return (left + right).lower() in self.words


@pytest.mark.parametrize(
    "raw, expected",
    [
        # pdfium's U+FFFE (the line already joined): as the hyphenation decides
        ("The guide\ufffelines say so.", "The guidelines say so."),
        ("a follow\ufffeup visit", "a follow-up visit"),
        # U+00AD before a line break and a lower-case word: the same decision, the lines joined
        ("The guide\u00ad\n\nlines say so.", "The guidelines say so."),
        ("a follow\u00ad  \nup visit", "a follow-up visit"),
        ("a pdfium cut before a capital: Non\ufffe\nMTUS", "a pdfium cut before a capital: Non-MTUS"),
        # elsewhere a soft hyphen shows nothing
        ("Hydro\u00adcodone", "Hydrocodone"),
        ("the end\u00ad\n\nNext sentence.", "the end Next sentence."),
    ],
)
def test_soft_hyphens_never_reach_the_clean_text_and_keep_the_offsets(raw, expected):
    clean, omap = clean_text(raw, hyphenation=_Lexicon("guidelines"))
    assert clean == expected
    for i, char in enumerate(clean):
        if char.isalnum():  # every letter maps back to itself in the source
            assert raw[omap.to_original(i)] == char, (i, char)


@pytest.mark.parametrize(
    "left, right, letter, joins",
    [
        ("Electro", "diagnostic", "", True),  # a combining form closed up before a consonant
        ("guide", "lines", "", True),  # the joined word is a word
        ("Post", "surgical", "", True),  # a word of the ICD-10-CM code set
        ("follow", "up", "", False),  # "followup" is among the list's rarest: no word
        ("sprain", "strain", "", False),
        ("x", "ray", "", False),
        ("two", "week", "", False),  # "two" is no combining form
        ("electro", "oculography", "", False),  # a vowel after the combining form: hyphenated
        ("non", "certified", "UR noncertified it twice, noncertified.", True),  # the letter's own spelling
        ("anti", "depressants", "She takes anti-depressants.", False),
        ("10", "2016", "", False),  # digits: no word
    ],
)
def test_hyphenation_joins_a_word_and_keeps_a_compound(left, right, letter, joins):
    from imr_nlp import resources
    from imr_nlp.normalize.hyphens import Hyphenation

    assert Hyphenation(resources.load("layout.json").soft_hyphens).joins(left, right, letter) is joins
