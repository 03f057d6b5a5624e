"""TileGen: last node of the DAG. Applies the pushed model to a region's yearly frames (or the demo Landsat 8 scene)
and publishes them through redes.publish.timeseries (its heavy work a Beam pipeline, run with the run's --beam-arg):
COGs, XYZ tiles per year, animated tiles, TileJSON, a time-lapse MP4 and GIF, and the viewer; with `uncertainty`,
also the spread over the 8 flips and rotations as a layer."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

import system
from components.artifacts import TileSet
from components.tile_gen import executor


class TileGenSpec(ComponentSpec):
  PARAMETERS = {"frames": ExecutionParameter(type=str), "geometry": ExecutionParameter(type=str),
                "instrument": ExecutionParameter(type=str), "start_year": ExecutionParameter(type=int),
                "stop_year": ExecutionParameter(type=int), "ee_url": ExecutionParameter(type=str),
                "region_name": ExecutionParameter(type=str), "min_z": ExecutionParameter(type=int),
                "max_z": ExecutionParameter(type=int), "tile_format": ExecutionParameter(type=str),
                "frame_delay_ms": ExecutionParameter(type=int), "data_dir": ExecutionParameter(type=str),
                "uncertainty": ExecutionParameter(type=int), "beam_args": ExecutionParameter(type=str)}
  INPUTS = {"pushed_model": ChannelParameter(type=standard_artifacts.PushedModel),
            "metrics": ChannelParameter(type=system.Metrics, optional=True)}   # RunReport's, for the STAC model
  OUTPUTS = {"tiles": ChannelParameter(type=TileSet)}


class TileGen(base_component.BaseComponent):
  SPEC_CLASS = TileGenSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, pushed_model: types.BaseChannel, frames: str, geometry: str, region_name: str, min_z: int,
               max_z: int, tile_format: str = "png", frame_delay_ms: int = 1000, data_dir: str = "",
               instrument: str = "landsat", start_year: int = 0, stop_year: int = 0, ee_url: str = "",
               uncertainty: bool = False, metrics: types.BaseChannel | None = None, beam_args: str = "[]"):
    """frames: JSON {year: GeoTIFF}; else Earth Engine years when start_year is set; else the demo scene, as the
    single frame "scene". metrics: the run's headline metrics, written into the catalog's model Item. beam_args:
    JSON list of the publishing pipeline's Beam arguments (the run's --beam-arg; empty: Beam's local runner,
    redes.publish.publishing_pipeline)."""
    super().__init__(spec=TileGenSpec(pushed_model=pushed_model, metrics=metrics, frames=frames, geometry=geometry,
                                      instrument=instrument, start_year=start_year, stop_year=stop_year,
                                      ee_url=ee_url,
                                      region_name=region_name, min_z=min_z, max_z=max_z, tile_format=tile_format,
                                      frame_delay_ms=frame_delay_ms, data_dir=data_dir, uncertainty=int(uncertainty),
                                      beam_args=beam_args,
                                      tiles=types.Channel(type=TileSet)))
