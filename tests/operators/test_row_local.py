"""Which steps may run on batches of their input (``Pipeline.ray_steps``): row-local ones only, refused with the
reason otherwise, when the pipeline is traced."""

import pytest

from dataflow_assets.general.demo import DemoPipeline
from operators import (
    ColumnDistributionEvaluator,
    ConcatRowsRefiner,
    EmbeddingEvaluator,
    ExactDedupFilter,
    MinHashDedupFilter,
    NormalizeTextRefiner,
    PromptedEvaluator,
    PromptTemplate,
    Sequential,
    SplitParagraphsGenerator,
    WordCountFilter,
)
from operators.errors import PipelineDefinitionError


def problem(op, **keys):
    return op.bind(keys).not_row_local()


def test_refiners_filters_row_wise_llm_steps_and_one_to_many_generators_are_row_local():
    prompt = PromptTemplate(name="rate", version="1", template="Rate {{ text }}")
    row_wise = (NormalizeTextRefiner(), WordCountFilter(), PromptedEvaluator(prompt=prompt), EmbeddingEvaluator())
    for op in (*row_wise, SplitParagraphsGenerator()):
        assert problem(op) is None, type(op).__name__
    assert Sequential(NormalizeTextRefiner(), WordCountFilter()).not_row_local() is None


def test_dedup_joins_history_and_dataset_level_steps_are_not():
    assert "not row-local" in problem(ExactDedupFilter())
    assert "history" in problem(MinHashDedupFilter(keep_band_table=True))
    assert "inputs, not one" in problem(ConcatRowsRefiner())
    assert "not row-local" in problem(ColumnDistributionEvaluator(), input_key="text")
    stage = Sequential(NormalizeTextRefiner(), ExactDedupFilter())
    assert stage.not_row_local().startswith("item 1: ExactDedupFilter")


def test_a_pipeline_refuses_a_ray_step_that_is_not_row_local_or_not_a_step():
    class DedupOnRay(DemoPipeline):
        ray_steps = ("quality", "dedup")

    with pytest.raises(PipelineDefinitionError, match="'dedup' cannot run on Ray: ExactDedupFilter is not row-local"):
        DedupOnRay().trace()

    class Misspelt(DemoPipeline):
        ray_steps = ("qualty",)

    with pytest.raises(PipelineDefinitionError, match="'qualty' is not a step") as error:
        Misspelt().trace()
    assert "quality" in error.value.hint

    class Marked(DemoPipeline):
        ray_steps = ("normalize", "quality")

    assert Marked().trace().ray_steps == ("normalize", "quality")
