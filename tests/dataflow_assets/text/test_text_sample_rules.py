"""The bundled pre-training sample exercises every published rule: each rule, applied alone to the refined
sample, rejects at least one document (and the rule sets together keep the clean prose)."""

import importlib
import pkgutil

import polars as pl
import pytest

import operators.text.filter.dataflow as dataflow_rules
from dataflow_assets.text.pretrain import TextPretrainPipeline
from operators import C4QualityFilter, Filter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
from operators.base import apply_rules
from operators.sources.readers import read_source


def dataflow_filters() -> list[Filter]:
    found = []
    for module in pkgutil.iter_modules(dataflow_rules.__path__):
        if not module.name.startswith("_"):
            loaded = importlib.import_module(f"{dataflow_rules.__name__}.{module.name}")
            found += [
                v()
                for v in vars(loaded).values()
                if isinstance(v, type) and issubclass(v, Filter) and v.__module__ == loaded.__name__
            ]
    return found


RULE_SETS = [
    GopherQualityFilter(),
    GopherRepetitionFilter(),
    C4QualityFilter(),
    FineWebQualityFilter(),
    *dataflow_filters(),
]


NOT_IN_SAMPLE = {
    # A document of more than 100,000 words would be most of a sample meant to stay small; unit tests cover it.
    "gopher_too_many_words",
}


@pytest.fixture(scope="module")
def refined() -> pl.DataFrame:
    traced = TextPretrainPipeline().trace()
    source = traced.nodes["raw"].step
    raw = read_source(source, source.files(), partition_key=None).rows
    return traced.nodes["refined"].step.run([raw]).kept


@pytest.mark.parametrize("op", RULE_SETS, ids=lambda op: op.name)
def test_every_rule_fires_on_the_sample(refined, op):
    prepared = op.prepare(refined, op.bind_keys({}))
    silent = [
        reason
        for reason, rule in op.rules(**op.bind_keys({})).items()
        if reason not in NOT_IN_SAMPLE and apply_rules(prepared, {reason: rule}).rejected.height == 0
    ]
    assert not silent, f"{op.name}: no sample document triggers {silent}"
