"""ComparisonFigure: after ImageEvaluator, draws the candidate and bicubic on the most textured test patches next
to the input and the target (redes.evaluation.comparison), labelled with the evaluator's PSNR of each patch, as
`comparison.png` in its artifact."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.artifacts import Figure
from components.comparison_figure import executor


class ComparisonFigureSpec(ComponentSpec):
  PARAMETERS = {"patches": ExecutionParameter(type=int)}
  INPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples),
            "model": ChannelParameter(type=standard_artifacts.Model),
            "baseline_model": ChannelParameter(type=standard_artifacts.Model),
            "evaluation": ChannelParameter(type=standard_artifacts.ModelEvaluation)}
  OUTPUTS = {"figure": ChannelParameter(type=Figure)}


class ComparisonFigure(base_component.BaseComponent):
  SPEC_CLASS = ComparisonFigureSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, examples: types.BaseChannel, model: types.BaseChannel, baseline_model: types.BaseChannel,
               evaluation: types.BaseChannel, patches: int = 4):
    super().__init__(spec=ComparisonFigureSpec(examples=examples, model=model, baseline_model=baseline_model,
                                               evaluation=evaluation, patches=patches,
                                               figure=types.Channel(type=Figure)))
