#!/bin/sh
# B6-wsgi-install.t -- `make install DESTDIR=...` puts httpq-wsgi in bin,
# its man page in man1 and the httpq package in pythondir, a folder the
# configured python3 searches (Debian: PREFIX/lib/python3.X/dist-packages,
# not the site-packages automake would pick), and the installed script runs.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

[ -n "$HQ_BUILDDIR" ] && [ -n "$HQ_INST_DIRS" ] && [ -n "$HQ_PY_DIRS" ] || {
	skip "needs HQ_BUILDDIR, HQ_INST_DIRS and HQ_PY_DIRS (run from make check)"
	done_testing
}
[ "$HQ_PYTHON_CONF" != : ] || {
	skip "configured without python3: httpq-wsgi is not installed"
	done_testing
}
eval "$HQ_INST_DIRS"
eval "$HQ_PY_DIRS"
hq_mktemp
W=$HQ_MKTEMP
D="$W/dest"
imake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }

imake -C "$HQ_BUILDDIR" install DESTDIR="$D" >"$W/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds" || diag "$(tail -n 20 "$W/install.log")"
[ -x "$D$bindir/httpq-wsgi" ]
ok $? "httpq-wsgi in bin: $bindir/httpq-wsgi"
for f in __init__.py client.py wsgi.py; do
	[ -f "$D$pythondir/httpq/$f" ]
	ok $? "the httpq package in pythondir: $pythondir/httpq/$f"
done
[ -f "$D$mandir/man1/httpq-wsgi.1" ]
ok $? "man page: $mandir/man1/httpq-wsgi.1"
is "$(head -n 1 "$D$bindir/httpq-wsgi")" "#!$HQ_PYTHON_CONF" "httpq-wsgi runs the configured interpreter"

# Does the interpreter search pythondir?  Debian's system python3 must (it
# is what CI and the README use); another (pyenv, a venv) may not, and then
# httpq-wsgi adds pythondir to its path itself.
if "$HQ_PYTHON_CONF" -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' "$pythondir"; then
	pass "$HQ_PYTHON_CONF searches pythondir $pythondir"
elif "$HQ_PYTHON_CONF" -c 'import sys; sys.exit(not (sys.prefix == "/usr" and sys.argv[1] in ("/usr", "/usr/local")))' "$prefix"; then
	fail "$HQ_PYTHON_CONF (the system's) searches pythondir $pythondir"
	diag "sys.path: $("$HQ_PYTHON_CONF" -c 'import sys; print(sys.path)')"
else
	# (distcheck's prefix, pyenv): not a failure, httpq-wsgi copes
	pass "$HQ_PYTHON_CONF does not search prefix $prefix: httpq-wsgi appends pythondir $pythondir itself"
fi

# The installed files work: the package imports from there, the script
# starts (and fails plainly without a daemon).
out=$(PYTHONPATH="$D$pythondir" "$HQ_PYTHON_CONF" -c 'import httpq.client, httpq.wsgi; print(httpq.client.__file__)')
is "$out" "$D$pythondir/httpq/client.py" "the installed package imports"
out=$(PYTHONPATH="$D$pythondir" "$D$bindir/httpq-wsgi" --help 2>&1)
like "$out" '^usage: httpq-wsgi .*--queue' "the installed httpq-wsgi runs (--help)"
out=$(cd "$W" && printf 'def app(e, s):\n    pass\n' >app.py &&
    PYTHONPATH="$D$pythondir" "$D$bindir/httpq-wsgi" --queue q --socket "$W/none.sock" app:app 2>&1)
is "$?" 1 "no daemon: exit status 1"
like "$out" "^httpq-wsgi: cannot connect to httpqd queue socket $W/none.sock: No such file or directory\$" \
    "  and a plain message"
done_testing
