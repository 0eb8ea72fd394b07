"""The classifier engine: local sequence-classification and regression models (transformers, CPU torch) with
batching and a score cache, as a Dagster resource."""

from resources.classifier.resource import ClassifierResource
from resources.engines import EngineSpec

ENGINE = EngineSpec(
    name="classifier",
    default_resource=ClassifierResource.from_env,
    description="Sequence classification / regression models from a local folder",
)
