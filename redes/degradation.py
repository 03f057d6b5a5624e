"""Landsat-like degradation of 10 m imagery to 30 m (Wald's protocol), used to build training pairs.

The 30 m input is made from the real 10 m Sentinel-2 target on the same grid: a Gaussian point-spread blur
(sigma in 10 m pixels, about the width of the Landsat OLI MTF at Nyquist), then the mean of each s x s block.
Block means keep the grid aligned: low-resolution pixel (i, j) covers high-resolution rows s*i .. s*i+s-1.
"""
import numpy as np
from scipy import ndimage

PSF_SIGMA_HR_PIXELS = 1.2


def degrade(hr: np.ndarray, scale: int, psf_sigma: float = PSF_SIGMA_HR_PIXELS) -> np.ndarray:
  """Returns the [H/s, W/s, C] low-resolution image of an [H, W, C] image (H and W multiples of s)."""
  height, width, bands = hr.shape
  if height % scale or width % scale:
    raise ValueError(f"image size {height}x{width} is not a multiple of the scale {scale}")
  blurred = ndimage.gaussian_filter(hr.astype(np.float32), sigma=(psf_sigma, psf_sigma, 0), mode="reflect")
  return blurred.reshape(height // scale, scale, width // scale, scale, bands).mean(axis=(1, 3))
