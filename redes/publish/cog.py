"""Cloud-Optimized GeoTIFF output shared by redes.publish.enhance and redes.publish.grid (the frames), and the one way
to read it back (read_values). Reflectance (float32, NaN no-data) is stored as Landsat Collection 2 stores surface
reflectance: 16-bit unsigned integers with a scale of 2.75e-5 and an offset of -0.2 (-0.2 to 1.602 reflectance, steps of
2.75e-5), 0 for no-data (a pixel is no-data in every band or in none); GDAL's band scale and offset say so, and
rasterio, rio-tiler and QGIS apply them: half the bytes of float32, under half its COG's size (86 MB against 179 MB at
4,000^2 x 3 bands). The raster is written block by block to a tiled, uncompressed GeoTIFF of this process beside the
destination, and its overviews (2x, 4x, ... down to one block, or to the coarsest level whose cells the writer's
blocks never cut, GDAL averaging them itself where that is none; no-data ignored) are averaged from each block's codes
as it arrives, as GDAL averages 16-bit rasters, into one tiled GeoTIFF per level, so that no pass over the finished
raster is needed; a block without a value is not written at all (GDAL fills it with no-data). The rows of a raster may
be written apart, as Parts, by several workers (publishing's strips). When the writing ends, GDAL's COG driver copies
the raster and those overviews (through VRTs that put the parts together) to the COG: 256-pixel blocks, lossless ZSTD
with the horizontal-differencing predictor; the copy is staged and renamed, and the temporary files are removed either
way; parts written apart come out as the same bytes as one writer's. The tiled copy is the one GDAL needs: its COG
driver only copies from a finished raster. GDAL's block cache is bounded (CACHE_MB) while writing, so memory does not
grow with the raster, and the C heap keeps what each block frees for the next (redes.heap)."""
import contextlib
import dataclasses
import os
import threading
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import rasterio
import rasterio.env
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.windows import Window

from redes.atomic import staged, staging_name
from redes.disk_full import named_when_full
from redes.heap import keep_freed_memory

TILED_PROFILE = {"driver": "GTiff", "tiled": True, "blockxsize": 256, "blockysize": 256, "interleave": "band",
                 "BIGTIFF": "IF_SAFER"}
CACHE_MB = 64
BLOCK = 256
COMPRESSION = {"compress": "zstd", "level": 1, "predictor": 2}   # on float32, 3x deflate's speed at about its size
SCALE, OFFSET, NODATA = 2.75e-5, -0.2, 0   # value = code * SCALE + OFFSET (Landsat Collection 2's); 0: no-data
_CODES = (1, 65535)                         # the codes of values: -0.2 + 2.75e-5 to 1.602 reflectance


class _BoundedCache:
  """GDAL's block cache at CACHE_MB megabytes while any thread of this process writes a COG, and back to what it
  was once the last of them ends. GDAL's cache is one per process, so it is counted here rather than set by
  rasterio.Env, which leaves it as set when nested in another Env and resets it under the other threads' feet.
  (rasterio passes an integer GDAL_CACHEMAX to GDALSetCacheMax64, in bytes.)"""

  def __init__(self):
    self._lock, self._writers, self._before = threading.Lock(), 0, None

  @contextlib.contextmanager
  def __call__(self):
    with self._lock:
      if not self._writers:
        self._before = rasterio.env.get_gdal_config("GDAL_CACHEMAX")
        rasterio.env.set_gdal_config("GDAL_CACHEMAX", CACHE_MB << 20)
      self._writers += 1
    try:
      yield
    finally:
      with self._lock:
        self._writers -= 1
        if not self._writers:
          rasterio.env.set_gdal_config("GDAL_CACHEMAX", self._before)


bounded_cache = _BoundedCache()


def overview_factors(width: int, height: int, align: int = 0) -> list[int]:
  """2, 4, 8, ... until the overview fits in one block (the levels GDAL's COG driver would make), and, with `align`
  (the step of the writer's block offsets), no further than the largest power of two dividing it, so that every
  block covers whole cells of every level."""
  factors, factor = [], 2
  while max(width, height) / (factor // 2) > BLOCK and not (align and align % factor):
    factors.append(factor)
    factor *= 2
  return factors


def encoded(values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
  """[bands, h, w] float32 values (any memory layout) as the COG's 16-bit codes, C-contiguous; values beyond -0.2 ..
  1.602 take the nearest end. A pixel is no-data in every band where `valid` ([h, w] bool) is False, or, without
  it, where any band is NaN."""
  return _codes(values, valid)[0]


def _codes(values: np.ndarray, valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
  """encoded(values, valid), and the pixels that hold a value ([h, w] bool; None: all of them). One band at a time,
  through one float32 band of scratch: a block's memory is new pages to the kernel at a process's first frame, and
  each costs a fault."""
  codes = np.empty(values.shape, np.uint16)
  scratch = np.empty(values.shape[1:], np.float32)
  invalid = None if valid is None else ~valid
  for band, out in zip(values, codes):
    np.subtract(band, np.float32(OFFSET), out=scratch)
    scratch *= np.float32(1 / SCALE)
    np.rint(scratch, out=scratch)
    np.clip(scratch, *_CODES, out=scratch)
    if valid is None:
      nan = np.isnan(scratch)
      if nan.any():
        scratch[nan] = NODATA
        invalid = nan if invalid is None else invalid | nan
    np.copyto(out, scratch, casting="unsafe")
  if invalid is not None and invalid.any():
    np.copyto(codes, NODATA, where=invalid)
    return codes, ~invalid
  return codes, None


def read_values(src, indexes=None, **kwargs) -> np.ndarray:
  """float32 [bands, h, w] of the open raster `src` (bands `indexes`, default all; kwargs: rasterio's read, such as
  window, out_shape and resampling), its bands' scales and offsets applied, NaN where masked (no-data): reflectance
  of a Redes COG, or of any raster GDAL reads. The masks are GDAL's, read beside the data rather than through a
  numpy masked array (whose module, imported at first use, costs a process's first read 40-70 ms)."""
  indexes = list(indexes or range(1, src.count + 1))
  values = src.read(indexes, **kwargs).astype(np.float32, copy=False)
  values *= np.array([src.scales[i - 1] for i in indexes], np.float32)[:, None, None]
  values += np.array([src.offsets[i - 1] for i in indexes], np.float32)[:, None, None]
  values[src.read_masks(indexes, **kwargs) == 0] = np.nan
  return values


def _halve(values: np.ndarray) -> np.ndarray:
  """The float32 sum of each 2 x 2 cell of [..., h, w] values; an odd last row or column adds nothing."""
  if values.shape[-2] % 2 or values.shape[-1] % 2:
    values = np.pad(values, [(0, 0)] * (values.ndim - 2) + [(0, values.shape[-2] % 2), (0, values.shape[-1] % 2)])
  # Pairs of rows first, whole rows at a time, so that the strided pass over columns reads half the data: 1.6x the
  # speed of adding the four strided quarters (the 9 levels of a 1,536^2 block of 3 bands: 13 ms against 21 here).
  rows = np.add(values[..., 0::2, :], values[..., 1::2, :], dtype=np.float32)
  return np.add(rows[..., 0::2], rows[..., 1::2])


@dataclasses.dataclass(frozen=True)
class Part:
  """Rows [row_off, row_off + height) of the COG at `path` (profile and band descriptions: the whole COG's), written
  apart, maybe by one worker of several: the staging files of those rows (`raster`) and of the matching rows of each
  overview (`overviews`, factor -> file). assemble puts a COG's parts together."""
  path: str
  profile: dict
  descriptions: tuple
  row_off: int
  height: int
  raster: str
  overviews: tuple[tuple[int, str], ...]

  @property
  def files(self) -> list[str]:
    return [self.raster, *(name for _, name in self.overviews)]

  def overview_rows(self, factor: int) -> tuple[int, int]:
    """(first row, rows) of this part in the overview reduced `factor` times."""
    first = self.row_off // factor
    return first, -(-(self.row_off + self.height) // factor) - first


def _part(path: str, profile: dict, descriptions, rows, align: int) -> Part:
  start, stop = rows or (0, profile["height"])
  factors = overview_factors(profile["width"], profile["height"], align)
  if factors and (start % factors[-1] or (stop != profile["height"] and stop % factors[-1])):
    raise ValueError(f"rows {start} to {stop} are not aligned to the overview factor {factors[-1]}")
  return Part(path, profile, tuple(descriptions or ()), start, stop - start, staging_name(path, f".{start}.gtiff"),
              tuple((f, staging_name(path, f".{start}.{f}x.gtiff")) for f in factors))


class BlockWriter:
  """The rows of a raster being written (a Part): write([bands, h, w] float32, Window) puts a block in place and
  adds it to every overview; windows are the whole raster's. A block's offsets must be multiples of the largest
  overview factor (a block may end anywhere at the raster's right and bottom edges), so that each overview cell
  takes its pixels from one block, and parts written apart come out as the whole would."""

  def __init__(self, datasets: contextlib.ExitStack, part: Part):
    """Opens the part's raster and overviews on `datasets`."""
    self.part = part
    self.factors = [factor for factor, _ in part.overviews]
    profile = part.profile
    rows = {"height": part.height, "transform": profile["transform"] @ Affine.translation(0, part.row_off)}
    self.raster = datasets.enter_context(rasterio.open(part.raster, "w", **{**profile, **rows}))
    self.overviews = []
    for factor, name in part.overviews:
      first, rows = part.overview_rows(factor)
      size = {"width": -(-profile["width"] // factor), "height": rows}
      transform = profile["transform"] @ Affine.scale(factor) @ Affine.translation(0, first)
      self.overviews.append(datasets.enter_context(rasterio.open(name, "w", **{**profile, **size,
                                                                               "transform": transform})))

  def write(self, data: np.ndarray, window: Window, valid: np.ndarray | None = None) -> None:
    """Writes the block `data` ([bands, h, w] float32 values) at `window`; no-data where `valid` ([h, w] bool) is
    False, or, without it, where any band is NaN."""
    if self.factors and (window.col_off % self.factors[-1] or window.row_off % self.factors[-1]):
      raise ValueError(f"block at ({window.col_off}, {window.row_off}) is not aligned to the overview factor "
                       f"{self.factors[-1]}")
    if not self.part.row_off <= window.row_off < self.part.row_off + self.part.height:
      raise ValueError(f"block at row {window.row_off} lies outside rows {self.part.row_off} to "
                       f"{self.part.row_off + self.part.height}")
    if valid is not None and not valid.any():
      return                                  # GDAL fills the blocks never written with no-data
    codes, valid = _codes(data, valid)        # valid None: every pixel holds a value
    self.raster.write(codes, window=Window(window.col_off, window.row_off - self.part.row_off, window.width,
                                           window.height))
    # Overviews average the codes (a mean code is the code of the mean value, within a step): no-data codes are 0,
    # so sums need no mask, and counts say how many pixels each cell holds (None: factor^2 in every cell).
    sums, counts = codes, None if valid is None else valid.astype(np.float32)
    for factor, overview in zip(self.factors, self.overviews):
      if counts is None and (sums.shape[-2] % 2 or sums.shape[-1] % 2):   # a cell at an odd edge holds fewer
        counts = np.full(sums.shape[1:], (factor // 2) ** 2, np.float32)
      sums = _halve(sums)
      mean = np.zeros_like(sums)
      if counts is None:
        np.multiply(sums, np.float32(1 / (factor * factor)), out=mean)
      else:
        counts = _halve(counts)
        np.divide(sums, counts, out=mean, where=counts > 0)   # 0 (no-data) where a cell holds no value
      overview.write(np.rint(mean, out=mean).astype(np.uint16),
                     window=Window(window.col_off // factor, (window.row_off - self.part.row_off) // factor,
                                   mean.shape[-1], mean.shape[-2]))


def _mosaic_vrt(profile: dict, factor: int, sources, descriptions=(), overviews=()) -> str:
  """The VRT of the raster of `profile` reduced `factor` times, put together from (file, first row, rows) sources
  (rows of that reduced raster), with `overviews` (VRTs of the reduced levels)."""
  width, height = -(-profile["width"] // factor), -(-profile["height"] // factor)
  bands = []
  for band in range(1, profile["count"] + 1):
    placed = "".join(
        f"<SimpleSource><SourceFilename relativeToVRT='0'>{escape(name)}</SourceFilename><SourceBand>{band}"
        f"</SourceBand><SrcRect xOff='0' yOff='0' xSize='{width}' ySize='{rows}'/>"
        f"<DstRect xOff='0' yOff='{row}' xSize='{width}' ySize='{rows}'/></SimpleSource>"
        for name, row, rows in sources)
    levels = "".join(f"<Overview><SourceFilename relativeToVRT='0'>{escape(name)}</SourceFilename>"
                     f"<SourceBand>{band}</SourceBand></Overview>" for name in overviews)
    description = escape(descriptions[band - 1]) if descriptions else ""
    bands.append(f"<VRTRasterBand dataType='UInt16' band='{band}'><Description>{description}</Description>"
                 f"<NoDataValue>{NODATA}</NoDataValue><Offset>{OFFSET!r}</Offset><Scale>{SCALE!r}</Scale>{placed}"
                 f"{levels}</VRTRasterBand>")
  geotransform = ",".join(repr(v) for v in (profile["transform"] @ Affine.scale(factor)).to_gdal())
  crs = profile.get("crs")
  srs = f"<SRS>{escape(CRS.from_user_input(crs).to_wkt())}</SRS>" if crs else ""
  return (f"<VRTDataset rasterXSize={quoteattr(str(width))} rasterYSize={quoteattr(str(height))}>{srs}"
          f"<GeoTransform>{geotransform}</GeoTransform>{''.join(bands)}</VRTDataset>")


def _remove(part: Part) -> None:
  for name in part.files:
    if os.path.exists(name):
      os.remove(name)


def _tiled(profile: dict) -> dict:
  return {**profile, **TILED_PROFILE, "dtype": "uint16", "nodata": NODATA, "compress": "none"}


@contextlib.contextmanager
def part_writing(path: str, profile: dict, descriptions=None, rows: tuple[int, int] | None = None, align: int = 0):
  """Yields the BlockWriter of rows [start, stop) of the COG at `path` (default: all; profile: rasterio's, its dtype
  and nodata the COG's own; blocks: float32, NaN no-data; descriptions: one per band), whose blocks will start at
  multiples of `align` (default: any multiple of the largest overview factor); its `part` is left for assemble when
  the block ends, and removed when the block raises. A part's rows start and stop at multiples of the largest
  overview factor (or at the end)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  keep_freed_memory()
  part = _part(path, _tiled(profile), descriptions, rows, align)
  try:
    with named_when_full(path), bounded_cache(), contextlib.ExitStack() as datasets:
      yield BlockWriter(datasets, part)
  except BaseException:
    _remove(part)
    raise


def assemble(parts: list[Part]) -> None:
  """Copies the parts of one COG, which cover its rows, with their overviews (through VRTs naming them; those of a
  part alone are its own files) to the COG (staged, then renamed); removes the parts either way."""
  parts = sorted(parts, key=lambda p: p.row_off)
  try:
    first = parts[0]
    if [p.row_off for p in parts] != [0, *(p.row_off + p.height for p in parts[:-1])] or \
        parts[-1].row_off + parts[-1].height != first.profile["height"]:
      raise ValueError(f"the parts of {first.path} do not cover its {first.profile['height']} rows once: "
                       f"{[(p.row_off, p.height) for p in parts]}")
    with contextlib.ExitStack() as stack, named_when_full(first.path), bounded_cache():
      levels = [name for _, name in first.overviews]   # one part: its own files (a VRT each costs 1-2 ms more)
      for i, (factor, _) in enumerate(first.overviews if len(parts) > 1 else ()):
        level = stack.enter_context(rasterio.MemoryFile(ext=".vrt"))
        level.write(_mosaic_vrt(first.profile, factor, [(p.overviews[i][1], *p.overview_rows(factor))
                                                        for p in parts]).encode())
        levels[i] = level.name
      whole = stack.enter_context(rasterio.MemoryFile(ext=".vrt"))
      whole.write(_mosaic_vrt(first.profile, 1, [(p.raster, p.row_off, p.height) for p in parts],
                              first.descriptions, levels).encode())
      with staged(first.path) as staging:
        rasterio.shutil.copy(whole.name, staging, driver="COG", blocksize=BLOCK, BIGTIFF="IF_SAFER",
                             num_threads="ALL_CPUS", overview_resampling="average", **COMPRESSION)
  finally:
    for part in parts:
      _remove(part)


@contextlib.contextmanager
def writing(path: str, profile: dict, descriptions=None):
  """Yields the BlockWriter of the COG at `path` (profile: rasterio's, its dtype and nodata the COG's own; blocks:
  float32, NaN no-data; descriptions: one per band); when the block ends, copies the raster and its overviews to the
  COG (staged, then renamed)."""
  with part_writing(path, profile, descriptions) as writer:
    yield writer
  assemble([writer.part])
