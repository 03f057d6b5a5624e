"""The one Landsat-like degradation of 10 m imagery to 30 m, in TensorFlow (graph-compatible, per example or batch).

Place in the DAG:
- PatchExampleGen (source=demo) stores each 10 m target with the 30 m input of the REFERENCE degradation;
- the Trainer's input pipeline (models.input_pipeline) degrades every training batch again on the fly, each target
  with its own parameters drawn from the ranges of the sensors it trains for (`random_degradation`), and moves the
  target with its input's misregistration, so that the pair stays co-registered; for real pairs
  (earthengine, rasters) it adds a sensor's noise and quantisation to the real input (`random_sensor_noise`);
- ImageEvaluator scores the test split under the fixed, seeded variants (`variant_inputs`).
The parameters and their ranges are in redes.landsat_sensors.

One Landsat image of the scene (Wald's protocol, in reflectance):
    lr = quantise(gain * blockmean_s(shift(psf(hr))) + offset + noise, step)
- psf and shift: a Gaussian of width `psf_sigma` centred (dy, dx) 10 m pixels away, one separable kernel, so a
  sub-pixel misregistration interpolates nothing;
- blockmean_s: the mean of each s x s block; low-resolution pixel (i, j) covers rows s*i .. s*i+s-1;
- gain and offset (per band): what is left of the radiometric difference between a Landsat sensor and MSI;
- noise: white Gaussian, standard deviation `noise`; step: the reflectance step of the sensor's quantisation (both
  left out of a CLEAN_FRACTION of the training draws).
"""
import math
import zlib

import tensorflow as tf

from redes.landsat_sensors import (CLEAN_FRACTION, MAX_SHIFT_LR_PIXELS, PSF_SIGMA_MAX, REFERENCE, VARIANTS,
                                   Degradation)
from redes.resampling import block_mean

# Taps on each side of the kernel: four sigmas of the widest PSF beyond the largest shift (at scale 3).
KERNEL_RADIUS = math.ceil(4 * PSF_SIGMA_MAX + 3 * MAX_SHIFT_LR_PIXELS)
SHIFT_PAD = 8   # 10 m pixels of symmetric padding around a moved target: beyond the largest shift at scale 4 (2 px)


def _batched(value, shape):
  """A parameter shared by the batch or given per image, as a float32 tensor of `shape` ([b], [b, 2] for shifts,
  [b, c] per band)."""
  return tf.broadcast_to(tf.cast(value, tf.float32), shape)


def _axis_kernels(sigma, shift):
  """Normalised 1-D Gaussians of widths sigma [b] centred `shift` [b] taps from the middle: [b, 2 R + 1]."""
  taps = tf.range(-KERNEL_RADIUS, KERNEL_RADIUS + 1, dtype=tf.float32)
  weights = tf.exp(-0.5 * tf.square((taps[None, :] - shift[:, None]) / tf.maximum(sigma, 1e-3)[:, None]))
  return weights / tf.reduce_sum(weights, axis=1, keepdims=True)


def _depthwise(images, kernels, axis: int):
  """Each image of [b, h, w, c] filtered along `axis` (1: rows, 2: columns) by its own kernel of [b, taps], in one
  depthwise convolution over the images stacked as channels."""
  batch, height, width, n_bands = tf.unstack(tf.shape(images))
  stacked = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [1, height, width, batch * n_bands])
  taps = tf.shape(kernels)[1]
  weights = tf.reshape(tf.repeat(tf.transpose(kernels), n_bands, axis=1), [taps, 1, batch * n_bands, 1])
  if axis == 2:
    weights = tf.transpose(weights, [1, 0, 2, 3])
  filtered = tf.nn.depthwise_conv2d(stacked, weights, [1, 1, 1, 1], "VALID")
  out_shape = tf.shape(filtered)
  return tf.transpose(tf.reshape(filtered, [out_shape[1], out_shape[2], batch, n_bands]), [2, 0, 1, 3])


def blur_and_shift(hr, psf_sigma, shift):
  """hr [b, h, w, c] through the shifted Gaussian PSF (symmetric padding at the borders, as scipy's 'reflect');
  psf_sigma and shift shared by the batch or one per image ([b], [b, 2])."""
  hr = tf.convert_to_tensor(hr, tf.float32)
  batch = tf.shape(hr)[0]
  sigma, shift = _batched(psf_sigma, [batch]), _batched(shift, [batch, 2])
  padded = tf.pad(hr, [[0, 0], [KERNEL_RADIUS] * 2, [KERNEL_RADIUS] * 2, [0, 0]], mode="SYMMETRIC")
  blurred = _depthwise(padded, _axis_kernels(sigma, shift[:, 0]), axis=1)
  return _depthwise(blurred, _axis_kernels(sigma, shift[:, 1]), axis=2)


def quantise(lr, step):
  """lr rounded to multiples of step (no rounding where step is 0)."""
  step = tf.cast(step, tf.float32)
  return tf.where(step > 0, tf.round(lr / tf.maximum(step, 1e-12)) * step, lr)


def degrade(hr, scale: int, degradation: Degradation = REFERENCE, noise=None):
  """The [b, h/s, w/s, c] (or [h/s, w/s, c]) 30 m input of a [b, h, w, c] (or [h, w, c]) 10 m image, h and w
  multiples of s. Each parameter of `degradation` is shared by the batch or given per image (a tensor with a
  leading batch dimension). noise: a standard normal field of the input's shape (default: drawn at random)."""
  hr = tf.convert_to_tensor(hr, tf.float32)
  single = hr.shape.rank == 3
  images = hr[None] if single else hr
  height, width, n_bands = images.shape[1], images.shape[2], images.shape[3]
  if height is not None and width is not None and (height % scale or width % scale):
    raise ValueError(f"image size {height}x{width} is not a multiple of the scale {scale}")
  batch = tf.shape(images)[0]
  lr = block_mean(blur_and_shift(images, degradation.psf_sigma, degradation.shift), scale)

  def per_image(value, per_band=False):
    if per_band and isinstance(value, (tuple, list)):
      value = value[:n_bands]                  # the variants give four bands' values
    return tf.reshape(_batched(value, [batch, n_bands] if per_band else [batch]), [batch, 1, 1, -1])
  lr = lr * per_image(degradation.gain, True) + per_image(degradation.offset, True)
  if not (isinstance(degradation.noise, (int, float)) and degradation.noise == 0):
    lr = lr + per_image(degradation.noise) * (tf.random.normal(tf.shape(lr)) if noise is None else
                                              tf.reshape(noise, tf.shape(lr)))
  lr = quantise(lr, per_image(degradation.step))
  return lr[0] if single else lr


def variant_inputs(hr, scale: int, variant: str, patch_ids) -> tf.Tensor:
  """The 30 m inputs of a batch of 10 m targets [b, h, w, c] under one of the VARIANTS, with noise seeded by the
  variant and each patch's id, so that every run scores the same inputs."""
  shape = [len(patch_ids), hr.shape[1] // scale, hr.shape[2] // scale, hr.shape[3]]
  noise = tf.stack([tf.random.stateless_normal(shape[1:], (zlib.crc32(variant.encode()), zlib.crc32(patch_id)))
                    for patch_id in patch_ids])
  return degrade(hr, scale, VARIANTS[variant], noise)


def _uniform(ranges, index, shape):
  """Uniform draws from ranges[index] = (low, high), ranges a [n, 2] table, index [b]: shape [b] or [b, c]."""
  low_high = tf.gather(tf.constant(ranges, tf.float32), index)
  low, high = low_high[:, 0], low_high[:, 1]
  if len(shape) == 2:
    low, high = low[:, None], high[:, None]
  return low + (high - low) * tf.random.uniform(shape)


def draw(sensors, n_bands: int, scale: int, batch: int) -> Degradation:
  """Random parameters for `batch` images, each of one of the sensors (chosen uniformly), a CLEAN_FRACTION of them
  without noise and quantisation: a Degradation of tensors with a leading batch dimension."""
  index = tf.random.uniform([batch], 0, len(sensors), tf.int32)
  noisy = tf.cast(tf.random.uniform([batch]) >= CLEAN_FRACTION, tf.float32)
  radius = MAX_SHIFT_LR_PIXELS * scale * tf.sqrt(tf.random.uniform([batch]))    # uniform over the disk
  angle = 2 * math.pi * tf.random.uniform([batch])
  return Degradation(
      psf_sigma=_uniform([s.psf_sigma for s in sensors], index, [batch]),
      shift=tf.stack([radius * tf.sin(angle), radius * tf.cos(angle)], axis=1),
      gain=_uniform([s.gain for s in sensors], index, [batch, n_bands]),
      offset=_uniform([s.offset for s in sensors], index, [batch, n_bands]),
      noise=noisy * _uniform([s.noise for s in sensors], index, [batch]),
      step=noisy * _uniform([s.step for s in sensors], index, [batch]))


def random_degradation(hr, scale: int, sensors):
  """(lr, target) of a batch of 10 m patches [b, k, k, c] (inside the tf.data graph): each lr degraded with
  parameters drawn from the ranges of one of `sensors`, each target the patch with its draw's gain and offset, so
  that a model keeps the input's radiometry and invents no sensor change, and moved by its draw's shift (`moved`), so
  that the misregistration varies where the 30 m pixels fall on the scene without moving the target away from its
  input: a target left in place would be up to half a 30 m pixel off its input, and, as no loss can search
  sub-pixel shifts, teach the model to blur (bench/robustness.py, side by side: +0.08 dB on the clean input and
  +0.09 under the softer PSF and the gain, the other variants within 0.04, against the target left in place with a
  loss searching whole-pixel shifts)."""
  batch, n_bands = tf.shape(hr)[0], hr.shape[-1]
  drawn = draw(sensors, n_bands, scale, batch)
  target = moved(hr, drawn.shift)
  return degrade(hr, scale, drawn), target * drawn.gain[:, None, None, :] + drawn.offset[:, None, None, :]


def moved(hr, shift):
  """[b, h, w, c] moved as blur_and_shift moves the scene (out[i] = hr[i + shift]) by shift [b, 2] 10 m pixels,
  through the Fourier shift theorem, so a sub-pixel shift adds no interpolation blur; the image is padded
  symmetrically by SHIFT_PAD pixels first, so that nothing wraps around into it."""
  hr = tf.convert_to_tensor(hr, tf.float32)
  padded = tf.pad(hr, [[0, 0], [SHIFT_PAD] * 2, [SHIFT_PAD] * 2, [0, 0]], mode="SYMMETRIC")
  height, width = tf.shape(padded)[1], tf.shape(padded)[2]
  fy, fx = _frequencies(height), _frequencies(width)
  shift = _batched(shift, [tf.shape(hr)[0], 2])
  # [b, 1, 1] by reshaping: slices with new axes (shift[:, 0, None, None]) lost those axes inside a tf.function
  # whose shift was stacked in the same graph (Grappler).
  dy, dx = tf.reshape(shift[:, 0], [-1, 1, 1]), tf.reshape(shift[:, 1], [-1, 1, 1])
  phase = 2 * math.pi * (fy[None, :, None] * dy + fx[None, None, :] * dx)
  spectrum = tf.signal.fft2d(tf.cast(tf.transpose(padded, [0, 3, 1, 2]), tf.complex64))
  out = tf.math.real(tf.signal.ifft2d(spectrum * tf.exp(tf.complex(tf.zeros_like(phase), phase))[:, None]))
  return tf.transpose(out, [0, 2, 3, 1])[:, SHIFT_PAD:-SHIFT_PAD, SHIFT_PAD:-SHIFT_PAD, :]


def _frequencies(n):
  """The n frequencies of a length-n DFT, in cycles per pixel (numpy's fftfreq)."""
  k = tf.range(n)
  return tf.cast(tf.where(k < (n + 1) // 2, k, k - n), tf.float32) / tf.cast(n, tf.float32)


def random_sensor_noise(lr, sensors):
  """A batch of real 30 m inputs [b, k/s, k/s, c], each with the noise and quantisation of one of `sensors` (all
  but a CLEAN_FRACTION of them, left as they are)."""
  drawn = draw(sensors, lr.shape[-1], 1, tf.shape(lr)[0])
  noise, step = drawn.noise[:, None, None, None], drawn.step[:, None, None, None]
  return quantise(lr + noise * tf.random.normal(tf.shape(lr)), step)
