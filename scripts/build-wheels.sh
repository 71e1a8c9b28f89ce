#!/usr/bin/env bash
# llama-cpp-python (the local OpenAI-compatible server the LLM tests talk to) ships only as source
# and takes ~10 minutes to compile. Build its wheel once per machine into a wheelhouse outside the
# repo, so fresh clones and CI runs on the same machine reuse it.
set -euo pipefail
WHEELHOUSE="${WHEELHOUSE:-$HOME/.cache/citewise-wheels}"
SPEC="llama-cpp-python==0.3.36"
mkdir -p "$WHEELHOUSE"
if compgen -G "$WHEELHOUSE/llama_cpp_python-0.3.36-*.whl" >/dev/null; then
  exit 0
fi
echo "build-wheels: compiling $SPEC once for this machine (about 10 minutes)"
PY="backend/.venv/bin/python"
"$PY" -m pip --version >/dev/null 2>&1 || backend/.venv/bin/uv pip install --quiet -p "$PY" pip
"$PY" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$WHEELHOUSE" "$SPEC"
