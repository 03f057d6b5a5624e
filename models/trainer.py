"""The Trainer's run_fn: pixel-loss training of a generator on the ExampleGen splits, then export.

Hyperparameters arrive in the Trainer's custom_config (keys of pipeline.configs.TrainingConfig). Split sizes are
counted, an epoch is one pass over the counted training split, and validation covers the whole eval split.
Training state is backed up after every epoch in a folder named after the examples and the settings, so a
Trainer that was interrupted resumes from its last finished epoch when it runs again with the same inputs.
"""
import hashlib
import json
import logging
import math
import os

import keras
import numpy as np
import tensorflow as tf

from models import export
from models.generators import build_generator
from models.input_pipeline import count_records, make_dataset
from models.metrics import psnr
from redes.bands import parse_band_set

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


def _backup_dir(fn_args) -> str:
  """<pipeline root>/Trainer/backup/<digest of training files and settings>: the same for a re-run of the same
  training, different for any other."""
  key = json.dumps({"train": fn_args.train_files, "eval": fn_args.eval_files, "config": fn_args.custom_config},
                   sort_keys=True)
  trainer_root = os.path.dirname(os.path.dirname(os.path.normpath(fn_args.model_run_dir)))
  return os.path.join(trainer_root, "backup", hashlib.sha1(key.encode()).hexdigest()[:16])


def run_fn(fn_args):
  """Entry point called by tfx.components.Trainer (run_fn='models.trainer.run_fn')."""
  cfg = fn_args.custom_config
  bands = parse_band_set(cfg["bands"])
  scale, kernel_size, batch_size = cfg["scaling_factor"], cfg["kernel_size"], cfg["batch_size"]
  n_train, n_eval = count_records(fn_args.train_files), count_records(fn_args.eval_files)
  steps_per_epoch = cfg.get("steps_per_epoch") or max(1, math.ceil(n_train / batch_size))
  logging.info("Trainer: %d train / %d eval examples, %d epochs x %d steps, batch %d", n_train, n_eval,
               cfg["epochs"], steps_per_epoch, batch_size)
  train = make_dataset(fn_args.train_files, kernel_size, scale, len(bands), batch_size, training=True,
                       shuffle_size=cfg["shuffle_size"])
  evaluation = make_dataset(fn_args.eval_files, kernel_size, scale, len(bands), batch_size, training=False)
  mean, std = _band_stats(make_dataset(fn_args.train_files, kernel_size, scale, len(bands), batch_size,
                                       training=False))

  model = build_generator(cfg["model"], len(bands), scale, mean, std, cfg.get("reflectance_constraint", False))
  total_steps = cfg["epochs"] * steps_per_epoch
  schedule = keras.optimizers.schedules.CosineDecay(cfg["learning_rate"], total_steps, alpha=0.1)
  model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mae", metrics=[_PSNRMetric()])
  history = model.fit(train, epochs=cfg["epochs"], steps_per_epoch=steps_per_epoch, validation_data=evaluation,
                      callbacks=[keras.callbacks.TensorBoard(log_dir=os.path.join(fn_args.model_run_dir, "logs")),
                                 keras.callbacks.BackupAndRestore(_backup_dir(fn_args))],
                      verbose=2)

  export.export_model(model, fn_args.serving_model_dir, bands, kernel_size, scale, name=cfg["model"],
                      trackable=model)
  record = {"params": dict(cfg), "train_examples": n_train, "eval_examples": n_eval,
            "steps_per_epoch": steps_per_epoch, "parameters": model.count_params(), "epochs_run": history.epoch,
            "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}}
  tf.io.gfile.makedirs(fn_args.model_run_dir)
  with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, "training_history.json"), "w") as f:
    f.write(json.dumps(record, indent=2))
