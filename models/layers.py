"""Small Keras layers shared by the generators: bicubic upsampling and pixel shuffle."""
import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="redes")
class BicubicUpsample(keras.layers.Layer):
  """Bicubic resize by an integer factor with half-pixel centres (aligned with s x s block averaging)."""

  def __init__(self, scale: int, **kwargs):
    super().__init__(**kwargs)
    self.scale = scale

  def call(self, x):
    size = tf.shape(x)[1:3] * self.scale
    return tf.image.resize(x, size, method="bicubic")

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
