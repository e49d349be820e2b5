#!/usr/bin/env python3
"""sockprobe.py SOCKET CASE - hostile callers on wxtoken's report socket.

Cases (each prints one line "name value" per figure, exits 1 on a failure
of the case itself, e.g. no answer at all):
  idle N       N callers connected that never send a byte and one that
               sends a byte a second; meanwhile 20 STATUS calls, timed:
               prints "status_max_ms MS" and "status_ok COUNT"
  long         a line over the limit: prints the answer
  binary       NUL and high bytes: prints the answer
  parallel N   N connections at once, each sends STATUS: prints "answered COUNT"
  silent       connect, send nothing: prints the answer and "after_ms MS"
  partial      send half a line and close the sending side: prints the answer
"""
import select
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(4096)
        if not c:
            break
        buf += c
    return buf.decode("ascii", "replace").rstrip("\n")


def status(path):
    t0 = time.monotonic()
    s = connect(path)
    s.sendall(b"STATUS\n")
    line = read_line(s)
    s.close()
    return (time.monotonic() - t0) * 1000, line


def case_idle(path, n, secs=5.0):
    """For 'secs': n silent callers and one dripping a byte a second (each
    replaced when the server drops it at its deadline), and a STATUS every
    0.1 s from another caller, timed."""
    idle = [connect(path) for _ in range(n)]
    drip = connect(path)
    worst, good, calls, replaced = 0.0, 0, 0, 0
    last = 0.0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        # The ones the server has answered (timed out) are replaced.
        gone, _, _ = select.select(idle + [drip], [], [], 0)
        for s in gone:
            s.close()
            if s is drip:
                drip = connect(path)
            else:
                idle[idle.index(s)] = connect(path)
            replaced += 1
        if time.monotonic() - last >= 1.0:
            try:
                drip.send(b"S")
            except OSError:
                pass
            last = time.monotonic()
        ms, line = status(path)
        calls += 1
        worst = max(worst, ms)
        if line.startswith(("OK ", "ERR ")) and not line.startswith("ERR -2"):
            good += 1
        time.sleep(0.1)
    print("status_calls %d" % calls)
    print("status_max_ms %.1f" % worst)
    print("status_ok %d" % good)
    print("idle_replaced %d" % replaced)
    for s in idle + [drip]:
        s.close()


def case_send(path, data):
    s = connect(path)
    try:
        s.sendall(data)
    except OSError:
        pass
    print(read_line(s))
    s.close()


def case_parallel(path, n):
    socks = [connect(path) for _ in range(n)]
    for s in socks:
        s.sendall(b"STATUS\n")
    answered = 0
    for s in socks:
        if read_line(s).startswith(("OK ", "ERR ")):
            answered += 1
        s.close()
    print("answered %d" % answered)


def case_silent(path):
    t0 = time.monotonic()
    s = connect(path)
    print(read_line(s))
    print("after_ms %d" % ((time.monotonic() - t0) * 1000))
    s.close()


def case_partial(path):
    s = connect(path)
    s.sendall(b"STAT")
    s.shutdown(socket.SHUT_WR)
    print(read_line(s))
    s.close()


def main():
    path, case = sys.argv[1], sys.argv[2]
    if case == "idle":
        case_idle(path, int(sys.argv[3]))
    elif case == "long":
        case_send(path, b"STATUS" + b"x" * 70000 + b"\n")
    elif case == "binary":
        case_send(path, b"STA\x00\xff\x01TUS\n")
    elif case == "parallel":
        case_parallel(path, int(sys.argv[3]))
    elif case == "silent":
        case_silent(path)
    elif case == "partial":
        case_partial(path)
    else:
        sys.exit("sockprobe.py: unknown case " + case)


main()
