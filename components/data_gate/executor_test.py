import os

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import standard_artifacts

from components.data_gate.executor import AnomaliesFound, Executor


def _anomalies(tmp_path, with_anomaly: bool):
  artifact = standard_artifacts.ExampleAnomalies()
  artifact.uri = str(tmp_path)
  for split in ("train", "eval"):
    proto = anomalies_pb2.Anomalies()
    if with_anomaly and split == "eval":
      proto.anomaly_info["mean_red"].description = "Out-of-range values"
    os.makedirs(tmp_path / f"Split-{split}", exist_ok=True)
    (tmp_path / f"Split-{split}" / "SchemaDiff.pb").write_bytes(proto.SerializeToString())
  return {"anomalies": [artifact]}


def test_stops_before_training_only_when_asked(tmp_path):
  inputs = _anomalies(tmp_path, with_anomaly=True)
  Executor().Do(inputs, {}, {"stop_on_anomalies": 0})
  with pytest.raises(AnomaliesFound, match="1 anomalies .*split eval: mean_red: Out-of-range values"):
    Executor().Do(inputs, {}, {"stop_on_anomalies": 1})


def test_clean_data_passes(tmp_path, caplog):
  caplog.set_level("INFO")
  Executor().Do(_anomalies(tmp_path, with_anomaly=False), {}, {"stop_on_anomalies": 1})
  assert caplog.messages == ["DataGate: no anomalies"]
