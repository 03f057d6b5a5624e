"""Image-quality metrics on reflectance (0..1), per image, with a border of `border` pixels left out:
PSNR (dB, peak 1.0), SSIM, SAM (mean spectral angle, degrees), ERGAS (relative dimensionless global error, with
the resolution ratio 1/scale) and consistency (L1 between the output averaged back to the input grid and the input).

The Trainer logs PSNR with them; ImageEvaluator scores every model on the test split with all of them.
"""
import tensorflow as tf

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


def consistency_l1(lr, estimate, scale: int = 3, border: int = BORDER):
  """Per-image mean |block mean of the estimate over scale x scale pixels - input|, [b], in reflectance units.

  Zero when the output, averaged back to the input's resolution, reproduces the input exactly."""
  averaged = tf.nn.avg_pool2d(estimate, scale, scale, "VALID")
  lr_border = border // scale
  return tf.reduce_mean(tf.abs(_crop(averaged, lr_border) - _crop(lr, lr_border)), axis=[1, 2, 3])


def image_metrics(lr, hr, estimate, scale: int = 3, border: int = BORDER) -> dict:
  """Every metric of one batch of estimates, {name: [b]}; lower is better for sam, ergas and consistency."""
  estimate = tf.clip_by_value(tf.cast(estimate, tf.float32), 0.0, 1.0)
  return {"psnr": psnr(hr, estimate, border), "ssim": ssim(hr, estimate, border),
          "sam": sam_degrees(hr, estimate, border), "ergas": ergas(hr, estimate, border, scale),
          "consistency": consistency_l1(lr, estimate, scale, border)}
