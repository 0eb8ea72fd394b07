"""A new kind of engine flows through compile, run, metadata, the Delta commit and lineage without an edit to the
compiler: here a made-up ``fakedb`` engine that looks rows up by key."""

from typing import ClassVar

import dagster as dg
import polars as pl
from deltalake import DeltaTable
from pydantic import PrivateAttr

from dataflow_assets.lineage import row_lineage
from dataflow_assets.runner import materialize_pipeline
from operators import FileSource, Pipeline, register
from operators.base import OpResult, Read, Refiner, Write
from operators.engines import CounterUsage
from resources.delta_store import ENGINES_METADATA_KEY, DeltaStore


class Lookup:
    """The engine an operator sees: a dictionary 'database' that counts its queries."""

    identity = "fakedb://capitals (read-only)"

    def __init__(self) -> None:
        self.queries = 0

    def country_of(self, capitals: list[str]) -> list[str | None]:
        self.queries += len(capitals)
        return [{"Paris": "France", "Rome": "Italy"}.get(c) for c in capitals]

    def usage(self) -> CounterUsage:
        return CounterUsage({"queries": float(self.queries)})


class FakeDatabaseResource(dg.ConfigurableResource):
    """Its Dagster resource, built the way every engine resource is."""

    _engine: Lookup | None = PrivateAttr(None)

    def build_client(self) -> Lookup:
        return Lookup()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._engine = self.build_client()

    @property
    def identity(self) -> str:
        return self._engine.identity

    def usage(self) -> CounterUsage:
        return self._engine.usage()

    def country_of(self, capitals: list[str]) -> list[str | None]:
        return self._engine.country_of(capitals)


@register("country_lookup", domain="general")
class CountryLookupRefiner(Refiner):
    """Add the country of a capital city, looked up in the fakedb engine."""

    engines: ClassVar[tuple[str, ...]] = ("fakedb",)
    key_method: ClassVar[str] = "lookup"

    def lookup(self, *, input_key: Read = "city", output_key: Write = "country") -> None: ...

    def run(self, *frames: pl.DataFrame, fakedb: Lookup, **keys: str) -> OpResult:
        (df,) = frames
        bound = self.bind_keys(keys)
        countries = fakedb.country_of(df[bound["input_key"]].to_list())
        return OpResult(kept=df.with_columns(pl.Series(bound["output_key"], countries, dtype=pl.String)))


def test_an_engine_of_a_new_kind_reaches_metadata_commit_and_lineage(tmp_path, instance):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cities.jsonl").write_text('{"city": "Paris"}\n{"city": "Rome"}\n{"city": "Oslo"}\n')

    class Cities(Pipeline):
        group = "cities"

        def __init__(self):
            super().__init__()
            self.raw = FileSource(path=str(tmp_path / "in"), columns={"city": "string"})
            self.located = CountryLookupRefiner()

        def forward(self):
            return self.located(self.raw())

    root = tmp_path / "delta"
    materialize_pipeline(Cities(), root=root, instance=instance, resources={"fakedb": FakeDatabaseResource()})

    event = instance.get_latest_materialization_event(dg.AssetKey(["cities", "located"]))
    metadata = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
    assert metadata["dataflow/fakedb/identity"] == "fakedb://capitals (read-only)"
    assert metadata["dataflow/fakedb/queries"] == 3.0
    columns = {c.name: c.description for c in metadata["dagster/column_schema"].columns}
    assert columns["country"] == "written by country_lookup" and columns["_row_id"].startswith("stable row id")
    commit = DeltaTable(str(root / "cities" / "located")).history(1)[0]
    assert '"fakedb": "fakedb://capitals (read-only)"' in commit[ENGINES_METADATA_KEY]

    table = pl.read_delta(str(root / "cities" / "located"))
    assert dict(table.select("city", "country").iter_rows()) == {"Paris": "France", "Rome": "Italy", "Oslo": None}
    paris = table.filter(pl.col("city") == "Paris")["_row_id"][0]
    hop = row_lineage(Cities().trace(), DeltaStore(root), "located", paris)
    assert hop.engines == {"fakedb": "fakedb://capitals (read-only)"}
    assert hop.path()[0].source_line == 1
