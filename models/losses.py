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

from models.choices import PIXEL_LOSSES
from redes.evaluation.metrics import BORDER, shifted_differences, spectral_angles

REFLECTANCE_TO_8BIT = 255.0 / 0.3
VGG_FEATURE_SCALE = 1.0 / 12.75


def pixel_loss(name: str, max_shift: int = 0, bias_tolerant: bool = False):
  """L1 or MSE; with max_shift, shift-tolerant: per image, the smallest loss over integer shifts of the output
  within max_shift pixels (redes.evaluation.metrics.shifted_differences), after removing the mean brightness difference
  per band when bias_tolerant (the PROBA-V challenge's cL1 / cMSE), for pairs with a residual misregistration."""
  penalties = dict(zip(PIXEL_LOSSES, (tf.abs, tf.square)))
  if name not in penalties:
    raise ValueError(f"unknown pixel loss {name!r}; expected one of {', '.join(PIXEL_LOSSES)}")
  if not max_shift:
    return {"l1": keras.losses.MeanAbsoluteError(), "mse": keras.losses.MeanSquaredError()}[name]
  penalty = penalties[name]
  border = max(BORDER, max_shift)
  shifts = tf.constant([(u, v) for u in range(-max_shift, max_shift + 1) for v in range(-max_shift, max_shift + 1)])

  def unbiased(difference):
    return difference - tf.reduce_mean(difference, axis=[1, 2], keepdims=True) if bias_tolerant else difference

  def shift_tolerant(hr, sr):
    hr, sr = tf.cast(hr, tf.float32), tf.cast(sr, tf.float32)
    # The best shift of each image is found without gradients; the loss is then the output's inner window against
    # the target's window moved by that shift (a gather of the target, which needs no gradient).
    per_shift = tf.stack([tf.reduce_mean(penalty(unbiased(d)), axis=[1, 2, 3])
                          for d in shifted_differences(hr, tf.stop_gradient(sr), border, max_shift)])
    best = tf.gather(shifts, tf.argmin(per_shift, axis=0))                       # [b, 2]
    inner = sr[:, border:-border, border:-border, :]
    rows = border - best[:, :1] + tf.range(tf.shape(inner)[1])[None, :]
    cols = border - best[:, 1:] + tf.range(tf.shape(inner)[2])[None, :]
    target = tf.gather(tf.gather(hr, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    return tf.reduce_mean(penalty(unbiased(target - inner)))
  return shift_tolerant


def spectral_angle(hr, sr):
  """Mean spectral angle between [b, h, w, bands] images, radians (redes.evaluation.metrics.spectral_angles)."""
  return tf.reduce_mean(spectral_angles(hr, sr, margin=1e-6))


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
