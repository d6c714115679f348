# The head-job image: what an AWS Batch head job runs for every Mantle run.
#
#   python -m mantle.launcher s3://BUCKET/PREFIX/runs/RUN_ID/
#
# It holds Java 17 and a pinned Nextflow (checked against its SHA-256), the nf-amazon plugin
# (so the head job needs no plugin download to reach Batch and S3), git (pipelines are checked
# out at their commit), the AWS CLI, and Mantle itself from the wheel built in this repository.
# Build and push: see docker/README.md. Environments point `head_image` at the pushed tag.
#
# Build arguments:
#   NEXTFLOW_VERSION  the Nextflow release (the platform's config layer is written for 24.10)
#   NEXTFLOW_SHA256   SHA-256 of that release's `nextflow-<version>-dist` file (required)
#   AWSCLI_VERSION    AWS CLI v2 release installed from AWS's own zip

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- Nextflow, downloaded and verified --------------------------------------------------------
FROM ${PYTHON_IMAGE} AS nextflow
ARG NEXTFLOW_VERSION=24.10.4
ARG NEXTFLOW_SHA256=
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN test -n "${NEXTFLOW_SHA256}" \
      || { echo "set --build-arg NEXTFLOW_SHA256=<sha256 of nextflow-${NEXTFLOW_VERSION}-dist>"; exit 1; } \
 && curl -fsSL --retry 4 --proto '=https' -o /nextflow \
      "https://github.com/nextflow-io/nextflow/releases/download/v${NEXTFLOW_VERSION}/nextflow-${NEXTFLOW_VERSION}-dist" \
 && echo "${NEXTFLOW_SHA256}  /nextflow" | sha256sum -c - \
 && chmod 0755 /nextflow

# --- AWS CLI v2 -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS awscli
ARG AWSCLI_VERSION=2.17.0
ARG TARGETARCH=amd64
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
RUN arch="$([ "${TARGETARCH}" = "arm64" ] && echo aarch64 || echo x86_64)" \
 && curl -fsSL --retry 4 --proto '=https' -o /tmp/awscli.zip \
      "https://awscli.amazonaws.com/awscli-exe-linux-${arch}-${AWSCLI_VERSION}.zip" \
 && unzip -q /tmp/awscli.zip -d /tmp \
 && /tmp/aws/install --install-dir /opt/aws-cli --bin-dir /opt/aws-cli/bin \
 && /opt/aws-cli/bin/aws --version

# --- the image --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG NEXTFLOW_VERSION=24.10.4
LABEL org.opencontainers.image.title="mantle-head-job" \
      org.opencontainers.image.description="Mantle's launcher with Nextflow ${NEXTFLOW_VERSION}"

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      openjdk-17-jre-headless git ca-certificates procps \
 && rm -rf /var/lib/apt/lists/*

COPY --from=nextflow /nextflow /usr/local/bin/nextflow
COPY --from=awscli /opt/aws-cli /opt/aws-cli
RUN ln -s /opt/aws-cli/bin/aws /usr/local/bin/aws

# Mantle from the wheel built by `uv build --wheel` (docker/README.md); nothing else from the
# repository goes into the image.
COPY dist/mantle-*.whl /tmp/wheels/
RUN pip install --no-cache-dir /tmp/wheels/mantle-*.whl && rm -rf /tmp/wheels

RUN useradd --create-home --uid 1000 mantle
USER mantle
WORKDIR /home/mantle
ENV NXF_HOME=/home/mantle/.nextflow \
    NXF_ANSI_LOG=false \
    PYTHONUNBUFFERED=1
# Fetch Nextflow's own dependencies and the AWS plugin now, not in every head job.
RUN nextflow -version && nextflow plugin install nf-amazon

# No entrypoint: Batch's job command is the whole argv (`python -m mantle.launcher URL`).
CMD ["python", "-m", "mantle.launcher"]
