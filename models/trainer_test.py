"""run_fn on a few real demo patches: it trains, exports the served contract, and resumes after an interruption."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from models import trainer
from models.export import OUTPUT_KEY
from redes import demo_data, features
from redes.demo_pairs import SplitPairs

CONFIG = {"bands": "rgb", "kernel_size": 96, "scaling_factor": 3, "model": "residual", "batch_size": 4,
          "epochs": 3, "steps_per_epoch": 3, "shuffle_size": 16, "learning_rate": 1e-3}


@pytest.fixture(scope="module")
def records(demo_dir, tmp_path_factory):
  folder = tmp_path_factory.mktemp("examples")
  image, crs, transform = demo_data.sentinel2_reflectance(("red", "green", "blue"), demo_dir)
  paths = {}
  for split in ("train", "eval"):
    pairs = SplitPairs(image, crs, transform, split, 96, 3)
    paths[split] = str(folder / f"{split}.gz")
    with tf.io.TFRecordWriter(paths[split], options="GZIP") as writer:
      for window in pairs.windows(8):
        p = pairs.patch(*window)
        writer.write(features.make_example(p.lr, p.hr, ("red", "green", "blue"), 1.0, 0.0, 0.0,
                                           p.patch_id).SerializeToString())
  return paths


def _fn_args(records, root, run):
  return FnArgs(train_files=[records["train"]], eval_files=[records["eval"]], custom_config=dict(CONFIG),
                serving_model_dir=str(root / "Trainer" / "model" / run / "Format-Serving"),
                model_run_dir=str(root / "Trainer" / "model_run" / run))


class _Interrupt(keras.callbacks.Callback):
  def on_epoch_begin(self, epoch, logs=None):
    if epoch == 2:
      raise KeyboardInterrupt("killed as the third epoch starts")


def test_interrupted_training_resumes_from_its_last_epoch(records, tmp_path, monkeypatch):
  tensorboard = keras.callbacks.TensorBoard
  monkeypatch.setattr(keras.callbacks, "TensorBoard", lambda **kw: [tensorboard(**kw), _Interrupt()][1])
  with pytest.raises(KeyboardInterrupt):
    trainer.run_fn(_fn_args(records, tmp_path, "1"))
  monkeypatch.setattr(keras.callbacks, "TensorBoard", tensorboard)
  args = _fn_args(records, tmp_path, "2")
  trainer.run_fn(args)
  with open(os.path.join(args.model_run_dir, "training_history.json")) as f:
    history = json.load(f)
  assert history["epochs_run"] == [2]                  # epochs 0 and 1 came from the backup
  assert history["train_examples"] == 8 and history["eval_examples"] == 8
  enhance = tf.saved_model.load(args.serving_model_dir).signatures["enhance"]
  out = enhance(lr=tf.fill([1, 10, 12, 3], 0.1))[OUTPUT_KEY].numpy()
  assert out.shape == (1, 30, 36, 3) and np.isfinite(out).all()
  assert not os.listdir(os.path.join(tmp_path, "Trainer", "backup"))   # a finished training leaves no backup
