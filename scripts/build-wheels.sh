#!/usr/bin/env bash
# llama-cpp-python (the local OpenAI-compatible server the LLM tests talk to) ships only as source
# and takes ~10 minutes to compile. Build its wheel once per machine into a wheelhouse outside the
# repo, so fresh clones and CI runs on the same machine reuse it.
#
# Portable, not native: llama.cpp's default (-march=native) compiles in every instruction set the
# CPU lists, and a virtual machine may list ones its hypervisor does not let a process use (AMX
# here: `tileloadd` died with SIGILL on the first token, 2026-11-30). x86-64-v3 (AVX2, FMA, F16C,
# BMI2) runs on any CPU of the last decade; SmolLM2-135M needs no more.
set -euo pipefail
WHEELHOUSE="${WHEELHOUSE:-$HOME/.cache/citewise-wheels/portable}"
SPEC="llama-cpp-python==0.3.36"
mkdir -p "$WHEELHOUSE"
if compgen -G "$WHEELHOUSE/llama_cpp_python-0.3.36-*.whl" >/dev/null; then
  exit 0
fi
echo "build-wheels: compiling $SPEC once for this machine (about 10 minutes)"
if [[ "$(uname -m)" == "x86_64" ]]; then
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
fi
PY="backend/.venv/bin/python"
"$PY" -m pip --version >/dev/null 2>&1 || backend/.venv/bin/uv pip install --quiet -p "$PY" pip
# --no-cache-dir: pip would otherwise hand back a wheel it built earlier with other flags.
"$PY" -m pip wheel --quiet --disable-pip-version-check --no-cache-dir --no-deps -w "$WHEELHOUSE" "$SPEC"
