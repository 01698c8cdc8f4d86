#!/bin/sh
# 00-layering.t -- calls go down, and no two files call each other in a loop
# (STYLE.md, "Calls go down"; issue 9).
#
# Reads the object files of httpqd as built (src/lib/, src/shared/,
# src/daemon/) with nm: a file A refers to a file B when A leaves undefined
# a global symbol that B defines (a call or a use of a variable).  Then:
#
#  1. Layers: src/lib/ refers to nothing in src/shared/ or src/daemon/, and
#     src/shared/ to nothing in src/daemon/.  An upper layer that must be
#     called back hands a function pointer down (listener.c's accept handler,
#     control.c's ops from lifecycle.c, show sslcert's served-certificate
#     callback).
#  2. Order: src/daemon/httpqd.h lists the daemon's files top to bottom
#     ("Top to bottom:", one rank a line); every file of src/daemon/ is on
#     it, and a file calls only files of the ranks below its own (files of
#     one rank do not call each other), but for the hub below.
#  3. Cycles: the file graph has no strongly connected component of more
#     than one file, except {daemon/conn.c, daemon/request.c}: the hub.  A
#     connection parses and hands over requests; a request finishes, writes
#     and closes through its connection; both are one state machine cut in
#     two files.  response.c is below them: it formats and queues bytes and
#     never calls back into the connection or the request (a response that
#     is done is reported by a return value, not by a call up).
#
# Each failure names the files and the symbols that make the loop, so the
# fix starts from this output.
. "${HQ_TESTS:-$(cd "$(dirname "$0")/.." && pwd)}/integration/lib.sh"

: "${HQ_BUILDDIR:=$HQ_TESTS/..}"
: "${HQ_SRCDIR:=$HQ_TESTS/..}"
NM=${NM:-nm}

if ! command -v "$NM" >/dev/null 2>&1; then
	echo "1..0 # SKIP no nm"
	exit 0
fi

# "layer/file.o" then nm's "-P" lines of that object, for every object.
hq_mktemp
dump=$HQ_MKTEMP/nm.txt
for layer in lib shared daemon; do
	for o in "$HQ_BUILDDIR"/src/$layer/*.o; do
		[ -f "$o" ] || continue
		echo "@ $layer $(basename "$o" .o)"
		"$NM" -P "$o" 2>/dev/null || echo "! nm failed on $o"
	done
done >"$dump"

"$HQ_PYTHON" -S - "$dump" "$HQ_SRCDIR" <<'EOF'
import os, sys

dump, srcdir = sys.argv[1], sys.argv[2]
LOWER = {"lib": 0, "shared": 1, "daemon": 2}
HUB = {"daemon/conn", "daemon/request"}

n = 0
fails = 0
def ok(cond, name, diag=()):
    global n, fails
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond:
        fails += 1
        for line in diag:
            print("# " + line)

def source_name(layer, obj):
    # Automake prefixes per-target objects ("httpqd-conn", "libhq_a-store"):
    # the file is the longest tail after a '-' that names a source file.
    cands = [obj] + [obj.split("-", i)[-1] for i in range(1, obj.count("-") + 1)]
    for c in cands:
        if os.path.exists(os.path.join(srcdir, "src", layer, c + ".c")):
            return layer + "/" + c
    return None

defs = {}      # symbol -> set of files defining it
undefs = {}    # file -> set of symbols it leaves undefined
layer_of = {}
unknown, nmfail = [], []
cur = None
for line in open(dump):
    line = line.rstrip("\n")
    if line.startswith("@ "):
        _, layer, obj = line.split(" ", 2)
        cur = source_name(layer, obj)
        if cur is None:
            unknown.append(layer + "/" + obj + ".o")
        else:
            layer_of[cur] = layer
            undefs.setdefault(cur, set())
        continue
    if line.startswith("! "):
        nmfail.append(line[2:])
        continue
    if cur is None:
        continue
    f = line.split()
    if len(f) < 2:
        continue
    sym, typ = f[0], f[1]
    if typ == "U":
        undefs[cur].add(sym)
    elif typ in "TDBRCGSVW":     # global definitions only; lowercase is static
        defs.setdefault(sym, set()).add(cur)

ok(not nmfail, "nm reads every object", nmfail)
ok(not unknown, "every object names a source file", unknown)
need = {"lib/http1", "lib/router", "shared/ctlshow", "daemon/conn", "daemon/request",
        "daemon/lifecycle", "daemon/tls_ctx", "daemon/tls_conn"}
ok(need <= set(layer_of), "the objects of httpqd are built",
   ["missing: " + " ".join(sorted(need - set(layer_of)))])

# edges[a][b] = symbols of b that a uses
edges = {a: {} for a in layer_of}
for a, syms in undefs.items():
    for s in syms:
        for b in defs.get(s, ()):
            if b != a:
                edges[a].setdefault(b, set()).add(s)

# 1. Layers.
bad = []
for a in sorted(edges):
    for b in sorted(edges[a]):
        if LOWER[layer_of[b]] > LOWER[layer_of[a]]:
            bad.append("%s -> %s: %s" % (a, b, " ".join(sorted(edges[a][b]))))
ok(not bad, "src/lib/ and src/shared/ call nothing above them", bad)

# 2. The daemon's order, as httpqd.h states it.
rank = {}
diag = []
hdr = os.path.join(srcdir, "src", "daemon", "httpqd.h")
lines = open(hdr).read().split("\n")
try:
    i = next(k for k, l in enumerate(lines) if "Top to bottom" in l)
    while not lines[i].strip().startswith("*   "):
        i += 1
    r = 0
    while lines[i].strip().startswith("*   "):
        for name in lines[i].strip()[1:].split():
            rank["daemon/" + name[:-2] if name.endswith(".c") else name] = r
        r += 1
        i += 1
except (StopIteration, IndexError):
    diag.append("no \"Top to bottom\" list of files in " + hdr)
daemon = sorted(f for f in layer_of if layer_of[f] == "daemon")
for f in daemon:
    if f not in rank:
        diag.append("%s.c is not in httpqd.h's list" % f)
for f in sorted(rank):
    if f not in layer_of:
        diag.append("httpqd.h lists %s.c, which is not built" % f)
for a in daemon:
    for b in sorted(edges[a]):
        if a not in rank or b not in rank or {a, b} == HUB:
            continue
        if rank[b] <= rank[a]:
            diag.append("%s calls %s, %s it: %s" % (a, b,
                "beside" if rank[b] == rank[a] else "above",
                " ".join(sorted(edges[a][b]))))
ok(not diag, "src/daemon/ calls go down httpqd.h's list", diag)

# 3. Strongly connected components (Tarjan, iterative).
index, low, onstack, stack, sccs = {}, {}, set(), [], []
counter = [0]
for root in sorted(edges):
    if root in index:
        continue
    work = [(root, iter(sorted(edges[root])))]
    index[root] = low[root] = counter[0]; counter[0] += 1
    stack.append(root); onstack.add(root)
    while work:
        v, it = work[-1]
        w = next(it, None)
        if w is not None:
            if w not in index:
                index[w] = low[w] = counter[0]; counter[0] += 1
                stack.append(w); onstack.add(w)
                work.append((w, iter(sorted(edges[w]))))
            elif w in onstack:
                low[v] = min(low[v], index[w])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop(); onstack.discard(w); comp.add(w)
                if w == v:
                    break
            sccs.append(comp)

loops = [c for c in sccs if len(c) > 1 and not c <= HUB]
diag = []
for c in loops:
    diag.append("loop of %d files: %s" % (len(c), " ".join(sorted(c))))
    for a in sorted(c):
        for b in sorted(edges[a]):
            if b in c:
                diag.append("  %s -> %s: %s" % (a, b, " ".join(sorted(edges[a][b]))))
ok(not loops, "no call cycle between files but the hub conn.c <-> request.c", diag)

print("1..%d" % n)
sys.exit(1 if fails else 0)
EOF
