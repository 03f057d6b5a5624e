"""RunParameters: before the Trainer. Turns the training settings a run may change (epochs, batch size; runtime
parameters on Kubeflow) into a HyperParameters artifact, which the Trainer hands to run_fn as fn_args.hyperparameters
(TFX takes no runtime parameter inside the Trainer's custom_config)."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.run_parameters import executor
from components.run_parameters.executor import RUN_PARAMETERS


class RunParametersSpec(ComponentSpec):
  PARAMETERS = {name: ExecutionParameter(type=int) for name in RUN_PARAMETERS}
  INPUTS = {}
  OUTPUTS = {"hyperparameters": ChannelParameter(type=standard_artifacts.HyperParameters)}


class RunParameters(base_component.BaseComponent):
  SPEC_CLASS = RunParametersSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, epochs, batch_size):
    """epochs, batch_size: ints or int RuntimeParameters."""
    super().__init__(spec=RunParametersSpec(epochs=epochs, batch_size=batch_size,
                                            hyperparameters=types.Channel(type=standard_artifacts.HyperParameters)))
