# Redes pipeline image for Kubeflow Pipelines and Vertex AI: the same lock file and install script as the local
# install, plus TensorFlow's CUDA libraries (requirements/gpu.lock), so the Trainer and TileGen use the node's GPU
# (the NVIDIA driver comes from the node). Runs as a non-root user, who owns /gcs, /minio and /s3: the open-source
# KFP launcher copies artifacts there. Tasks run in the WORKDIR, where the compiled spec finds regions/.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 redes
WORKDIR /opt/redes
COPY requirements/ requirements/
COPY scripts/ scripts/
COPY setup.py local_runner.py kubeflow_runner.py ./
COPY redes/ redes/
COPY pipeline/ pipeline/
COPY components/ components/
COPY models/ models/
COPY system/ system/
COPY regions/ regions/
ENV REDES_DATA_DIR=/opt/redes-data
RUN bash scripts/install_env.sh /opt/venv \
    && /opt/venv/bin/uv pip install --python /opt/venv/bin/python --no-deps -r requirements/gpu.lock \
    && /opt/venv/bin/python -m redes.ingest.demo_data \
    && chown -R redes /opt/redes-data \
    && mkdir -p /gcs /minio /s3 && chown redes /gcs /minio /s3
ENV PATH=/opt/venv/bin:$PATH
USER redes
