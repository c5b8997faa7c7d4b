#!/usr/bin/env bash
set -euo pipefail
echo "== Python client (wsrpc binding over libwsrpc, asyncio): the same exchange"
# The binding from the source tree finds build/libwsrpc.so itself; a pip-installed one
# (pip install ./bindings/python) bundles it.
PY=python3
[ -x build/venv/bin/python ] && PY=build/venv/bin/python
PYTHONPATH=bindings/python/src "$PY" examples/python/client.py --url "$URL"
