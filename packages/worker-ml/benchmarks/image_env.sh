#!/usr/bin/env bash
# The throughput benchmark in exactly the ML image's package set: the environment deploy/docker/Dockerfile
# builds for WORKER=ml (`uv sync --frozen --no-dev --no-editable --package antifragile-worker-ml --extra
# tracing`), with the image's Triton cache setting, and nothing from the dev group. Arguments go to
# train_throughput.py (e.g. --tiny on a CPU). Needs a C compiler on PATH, as the image has (gcc).
#   bash packages/worker-ml/benchmarks/image_env.sh --budget-seconds 120
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
env_dir="${IMAGE_ENV_DIR:-$root/.venv-ml-image}"
command -v cc >/dev/null || { echo "no C compiler: Triton builds its launcher with one (the image has gcc)" >&2; exit 2; }
cd "$root"
UV_PROJECT_ENVIRONMENT="$env_dir" uv sync --frozen --no-dev --no-editable --package antifragile-worker-ml --extra tracing
export TRITON_CACHE_DIR="${TRITON_CACHE_DIR:-$env_dir/triton-cache}"
echo "packages: $("$env_dir/bin/python" -c 'import importlib.metadata as m; print(len(list(m.distributions())))') distributions from uv.lock (the ML image's set)"
exec "$env_dir/bin/python" "$root/packages/worker-ml/benchmarks/train_throughput.py" "$@"
