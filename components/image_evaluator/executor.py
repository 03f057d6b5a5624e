"""Executor of ImageEvaluator: one Beam pass scores every model on every test patch, under the split's own input and
every robustness variant, then the blessing is judged (redes.evaluation.record)."""
import logging
import os

import apache_beam as beam
import tensorflow as tf
from tensorflow_model_analysis.proto import metrics_for_slice_pb2
from tfx.components.evaluator import constants
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils

from redes import example_files, features
from redes.evaluation import record
from redes.evaluation.metrics import consistency_l1, image_metrics, texture_energy
from redes.ingest import degradation
from redes.model_info import OUTPUT_KEY, latest_served_model, read_model_info


class _Score(beam.DoFn):
  """Serialized tf.Examples (a batch) -> (patch_id, {variant: {model: {metric: value}}}) per patch; `target`
  holds the consistency of the 10 m target itself and its high-frequency energy on its flattest pixels."""

  def __init__(self, model_dirs: dict, info: dict):
    super().__init__()
    self._model_dirs, self._info = model_dirs, info
    self._enhance = None

  def setup(self):
    self._enhance = {name: tf.saved_model.load(path).signatures["enhance"]
                     for name, path in self._model_dirs.items()}

  def process(self, batch):
    info = self._info
    spec = {**features.image_feature_spec(info.patch_size, info.scaling_factor, len(info.bands)),
            features.PATCH_ID_KEY: tf.io.FixedLenFeature([], tf.string)}
    parsed = tf.io.parse_example(tf.constant(batch), spec)
    lr, hr, patch_ids = parsed[features.LR_KEY], parsed[features.HR_KEY], parsed[features.PATCH_ID_KEY].numpy()
    scale = info.scaling_factor
    inputs = {record.INPUT: lr, **{variant: degradation.variant_inputs(hr, scale, variant, patch_ids)
                                       for variant in degradation.VARIANTS}}
    scores = {variant: {name: {metric: values.numpy() for metric, values in image_metrics(
        variant_lr, hr, enhance(lr=variant_lr)[OUTPUT_KEY], scale).items()}
                        for name, enhance in self._enhance.items()}
              for variant, variant_lr in inputs.items()}
    scores[record.INPUT][record.TARGET] = {
        "consistency": consistency_l1(lr, hr, scale).numpy(),
        record.TEXTURE_ENERGY: texture_energy(hr, hr, scale=scale).numpy()}
    for i, patch_id in enumerate(patch_ids):
      yield patch_id, {variant: {name: {metric: float(v[i]) for metric, v in metrics.items()}
                                 for name, metrics in models.items()} for variant, models in scores.items()}


class _Mean(beam.CombineFn):
  """{variant: {model: {metric: value}}} per patch -> the mean over patches, with `patches` (the count) per model;
  accumulators are {(variant, model, metric): sum}."""

  def create_accumulator(self):
    return {}

  def add_input(self, accumulator, scores):
    for variant, models in scores.items():
      for model, metrics in models.items():
        for name, value in {**metrics, "patches": 1.0}.items():
          key = (variant, model, name)
          accumulator[key] = accumulator.get(key, 0.0) + value
    return accumulator

  def merge_accumulators(self, accumulators):
    merged = {}
    for accumulator in accumulators:
      for key, value in accumulator.items():
        merged[key] = merged.get(key, 0.0) + value
    return merged

  def extract_output(self, accumulator):
    means = {}
    for (variant, model, name), value in accumulator.items():
      count = accumulator[(variant, model, "patches")]
      means.setdefault(variant, {}).setdefault(model, {})[name] = value if name == "patches" else value / count
    return means


def _serving_dir(channel) -> str:
  return path_utils.serving_model_path(artifact_utils.get_single_instance(channel).uri)


class Executor(base_beam_executor.BaseBeamExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    model_dirs = {record.CANDIDATE: _serving_dir(input_dict["model"]),
                  record.BICUBIC: _serving_dir(input_dict["bicubic_model"])}
    info = read_model_info(model_dirs[record.CANDIDATE])
    blessed_dir = latest_served_model(exec_properties["serving_dir"])
    if blessed_dir:
      blessed_info = read_model_info(blessed_dir)
      if (blessed_info.bands, blessed_info.scaling_factor) == (info.bands, info.scaling_factor):
        model_dirs[record.BLESSED] = blessed_dir
      else:
        logging.warning("ImageEvaluator: the last blessed model %s serves bands %s at scale %s, the candidate %s "
                        "at scale %s; not compared", blessed_dir, blessed_info.bands,
                        blessed_info.scaling_factor, info.bands, info.scaling_factor)

    examples = artifact_utils.get_single_instance(input_dict["examples"])
    split = exec_properties["split"]
    pattern = os.path.join(artifact_utils.get_split_uri([examples], split), "*")
    if not tf.io.gfile.glob(pattern):
      raise ValueError(f"split {split!r} of {examples.uri} holds no files; expected the examples to score")
    example_files.verify(examples.uri, [split], "ImageEvaluator")
    output = artifact_utils.get_single_instance(output_dict["evaluation"])
    batch_size = exec_properties["batch_size"]
    logging.info("ImageEvaluator: scoring the %s split with %s", split, ", ".join(model_dirs))
    with self._make_beam_pipeline() as pipeline:
      scores = (pipeline
                | "Read" >> beam.io.ReadFromTFRecord(pattern, coder=beam.coders.BytesCoder())
                | "Batch" >> beam.BatchElements(min_batch_size=batch_size, max_batch_size=batch_size)
                | "Score" >> beam.ParDo(_Score(model_dirs, info)))
      per_patch = scores | "PerPatch" >> beam.MapTuple(
          lambda patch_id, values: record.metrics_for_slice(values, patch_id))
      overall = (scores
                 | "Scores" >> beam.Values()
                 | "Mean" >> beam.CombineGlobally(_Mean())
                 | "Overall" >> beam.Map(
                     lambda means: record.metrics_for_slice(record.finish(means))))
      _ = ((overall, per_patch)
           | "Flatten" >> beam.Flatten()
           | "Write" >> beam.io.WriteToTFRecord(
               os.path.join(output.uri, "metrics"), file_name_suffix=".tfrecord",
               coder=beam.coders.ProtoCoder(metrics_for_slice_pb2.MetricsForSlice)))

    scores = record.read_scores(output.uri)
    failures = record.judge(scores, record.BlessingRule(
        exec_properties["bless_margin_db"], exec_properties["bless_tolerance_db"],
        exec_properties["robustness_tolerance_db"], exec_properties["texture_ceiling"]))
    record.write_validation(output.uri, failures)
    self._write_blessing(artifact_utils.get_single_instance(output_dict["blessing"]), input_dict["model"][0],
                         model_dirs.get(record.BLESSED), failures)
    for model, metrics in scores[record.INPUT].items():
      logging.info("ImageEvaluator: %s on %d %s patches: %s", model, metrics.get("patches", 0), split,
                   ", ".join(f"{k} {v:.4f}" for k, v in sorted(metrics.items()) if k != "patches"))
    for variant, row in record.robustness(scores).items():
      logging.info("ImageEvaluator: under %s: %s", variant, ", ".join(f"{k} {v:+.3f}" for k, v in row.items()))
    logging.info("ImageEvaluator: %s", "; ".join(failures) or "blessed")

  @staticmethod
  def _write_blessing(blessing, model, blessed_dir: str | None, failures: list[str]) -> None:
    """The ModelBlessing as TFX's Evaluator writes it, so that the Pusher and LatestBlessedModelStrategy read it."""
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    if blessed_dir:
      blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, blessed_dir)
    blessing.set_string_custom_property(constants.ARTIFACT_PROPERTY_BLESSING_MESSAGE_KEY,
                                        "; ".join(failures) or "blessed")
    name = constants.NOT_BLESSED_FILE_NAME if failures else constants.BLESSED_FILE_NAME
    io_utils.write_string_file(os.path.join(blessing.uri, name), "")
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                     constants.NOT_BLESSED_VALUE if failures else constants.BLESSED_VALUE)
