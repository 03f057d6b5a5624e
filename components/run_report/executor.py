"""Executor of RunReport: reads the evaluation, blessing and figure; writes the HTML page and the metrics."""
import base64
import html
import json

import tensorflow as tf
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from redes.evaluation import CANDIDATE, METRICS, read_overall


def render(overall: dict, blessed: bool, message: str, figure_png: bytes) -> str:
  """The page: blessing, a metrics table (one row per model) and the comparison figure inline."""
  rows = "".join(f"<tr><th>{html.escape(model)}</th>"
                 + "".join(f"<td>{values[m]:.4f}</td>" if m in values else "<td></td>" for m in METRICS) + "</tr>"
                 for model, values in sorted(overall.items()))
  image = base64.b64encode(figure_png).decode()
  return ("<!doctype html><html><head><meta charset='utf-8'><title>Redes run</title></head>"
          "<body style='font-family:sans-serif'>"
          f"<h2>{'Blessed' if blessed else 'Not blessed'}</h2><p>{html.escape(message)}</p>"
          f"<table border='1' cellpadding='4'><tr><th>model</th>{''.join(f'<th>{m}</th>' for m in METRICS)}</tr>{rows}"
          f"</table><h3>Test patches: 30 m input, bicubic, model, 10 m target</h3>"
          f"<img alt='comparison' src='data:image/png;base64,{image}'></body></html>")


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    evaluation = artifact_utils.get_single_instance(input_dict["evaluation"])
    blessing = artifact_utils.get_single_instance(input_dict["blessing"])
    figure = artifact_utils.get_single_instance(input_dict["figure"])
    overall = read_overall(evaluation.uri)
    blessed = bool(blessing.get_int_custom_property("blessed"))
    with tf.io.gfile.GFile(figure.get_string_custom_property("path"), "rb") as f:
      figure_png = f.read()
    report = artifact_utils.get_single_instance(output_dict["report"])
    report.write(render(overall, blessed, blessing.get_string_custom_property("blessing_message"), figure_png))
    headline = {f"{model}_{name}" if model != CANDIDATE else name: round(value, 4)
                for model, values in overall.items() for name, value in values.items()
                if name in METRICS or name.startswith("psnr_minus")}
    metrics = artifact_utils.get_single_instance(output_dict["metrics"])
    metrics.write(json.dumps(headline, sort_keys=True))
    for name, value in headline.items():
      metrics.set_float_custom_property(name, value)
    metrics.set_float_custom_property("blessed", float(blessed))
