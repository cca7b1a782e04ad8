#!/usr/bin/env bash
# run.sh installs tfd's peers and runs them side by side with tfd on the
# same inputs, alternately, and prints a Markdown table of medians, of
# tfd's time over each peer's, and of each peer's agreement with tfd's
# outputs (see bench/compare/README.md).
#
# Usage: bench/compare/run.sh [extra flags for `compare drive`]
#
# Environment:
#   QUICK=1        one round with short timing budgets (a smoke test)
#   ROUNDS=n       rounds over every workload and peer (default 3)
#   THREADS=1,2    thread counts (tfd workers, BLAS/ORT threads)
#   MODELS=a,b,…   human-models graph models to run (default: 10 of them)
#   SKIP=p,…       peers not to run: numpy, tfdeploy, ort, tfjs-wasm, tfjs-cpu
#                  (everything is still installed; nothing is skipped unless
#                  named here)
#
# Needs go, gcc, node/npm and root for apt-get (python3-numpy,
# libopenblas0-pthread, python3-onnx from Debian); npm packages go into
# bench/compare/cache/node and conformance/cache (both ignored by git).
# Any failed install stops the run with a message saying what failed.
# The exit status is that of the driver: 0, 1 if a run failed, 3 if a peer
# disagreed with tfd's outputs (the table is printed in every case).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="$here/cache"
py=/usr/bin/python3
models=${MODELS:-liveness,gender,emotion,mobileface,iris,blazeface-front,facemesh,movenet-lightning,handlandmark-full,handdetect}
rounds=${ROUNDS:-3}
drive_flags=()
if [ "${QUICK:-0}" = 1 ]; then
  rounds=1
  drive_flags+=(-warmup 1 -budget-ms 100)
fi

die() {
  echo "run.sh: $*" >&2
  exit 1
}
step() { echo "run.sh: $*" >&2; }
start=$(date +%s)

for t in go gcc node npm; do
  command -v "$t" >/dev/null 2>&1 || die "$t is not installed (run.sh needs go, gcc, node and npm)"
done

# --- Debian: NumPy on OpenBLAS, onnx -------------------------------------
# The python on PATH may be another build (pyenv) without Debian's
# packages: the peers run on /usr/bin/python3. Debian's python3-numpy
# links the reference BLAS unless an optimised one is installed:
# libopenblas0-pthread provides libblas.so.3 with a higher priority.
deb_ok() {
  [ -x "$py" ] && "$py" - <<'EOF' >/dev/null 2>&1
import numpy as np, onnx
a = np.ones((64, 64), np.float32)
a @ a
assert any("openblas" in l for l in open("/proc/self/maps")), "NumPy does not use OpenBLAS"
EOF
}
if deb_ok; then
  step "Debian packages present (python3-numpy on OpenBLAS, python3-onnx)"
else
  [ "$(id -u)" = 0 ] || die "python3-numpy, libopenblas0-pthread and python3-onnx are needed for $py; run as root or install them with apt-get"
  step "installing python3-numpy libopenblas0-pthread python3-onnx with apt-get"
  mkdir -p "$cache"
  apt-get update -qq >"$cache/apt.log" 2>&1 || { cat "$cache/apt.log" >&2; die "apt-get update failed (see above)"; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy libopenblas0-pthread python3-onnx >>"$cache/apt.log" 2>&1 ||
    { cat "$cache/apt.log" >&2; die "apt-get install python3-numpy libopenblas0-pthread python3-onnx failed (see above)"; }
  rm -f "$cache/apt.log"
  deb_ok || die "after apt-get, $py still cannot import numpy and onnx with NumPy on OpenBLAS (check: $py -c 'import numpy, onnx'; update-alternatives --display libblas.so.3-x86_64-linux-gnu)"
fi

# --- npm: ONNX Runtime and TF.js ----------------------------------------
# onnxruntime-node ships its Linux x64 CPU library in the package; its
# install script would download CUDA files, which cannot be fetched here,
# so scripts are off (and ONNXRUNTIME_NODE_INSTALL=skip says the same).
mkdir -p "$cache/node"
# npm packages ship stray Go files; a go.mod makes the cache a module of
# its own, so that ./... in the repository skips it.
[ -f "$cache/go.mod" ] || printf 'module tfdcache\n' >"$cache/go.mod"
stamp="$cache/node/.installed-from"
if [ -f "$stamp" ] && [ -d "$cache/node/node_modules" ] && cmp -s "$stamp" "$here/package.json"; then
  step "npm packages already installed in $cache/node"
else
  step "installing npm packages (onnxruntime-node, @tensorflow/tfjs-*) into $cache/node"
  rm -f "$stamp"
  cp "$here/package.json" "$cache/node/package.json"
  if ! ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$cache/node" --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error >"$cache/node/npm.log" 2>&1; then
    cat "$cache/node/npm.log" >&2
    die "npm install failed (see above, or $cache/node/npm.log); the peers need onnxruntime-node@1.30.0 and @tensorflow/tfjs-{core,converter,backend-cpu,backend-wasm}@4.22.0 from the npm registry"
  fi
  cp "$here/package.json" "$stamp"
fi
node "$here/runner.mjs" --node "$cache/node" --probe >/dev/null ||
  die "the Node peers do not load (onnxruntime-node's native library or the TF.js wasm backend; see above)"

# --- human-models: models and seeded inputs -----------------------------
step "human-models inputs (conformance/tfjs/gen.sh ${models//,/ })"
# shellcheck disable=SC2086
bash "$repo/conformance/tfjs/gen.sh" ${models//,/ } >&2 || die "conformance/tfjs/gen.sh failed (see above)"

# --- build, prepare, ONNX twins ------------------------------------------
step "building the tfd runner and the FMA peak probe"
mkdir -p "$cache/bin"
(cd "$repo" && go build -o "$cache/bin/compare" ./bench/compare) || die "go build ./bench/compare failed"
gcc -O2 -o "$cache/bin/peak" "$here/peak/peak.c" || die "gcc could not build peak/peak.c"
rm -rf "$cache/work"
"$cache/bin/compare" prepare -repo "$repo" -work "$cache/work" -humanmodels "$repo/conformance/cache/humanmodels" -models "$models" ||
  die "compare prepare failed"
"$py" "$here/make_onnx.py" "$cache/work" >&2 || die "make_onnx.py failed"
step "installs and preparation took $(($(date +%s) - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- run -----------------------------------------------------------------
set +e
"$cache/bin/compare" drive -work "$cache/work" -scripts "$here" -node "$cache/node" -python "$py" \
  -peak "$cache/bin/peak" -rounds "$rounds" -threads "${THREADS:-1,2}" -skip "${SKIP:-}" \
  -report "$cache/report.md" "${drive_flags[@]}" "$@"
status=$?
set -e
step "done in $(($(date +%s) - start)) s (report also in $cache/report.md)"
exit $status
