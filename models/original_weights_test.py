"""The original's weights file format: a Keras 2 (tf_keras) SRGAN generator saved with save_weights to HDF5."""
import numpy as np
import pytest
import tf_keras

from models.original_weights import load_original_generator


def _original_generator(n_bands=3, filters=64, blocks=16):
  """The original's generator as its code built it with Keras 2 (input 0..1, output tanh -1..1)."""
  layers = tf_keras.layers
  lr = layers.Input((None, None, n_bands))
  x = layers.Conv2D(filters, 9, padding="same")(lr)
  x = head = layers.PReLU(shared_axes=[1, 2])(x)
  for _ in range(blocks):
    y = layers.Conv2D(filters, 3, padding="same")(x)
    y = layers.BatchNormalization(momentum=0.5)(y)
    y = layers.PReLU(shared_axes=[1, 2])(y)
    y = layers.Conv2D(filters, 3, padding="same")(y)
    y = layers.BatchNormalization(momentum=0.5)(y)
    x = layers.Add()([x, y])
  x = layers.Conv2D(filters, 3, padding="same")(x)
  x = layers.BatchNormalization()(x)
  x = layers.Add()([head, x])
  x = layers.Conv2D(filters * 4, 3, padding="same")(x)
  x = layers.UpSampling2D(3)(x)
  x = layers.LeakyReLU(0.2)(x)
  return tf_keras.Model(lr, layers.Conv2D(n_bands, 9, padding="same", activation="tanh")(x))


def test_original_weights_give_the_original_outputs(tmp_path, rng):
  original = _original_generator()
  for layer in original.layers:   # trained-looking batch-norm statistics, not the initial zeros and ones
    if isinstance(layer, tf_keras.layers.BatchNormalization):
      mean, var = layer.moving_mean.shape, layer.moving_variance.shape
      layer.moving_mean.assign(rng.normal(0, 0.1, mean).astype(np.float32))
      layer.moving_variance.assign(rng.uniform(0.5, 1.5, var).astype(np.float32))
  path = str(tmp_path / "model_weights.h5")
  original.save_weights(path)
  model = load_original_generator(path)
  lr = rng.uniform(0, 0.4, (1, 10, 12, 3)).astype(np.float32)
  expected = (original(lr, training=False).numpy() + 1) / 2
  np.testing.assert_allclose(model(lr, training=False).numpy(), expected, atol=1e-4)


def test_a_file_of_another_model_is_named(tmp_path):
  path = str(tmp_path / "other.h5")
  other = tf_keras.Sequential([tf_keras.layers.Input((None, None, 3)), tf_keras.layers.Conv2D(4, 3)])
  other.save_weights(path)
  with pytest.raises(ValueError, match="does not hold an SRGAN generator for 3 bands at scale 3"):
    load_original_generator(path)
