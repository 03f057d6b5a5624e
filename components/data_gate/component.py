"""DataGate: sits between ExampleValidator and the Trainer. Reports the anomalies found per split and, when
asked, stops the run before training if there are any."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.data_gate import executor


class DataGateSpec(ComponentSpec):
  PARAMETERS = {"stop_on_anomalies": ExecutionParameter(type=int)}
  INPUTS = {"anomalies": ChannelParameter(type=standard_artifacts.ExampleAnomalies)}
  OUTPUTS = {}


class DataGate(base_component.BaseComponent):
  SPEC_CLASS = DataGateSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, anomalies: types.BaseChannel, stop_on_anomalies: bool):
    super().__init__(spec=DataGateSpec(anomalies=anomalies, stop_on_anomalies=int(stop_on_anomalies)))
