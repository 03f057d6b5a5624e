"""Executor of TileGen: enhance the scene (redes.enhance), tile both layers (redes.tiles), write the viewer."""
import logging
import os
import pathlib

from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from redes import demo_data
from redes.enhance import Enhancer, enhance_geotiff
from redes.tiles import write_pyramid
from redes.viewer import write_viewer

LAYERS = ("original", "enhanced")


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    pushed = artifact_utils.get_single_instance(input_dict["pushed_model"])
    tiles = artifact_utils.get_single_instance(output_dict["tiles"])
    tiles.set_int_custom_property("tile_count", 0)
    if not pushed.get_int_custom_property("pushed"):
      logging.warning("TileGen: the model was not blessed, so it was not pushed; no tiles are made")
      return
    region, frame = exec_properties["region_name"], exec_properties["frame"]
    enhancer = Enhancer(pushed.uri)
    data_dir = pathlib.Path(exec_properties["data_dir"]) if exec_properties.get("data_dir") else None
    scene = exec_properties["scene"] or str(demo_data.landsat_reflectance_geotiff(enhancer.bands, data_dir))
    region_dir = os.path.join(tiles.uri, region)
    enhanced = os.path.join(region_dir, "enhanced", f"{frame}.tif")
    enhance_geotiff(scene, enhanced, enhancer)
    min_z, max_z = exec_properties["min_z"], exec_properties["max_z"]
    pyramids = [write_pyramid(path, os.path.join(region_dir, layer, frame), min_z, max_z)
                for layer, path in zip(LAYERS, (scene, enhanced))]
    viewer = write_viewer(region_dir, region, list(LAYERS), frame, pyramids[0].bounds, min_z, max_z)
    tiles.set_int_custom_property("tile_count", sum(p.count for p in pyramids))
    tiles.set_string_custom_property("region_dir", region_dir)
    tiles.set_string_custom_property("viewer", viewer)
    tiles.set_string_custom_property("enhanced_geotiff", enhanced)
    logging.info("TileGen: %d tiles, viewer %s", sum(p.count for p in pyramids), viewer)
