"""Executor of RunParameters: writes the values as a keras-tuner HyperParameters config, the file the Trainer reads."""
import json
import os

from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

HYPERPARAMETERS_FILE = "best_hyperparameters.txt"   # the Tuner's file name; the Trainer reads the only file there
RUN_PARAMETERS = ("epochs", "batch_size")            # TrainingConfig fields a run may change


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    values = {name: int(exec_properties[name]) for name in RUN_PARAMETERS}
    for name, value in values.items():
      if value <= 0:
        raise ValueError(f"run parameter {name} is {value}; expected a positive integer")
    uri = artifact_utils.get_single_uri(output_dict["hyperparameters"])
    io_utils.write_string_file(os.path.join(uri, HYPERPARAMETERS_FILE), json.dumps({"space": [], "values": values}))
