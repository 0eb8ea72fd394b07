"""The registry is complete and its docs come from what operators declare; misuse fails with the project's errors."""

import importlib
import inspect
import pkgutil

import pytest

import operators
from operators import FileSource, Pipeline
from operators.base import Operator
from operators.domains import discover
from operators.errors import DataflowError, OperatorParameterError
from operators.general.filter.word_count import WordCountFilter
from operators.registry import describe, get_operator, register, registered


def concrete_operator_classes() -> list[type[Operator]]:
    """Every operator class defined in a domain package, found by walking the packages (not by the registry)."""
    found = []
    for domain in discover().domains:
        package = importlib.import_module(f"operators.{domain}")
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, Operator) and cls.__module__ == module.__name__ and not cls.__name__.startswith("_"):
                    found.append(cls)
    return found


def test_every_concrete_operator_class_is_registered_under_its_module_name():
    classes = concrete_operator_classes()
    assert len(classes) >= 45
    operators_by_name = registered()
    missing = [f"{c.__module__}.{c.__name__}" for c in classes if operators_by_name.get(c.name) is not c]
    assert not missing, f"not registered: {missing}"
    for (
        cls
    ) in classes:  # one name everywhere; a family subpackage prefixes it (dataflow/blocklist.py: dataflow_blocklist)
        module = cls.__module__.split(".")
        assert cls.name in (module[-1], f"{module[-2]}_{module[-1]}"), f"{cls.__name__}: file and registry name differ"


def test_domains_are_the_declared_domain_packages():
    domains = discover().domains
    assert {"general", "text"} <= set(domains)
    assert {cls.domain for cls in registered().values()} <= set(domains)
    assert get_operator("word_count").domain == "general" and get_operator("gopher_quality").domain == "text"


def test_an_operator_outside_a_domain_package_must_name_a_known_domain():
    with pytest.raises(DataflowError, match="domain 'txet' is not a known domain") as error:

        @register("misplaced_operator", domain="txet")
        class Misplaced(WordCountFilter):
            """A test operator."""

    assert "did you mean 'text'" in str(error.value)


def test_docs_come_from_the_class():
    info = describe(get_operator("word_count"))
    assert info.description.startswith("Keep rows whose text has between")
    assert [(p.name, p.default) for p in info.parameters] == [("min_words", 5), ("max_words", 100_000)]
    assert [(k.name, k.role, k.default) for k in info.inputs] == [("input_key", "read", "text")]
    llm = describe(get_operator("llm_quality_score"))
    assert llm.engines == ["llm"] and {k.name for k in llm.outputs} == {"score_key", "rationale_key"}


def test_operator_classes_resolve_by_name_from_the_package():
    assert operators.WordCountFilter is WordCountFilter
    with pytest.raises(AttributeError, match="NoSuchFilter"):
        _ = operators.NoSuchFilter


def test_a_misspelt_parameter_names_the_pipeline_the_step_and_the_closest_name(tmp_path):
    class Typo(Pipeline):
        group = "typo"

        def __init__(self):
            super().__init__()
            self.raw = FileSource(path=str(tmp_path), columns={"text": "string"})
            self.length = WordCountFilter(min_wrds=3)

        def forward(self):
            return self.length(self.raw())

    with pytest.raises(OperatorParameterError) as error:
        Typo()
    assert error.value.args[0] == "pipeline 'typo', step 'length': WordCountFilter has no parameter 'min_wrds'"
    assert error.value.hint.startswith("did you mean 'min_words'?")
    assert error.value.parameter == "min_wrds"


def test_an_invalid_value_names_the_parameter_and_what_is_wrong():
    with pytest.raises(OperatorParameterError, match=r"WordCountFilter: parameter 'min_words'.*greater than or equal"):
        WordCountFilter(min_words=-1)
