"""kubeflow_runner.py: the same DAG compiled to a KFP v2 PipelineSpec (with its Kubernetes platform spec) and a
Vertex AI PipelineJob, checked with kfp's PipelineSpec proto; submitting and scheduling through the real kfp.Client
against a loopback fake of the KFP API."""
import json
import os

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

import kubeflow_runner
from pipeline.pipeline import RUNTIME_PARAMETERS
from tests.fakes.cloud_storage import FakeCloudStorage
from tests.fakes.kfp import FakeKubeflow
from tests.fakes.vertex import FakeVertex

COMPONENTS = {"PatchExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate", "RunParameters",
              "Trainer", "BicubicBaseline", "ImageEvaluator", "ComparisonFigure", "RunReport", "Pusher", "TileGen"}
RESOLVERS = {"LatestBlessedModel-model-resolver", "LatestBlessedModel-model-blessing-resolver"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGIONS = [os.path.join(ROOT, "regions", f"{s}.geojson") for s in ("train", "eval", "test")]


def _compile(tmp_path, *extra):
  assert kubeflow_runner.main(["--pipeline-root", "gs://example-bucket/redes", "--output-dir", str(tmp_path),
                               "--image", "registry.example/redes:1", *extra]) == 0
  with open(tmp_path / "redes_pipeline.yaml") as f:
    spec_doc, platform_doc = yaml.safe_load_all(f)
  spec = json_format.ParseDict(spec_doc, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=True)
  with open(tmp_path / "redes_pipeline_job.json") as f:
    job = json.load(f)
  return spec, platform_doc["platforms"]["kubernetes"]["deploymentSpec"]["executors"], job


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
  return _compile(tmp_path_factory.mktemp("kfp"), "--epochs", "7", "--max-z", "13",
                  "--gpu-node-selector", "cloud.google.com/gke-accelerator=nvidia-l4")


def test_every_component_with_its_image_and_gpus_for_trainer_and_tilegen(compiled):
  spec, _, _ = compiled
  assert spec.pipeline_info.name == "redes" and spec.schema_version == "2.1.0"
  assert set(spec.root.dag.tasks) == COMPONENTS | RESOLVERS      # warm start is on for Kubeflow
  deployment = json_format.ParseDict(
      json_format.MessageToDict(spec.deployment_spec), pipeline_spec_pb2.PipelineDeploymentConfig())
  executors = {name.removesuffix("_executor"): e for name, e in deployment.executors.items()
               if e.HasField("container")}
  assert set(executors) == COMPONENTS
  assert {e.container.image for e in executors.values()} == {"registry.example/redes:1"}
  gpus = {name for name, e in executors.items() if e.container.resources.HasField("accelerator")}
  assert gpus == {"Trainer", "TileGen"}
  assert executors["Trainer"].container.resources.accelerator.resource_count == "1"
  trainer = spec.root.dag.tasks["Trainer"]
  assert "models.trainer.run_fn" in trainer.inputs.parameters["run_fn"].runtime_value.constant.string_value
  assert trainer.inputs.artifacts["hyperparameters"].task_output_artifact.producer_task == "RunParameters"
  base_model = trainer.inputs.artifacts["base_model"].task_output_artifact
  assert base_model.producer_task == "LatestBlessedModel-model-resolver"
  outputs = spec.components[spec.root.dag.tasks["RunReport"].component_ref.name].output_definitions.artifacts
  titles = {name: yaml.safe_load(a.artifact_type.instance_schema)["title"] for name, a in outputs.items()}
  assert titles == {"report": "system.HTML", "metrics": "system.Metrics"}     # what the KFP UI renders


def test_runtime_parameters_with_the_flags_as_defaults(compiled):
  spec, _, job = compiled
  parameters = spec.root.input_definitions.parameters
  assert set(parameters) == set(RUNTIME_PARAMETERS)
  assert parameters["epochs"].default_value.number_value == 7 and parameters["epochs"].is_optional
  assert parameters["max_z"].default_value.number_value == 13
  assert parameters["init_date"].default_value.string_value == "2019-01-01"
  tasks = spec.root.dag.tasks
  assert tasks["RunParameters"].inputs.parameters["epochs"].component_input_parameter == "epochs"
  assert tasks["TileGen"].inputs.parameters["max_z"].component_input_parameter == "max_z"
  assert tasks["PatchExampleGen"].inputs.parameters["end_date"].component_input_parameter == "end_date"
  assert job["runtimeConfig"]["parameterValues"]["epochs"] == 7
  assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://example-bucket/redes"
  assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == COMPONENTS | RESOLVERS


def test_gpu_steps_get_node_selector_and_tolerations(compiled):
  _, platform, _ = compiled
  assert set(platform) == {"Trainer_executor", "TileGen_executor"}
  for settings in platform.values():
    assert settings["nodeSelector"] == {"labels": {"cloud.google.com/gke-accelerator": "nvidia-l4"}}
    assert settings["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_earthengine_credentials_come_from_a_secret_and_never_appear(tmp_path, monkeypatch, service_account_key):
  monkeypatch.setenv("EE_PRIVATE_KEY", json.dumps(service_account_key))
  secret = service_account_key["private_key"].splitlines()[1]
  spec, platform, _ = _compile(tmp_path, "--source", "earthengine", "--geojsons", *REGIONS,
                               "--init-date=-365d", "--end-date", "today", "--ee-mode", "export",
                               "--ee-bucket", "my-bucket", "--credentials-secret", "redes-ee",
                               "--tilegen-gpus", "0", "--gpu-toleration", "pool=gpu:NoSchedule",
                               "--beam-arg=--runner=DataflowRunner", "--beam-arg=--region=europe-west4")
  for name in ("redes_pipeline.yaml", "redes_pipeline_job.json"):
    text = (tmp_path / name).read_text()
    assert secret not in text and "private_key" not in text and "redes@redes-test" not in text
  assert platform["PatchExampleGen_executor"]["secretAsEnv"] == platform["TileGen_executor"]["secretAsEnv"] == [{
      "secretName": "redes-ee", "secretNameParameter": {"runtimeValue": {"constant": "redes-ee"}},
      "keyToEnv": [{"secretKey": "ee-private-key", "envVar": "EE_PRIVATE_KEY"},
                   {"secretKey": "project-id", "envVar": "PROJECT_ID"}]}]
  assert "tolerations" not in platform["TileGen_executor"]            # no GPU for TileGen here
  assert platform["Trainer_executor"]["tolerations"] == [{"key": "pool", "operator": "Equal", "value": "gpu",
                                                          "effect": "NoSchedule"}]
  parameters = spec.root.input_definitions.parameters
  assert parameters["init_date"].default_value.string_value == "-365d"
  assert parameters["eval_geojson"].default_value.string_value.endswith("regions/eval.geojson")
  example_gen = spec.root.dag.tasks["PatchExampleGen"].inputs.parameters
  config = json.loads(example_gen["source_config"].runtime_value.constant.string_value)
  assert config["mode"] == "export" and config["bucket"] == "my-bucket"
  deployment = json_format.MessageToDict(spec.deployment_spec)
  args = deployment["executors"]["PatchExampleGen_executor"]["container"]["args"]
  assert args[-2:] == ["--runner=DataflowRunner", "--region=europe-west4"]      # Beam steps run on Dataflow


def test_earthengine_tiles_compile_without_credentials_here(tmp_path, monkeypatch):
  monkeypatch.delenv("EE_PRIVATE_KEY", raising=False)
  monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
  spec, platform, _ = _compile(tmp_path, "--start-year", "2015", "--stop-year", "2020", "--geometry", REGIONS[0],
                               "--credentials-secret", "redes-ee")
  parameters = spec.root.input_definitions.parameters
  assert (parameters["start_year"].default_value.number_value, parameters["stop_year"].default_value.number_value) \
      == (2015, 2020)
  assert platform["TileGen_executor"]["secretAsEnv"][0]["secretName"] == "redes-ee"


def test_submit_then_schedule_through_kfp_client(tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("HOME", str(tmp_path))          # no kfp context file from the machine
  with FakeKubeflow() as fake:
    _compile(tmp_path, "--epochs", "5", "--submit", "--host", fake.url)
    _compile(tmp_path, "--submit", "--host", fake.url, "--schedule", "0 3 * * 1")
  out = capsys.readouterr().out
  assert "(first version); run " in out and "(version redes_pipeline-" in out and "recurring run " in out
  uploads = fake.calls("POST", "/pipelines/upload")     # the second is refused (409): the name exists
  assert [query["name"] for query, _ in uploads] == [["redes_pipeline"]] * 2
  spec_doc, platform_doc = yaml.safe_load_all(uploads[0][1]["uploadfile"])
  assert spec_doc["pipelineInfo"]["name"] == "redes" and "platforms" in platform_doc
  (version_query, _), = fake.calls("POST", "/pipelines/upload_version")
  assert version_query["pipelineid"] == [fake.pipelines["redes_pipeline"]]
  assert [body["display_name"] for _, body in fake.calls("POST", "/experiments")] == ["redes"]   # then found
  (_, run), = fake.calls("POST", "/runs")
  assert run["runtime_config"]["parameters"]["epochs"] == 5
  assert run["experiment_id"] == fake.experiments["redes"]
  assert set(run["pipeline_spec"]["pipeline_spec"]["root"]["dag"]["tasks"]) == COMPONENTS | RESOLVERS
  executors = run["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
  assert set(executors) == {"Trainer_executor", "TileGen_executor"}   # the platform spec went with the run
  (_, recurring), = fake.calls("POST", "/recurringruns")
  assert recurring["trigger"] == {"cron_schedule": {"cron": "0 3 * * 1"}}
  assert recurring["max_concurrency"] in (1, "1") and recurring["no_catchup"] is True
  assert recurring["runtime_config"]["parameters"]["epochs"] == 40


  def caching(body):
    tasks = body["pipeline_spec"]["pipeline_spec"]["root"]["dag"]["tasks"]
    return {tasks[name].get("cachingOptions", {}).get("enableCache", False) for name in COMPONENTS}
  assert caching(run) == {True} and caching(recurring) == {False}   # each scheduled run ingests and trains again


def test_submit_then_schedule_on_vertex_ai(tmp_path, monkeypatch, capsys):
  with FakeCloudStorage() as storage, FakeVertex() as vertex:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage.url)     # the pipeline root's bucket
    vertex_flags = ["--submit", "--vertex", "--project", "redes-test", "--region", "europe-west4",
                    "--service-account", "runner@redes-test.iam.gserviceaccount.com", "--vertex-endpoint", vertex.url]
    _compile(tmp_path, "--epochs", "5", *vertex_flags)
    _compile(tmp_path, *vertex_flags, "--schedule", "0 3 * * 1")
  out = capsys.readouterr().out
  assert "Vertex AI pipeline job projects/redes-test/locations/europe-west4/pipelineJobs/" in out
  assert "Vertex AI schedule projects/redes-test/locations/europe-west4/schedules/" in out
  job, = vertex.created("pipelineJobs")
  assert job["runtimeConfig"]["gcsOutputDirectory"] == "gs://example-bucket/redes"
  assert job["runtimeConfig"]["parameterValues"]["epochs"] == 5
  assert job["serviceAccount"] == "runner@redes-test.iam.gserviceaccount.com"
  assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == COMPONENTS | RESOLVERS
  schedule, = vertex.created("schedules")
  assert schedule["cron"] == "0 3 * * 1" and schedule["maxConcurrentRunCount"] in (1, "1")
  scheduled_job = schedule["createPipelineJobRequest"]["pipelineJob"]
  assert scheduled_job["runtimeConfig"]["parameterValues"]["epochs"] == 40
  tasks = scheduled_job["pipelineSpec"]["root"]["dag"]["tasks"]
  assert {tasks[name].get("cachingOptions", {}).get("enableCache", False) for name in COMPONENTS} == {False}
  assert "example-bucket" in storage.buckets                     # made for the pipeline root when missing


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: --pipeline-root"),
    (["--pipeline-root", "/local/dir"], "'/local/dir' is not a bucket path; expected gs://, s3://, minio://"),
    (["--pipeline-root", "gs://b", "--submit"], "argument --host: --submit and --schedule need the KFP API endpoint"),
    (["--pipeline-root", "gs://b", "--submit", "--vertex", "--project", "p"],
     "argument --vertex: Vertex AI needs --project and --region"),
    (["--pipeline-root", "gs://b", "--submit", "--host", "http://h", "--schedule", "daily"],
     "argument --schedule: 'daily' must be a cron expression of 5 or 6 fields"),
    (["--pipeline-root", "gs://b", "--gpu-toleration", "nvidia.com/gpu"],
     "'nvidia.com/gpu' is not KEY[=VALUE]:EFFECT"),
    (["--pipeline-root", "gs://b", "--source", "earthengine", "--geojsons", *REGIONS],
     "argument --credentials-secret: Earth Engine on a cluster (--source earthengine or --start-year) needs"),
    (["--pipeline-root", "gs://b", "--start-year", "2015", "--geometry", REGIONS[0]],
     "argument --credentials-secret: Earth Engine on a cluster (--source earthengine or --start-year) needs"),
])
def test_bad_flags_are_one_line(args, message, tmp_path, capsys):
  with pytest.raises(SystemExit) as exit_info:
    kubeflow_runner.main(["--output-dir", str(tmp_path), *args])
  err = capsys.readouterr().err
  assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
  assert not list(tmp_path.glob("redes_pipeline*"))
