"""The compiled pipeline executed as each orchestrator executes it (tests/orchestrators.py, which says what it
takes from where). Sources: kubeflow/pipelines at 2.17.0 and 2.0.5, backend/src/v2/compiler/argocompiler/dag.go
(executor kinds), driver/root_dag.go (pipeline root), driver/resolve.go (parameters), metadata/client.go and
metadata/converter.go (input artifacts read back from MLMD), driver/driver.go provisionOutputs (outputs,
executor-logs, the output file), component/launcher_v2.go (placeholders, folders, executor output merge); TFX
1.21.0 tfx/orchestration/kubeflow/v2/container/kubeflow_v2_run_executor.py and kubeflow_v2_entrypoint_utils.py
(what TFX reads, Vertex AI's formats, with its testdata).

kubeflow_runner.py compiles once; then open-source Kubeflow Pipelines 2.x (untyped inputs named by MLMD id, the
extra executor-logs output, output_metadata.json under the task root's local path) and Vertex AI (typed inputs
named by resource name, executor_output.json) each run every task through its container command, twice: the
second run is a scheduled retraining (caching off), which must warm-start from the first run's blessed model.
The demo source, a few patches, one epoch; the pipeline root's bucket is a local folder.
"""
import json
import os

import pytest
import yaml

import kubeflow_runner
from redes.evaluation.record import read_overall
from tests.orchestrators import KubeflowPipelines, VertexPipelines

pytestmark = pytest.mark.slow
ROOT = "gs://redes-emulation/redes"
TASKS = {"PatchExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate", "RunParameters", "Trainer",
         "BicubicBaseline", "ImageEvaluator", "ComparisonFigure", "RunReport", "Pusher", "TileGen"}
TINY = ["--max-patches-per-split", "5", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4",
        "--min-z", "11", "--max-z", "12", "--bless-margin-db", "-30", "--bless-tolerance-db", "50",
        "--robustness-tolerance-db", "50", "--texture-ceiling", "100"]
TFX_ENTRYPOINT = ["python", "-m", "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
  out = tmp_path_factory.mktemp("compiled")
  assert kubeflow_runner.main(["--pipeline-root", ROOT, "--output-dir", str(out), *TINY]) == 0
  with open(out / "redes_pipeline.yaml") as f:
    spec = next(yaml.safe_load_all(f))
  with open(out / "redes_pipeline_job.json") as f:
    job = json.load(f)
  return {"kubeflow": (spec, spec["defaultPipelineRoot"]), "vertex": (job["pipelineSpec"],
                                                                       job["runtimeConfig"]["gcsOutputDirectory"]),
          "parameters": job["runtimeConfig"]["parameterValues"]}


def _two_runs(orchestrator, root: str, parameters: dict):
  """(orchestrator, first run, second run): {task: TaskRun} of each run."""
  assert root == ROOT
  return orchestrator, orchestrator.run(root, parameters), orchestrator.run(root, parameters)


@pytest.fixture(scope="module")
def kubeflow_runs(compiled, tmp_path_factory):
  spec, root = compiled["kubeflow"]          # one task as a real process: the command line as a pod runs it
  orchestrator = KubeflowPipelines(spec, tmp_path_factory.mktemp("bucket"), in_subprocess=("RunParameters",))
  return _two_runs(orchestrator, root, compiled["parameters"])


@pytest.fixture(scope="module")
def vertex_runs(compiled, tmp_path_factory):
  spec, root = compiled["vertex"]
  return _two_runs(VertexPipelines(spec, tmp_path_factory.mktemp("bucket")), root, compiled["parameters"])


@pytest.fixture(scope="module")
def kubeflow_2_0_run(compiled, tmp_path_factory):
  spec, root = compiled["kubeflow"]
  orchestrator = KubeflowPipelines(spec, tmp_path_factory.mktemp("bucket"), version=(2, 0))
  return orchestrator.run(root, compiled["parameters"])


@pytest.fixture(params=["kubeflow", "vertex"])
def runs(request):
  return request.getfixturevalue(f"{request.param}_runs")


def _local(orchestrator, uri: str) -> str:
  return orchestrator.to_local(uri + "/").rstrip("/")


def test_every_task_succeeds_through_its_container_command(runs):
  orchestrator, first, second = runs
  for run in (first, second):
    assert {name: task.error for name, task in run.items()} == {name: None for name in TASKS}
  for task in first.values():                 # every output lies under the root the run was given
    assert all(a.uri.startswith(ROOT + "/") for a in task.outputs.values())
  statistics = first["StatisticsGen"].executor_input["inputs"]["artifacts"]["examples"]["artifacts"][0]
  if isinstance(orchestrator, KubeflowPipelines):
    assert statistics["type"] == {"instanceSchema": ""} and statistics["name"].isdigit()
    outputs = first["StatisticsGen"].executor_input["outputs"]
    assert outputs["artifacts"]["executor-logs"]["artifacts"][0]["type"] == {"schemaTitle": "system.Artifact"}
    assert outputs["outputFile"].startswith("/gcs/redes-emulation/redes/redes/")
    assert outputs["outputFile"].endswith("/output_metadata.json")
  else:
    assert "title: tfx.Examples" in statistics["type"]["instanceSchema"]
    assert statistics["name"].startswith("projects/123456789012/locations/europe-west4/metadataStores/default/")


def test_tfx_entrypoint_alone_fails_on_what_open_source_kfp_sends(kubeflow_runs):
  """The emulation reproduces the failures pipeline.container_entrypoint exists for (tensorflow/tfx#7768)."""
  orchestrator, first, _ = kubeflow_runs
  executors = orchestrator.spec["deploymentSpec"]["executors"]
  errors = {name: orchestrator.execute({**executors[f"{name}_executor"]["container"], "command": TFX_ENTRYPOINT},
                                       first[name].executor_input) for name in ("StatisticsGen", "RunParameters")}
  assert "'NoneType' object has no attribute 'get'" in errors["StatisticsGen"]   # untyped input artifacts
  assert "system.Artifact" in errors["RunParameters"]                              # the executor-logs output


def test_the_blessing_is_carried_and_tiles_are_published(runs):
  orchestrator, first, _ = runs
  model = first["Trainer"].outputs["model"]
  blessing = first["ImageEvaluator"].outputs["blessing"].metadata
  assert blessing["blessed"] == 1 and blessing["blessing_message"] == "blessed"
  expected_name = (str(model.id) if isinstance(orchestrator, KubeflowPipelines)
                   else orchestrator.resource_name(model.id))
  assert blessing["current_model_id"] == expected_name and blessing["current_model"] == model.uri
  pusher_input = first["Pusher"].executor_input["inputs"]["artifacts"]["model_blessing"]["artifacts"][0]
  assert pusher_input["metadata"]["blessed"] == 1
  pushed = first["Pusher"].outputs["pushed_model"].metadata
  assert pushed["pushed"] == 1 and pushed["pushed_destination"].startswith(f"{ROOT}/serving/")
  assert os.path.exists(os.path.join(_local(orchestrator, pushed["pushed_destination"]), "saved_model.pb"))
  tiles = first["TileGen"].outputs["tiles"].metadata
  region = _local(orchestrator, tiles["region_dir"])
  written = sum(name.endswith(".png") for layer in ("original", "enhanced")
                for _, _, names in os.walk(os.path.join(region, layer)) for name in names)
  assert tiles["tile_count"] == written > 0
  assert os.path.exists(_local(orchestrator, tiles["viewer"]))
  assert os.path.getsize(os.path.join(region, "enhanced.mp4")) > 1000
  with open(os.path.join(region, "stac", "demo-model", "demo-model.json")) as f:   # the launcher's JSON numbers
    model_item = json.load(f)
  headline = first["RunReport"].outputs["metrics"].metadata
  assert model_item["properties"]["redes:metrics"]["psnr"] == pytest.approx(headline["psnr"], abs=1e-3)


def test_a_scheduled_run_warm_starts_from_the_first_runs_blessed_model(runs):
  orchestrator, first, second = runs
  served = first["Pusher"].outputs["pushed_model"].metadata["pushed_destination"]
  model_run = _local(orchestrator, second["Trainer"].outputs["model_run"].uri)
  with open(os.path.join(model_run, "training_history.json")) as f:
    assert json.load(f)["warm_start"] == _local(orchestrator, served)
  blessing = second["ImageEvaluator"].outputs["blessing"].metadata
  assert blessing["baseline_model"] == served                 # compared with the model being served
  metrics = read_overall(_local(orchestrator, second["ImageEvaluator"].outputs["evaluation"].uri))
  assert metrics["candidate"]["psnr_minus_blessed"] == pytest.approx(
      metrics["candidate"]["psnr"] - metrics["blessed"]["psnr"], abs=2e-4)
  assert second["Pusher"].outputs["pushed_model"].metadata["pushed_destination"] > served   # a newer version


def test_the_first_kfp_2_line_runs_it_too(kubeflow_2_0_run):
  """KFP 2.0 to 2.14 write the executor output at /tmp/kfp_outputs/output_metadata.json in the container, and
  2.0 to 2.4 add no executor-logs output and leave outputs unnamed."""
  run = kubeflow_2_0_run
  assert {name: task.error for name, task in run.items()} == {name: None for name in TASKS}
  outputs = run["Trainer"].executor_input["outputs"]
  assert outputs["outputFile"] == "/tmp/kfp_outputs/output_metadata.json"
  assert set(outputs["artifacts"]) == {"model", "model_run"}
  assert "name" not in outputs["artifacts"]["model"]["artifacts"][0]
  assert run["ImageEvaluator"].outputs["blessing"].metadata["blessed"] == 1
  assert run["Pusher"].outputs["pushed_model"].metadata["pushed"] == 1
  assert run["TileGen"].outputs["tiles"].metadata["tile_count"] > 0
