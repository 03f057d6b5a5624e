"""The two resamplings between a fine and a coarse grid (10 m and 30 m at scale 3), in TensorFlow, used wherever the
grids meet: the s x s block mean (a Landsat pixel over the Sentinel-2 pixels it covers: the degradation, the
consistency metric, the reflectance constraint) and bicubic upsampling with half-pixel centres, aligned with it (the
bicubic baseline, the generators' global skip, the invented-texture measure). Images are [b, h, w, bands]."""
import tensorflow as tf


def block_mean(images, scale: int):
  """The mean of each scale x scale block: [b, h, w, c] -> [b, h / scale, w / scale, c]."""
  return tf.nn.avg_pool2d(images, scale, scale, "VALID")


def bicubic_upsample(images, scale: int):
  """Bicubic resize by an integer factor: [b, h, w, c] -> [b, scale h, scale w, c]."""
  return tf.image.resize(images, tf.shape(images)[1:3] * scale, method="bicubic")
