"""How open-source Kubeflow Pipelines 2.x and Vertex AI Pipelines execute a compiled PipelineSpec, emulated task by
task for tests/test_kubeflow_emulation.py: each task's container command and args, exactly as compiled, with the
ExecutorInput JSON its orchestrator builds substituted for {{$}}, run in the image's working directory (this
repository's root), in this process (`python -m M ARGS` as runpy.run_module(M) with sys.argv = ARGS) or, for the
tasks named, as a child process.
The bucket of the pipeline root, both as gs://BUCKET/ and as its local mount /gcs/BUCKET/, is a local folder.

Open-source KFP, from kubeflow/pipelines at 2.17.0 and 2.0.5 (the first and the newest 2.x), backend/src/v2:
- compiler/argocompiler/dag.go: only container and importer executors compile; any other kind fails the run
  ("resolver executors not implemented").
- driver/root_dag.go: the run's root is runtime_config.pipeline_root, else the kfp-launcher ConfigMap's, else
  minio://mlpipeline/v2/artifacts; the spec's defaultPipelineRoot is never read (only the UI pre-fills it).
- driver/resolve.go: parameterValues from constants and the run's parameters (root defaults filled in); numbers are
  doubles; a value for a STRING input that is not a string is sent as its text.
- metadata/converter.go toRuntimeArtifact, metadata/client.go: an input artifact is read back from MLMD, named by
  its MLMD id ("17"), typed `{"instanceSchema": ""}` (`Schema: ""`), with its custom properties as metadata
  (booleans stored as 1/0; display_name and, from 2.3, store_session_info added by the launcher).
- driver/driver.go provisionOutputs: output uri <root>/<pipeline name>/<run id>/<task>/<uuid>/<key>, name = key
  (2.15), type as the component declares it; with PUBLISH_LOGS (on by default from 2.5) an extra output
  `executor-logs` of type system.Artifact (uri .../executor-logs-0 from 2.16.1); outputs.outputFile
  <local path of the task root>/output_metadata.json (2.15; /tmp/kfp_outputs/output_metadata.json before).
- component/launcher_v2.go: adds component default parameters, replaces {{$}} with the protojson ExecutorInput,
  makes the parent folder of every output's local path (/gcs/..., which is the task root), runs the command,
  reads output_metadata.json when it exists (an artifact's uri and metadata override the provisioned ones), and
  records the outputs in MLMD.
Vertex AI (a closed service; formats from TFX 1.21.0, tfx/orchestration/kubeflow/v2/container/
kubeflow_v2_run_executor.py and its testdata): typed artifacts named
projects/<number>/locations/<region>/metadataStores/default/artifacts/<id>, parameter values typed as declared,
outputs under {gcsOutputDirectory}/{project number}/{job id}/{task}_{task uuid}/, and the executor output at
/gcs/... (Cloud Storage FUSE) of {that folder}/executor_output.json. Vertex AI runs resolver executors itself.

Runs are not cached (as scheduled runs, which kubeflow_runner.py submits with caching off).
"""
import copy
import dataclasses
import itertools
import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass
class Artifact:
  """An artifact as the orchestrator's metadata store keeps it."""
  id: int
  uri: str
  type: dict                 # the artifactType its producer declares
  metadata: dict


@dataclasses.dataclass
class TaskRun:
  name: str
  seconds: float
  executor_input: dict       # as substituted for {{$}} (bucket paths as the orchestrator writes them)
  outputs: dict              # output key -> Artifact
  error: str | None = None


class Orchestrator:
  """Runs every task of a compiled spec in topological order; subclasses build the ExecutorInput as their
  orchestrator does."""
  EXECUTOR_KINDS = ("container", "importer")
  _ids = itertools.count(1)

  POD_PATHS = ()              # absolute paths of a task's own container file system that the ExecutorInput names

  def __init__(self, spec: dict, bucket_dir: str, in_subprocess: tuple = ()):
    """in_subprocess: names of tasks whose command runs as a child process (python: this interpreter)."""
    self.spec = spec
    self.bucket_dir = str(bucket_dir).rstrip("/")
    self.in_subprocess = set(in_subprocess)
    self.store: dict[int, Artifact] = {}
    self.pod_dir = ""        # the file system of the task's container, fresh for every task

  # --- paths ------------------------------------------------------------------------------------------------
  def _bucket(self, root: str) -> str:
    return root.removeprefix("gs://").split("/")[0]

  def to_local(self, text: str) -> str:
    """Bucket paths (gs://B/..., /gcs/B/...) in text as paths of the local folder standing for the bucket, and the
    POD_PATHS as paths in the task's own folder."""
    text = text.replace(f"gs://{self.bucket}/", f"{self.bucket_dir}/").replace(f"/gcs/{self.bucket}/",
                                                                               f"{self.bucket_dir}/")
    for path in self.POD_PATHS:
      text = text.replace(path, self.pod_dir + path)
    return text

  def to_bucket(self, text: str) -> str:
    return text.replace(f"{self.bucket_dir}/", f"gs://{self.bucket}/")

  # --- the run ----------------------------------------------------------------------------------------------
  def order(self) -> list[str]:
    tasks = self.spec["root"]["dag"]["tasks"]
    done, order = set(), []
    while len(order) < len(tasks):
      ready = sorted(name for name, task in tasks.items() if name not in done and
                     set(task.get("dependentTasks", [])) | {a["taskOutputArtifact"]["producerTask"]
                                                            for a in task.get("inputs", {}).get("artifacts", {})
                                                            .values() if "taskOutputArtifact" in a} <= done)
      if not ready:
        raise ValueError(f"the DAG has a cycle among {sorted(set(tasks) - done)}")
      order.extend(ready)
      done.update(ready)
    return order

  def run(self, pipeline_root: str, parameters: dict) -> dict[str, TaskRun]:
    """Runs the whole DAG once with the run's parameters; stops at the first failed task."""
    self.bucket = self._bucket(pipeline_root)
    self._pods = f"{self.bucket_dir}.pods"
    os.makedirs(self._pods, exist_ok=True)
    self.root = pipeline_root.rstrip("/")
    self.run_id = str(uuid.uuid4())
    root_parameters = self.spec["root"].get("inputDefinitions", {}).get("parameters", {})
    self.parameters = {**{k: p["defaultValue"] for k, p in root_parameters.items() if "defaultValue" in p},
                       **parameters}
    results = {}
    for name in self.order():
      results[name] = self._run_task(name, results)
      if results[name].error:
        break
    return results

  def _component(self, task: dict) -> dict:
    return self.spec["components"][task["componentRef"]["name"]]

  def _parameter_values(self, task: dict) -> dict:
    declared = self._component(task).get("inputDefinitions", {}).get("parameters", {})
    values = {}
    for key, source in task.get("inputs", {}).get("parameters", {}).items():
      if "componentInputParameter" in source:
        value = self.parameters[source["componentInputParameter"]]
      else:
        value = source["runtimeValue"]["constant"]
      values[key] = self.parameter_value(value, declared[key]["parameterType"])
    for key, spec in declared.items():     # the launcher adds component defaults
      if key not in values and "defaultValue" in spec:
        values[key] = self.parameter_value(spec["defaultValue"], spec["parameterType"])
    return values

  def _run_task(self, name: str, results: dict) -> TaskRun:
    task = self.spec["root"]["dag"]["tasks"][name]
    component = self._component(task)
    executor = self.spec["deploymentSpec"]["executors"][component["executorLabel"]]
    kind, = executor
    if kind not in self.EXECUTOR_KINDS:
      return TaskRun(name, 0.0, {}, {}, f"{kind} executors not implemented")
    inputs = {key: results[source["taskOutputArtifact"]["producerTask"]].outputs[
                  source["taskOutputArtifact"]["outputArtifactKey"]]
              for key, source in task.get("inputs", {}).get("artifacts", {}).items()}
    outputs = component.get("outputDefinitions", {}).get("artifacts", {})
    executor_input = self.executor_input(name, inputs, outputs, self._parameter_values(task))
    self.pod_dir = tempfile.mkdtemp(prefix=f"{name}-", dir=self._pods)
    started = time.time()
    error = self.execute(executor["container"], executor_input, name in self.in_subprocess)
    produced = {} if error else self._record(executor_input, outputs)
    return TaskRun(name, time.time() - started, executor_input, produced, error)

  def execute(self, container: dict, executor_input: dict, in_subprocess: bool = False) -> str | None:
    """Runs the container's command with {{$}} replaced; None on success, else the error's last line."""
    # Cloud Storage has no folders (any prefix takes objects), so the folder standing for the bucket gets the parent
    # of every output; on open-source KFP the launcher makes these local parents (/gcs/...) too.
    for artifact_list in executor_input["outputs"]["artifacts"].values():
      os.makedirs(os.path.dirname(self.to_local(artifact_list["artifacts"][0]["uri"])), exist_ok=True)
    serialized = json.dumps(executor_input, separators=(",", ":"))
    command = [self.to_local(part.replace("{{$}}", serialized)) for part in container["command"] + container["args"]]
    if any("{{$" in part for part in command):
      return f"unresolved placeholder in {[p for p in command if '{{$' in p]}"
    if command[:2] != ["python", "-m"]:
      return f"the emulation runs `python -m MODULE` commands; got {command[:3]}"
    if in_subprocess:
      done = subprocess.run([sys.executable, *command[1:]], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=False)
      return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    sys.argv = [command[2], *command[3:]]
    os.chdir(REPO_ROOT)
    try:
      runpy.run_module(command[2], run_name="__main__", alter_sys=True)
    except SystemExit as done:
      if done.code not in (None, 0):
        return f"exit code {done.code}"
    except Exception:  # pylint: disable=broad-except  (a failed task, reported as the orchestrator would)
      return traceback.format_exc().strip().splitlines()[-1]
    finally:
      sys.argv = saved_argv
      os.chdir(saved_cwd)
    return None

  def _record(self, executor_input: dict, declared: dict) -> dict:
    """The task's outputs as the metadata store records them: the provisioned artifacts, with what the executor
    output file says merged in."""
    path = self.to_local(executor_input["outputs"]["outputFile"])
    written = {}
    if os.path.exists(path):
      with open(path) as f:
        written = json.loads(self.to_bucket(f.read())).get("artifacts", {})
    outputs = {}
    for key, artifact_list in executor_input["outputs"]["artifacts"].items():
      provisioned = artifact_list["artifacts"][0]
      reported = (written.get(key, {}).get("artifacts") or [{}])[0]
      metadata = self.stored_metadata({**provisioned.get("metadata", {}), **reported.get("metadata", {})}, key)
      artifact = Artifact(next(self._ids), reported.get("uri") or provisioned["uri"],
                          declared.get(key, {}).get("artifactType", provisioned.get("type")), metadata)
      self.store[artifact.id] = artifact
      outputs[key] = artifact
    return outputs

  # --- what differs between orchestrators -------------------------------------------------------------------
  def parameter_value(self, value, parameter_type: str):
    raise NotImplementedError

  def executor_input(self, task: str, inputs: dict, outputs: dict, parameters: dict) -> dict:
    """The ExecutorInput of `task`: inputs {key: Artifact}, outputs {key: declared output}, parameter values."""
    raise NotImplementedError

  def stored_metadata(self, metadata: dict, key: str) -> dict:
    return metadata


class KubeflowPipelines(Orchestrator):
  """Open-source KFP: `version` (2, 17), the newest 2.x (PUBLISH_LOGS on, outputs named, output_metadata.json under
  the local path of the task root), or (2, 0), the first 2.x line (unnamed outputs without the uuid folder, no
  executor-logs output, /tmp/kfp_outputs/output_metadata.json in the container)."""
  POD_PATHS = ("/tmp/kfp_outputs/",)

  def __init__(self, spec, bucket_dir, in_subprocess=(), version=(2, 17)):
    super().__init__(spec, bucket_dir, in_subprocess)
    self.version = version

  def parameter_value(self, value, parameter_type):
    if isinstance(value, (bool, int)):
      value = float(value)                                     # structpb.NumberValue
    if parameter_type == "STRING" and not isinstance(value, str):
      value = f"{value:f}".rstrip("0").rstrip(".") if isinstance(value, float) else json.dumps(value)
    return value

  def _local(self, uri: str) -> str:
    return "/gcs/" + uri.removeprefix("gs://")                 # component.LocalPathForURI

  def executor_input(self, task, inputs, outputs, parameters):
    salt = f"/{uuid.uuid4()}" if self.version >= (2, 4) else ""
    task_root = f"{self.root}/{self.spec['pipelineInfo']['name']}/{self.run_id}/{task}{salt}"

    def output(key, artifact_type, uri):
      return {"artifacts": [{**({"name": key} if self.version >= (2, 15) else {}), "type": artifact_type,
                             "uri": uri}]}
    artifacts = {key: output(key, copy.deepcopy(spec["artifactType"]), f"{task_root}/{key}")
                 for key, spec in outputs.items()}
    if self.version >= (2, 5):
      suffix = "-0" if self.version >= (2, 16, 1) else ""
      artifacts["executor-logs"] = output("executor-logs", {"schemaTitle": "system.Artifact"},
                                          f"{task_root}/executor-logs{suffix}")
    session = ({"store_session_info": json.dumps({"Provider": "gs", "Params": {"fromEnv": "false"}})}
               if self.version >= (2, 3) else {})
    output_file = (f"{self._local(task_root)}/output_metadata.json" if self.version >= (2, 15)
                   else "/tmp/kfp_outputs/output_metadata.json")
    return {
        "inputs": {"artifacts": {key: {"artifacts": [{"name": str(a.id), "type": {"instanceSchema": ""}, "uri": a.uri,
                                                      "metadata": a.metadata | session}]}
                                 for key, a in inputs.items()},
                   "parameterValues": parameters},
        "outputs": {"artifacts": artifacts, "outputFile": output_file},
    }

  def stored_metadata(self, metadata, key):
    stored = {k: float(v) if isinstance(v, bool) else v for k, v in metadata.items()}   # MLMD has no booleans
    stored.setdefault("display_name", key)
    return stored


class VertexPipelines(Orchestrator):
  """Vertex AI Pipelines, in a project with this number and region."""
  PROJECT_NUMBER, REGION = "123456789012", "europe-west4"
  EXECUTOR_KINDS = ("container", "importer", "resolver")

  def resource_name(self, artifact_id: int) -> str:
    return f"projects/{self.PROJECT_NUMBER}/locations/{self.REGION}/metadataStores/default/artifacts/{artifact_id}"

  def parameter_value(self, value, parameter_type):
    return int(value) if parameter_type == "NUMBER_INTEGER" else value

  def executor_input(self, task, inputs, outputs, parameters):
    task_root = f"{self.root}/{self.PROJECT_NUMBER}/redes-{self.run_id[:8]}/{task}_{uuid.uuid4().int % 10**19}"
    return {
        "inputs": {"artifacts": {key: {"artifacts": [{"name": self.resource_name(a.id), "type": a.type, "uri": a.uri,
                                                      "metadata": a.metadata}]} for key, a in inputs.items()},
                   "parameterValues": parameters},
        "outputs": {"artifacts": {key: {"artifacts": [{"name": self.resource_name(next(self._ids)),
                                                       "type": copy.deepcopy(spec["artifactType"]),
                                                       "uri": f"{task_root}/{key}"}]}
                                  for key, spec in outputs.items()},
                    "outputFile": "/gcs/" + f"{task_root}/executor_output.json".removeprefix("gs://")},
    }
