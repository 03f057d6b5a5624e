"""Executor of ComparisonFigure: reads the test split, runs both served models on the most textured patches and
writes the PNG, each patch labelled with the PSNR ImageEvaluator recorded for it (redes.evaluation.record)."""
import os

import numpy as np
import tensorflow as tf
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from redes import example_files, features
from redes.evaluation.comparison import most_textured, write_figure
from redes.evaluation.record import BICUBIC, CANDIDATE, read_patch_scores
from redes.model_info import OUTPUT_KEY, ModelInfo, read_model_info

FIGURE_FILE = "comparison.png"


def _test_pairs(examples_uri: str, info: ModelInfo):
  """(lr, hr, patch ids) of the test split."""
  spec = features.image_feature_spec(info.patch_size, info.scaling_factor, len(info.bands))
  spec[features.PATCH_ID_KEY] = tf.io.FixedLenFeature([], tf.string)
  files = tf.io.gfile.glob(os.path.join(examples_uri, "Split-test", "*"))
  lr, hr, ids = [], [], []
  for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
    parsed = tf.io.parse_single_example(record, spec)
    lr.append(parsed[features.LR_KEY].numpy())
    hr.append(parsed[features.HR_KEY].numpy())
    ids.append(parsed[features.PATCH_ID_KEY].numpy().decode())
  return np.stack(lr), np.stack(hr), ids


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    examples = artifact_utils.get_single_instance(input_dict["examples"])
    example_files.verify(examples.uri, ["test"], "ComparisonFigure")
    model_dir = path_utils.serving_model_path(artifact_utils.get_single_instance(input_dict["model"]).uri)
    baseline_dir = path_utils.serving_model_path(
        artifact_utils.get_single_instance(input_dict["baseline_model"]).uri)
    scores = read_patch_scores(artifact_utils.get_single_instance(input_dict["evaluation"]).uri, "psnr")
    lr, hr, ids = _test_pairs(examples.uri, read_model_info(model_dir))
    chosen = most_textured(hr, exec_properties["patches"])
    lr, hr, ids = lr[chosen], hr[chosen], [ids[i] for i in chosen]
    enhanced = [tf.saved_model.load(d).signatures["enhance"](lr=tf.constant(lr))[OUTPUT_KEY].numpy()
                for d in (baseline_dir, model_dir)]
    figure = artifact_utils.get_single_instance(output_dict["figure"])
    path = write_figure(os.path.join(figure.uri, FIGURE_FILE), lr, enhanced[0], enhanced[1], hr,
                        *(np.array([scores[i][model] for i in ids]) for model in (BICUBIC, CANDIDATE)))
    figure.set_string_custom_property("path", path)
