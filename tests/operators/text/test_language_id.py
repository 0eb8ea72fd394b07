"""Offline language identification and the language filter, on written-out texts in five languages."""

import polars as pl
import pytest

from operators.errors import OperatorParameterError
from operators.sequential import Sequential
from operators.text.evaluate.language_id import LanguageIdEvaluator
from operators.text.filter.language import LanguageFilter

SHORT = {
    "en": "The weather is nice today.",
    "fr": "Il fait beau aujourd'hui.",
    "de": "Das Wetter ist heute schön.",
    "es": "Hoy hace buen tiempo.",
    "zh": "今天天气很好。",
}
LONG = {
    "en": "Rivers shape the land they cross. Over thousands of years a river cuts its valley, carries silt to the sea "
    "and builds deltas where it slows down. Floodplains are among the most fertile soils on earth, which is why so "
    "many early cities grew beside rivers.",
    "fr": "Les fleuves façonnent les terres qu'ils traversent. Au fil des millénaires, un fleuve creuse sa vallée, "
    "transporte le limon jusqu'à la mer et construit des deltas là où il ralentit. Les plaines inondables comptent "
    "parmi les sols les plus fertiles de la planète.",
    "de": "Flüsse formen das Land, das sie durchqueren. Im Laufe von Jahrtausenden gräbt sich ein Fluss sein Tal, "
    "trägt Schlamm bis ins Meer und baut Deltas, wo er langsamer wird. Überschwemmungsgebiete gehören zu den "
    "fruchtbarsten Böden der Erde.",
    "es": "Los ríos dan forma a las tierras que atraviesan. A lo largo de miles de años, un río excava su valle, "
    "lleva el limo hasta el mar y construye deltas donde se vuelve más lento. Las llanuras aluviales se encuentran "
    "entre los suelos más fértiles del planeta.",
    "zh": "河流塑造了它们流经的土地。在数千年的时间里，一条河流切割出自己的河谷，把泥沙带到大海，并在水流变缓的地方"  # noqa: RUF001
    "形成三角洲。冲积平原是地球上最肥沃的土壤之一，这就是为什么许多早期城市都建在河边。",  # noqa: RUF001
}


def identified(texts: list[str | None]) -> pl.DataFrame:
    df = pl.DataFrame(
        {"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts}, schema_overrides={"text": pl.String}
    )
    return LanguageIdEvaluator().run(df).kept


@pytest.mark.parametrize(("texts", "min_score"), [(LONG, 0.98), (SHORT, 0.75)])
def test_identifies_five_languages_short_and_long(texts: dict[str, str], min_score: float):
    out = identified(list(texts.values()))
    assert out["language"].to_list() == list(texts)
    assert out["language_score"].dtype == pl.Float64
    assert all(min_score <= score <= 1 for score in out["language_score"])


def test_scores_what_the_model_is_unsure_of_low_and_what_it_cannot_judge_null():
    mixed = LONG["en"] + " " + LONG["fr"]
    out = identified(["Bonjour", mixed, "12345 678", "", "   ", "!!!", "ok", None])
    rows = [
        (language, None if score is None else round(score, 2))
        for language, score in out.select(pl.exclude("_row_id", "text")).rows()
    ]
    assert rows == [
        ("fr", 0.15),  # one word: right language, little confidence
        ("en", 0.5),  # half English, half French
        ("zxx", 0.13),  # no linguistic content
        (None, None),  # none of the model's byte n-grams: it could only return its prior
        (None, None),
        (None, None),
        (None, None),
        (None, None),
    ]


def test_text_mostly_in_capitals_is_identified_lower_cased():
    shouted = "IMPORTANT NOTICE TO ALL CUSTOMERS. OUR STORE WILL BE CLOSED FOR RENOVATION UNTIL FURTHER NOTICE.\n"
    out = identified([shouted + "Copyright 2024 Example Stores Ltd. All rights reserved."])
    language, score = out.row(0)[2:]
    assert language == "en"
    assert score > 0.99  # 0.11 when the capitals are given to the model as they are


def test_output_columns_follow_the_keys_and_both_come_from_one_model_pass(monkeypatch: pytest.MonkeyPatch):
    import operators.text.evaluate.language_id as language_id

    batches: list[int] = []
    identify = language_id._identify
    monkeypatch.setattr(language_id, "_identify", lambda texts: batches.append(len(texts)) or identify(texts))
    df = pl.DataFrame({"body": [SHORT["de"], SHORT["es"], LONG["zh"]]})
    out = LanguageIdEvaluator()(df, input_key="body", language_key="lang", score_key="lang_p")
    assert out.columns == ["body", "lang", "lang_p"]
    assert out["lang"].to_list() == ["de", "es", "zh"]
    assert batches == [3]


def scored(rows: list[tuple[str | None, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_row_id": [f"r{i}" for i in range(len(rows))],
            "language": [r[0] for r in rows],
            "language_score": [r[1] for r in rows],
        },
        schema_overrides={"language": pl.String, "language_score": pl.Float64},
    )


def test_filter_keeps_allowed_languages_at_or_above_the_threshold():
    df = scored([("en", 0.99), ("en", 0.65), ("en", 0.6499), ("fr", 0.99), (None, None), ("en", None)])
    result = LanguageFilter().run(df)
    assert result.kept["_row_id"].to_list() == ["r0", "r1"]
    rejected = result.rejected.select("_row_id", "_reject_rule", "_reject_score", "_reject_detail").rows()
    assert rejected == [
        ("r2", "language_low_confidence", 0.6499, "en"),
        ("r3", "language_not_allowed", 0.99, "fr"),
        ("r4", "language_not_allowed", None, None),  # no language: not waved through
        ("r5", "language_low_confidence", None, "en"),
    ]
    assert result.scores.columns == ["_row_id", "language_score"]


def test_filter_languages_and_threshold_are_configurable():
    df = scored([("en", 0.5), ("fr", 0.5), ("de", 0.95)])
    result = LanguageFilter(languages=["en", "fr"], min_score=0.5).run(df)
    assert result.kept["_row_id"].to_list() == ["r0", "r1"]
    assert result.rejected["_reject_rule"].to_list() == ["language_not_allowed"]
    with pytest.raises(OperatorParameterError):
        LanguageFilter(min_score=1.5)
    with pytest.raises(OperatorParameterError):
        LanguageFilter(languages=[])


def test_identify_then_filter_in_one_stage():
    texts = [LONG["en"], SHORT["en"], LONG["fr"], "Bonjour", LONG["en"] + " " + LONG["fr"], ""]
    df = pl.DataFrame({"_row_id": [f"r{i}" for i in range(len(texts))], "text": texts})
    result = Sequential(LanguageIdEvaluator(), LanguageFilter(languages=["en", "fr"])).run([df])
    assert result.kept["_row_id"].to_list() == ["r0", "r1", "r2"]
    assert result.rejected.select("_row_id", "_reject_rule", "_reject_detail").rows() == [
        ("r3", "language_low_confidence", "fr"),
        ("r4", "language_low_confidence", "en"),
        ("r5", "language_not_allowed", None),
    ]
