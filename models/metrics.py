"""Image-quality metrics on reflectance (0..1), per image, with a border of `border` pixels left out:
PSNR (dB, peak 1.0), SSIM, SAM (mean spectral angle, degrees) and ERGAS (relative dimensionless global error,
with the resolution ratio 1/scale).

The tf_keras metric classes are what TFMA (the Evaluator) runs; TFMA hands labels flat, so they are reshaped to
the prediction's shape. State is kept as sums so TFMA can add it across batches.
"""
import tensorflow as tf
import tf_keras

BORDER = 6  # output pixels left out at each edge (2 low-resolution pixels at scale 3)


def _crop(images, border):
  return images[:, border:-border, border:-border, :] if border else images


def psnr(reference, estimate, border: int = BORDER):
  """Per-image PSNR in dB, [b]."""
  return tf.image.psnr(_crop(reference, border), _crop(estimate, border), max_val=1.0)


def ssim(reference, estimate, border: int = BORDER):
  """Per-image SSIM, [b] (Gaussian window 11, sigma 1.5; the mean over bands)."""
  return tf.image.ssim(_crop(reference, border), _crop(estimate, border), max_val=1.0)


def sam_degrees(reference, estimate, border: int = BORDER):
  """Per-image mean spectral angle in degrees, [b] (pixels where either vector is zero count as 0)."""
  ref, est = _crop(reference, border), _crop(estimate, border)
  dot = tf.reduce_sum(ref * est, axis=-1)
  norms = tf.norm(ref, axis=-1) * tf.norm(est, axis=-1)
  cosine = tf.clip_by_value(tf.math.divide_no_nan(dot, norms), -1.0, 1.0)
  angle = tf.where(norms > 0, tf.acos(cosine), tf.zeros_like(cosine))
  return tf.reduce_mean(angle, axis=[1, 2]) * (180.0 / 3.141592653589793)


def ergas(reference, estimate, border: int = BORDER, scale: int = 3):
  """Per-image ERGAS, [b]: 100 / scale * sqrt(mean over bands of (RMSE_band / mean_band)^2)."""
  ref, est = _crop(reference, border), _crop(estimate, border)
  rmse = tf.sqrt(tf.reduce_mean(tf.square(ref - est), axis=[1, 2]))
  mean = tf.reduce_mean(ref, axis=[1, 2])
  return 100.0 / scale * tf.sqrt(tf.reduce_mean(tf.square(tf.math.divide_no_nan(rmse, mean)), axis=-1))


class _MeanImageMetric(tf_keras.metrics.Metric):
  """Mean over images of a per-image metric; labels may arrive flattened."""

  fn = None

  def __init__(self, name=None, border: int = BORDER, **kwargs):
    super().__init__(name=name or self.default_name, **kwargs)
    self.border = border
    self.total = self.add_weight("total", initializer="zeros", dtype=tf.float64)
    self.count = self.add_weight("count", initializer="zeros", dtype=tf.float64)

  def update_state(self, y_true, y_pred, sample_weight=None):  # pylint: disable=arguments-differ
    y_pred = tf.clip_by_value(tf.cast(y_pred, tf.float32), 0.0, 1.0)
    y_true = tf.reshape(tf.cast(y_true, tf.float32), tf.shape(y_pred))
    values = tf.cast(type(self).fn(y_true, y_pred, self.border), tf.float64)
    self.total.assign_add(tf.reduce_sum(values))
    self.count.assign_add(tf.cast(tf.size(values), tf.float64))

  def result(self):
    return tf.math.divide_no_nan(self.total, self.count)

  def get_config(self):
    return {**super().get_config(), "border": self.border}


class PSNR(_MeanImageMetric):
  default_name = "psnr"
  fn = staticmethod(psnr)


class SSIM(_MeanImageMetric):
  default_name = "ssim"
  fn = staticmethod(ssim)


class SAM(_MeanImageMetric):
  default_name = "sam"
  fn = staticmethod(sam_degrees)


class ERGAS(_MeanImageMetric):
  default_name = "ergas"
  fn = staticmethod(ergas)
