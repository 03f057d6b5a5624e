"""The human-readable record of a pipeline run, read back from the MLMD store after the run.

`summarise_run()` gathers, for the newest run of a pipeline: each component's state, seconds and output URIs; example
counts per split (from the statistics); anomalies; PSNR, SSIM, SAM, ERGAS, consistency, cPSNR and invented
texture of the model, of bicubic and of the last blessed model; the robustness table (gains over bicubic and
texture under every robustness variant); the comparison figure and the HTML report; the blessing and its reason;
the pushed model path; tile count, directory and viewer, and each frame's no-reference checks and sensor
coverage. `write()` saves it as summary.json (atomically) and `format_text()` renders the lines printed at the
end of a run.
"""
import json
import os

from redes.atomic import write_atomically
from redes.evaluation.anomalies import read_anomalies
from redes.evaluation.record import INPUT, read_scores, robustness
from redes.mlmd import component_names, open_store

STATE_NAMES = {0: "unknown", 1: "new", 2: "running", 3: "complete", 4: "failed", 5: "cached", 6: "canceled"}


def _custom(artifact, key):
  value = artifact.custom_properties.get(key)
  if value is None:
    return None
  return value.int_value if value.HasField("int_value") else value.string_value


def _example_counts(statistics_uri: str) -> dict[str, int]:
  # pylint: disable-next=import-outside-toplevel  (TFDV takes seconds to load; only a finished run is summarised)
  import tensorflow_data_validation as tfdv
  counts = {}
  for entry in sorted(os.listdir(statistics_uri)):
    path = os.path.join(statistics_uri, entry, "FeatureStats.pb")
    if os.path.exists(path):
      stats = tfdv.load_stats_binary(path)
      counts[entry.removeprefix("Split-")] = int(stats.datasets[0].num_examples)
  return counts


def _metrics(evaluation_uri: str) -> tuple[dict, dict]:
  """({model name: {metric: value}} of the whole test split under its own input, {variant: {headline: value}} of
  the robustness suite), rounded for reading."""
  scores = read_scores(evaluation_uri)
  return ({model: {name: round(value, 4) for name, value in values.items()} for model, values in
           scores.get(INPUT, {}).items()},
          {variant: {name: round(value, 4) for name, value in row.items()} for variant, row in
           robustness(scores).items()})


def summarise_run(metadata_path: str, pipeline_name: str) -> dict:
  store = open_store(metadata_path)
  runs = sorted(store.get_contexts_by_type("pipeline_run"), key=lambda c: c.create_time_since_epoch)
  if not runs:
    raise RuntimeError(f"no pipeline run of {pipeline_name} in {metadata_path}")
  run = runs[-1]
  executions = sorted(store.get_executions_by_context(run.id), key=lambda e: e.create_time_since_epoch)
  node_names = component_names(store)
  events = store.get_events_by_execution_ids([e.id for e in executions])
  outputs = {}
  for event in events:
    if event.type in (event.OUTPUT, event.DECLARED_OUTPUT):
      outputs.setdefault(event.execution_id, []).append(event.artifact_id)
  artifacts = {a.id: a for a in store.get_artifacts_by_id([i for ids in outputs.values() for i in ids])}
  types = {t.id: t.name for t in store.get_artifact_types()}

  summary = {"pipeline": pipeline_name, "run_id": run.name, "metadata": metadata_path, "components": {},
             "examples": {}, "anomalies": {}, "metrics": {}, "robustness": {}, "comparison_figure": None,
             "report": None, "blessed": None, "blessing_message": None, "pushed_model": None,
             "tiles": {"count": 0, "directory": None, "viewer": None, "frames": [], "skipped_frames": {},
                       "frame_checks": {}, "enhanced_geotiff": None}}
  for execution in executions:
    name = node_names.get(execution.id, str(execution.id))
    produced = [artifacts[i] for i in outputs.get(execution.id, []) if i in artifacts]
    summary["components"][name] = {
        "state": STATE_NAMES.get(execution.last_known_state, str(execution.last_known_state)),
        "seconds": round((execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000, 1),
        "outputs": {types[a.type_id]: a.uri for a in produced}}
    for artifact in produced:
      kind = types[artifact.type_id]
      if kind == "ExampleStatistics":
        summary["examples"] = _example_counts(artifact.uri)
      elif kind == "ExampleAnomalies":
        summary["anomalies"] = read_anomalies(artifact.uri)
      elif kind == "ModelEvaluation":
        summary["metrics"], summary["robustness"] = _metrics(artifact.uri)
      elif kind == "components.Figure":
        summary["comparison_figure"] = _custom(artifact, "path")
      elif kind == "system.HTML":
        summary["report"] = artifact.uri
      elif kind == "ModelBlessing":
        summary["blessed"] = bool(_custom(artifact, "blessed"))
        summary["blessing_message"] = _custom(artifact, "blessing_message")
      elif kind == "PushedModel" and _custom(artifact, "pushed"):
        summary["pushed_model"] = _custom(artifact, "pushed_destination")
      elif kind == "components.TileSet":
        summary["tiles"] = {"count": _custom(artifact, "tile_count") or 0,
                            "directory": _custom(artifact, "region_dir"),
                            "viewer": _custom(artifact, "viewer"),
                            "frames": json.loads(_custom(artifact, "frames") or "[]"),
                            "skipped_frames": json.loads(_custom(artifact, "skipped_frames") or "{}"),
                            "frame_checks": json.loads(_custom(artifact, "frame_checks") or "{}"),
                            "enhanced_geotiff": _custom(artifact, "enhanced_geotiff")}
  return summary


def write(summary: dict, path: str) -> None:
  write_atomically(path, json.dumps(summary, indent=2))


def format_text(summary: dict, total_seconds: float | None = None) -> str:
  lines = [f"Redes run {summary['run_id']}"]
  for name, info in summary["components"].items():
    lines.append(f"  {name:<18} {info['state']:<9} {info['seconds']:>7.1f} s  "
                 + ", ".join(info["outputs"].values()))
  if total_seconds is not None:
    lines.append(f"  {'total':<18} {'':<9} {total_seconds:>7.1f} s")
  lines.append("examples: " + ", ".join(f"{k} {v}" for k, v in summary["examples"].items()))
  anomalies = summary["anomalies"]
  lines.append("anomalies: " + ("; ".join(f"{s}: {', '.join(v)}" for s, v in anomalies.items()) or "none"))
  for model, values in summary["metrics"].items():
    lines.append(f"{model}: " + ", ".join(f"{k} {v}" for k, v in sorted(values.items())))
  for variant, row in summary.get("robustness", {}).items():
    lines.append(f"under {variant}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
  lines.append(f"comparison figure: {summary['comparison_figure']}; report (HTML): {summary['report']}")
  lines.append(f"blessed: {summary['blessed']} ({summary['blessing_message']}); "
               f"pushed model: {summary['pushed_model']}")
  tiles = summary["tiles"]
  lines.append(f"tiles: {tiles['count']} in {tiles['directory']}; frames: {', '.join(tiles['frames']) or 'none'}"
               + "".join(f"; skipped {k}: {v}" for k, v in tiles["skipped_frames"].items()))
  for label, checks in tiles.get("frame_checks", {}).items():
    lines.append(f"frame {label} ({' or '.join(checks['sensors'])}): consistency {checks.get('consistency')}, "
                 f"texture against bicubic {checks.get('texture_vs_bicubic')}"
                 + (f"; warning: {checks['outside_training']}" if checks["outside_training"] else ""))
  lines.append(f"viewer: {tiles['viewer']}")
  if summary.get("log"):
    log = summary["log"]
    lines.append(f"log: {log['path']} (every line, with {log['library_warnings']} warnings of libraries not shown "
                 "above" + ("" if log["complete"] else "; incomplete: a write failed") + ")")
  return "\n".join(lines)
