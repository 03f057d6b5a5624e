"""RunReport: after ImageEvaluator and ComparisonFigure. Puts a run's headline metrics, its blessing and the
comparison figure where the Kubeflow UI shows them: a `system.HTML` page (metrics table and figure inline) and a
`system.Metrics` artifact (one float custom property per metric)."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec

import system
from components.artifacts import Figure
from components.run_report import executor


class RunReportSpec(ComponentSpec):
  PARAMETERS = {}
  INPUTS = {"evaluation": ChannelParameter(type=standard_artifacts.ModelEvaluation),
            "blessing": ChannelParameter(type=standard_artifacts.ModelBlessing),
            "figure": ChannelParameter(type=Figure)}
  OUTPUTS = {"report": ChannelParameter(type=system.HTML), "metrics": ChannelParameter(type=system.Metrics)}


class RunReport(base_component.BaseComponent):
  SPEC_CLASS = RunReportSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, evaluation: types.BaseChannel, blessing: types.BaseChannel, figure: types.BaseChannel):
    super().__init__(spec=RunReportSpec(evaluation=evaluation, blessing=blessing, figure=figure,
                                        report=types.Channel(type=system.HTML),
                                        metrics=types.Channel(type=system.Metrics)))
