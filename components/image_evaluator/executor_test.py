"""ImageEvaluator's executor in this process: scores, TFMA records, the blessing rule and the blessing artifact.

Targets are blocky with fine noise and inputs are their exact 3x3 means, so nearest-neighbour upsampling is the
best model here and satisfies consistency exactly; bicubic and a biased copy are worse by known amounts. The
robustness suite is tested on real Sentinel-2 patches with an unsharp-mask model, which beats bicubic on the
reference input and amplifies sensor noise.
"""
import dataclasses
import functools
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tfx import types
from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
from tfx.types import standard_artifacts

from components.image_evaluator.component import ImageEvaluator
from components.image_evaluator.executor import Executor
from models import export
from pipeline.configs import EvaluationConfig
from pipeline.pipeline import component_beam_args
from redes import features
from redes.evaluation.metrics import psnr
from redes.evaluation.record import BlessingRule
from redes.ingest import degradation, demo_data
from redes.landsat_sensors import VARIANTS
from redes.resampling import bicubic_upsample

PATCHES, KERNEL, RGB = 10, 24, ("red", "green", "blue")


def _nearest(bias: float = 0.0):
  return lambda lr: tf.repeat(tf.repeat(lr, 3, axis=1), 3, axis=2) + bias


def _model(tmp_path, name, upsample, bands=RGB, kernel=KERNEL):
  model = standard_artifacts.Model()
  model.uri = str(tmp_path / name)
  model.id = 7
  export.export_model(upsample, os.path.join(model.uri, "Format-Serving"), bands, kernel, 3, name=name)
  return model


def _served(tmp_path, upsample, bands=RGB) -> str:
  """A serving directory as the Pusher leaves it: an older model of other bands, and the newest one."""
  serving = tmp_path / "serving"
  export.export_model(_nearest(0.3), str(serving / "1700000000"), ("red", "green", "blue", "nir"), KERNEL, 3, "old")
  export.export_model(upsample, str(serving / "1800000000"), bands, KERNEL, 3, name="served")
  return str(serving)


@pytest.fixture(scope="module")
def patches():
  rng = np.random.default_rng(3)
  blocks = rng.uniform(0.05, 0.35, (PATCHES, KERNEL // 3, KERNEL // 3, 3)).astype(np.float32)
  hr = np.repeat(np.repeat(blocks, 3, axis=1), 3, axis=2) + rng.normal(0, 0.01, (PATCHES, KERNEL, KERNEL, 3))
  hr = hr.astype(np.float32)
  lr = tf.nn.avg_pool2d(hr, 3, 3, "VALID").numpy()
  return lr, hr


def _examples(folder, lr, hr):
  artifact = standard_artifacts.Examples()
  artifact.uri = str(folder)
  artifact.split_names = '["test"]'
  os.makedirs(os.path.join(artifact.uri, "Split-test"))
  options = tf.io.TFRecordOptions(compression_type="GZIP")
  with tf.io.TFRecordWriter(os.path.join(artifact.uri, "Split-test", "data.gz"), options) as writer:
    for i, (lr_patch, hr_patch) in enumerate(zip(lr, hr)):
      writer.write(features.make_example(lr_patch, hr_patch, RGB, 1.0, 0.0, 0.0, f"test/r{i}c0")
                   .SerializeToString())
  return artifact


@pytest.fixture(scope="module")
def examples(patches, tmp_path_factory):
  return _examples(tmp_path_factory.mktemp("examples"), *patches)


CONFIG = EvaluationConfig()
DEFAULT_RULE = BlessingRule(CONFIG.bless_margin_db, CONFIG.bless_tolerance_db, CONFIG.robustness_tolerance_db,
                            CONFIG.texture_ceiling)


def _evaluate(tmp_path, examples, candidate, serving_dir="", margin=CONFIG.bless_margin_db,
              tolerance=CONFIG.bless_tolerance_db, rule=None, kernel=KERNEL):
  """rule: the whole rule; without it, margin and tolerance with robustness gates that pass any model."""
  rule = rule or BlessingRule(margin, tolerance, robustness_tolerance_db=100.0, texture_ceiling=100.0)
  component = ImageEvaluator(examples=types.Channel(type=standard_artifacts.Examples),
                             model=types.Channel(type=standard_artifacts.Model),
                             bicubic_model=types.Channel(type=standard_artifacts.Model),
                             serving_dir=serving_dir or str(tmp_path / "no_serving_yet"), rule=rule, batch_size=4)
  evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
  evaluation.uri, blessing.uri = str(tmp_path / "evaluation"), str(tmp_path / "blessing")
  os.makedirs(evaluation.uri)
  os.makedirs(blessing.uri)
  inputs = {"examples": [examples], "model": [candidate],
            "bicubic_model": [_model(tmp_path, "bicubic", functools.partial(bicubic_upsample, scale=3),
                                     kernel=kernel)]}
  context = BaseBeamExecutor.Context(beam_pipeline_args=component_beam_args(None), tmp_dir=str(tmp_path / "tmp"))
  Executor(context).Do(inputs, {"evaluation": [evaluation], "blessing": [blessing]},
                       dict(component.exec_properties))
  return evaluation.uri, blessing


def _overall_and_per_patch(uri, variant=""):
  overall, per_patch = {}, {}
  for record in tfma.load_metrics(uri):
    values = {(kv.key.model_name, kv.key.name): kv.value.double_value.value for kv in record.metric_keys_and_values
              if kv.key.output_name == variant}
    if record.slice_key.single_slice_keys:
      per_patch[record.slice_key.single_slice_keys[0].bytes_value.decode()] = values
    else:
      overall = values
  return overall, per_patch


def test_scores_every_patch_and_blesses_a_model_that_beats_bicubic(tmp_path, examples, patches):
  lr, hr = patches
  uri, blessing = _evaluate(tmp_path, examples, _model(tmp_path, "nearest", _nearest()))
  overall, per_patch = _overall_and_per_patch(uri)
  assert sorted(per_patch) == sorted(f"test/r{i}c0" for i in range(PATCHES))
  expected = psnr(hr, np.repeat(np.repeat(lr, 3, axis=1), 3, axis=2)).numpy()
  np.testing.assert_allclose([per_patch[f"test/r{i}c0"]["candidate", "psnr"] for i in range(PATCHES)], expected,
                             rtol=1e-5)
  assert overall["candidate", "psnr"] == pytest.approx(expected.mean(), rel=1e-5)
  assert 39.0 < overall["candidate", "psnr"] < 41.0                  # noise sigma 0.01 -> ~40 dB
  assert overall["candidate", "consistency"] < 1e-6 < 1e-3 < overall["bicubic", "consistency"]
  assert overall["target", "consistency"] < 1e-6             # inputs are the targets' exact 3x3 means
  assert overall["candidate", "psnr_minus_bicubic"] == pytest.approx(
      overall["candidate", "psnr"] - overall["bicubic", "psnr"])
  assert overall["candidate", "psnr_minus_bicubic"] > 3.0
  assert overall["candidate", "patches"] == overall["bicubic", "patches"] == PATCHES
  assert ("blessed", "psnr") not in overall
  assert tfma.load_validation_result(uri).validation_ok
  assert blessing.get_int_custom_property("blessed") == 1
  assert os.listdir(blessing.uri) == ["BLESSED"]
  assert blessing.get_string_custom_property("current_model") == str(tmp_path / "nearest")


def test_a_candidate_too_far_below_the_last_blessed_model_is_not_blessed(tmp_path, examples):
  serving = _served(tmp_path, _nearest())
  uri, blessing = _evaluate(tmp_path, examples, _model(tmp_path, "biased", _nearest(0.004)), serving,
                            margin=-100.0, tolerance=0.5)
  overall, _ = _overall_and_per_patch(uri)
  drop = overall["candidate", "psnr_minus_blessed"]
  assert -3.0 < drop < -0.5                                         # a 0.004 bias on top of 0.01 noise
  assert overall["candidate", "consistency"] == pytest.approx(0.004, rel=1e-3)
  result = tfma.load_validation_result(uri)
  assert not result.validation_ok
  message = result.metric_validations_per_slice[0].failures[0].message
  assert "from the last blessed model's" in message and "tolerance is -0.5 dB" in message
  assert blessing.get_int_custom_property("blessed") == 0
  assert os.listdir(blessing.uri) == ["NOT_BLESSED"]
  assert blessing.get_string_custom_property("baseline_model") == os.path.join(serving, "1800000000")

  _, blessing = _evaluate(tmp_path / "tolerant", examples, _model(tmp_path, "biased", _nearest(0.004)),
                          serving, margin=-100.0, tolerance=-drop + 0.01)
  assert blessing.get_int_custom_property("blessed") == 1


def test_the_bicubic_margin_gates_and_a_blessed_model_of_other_bands_is_not_compared(tmp_path, examples):
  serving = _served(tmp_path, _nearest(), bands=("red", "green", "blue", "nir"))
  bicubic_again = _model(tmp_path, "bicubic_again", functools.partial(bicubic_upsample, scale=3))
  uri, blessing = _evaluate(tmp_path, examples, bicubic_again, serving)
  overall, _ = _overall_and_per_patch(uri)
  assert ("blessed", "psnr") not in overall
  assert overall["candidate", "psnr_minus_bicubic"] == pytest.approx(0.0, abs=1e-6)
  assert blessing.get_int_custom_property("blessed") == 0
  assert "the margin is +0.05 dB" in blessing.get_string_custom_property("blessing_message")


def _unsharp_mask(amount: float):
  """Bicubic, sharpened: bicubic + amount x (bicubic - its Gaussian blur of 1.5 pixels)."""
  def upsample(lr):
    smooth = bicubic_upsample(lr, 3)
    return smooth + amount * (smooth - degradation.blur_and_shift(smooth, 1.5, (0.0, 0.0)))
  return upsample


@pytest.fixture(scope="module")
def scene_examples(demo_dir, tmp_path_factory):
  image, _, _ = demo_data.sentinel2_reflectance(RGB, demo_dir)
  hr = np.stack([np.nan_to_num(image[1500:1596, x:x + 96]) for x in range(0, 96 * 12, 96)])
  return _examples(tmp_path_factory.mktemp("scene"), degradation.degrade(hr, 3).numpy(), hr)


def test_a_model_that_amplifies_sensor_noise_is_refused_by_the_robustness_suite(tmp_path, scene_examples):
  sharpener = _model(tmp_path, "sharpener", _unsharp_mask(1.0), kernel=96)
  uri, blessing = _evaluate(tmp_path / "default", scene_examples, sharpener, rule=DEFAULT_RULE, kernel=96)
  overall, per_patch = _overall_and_per_patch(uri)
  noisy, noisy_patches = _overall_and_per_patch(uri, "noise_tm")
  assert overall["candidate", "cpsnr_minus_bicubic"] > 0.5 and overall["candidate", "psnr_minus_bicubic"] > 0.5
  assert noisy["candidate", "cpsnr_minus_bicubic"] < -0.4               # sharpening amplifies TM-like noise
  assert noisy["bicubic", "texture"] < noisy["candidate", "texture"] < 1.0
  assert len(noisy_patches) == len(per_patch) == 12
  for variant in VARIANTS:                                             # every variant, every model, in TFMA records
    assert ("blessed", "cpsnr") not in _overall_and_per_patch(uri, variant)[0]
    assert {"psnr", "ssim", "sam", "cpsnr", "texture"} <= {name for model, name in
                                                           _overall_and_per_patch(uri, variant)[0]
                                                           if model == "candidate"}
  assert blessing.get_int_custom_property("blessed") == 0
  message = blessing.get_string_custom_property("blessing_message")
  assert "under the noise_tm input the candidate's cPSNR is -0." in message and "tm_archive" in message
  assert "robustness tolerance is -0 dB" in message
  assert not tfma.load_validation_result(uri).validation_ok

  _, blessing = _evaluate(tmp_path / "tolerant", scene_examples, sharpener,
                          rule=dataclasses.replace(DEFAULT_RULE, robustness_tolerance_db=1.0), kernel=96)
  assert blessing.get_int_custom_property("blessed") == 1
  _, blessing = _evaluate(tmp_path / "ceiling", scene_examples, sharpener,
                          rule=dataclasses.replace(DEFAULT_RULE, robustness_tolerance_db=1.0, texture_ceiling=0.2),
                          kernel=96)
  assert "under the noise_tm input the candidate's invented texture is 0." in \
      blessing.get_string_custom_property("blessing_message")
