"""The Dagster layer: pipelines compiled into asset graphs, the CLI, and the domain packages of pipelines."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)  # domain packages may live in other folders on the import path
