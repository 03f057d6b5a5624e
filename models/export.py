"""Export contract of every model Redes serves (trained generators and the bicubic baseline).

Signatures of the SavedModel:
- `serving_default`: serialized tf.Example [b] (features of redes.features) -> {"sr_reflectance": [b, k, k, bands]}
- `enhance`: float32 reflectance [b, h, w, bands], any h and w -> {"sr_reflectance": [b, s*h, s*w, bands]}
Outputs are clipped to the reflectance range 0..1. `redes_model.json` beside the SavedModel records the bands,
scaling factor and kernel size, so that consumers (Evaluator, TileGen) can check what they feed it, and
`trained_for`: the degradation and the Landsat sensors (with their ranges) a trained model was made for
(redes.landsat_sensors.training_record; absent for the bicubic baseline, which holds for any input). The file's
contract, and the reading of it, are the core's (redes.model_info).
"""
import tensorflow as tf

from redes import features
from redes.model_info import OUTPUT_KEY, ModelInfo, write_model_info


class _Served(tf.Module):

  def __init__(self, upsample, trackable, bands, patch_size: int, scale: int):
    super().__init__()
    self._upsample = upsample
    self.trackable = trackable
    n_bands = len(bands)
    lr_spec = {features.LR_KEY: features.image_feature_spec(patch_size, scale, n_bands)[features.LR_KEY]}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, n_bands], tf.float32, name="lr")])
    def enhance(lr):
      return {OUTPUT_KEY: tf.clip_by_value(self._upsample(lr), 0.0, 1.0)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
      parsed = tf.io.parse_example(serialized, lr_spec)
      return enhance(parsed[features.LR_KEY])

    self.enhance = enhance
    self.serve_examples = serve_examples


def export_model(upsample, export_dir: str, bands, patch_size: int, scale: int, name: str, trackable=None,
                 trained_for: dict | None = None):
  """Writes a SavedModel whose `enhance` runs `upsample` (a callable on [b, h, w, bands] reflectance)."""
  served = _Served(upsample, trackable, bands, patch_size, scale)
  tf.saved_model.save(served, export_dir,
                      signatures={"serving_default": served.serve_examples, "enhance": served.enhance})
  write_model_info(export_dir, ModelInfo(name, tuple(bands), scale, patch_size, trained_for))
