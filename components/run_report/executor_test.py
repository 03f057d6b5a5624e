import base64
import io
import json
import os
import re

import tensorflow as tf
from PIL import Image
from tfx.types import standard_artifacts

import system
from components.artifacts import Figure
from components.run_report.executor import Executor
from redes.evaluation import record


def test_page_and_metrics_for_the_kubeflow_ui(tmp_path):
  evaluated = standard_artifacts.ModelEvaluation()
  evaluated.uri = str(tmp_path / "evaluation")
  os.makedirs(evaluated.uri)
  means = {"input": {"candidate": {"psnr": 52.73, "ssim": 0.9924, "consistency": 0.0006, "cpsnr": 52.8,
                                   "texture_energy": 0.5},
                     "bicubic": {"psnr": 51.04, "ssim": 0.9883, "consistency": 0.0002, "cpsnr": 51.1,
                                 "texture_energy": 0.1},
                     "target": {"consistency": 0.0007, "texture_energy": 1.0}},
           "noise_tm": {"candidate": {"psnr": 49.0, "cpsnr": 49.1, "texture_energy": 1.3},
                        "bicubic": {"psnr": 49.5, "cpsnr": 49.6, "texture_energy": 0.2}}}
  with tf.io.TFRecordWriter(os.path.join(evaluated.uri, "metrics-00000-of-00001.tfrecord")) as writer:
    writer.write(record.metrics_for_slice(record.finish(means)).SerializeToString())
  blessing = standard_artifacts.ModelBlessing()
  blessing.set_int_custom_property("blessed", 0)
  blessing.set_string_custom_property("blessing_message", "candidate PSNR <below> bicubic's")
  figure = Figure()
  Image.new("RGB", (8, 4), "red").save(tmp_path / "comparison.png")
  figure.set_string_custom_property("path", str(tmp_path / "comparison.png"))
  report, metrics = system.HTML(), system.Metrics()
  report.uri, metrics.uri = str(tmp_path / "report"), str(tmp_path / "metrics")

  Executor().Do({"evaluation": [evaluated], "blessing": [blessing], "figure": [figure]},
                {"report": [report], "metrics": [metrics]}, {})

  page = (tmp_path / "report").read_text()
  assert "<h2>Not blessed</h2>" in page and "candidate PSNR &lt;below&gt; bicubic&#x27;s" in page
  assert ("<th>candidate</th><td>52.7300</td><td>0.9924</td><td></td><td></td><td>0.0006</td><td>52.8000</td>"
          "<td>0.5000</td>") in page
  assert "<th>noise_tm</th><td>-0.5000</td><td>-0.5000</td><td></td><td>1.3000</td><td>0.2000</td>" in page
  png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1))
  assert Image.open(io.BytesIO(png)).size == (8, 4)
  assert json.loads((tmp_path / "metrics").read_text())["psnr_minus_bicubic"] == 1.69
  assert metrics.get_float_custom_property("psnr") == 52.73
  assert metrics.get_float_custom_property("bicubic_psnr") == 51.04
  assert metrics.get_float_custom_property("blessed") == 0.0
  assert metrics.get_float_custom_property("worst_cpsnr_minus_bicubic") == -0.5
  assert metrics.get_float_custom_property("most_texture") == 1.3
