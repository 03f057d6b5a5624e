"""The evaluation record and the blessing rule of ImageEvaluator (after the Trainer, before the Pusher).

Scored models: `candidate` (this run's Trainer), `bicubic` (BicubicBaseline) and `blessed` (the last blessed model,
when there is one and it serves the same bands and scale). `target` holds what the 10 m target itself scores where
that is a reference: its consistency (how far real detail averages away from the 30 m input, the level a faithful
model approaches) and its high-frequency energy on its flattest pixels (the denominator of invented texture).

Every model is scored under several inputs of the same test patches: `input`, the split's own 30 m input (the
reference degradation for the demo source, the real Landsat pixels for earthengine and rasters), and the fixed,
seeded robustness variants of redes.ingest.degradation.VARIANTS, made from the 10 m targets (other point-spread widths,
misregistration, sensor noise and quantisation, gain). Metrics: PSNR, SSIM, SAM, ERGAS, consistency, cPSNR and
`texture`, the invented texture: the model's high-frequency energy on the target's flattest pixels over the
target's own, pooled over the split (redes.evaluation.metrics.texture_energy).

Results are TFMA protos in the ModelEvaluation artifact, so `tfma.load_metrics` / `tfma.load_validation_result`
read them like the output of TFX's Evaluator:
- `metrics-*.tfrecord`: MetricsForSlice records, one for the whole split (slice key empty) and one per test patch
  (slice column `patch_id`); a metric key's model_name is the model and its output_name the variant (empty for
  `input`); the overall record also holds the candidate's differences `<metric>_minus_<reference>`;
- `validations.tfrecord`: one ValidationResult with a failure per broken rule.

Blessing rule, on the split's own input: the candidate's PSNR beats bicubic's by `margin_db` or more, and is no
more than `tolerance_db` below the last blessed model's. Under every input (robustness): its cPSNR is no more than
`robustness_tolerance_db` below bicubic's, and its invented texture is at most `texture_ceiling`.
"""
import dataclasses
import math
import os

from redes.atomic import staged

CANDIDATE, BICUBIC, BLESSED, TARGET = "candidate", "bicubic", "blessed", "target"
INPUT = "input"
METRICS = ("psnr", "ssim", "sam", "ergas", "consistency", "cpsnr", "texture")
TEXTURE_ENERGY = "texture_energy"   # per patch; `texture` is its pooled ratio to the target's
PATCH_COLUMN = "patch_id"
VALIDATIONS_FILE = "validations.tfrecord"


@dataclasses.dataclass(frozen=True)
class BlessingRule:
  """The thresholds of the rule (their defaults are pipeline.configs.EvaluationConfig's)."""
  margin_db: float                      # PSNR over bicubic's, on the split's own input
  tolerance_db: float                   # PSNR below the last blessed model's, at most
  robustness_tolerance_db: float        # cPSNR below bicubic's under any input, at most
  texture_ceiling: float                # invented texture under any input, at most


def _pb():
  # pylint: disable-next=import-outside-toplevel  (seconds to load; the flag checks import this module)
  from tensorflow_model_analysis.proto import metrics_for_slice_pb2
  return metrics_for_slice_pb2


def metrics_for_slice(scores: dict, patch_id: bytes | None = None):
  """A MetricsForSlice of {variant: {model: {metric: value}}}; the whole split when patch_id is None."""
  pb = _pb()
  record = pb.MetricsForSlice()
  if patch_id is not None:
    record.slice_key.single_slice_keys.add(column=PATCH_COLUMN, bytes_value=patch_id)
  for variant, models in sorted(scores.items()):
    for model, metrics in sorted(models.items()):
      for name, value in sorted(metrics.items()):
        key = pb.MetricKey(name=name, model_name=model, output_name="" if variant == INPUT else variant)
        record.metric_keys_and_values.add(key=key, value=pb.MetricValue(double_value={"value": float(value)}))
  return record


def finish(means: dict) -> dict:
  """The overall scores from the means over patches ({variant: {model: {metric: mean}}}): the pooled invented
  texture in place of the per-patch energies, and the candidate's `<metric>_minus_<reference>`."""
  target_energy = means[INPUT][TARGET][TEXTURE_ENERGY]
  finished = {}
  for variant, models in means.items():
    finished[variant] = {}
    for model, metrics in models.items():
      metrics = {k: v for k, v in metrics.items() if k != TEXTURE_ENERGY}
      if TEXTURE_ENERGY in models[model] and model != TARGET:
        metrics["texture"] = models[model][TEXTURE_ENERGY] / max(target_energy, 1e-12)
      finished[variant][model] = metrics
    if CANDIDATE in models:
      candidate = finished[variant][CANDIDATE]
      for reference in (BICUBIC, BLESSED):
        for name in METRICS:
          if name in candidate and name in finished[variant].get(reference, {}):
            candidate[f"{name}_minus_{reference}"] = candidate[name] - finished[variant][reference][name]
  return finished


def read_scores(evaluation_uri: str) -> dict:
  """{variant: {model: {metric: value}}} of the whole split, from a ModelEvaluation directory."""
  # pylint: disable-next=import-outside-toplevel  (seconds to load; the flag checks import this module)
  import tensorflow_model_analysis as tfma
  result = {}
  for record in tfma.load_metrics(evaluation_uri):
    if record.slice_key.single_slice_keys:
      continue
    for kv in record.metric_keys_and_values:
      variant = kv.key.output_name or INPUT
      result.setdefault(variant, {}).setdefault(kv.key.model_name, {})[kv.key.name] = kv.value.double_value.value
  return result


def read_patch_scores(evaluation_uri: str, metric: str) -> dict:
  """{patch_id: {model: value}} of one metric, every test patch under the split's own input."""
  # pylint: disable-next=import-outside-toplevel  (seconds to load; the flag checks import this module)
  import tensorflow_model_analysis as tfma
  result = {}
  for record in tfma.load_metrics(evaluation_uri):
    keys = record.slice_key.single_slice_keys
    if not keys:
      continue
    values = result.setdefault(keys[0].bytes_value.decode(), {})
    for kv in record.metric_keys_and_values:
      if kv.key.name == metric and not kv.key.output_name:
        values[kv.key.model_name] = kv.value.double_value.value
  return result


def read_overall(evaluation_uri: str) -> dict:
  """{model: {metric: value}} of the whole split under its own input."""
  return read_scores(evaluation_uri).get(INPUT, {})


def robustness(scores: dict) -> dict:
  """{variant: {headline: value}}: the candidate's cPSNR and PSNR gains over bicubic, and the invented texture of
  the candidate, bicubic and the last blessed model, under every input."""
  table = {}
  for variant, models in scores.items():
    candidate = models.get(CANDIDATE, {})
    row = {k: candidate[k] for k in ("cpsnr_minus_bicubic", "psnr_minus_bicubic", "cpsnr_minus_blessed")
           if k in candidate}
    row.update({f"{model}_texture" if model != CANDIDATE else "texture": models[model]["texture"]
                for model in (CANDIDATE, BICUBIC, BLESSED) if "texture" in models.get(model, {})})
    table[variant] = row
  return table


def judge(scores: dict, rule: BlessingRule) -> list[str]:
  """The broken blessing rules, one sentence each; an empty list blesses the candidate."""
  overall = scores[INPUT]
  psnr = overall[CANDIDATE]["psnr"]
  if not math.isfinite(psnr):
    return [f"candidate PSNR is {psnr}; expected a finite value"]
  failures = []
  gain = psnr - overall[BICUBIC]["psnr"]
  if gain < rule.margin_db:
    failures.append(f"candidate PSNR {psnr:.3f} dB is {gain:+.3f} dB from bicubic's "
                    f"{overall[BICUBIC]['psnr']:.3f} dB; the margin is +{rule.margin_db:g} dB")
  if BLESSED in overall:
    change = psnr - overall[BLESSED]["psnr"]
    if change < -rule.tolerance_db:
      failures.append(f"candidate PSNR {psnr:.3f} dB is {change:+.3f} dB from the last blessed model's "
                      f"{overall[BLESSED]['psnr']:.3f} dB; the tolerance is -{rule.tolerance_db:g} dB")
  for variant, row in robustness(scores).items():
    if row.get("cpsnr_minus_bicubic", 0.0) < -rule.robustness_tolerance_db:
      failures.append(f"under the {variant} input the candidate's cPSNR is {row['cpsnr_minus_bicubic']:+.3f} dB "
                      f"from bicubic's; the robustness tolerance is -{rule.robustness_tolerance_db:g} dB")
    if row.get("texture", 0.0) > rule.texture_ceiling:
      failures.append(f"under the {variant} input the candidate's invented texture is {row['texture']:.2f} times "
                      f"the target's; the ceiling is {rule.texture_ceiling:g}")
  return failures


def write_validation(evaluation_uri: str, failures: list[str]) -> None:
  """validations.tfrecord with the outcome and one failure per broken rule (written, then renamed)."""
  # pylint: disable-next=import-outside-toplevel  (seconds to load; the flag checks import this module)
  import tensorflow as tf
  # pylint: disable-next=import-outside-toplevel  (seconds to load; the flag checks import this module)
  from tensorflow_model_analysis.proto import validation_result_pb2
  result = validation_result_pb2.ValidationResult(validation_ok=not failures)
  if failures:
    per_slice = result.metric_validations_per_slice.add()
    for message in failures:
      per_slice.failures.add(metric_key=_pb().MetricKey(name="psnr", model_name=CANDIDATE), message=message)
  path = os.path.join(evaluation_uri, VALIDATIONS_FILE)
  with staged(path) as staging, tf.io.TFRecordWriter(staging) as writer:
    writer.write(result.SerializeToString())
