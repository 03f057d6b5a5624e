"""The tf.Example contract between ExampleGen, StatisticsGen/SchemaGen, the Trainer and the Evaluator.

Every example is one co-registered patch pair over the same ground footprint:

| feature            | type        | shape / meaning                                                       |
|--------------------|-------------|-----------------------------------------------------------------------|
| `lr_reflectance`   | float_list  | [k/s, k/s, bands] 30 m surface reflectance (0..1), row-major, HWC      |
| `hr_reflectance`   | float_list  | [k, k, bands] 10 m surface reflectance (0..1), row-major, HWC          |
| `mean_<band>`      | float       | mean 10 m reflectance of the band over the patch (for TFDV)            |
| `valid_fraction`   | float       | share of 10 m pixels valid in every band (no no-data, no NaN)          |
| `center_lon`/`lat` | float       | patch centre in WGS84 degrees                                          |
| `patch_id`         | bytes       | unique within the dataset, see below                                   |

k is the patch size (high-resolution patch side, the original's `kernel_size`), s the scaling factor, bands the
band names in order.
patch_id: `<split>/y<row>x<col>` for the demo source (the patch's top-left pixel in the scene, 5 digits each) and
`<split>/<epsg>_<left>_<top>` for earthengine and rasters (its UTM zone and the footprint's corner in metres).
"""
import numpy as np

SOURCES = ("demo", "earthengine", "rasters")   # where PatchExampleGen's pairs come from
SPLITS = ("train", "eval", "test")             # the splits of every source, in this order
LR_KEY = "lr_reflectance"
HR_KEY = "hr_reflectance"
PATCH_ID_KEY = "patch_id"


def mean_key(band: str) -> str:
  return f"mean_{band}"


def lr_shape(patch_size: int, scale: int, n_bands: int) -> tuple[int, int, int]:
  return (patch_size // scale, patch_size // scale, n_bands)


def hr_shape(patch_size: int, n_bands: int) -> tuple[int, int, int]:
  return (patch_size, patch_size, n_bands)


def make_example(lr: np.ndarray, hr: np.ndarray, bands, valid_fraction: float, center_lon: float,
                 center_lat: float, patch_id: str):
  """Builds a tf.train.Example from one LR/HR patch pair (float32 arrays in HWC order)."""
  # pylint: disable-next=import-outside-toplevel  (TensorFlow takes seconds to load; the flags import this module)
  import tensorflow as tf

  def floats(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(values, np.float32).ravel()))

  feature = {LR_KEY: floats(lr), HR_KEY: floats(hr),
             "valid_fraction": floats([valid_fraction]),
             "center_lon": floats([center_lon]), "center_lat": floats([center_lat]),
             PATCH_ID_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[patch_id.encode()]))}
  for i, band in enumerate(bands):
    feature[mean_key(band)] = floats([float(hr[..., i].mean())])
  return tf.train.Example(features=tf.train.Features(feature=feature))


def image_feature_spec(patch_size: int, scale: int, n_bands: int) -> dict:
  """tf.io parsing spec of the two image features with their shapes."""
  # pylint: disable-next=import-outside-toplevel  (TensorFlow takes seconds to load; the flags import this module)
  import tensorflow as tf
  return {LR_KEY: tf.io.FixedLenFeature(lr_shape(patch_size, scale, n_bands), tf.float32),
          HR_KEY: tf.io.FixedLenFeature(hr_shape(patch_size, n_bands), tf.float32)}
