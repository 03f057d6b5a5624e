"""Defaults of every setting, in one place. Runners expose them as typed flags (pipeline.flags)."""
import dataclasses

from redes.ingest.earthengine.sensors import COLLECTIONS

PIPELINE_NAME = "redes"
COMPONENTS = ("PatchExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate", "RunParameters",
              "Trainer", "BicubicBaseline", "ImageEvaluator", "ComparisonFigure", "RunReport", "Pusher", "TileGen")


@dataclasses.dataclass(frozen=True)
class DataConfig:
  source: str = "demo"                 # where patch pairs come from: demo (embedded Sentinel-2 scene)
  bands: str = "rgb"                   # band set: rgb or rgbn (see redes.bands)
  scaling_factor: int = 3              # 30 m -> 10 m
  patch_size: int = 96                 # high-resolution patch side in pixels, a multiple of scaling_factor
  #                                      (flag --kernel-size, the original's name)
  max_patches_per_split: int = 0       # 0: every patch
  data_dir: str = ""                   # demo imagery directory; empty: $REDES_DATA_DIR or ~/.cache/redes


@dataclasses.dataclass(frozen=True)
class EarthEngineConfig:
  """Settings of source=earthengine (the original's dataset parameters, typed)."""
  geojsons: tuple = ()                 # region files of the train, eval and test splits, in that order
  dataset_name: str = "L8_S2_SR_x3"
  slugs: tuple = ("landsat8", "sentinel2")
  init_date: str = "2019-01-01"
  end_date: str = "2019-12-31"
  scale: float = 10.0                  # target pixel size in metres (input: scale x scaling_factor)
  sample_size: int = 2000              # patches per polygon, at most
  composite: str = "median"
  min_valid_fraction: float = 1.0
  max_pair_shift: float = 0.5          # pairs whose input is shifted by more (30 m pixels) are rejected
  concurrency: int = 8                 # parallel computePixels requests
  mode: str = "pixels"                 # pixels: a request per patch; export: Export tasks to Cloud Storage (bulk)
  bucket: str = ""                     # Cloud Storage bucket of mode export
  ee_url: str = ""                     # Earth Engine REST endpoint; empty: Google's
  cache_dir: str = ""                  # downloaded patches; empty: <data_dir>/earthengine


@dataclasses.dataclass(frozen=True)
class RasterConfig:
  """Settings of source=rasters: a Landsat and a Sentinel-2 raster of the same area and period."""
  landsat_raster: str = ""
  sentinel2_raster: str = ""
  landsat_band_indexes: tuple = (4, 3, 2, 5)     # 1-based, in band order red, green, blue, nir
  sentinel2_band_indexes: tuple = (4, 3, 2, 8)
  # reflectance = DN * scale + offset; by default those of Landsat Collection 2 Level-2 and Sentinel-2 L2A
  landsat_scale: float = COLLECTIONS["landsat8"].dn_scale
  landsat_offset: float = COLLECTIONS["landsat8"].dn_offset
  sentinel2_scale: float = COLLECTIONS["sentinel2"].dn_scale
  sentinel2_offset: float = COLLECTIONS["sentinel2"].dn_offset
  raster_sample_size: int = 0                  # footprints at most (0: all)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
  model: str = "residual"              # generator: residual (default) or srgan (the original's)
  reflectance_constraint: bool = False  # output averaged back to 30 m equals the input exactly
  norm_range: str = "standardize"      # input scaling: standardize (per band), "0,1" or "-1,1"
  batch_size: int = 16
  epochs: int = 100
  steps_per_epoch: int = 0             # 0: one pass over the counted training split
  shuffle_size: int = 2000
  learning_rate: float = 1e-3
  pixel_loss: str = "l1"               # stage 1 loss: l1 or mse
  degradation: str = "sensors"         # training inputs: sensors (drawn per example from the ranges of
  #                                      train_sensors, redes.ingest.degradation) or reference (the stored inputs as
  #                                      they are)
  train_sensors: tuple = ("tm", "etm", "oli")   # Landsat sensors the model is trained for
  loss_shift: int = 1                  # real pairs: 10 m pixels the shift-tolerant loss searches (0: aligned loss)
  gan_epochs: int = 0                  # stage 2 (adversarial fine-tuning) epochs; 0 skips it
  adversarial_weight: float = 1e-3
  vgg_weights: str = ""                # local VGG19 (include_top=False) weights for the VGG54 content loss
  init_weights: str = ""               # the original system's SRGAN generator weights (Keras 2 HDF5) to start from
  mixed_precision: bool = False        # float16 computations (for GPUs)
  warm_start: bool = False             # start from the latest blessed model (scheduled retraining)


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
  bless_margin_db: float = 0.05        # the model's PSNR must beat bicubic's by at least this much
  bless_tolerance_db: float = 0.5      # ... and fall at most this much below the last blessed model's
  robustness_tolerance_db: float = 0.0  # under every robustness variant, cPSNR at most this much below bicubic's
  texture_ceiling: float = 1.0         # ... and invented texture at most this (1: as much as the target has)
  eval_batch_size: int = 32            # test patches scored per model call
  stop_on_anomalies: bool = False      # stop before training when ExampleValidator finds anomalies


@dataclasses.dataclass(frozen=True)
class TileConfig:
  """Settings of TileGen and `redes tiles` (the original's animation parameters, typed)."""
  frames: tuple = ()                   # (year, GeoTIFF) reflectance rasters, any CRS
  instrument: str = "landsat"          # Earth Engine frames (when start_year is set and frames are not):
  start_year: int = 0                  #   landsat (the original's year windows) or one of landsat4 ... landsat9
  stop_year: int = 0                   #   (no frames and no start_year: the demo Landsat 8 scene)
  geometry: str = ""                   # GeoJSON of the region (WGS84); empty: the first frame's extent
  region_name: str = "demo"
  min_z: int = 10
  max_z: int = 14
  tile_format: str = "png"             # png (animated: APNG) or webp (animated WebP)
  frame_delay_ms: int = 1000           # how long each year is shown in animations and the viewer
  uncertainty: bool = False            # also publish the spread of the outputs over the 8 flips and rotations


@dataclasses.dataclass(frozen=True)
class RunConfig:
  output_dir: str = "redes_output"
  data: DataConfig = DataConfig()
  earthengine: EarthEngineConfig = EarthEngineConfig()
  rasters: RasterConfig = RasterConfig()
  training: TrainingConfig = TrainingConfig()
  evaluation: EvaluationConfig = EvaluationConfig()
  tiles: TileConfig = TileConfig()


# The settings a Kubeflow run may change without compiling again, the one table of them: name -> (RunConfig
# section, field[, index in a tuple field]). pipeline.kubeflow makes each a runtime parameter with the config's
# value as its default; create_pipeline hands each to the component that takes it.
RUNTIME_PARAMETERS = {
    "epochs": ("training", "epochs"), "batch_size": ("training", "batch_size"),
    "min_z": ("tiles", "min_z"), "max_z": ("tiles", "max_z"),
    "start_year": ("tiles", "start_year"), "stop_year": ("tiles", "stop_year"),
    "init_date": ("earthengine", "init_date"), "end_date": ("earthengine", "end_date"),
    "train_geojson": ("earthengine", "geojsons", 0), "eval_geojson": ("earthengine", "geojsons", 1),
    "test_geojson": ("earthengine", "geojsons", 2),
}


def runtime_defaults(config: RunConfig) -> dict:
  """The value of every runtime parameter in `config` (an absent region file is "")."""
  values = {}
  for name, (section, field, *index) in RUNTIME_PARAMETERS.items():
    value = getattr(getattr(config, section), field)
    values[name] = (value[index[0]] if value else "") if index else value
  return values
