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
