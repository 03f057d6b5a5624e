import copy
import json

import pytest
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils

from pipeline.container_entrypoint import conform, name_blessed_models

EXAMPLES = {"instanceSchema": "title: tfx.Examples\ntype: object\n"}
INPUTS_SPEC = {"artifacts": {"examples": {"artifactType": EXAMPLES}}, "parameters": {}}


def _executor_input(input_type):
  artifact = {"name": "17", "uri": "gs://bucket/redes/PatchExampleGen/examples", "metadata": {"span": 0.0}}
  if input_type is not None:
    artifact["type"] = input_type
  return {"inputs": {"artifacts": {"examples": {"artifacts": [artifact]}}},
          "outputs": {"artifacts": {
              "statistics": {"artifacts": [{"name": "statistics", "uri": "gs://bucket/s", "type": EXAMPLES}]},
              "executor-logs": {"artifacts": [{"name": "executor-logs", "uri": "gs://bucket/executor-logs-0",
                                               "type": {"schemaTitle": "system.Artifact"}}]}},
                      "outputFile": "/gcs/bucket/task/output_metadata.json"}}


@pytest.mark.parametrize("input_type", [{"instanceSchema": ""}, None, {}])
def test_untyped_inputs_of_open_source_kfp_get_the_declared_type(input_type):
  fixed = conform(_executor_input(input_type), INPUTS_SPEC)
  assert fixed["inputs"]["artifacts"]["examples"]["artifacts"][0]["type"] == EXAMPLES
  assert set(fixed["outputs"]["artifacts"]) == {"statistics"}     # the launcher's executor-logs is its own


def test_typed_inputs_of_vertex_ai_are_left_as_they_are():
  typed = _executor_input({"schemaTitle": "tfx.Examples"})
  del typed["outputs"]["artifacts"]["executor-logs"]
  assert conform(copy.deepcopy(typed), INPUTS_SPEC) == typed


def test_an_untyped_input_the_component_does_not_declare_is_named():
  with pytest.raises(ValueError, match="input artifact 'examples' has no type and the component declares no input "
                                       "'examples'; declared: \\[\\]"):
    conform(_executor_input({"instanceSchema": ""}), {"artifacts": {}})


def test_current_model_id_becomes_the_model_artifacts_name(tmp_path):
  name = "projects/1/locations/europe-west4/metadataStores/default/artifacts/42"
  hashed = kubeflow_v2_entrypoint_utils._get_hashed_id(name, {})  # pylint: disable=protected-access
  output_file = tmp_path / "executor_output.json"
  output_file.write_text(json.dumps({"artifacts": {"blessing": {"artifacts": [
      {"uri": "gs://bucket/blessing", "metadata": {"current_model_id": float(hashed), "blessed": 1.0}}]}}}))
  executor_input = {"inputs": {"artifacts": {"model": {"artifacts": [{"name": name, "uri": "gs://bucket/model"}]}}},
                    "outputs": {"outputFile": str(output_file)}}
  name_blessed_models(executor_input)
  metadata = json.loads(output_file.read_text())["artifacts"]["blessing"]["artifacts"][0]["metadata"]
  assert metadata == {"current_model_id": name, "blessed": 1.0}
