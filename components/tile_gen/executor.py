"""Executor of TileGen: the original frames (redes.publish.frames.write_original_frames),
redes.publish.timeseries.publish, then the no-reference checks and sensor coverage of every frame
(redes.evaluation.no_reference)."""
import json
import logging
import os
import pathlib

from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils

from redes.evaluation.no_reference import frame_report
from redes.ingest import demo_data
from redes.publish import frames
from redes.publish.enhance import Enhancer
from redes.publish.timeseries import publish


def _headline_metrics(artifacts) -> dict:
  """RunReport's headline metrics (its Metrics artifact's numeric custom properties: doubles when run here, JSON
  numbers when Kubeflow's launcher passes them on), {} without one."""
  if not artifacts:
    return {}
  metrics = artifact_utils.get_single_instance(artifacts)
  headline = {}
  for name, value in sorted(metrics.mlmd_artifact.custom_properties.items()):
    number = value.double_value if value.HasField("double_value") else metrics.get_json_value_custom_property(name)
    if isinstance(number, (int, float)) and not isinstance(number, bool):
      headline[name] = round(float(number), 4)
  return headline


class Executor(base_executor.BaseExecutor):

  def Do(self, input_dict, output_dict, exec_properties):
    pushed = artifact_utils.get_single_instance(input_dict["pushed_model"])
    tiles = artifact_utils.get_single_instance(output_dict["tiles"])
    tiles.set_int_custom_property("tile_count", 0)
    if not pushed.get_int_custom_property("pushed"):
      logging.warning("TileGen: the model was not blessed, so it was not pushed; no tiles are made")
      return
    enhancer = Enhancer(pushed.uri, uncertainty=bool(exec_properties.get("uncertainty")))
    rasters = json.loads(exec_properties["frames"] or "{}")
    demo_scene = ""
    if not rasters and not exec_properties["start_year"]:
      data_dir = pathlib.Path(exec_properties["data_dir"]) if exec_properties.get("data_dir") else None
      scene = demo_data.demo_scene(enhancer.bands)
      demo_scene = str(demo_data.landsat_reflectance_geotiff(enhancer.bands, data_dir, scene))
      logging.info("TileGen: no frames given; publishing the demo Landsat 8 scene %r (%s)", scene, demo_scene)
    region_dir = os.path.join(tiles.uri, exec_properties["region_name"])
    originals, skipped = frames.write_original_frames(
        region_dir, enhancer.bands, rasters, exec_properties["geometry"], exec_properties["start_year"],
        exec_properties["stop_year"], exec_properties["instrument"], exec_properties["ee_url"], demo_scene)
    result = publish(originals, enhancer, region_dir, exec_properties["region_name"], exec_properties["min_z"],
                     exec_properties["max_z"], exec_properties["tile_format"], exec_properties["frame_delay_ms"],
                     skipped=skipped, metrics=_headline_metrics(input_dict.get("metrics")),
                     run=(self._context.pipeline_run_id or "") if self._context else "",
                     served_at=pushed.get_string_custom_property("pushed_destination"),
                     beam_args=json.loads(exec_properties.get("beam_args") or "[]"))
    report = frame_report(originals, region_dir, enhancer.info, exec_properties["instrument"])
    for label, checks in report.items():
      if checks["outside_training"]:
        logging.warning("TileGen: frame %s: %s", label, checks["outside_training"])
      logging.info("TileGen: frame %s: consistency %s, texture against bicubic %s (%d windows)", label,
                   checks.get("consistency"), checks.get("texture_vs_bicubic"), checks["windows"])
    tiles.set_string_custom_property("frame_checks", json.dumps(report))
    tiles.set_int_custom_property("tile_count", result.tile_count)
    tiles.set_string_custom_property("region_dir", region_dir)
    tiles.set_string_custom_property("viewer", result.viewer)
    tiles.set_string_custom_property("frames", json.dumps(result.frames))
    tiles.set_string_custom_property("skipped_frames", json.dumps(result.skipped))
    tiles.set_string_custom_property("enhanced_geotiff", os.path.join(region_dir, "enhanced",
                                                                      f"{result.frames[0]}.tif"))
