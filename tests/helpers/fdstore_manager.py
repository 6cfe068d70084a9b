#!/usr/bin/env python3
"""fdstore_manager.py - plays systemd's service manager for the restart
tests: runs a daemon with NOTIFY_SOCKET set, keeps what it hands over with
FDSTORE=1 (by FDNAME, dropping a name on FDSTOREREMOVE=1), and when the
daemon dies by a signal restarts it (Restart=on-failure) passing the stored
descriptors as LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID from fd 3 on. It stops
when the daemon exits by itself (a graceful stop). Bounded: at most
--max-restarts restarts and --timeout seconds in all.

usage: fdstore_manager.py --dir DIR [--max-restarts N] [--timeout S] -- CMD...
Writes DIR/pids (one pid per start) and DIR/events (one line per message).
"""
import argparse
import array
import os
import select
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--max-restarts", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    path = os.path.join(a.dir, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    store = {}  # name -> list of fds
    events = open(os.path.join(a.dir, "events"), "a", buffering=1)
    pids = open(os.path.join(a.dir, "pids"), "a", buffering=1)
    deadline = time.monotonic() + a.timeout
    restarts = 0

    def spawn():
        names, fds = [], []
        for name, lst in store.items():
            for fd in lst:
                names.append(name)
                fds.append(fd)
        pid = os.fork()
        if pid == 0:
            # Stored descriptors become 3, 4, ... as sd_listen_fds expects.
            tmp = [os.dup(fd) for fd in fds]
            for i, fd in enumerate(tmp):
                os.dup2(fd, 3 + i, inheritable=True)
            env = dict(os.environ)
            env["NOTIFY_SOCKET"] = path
            if fds:
                env["LISTEN_FDS"] = str(len(fds))
                env["LISTEN_FDNAMES"] = ":".join(names)
                env["LISTEN_PID"] = str(os.getpid())
            os.closerange(3 + len(fds), 1024)
            os.execve(cmd[0], cmd, env)
        pids.write("%d\n" % pid)
        events.write("spawn pid=%d fds=%s\n" % (pid, ",".join(names)))
        return pid

    child = spawn()
    while time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], 0.05)
        if r:
            fds = array.array("i")
            msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - (len(data) % fds.itemsize)])
            fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
            name = fields.get("FDNAME", "stored")
            if fields.get("FDSTOREREMOVE") == "1":
                for fd in store.pop(name, []):
                    os.close(fd)
            if fields.get("FDSTORE") == "1":
                store.setdefault(name, []).extend(fds)
            else:
                for fd in fds:
                    os.close(fd)
            events.write(" ".join(msg.decode().split("\n")) + "\n")
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid == 0:
            continue
        if os.WIFSIGNALED(status) and restarts < a.max_restarts:
            events.write("died pid=%d signal=%d\n" % (pid, os.WTERMSIG(status)))
            restarts += 1
            child = spawn()
            continue
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        events.write("exit pid=%d status=%d\n" % (pid, code))
        return code
    events.write("timeout\n")
    os.kill(child, signal.SIGTERM)
    return 99


if __name__ == "__main__":
    sys.exit(main())
