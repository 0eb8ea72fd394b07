"""Tracing forward() into a graph: key validation before anything runs, branches, joins, fan-in, eager runs."""

import polars as pl
import pytest

from operators import (
    ConcatRowsRefiner,
    ExactDedupFilter,
    FileSource,
    NormalizeTextRefiner,
    Pipeline,
    SplitParagraphsGenerator,
    TextStatsEvaluator,
    WordCountFilter,
)
from operators.errors import KeyValidationError, PipelineDefinitionError


def source(tmp_path, partitioned=False) -> FileSource:
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    return FileSource(path=str(tmp_path), columns={"text": "string", "lang": "string?"}, partitioned=partitioned)


class Branching(Pipeline):
    group = "branching"

    def __init__(self, src: FileSource, count_key: str = "text") -> None:
        super().__init__()
        self.raw = src
        self.normalize = NormalizeTextRefiner()
        self.stats = TextStatsEvaluator()
        self.short = WordCountFilter(min_words=0, max_words=3)
        self.long = WordCountFilter(min_words=4)
        self.join = ConcatRowsRefiner()
        self.dedup = ExactDedupFilter()
        self.count_key = count_key

    def forward(self):
        docs = self.normalize(self.raw(), input_key="text", output_key="clean")
        scored = self.stats(docs, input_key="clean")
        short = self.short(scored, input_key=self.count_key)
        long = self.long(scored, input_key="clean")
        return self.dedup(self.join(short, long).all_partitions(), input_key="clean")


def test_trace_records_branches_and_joins_in_execution_order(tmp_path):
    traced = Branching(source(tmp_path, partitioned=True)).trace()
    assert list(traced.nodes) == ["raw", "normalize", "stats", "short", "long", "join", "dedup"]
    assert traced.nodes["join"].inputs == ("short", "long")
    assert [n.name for n in traced.children("stats")] == ["short", "long"]
    assert traced.nodes["join"].partitioned and not traced.nodes["dedup"].partitioned
    assert "word_count" in traced.nodes["stats"].columns and "clean" in traced.nodes["normalize"].columns


def test_wrong_input_key_names_pipeline_step_parameter_and_available_columns(tmp_path):
    with pytest.raises(KeyValidationError) as error:
        Branching(source(tmp_path), count_key="txt").trace()
    message = str(error.value)
    assert "pipeline 'branching', step 'short'" in message
    assert "input_key='txt'" in message
    assert "columns available here: _row_id, _partition, _source_file, _source_line, text, lang, clean" in message


def test_unknown_key_parameter_is_caught_at_trace_time(tmp_path):
    class Typo(Pipeline):
        def __init__(self):
            super().__init__()
            self.raw = source(tmp_path)
            self.length = WordCountFilter()

        def forward(self):
            return self.length(self.raw(), input_col="text")

    with pytest.raises(KeyValidationError, match=r"pipeline 'typo', step 'length'.*no key parameter 'input_col'"):
        Typo().trace()


def test_operators_must_be_attributes_and_steps_get_unique_names(tmp_path):
    class Inline(Pipeline):
        def __init__(self):
            super().__init__()
            self.raw = source(tmp_path)
            self.normalize = NormalizeTextRefiner()

        def forward(self):
            docs = self.normalize(self.normalize(self.raw()))
            return WordCountFilter()(docs)

    with pytest.raises(PipelineDefinitionError, match="not an attribute"):
        Inline().trace()


def test_reusing_an_operator_gives_numbered_step_names(tmp_path):
    class Twice(Pipeline):
        def __init__(self):
            super().__init__()
            self.raw = source(tmp_path)
            self.normalize = NormalizeTextRefiner()

        def forward(self):
            return self.normalize(self.normalize(self.raw()))

    assert list(Twice().trace().nodes) == ["raw", "normalize", "normalize_2"]


def test_traced_pipeline_runs_eagerly_on_frames(tmp_path):
    class Small(Pipeline):
        def __init__(self):
            super().__init__()
            self.raw = source(tmp_path)
            self.length = WordCountFilter(min_words=2)
            self.split = SplitParagraphsGenerator()

        def forward(self):
            return self.split(self.length(self.raw()), output_key="para")

    raw = pl.DataFrame({"_row_id": ["1", "2"], "text": ["one", "two words\n\nand more"]})
    results = Small().trace().run({"raw": raw})
    assert results["length"].rejected["_row_id"].to_list() == ["1"]
    assert results["split"].kept["para"].to_list() == ["two words", "and more"]
