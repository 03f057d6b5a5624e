import numpy as np
import tensorflow as tf

from models.input_pipeline import count_records, in_memory, make_dataset
from redes import features


def _write(path, n, rng):
  """Pairs whose LR is the exact 3x3 block mean of the HR, so any augmentation must keep that relation."""
  with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
    for i in range(n):
      hr = rng.uniform(0, 0.3, (12, 12, 2)).astype(np.float32)
      lr = hr.reshape(4, 3, 4, 3, 2).mean(axis=(1, 3))
      writer.write(features.make_example(lr, hr, ("red", "nir"), 1.0, 0.0, 0.0, f"p{i}").SerializeToString())


def test_counts_and_training_batches_keep_pairs_aligned(tmp_path, rng):
  _write(tmp_path / "a.gz", 5, rng)
  _write(tmp_path / "b.gz", 4, rng)
  pattern = str(tmp_path / "*.gz")
  assert count_records(pattern) == 9
  ds = make_dataset(pattern, 12, 3, 2, batch_size=4, training=True, shuffle_size=16)
  for lr, hr in ds.take(6):
    assert lr.shape == (4, 4, 4, 2) and hr.shape == (4, 12, 12, 2)
    block_mean = tf.reshape(hr, (4, 4, 3, 4, 3, 2)).numpy().mean(axis=(2, 4))
    np.testing.assert_allclose(lr.numpy(), block_mean, atol=1e-6)


def test_evaluation_data_is_read_once_in_full(tmp_path, rng):
  _write(tmp_path / "a.gz", 5, rng)
  ds = make_dataset(str(tmp_path / "a.gz"), 12, 3, 2, batch_size=2, training=False)
  assert sum(int(lr.shape[0]) for lr, _ in ds) == 5


def test_evaluation_data_in_memory_holds_every_example_in_file_order(tmp_path, rng):
  _write(tmp_path / "a.gz", 5, rng)
  read = make_dataset(str(tmp_path / "a.gz"), 12, 3, 2, batch_size=2, training=False, cache=False)
  held = in_memory(read)
  assert int(held.cardinality()) == 5                 # a size known without reading: no reader behind it
  for (lr, hr), (held_lr, held_hr) in zip(read.unbatch(), held):
    np.testing.assert_array_equal(held_lr.numpy(), lr.numpy())
    np.testing.assert_array_equal(held_hr.numpy(), hr.numpy())


def test_training_inputs_are_degraded_again_per_example(tmp_path, rng):
  _write(tmp_path / "a.gz", 4, rng)
  calls = []

  def degrade(lr, hr):
    calls.append(1)                                 # traced once; the map runs it per example
    return lr + 1.0, hr
  ds = make_dataset(str(tmp_path / "a.gz"), 12, 3, 2, batch_size=4, training=True, shuffle_size=4, degrade=degrade)
  lr, hr = next(iter(ds))
  block_mean = tf.reshape(hr, (4, 4, 3, 4, 3, 2)).numpy().mean(axis=(2, 4))
  np.testing.assert_allclose(lr.numpy(), block_mean + 1.0, atol=1e-6)
  assert calls
  evaluation = make_dataset(str(tmp_path / "a.gz"), 12, 3, 2, batch_size=4, training=False, degrade=degrade)
  lr, hr = next(iter(evaluation))                    # evaluation inputs stay as stored
  np.testing.assert_allclose(lr.numpy(), tf.reshape(hr, (4, 4, 3, 4, 3, 2)).numpy().mean(axis=(2, 4)), atol=1e-6)
