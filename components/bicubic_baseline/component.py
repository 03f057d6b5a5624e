"""BicubicBaseline: exports bicubic upsampling with the same signatures as a trained generator, so that the
Evaluator measures the candidate and the bicubic reference on the same test split in one pass."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.bicubic_baseline import executor


class BicubicBaselineSpec(ComponentSpec):
  PARAMETERS = {"bands": ExecutionParameter(type=str), "patch_size": ExecutionParameter(type=int),
                "scaling_factor": ExecutionParameter(type=int)}
  INPUTS = {}
  OUTPUTS = {"model": ChannelParameter(type=standard_artifacts.Model)}


class BicubicBaseline(base_component.BaseComponent):
  SPEC_CLASS = BicubicBaselineSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, bands: str, patch_size: int, scaling_factor: int):
    super().__init__(spec=BicubicBaselineSpec(bands=bands, patch_size=patch_size, scaling_factor=scaling_factor,
                                              model=types.Channel(type=standard_artifacts.Model)))
