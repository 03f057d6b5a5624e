"""Generators: reflectance [b, h, w, bands] in, reflectance [b, s*h, s*w, bands] out, any h and w.

- `residual`: the default. Every convolution runs at low resolution; a pixel shuffle upsamples the learned
  residual, which is added to a bicubic upsampling of the input (global skip). The last convolution starts at
  zero, so an untrained model is exactly bicubic.
- `srgan`: the original system's SRGAN generator (9x9 head, 16 residual blocks with batch norm and PReLU,
  conv-upsampling, 9x9 tail, tanh), wrapped so that it too takes and returns reflectance.
Either can end with the reflectance constraint (models.layers.ReflectanceConstraint): the output averaged back
to the input's pixels equals the input. `norm_range` (the original's parameter) sets how the input reflectance is
scaled for the first convolution: "standardize" (per band, with the training split's mean and standard deviation),
"0,1" (as it is) or "-1,1" (2 x - 1).
"""
import keras
import numpy as np
from keras import layers

from models.choices import GENERATORS, NORM_RANGES
from models.layers import BicubicUpsample, PixelShuffle, ReflectanceConstraint



def _scale_input(x, norm_range: str, mean, std):
  if norm_range == "standardize":
    return layers.Normalization(mean=np.asarray(mean, np.float32), variance=np.square(std, dtype=np.float32),
                                name="standardize")(x)
  if norm_range == "-1,1":
    return layers.Rescaling(2.0, offset=-1.0, name="to_minus_one_one")(x)
  if norm_range == "0,1":
    return x
  raise ValueError(f"unknown norm_range {norm_range!r}; expected one of {list(NORM_RANGES)}")


def residual_generator(n_bands: int, scale: int, mean, std, filters: int = 32, blocks: int = 4,
                       norm_range: str = "standardize") -> keras.Model:
  lr = keras.Input((None, None, n_bands), name="lr")
  x = _scale_input(lr, norm_range, mean, std)
  x = head = layers.Conv2D(filters, 3, padding="same", name="head")(x)
  for i in range(blocks):
    y = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{i}_conv1")(x)
    y = layers.Conv2D(filters, 3, padding="same", name=f"block{i}_conv2")(y)
    x = layers.Add(name=f"block{i}_add")([x, y])
  x = layers.Add(name="body_skip")([x, head])
  x = layers.Conv2D(n_bands * scale * scale, 3, padding="same", kernel_initializer="zeros", name="to_subpixels")(x)
  residual = layers.Rescaling(np.asarray(std, np.float32), name="unstandardize")(PixelShuffle(scale)(x))
  sr = layers.Add(name="sr")([BicubicUpsample(scale, name="bicubic")(lr), residual])
  return keras.Model(lr, sr, name="residual_generator")


def srgan_generator(n_bands: int, scale: int, filters: int = 64, blocks: int = 16, norm_range: str = "0,1",
                    mean=None, std=None) -> keras.Model:
  """The original's SRGAN generator (about 1.45 M parameters for RGB at scale 3); input and output reflectance."""
  lr = keras.Input((None, None, n_bands), name="lr")
  x = layers.Conv2D(filters, 9, padding="same", name="head")(_scale_input(lr, norm_range, mean, std))
  x = head = layers.PReLU(shared_axes=[1, 2])(x)
  for i in range(blocks):
    y = layers.Conv2D(filters, 3, padding="same", name=f"res{i}_conv1")(x)
    y = layers.BatchNormalization(momentum=0.5)(y)
    y = layers.PReLU(shared_axes=[1, 2])(y)
    y = layers.Conv2D(filters, 3, padding="same", name=f"res{i}_conv2")(y)
    y = layers.BatchNormalization(momentum=0.5)(y)
    x = layers.Add()([x, y])
  x = layers.Conv2D(filters, 3, padding="same")(x)
  x = layers.BatchNormalization(momentum=0.5)(x)
  x = layers.Add()([head, x])
  x = layers.Conv2D(filters * 4, 3, padding="same")(x)
  x = layers.UpSampling2D(scale)(x)
  x = layers.LeakyReLU(0.2)(x)
  x = layers.Conv2D(n_bands, 9, padding="same", activation="tanh")(x)
  sr = layers.Rescaling(0.5, offset=0.5, name="sr")(x)  # tanh [-1, 1] -> reflectance [0, 1]
  return keras.Model(lr, sr, name="srgan_generator")


def build_generator(name: str, n_bands: int, scale: int, mean, std, reflectance_constraint: bool = False,
                    norm_range: str = "standardize") -> keras.Model:
  if name == "residual":
    model = residual_generator(n_bands, scale, mean, std, norm_range=norm_range)
  elif name == "srgan":
    model = srgan_generator(n_bands, scale, norm_range=norm_range, mean=mean, std=std)
  else:
    raise ValueError(f"unknown generator {name!r}; expected one of {list(GENERATORS)}")
  if not reflectance_constraint:
    return model
  constrained = ReflectanceConstraint(scale, name="reflectance_constraint")([model.input, model.output])
  return keras.Model(model.input, constrained, name=f"{model.name}_constrained")
