"""Operator base classes: the four categories of the DataFlow paper.

An operator is a frozen, typed configuration (a pydantic model with ``extra="forbid"``, so a misspelt parameter
fails at construction) plus one method that describes its work on a polars frame. Column names are not
parameters: they are *key bindings* given when the operator is applied (``op(df, input_key="text")``), as in
DataFlow. The keys an operator accepts are the keyword-only parameters of its key method, annotated ``Read`` or
``Write``; from them the framework knows which columns a step reads and writes before anything runs.

=========  ==============================================  =========================================
category   the subclass writes                              the base does
=========  ==============================================  =========================================
refine     ``expressions(**keys) -> {column: expr}``        ``with_columns``; row ids kept
evaluate   ``expressions(**keys) -> {column: expr}``        ``with_columns`` of score columns
filter     ``rules(**keys) -> {reason: Rule}``              kept rows, rejected rows with reason and
                                                            score, a score table for every row
generate   ``generate(df, **keys) -> frame of new rows``    new ``_row_id`` values, ``_parent_ids``
=========  ==============================================  =========================================
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from functools import cache
from typing import Annotated, Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from operators.columns import PARENT_IDS, PARTITION, REJECT_DETAIL, REJECT_RULE, REJECT_SCORE, ROW_ID
from operators.errors import (
    DataflowError,
    KeyValidationError,
    MissingDependencyError,
    OperatorDefinitionError,
    OperatorParameterError,
)
from operators.tracing import active_tracer


class Category(StrEnum):
    GENERATE = "generate"
    EVALUATE = "evaluate"
    FILTER = "filter"
    REFINE = "refine"


class KeyRole(Enum):
    READ = "read"
    WRITE = "write"


Read = Annotated[str, KeyRole.READ]
"""A key binding naming a column the operator reads."""

Write = Annotated[str, KeyRole.WRITE]
"""A key binding naming a column the operator writes."""

# Annotations are compared by their text so that modules using ``from __future__ import annotations`` work too.
_KEY_ANNOTATIONS = {
    "Read": KeyRole.READ,
    str(Read): KeyRole.READ,
    "Write": KeyRole.WRITE,
    str(Write): KeyRole.WRITE,
}


@dataclass(frozen=True)
class KeyParameter:
    name: str
    role: KeyRole
    default: str


@dataclass(frozen=True)
class Rule:
    """One filter rule: a named score and the condition on it under which a row is kept.

    ``score`` should carry an alias (``.alias("word_count")``): that name is the row's column in the step's
    score table, shared by the rules that test the same score. ``detail`` is optional text kept on rejected rows.
    """

    score: pl.Expr
    keep: pl.Expr
    detail: pl.Expr | None = None


@dataclass(frozen=True)
class OpResult:
    """What one step produces.

    ``kept`` continues down the pipeline. ``rejected`` holds every row a filter removed, with all its columns plus
    ``_reject_rule``, ``_reject_score`` and ``_reject_detail``. ``scores`` has one row per *input* row of a filter
    (``_row_id``, ``_partition`` and one column per score), so the decision on a kept row can be traced too.
    """

    kept: pl.DataFrame
    rejected: pl.DataFrame | None = None
    scores: pl.DataFrame | None = None
    side_tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    metrics: Metrics | None = None
    """Dataset-level results (a :class:`DatasetEvaluator`'s): also shown as the materialization's metadata."""

    def tables(self) -> dict[str, pl.DataFrame]:
        """Side tables to store next to the step's table, by suffix."""
        tables = dict(self.side_tables)
        if self.rejected is not None:
            tables["rejected"] = self.rejected
        if self.scores is not None:
            tables["scores"] = self.scores
        return tables


@dataclass(frozen=True)
class Metrics:
    """What a dataset-level evaluator found: scalar values and histograms (bucket -> count, in bucket order)."""

    values: dict[str, float] = field(default_factory=dict)
    histograms: dict[str, dict[str, int]] = field(default_factory=dict)

    def frame(self) -> pl.DataFrame:
        """The metrics as a small long table: ``metric``, ``bucket`` (null for a scalar) and ``value``."""
        rows = [(name, None, float(value)) for name, value in self.values.items()]
        rows += [
            (name, bucket, float(count))
            for name, buckets in self.histograms.items()
            for bucket, count in buckets.items()
        ]
        return pl.DataFrame(rows, schema={"metric": pl.String, "bucket": pl.String, "value": pl.Float64}, orient="row")


class Operator(BaseModel):
    """Base of every operator. Subclass one of :class:`Refiner`, :class:`Evaluator`, :class:`Filter`,
    :class:`Generator`, register it with :func:`operators.registry.register`, and give each field a
    ``Field(description=...)``: the registry, the CLI and the agent read them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: ClassVar[Category]
    name: ClassVar[str] = ""
    """Registry key; set by ``@register``. File, class and key share one name (``word_count`` ...)."""
    domain: ClassVar[str] = "general"
    """Set by ``@register`` from the domain package the operator lives in (``operators/<domain>/``)."""
    key_docs: ClassVar[dict[str, str]] = {}
    """What each key binding's column holds, by key parameter name: the docs and the UI's column descriptions."""
    references: ClassVar[tuple[str, ...]] = ()
    """Papers or sources the operator follows, e.g. ``("Rae et al. 2021, arXiv:2112.11446",)``."""
    example: ClassVar[str] = ""
    """A short usage example (Python), shown by ``dataflow ops NAME``."""
    requires: ClassVar[tuple[str, ...]] = ()
    """Modules beyond the core install that the operator needs; checked when it is constructed."""
    extra: ClassVar[str | None] = None
    """The ``pyproject.toml`` extra that installs ``requires``."""
    version: ClassVar[int] = 1
    """Bump when the operator's behaviour changes: it is part of every asset's ``code_version``."""
    key_method: ClassVar[str] = "run"
    """The method whose keyword-only parameters are the operator's key bindings."""
    inputs: ClassVar[int | None] = 1
    """How many datasets the operator takes: 1 usually, 0 for a generator of rows from nothing, None for any
    number from one up (a join)."""
    new_rows: ClassVar[bool] = False
    """True when the output rows are new rows with new ids (a generator of rows), not the input rows."""
    engines: ClassVar[tuple[str, ...]] = ()
    """Engines ``run`` may take as keyword arguments, e.g. ``("llm",)``; a pipeline step gets them from resources
    (those of :meth:`needed_engines`)."""
    history: ClassVar[str | None] = None
    """A side table of the step's own earlier output that ``run`` takes as ``history=`` (a LazyFrame over the
    partitions not being written), so that a new partition is judged against the ones already done without
    recomputing them (incremental dedup). None: the operator needs no history."""
    row_local: ClassVar[bool] = False
    """True when each output row depends on one input row alone, so that the input may be cut into batches run
    anywhere (a Ray worker) and the outputs concatenated, with the same result as one run over everything. Refiners,
    evaluators, rule filters and row-wise LLM operators are; dedup, joins and dataset-level steps are not."""

    def __init__(self, **parameters: Any) -> None:
        missing = missing_modules(type(self).requires)
        if missing:
            hint = f"pip install -e '.[{type(self).extra}]'" if type(self).extra else f"pip install {' '.join(missing)}"
            raise MissingDependencyError(f"{type(self).__name__} needs {', '.join(missing)}", hint=hint)
        try:
            super().__init__(**parameters)
        except ValidationError as error:
            raise OperatorParameterError.from_validation(type(self), error) from None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.key_method != "run":
            cls.key_parameters()  # reject a wrongly annotated key method when the class is defined

    @classmethod
    @cache
    def key_parameters(cls) -> dict[str, KeyParameter]:
        """The key bindings this operator accepts, read from its key method's signature."""
        keys: dict[str, KeyParameter] = {}
        for parameter in inspect.signature(getattr(cls, cls.key_method)).parameters.values():
            if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                continue
            role = _KEY_ANNOTATIONS.get(str(parameter.annotation))
            if role is None or not isinstance(parameter.default, str):
                raise OperatorDefinitionError(
                    f"{cls.__name__}.{cls.key_method}: keyword-only parameter {parameter.name!r} must be annotated "
                    "Read or Write and default to a column name",
                    hint="key bindings are column names; put other settings in pydantic fields",
                )
            keys[parameter.name] = KeyParameter(parameter.name, role, parameter.default)
        return keys

    def bind_keys(self, keys: dict[str, str], *, where: str = "") -> dict[str, str]:
        """Check the given key bindings and fill in the defaults."""
        accepted = self.key_parameters()
        for name, value in keys.items():
            if name not in accepted:
                raise KeyValidationError(
                    f"{where or type(self).__name__}: {type(self).__name__} has no key parameter {name!r}",
                    hint=f"its key parameters are {sorted(accepted) or 'none'}",
                )
            if not isinstance(value, str) or not value:
                raise KeyValidationError(
                    f"{where or type(self).__name__}: key {name}={value!r} must be a non-empty column name"
                )
        return {name: keys.get(name, parameter.default) for name, parameter in accepted.items()}

    def bind(self, keys: dict[str, str], *, where: str = "") -> BoundOperator:
        """Validate ``keys`` against the key parameters and fix them: the unit a pipeline step runs."""
        return BoundOperator(self, self.bind_keys(keys, where=where))

    def reads(self, keys: dict[str, str]) -> list[str]:
        """Columns this operator reads under the given (bound) keys."""
        return [keys[k.name] for k in self.key_parameters().values() if k.role is KeyRole.READ]

    def writes(self, keys: dict[str, str]) -> list[str]:
        """Columns this operator adds or replaces under the given (bound) keys."""
        return [keys[k.name] for k in self.key_parameters().values() if k.role is KeyRole.WRITE]

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        """Columns of the output; by default the input's plus what the operator writes."""
        return available + [c for c in self.writes(keys) if c not in available]

    def needed_engines(self) -> tuple[str, ...]:
        """The engines this instance's step asks for: ``engines``, less any its parameters make unnecessary (an
        operator whose engine is optional overrides this, so that a step without it compiles without the
        resource)."""
        return self.engines

    def fingerprint(self, keys: dict[str, str]) -> str:
        """Hash of everything that decides the output: class, class version, parameters and keys.

        It becomes the asset's Dagster ``code_version``, so a changed parameter makes exactly this step and its
        descendants stale.
        """
        payload = json.dumps(
            {
                # The registry name, not the module path: moving a file must not make every asset stale.
                "class": self.name or f"{type(self).__module__}.{type(self).__qualname__}",
                "version": self.version,
                "params": self.model_dump(mode="json"),
                "keys": keys,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        raise NotImplementedError

    def __call__(self, *data: Any, **keys: str) -> Any:
        """Apply eagerly to polars frames (returns the kept rows), or record a step while a pipeline is traced."""
        tracer = next((d.tracer for d in data if hasattr(d, "tracer")), None) or (None if data else active_tracer())
        if tracer is not None:
            return tracer.record(self, data, keys)
        return self.run(*data, **keys).kept


def doc_summary(cls: type) -> str:
    """The first line of a class's docstring."""
    return inspect.cleandoc(cls.__doc__ or "").partition("\n")[0].strip() or cls.__name__


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


class Refiner(Operator):
    """Rewrites or adds columns, one output row per input row (``_row_id`` kept)."""

    category: ClassVar[Category] = Category.REFINE
    key_method: ClassVar[str] = "expressions"
    row_local: ClassVar[bool] = True

    def expressions(self) -> dict[str, pl.Expr]:
        """``{output column: polars expression}``; keyword-only ``Read``/``Write`` keys as parameters."""
        raise NotImplementedError

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        # Lazily, so that outputs built from the same sub-expression (a word list) compute it once.
        return OpResult(kept=df.lazy().with_columns(**self.expressions(**self.bind_keys(keys))).collect())


class Evaluator(Refiner):
    """Adds score columns, one output row per input row. Deciding on the scores is a :class:`Filter`'s job."""

    category: ClassVar[Category] = Category.EVALUATE


class Filter(Operator):
    """Keeps or rejects rows by named rules; never drops a row without saying which rule and what score."""

    category: ClassVar[Category] = Category.FILTER
    key_method: ClassVar[str] = "rules"
    row_local: ClassVar[bool] = True
    """True when each row's decision depends on that row alone. Set False for rules over groups of rows (dedup):
    a ``Sequential`` then runs them after the earlier filters instead of fused with them, so that rows rejected
    earlier cannot take part in (and win) a group, and the step cannot run on batches (Ray)."""

    def rules(self) -> dict[str, Rule]:
        """``{reason: Rule}``, reasons in snake_case; keyword-only ``Read`` keys as parameters."""
        raise NotImplementedError

    def prepare(self, df: pl.DataFrame, keys: dict[str, str]) -> pl.DataFrame:
        """Frame-level work the rules read, as added helper columns (removed from every output): for statistics
        polars expressions cannot share between rules, such as n-gram tables. None by default."""
        return df

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        return apply_prepared_rules(df, self.prepare(df, bound), self.rules(**bound))


def apply_rules(df: pl.DataFrame, rules: dict[str, Rule]) -> OpResult:
    """Evaluate all rules in one pass; a row is rejected by the first rule (in order) that does not keep it, and
    carries that rule's name, score and detail.

    Scores and keep flags are computed once, as columns of one ``with_columns`` (so polars evaluates them in
    parallel and shares common sub-expressions); the choice of the first failing rule then only reads them. A rule
    whose condition is null for a row (e.g. the text is null) rejects it: a row that cannot be judged is not waved
    through.
    """
    scores: dict[str, pl.Expr] = {}
    for rule in rules.values():
        scores.setdefault(rule.score.meta.output_name(), rule.score.cast(pl.Float64))
    keeps = {f"__keep_{i}": rule.keep.fill_null(False) for i, rule in enumerate(rules.values())}
    details = {
        f"__detail_{i}": rule.detail.cast(pl.String) for i, rule in enumerate(rules.values()) if rule.detail is not None
    }
    reject_rule = reject_score = reject_detail = None
    for i, (reason, rule) in enumerate(rules.items()):
        failed = ~pl.col(f"__keep_{i}")
        score = pl.col(f"__score_{rule.score.meta.output_name()}")
        detail = pl.col(f"__detail_{i}") if f"__detail_{i}" in details else pl.lit(None, pl.String)
        reject_rule = (reject_rule.when(failed) if reject_rule is not None else pl.when(failed)).then(pl.lit(reason))
        reject_score = (reject_score.when(failed) if reject_score is not None else pl.when(failed)).then(score)
        reject_detail = (reject_detail.when(failed) if reject_detail is not None else pl.when(failed)).then(detail)
    helper_columns = [*(f"__score_{name}" for name in scores), *keeps, *details]
    judged = (
        df.lazy()
        .with_columns(**{f"__score_{name}": expr for name, expr in scores.items()}, **keeps, **details)
        .with_columns(
            reject_rule.otherwise(None).cast(pl.String).alias(REJECT_RULE),
            reject_score.otherwise(None).alias(REJECT_SCORE),
            reject_detail.otherwise(None).cast(pl.String).alias(REJECT_DETAIL),
        )
        .collect()
    )
    score_columns = [pl.col(f"__score_{name}").alias(name) for name in scores]
    rejected_mask = pl.col(REJECT_RULE).is_not_null()
    return OpResult(
        kept=judged.filter(~rejected_mask).drop(*helper_columns, REJECT_RULE, REJECT_SCORE, REJECT_DETAIL),
        rejected=judged.filter(rejected_mask).drop(*helper_columns),
        scores=judged.select(*[c for c in (ROW_ID, PARTITION) if c in df.columns], *score_columns),
    )


def apply_prepared_rules(original: pl.DataFrame, prepared: pl.DataFrame, rules: dict[str, Rule]) -> OpResult:
    """``apply_rules`` on a frame with helper columns, which are dropped from the kept and rejected rows."""
    helpers = [c for c in prepared.columns if c not in original.columns]
    judged = apply_rules(prepared, rules)
    if not helpers:
        return judged
    return replace(judged, kept=judged.kept.drop(helpers), rejected=judged.rejected.drop(helpers))


class Generator(Operator):
    """Produces new rows from existing ones (1:N or N:1). New rows get fresh ids and remember their parents."""

    category: ClassVar[Category] = Category.GENERATE
    key_method: ClassVar[str] = "generate"
    new_rows: ClassVar[bool] = True

    def generate(self, *frames: pl.DataFrame) -> pl.DataFrame:
        """Return the new rows. Each must carry its parent's ``_row_id`` in ``_row_id``, or a list of parent ids
        in ``_parent_ids`` (several for a row made from many, none for a row made from nothing); the base replaces
        them with new ids. Keyword-only ``Read``/``Write`` keys follow the frames (none when ``inputs = 0``).
        """
        raise NotImplementedError

    def run(self, *frames: pl.DataFrame, **keys: str) -> OpResult:
        bound = self.bind_keys(keys)
        generated = self.generate(*frames, **bound)
        return OpResult(kept=assign_generated_ids(generated, salt=self.fingerprint(bound)))


class DatasetEvaluator(Operator):
    """Judges a whole dataset at once: the result is a small metrics table (scalars and histograms) shown as the
    step's Dagster metadata, not one value per row. The step's table is the metrics table; put the step after an
    ``all_partitions()`` input to judge every partition together, or leave it partitioned to judge each shard."""

    category: ClassVar[Category] = Category.EVALUATE
    key_method: ClassVar[str] = "evaluate"
    new_rows: ClassVar[bool] = True
    row_local: ClassVar[bool] = False

    def evaluate(self, df: pl.DataFrame) -> Metrics:
        """The dataset's metrics; keyword-only ``Read`` keys follow ``df`` (and the other datasets of an evaluator
        with ``inputs = 2``, which compares ``df`` with them), engines as keyword arguments named like them."""
        raise NotImplementedError

    def output_columns(self, available: list[str], keys: dict[str, str]) -> list[str]:
        return [ROW_ID, PARENT_IDS, *([PARTITION] if PARTITION in available else []), "metric", "bucket", "value"]

    def run(self, *frames: pl.DataFrame, **keys: Any) -> OpResult:
        df, *others = frames  # partitions of the first dataset are judged one by one, each against all others
        engines = {name: keys.pop(name) for name in self.engines if name in keys}
        bound = self.bind_keys(keys)
        partitions = (df[PARTITION].unique().sort().to_list() if PARTITION in df.columns else []) or [None]
        tables, merged = [], Metrics()
        for partition in partitions:
            part = df if partition is None else df.filter(pl.col(PARTITION) == partition)
            metrics = self.evaluate(part, *others, **engines, **bound)
            table = metrics.frame().with_columns(pl.lit([], pl.List(pl.String)).alias(PARENT_IDS))
            # The partition column is kept whenever the input has one (null in an unpartitioned pipeline), as the
            # step's declared columns say.
            partitioned = PARTITION in df.columns
            tables.append(table.with_columns(pl.lit(partition, pl.String).alias(PARTITION)) if partitioned else table)
            if partition is None or len(partitions) == 1:
                merged = metrics
        table = pl.concat(tables, how="diagonal_relaxed")
        keyed = table.with_columns(
            pl.concat_str(
                pl.lit(self.fingerprint(bound)),
                pl.col("metric"),
                pl.col("bucket").fill_null(""),
                *([pl.col(PARTITION)] if PARTITION in table.columns else []),
                separator="|",
                ignore_nulls=True,  # a null partition leaves the id as in an input without the column
            ).alias(ROW_ID)
        )
        ids = [hashlib.blake2b(key.encode(), digest_size=8).hexdigest() for key in keyed[ROW_ID]]
        return OpResult(kept=keyed.with_columns(pl.Series(ROW_ID, ids, dtype=pl.String)), metrics=merged)


def assign_generated_ids(generated: pl.DataFrame, *, salt: str) -> pl.DataFrame:
    """Give generated rows deterministic ids: a hash of the generating step, the parent ids and the row's ordinal
    among its siblings. Re-running the same step on the same parents yields the same ids."""
    if PARENT_IDS not in generated.columns:
        generated = generated.with_columns(pl.concat_list(pl.col(ROW_ID)).alias(PARENT_IDS))
    keyed = generated.with_columns(
        pl.concat_str(
            pl.lit(salt),
            pl.col(PARENT_IDS).list.join(","),
            pl.int_range(pl.len()).over(pl.col(PARENT_IDS).list.join(",")).cast(pl.String),
            separator="|",
        ).alias("__id_key")
    )
    ids = [hashlib.blake2b(key.encode(), digest_size=8).hexdigest() for key in keyed["__id_key"]]
    return keyed.drop("__id_key").with_columns(pl.Series(ROW_ID, ids, dtype=pl.String))


@dataclass(frozen=True)
class BoundOperator:
    """An operator with its key bindings fixed: the unit a pipeline step runs."""

    op: Operator
    keys: dict[str, str]

    @property
    def generates_rows(self) -> bool:
        """True when the output rows are new rows (new ids) rather than the input rows."""
        return self.op.new_rows

    @property
    def engines(self) -> tuple[str, ...]:
        return self.op.needed_engines()

    @property
    def filters_rows(self) -> bool:
        return self.op.category is Category.FILTER

    def columns_after(self, inputs: list[list[str]], *, where: str) -> list[str]:
        """Check that every column read is available and return the output's columns."""
        expected = self.op.inputs
        if (expected is not None and len(inputs) != expected) or (expected is None and not inputs):
            raise KeyValidationError(
                f"{where}: {type(self.op).__name__} takes {'one or more' if expected is None else expected} "
                f"dataset(s), got {len(inputs)}"
            )
        available = list(dict.fromkeys(column for columns in inputs for column in columns))
        key_names = {value: name for name, value in self.keys.items()}
        for column in self.op.reads(self.keys):
            if column not in available:
                raise KeyValidationError(
                    f"{where}: {key_names.get(column, 'a parameter')}={column!r} names a column that does not exist "
                    f"at this step",
                    hint=f"columns available here: {', '.join(available)}",
                )
        return self.op.output_columns(available, self.keys)

    @property
    def history(self) -> str | None:
        return self.op.history

    def not_row_local(self) -> str | None:
        """Why this step cannot run on batches of its input (on Ray), or None when it can."""
        name = type(self.op).__name__
        if self.op.inputs != 1:
            return f"{name} takes {'any number of' if self.op.inputs is None else self.op.inputs} inputs, not one"
        if self.op.history is not None:
            return f"{name} reads its own earlier partitions (history {self.op.history!r})"
        if not self.op.row_local:
            return f"{name} is not row-local: its output for a row depends on other rows"
        return None

    def run(
        self,
        frames: list[pl.DataFrame],
        engines: Mapping[str, Any] | None = None,
        history: pl.LazyFrame | None = None,
    ) -> OpResult:
        given = engines or {}
        missing = [name for name in self.engines if name not in given]
        if missing:
            raise DataflowError(
                f"{type(self.op).__name__} needs the engine(s) {missing}",
                hint="pass them to run(), or declare the resource in the Dagster definitions",
            )
        extra: dict[str, Any] = {name: given[name] for name in self.engines}
        if self.op.history is not None:
            extra["history"] = history
        return self.op.run(*frames, **extra, **self.keys)

    def code_version(self) -> str:
        return self.op.fingerprint(self.keys)

    def summary(self) -> str:
        """One line for the UI: category, operator and the first line of its docstring."""
        return f"{self.op.category} · {self.op.name or type(self.op).__name__}: {doc_summary(type(self.op))}"

    def column_docs(self) -> dict[str, str]:
        """Column -> what it holds, for every column this step writes (from the operator's ``key_docs``)."""
        name = self.op.name or type(self.op).__name__
        return {
            self.keys[k.name]: type(self.op).key_docs.get(k.name) or f"written by {name}"
            for k in self.op.key_parameters().values()
            if k.role is KeyRole.WRITE
        }

    def describe(self) -> dict[str, Any]:
        """What lineage reports about this step: operator, category, parameters and keys."""
        return {
            "operator": self.op.name or type(self.op).__name__,
            "category": str(self.op.category),
            "params": self.op.model_dump(mode="json"),
            "keys": self.keys,
        }
