"""What the pipeline image relies on, checked without a Docker engine: its base and user, the lock files it
installs (the local install's, plus CUDA libraries pinned to agree with it), and that every executor class path and
the run_fn of the compiled spec are importable from the folders it copies."""
import importlib
import os
import re

import yaml

import kubeflow_runner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _dockerfile():
  with open(os.path.join(ROOT, "Dockerfile")) as f:
    return f.read()


def _pins(name):
  with open(os.path.join(ROOT, "requirements", name)) as f:
    return dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", f.read(), re.M))


def test_base_user_and_install_route():
  text = _dockerfile()
  assert re.search(r"^FROM python:3\.11-slim", text, re.M)
  user = re.findall(r"^USER (\S+)", text, re.M)
  assert user and user[-1] not in ("root", "0")
  assert "bash scripts/install_env.sh /opt/venv" in text                  # the local install's script and lock
  assert "--no-deps -r requirements/gpu.lock" in text
  assert "COPY requirements/ requirements/" in text and "COPY scripts/ scripts/" in text


def test_gpu_lock_adds_cuda_libraries_and_agrees_with_the_main_lock():
  main, gpu = _pins("requirements.lock"), _pins("gpu.lock")
  shared = set(main) & set(gpu)
  assert "tensorflow" in shared and {name: gpu[name] for name in shared} == {name: main[name] for name in shared}
  assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12", "nvidia-cuda-runtime-cu12"} <= set(gpu) - set(main)


def test_kfp_launcher_folders_belong_to_the_user_and_regions_are_in_the_workdir():
  text = _dockerfile()
  assert "mkdir -p /gcs /minio /s3 && chown redes /gcs /minio /s3" in text   # the launcher copies artifacts there
  assert re.findall(r"^WORKDIR (\S+)", text, re.M) == ["/opt/redes"] and "COPY regions/ regions/" in text


def test_every_class_path_of_the_compiled_spec_is_copied_into_the_image_and_importable(tmp_path):
  assert kubeflow_runner.main(["--pipeline-root", "gs://example-bucket/redes", "--output-dir", str(tmp_path)]) == 0
  with open(tmp_path / "redes_pipeline.yaml") as f:
    spec = next(yaml.safe_load_all(f))
  paths, modules = set(), set()
  for executor in spec["deploymentSpec"]["executors"].values():
    container = executor["container"]
    assert container["command"][:2] == ["python", "-m"]
    modules.add(container["command"][2])
    paths.add(container["args"][container["args"].index("--executor_class_path") + 1])
  run_fn = spec["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]["run_fn"]["runtimeValue"]["constant"]
  paths.add(run_fn)
  copied = set(re.findall(r"^COPY (\w+)/ \1/", _dockerfile(), re.M))
  assert modules == {"pipeline.container_entrypoint"} and "pipeline" in copied
  importlib.import_module("pipeline.container_entrypoint")
  for path in sorted(paths):
    module, name = path.rsplit(".", 1)
    assert callable(getattr(importlib.import_module(module), name)), path
    top = module.split(".")[0]
    assert top == "tfx" or top in copied, f"{path}: {top}/ is not copied into the image"
  assert {p.split(".")[0] for p in paths} == {"components", "models", "tfx"}
  from tfx.orchestration.kubeflow.v2.compiler_utils import TITLE_TO_CLASS_PATH
  titles = {yaml.safe_load(a["artifactType"]["instanceSchema"])["title"]
            for component in spec["components"].values()
            for side in ("inputDefinitions", "outputDefinitions")
            for a in component.get(side, {}).get("artifacts", {}).values()}
  custom = titles - set(TITLE_TO_CLASS_PATH)     # imported by the executor entrypoint from their titles
  assert custom == {"components.Figure", "components.TileSet", "system.HTML", "system.Metrics"}
  for title in custom:
    module, name = title.rsplit(".", 1)
    assert getattr(importlib.import_module(module), name).TYPE_NAME == title and module in copied
