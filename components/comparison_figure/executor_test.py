"""ComparisonFigure on real demo patches: the most textured test patches, labelled with the PSNR of each patch in
the evaluation ImageEvaluator wrote (records written here with redes.evaluation.record, as the evaluator does)."""
import functools
import os

import numpy as np
import tensorflow as tf
from PIL import Image
from tfx.types import standard_artifacts

from components.artifacts import Figure
from components.comparison_figure import executor
from models import export
from redes import features
from redes.evaluation import record
from redes.ingest import demo_data
from redes.ingest.degradation import degrade
from redes.resampling import bicubic_upsample


def test_the_figure_labels_each_patch_with_the_evaluators_psnr(demo_dir, tmp_path, monkeypatch):
  image, _, _ = demo_data.sentinel2_reflectance(("red", "green", "blue"), demo_dir)
  hr = np.stack([np.nan_to_num(image[1500:1596, x:x + 96]) for x in range(0, 96 * 6, 96)])
  lr = degrade(hr, 3).numpy()
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / "examples")
  os.makedirs(os.path.join(examples.uri, "Split-test"))
  with tf.io.TFRecordWriter(os.path.join(examples.uri, "Split-test", "data.gz"), "GZIP") as writer:
    for i, (lr_patch, hr_patch) in enumerate(zip(lr, hr)):
      writer.write(features.make_example(lr_patch, hr_patch, ("red", "green", "blue"), 1.0, 0.0, 0.0,
                                         f"test/y1500x{96 * i:05d}").SerializeToString())
  models = {}
  for name, upsample in (("bicubic", functools.partial(bicubic_upsample, scale=3)),
                         ("brighter", lambda x: bicubic_upsample(x, 3) + 0.01)):
    models[name] = standard_artifacts.Model()
    models[name].uri = str(tmp_path / name)
    export.export_model(upsample, os.path.join(models[name].uri, "Format-Serving"), ("red", "green", "blue"), 96,
                        3, name=name)
  evaluation = standard_artifacts.ModelEvaluation()
  evaluation.uri = str(tmp_path / "evaluation")
  os.makedirs(evaluation.uri)
  recorded = {f"test/y1500x{96 * i:05d}": {"bicubic": 40.0 + i, "candidate": 41.5 + i} for i in range(len(hr))}
  with tf.io.TFRecordWriter(os.path.join(evaluation.uri, "metrics-00000-of-00001.tfrecord")) as writer:
    writer.write(record.metrics_for_slice({record.INPUT: {"candidate": {"psnr": 1.0}}}).SerializeToString())
    for patch_id, values in recorded.items():
      scores = {record.INPUT: {m: {"psnr": v} for m, v in values.items()},
                "noise_tm": {m: {"psnr": v - 9} for m, v in values.items()}}
      writer.write(record.metrics_for_slice(scores, patch_id.encode()).SerializeToString())
  labels = []
  write_figure = executor.write_figure
  monkeypatch.setattr(executor, "write_figure", lambda *args, **kw: labels.append(args[5:7]) or
                      write_figure(*args, **kw))
  figure = Figure()
  figure.uri = str(tmp_path / "figure")
  executor.Executor().Do({"examples": [examples], "model": [models["brighter"]], "baseline_model": [models["bicubic"]],
                          "evaluation": [evaluation]}, {"figure": [figure]}, {"patches": 4})
  chosen = sorted(np.argsort([-float(np.var(p)) for p in hr])[:4])
  assert len(chosen) == 4 and chosen != [0, 1, 2, 3]                 # the most textured, not the first ones
  np.testing.assert_allclose(labels[0][0], [40.0 + i for i in chosen])   # the split's own input, not a variant
  np.testing.assert_allclose(labels[0][1], [41.5 + i for i in chosen])
  with Image.open(figure.get_string_custom_property("path")) as png:
    assert png.size == (4 * 192, 4 * (192 + 16))
