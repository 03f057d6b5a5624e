"""Executor of DataGate: reads ExampleValidator's anomalies; raises when stop_on_anomalies is set and any exist."""
import logging

from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from redes.evaluation.anomalies import read_anomalies


class AnomaliesFound(RuntimeError):
  pass


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    found = read_anomalies(artifact_utils.get_single_instance(input_dict["anomalies"]).uri)
    for split, items in found.items():
      for item in items:
        logging.warning("DataGate: anomaly in split %s: %s", split, item)
    if found and exec_properties["stop_on_anomalies"]:
      first_split, items = next(iter(found.items()))
      raise AnomaliesFound(f"ExampleValidator found {sum(map(len, found.values()))} anomalies (first, in split "
                           f"{first_split}: {items[0]}); stopping before training (--stop-on-anomalies)")
    logging.info("DataGate: %s", "anomalies reported, run continues" if found else "no anomalies")
