"""Reads ExampleValidator's anomalies artifact into {split: ["feature: description", ...]} (empty splits left out)."""
import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2


def read_anomalies(anomalies_uri: str) -> dict[str, list[str]]:
  found = {}
  for split_dir in sorted(tf.io.gfile.listdir(anomalies_uri)):
    path = os.path.join(anomalies_uri, split_dir.rstrip("/"), "SchemaDiff.pb")
    if not tf.io.gfile.exists(path):
      continue
    proto = anomalies_pb2.Anomalies()
    proto.ParseFromString(tf.io.gfile.GFile(path, "rb").read())
    items = [f"{name}: {info.description or info.short_description}"
             for name, info in sorted(proto.anomaly_info.items())]
    if proto.HasField("dataset_anomaly_info"):
      items.append(f"dataset: {proto.dataset_anomaly_info.description}")
    if items:
      found[split_dir.rstrip("/").removeprefix("Split-")] = items
  return found
