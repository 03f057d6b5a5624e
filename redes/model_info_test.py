import json

import pytest

from redes.model_info import (MODEL_INFO_FILE, SAVED_MODEL_FILE, ModelInfo, ModelInfoError, latest_served_model,
                              read_model_info, write_model_info)


def test_the_model_file_round_trips_and_older_files_still_read(tmp_path):
  info = ModelInfo("residual", ("red", "green", "blue"), 3, 96, {"degradation": "sensors", "sensors": {"oli": {}}})
  write_model_info(str(tmp_path), info)
  assert read_model_info(str(tmp_path)) == info
  (tmp_path / MODEL_INFO_FILE).write_text(json.dumps({"name": "bicubic", "bands": ["red"], "scaling_factor": 3,
                                                      "kernel_size": 48}))
  assert read_model_info(str(tmp_path)) == ModelInfo("bicubic", ("red",), 3, 48)


def test_a_missing_or_broken_model_file_is_one_line_naming_it(tmp_path):
  with pytest.raises(ModelInfoError, match=f"{tmp_path}/{MODEL_INFO_FILE} does not exist"):
    read_model_info(str(tmp_path))
  (tmp_path / MODEL_INFO_FILE).write_text(json.dumps({"name": "bicubic", "bands": ["red"]}))
  with pytest.raises(ModelInfoError, match="is not a Redes model file .*expected the fields name, bands"):
    read_model_info(str(tmp_path))


def test_the_served_model_is_the_newest_whole_copy(tmp_path):
  for version in ("100", "200", "300"):
    (tmp_path / version).mkdir()
    write_model_info(str(tmp_path / version), ModelInfo("residual", ("red",), 3, 96))
  (tmp_path / "100" / SAVED_MODEL_FILE).write_bytes(b"pb")
  (tmp_path / "200" / SAVED_MODEL_FILE).write_bytes(b"pb")       # 300: a copy that stopped before its last file
  (tmp_path / "not-a-version").mkdir()
  assert latest_served_model(str(tmp_path)) == str(tmp_path / "200")
  assert latest_served_model(str(tmp_path / "none")) is None
