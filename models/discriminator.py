"""The SRGAN discriminator for the GAN stage, for any patch size and band count.

The original's eight conv blocks (64..512 filters, strides alternating 1 and 2, batch norm, LeakyReLU 0.2); the
original then flattened a fixed 192x192 input into a 1024-unit dense layer (~75 M parameters). Here a global
average pooling replaces the flattening, so any patch size works with ~4.7 M parameters; the head is Dense 1024,
LeakyReLU, Dense 1 giving a logit (pair it with a from-logits loss).
"""
import keras
from keras import layers

_BLOCKS = ((64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2))


def discriminator(n_bands: int) -> keras.Model:
  hr = keras.Input((None, None, n_bands), name="hr")
  x = layers.Rescaling(2.0, offset=-1.0)(hr)   # reflectance 0..1 -> -1..1
  for i, (filters, stride) in enumerate(_BLOCKS):
    x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"conv{i}")(x)
    if i:
      x = layers.BatchNormalization(momentum=0.8)(x)
    x = layers.LeakyReLU(0.2)(x)
  x = layers.GlobalAveragePooling2D()(x)
  x = layers.Dense(1024)(x)
  x = layers.LeakyReLU(0.2)(x)
  return keras.Model(hr, layers.Dense(1, name="logit")(x), name="discriminator")
