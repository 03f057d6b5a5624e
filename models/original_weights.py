"""Loads the original system's SRGAN generator weights (`model_weights.h5`, saved by Keras 2 with save_weights)
into the matching architecture here (models.generators.srgan_generator with norm_range "0,1": same layers in the
same order; only its output is mapped from tanh's -1..1 to reflectance 0..1). The Trainer starts from them with
`--init-weights` (`--model srgan --norm-range 0,1`); the flags check the file before any work."""
import os

from models.generators import srgan_generator


def load_original_weights(model, weights_path: str, n_bands: int, scale: int) -> None:
  """Loads the original's weights into an SRGAN generator built here; a one-line error when the file does not
  match."""
  if not os.path.isfile(weights_path):
    raise FileNotFoundError(f"original generator weights {weights_path!r} do not exist")
  try:
    model.load_weights(weights_path)
  except ValueError as err:
    raise ValueError(f"{weights_path} does not hold an SRGAN generator for {n_bands} bands at scale {scale}: "
                     f"{str(err).splitlines()[0]}") from None


def load_original_generator(weights_path: str, n_bands: int = 3, scale: int = 3):
  """The SRGAN generator with the original's trained weights."""
  model = srgan_generator(n_bands, scale)
  load_original_weights(model, weights_path, n_bands, scale)
  return model
