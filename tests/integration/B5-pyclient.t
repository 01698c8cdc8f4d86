#!/bin/sh
# B5-pyclient.t -- the Python queue client (src/python/httpq) and the WSGI
# adapter of httpq-wsgi(1) against a fake httpqd: the codec, flow control
# both ways, fd passing, batching, the PEP 3333 environ and responses,
# start-up errors (tests/python/test_client.py, which prints TAP).
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

HQ_PYSRC="${HQ_SRCDIR:-$HQ_TESTS/..}/src/python"
export HQ_PYSRC
exec "$HQ_PYTHON" "$HQ_TESTS/python/test_client.py"
