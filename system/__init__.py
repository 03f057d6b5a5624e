"""Kubeflow Pipelines' system artifact types as TFX artifact classes, so that the KFP UI renders what RunReport
emits: `system.HTML` (a page, shown in the run's Visualizations) and `system.Metrics` (scalar metrics, taken from the
artifact's custom properties).

The KFP v2 UI chooses a view by an artifact's schema title. TFX's Kubeflow V2 compiler writes a custom artifact's
TYPE_NAME as that title, and TFX's container entrypoint imports the title as a Python class path: so these classes
live in a top-level module named `system`, installed with Redes and copied into the pipeline image.
"""
from tfx.types.value_artifact import ValueArtifact


class _Text(ValueArtifact):
  """A UTF-8 text file at the artifact's URI."""

  def encode(self, value: str) -> bytes:
    return value.encode("utf-8")

  def decode(self, serialized_value: bytes) -> str:
    return serialized_value.decode("utf-8")


class HTML(_Text):
  TYPE_NAME = "system.HTML"


class Metrics(_Text):
  """The value is the metrics as JSON; each is also a float custom property, which is what the KFP UI shows."""
  TYPE_NAME = "system.Metrics"
