"""Losses of the Trainer: pixel losses (stage 1) and the GAN stage's content and adversarial losses.

Content loss, GAN stage: with local VGG19 weights (`vgg_weights`, a Keras weights file; nothing is downloaded),
the mean squared difference of VGG19 block5_conv4 features (VGG54) of the red/green/blue bands, fed as VGG expects:
reflectance stretched to 0..255 (0.3 reflectance -> 255), channels in BGR order with the ImageNet means subtracted
(keras.applications.vgg19.preprocess_input), scaled by 1/12.75 as in SRGAN. Without VGG weights: L1 plus the mean
spectral angle (radians), so the GAN stage cannot drift in colour.
"""
import os

import keras
import tensorflow as tf

REFLECTANCE_TO_8BIT = 255.0 / 0.3
VGG_FEATURE_SCALE = 1.0 / 12.75


def pixel_loss(name: str):
  losses = {"l1": keras.losses.MeanAbsoluteError(), "mse": keras.losses.MeanSquaredError()}
  if name not in losses:
    raise ValueError(f"unknown pixel loss {name!r}; expected l1 or mse")
  return losses[name]


def spectral_angle(hr, sr):
  """Mean spectral angle between [b, h, w, bands] images, radians."""
  dot = tf.reduce_sum(hr * sr, axis=-1)
  norms = tf.norm(hr, axis=-1) * tf.norm(sr, axis=-1) + 1e-8
  return tf.reduce_mean(tf.acos(tf.clip_by_value(dot / norms, -1.0 + 1e-6, 1.0 - 1e-6)))


class VGG54:
  """VGG19 block5_conv4 feature distance on the RGB bands (band order: red, green, blue first)."""

  def __init__(self, weights_path: str):
    if not os.path.isfile(weights_path):
      raise FileNotFoundError(f"VGG19 weights file {weights_path!r} does not exist; give a local Keras VGG19 "
                              "(include_top=False) weights file, or leave --vgg-weights empty for L1 + SAM")
    vgg = keras.applications.VGG19(include_top=False, weights=weights_path, input_shape=(None, None, 3))
    vgg.trainable = False
    self.features = keras.Model(vgg.input, vgg.get_layer("block5_conv4").output)

  def _features(self, images):
    rgb = tf.clip_by_value(images[..., :3] * REFLECTANCE_TO_8BIT, 0.0, 255.0)
    return self.features(keras.applications.vgg19.preprocess_input(rgb)) * VGG_FEATURE_SCALE

  def __call__(self, hr, sr):
    return tf.reduce_mean(tf.square(self._features(hr) - self._features(sr)))


def content_loss(vgg_weights: str = ""):
  """The GAN stage's content loss: VGG54 with local weights, otherwise L1 + spectral angle."""
  if vgg_weights:
    return VGG54(vgg_weights)
  l1 = keras.losses.MeanAbsoluteError()
  return lambda hr, sr: l1(hr, sr) + spectral_angle(hr, sr)
