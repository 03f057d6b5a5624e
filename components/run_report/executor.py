"""Executor of RunReport: reads the evaluation, blessing and figure; writes the HTML page (metrics per model,
robustness per input, the comparison figure) and the headline metrics."""
import base64
import html
import json

import tensorflow as tf
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from redes.evaluation.record import CANDIDATE, INPUT, METRICS, read_scores, robustness

ROBUSTNESS_COLUMNS = ("cpsnr_minus_bicubic", "psnr_minus_bicubic", "cpsnr_minus_blessed", "texture",
                      "bicubic_texture", "blessed_texture")


def _table(corner: str, columns, rows: dict) -> str:
  head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
  body = "".join(f"<tr><th>{html.escape(name)}</th>"
                 + "".join(f"<td>{values[c]:.4f}</td>" if c in values else "<td></td>" for c in columns) + "</tr>"
                 for name, values in rows.items())
  return f"<table border='1' cellpadding='4'><tr><th>{corner}</th>{head}</tr>{body}</table>"


def render(scores: dict, blessed: bool, message: str, figure_png: bytes) -> str:
  """The page: blessing, a metrics table (one row per model, the test split's own input), a robustness table (one
  row per input) and the comparison figure inline."""
  image = base64.b64encode(figure_png).decode()
  return ("<!doctype html><html><head><meta charset='utf-8'><title>Redes run</title></head>"
          "<body style='font-family:sans-serif'>"
          f"<h2>{'Blessed' if blessed else 'Not blessed'}</h2><p>{html.escape(message)}</p>"
          f"{_table('model', METRICS, dict(sorted(scores[INPUT].items())))}"
          "<h3>Robustness: the candidate against bicubic and the last blessed model under each input (texture: "
          "high-frequency energy on the target's flattest pixels over the target's own)</h3>"
          f"{_table('input', ROBUSTNESS_COLUMNS, robustness(scores))}"
          f"<h3>Test patches: 30 m input, bicubic, model, 10 m target</h3>"
          f"<img alt='comparison' src='data:image/png;base64,{image}'></body></html>")


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    evaluation = artifact_utils.get_single_instance(input_dict["evaluation"])
    blessing = artifact_utils.get_single_instance(input_dict["blessing"])
    figure = artifact_utils.get_single_instance(input_dict["figure"])
    scores = read_scores(evaluation.uri)
    blessed = bool(blessing.get_int_custom_property("blessed"))
    with tf.io.gfile.GFile(figure.get_string_custom_property("path"), "rb") as f:
      figure_png = f.read()
    report = artifact_utils.get_single_instance(output_dict["report"])
    report.write(render(scores, blessed, blessing.get_string_custom_property("blessing_message"), figure_png))
    headline = {f"{model}_{name}" if model != CANDIDATE else name: round(value, 4)
                for model, values in scores[INPUT].items() for name, value in values.items()
                if name in METRICS or name.startswith("psnr_minus")}
    rows = robustness(scores).values()
    headline["worst_cpsnr_minus_bicubic"] = round(min(r.get("cpsnr_minus_bicubic", 0.0) for r in rows), 4)
    headline["most_texture"] = round(max(r.get("texture", 0.0) for r in rows), 4)
    metrics = artifact_utils.get_single_instance(output_dict["metrics"])
    metrics.write(json.dumps(headline, sort_keys=True))
    for name, value in headline.items():
      metrics.set_float_custom_property(name, value)
    metrics.set_float_custom_property("blessed", float(blessed))
