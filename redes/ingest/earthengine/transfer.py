"""Pixel transfer from Earth Engine: ee.data.computePixels per patch grid, retried with backoff.

Each request asks for one footprint's pixels on an explicit grid (UTM CRS, affine transform, size), as a NumPy
array. Masked pixels arrive as NODATA and become NaN. HTTP 429 and 5xx answers and dropped connections are retried
with exponential backoff and jitter (the client's own retries are switched off so these are the only ones); other
errors fail at once. Parallelism and resuming are redes.ingest.pair_cache's.
"""
import logging
import random
import time

import numpy as np

NODATA = -9999.0
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def http_status(error) -> int | None:
  """The HTTP status behind an ee.EEException (the client chains the googleapiclient HttpError)."""
  cause = error.__cause__ or error.__context__
  status = getattr(getattr(cause, "resp", None), "status", None)
  return int(status) if status is not None else None


def with_retries(call, attempts: int = 6, base_delay: float = 1.0, max_delay: float = 32.0, sleep=time.sleep):
  """Runs call(); retries 429 and 5xx answers and dropped connections with exponential backoff and jitter."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  for attempt in range(attempts):
    try:
      return call()
    except (ee.EEException, ConnectionError, TimeoutError) as err:
      status = http_status(err) if isinstance(err, ee.EEException) else "a dropped connection"
      if status not in RETRYABLE_STATUS and not isinstance(err, (ConnectionError, TimeoutError)):
        raise
      if attempt == attempts - 1:
        raise
      delay = min(max_delay, base_delay * 2 ** attempt) * random.uniform(0.5, 1.0)
      logging.warning("Earth Engine answered %s; retry %d/%d in %.1f s", status, attempt + 1, attempts - 1, delay)
      sleep(delay)
  raise AssertionError("unreachable")


def affine_grid(crs_code: str, t, width: int, height: int) -> dict:
  """A computePixels grid: CRS, affine transform (a rasterio Affine), dimensions."""
  return {"dimensions": {"width": width, "height": height}, "crsCode": crs_code,
          "affineTransform": {"scaleX": t.a, "shearX": t.b, "translateX": t.c,
                              "shearY": t.d, "scaleY": t.e, "translateY": t.f}}


def ee_grid(footprint, resolution: float) -> dict:
  """The computePixels grid of a footprint at a resolution."""
  n = footprint.pixels(resolution)
  return affine_grid(f"EPSG:{footprint.epsg}", footprint.transform(resolution), n, n)


def fetch_pixels(image, footprint, resolution: float, bands, **retry) -> np.ndarray:
  """[n, n, bands] float32 reflectance of `image` on the footprint's grid; NaN where masked."""
  return fetch_grid(image, ee_grid(footprint, resolution), bands, **retry)


def fetch_grid(image, grid: dict, bands, **retry) -> np.ndarray:
  """[height, width, bands] float32 reflectance of `image` on a computePixels grid; NaN where masked."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  request = {"expression": image.unmask(NODATA).toFloat(), "fileFormat": "NUMPY_NDARRAY",
             "grid": grid, "bandIds": list(bands)}
  array = with_retries(lambda: ee.data.computePixels(request), **retry)
  pixels = np.stack([np.asarray(array[b], np.float32) for b in bands], axis=-1)
  pixels[pixels <= NODATA + 1] = np.nan
  return pixels
