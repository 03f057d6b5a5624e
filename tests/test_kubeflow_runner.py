"""kubeflow_runner.py compiles the same DAG to a KFP v2 PipelineSpec with a GPU for the Trainer."""
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

import kubeflow_runner

COMPONENTS = {"PatchExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate", "Trainer",
              "BicubicBaseline", "ImageEvaluator", "ComparisonFigure", "Pusher", "TileGen"}


def test_compiles_every_component_with_a_gpu_trainer(tmp_path):
  assert kubeflow_runner.main(["--pipeline-root", "gs://example-bucket/redes", "--output-dir", str(tmp_path),
                               "--image", "registry.example/redes:1", "--epochs", "7"]) == 0
  with open(tmp_path / kubeflow_runner.SPEC_FILE) as f:
    spec = json_format.ParseDict(yaml.safe_load(f), pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
  assert spec.pipeline_info.name == "redes"
  assert set(spec.root.dag.tasks) == COMPONENTS
  deployment = json_format.ParseDict(
      json_format.MessageToDict(spec.deployment_spec), pipeline_spec_pb2.PipelineDeploymentConfig())
  executors = {name.removesuffix("_executor"): e for name, e in deployment.executors.items()}
  assert set(executors) == COMPONENTS
  assert {e.container.image for e in executors.values()} == {"registry.example/redes:1"}
  gpu = executors["Trainer"].container.resources.accelerator
  assert (gpu.resource_type, gpu.resource_count) == ("nvidia.com/gpu", "1")
  assert not executors["ImageEvaluator"].container.resources.HasField("accelerator")
  trainer_params = spec.root.dag.tasks["Trainer"].inputs.parameters
  assert '"epochs": 7' in trainer_params["custom_config"].runtime_value.constant_value.string_value
  assert "models.trainer.run_fn" in trainer_params["run_fn"].runtime_value.constant_value.string_value


def test_pipeline_root_is_required(capsys, tmp_path):
  try:
    kubeflow_runner.main(["--output-dir", str(tmp_path)])
  except SystemExit as exit_info:
    assert exit_info.code == 2
  assert "the following arguments are required: --pipeline-root" in capsys.readouterr().err


def test_earthengine_settings_compile_without_credentials_in_the_spec(tmp_path, monkeypatch, service_account_key):
  import json
  import os
  secret = service_account_key["private_key"].splitlines()[1]
  monkeypatch.setenv("EE_PRIVATE_KEY", json.dumps(service_account_key))
  regions = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "regions")
  assert kubeflow_runner.main([
      "--pipeline-root", "gs://example-bucket/redes", "--output-dir", str(tmp_path), "--source", "earthengine",
      "--geojsons", *(os.path.join(regions, f"{s}.geojson") for s in ("train", "eval", "test")),
      "--init-date", "2020-01-01", "--end-date", "2020-12-31", "--ee-mode", "export", "--ee-bucket", "my-bucket"]) == 0
  text = (tmp_path / kubeflow_runner.SPEC_FILE).read_text()
  assert secret not in text and "private_key" not in text and "redes@redes-test" not in text
  spec = json_format.ParseDict(yaml.safe_load(text), pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
  params = spec.root.dag.tasks["PatchExampleGen"].inputs.parameters
  config = json.loads(params["source_config"].runtime_value.constant_value.string_value)
  assert config["init_date"] == "2020-01-01" and config["mode"] == "export" and config["bucket"] == "my-bucket"
  assert config["geojsons"]["eval"].endswith("regions/eval.geojson")
