"""Dagster resources around real engines (LLM serving, ...) and the Delta IO manager. Engines are discovered from
the subpackages that declare ``ENGINE`` (see ``resources.engines``)."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)  # engines may live in other folders on the import path
