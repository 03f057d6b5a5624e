"""Image-quality metrics on reflectance (0..1), per image, with a border of `border` pixels left out:
PSNR (dB, peak 1.0), SSIM, SAM (mean spectral angle, degrees), ERGAS (relative dimensionless global error, with
the resolution ratio 1/scale), consistency (L1 between the output averaged back to the input grid and the input),
cPSNR (the PROBA-V challenge's PSNR after the best integer shift within `max_shift` pixels and the removal of the
mean brightness bias per band, for pairs that are never perfectly registered) and the high-frequency energy on the
reference's flattest pixels (its ratio to the reference's own is the invented texture, see texture_energy).

The Trainer logs PSNR with them; ImageEvaluator scores every model on the test split with all of them.
"""
import tensorflow as tf

from redes.evaluation.margins import BORDER, MAX_SHIFT, SSIM_SIZE
from redes.resampling import bicubic_upsample, block_mean

FLAT_FRACTION = 0.25  # share of a reference's pixels, the flattest, on which texture is measured


def _crop(images, border):
  return images[:, border:-border, border:-border, :] if border else images


def psnr(reference, estimate, border: int = BORDER):
  """Per-image PSNR in dB, [b]."""
  return tf.image.psnr(_crop(reference, border), _crop(estimate, border), max_val=1.0)


def ssim(reference, estimate, border: int = BORDER):
  """Per-image SSIM, [b] (Gaussian window SSIM_SIZE, sigma 1.5; the mean over bands)."""
  return tf.image.ssim(_crop(reference, border), _crop(estimate, border), max_val=1.0, filter_size=SSIM_SIZE)


def spectral_angles(reference, estimate, margin: float = 0.0):
  """Per-pixel angle between the spectra of [b, h, w, bands] images, radians, [b, h, w] (0 where either vector is
  zero). margin keeps the cosine that far inside [-1, 1], so that a loss has finite gradients."""
  dot = tf.reduce_sum(reference * estimate, axis=-1)
  norms = tf.norm(reference, axis=-1) * tf.norm(estimate, axis=-1)
  cosine = tf.clip_by_value(tf.math.divide_no_nan(dot, norms), -1.0 + margin, 1.0 - margin)
  return tf.where(norms > 0, tf.acos(cosine), tf.zeros_like(cosine))


def sam_degrees(reference, estimate, border: int = BORDER):
  """Per-image mean spectral angle in degrees, [b]."""
  angles = spectral_angles(_crop(reference, border), _crop(estimate, border))
  return tf.reduce_mean(angles, axis=[1, 2]) * (180.0 / 3.141592653589793)


def ergas(reference, estimate, border: int = BORDER, scale: int = 3):
  """Per-image ERGAS, [b]: 100 / scale * sqrt(mean over bands of (RMSE_band / mean_band)^2)."""
  ref, est = _crop(reference, border), _crop(estimate, border)
  rmse = tf.sqrt(tf.reduce_mean(tf.square(ref - est), axis=[1, 2]))
  mean = tf.reduce_mean(ref, axis=[1, 2])
  return 100.0 / scale * tf.sqrt(tf.reduce_mean(tf.square(tf.math.divide_no_nan(rmse, mean)), axis=-1))


def consistency_l1(lr, estimate, scale: int = 3, border: int = BORDER):
  """Per-image mean |block mean of the estimate over scale x scale pixels - input|, [b], in reflectance units.

  Zero when the output, averaged back to the input's resolution, reproduces the input exactly."""
  averaged = block_mean(estimate, scale)
  lr_border = border // scale
  return tf.reduce_mean(tf.abs(_crop(averaged, lr_border) - _crop(lr, lr_border)), axis=[1, 2, 3])


def shifted_differences(reference, estimate, border: int = BORDER, max_shift: int = MAX_SHIFT):
  """reference minus estimate on the reference's inner window, for every integer shift (u, v) of the estimate
  with |u|, |v| <= max_shift: a list of [b, h - 2 border, w - 2 border, c]."""
  if border < max_shift:
    raise ValueError(f"border {border} is smaller than the shift searched, {max_shift}")
  inner = _crop(reference, border)
  height, width = tf.shape(inner)[1], tf.shape(inner)[2]
  return [inner - estimate[:, border + u:border + u + height, border + v:border + v + width, :]
          for u in range(-max_shift, max_shift + 1) for v in range(-max_shift, max_shift + 1)]


def cpsnr(reference, estimate, border: int = BORDER, max_shift: int = MAX_SHIFT):
  """Per-image cPSNR in dB, [b]: the best PSNR over integer shifts of the estimate, each after the mean difference
  of every band (brightness bias) is removed."""
  errors = []
  for difference in shifted_differences(reference, estimate, border, max_shift):
    unbiased = difference - tf.reduce_mean(difference, axis=[1, 2], keepdims=True)
    errors.append(tf.reduce_mean(tf.square(unbiased), axis=[1, 2, 3]))
  return -10.0 * tf.math.log(tf.maximum(tf.reduce_min(tf.stack(errors), axis=0), 1e-12)) / tf.math.log(10.0)


def high_frequency(images, scale: int = 3):
  """What a grid `scale` times coarser cannot hold: images minus the bicubic upsampling of their block means."""
  return images - bicubic_upsample(block_mean(images, scale), scale)


def flat_pixels(reference, fraction: float = FLAT_FRACTION):
  """[b, h, w, 1] mask of the `fraction` of each reference image's pixels with the weakest local gradient (band
  mean, gradient magnitude averaged over 5 x 5 pixels)."""
  gray = tf.reduce_mean(reference, axis=-1, keepdims=True)
  dy, dx = tf.image.image_gradients(gray)
  local = tf.nn.avg_pool2d(tf.sqrt(tf.square(dy) + tf.square(dx)), 5, 1, "SAME")
  flat = tf.reshape(local, [tf.shape(local)[0], -1])
  index = tf.cast(tf.cast(tf.shape(flat)[1], tf.float32) * fraction, tf.int32)
  threshold = tf.sort(flat, axis=1)[:, index]
  return tf.cast(local <= threshold[:, None, None, None], tf.float32)


def texture_energy(reference, estimate, border: int = BORDER, scale: int = 3):
  """Per-image mean high-frequency energy of the estimate (summed over bands) on the reference's flattest pixels,
  [b]. The invented texture of a model is its energy over the reference's own (texture_energy(ref, ref)), pooled
  over images: above 1, the model puts texture where the reference is flat."""
  mask = _crop(flat_pixels(reference), border)
  energy = tf.reduce_sum(tf.square(_crop(high_frequency(estimate, scale), border)), axis=-1, keepdims=True)
  return tf.reduce_sum(energy * mask, axis=[1, 2, 3]) / tf.maximum(tf.reduce_sum(mask, axis=[1, 2, 3]), 1.0)


def image_metrics(lr, hr, estimate, scale: int = 3, border: int = BORDER) -> dict:
  """Every metric of one batch of estimates, {name: [b]}; lower is better for sam, ergas and consistency."""
  estimate = tf.clip_by_value(tf.cast(estimate, tf.float32), 0.0, 1.0)
  return {"psnr": psnr(hr, estimate, border), "ssim": ssim(hr, estimate, border),
          "sam": sam_degrees(hr, estimate, border), "ergas": ergas(hr, estimate, border, scale),
          "consistency": consistency_l1(lr, estimate, scale, border), "cpsnr": cpsnr(hr, estimate, border),
          "texture_energy": texture_energy(hr, estimate, border, scale)}
