"""run_fn on a few real demo patches: it trains, exports the served contract, and resumes after an interruption."""
import dataclasses
import json
import os
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from models import trainer
from pipeline.configs import TrainingConfig
from redes import features
from redes.ingest import demo_data
from redes.ingest.demo_pairs import SplitPairs
from redes.landsat_sensors import SENSORS
from redes.model_info import OUTPUT_KEY, read_model_info

CONFIG = {**dataclasses.asdict(TrainingConfig()), "source": "demo", "bands": "rgb", "patch_size": 96,
          "scaling_factor": 3, "batch_size": 4, "epochs": 3, "steps_per_epoch": 3, "shuffle_size": 16}


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


def test_an_empty_split_stops_the_trainer_with_one_line(records, tmp_path):
  empty = tmp_path / "empty.gz"
  tf.io.TFRecordWriter(str(empty), options="GZIP").close()
  with pytest.raises(ValueError, match=re.escape(f"the eval split ({empty}) holds no examples; expected at least one "
                                                 "to validate on")):
    trainer.run_fn(_fn_args({**records, "eval": str(empty)}, tmp_path, "empty"))
  assert not os.path.exists(tmp_path / "Trainer" / "model")          # nothing exported


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
  trained_for = read_model_info(args.serving_model_dir).trained_for
  assert trained_for["degradation"] == "sensors" and trained_for["synthetic_inputs"] is True
  assert trained_for["sensors"]["tm"]["psf_sigma"] == list(SENSORS["tm"].psf_sigma)
  assert set(trained_for["sensors"]) == {"tm", "etm", "oli"} and trained_for["max_shift_lr_pixels"] == 0.5


@pytest.mark.parametrize("source, degradation", [("demo", "sensors"), ("rasters", "sensors"), ("demo", "reference")])
def test_training_inputs_follow_the_source_and_the_degradation(source, degradation):
  tf.random.set_seed(0)
  cfg = {**CONFIG, "source": source, "degradation": degradation, "train_sensors": ("tm",)}
  degrade, loss, record = trainer._training_inputs(cfg)  # pylint: disable=protected-access
  hr = np.full((2, 96, 96, 3), 0.2, np.float32)                  # a batch, as make_dataset passes it
  lr = np.full((2, 32, 32, 3), 0.2, np.float32)
  moved_and_brighter = tf.roll(hr, 1, axis=1) + 0.01
  if degradation == "reference":
    assert degrade is None and record["degradation"] == "reference"
    return
  new_lr, target = degrade(lr, hr)
  if source == "rasters":                  # the real input keeps its pixels, with TM noise and 8-bit steps added
    assert np.array_equal(target, hr) and 0.0008 < float(np.std(new_lr.numpy() - lr)) < 0.004
    assert set(record["sensors"]["tm"]) == {"noise", "step"} and record["synthetic_inputs"] is False
    assert float(loss(hr, moved_and_brighter)) == pytest.approx(0.0, abs=1e-6)   # shift and bias tolerant
  else:                                    # a new TM-like input of the target, the target with its gain
    assert new_lr.shape == (2, 32, 32, 3) and not np.allclose(target, hr)
    assert float(loss(hr, moved_and_brighter)) == pytest.approx(0.01, abs=1e-6)  # shift tolerant only


def test_gan_stage_with_vgg_content_loss_from_a_local_weights_file(records, tmp_path):
  vgg_weights = str(tmp_path / "vgg19_notop.weights.h5")
  keras.applications.VGG19(include_top=False, weights=None).save_weights(vgg_weights)   # stands in for ImageNet
  args = _fn_args(records, tmp_path, "1")
  args.custom_config.update(epochs=1, steps_per_epoch=2, gan_epochs=1, vgg_weights=vgg_weights,
                            adversarial_weight=1e-3, reflectance_constraint=True)
  trainer.run_fn(args)
  with open(os.path.join(args.model_run_dir, "training_history.json")) as f:
    gan = json.load(f)["gan_history"]
  assert set(gan) >= {"g_loss", "d_loss", "content", "psnr", "val_psnr"} and len(gan["g_loss"]) == 1
  assert all(np.isfinite(v[0]) for v in gan.values())
  lr = np.random.default_rng(0).uniform(0.05, 0.3, (1, 8, 8, 3)).astype(np.float32)
  out = tf.saved_model.load(args.serving_model_dir).signatures["enhance"](lr=tf.constant(lr))[OUTPUT_KEY].numpy()
  blocks = out.reshape(1, 8, 3, 8, 3, 3)
  unclipped = ((blocks > 0) & (blocks < 1)).all(axis=(2, 4))       # the served output is clipped to 0..1
  assert unclipped.mean() > 0.5
  np.testing.assert_allclose(blocks.mean(axis=(2, 4))[unclipped], lr[unclipped], atol=1e-5)  # the constraint holds


def test_missing_vgg_weights_are_named():
  from models.losses import content_loss
  with pytest.raises(FileNotFoundError, match="VGG19 weights file '/no/vgg.h5' does not exist"):
    content_loss("/no/vgg.h5")


def test_warm_start_continues_from_the_newest_blessed_model(records, tmp_path):
  serving = tmp_path / "serving"
  second = _fn_args(records, tmp_path, "2")
  second.custom_config.update(warm_start=True, serving_dir=str(serving), learning_rate=1e-12, epochs=1,
                              steps_per_epoch=1)
  trainer.run_fn(second)                       # nothing served yet: from scratch
  with open(os.path.join(second.model_run_dir, "training_history.json")) as f:
    assert json.load(f)["warm_start"] is None
  first = _fn_args(records, tmp_path, "1")
  trainer.run_fn(first)
  shutil.copytree(second.serving_model_dir, serving / "1700000000")     # what the Pusher leaves: versions
  shutil.copytree(first.serving_model_dir, serving / "1800000000")
  second = _fn_args(records, tmp_path, "2b")
  second.custom_config.update(warm_start=True, serving_dir=str(serving), learning_rate=1e-12, epochs=1,
                              steps_per_epoch=1)
  trainer.run_fn(second)
  with open(os.path.join(second.model_run_dir, "training_history.json")) as f:
    assert json.load(f)["warm_start"] == str(serving / "1800000000")
  lr = tf.constant(np.random.default_rng(1).uniform(0.05, 0.3, (1, 16, 16, 3)).astype(np.float32))
  outputs = [tf.saved_model.load(a.serving_model_dir).signatures["enhance"](lr=lr)[OUTPUT_KEY].numpy()
             for a in (first, second)]
  np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-4)   # a learning rate of ~0 keeps the loaded weights
  cold = _fn_args(records, tmp_path, "3")
  cold.custom_config.update(learning_rate=1e-12, epochs=1, steps_per_epoch=1)
  trainer.run_fn(cold)
  cold_output = tf.saved_model.load(cold.serving_model_dir).signatures["enhance"](lr=lr)[OUTPUT_KEY].numpy()
  assert np.abs(cold_output - outputs[0]).max() > 1e-3          # without it, training starts from bicubic


def test_training_starts_from_the_original_systems_weights(records, tmp_path):
  import tf_keras
  from models.original_weights_test import _original_generator
  original = _original_generator()
  weights = str(tmp_path / "model_weights.h5")
  original.save_weights(weights)
  args = _fn_args(records, tmp_path, "1")
  args.custom_config.update(model="srgan", norm_range="0,1", init_weights=weights, learning_rate=1e-12, epochs=1,
                            steps_per_epoch=1)
  trainer.run_fn(args)
  from models.generators import srgan_generator
  trained = srgan_generator(3, 3)
  trained.load_weights(os.path.join(args.serving_model_dir, trainer.KERAS_WEIGHTS))
  convolutions = [layer for layer in original.layers if isinstance(layer, tf_keras.layers.Conv2D)]
  # A step of ~0 keeps every convolution as the original's (batch-norm statistics move with the batch).
  ours = [layer for layer in trained.layers if isinstance(layer, keras.layers.Conv2D)]
  assert len(ours) == len(convolutions) == 36                       # 9x9 head, 16 blocks of 2, 3 more, 9x9 tail
  for mine, theirs in zip(ours, convolutions):
    np.testing.assert_allclose(mine.get_weights()[0], theirs.get_weights()[0], atol=1e-6)
