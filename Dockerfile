# VoiceMood: CPU image. `docker build -t voicemood .` then
# `docker run --env-file .env -v voicemood-data:/data voicemood`.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CPU-only torch first, so no CUDA packages come with it.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY voicemood voicemood
COPY inference inference
COPY storage storage
COPY bots bots
COPY data_augment data_augment
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 voicemood && mkdir /data && chown voicemood /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    VOICEMOOD_DATA_DIR=/data \
    MALLOC_MMAP_THRESHOLD_=33554432 \
    MALLOC_TRIM_THRESHOLD_=17179869184 \
    MALLOC_TOP_PAD_=1073741824
USER voicemood
WORKDIR /home/voicemood
VOLUME ["/data"]
ENTRYPOINT ["voicemood"]
CMD ["--help"]
