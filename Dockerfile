# ledis in a container: the wheel is built in one stage and installed in a slim runtime stage
# (no compiler, no source tree). Every dependency has manylinux wheels; the build stage has gcc
# only for LEDIS_COMPILE=1 (build arg; compiles ledis's own hot path with Cython, setup.py),
# whose .so files need nothing more than the runtime stage's libc and Python.
#
#   docker build -t ledis .
#   docker run -d -p 6380:6380 -v ledis-data:/data ledis
#
# The store is /data/db and SAVE/BGSAVE checkpoints go next to it (/data/db.checkpoints), so both
# live in the volume. The server binds 0.0.0.0 inside the container: set a password
# (--requirepass, or requirepass in a config file) before publishing the port. Without one,
# protected mode (on by default, as in Redis) answers every client that is not 127.0.0.1
# inside the container -- so every client through the published port -- with "-DENIED ..."
# (docs/reliability.md); --protected-mode no lifts it for a private network.

FROM python:3.11-slim AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* && pip install --no-cache-dir "build>=1.0"
COPY . .
# docker build --build-arg LEDIS_COMPILE=1 . compiles the hot path (opt-in, see setup.py)
ARG LEDIS_COMPILE=0
RUN LEDIS_COMPILE=$LEDIS_COMPILE python -m build --wheel --outdir /dist .

FROM python:3.11-slim
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm /tmp/*.whl \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin ledis \
    && mkdir -p /data && chown ledis:ledis /data
USER ledis
WORKDIR /data
VOLUME /data
EXPOSE 6380
CMD ["ledis", "server", "--bind", "0.0.0.0", "--dir", "/data/db"]
