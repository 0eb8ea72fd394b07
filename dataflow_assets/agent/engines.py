"""The engines the agent may plan with: the ones the shipped definitions would give the pipeline, where they work.

Each engine is built exactly as the definitions build it (``resources.engines``: the engine package's
``from_env`` resource, then its client), so a generated module compiles into assets that ask for the same
resources by the same names (``llm``, ``embedder``, ``sandbox``, ``database``, ``retriever``, ``classifier``) and
``dataflow run`` gives it the same engines later. An engine that cannot be built here (no bubblewrap for the
sandbox, no ``DATAFLOW_CLASSIFIER_MODEL`` for the classifier, a missing model file) is left out with the reason,
and so is every operator that needs it: the planner is never offered an operator the dry run cannot run.

For the dry run, each usable engine also says what it reaches (:class:`EngineAccess`): the files it reads (model
files, SQLite databases), whether it talks to a server, and the settings the dry run's child process needs to
build the same engine (the database list resolved here, so the child does not write its own sample databases).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from operators.errors import DataflowError
from operators.registry import list_operators

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineAccess:
    """What an engine reaches when a dry run uses it."""

    files: tuple[str, ...] = ()
    """Files and folders it reads (bound read-only into the sandboxed dry run)."""
    network: bool = False
    """Whether it talks to a server (an API, a database server): the sandboxed dry run then keeps the network."""
    env: dict[str, str] = field(default_factory=dict)
    """Settings the dry run's child needs to build the same engine from the environment."""
    unsandboxed: str = ""
    """Why it cannot run in the sandbox at all (empty when it can)."""

    def merge(self, other: EngineAccess) -> EngineAccess:
        return EngineAccess(
            tuple(dict.fromkeys([*self.files, *other.files])),
            self.network or other.network,
            {**self.env, **other.env},
            "; ".join(r for r in (self.unsandboxed, other.unsandboxed) if r),
        )


@dataclass(frozen=True)
class AgentEngines:
    usable: dict[str, EngineAccess]
    """Engine name -> what it reaches, for every engine that was built here."""
    identities: dict[str, str] = field(default_factory=dict)
    """Engine name -> its identity (model, databases, isolation), for the report."""
    left_out: dict[str, str] = field(default_factory=dict)
    """Engine name -> why it cannot be used."""

    def excluded(self) -> list[dict[str, str]]:
        """Every registry operator left out for an engine, with the engine and why (for the report)."""
        rows = []
        for info in list_operators():
            missing = [engine for engine in info.engines if engine not in self.usable]
            if missing:
                rows.append({"operator": info.name, "engine": missing[0], "why": self.left_out.get(missing[0], "")})
        return rows

    def access(self, names: Collection[str] | None = None) -> EngineAccess:
        """What the engines ``names`` (default: every usable one) reach, together."""
        merged = EngineAccess()
        for name in self.usable if names is None else names:
            if name in self.usable:
                merged = merged.merge(self.usable[name])
        return merged

    def to_json(self) -> dict[str, Any]:
        return {"usable": self.identities, "left_out": self.left_out}


def declared_engines() -> set[str]:
    """Every engine some registered operator asks for."""
    return {engine for info in list_operators() for engine in info.engines}


def probe_engines(data_root: Path | str, names: Collection[str] | None = None) -> AgentEngines:
    """Build each engine (default: every engine an operator declares) the way the definitions do, from the
    environment, with ``data_root`` as the Delta root its caches and sample databases go beside."""
    from resources.engines import discover_engines

    specs = discover_engines().engines
    usable: dict[str, EngineAccess] = {}
    identities: dict[str, str] = {}
    left_out: dict[str, str] = {}
    for name in sorted(declared_engines() if names is None else names):
        if name not in specs:
            left_out[name] = f"no engine package provides {name!r} (install the extra that carries it)"
            continue
        try:
            resource = specs[name].default_resource(Path(data_root))
            access = ACCESS.get(name, _nothing)(resource)
            client = engine_client(resource)
            identities[name] = str(
                getattr(client, "identity", None) or getattr(client, "model_id", None) or type(client).__name__
            )
            _close(client)
        except Exception as error:  # any reason an engine cannot be built is a reason to leave it out, reported
            left_out[name] = describe_error(error)
            continue
        usable[name] = access
    for name, why in left_out.items():
        log.info("agent: engine %s left out: %s", name, why)
    return AgentEngines(usable, identities, left_out)


def describe_error(error: BaseException) -> str:
    """One line: the error's type and message, and the project's hint where it has one."""
    hint = getattr(error, "hint", None)
    message = error.args[0] if isinstance(error, DataflowError) and error.args else str(error)
    return f"{type(error).__name__}: {message}" + (f" (hint: {hint})" if hint else "")


def engine_client(resource: Any) -> Any:
    """The engine a step is given outside Dagster: the resource's client, or the resource itself when it is the
    engine (the retriever, which Dagster also hands to steps as it is)."""
    build = getattr(resource, "build_client", None)
    return build() if callable(build) else resource


def build_engines(names: Collection[str], data_root: Path | str) -> dict[str, Any]:
    """The engines ``names``, built from the environment as the definitions build them (the dry run's child)."""
    from resources.engines import engine_resources

    resources = engine_resources(data_root)
    missing = sorted(set(names) - set(resources))
    if missing:
        raise DataflowError(f"no engine named {', '.join(missing)}", hint=f"engines here: {', '.join(resources)}")
    return {name: engine_client(resources[name]) for name in names}


def close_engines(engines: dict[str, Any]) -> None:
    for engine in engines.values():
        _close(engine)


def _close(engine: Any) -> None:
    close = getattr(engine, "close", None)
    if callable(close):
        close()


def _nothing(resource: Any) -> EngineAccess:
    return EngineAccess()


def _llm(resource: Any) -> EngineAccess:
    if resource.backend == "openai":
        return EngineAccess(network=True)
    if resource.backend == "vllm":
        return EngineAccess(unsandboxed="the vllm backend needs the GPU devices, which the sandbox does not expose")
    from resources.llm.backends.llama_cpp_backend import default_model_path

    model = Path(resource.model) if resource.model else default_model_path()
    if not model.is_file():
        raise DataflowError(f"the local LLM has no GGUF file at {model}", hint="set DATAFLOW_LLM_MODEL or --model")
    return EngineAccess(files=(str(model.absolute()),))


def _embedder(resource: Any) -> EngineAccess:
    if resource.backend == "openai":
        return EngineAccess(network=True)
    return EngineAccess(files=(str(Path(resource.model).expanduser().absolute()),) if resource.model else ())


def _classifier(resource: Any) -> EngineAccess:
    return EngineAccess(files=(str(Path(resource.model_path).absolute()),) if resource.model_path else ())


def _database(resource: Any) -> EngineAccess:
    from resources.database.urls import DatabaseURL

    urls = [DatabaseURL.parse(url) for variants in resource.databases.values() for url in variants]
    files = tuple(str(Path(u.path).absolute()) for u in urls if u.dialect == "sqlite")
    databases = {db_id: [_absolute_sqlite(url) for url in variants] for db_id, variants in resource.databases.items()}
    env = {"DATAFLOW_SQL_DATABASES": json.dumps(databases), "DATAFLOW_SQL_TIMEOUT_S": str(resource.timeout_s)}
    return EngineAccess(files=files, network=any(u.dialect != "sqlite" for u in urls), env=env)


def _absolute_sqlite(url: str) -> str:
    """A SQLite URL with an absolute path: the dry run's child works in another folder."""
    from resources.database.urls import DatabaseURL

    parsed = DatabaseURL.parse(url)
    return f"sqlite:///{Path(parsed.path).absolute()}" if parsed.dialect == "sqlite" else url


ACCESS: dict[str, Callable[[Any], EngineAccess]] = {
    "llm": _llm,
    "embedder": _embedder,
    "classifier": _classifier,
    "database": _database,
}
"""What each engine reaches, from its resource's configuration (engines not named here reach nothing outside the
dry run's scratch folder: the sandbox, the retriever's indexes under the Delta root)."""
