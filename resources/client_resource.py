"""What the engines' Dagster resources share: the engine's client, built by ``build_client()``.

A resource is configuration; its client does the work. Inside a Dagster run the client is built once when the
resource is set up for the run (so a missing model or an unreachable server fails the step before any row is
read); outside Dagster it is built on first use. Mixed in ahead of ``dg.ConfigurableResource``:
``class XResource(ClientResource[XClient], dg.ConfigurableResource)``, with ``_client`` declared as a
``PrivateAttr(default=None)``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import dagster as dg

ClientT = TypeVar("ClientT")


class ClientResource(Generic[ClientT]):
    _client: ClientT | None

    def build_client(self) -> ClientT:
        """A new client from the resource's configuration; also how code outside Dagster gets the engine."""
        raise NotImplementedError

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = self.build_client()

    @property
    def client(self) -> ClientT:
        if self._client is None:
            self._client = self.build_client()
        return self._client

    @property
    def identity(self) -> str:
        """The engine as lineage names it (model id, database URLs without credentials, sandbox limits)."""
        return self.client.identity  # type: ignore[attr-defined]

    def usage(self) -> Any:
        """What the engine spent so far (calls, tokens, seconds): the compiler records the difference per step."""
        return self.client.usage()  # type: ignore[attr-defined]
