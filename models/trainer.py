"""The Trainer's run_fn: pixel-loss training of a generator (stage 1), optional GAN fine-tuning (stage 2), export.

Hyperparameters arrive in the Trainer's custom_config (the fields of pipeline.configs.TrainingConfig, with the
source, bands, kernel size and scaling factor) and, for those a run may change (epochs, batch size), in the
HyperParameters artifact of RunParameters (fn_args.hyperparameters), which wins. Split sizes are counted, an epoch
is one pass over the counted training split, and validation covers the whole eval split (its inputs as stored).
Training inputs (degradation="sensors"): the demo source's targets are degraded again per example with parameters
drawn from the ranges of train_sensors (redes.ingest.degradation), and real pairs get those sensors' noise and
quantisation. The demo source's pairs are co-registered by construction (the target moves with its input's drawn
misregistration), so their pixel loss is aligned; that of real pairs is shift-tolerant (loss_shift pixels) and
brightness-bias tolerant, since their composites differ in place, date and radiometry. redes_model.json records
what the model was trained for.
With init_weights, the SRGAN generator starts from the original system's weights; with warm_start, from the weights
of the last blessed model, the newest one the Pusher wrote to custom_config's serving_dir (local or gs://), which
wins when there is one.
Training state is backed up after every epoch in a folder named after the examples and the settings, so a
Trainer that was interrupted resumes from its last finished epoch when it runs again with the same inputs.
"""
import hashlib
import json
import logging
import math
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from models import export
from models.discriminator import discriminator
from models.gan import SRGAN
from models.generators import build_generator
from models.input_pipeline import count_records, in_memory, make_dataset
from models.losses import content_loss, pixel_loss
from models.original_weights import load_original_weights
from redes import disk_full, example_files
from redes.bands import parse_band_set
from redes.evaluation.metrics import psnr
from redes.ingest import degradation
from redes.landsat_sensors import sensor_models, training_record
from redes.model_info import latest_served_model, read_model_info

_STATS_BATCHES = 32


def _band_stats(dataset) -> tuple[np.ndarray, np.ndarray]:
  """Per-band mean and standard deviation of the low-resolution input over the first batches (in file order, so
  that a resumed training rebuilds the same model)."""
  lr = np.concatenate([b[0].numpy().reshape(-1, b[0].shape[-1]) for b in dataset.take(_STATS_BATCHES)])
  return lr.mean(axis=0), np.maximum(lr.std(axis=0), 1e-4)


class _PSNRMetric(keras.metrics.Mean):
  def __init__(self, name="psnr", **kwargs):
    super().__init__(name=name, **kwargs)

  def update_state(self, y_true, y_pred, sample_weight=None):
    return super().update_state(psnr(y_true, tf.clip_by_value(y_pred, 0.0, 1.0)), sample_weight)


def training_config(fn_args) -> dict:
  """custom_config updated with the values of fn_args.hyperparameters (a keras-tuner config), if any."""
  return {**fn_args.custom_config, **((fn_args.hyperparameters or {}).get("values") or {})}


def _backup_dir(fn_args) -> str:
  """<pipeline root>/Trainer/backup/<digest of training files and settings>: the same for a re-run of the same
  training, different for any other."""
  key = json.dumps({"train": fn_args.train_files, "eval": fn_args.eval_files, "config": training_config(fn_args)},
                   sort_keys=True)
  trainer_root = os.path.dirname(os.path.dirname(os.path.normpath(fn_args.model_run_dir)))
  return os.path.join(trainer_root, "backup", hashlib.sha1(key.encode()).hexdigest()[:16])


KERAS_WEIGHTS = "generator.weights.h5"   # beside the SavedModel, for warm starts
WEIGHTS_FILE_SLACK = 1 << 20              # bytes of HDF5 structure beside the weights, and room to spare


def _require_room_for_weights(path: str, model) -> None:
  """An HDF5 weights file whose writing fails for want of space crashes the interpreter at exit (h5py), so the
  space is checked first: a DiskFull naming the file instead."""
  disk_full.require(path, 2 * sum(int(np.prod(w.shape)) * 4 for w in model.weights) + WEIGHTS_FILE_SLACK)


class _Backup(keras.callbacks.BackupAndRestore):
  """Keras's epoch backup (an HDF5 weights file), with room for it checked before each save."""

  def _save_model(self):
    _require_room_for_weights(self._weights_path, self.model)
    super()._save_model()


def _local_copy(path: str, folder: str) -> str:
  """path itself when local, else a copy in folder (Keras reads HDF5 weights from local files only)."""
  if "://" not in path:
    return path
  local = os.path.join(folder, os.path.basename(path))
  tf.io.gfile.copy(path, local, overwrite=True)
  return local


def _warm_start(model, cfg, scratch_dir: str) -> str | None:
  """Loads the weights of the last blessed model, the newest one the Pusher wrote to cfg["serving_dir"], when it
  has the same architecture; returns its path, or None (training starts from scratch)."""
  if not cfg.get("warm_start"):
    return None
  base = latest_served_model(cfg.get("serving_dir", ""))
  if not base:
    logging.info("Trainer: no blessed model in %r yet; training from scratch", cfg.get("serving_dir", ""))
    return None
  weights = os.path.join(base, KERAS_WEIGHTS)
  info = read_model_info(base)
  expected = (cfg["model"], parse_band_set(cfg["bands"]), cfg["scaling_factor"])
  if not tf.io.gfile.exists(weights) or (info.name, info.bands, info.scaling_factor) != expected:
    logging.warning("Trainer: the last blessed model %s is not a %s; training from scratch", base, expected)
    return None
  try:
    model.load_weights(_local_copy(weights, scratch_dir))
  except ValueError as err:   # same name, other layout (e.g. reflectance constraint on one side only)
    logging.warning("Trainer: cannot warm start from %s (%s); training from scratch", base, err)
    return None
  logging.info("Trainer: warm start from the last blessed model %s", base)
  return base


def _strategy():
  """MirroredStrategy over the GPUs when there are several, the default strategy otherwise."""
  gpus = tf.config.list_logical_devices("GPU")
  return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def _gan_stage(generator, cfg, train, evaluation, steps_per_epoch, validation_steps, fn_args, n_bands,
               scratch_dir):
  """Stage 2: adversarial fine-tuning of the pretrained generator; returns its history."""
  schedule = keras.optimizers.schedules.PiecewiseConstantDecay([cfg["gan_epochs"] * steps_per_epoch // 2],
                                                               [1e-4, 1e-5])
  gan = SRGAN(generator, discriminator(n_bands), content_loss(_local_copy(cfg.get("vgg_weights", ""), scratch_dir)),
              cfg.get("adversarial_weight", 1e-3))
  gan.compile(g_optimizer=keras.optimizers.Adam(schedule), d_optimizer=keras.optimizers.Adam(schedule))
  lr_side = cfg["patch_size"] // cfg["scaling_factor"]
  gan(np.zeros((1, lr_side, lr_side, n_bands), np.float32))   # builds it, as the training backup needs
  return gan.fit(train, epochs=cfg["gan_epochs"], steps_per_epoch=steps_per_epoch, validation_data=evaluation,
                 validation_steps=validation_steps, shuffle=False,
                 callbacks=[_Backup(os.path.join(_backup_dir(fn_args), "gan"))], verbose=2)


def _training_inputs(cfg):
  """(the degradation of training batches for make_dataset, or None; the pixel loss; what redes_model.json
  records)."""
  synthetic = cfg["source"] == "demo"
  sensors = sensor_models(cfg["train_sensors"])
  record = training_record(cfg["degradation"], sensors, synthetic)
  if cfg["degradation"] == "reference":
    return None, pixel_loss(cfg["pixel_loss"]), record
  scale = cfg["scaling_factor"]
  if synthetic:
    def degrade(lr, hr):  # pylint: disable=unused-argument  (the stored input is replaced)
      return degradation.random_degradation(hr, scale, sensors)
    return degrade, pixel_loss(cfg["pixel_loss"]), record      # input and target co-registered: an aligned loss

  def degrade_real(lr, hr):
    return degradation.random_sensor_noise(lr, sensors), hr
  return degrade_real, pixel_loss(cfg["pixel_loss"], cfg["loss_shift"], bias_tolerant=True), record


def run_fn(fn_args):
  """Entry point called by tfx.components.Trainer (run_fn='models.trainer.run_fn')."""
  cfg = training_config(fn_args)
  for split, files in (("train", fn_args.train_files), ("eval", fn_args.eval_files)):
    for pattern in files:
      example_files.verify(example_files.examples_root(pattern), [split], "Trainer")
  bands = parse_band_set(cfg["bands"])
  scale, patch_size, batch_size = cfg["scaling_factor"], cfg["patch_size"], cfg["batch_size"]
  n_train, n_eval = count_records(fn_args.train_files), count_records(fn_args.eval_files)
  for split, files, count, use in (("train", fn_args.train_files, n_train, "train"),
                                   ("eval", fn_args.eval_files, n_eval, "validate")):
    if not count:
      raise ValueError(f"Trainer: the {split} split ({', '.join(files)}) holds no examples; expected at least one "
                       f"to {use} on")
  steps_per_epoch = cfg.get("steps_per_epoch") or math.ceil(n_train / batch_size)
  validation_steps = math.ceil(n_eval / batch_size)   # all of it, without Keras's "ran out of data"
  logging.info("Trainer: %d train / %d eval examples, %d epochs x %d steps, batch %d", n_train, n_eval,
               cfg["epochs"], steps_per_epoch, batch_size)
  if cfg.get("mixed_precision"):
    keras.mixed_precision.set_global_policy("mixed_float16")
  degrade, loss, trained_for = _training_inputs(cfg)
  train = make_dataset(fn_args.train_files, patch_size, scale, len(bands), batch_size, training=True,
                       shuffle_size=cfg["shuffle_size"], degrade=degrade)
  evaluation = in_memory(make_dataset(fn_args.eval_files, patch_size, scale, len(bands), batch_size, training=False,
                                      cache=False)).batch(batch_size)
  mean, std = _band_stats(make_dataset(fn_args.train_files, patch_size, scale, len(bands), batch_size,
                                       training=False, cache=False))
  scratch = tempfile.TemporaryDirectory()   # local copies of remote weight files
  scratch_dir = scratch.name
  try:
    with _strategy().scope():
      model = build_generator(cfg["model"], len(bands), scale, mean, std, cfg.get("reflectance_constraint", False),
                              cfg.get("norm_range", "standardize"))
      if cfg.get("mixed_precision"):   # computations in float16, the output in float32
        model = keras.Model(model.input, keras.layers.Activation("linear", dtype="float32")(model.output))
      total_steps = cfg["epochs"] * steps_per_epoch
      schedule = keras.optimizers.schedules.CosineDecay(cfg["learning_rate"], total_steps, alpha=0.1)
      model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=[_PSNRMetric()])
      if cfg["init_weights"]:
        load_original_weights(model, _local_copy(cfg["init_weights"], scratch_dir), len(bands), scale)
      warm_start = _warm_start(model, cfg, scratch_dir)
      history = model.fit(train, epochs=cfg["epochs"], steps_per_epoch=steps_per_epoch, validation_data=evaluation,
                          validation_steps=validation_steps, shuffle=False,   # the datasets are shuffled already
                          callbacks=[keras.callbacks.TensorBoard(log_dir=os.path.join(fn_args.model_run_dir, "logs")),
                                     _Backup(_backup_dir(fn_args))],
                          verbose=2)
      gan_history = (_gan_stage(model, cfg, train, evaluation, steps_per_epoch, validation_steps, fn_args,
                                len(bands), scratch_dir).history
                     if cfg.get("gan_epochs") else {})
  finally:
    keras.mixed_precision.set_global_policy("float32")
    scratch.cleanup()

  export.export_model(model, fn_args.serving_model_dir, bands, patch_size, scale, name=cfg["model"],
                      trackable=model, trained_for=trained_for)
  weights = os.path.join(fn_args.serving_model_dir, KERAS_WEIGHTS)
  _require_room_for_weights(weights, model)
  model.save_weights(weights)
  record = {"params": dict(cfg), "train_examples": n_train, "eval_examples": n_eval, "warm_start": warm_start,
            "steps_per_epoch": steps_per_epoch, "parameters": model.count_params(), "epochs_run": history.epoch,
            "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
            "gan_history": {k: [float(v) for v in vals] for k, vals in gan_history.items()}}
  tf.io.gfile.makedirs(fn_args.model_run_dir)
  with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "training_history.json"), "w") as f:
    f.write(json.dumps(record, indent=2))
