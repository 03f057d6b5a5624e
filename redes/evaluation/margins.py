"""The pixels the image metrics leave out at the edges and need inside (redes.evaluation.metrics), without
TensorFlow, so that the flags can refuse a patch size the evaluator cannot score before any work."""

BORDER = 6       # output pixels left out at each edge (2 low-resolution pixels at scale 3)
MAX_SHIFT = 2    # 10 m pixels searched in each direction by cPSNR (and the Trainer's shift-tolerant loss)
SSIM_SIZE = 11   # side of SSIM's Gaussian window


def min_patch_size(scale: int) -> int:
  """The smallest patch side, a multiple of scale, that leaves SSIM's window inside the border."""
  return -(-(2 * BORDER + SSIM_SIZE) // scale) * scale
