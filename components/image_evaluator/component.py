"""ImageEvaluator: after the Trainer, scores the candidate, bicubic and the last blessed model on every patch of
the test split (PSNR, SSIM, SAM, ERGAS, consistency, cPSNR, invented texture), under the split's own input and under
fixed, seeded robustness variants (other point-spread widths, misregistration, sensor noise, gain), and blesses the
candidate by redes.evaluation.record's rule; the Pusher ships only a blessed model.

The last blessed model is the newest one the Pusher wrote to `serving_dir` when this component runs. (A Resolver
input would be re-resolved on every run, so a run whose Trainer is cached would evaluate again, push again and
tile again; a path parameter keeps a repeated run fully cached.)

TFX's Evaluator compares a candidate with a single baseline, and its metrics see only the label and the
prediction. Blessing here needs two references at once (bicubic by a margin, the last blessed model within a
tolerance), and the consistency metric needs the low-resolution input, so this component runs its own Beam pass
and writes the standard ModelEvaluation (TFMA metrics and validation records) and ModelBlessing artifacts.
"""
from tfx import types
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.image_evaluator import executor
from redes.evaluation.record import BlessingRule


class ImageEvaluatorSpec(ComponentSpec):
  PARAMETERS = {"bless_margin_db": ExecutionParameter(type=float),
                "bless_tolerance_db": ExecutionParameter(type=float),
                "robustness_tolerance_db": ExecutionParameter(type=float),
                "texture_ceiling": ExecutionParameter(type=float),
                "batch_size": ExecutionParameter(type=int),
                "split": ExecutionParameter(type=str),
                "serving_dir": ExecutionParameter(type=str)}
  INPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples),
            "model": ChannelParameter(type=standard_artifacts.Model),
            "bicubic_model": ChannelParameter(type=standard_artifacts.Model)}
  OUTPUTS = {"evaluation": ChannelParameter(type=standard_artifacts.ModelEvaluation),
             "blessing": ChannelParameter(type=standard_artifacts.ModelBlessing)}


class ImageEvaluator(base_beam_component.BaseBeamComponent):
  SPEC_CLASS = ImageEvaluatorSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, examples: types.BaseChannel, model: types.BaseChannel, bicubic_model: types.BaseChannel,
               serving_dir: str, rule: BlessingRule, batch_size: int, split: str = "test"):
    super().__init__(spec=ImageEvaluatorSpec(
        examples=examples, model=model, bicubic_model=bicubic_model, serving_dir=serving_dir,
        bless_margin_db=rule.margin_db, bless_tolerance_db=rule.tolerance_db,
        robustness_tolerance_db=rule.robustness_tolerance_db, texture_ceiling=rule.texture_ceiling,
        batch_size=batch_size,
        split=split, evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
        blessing=types.Channel(type=standard_artifacts.ModelBlessing)))
