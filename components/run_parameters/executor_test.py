import json
import os

import pytest
from tfx.types import standard_artifacts

from components.run_parameters.executor import HYPERPARAMETERS_FILE, Executor


def _run(tmp_path, **values):
  artifact = standard_artifacts.HyperParameters()
  artifact.uri = str(tmp_path)
  Executor().Do({}, {"hyperparameters": [artifact]}, values)
  return json.loads((tmp_path / HYPERPARAMETERS_FILE).read_text())


def test_values_reach_the_trainer_as_a_tuner_config(tmp_path):
  assert _run(tmp_path, epochs=7, batch_size=24) == {"space": [], "values": {"epochs": 7, "batch_size": 24}}
  assert os.listdir(tmp_path) == [HYPERPARAMETERS_FILE]    # the Trainer reads the only file there


def test_a_non_positive_value_is_refused(tmp_path):
  with pytest.raises(ValueError, match="run parameter batch_size is 0; expected a positive integer"):
    _run(tmp_path, epochs=7, batch_size=0)
