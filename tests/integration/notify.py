#!/usr/bin/env python3
"""notify.py SOCKET LOG -- a stand-in for systemd's notification socket.

Binds a datagram socket at SOCKET and appends every message it receives to
LOG as one line, its fields joined with '|' ("READY=1|STATUS=...").  Runs
until killed.  Standard library only.
"""
import os
import socket
import sys


def main(argv):
    path, log = argv
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    with open(log, "a", buffering=1) as f:
        f.write("#bound\n")
        while True:
            data = s.recv(65536)
            f.write(data.decode("utf-8", "replace").strip("\n").replace("\n", "|") + "\n")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
