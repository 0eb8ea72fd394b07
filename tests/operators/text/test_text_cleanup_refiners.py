"""Reference, image, emoticon, number and punctuation removal, contractions, stop words, stems, dates and currency:
written-out inputs with the expected text, including what each must leave alone."""

import pytest

from operators.errors import MissingDependencyError
from operators.registry import get_operator
from operators.text.refine.collapse_punctuation import CollapsePunctuationRefiner
from operators.text.refine.correct_spelling import CorrectSpellingRefiner
from operators.text.refine.expand_contractions import ExpandContractionsRefiner
from operators.text.refine.normalize_currency import NormalizeCurrencyRefiner
from operators.text.refine.normalize_dates import NormalizeDatesRefiner
from operators.text.refine.remove_emoticons import RemoveEmoticonsRefiner
from operators.text.refine.remove_image_refs import RemoveImageRefsRefiner
from operators.text.refine.remove_numbers import RemoveNumbersRefiner
from operators.text.refine.remove_punctuation import RemovePunctuationRefiner
from operators.text.refine.remove_references import RemoveReferencesRefiner
from operators.text.refine.remove_stopwords import RemoveStopwordsRefiner
from operators.text.refine.stem_words import StemWordsRefiner
from tests.support import frame


def refined(op, texts: list[str | None]) -> list[str | None]:
    df = frame(texts)
    result = op.run(df).kept
    assert result["_row_id"].to_list() == df["_row_id"].to_list()
    return result["text"].to_list()


@pytest.mark.parametrize(
    ("op", "given", "expected"),
    [
        (
            RemoveReferencesRefiner(),
            'Paris is big.<ref name="a">{{cite web|url=x|date={{date|2020}}}}</ref> It<ref name=b/> grew[1][2, 3].',
            "Paris is big. It grew.",
        ),
        (RemoveReferencesRefiner(), "Fact.{{Citation needed|date=May}} More.<REF>cut off", "Fact. More."),
        (
            RemoveReferencesRefiner(),
            "See {{sfn|Smith|2001|p=4}} and [[link]] [a] {{cite book|title=Cut",
            "See  and [[link]] [a] ",
        ),
        (RemoveReferencesRefiner(markers=False), "Grew[1].<ref>x</ref>", "Grew[1]."),
        (
            RemoveImageRefsRefiner(),
            'A ![](images/3f2a.jpg) B ![map](http://x.org/a_(b).png "t") C <img src="x.png"/> D ![r][1] E',
            "A  B  C  D  E",
        ),
        (
            RemoveImageRefsRefiner(),
            "[[File:Map.png|thumb|A [[river]] map]] text [[Paris]] longword1234567",
            " text [[Paris]] longword1234567",
        ),
        (RemoveImageRefsRefiner(), "<figure><img src=a.png><figcaption>Cap</figcaption></figure>after", "after"),
        (
            ExpandContractionsRefiner(),
            "I don't know; it's John's. WON'T! Can\u2019t stop, they'd've",
            "I do not know; it is John's. WILL NOT! Cannot stop, they would've",
        ),
        (RemoveEmoticonsRefiner(), ":) hello :-D world <3 ^_^", " hello  world  "),
        (RemoveEmoticonsRefiner(), "C:Program (see 8) great:) XP x:y 3:2", "C:Program (see 8) great:) XP x:y 3:2"),
        (RemoveNumbersRefiner(), "mp3 costs 3.14 or 1,000,000 (-5%) in 2024", "mp3 costs  or  (-) in "),
        (RemoveNumbersRefiner(every_digit=True), "mp3 costs 3.14", "mp costs ."),
        (RemovePunctuationRefiner(), "Hello, world! “引号”。 $5 <b>", "Hello world 引号 $5 <b>"),
        (RemovePunctuationRefiner(symbols=True, replacement=" "), "a,b$c", "a b c"),
        (
            CollapsePunctuationRefiner(),
            "Really!!! why??!! a____b https://x.org ... ok",
            "Really! why?! a_b https://x.org . ok",
        ),
        (RemoveStopwordsRefiner(), "The cat sat on the mat, however it was\n cold.", "cat sat mat, cold."),
        (StemWordsRefiner(), "The runners were running 3 races, generously!", "the runner were run 3 race, generous!"),
        (StemWordsRefiner(method="porter"), "generously studies", "gener studi"),
        (
            NormalizeDatesRefiner(),
            "On 5/3/2024, 05.03.2024, March 5, 2024, Mar. 5th 2024 and 5th of march, 2024",
            "On 2024-03-05, 2024-03-05, 2024-03-05, 2024-03-05 and 2024-03-05",
        ),
        (
            NormalizeDatesRefiner(),
            "bad 30/02/2024, 5/3-2024, 1/2/99, May 2024",
            "bad 30/02/2024, 5/3-2024, 1/2/99, May 2024",
        ),
        (NormalizeDatesRefiner(day_first=False), "5/3/2024", "2024-05-03"),
        (
            NormalizeCurrencyRefiner(),
            "$12.50, US$ 5, HK$5, €5 million, 5€ or 100元; $1,000,000; $ alone; 12 USD",
            "12.50 USD, 5 USD, 5 HKD, 5 million EUR, 5 EUR or 100 CNY; 1,000,000 USD; $ alone; 12 USD",
        ),
        (NormalizeCurrencyRefiner(symbols={"$": "CAD", "¥": "CNY"}), "$3 and ¥4", "3 CAD and 4 CNY"),
    ],
)
def test_refiner_rewrites_text(op, given: str, expected: str):
    assert refined(op, [given, None, ""]) == [expected, None, ""]


def test_every_refiner_is_registered_under_its_file_name():
    for name, cls in [
        ("remove_references", RemoveReferencesRefiner),
        ("remove_image_refs", RemoveImageRefsRefiner),
        ("expand_contractions", ExpandContractionsRefiner),
        ("remove_emoticons", RemoveEmoticonsRefiner),
        ("remove_numbers", RemoveNumbersRefiner),
        ("remove_punctuation", RemovePunctuationRefiner),
        ("collapse_punctuation", CollapsePunctuationRefiner),
        ("remove_stopwords", RemoveStopwordsRefiner),
        ("stem_words", StemWordsRefiner),
        ("correct_spelling", CorrectSpellingRefiner),
        ("normalize_dates", NormalizeDatesRefiner),
        ("normalize_currency", NormalizeCurrencyRefiner),
    ]:
        assert get_operator(name) is cls


def test_stemming_maps_each_distinct_word_once_over_many_rows():
    texts = [f"running {i} cats were running" for i in range(2000)]
    assert set(refined(StemWordsRefiner(), texts)) == {f"run {i} cat were run" for i in range(2000)}


def test_lemmas_need_the_wordnet_corpus_and_refuse_without_it(monkeypatch, tmp_path):
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    with pytest.raises(MissingDependencyError, match="WordNet") as refused:
        StemWordsRefiner(method="lemma")
    assert "nltk.downloader" in refused.value.hint


def test_spelling_correction_with_pyspellchecker_fixes_misspelt_words():
    pytest.importorskip("spellchecker", reason="pyspellchecker (its dictionaries) is not installed")
    assert refined(CorrectSpellingRefiner(), ["Teh speling is WRONG", "Ok"]) == ["The spelling is WRONG", "Ok"]


def test_spelling_correction_without_pyspellchecker_says_how_to_install_it():
    import importlib.util

    if importlib.util.find_spec("spellchecker") is not None:
        pytest.skip("pyspellchecker is installed")
    with pytest.raises(MissingDependencyError, match="spellchecker") as refused:
        CorrectSpellingRefiner()
    assert "pip install" in refused.value.hint
