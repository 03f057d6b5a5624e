"""TileGen: last node of the DAG. Applies the pushed model to a Landsat scene and publishes the result as a
georeferenced GeoTIFF, web-mercator XYZ tile pyramids (original and enhanced) and a static HTML viewer."""
from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.artifacts import TileSet
from components.tile_gen import executor


class TileGenSpec(ComponentSpec):
  PARAMETERS = {"scene": ExecutionParameter(type=str), "frame": ExecutionParameter(type=str),
                "region_name": ExecutionParameter(type=str), "min_z": ExecutionParameter(type=int),
                "max_z": ExecutionParameter(type=int), "data_dir": ExecutionParameter(type=str)}
  INPUTS = {"pushed_model": ChannelParameter(type=standard_artifacts.PushedModel)}
  OUTPUTS = {"tiles": ChannelParameter(type=TileSet)}


class TileGen(base_component.BaseComponent):
  SPEC_CLASS = TileGenSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, pushed_model: types.BaseChannel, scene: str, region_name: str, min_z: int, max_z: int,
               frame: str = "scene", data_dir: str = ""):
    super().__init__(spec=TileGenSpec(pushed_model=pushed_model, scene=scene, frame=frame,
                                      region_name=region_name, min_z=min_z, max_z=max_z, data_dir=data_dir,
                                      tiles=types.Channel(type=TileSet)))
