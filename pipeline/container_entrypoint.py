"""The command of every Redes task on Kubeflow Pipelines and Vertex AI (pipeline.kubeflow compiles it in).

    python -m pipeline.container_entrypoint --executor_class_path C --json_serialized_invocation_args '{{$}}'
        --json_serialized_inputs_spec_args '<inputs spec>' [beam args]

Runs TFX's Kubeflow V2 container entrypoint (tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor,
TFX 1.21.0) on the ExecutorInput the orchestrator substitutes for {{$}}, after making it what TFX expects. The
open-source KFP backend (kubeflow/pipelines backend/src/v2) sends what TFX cannot read (tensorflow/tfx#7768):
- input artifacts read back from MLMD carry no type (metadata/client.go: `Schema: ""`, sent as
  `"type": {"instanceSchema": ""}`; none at all for a pipeline input), and TFX imports each artifact's class
  from its type: they get the type the component declares, from the inputs spec in the compiled args;
- from KFP 2.5 the driver adds an output `executor-logs` (type system.Artifact, PUBLISH_LOGS) to every task,
  which the launcher fills itself: TFX does not see it (it would import `system.Artifact` as a class).
Vertex AI sends typed inputs; both changes leave its ExecutorInput as it is.

After the executor ran, a ModelBlessing's current_model_id, which TFX computes as a hash of the model artifact's
name, is written back as that name (the MLMD id on KFP, the resource name on Vertex AI), as TFX does for its own
Evaluator only.
"""
import json

from absl import app
from tfx.dsl.io import fileio
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor

LAUNCHER_OUTPUTS = ("executor-logs",)     # outputs the KFP launcher adds and fills itself
CURRENT_MODEL_ID = "current_model_id"     # tfx.components.evaluator.constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY


def conform(executor_input: dict, inputs_spec: dict) -> dict:
  """The ExecutorInput with every input artifact typed as the component declares it and without the launcher's
  own outputs."""
  declared = inputs_spec.get("artifacts", {})
  for key, artifact_list in executor_input.get("inputs", {}).get("artifacts", {}).items():
    for artifact in artifact_list.get("artifacts", []):
      kind = artifact.get("type") or {}
      if not (kind.get("schemaTitle") or kind.get("instanceSchema")):
        if key not in declared:
          raise ValueError(f"input artifact {key!r} has no type and the component declares no input {key!r}; "
                           f"declared: {sorted(declared)}")
        artifact["type"] = declared[key]["artifactType"]
  outputs = executor_input.get("outputs", {}).get("artifacts", {})
  for key in LAUNCHER_OUTPUTS:
    outputs.pop(key, None)
  return executor_input


def name_blessed_models(executor_input: dict) -> None:
  """Rewrites current_model_id in the executor output file from TFX's hashed id to the model artifact's name."""
  hashed_id = kubeflow_v2_entrypoint_utils._get_hashed_id  # pylint: disable=protected-access
  names = {float(hashed_id(a["name"], {})): a["name"]
           for artifact_list in executor_input.get("inputs", {}).get("artifacts", {}).values()
           for a in artifact_list.get("artifacts", []) if a.get("name")}
  path = executor_input.get("outputs", {}).get("outputFile")
  if not (path and names and fileio.exists(path)):
    return
  with fileio.open(path, "r") as f:
    executor_output = json.load(f)
  changed = False
  for artifact_list in executor_output.get("artifacts", {}).values():
    for artifact in artifact_list.get("artifacts", []):
      metadata = artifact.get("metadata", {})
      if isinstance(metadata.get(CURRENT_MODEL_ID), float) and metadata[CURRENT_MODEL_ID] in names:
        metadata[CURRENT_MODEL_ID] = names[metadata[CURRENT_MODEL_ID]]
        changed = True
  if changed:
    with fileio.open(path, "w") as f:
      f.write(json.dumps(executor_output))


def _parse_flags(argv):
  args, beam_args = kubeflow_v2_run_executor._parse_flags(argv)  # pylint: disable=protected-access
  inputs_spec = json.loads(args.json_serialized_inputs_spec_args or "{}")
  args.json_serialized_invocation_args = json.dumps(conform(json.loads(args.json_serialized_invocation_args),
                                                            inputs_spec))
  return args, beam_args


def main(parsed_argv):
  args, _ = parsed_argv
  kubeflow_v2_run_executor.main(parsed_argv)
  name_blessed_models(json.loads(args.json_serialized_invocation_args))


if __name__ == "__main__":
  app.run(main, flags_parser=_parse_flags)
