"""kubeflow_runner.py: the same DAG compiled to a KFP v2 PipelineSpec (with its Kubernetes platform spec) and a
Vertex AI PipelineJob, checked with kfp's PipelineSpec proto and statically against what each target executes;
submitting and scheduling through the real kfp.Client and google-cloud-aiplatform against loopback fakes of the
KFP and Vertex AI APIs, which read the requests as the services do (tests/test_kubeflow_emulation.py executes the
compiled tasks)."""
import datetime
import json
import os
import zoneinfo

import pytest
import yaml
from croniter import croniter
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

import kubeflow_runner
from pipeline.configs import RUNTIME_PARAMETERS, TrainingConfig
from pipeline.kubeflow import ENTRYPOINT, vertex_accelerators
from tests.fakes import kfp as fake_kfp
from tests.fakes.cloud_storage import FakeCloudStorage
from tests.fakes.vertex import FakeVertex

COMPONENTS = {"PatchExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate", "RunParameters",
              "Trainer", "BicubicBaseline", "ImageEvaluator", "ComparisonFigure", "RunReport", "Pusher", "TileGen"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGIONS = [os.path.join(ROOT, "regions", f"{s}.geojson") for s in ("train", "eval", "test")]
PIPELINE_ROOT = "gs://example-bucket/redes"
AFTER = datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)    # a Sunday


def _compile(tmp_path, *extra):
  assert kubeflow_runner.main(["--pipeline-root", PIPELINE_ROOT, "--output-dir", str(tmp_path),
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


def _mondays_at_three(runs, zone="UTC"):
  return all(run.strftime("%a %H:%M:%S") == "Mon 03:00:00" and str(run.tzinfo) == zone for run in runs)


def test_every_component_runs_in_a_container_of_the_image_through_the_entrypoint(compiled):
  spec, _, job = compiled
  assert spec.pipeline_info.name == "redes" and spec.schema_version == "2.1.0"
  assert set(spec.root.dag.tasks) == COMPONENTS
  for target in (json_format.MessageToDict(spec.deployment_spec), job["pipelineSpec"]["deploymentSpec"]):
    kinds = {label: next(iter(executor)) for label, executor in target["executors"].items()}
    assert set(kinds.values()) == {"container"}        # open-source KFP compiles container and importer only
    assert {e["container"]["image"] for e in target["executors"].values()} == {"registry.example/redes:1"}
    assert {tuple(e["container"]["command"]) for e in target["executors"].values()} == {tuple(ENTRYPOINT)}
    assert {tuple(e["container"]["args"][-3:]) for e in target["executors"].values()} == \
        {("--runner=FnApiRunner", "--direct_num_workers=1", "--setup_file=./setup.py")}   # in the pod's process
  trainer = spec.root.dag.tasks["Trainer"]
  assert "models.trainer.run_fn" in trainer.inputs.parameters["run_fn"].runtime_value.constant.string_value
  assert trainer.inputs.artifacts["hyperparameters"].task_output_artifact.producer_task == "RunParameters"
  assert set(trainer.inputs.artifacts) == {"examples", "schema", "hyperparameters"}
  custom_config = json.loads(trainer.inputs.parameters["custom_config"].runtime_value.constant.string_value)
  assert custom_config["warm_start"] is True and custom_config["serving_dir"] == f"{PIPELINE_ROOT}/serving"
  evaluator = spec.root.dag.tasks["ImageEvaluator"].inputs.parameters
  assert evaluator["serving_dir"].runtime_value.constant.string_value == f"{PIPELINE_ROOT}/serving"
  outputs = spec.components[spec.root.dag.tasks["RunReport"].component_ref.name].output_definitions.artifacts
  titles = {name: yaml.safe_load(a.artifact_type.instance_schema)["title"] for name, a in outputs.items()}
  assert titles == {"report": "system.HTML", "metrics": "system.Metrics"}     # what the KFP UI renders


def test_gpus_as_each_target_names_them(compiled, tmp_path):
  spec, _, job = compiled
  kubeflow = json_format.MessageToDict(spec.deployment_spec)["executors"]
  vertex = job["pipelineSpec"]["deploymentSpec"]["executors"]

  def gpus(executors):
    return {label.removesuffix("_executor"): e["container"]["resources"]["accelerator"]
            for label, e in executors.items() if "resources" in e["container"]}
  assert gpus(kubeflow) == {step: {"type": "nvidia.com/gpu", "count": "1", "resourceType": "nvidia.com/gpu",
                                   "resourceCount": "1"} for step in ("Trainer", "TileGen")}
  assert gpus(vertex) == {step: {"type": "NVIDIA_L4", "count": "1", "resourceType": "NVIDIA_L4",
                                 "resourceCount": "1"} for step in ("Trainer", "TileGen")}
  assert "NVIDIA_L4" in vertex_accelerators() and "NVIDIA_TESLA_T4" in vertex_accelerators()
  _, _, job = _compile(tmp_path, "--vertex-accelerator", "NVIDIA_TESLA_T4", "--tilegen-gpus", "0",
                       "--trainer-gpus", "2")
  assert gpus(job["pipelineSpec"]["deploymentSpec"]["executors"]) == {
      "Trainer": {"type": "NVIDIA_TESLA_T4", "count": "2", "resourceType": "NVIDIA_TESLA_T4", "resourceCount": "2"}}


def test_runtime_parameters_with_the_flags_as_defaults_and_the_pipeline_root(compiled):
  spec, _, job = compiled
  assert spec.default_pipeline_root == PIPELINE_ROOT         # what the KFP UI offers for a run
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
  assert job["runtimeConfig"]["gcsOutputDirectory"] == PIPELINE_ROOT
  assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == COMPONENTS


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
  example_gen = spec.root.dag.tasks["PatchExampleGen"].inputs.parameters
  config = json.loads(example_gen["source_config"].runtime_value.constant.string_value)
  assert config["mode"] == "export" and config["bucket"] == "my-bucket"
  deployment = json_format.MessageToDict(spec.deployment_spec)
  args = deployment["executors"]["PatchExampleGen_executor"]["container"]["args"]
  assert args[-2:] == ["--runner=DataflowRunner", "--region=europe-west4"]      # Beam steps run on Dataflow


def test_files_reach_the_pods_from_the_image_or_the_bucket(tmp_path, monkeypatch, capsys):
  monkeypatch.delenv("EE_PRIVATE_KEY", raising=False)
  monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
  spec, platform, _ = _compile(tmp_path, "--source", "earthengine", "--geojsons", REGIONS[0],
                               "gs://example-bucket/regions/eval.geojson", os.path.relpath(REGIONS[2]),
                               "--start-year", "2015", "--stop-year", "2020", "--geometry", REGIONS[1])
  parameters = spec.root.input_definitions.parameters
  assert [parameters[f"{s}_geojson"].default_value.string_value for s in ("train", "eval", "test")] == \
      ["regions/train.geojson", "gs://example-bucket/regions/eval.geojson", "regions/test.geojson"]
  assert spec.root.dag.tasks["TileGen"].inputs.parameters["geometry"].runtime_value.constant.string_value == \
      "regions/eval.geojson"                       # relative to the image's WORKDIR, where regions/ is copied
  assert (parameters["start_year"].default_value.number_value, parameters["stop_year"].default_value.number_value) \
      == (2015, 2020)
  assert "secretAsEnv" not in platform.get("TileGen_executor", {})        # the pods' own credentials
  assert "Application Default Credentials" in capsys.readouterr().out


def test_submit_then_schedule_through_kfp_client(tmp_path, monkeypatch, capsys):
  monkeypatch.setenv("HOME", str(tmp_path))          # no kfp context file from the machine
  with fake_kfp.FakeKubeflow() as fake:
    _compile(tmp_path, "--epochs", "5", "--submit", "--host", fake.url)
    _compile(tmp_path, "--submit", "--host", fake.url, "--schedule", "0 3 * * 1")
  out = capsys.readouterr().out
  assert "(first version); run " in out and "(version redes_pipeline-" in out and "recurring run " in out
  assert "Kubeflow schedule '0 0 3 * * 1' (0 3 * * 1 in UTC): next runs Mon " in out
  uploads = fake.calls("POST", "/pipelines/upload")     # the second is refused (409): the name exists
  assert [query["name"] for query, _ in uploads] == [["redes_pipeline"]] * 2
  spec_doc, platform_doc = yaml.safe_load_all(uploads[0][1]["uploadfile"])
  assert spec_doc["pipelineInfo"]["name"] == "redes" and "platforms" in platform_doc
  (version_query, _), = fake.calls("POST", "/pipelines/upload_version")
  assert version_query["pipelineid"] == [fake.pipelines["redes_pipeline"]]
  assert [body["display_name"] for _, body in fake.calls("POST", "/experiments")] == ["redes"]   # then found
  (_, run), = fake.calls("POST", "/runs")
  assert run["runtime_config"]["parameters"]["epochs"] == 5
  assert fake_kfp.pipeline_root(run) == PIPELINE_ROOT             # not the cluster's MinIO default
  assert run["experiment_id"] == fake.experiments["redes"]
  assert set(run["pipeline_spec"]["pipeline_spec"]["root"]["dag"]["tasks"]) == COMPONENTS
  executors = run["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
  assert set(executors) == {"Trainer_executor", "TileGen_executor"}   # the platform spec went with the run
  (_, recurring), = fake.calls("POST", "/recurringruns")
  cron = recurring["trigger"]["cron_schedule"]["cron"]
  assert cron == "0 0 3 * * 1" and _mondays_at_three(fake_kfp.next_runs(cron, 5, AFTER))
  assert not _mondays_at_three(fake_kfp.next_runs("0 3 * * 1", 5, AFTER))   # the five fields as KFP reads them
  assert fake_kfp.pipeline_root(recurring) == PIPELINE_ROOT
  assert recurring["max_concurrency"] in (1, "1") and recurring["no_catchup"] is True
  assert recurring["runtime_config"]["parameters"]["epochs"] == TrainingConfig.epochs

  def caching(body):
    tasks = body["pipeline_spec"]["pipeline_spec"]["root"]["dag"]["tasks"]
    return {tasks[name].get("cachingOptions", {}).get("enableCache", False) for name in COMPONENTS}
  assert caching(run) == {True} and caching(recurring) == {False}   # each scheduled run ingests and trains again


def test_the_fake_kfp_server_refuses_what_the_backend_cannot_run(tmp_path, monkeypatch):
  """The fake is as strict as the real API server: a resolver executor or a cron robfig rejects fails the run."""
  import kfp
  from kfp_server_api.exceptions import ApiException
  monkeypatch.setenv("HOME", str(tmp_path))
  spec, _, _ = _compile(tmp_path)
  spec_doc = json_format.MessageToDict(spec)
  spec_doc["deploymentSpec"]["executors"]["LatestBlessedModel_executor"] = {"resolver": {"outputArtifactQueries": {}}}
  (tmp_path / "resolver.yaml").write_text(yaml.safe_dump(spec_doc))
  with fake_kfp.FakeKubeflow() as fake:
    client = kfp.Client(host=fake.url)
    with pytest.raises(ApiException, match="resolver executors not implemented"):
      client.run_pipeline(experiment_id="e", job_name="j", pipeline_package_path=str(tmp_path / "resolver.yaml"))
    with pytest.raises(ApiException, match="Schedule cron is not a supported format"):
      client.create_recurring_run(experiment_id="e", job_name="j", cron_expression="0 3 * *",
                                  pipeline_package_path=str(tmp_path / "redes_pipeline.yaml"))


def test_submit_then_schedule_on_vertex_ai(tmp_path, monkeypatch, capsys):
  with FakeCloudStorage() as storage, FakeVertex() as vertex:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage.url)     # the pipeline root's bucket
    vertex_flags = ["--submit", "--vertex", "--project", "redes-test", "--region", "europe-west4",
                    "--service-account", "runner@redes-test.iam.gserviceaccount.com", "--vertex-endpoint", vertex.url]
    _compile(tmp_path, "--epochs", "5", *vertex_flags)
    _compile(tmp_path, *vertex_flags, "--schedule", "0 3 * * 1")
    _compile(tmp_path, *vertex_flags, "--schedule", "0 3 * * 1", "--schedule-timezone", "Europe/Madrid")
  out = capsys.readouterr().out
  assert "Vertex AI pipeline job projects/redes-test/locations/europe-west4/pipelineJobs/" in out
  assert "Vertex AI schedule projects/redes-test/locations/europe-west4/schedules/" in out
  assert "Vertex AI schedule 'TZ=UTC 0 3 * * 1' (0 3 * * 1 in UTC): next runs Mon " in out
  job, = vertex.created("pipelineJobs")
  assert job["runtimeConfig"]["gcsOutputDirectory"] == PIPELINE_ROOT
  assert job["runtimeConfig"]["parameterValues"]["epochs"] == 5
  assert job["serviceAccount"] == "runner@redes-test.iam.gserviceaccount.com"
  assert set(job["pipelineSpec"]["root"]["dag"]["tasks"]) == COMPONENTS
  utc, madrid = vertex.created("schedules")
  assert utc["cron"] == "TZ=UTC 0 3 * * 1" and utc["maxConcurrentRunCount"] in (1, "1")
  assert madrid["cron"] == "TZ=Europe/Madrid 0 3 * * 1"
  for schedule, zone in ((utc, "UTC"), (madrid, "Europe/Madrid")):     # standard cron, as Vertex AI reads it
    prefix, _, expression = schedule["cron"].partition(" ")
    runs = croniter(expression, AFTER.astimezone(zoneinfo.ZoneInfo(prefix.removeprefix("TZ="))))
    assert _mondays_at_three([runs.get_next(datetime.datetime) for _ in range(5)], zone)
  scheduled_job = utc["createPipelineJobRequest"]["pipelineJob"]
  assert scheduled_job["runtimeConfig"]["parameterValues"]["epochs"] == TrainingConfig.epochs
  tasks = scheduled_job["pipelineSpec"]["root"]["dag"]["tasks"]
  assert {tasks[name].get("cachingOptions", {}).get("enableCache", False) for name in COMPONENTS} == {False}
  accelerators = {e["container"]["resources"]["accelerator"]["type"]
                  for e in job["pipelineSpec"]["deploymentSpec"]["executors"].values()
                  if "resources" in e["container"]}
  assert accelerators == {"NVIDIA_L4"}
  assert "example-bucket" in storage.buckets                     # made for the pipeline root when missing


@pytest.mark.parametrize("args, message", [
    ([], "the following arguments are required: --pipeline-root"),
    (["--pipeline-root", "/local/dir"], "'/local/dir' is not a Cloud Storage path; expected gs://BUCKET[/PATH]"),
    (["--pipeline-root", "gs://"], "'gs://' is not a Cloud Storage path"),
    (["--pipeline-root", "s3://bucket/redes"], "TensorFlow 2.21 has no s3:// file system"),
    (["--pipeline-root", "minio://mlpipeline/v2/artifacts"], "TensorFlow 2.21 has no minio:// file system"),
    (["--pipeline-root", "gs://b/redes"], "'gs://b/redes' is not a Cloud Storage path"),
    (["--image", ""], "argument --image: '' is not a container image reference"),
    (["--vertex-accelerator", "NVIDIA_T4"], "'NVIDIA_T4' is not a Vertex AI GPU; expected one of NVIDIA_TESLA"),
    (["--submit"], "argument --submit: needs --host (the KFP API endpoint) or --vertex"),
    (["--host", "http://kfp"], "argument --host: needs --submit"),
    (["--submit", "--host", "kfp.example"], "'kfp.example' is not an http(s) URL"),
    (["--submit", "--host", "http://127.0.0.1:9"],
     "argument --host: cannot reach the Kubeflow Pipelines API at http://127.0.0.1:9"),
    (["--submit", "--vertex", "--project", "redes-test"], "argument --vertex: Vertex AI needs --project and --region"),
    (["--submit", "--host", "http://h", "--vertex", "--project", "redes-test", "--region", "europe-west4"],
     "exclude each other"),
    (["--submit", "--host", "http://h", "--schedule", "daily"], "'daily' has 1 field(s); expected five cron fields"),
    (["--submit", "--host", "http://h", "--schedule", "a b c d e"], "'a' in 'a b c d e' is not a cron field"),
    (["--submit", "--host", "http://h", "--schedule", "0 0 3 * * 1"], "has 6 field(s); expected five cron fields"),
    (["--submit", "--host", "http://h", "--schedule", "0 3 * * 7"], "day of week '7' in '0 3 * * 7' is out of range"),
    (["--submit", "--host", "http://h", "--schedule", "0 25 * * 1"], "'0 25 * * 1' is not a valid cron schedule"),
    (["--schedule", "0 3 * * 1"], "argument --schedule: needs --submit"),
    (["--submit", "--vertex", "--project", "redes-test", "--region", "europe-west4", "--schedule", "0 3 * * 1",
      "--schedule-timezone", "Mars/Olympus"], "argument --schedule-timezone: 'Mars/Olympus' is not an IANA time zone"),
    (["--submit", "--host", "http://h", "--schedule", "0 3 * * 1", "--schedule-timezone", "Europe/Madrid"],
     "'Europe/Madrid' differs from the Kubeflow scheduler's zone 'UTC'"),
    (["--gpu-toleration", "nvidia.com/gpu"], "'nvidia.com/gpu' is not KEY[=VALUE]:EFFECT"),
    (["--credentials-secret", "Redes_EE"], "argument --credentials-secret: 'Redes_EE' is not a Kubernetes Secret name"),
    (["--submit", "--vertex", "--project", "P", "--region", "europe-west4"],
     "argument --project: 'P' is not a Google Cloud project id"),
    (["--submit", "--vertex", "--project", "redes-test", "--region", "europe"],
     "argument --region: 'europe' is not a Google Cloud region"),
    (["--submit", "--vertex", "--project", "redes-test", "--region", "europe-west4", "--service-account", "runner"],
     "argument --service-account: 'runner' is not a service account email"),
    (["--data-dir", "/tmp"], "argument --data-dir: '/tmp' is a folder of this machine"),
    (["--frames", f"2020={__file__}"], f"argument --frames: {__file__!r} is a file of this machine, which the pods "
     "cannot read; expected a gs:// path or a file under regions/"),
])
def test_bad_flags_are_one_line(args, message, tmp_path, capsys, monkeypatch):
  monkeypatch.setenv("HOME", str(tmp_path))
  if args[:1] != ["--pipeline-root"] and args:
    args = ["--pipeline-root", PIPELINE_ROOT, *args]
  with pytest.raises(SystemExit) as exit_info:
    kubeflow_runner.main(["--output-dir", str(tmp_path), *args])
  err = capsys.readouterr().err
  assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
  assert not list(tmp_path.glob("redes_pipeline*"))


def test_a_region_file_outside_the_image_is_refused(tmp_path, capsys):
  region = tmp_path / "menongue.geojson"
  region.write_text(open(REGIONS[0]).read())
  with pytest.raises(SystemExit) as exit_info:
    kubeflow_runner.main(["--pipeline-root", PIPELINE_ROOT, "--output-dir", str(tmp_path), "--source", "earthengine",
                          "--geojsons", str(region), *REGIONS[1:]])
  assert exit_info.value.code == 2
  assert capsys.readouterr().err.strip() == (
      f"kubeflow_runner.py: error: argument --geojsons: {str(region)!r} is a file of this machine, which the pods "
      "cannot read; expected a gs:// path or a file under regions/ (copied into the image)")


def test_the_one_accepted_root_scheme_is_one_tensorflow_and_beam_both_write():
  import tensorflow as tf
  from apache_beam.io.filesystems import FileSystems
  schemes = tf.io.gfile.get_registered_schemes()
  assert "gs" in schemes and "s3" not in schemes           # why s3:// and minio:// roots are refused
  assert type(FileSystems.get_filesystem(f"{PIPELINE_ROOT}/x")).__name__ == "GCSFileSystem"
