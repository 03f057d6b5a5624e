"""Executor of BicubicBaseline: writes the bicubic SavedModel under the Model artifact's Format-Serving dir."""
import functools
import os

from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from models import export
from redes.bands import parse_band_set
from redes.resampling import bicubic_upsample


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    model = artifact_utils.get_single_instance(output_dict["model"])
    scale = exec_properties["scaling_factor"]
    export.export_model(functools.partial(bicubic_upsample, scale=scale), path_utils.serving_model_path(model.uri),
                        parse_band_set(exec_properties["bands"]), exec_properties["patch_size"], scale,
                        name="bicubic")
    os.makedirs(model.uri, exist_ok=True)
