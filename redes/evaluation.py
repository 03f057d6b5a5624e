"""The evaluation record and the blessing rule of ImageEvaluator (after the Trainer, before the Pusher).

Scored models: `candidate` (this run's Trainer), `bicubic` (BicubicBaseline) and `blessed` (the last blessed model,
when there is one and it serves the same bands and scale). `target` holds the consistency of the 10 m target itself:
how far real detail averages away from the 30 m input, the level a faithful model approaches. Results are TFMA
protos in the ModelEvaluation artifact, so `tfma.load_metrics` / `tfma.load_validation_result` read them like the
output of TFX's Evaluator:
- `metrics-*.tfrecord`: MetricsForSlice records, one for the whole split (slice key empty) and one per test patch
  (slice column `patch_id`); each holds every metric of every model, and the overall record also holds the
  candidate's differences `<metric>_minus_<reference>`;
- `validations.tfrecord`: one ValidationResult with a failure per broken rule.
Blessing rule: the candidate's PSNR beats bicubic's by `margin_db` or more, and is no more than `tolerance_db` below
the last blessed model's.
"""
import math
import os

CANDIDATE, BICUBIC, BLESSED, TARGET = "candidate", "bicubic", "blessed", "target"
METRICS = ("psnr", "ssim", "sam", "ergas", "consistency")
PATCH_COLUMN = "patch_id"
VALIDATIONS_FILE = "validations.tfrecord"


def _pb():
  from tensorflow_model_analysis.proto import metrics_for_slice_pb2  # pylint: disable=import-outside-toplevel
  return metrics_for_slice_pb2


def metrics_for_slice(values: dict, patch_id: bytes | None = None):
  """A MetricsForSlice of {model: {metric: value}}; the whole split when patch_id is None."""
  pb = _pb()
  record = pb.MetricsForSlice()
  if patch_id is not None:
    record.slice_key.single_slice_keys.add(column=PATCH_COLUMN, bytes_value=patch_id)
  for model, metrics in sorted(values.items()):
    for name, value in sorted(metrics.items()):
      record.metric_keys_and_values.add(key=pb.MetricKey(name=name, model_name=model),
                                        value=pb.MetricValue(double_value={"value": float(value)}))
  return record


def with_differences(overall: dict) -> dict:
  """Adds the candidate's `<metric>_minus_<reference>` for each other model to {model: {metric: mean}}."""
  candidate = dict(overall[CANDIDATE])
  for reference in (BICUBIC, BLESSED):
    for name in METRICS:
      if reference in overall and name in overall[reference]:
        candidate[f"{name}_minus_{reference}"] = overall[CANDIDATE][name] - overall[reference][name]
  return {**overall, CANDIDATE: candidate}


def read_overall(evaluation_uri: str) -> dict:
  """{model: {metric: value}} of the whole split, from a ModelEvaluation directory."""
  import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel
  result = {}
  for record in tfma.load_metrics(evaluation_uri):
    if record.slice_key.single_slice_keys:
      continue
    for kv in record.metric_keys_and_values:
      result.setdefault(kv.key.model_name, {})[kv.key.name] = kv.value.double_value.value
  return result


def judge(overall: dict, margin_db: float, tolerance_db: float) -> list[str]:
  """The broken blessing rules, one sentence each; an empty list blesses the candidate."""
  psnr = overall[CANDIDATE]["psnr"]
  if not math.isfinite(psnr):
    return [f"candidate PSNR is {psnr}; expected a finite value"]
  failures = []
  gain = psnr - overall[BICUBIC]["psnr"]
  if gain < margin_db:
    failures.append(f"candidate PSNR {psnr:.3f} dB is {gain:+.3f} dB from bicubic's "
                    f"{overall[BICUBIC]['psnr']:.3f} dB; the margin is +{margin_db:g} dB")
  if BLESSED in overall:
    change = psnr - overall[BLESSED]["psnr"]
    if change < -tolerance_db:
      failures.append(f"candidate PSNR {psnr:.3f} dB is {change:+.3f} dB from the last blessed model's "
                      f"{overall[BLESSED]['psnr']:.3f} dB; the tolerance is -{tolerance_db:g} dB")
  return failures


def write_validation(evaluation_uri: str, failures: list[str]) -> None:
  """validations.tfrecord with the outcome and one failure per broken rule (written, then renamed)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_model_analysis.proto import validation_result_pb2  # pylint: disable=import-outside-toplevel
  result = validation_result_pb2.ValidationResult(validation_ok=not failures)
  if failures:
    per_slice = result.metric_validations_per_slice.add()
    for message in failures:
      per_slice.failures.add(metric_key=_pb().MetricKey(name="psnr", model_name=CANDIDATE), message=message)
  path = os.path.join(evaluation_uri, VALIDATIONS_FILE)
  with tf.io.TFRecordWriter(f"{path}.part") as writer:
    writer.write(result.SerializeToString())
  tf.io.gfile.rename(f"{path}.part", path, overwrite=True)
