"""Small Keras layers shared by the generators: bicubic upsampling, pixel shuffle, reflectance constraint."""
import keras
import tensorflow as tf

from redes.resampling import bicubic_upsample, block_mean


@keras.saving.register_keras_serializable(package="redes")
class BicubicUpsample(keras.layers.Layer):
  """Bicubic resize by an integer factor with half-pixel centres (aligned with s x s block averaging)."""

  def __init__(self, scale: int, **kwargs):
    super().__init__(**kwargs)
    self.scale = scale

  def call(self, x):
    return bicubic_upsample(x, self.scale)

  def get_config(self):
    return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="redes")
class PixelShuffle(keras.layers.Layer):
  """Rearranges [b, h, w, c*s*s] into [b, h*s, w*s, c] (sub-pixel convolution upsampling)."""

  def __init__(self, scale: int, **kwargs):
    super().__init__(**kwargs)
    self.scale = scale

  def call(self, x):
    return tf.nn.depth_to_space(x, self.scale)

  def get_config(self):
    return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="redes")
class ReflectanceConstraint(keras.layers.Layer):
  """Makes the output's s x s block means equal the input exactly: sr + upsample(lr - blockmean(sr)).

  The super-resolved image then keeps the input's reflectance at 30 m (no radiometric drift); only the detail
  inside each 30 m pixel is the model's.
  """

  def __init__(self, scale: int, **kwargs):
    super().__init__(**kwargs)
    self.scale = scale

  def call(self, inputs):
    lr, sr = inputs
    s = self.scale
    averaged = block_mean(sr, s)
    correction = tf.repeat(tf.repeat(lr - averaged, s, axis=1), s, axis=2)
    return sr + correction

  def get_config(self):
    return {**super().get_config(), "scale": self.scale}
