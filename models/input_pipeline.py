"""tf.data input of the Trainer: GZIP TFRecords of patch pairs -> batches of (lr, hr) reflectance tensors.

Files are read interleaved, records cached in memory after parsing, shuffled across files, augmented with random
flips and 90-degree rotations (the same for both images), batched, degraded again per example when the Trainer
asks (redes.ingest.degradation: a new Landsat-like input drawn from the ranges of the sensors it trains for, or sensor
noise on a real input) and prefetched; all in the TF graph. The eval split is read once into memory (in_memory).
"""
import tensorflow as tf

from redes import features

AUTOTUNE = tf.data.AUTOTUNE


def _augment(lr, hr):
  k = tf.random.uniform([], 0, 4, dtype=tf.int32)
  lr, hr = tf.image.rot90(lr, k), tf.image.rot90(hr, k)
  flip = tf.random.uniform([]) < 0.5
  return tf.cond(flip, lambda: (tf.image.flip_left_right(lr), tf.image.flip_left_right(hr)), lambda: (lr, hr))


def make_dataset(file_pattern, patch_size: int, scale: int, n_bands: int, batch_size: int,
                 training: bool, shuffle_size: int = 2000, degrade=None, cache: bool = True) -> tf.data.Dataset:
  """Batches of (lr [b, k/s, k/s, bands], hr [b, k, k, bands]); training data repeats forever.
  degrade: (lr, hr) -> (lr, hr) of a batch, applied to training batches (a new draw for every example, every
  epoch). cache: keep the parsed records in memory (off for a dataset read only in part, which TensorFlow would
  warn of)."""
  patterns = file_pattern if isinstance(file_pattern, (list, tuple)) else [file_pattern]
  files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
  if not files:
    raise FileNotFoundError(f"no TFRecord files match {file_pattern}")
  spec = features.image_feature_spec(patch_size, scale, n_bands)

  def parse(record):
    parsed = tf.io.parse_single_example(record, spec)
    return parsed[features.LR_KEY], parsed[features.HR_KEY]

  ds = tf.data.Dataset.from_tensor_slices(files)
  ds = ds.interleave(lambda f: tf.data.TFRecordDataset(f, compression_type="GZIP"),
                     cycle_length=min(len(files), 8), num_parallel_calls=AUTOTUNE, deterministic=not training)
  ds = ds.map(parse, num_parallel_calls=AUTOTUNE)
  if cache:
    ds = ds.cache()
  if training:
    ds = ds.shuffle(shuffle_size, reshuffle_each_iteration=True).repeat()
    ds = ds.map(_augment, num_parallel_calls=AUTOTUNE).batch(batch_size, drop_remainder=True)
    if degrade is not None:
      ds = ds.map(degrade, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)
  return ds.batch(batch_size).prefetch(AUTOTUNE)


def in_memory(dataset: tf.data.Dataset) -> tf.data.Dataset:
  """The examples of a finite batched dataset (the eval split), read once and served from memory by a dataset
  without reader threads, in the same order. Keras drops its validation iterator before each validation; dropping
  one of make_dataset's, whose interleave and map threads run beside the training input's, stalled the Trainer
  about 2 s in 4 epochs of 10 (3 s of training each, on 2 cores)."""
  batches = list(dataset)
  return tf.data.Dataset.from_tensor_slices(tuple(tf.concat(part, axis=0) for part in zip(*batches)))


def count_records(file_pattern) -> int:
  """Counts the records behind a pattern (the real size of a split, not a nominal one)."""
  patterns = file_pattern if isinstance(file_pattern, (list, tuple)) else [file_pattern]
  files = [f for p in patterns for f in tf.io.gfile.glob(p)]
  return int(tf.data.TFRecordDataset(files, compression_type="GZIP").reduce(0, lambda n, _: n + 1))
