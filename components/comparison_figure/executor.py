"""Executor of ComparisonFigure: reads the test split, runs both served models, writes the PNG with each patch's
PSNR as ImageEvaluator computes it (redes.evaluation.metrics.psnr, the same border)."""
import os

import numpy as np
import tensorflow as tf
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from redes import features
from redes.evaluation.comparison import most_textured, write_figure
from redes.evaluation.metrics import psnr
from redes.model_info import OUTPUT_KEY, read_model_info

FIGURE_FILE = "comparison.png"


def _test_pairs(examples_uri: str, info: dict):
  spec = features.image_feature_spec(info.kernel_size, info.scaling_factor, len(info.bands))
  files = tf.io.gfile.glob(os.path.join(examples_uri, "Split-test", "*"))
  lr, hr = [], []
  for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
    parsed = tf.io.parse_single_example(record, spec)
    lr.append(parsed[features.LR_KEY].numpy())
    hr.append(parsed[features.HR_KEY].numpy())
  return np.stack(lr), np.stack(hr)


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    examples = artifact_utils.get_single_instance(input_dict["examples"])
    model_dir = path_utils.serving_model_path(artifact_utils.get_single_instance(input_dict["model"]).uri)
    baseline_dir = path_utils.serving_model_path(
        artifact_utils.get_single_instance(input_dict["baseline_model"]).uri)
    info = read_model_info(model_dir)
    lr, hr = _test_pairs(examples.uri, info)
    chosen = most_textured(hr, exec_properties["patches"])
    lr, hr = lr[chosen], hr[chosen]
    enhanced = [tf.saved_model.load(d).signatures["enhance"](lr=tf.constant(lr))[OUTPUT_KEY].numpy()
                for d in (baseline_dir, model_dir)]
    figure = artifact_utils.get_single_instance(output_dict["figure"])
    path = write_figure(os.path.join(figure.uri, FIGURE_FILE), lr, enhanced[0], enhanced[1], hr,
                        *(psnr(hr, output).numpy() for output in enhanced))
    figure.set_string_custom_property("path", path)
