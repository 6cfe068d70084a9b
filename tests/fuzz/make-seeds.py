#!/usr/bin/env python3
# make-seeds.py - (re)write the seed corpora under tests/fuzz/corpus/.
#
# The seeds are small, real examples in each target's input format (see the
# comment at the top of each fuzz_*.c): kernel record texts as this
# machine's kernel sent them (6.x, x86_64), netlink framing with the
# kernel's nlmsg_len quirk, acks and status replies, config files, spool
# segments with torn tails, control requests and replies. Run it from
# anywhere; it replaces the corpus directories' contents.
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
TOP = os.path.dirname(os.path.dirname(HERE))

# (type, body) as the kernel sends them: the text after "msg=".
RECORDS = [
    (1300, b'audit(1796117749.645:733130): arch=c000003e syscall=124 success=yes exit=4561 '
           b'a0=0 a1=7ffd73922420 a2=0 a3=0 items=0 ppid=4560 pid=4562 auid=4294967295 '
           b'uid=65534 gid=65534 euid=65534 suid=65534 fsuid=65534 egid=65534 sgid=65534 '
           b'fsgid=65534 tty=(none) ses=4294967295 comm="audit_load" '
           b'exe="/work/main/_build/tests/helpers/audit_load" key="rauditd_stop_4347"'),
    (1327, b'audit(1796117749.601:733126): proctitle=2F776F726B2F6D61696E2F5F6275696C642F'
           b'72617564697464002D66002D63'),
    (1306, b'audit(1796117749.601:733126): saddr=100000000000000000000000'),
    (1305, b'audit(1796117749.645:733127): auid=4294967295 ses=4294967295 op=add_rule '
           b'key="rauditd_stop_4347" list=4 res=1'),
    (1305, b'audit(1796117568.617:680105): op=set audit_pid=27880 old=0 auid=4294967295 '
           b'ses=4294967295 res=1'),
    (1334, b'audit(1796117749.700:733140): prog-id=42 op=LOAD'),
    (1309, b'audit(1796117800.010:733200): argc=3 a0="ls" a1="-l" a2=2F746D702F612062'),
    (1307, b'audit(1796117800.010:733200): cwd="/root"'),
    (1302, b'audit(1796117800.010:733200): item=0 name="/usr/bin/ls" inode=1835 dev=fd:00 '
           b'mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 '
           b'cap_fe=0 cap_fver=0 cap_frootid=0'),
    (1112, b"audit(1796117900.000:733300): pid=812 uid=0 auid=1000 ses=3 "
           b"msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 "
           b"terminal=ssh res=success'"),
    (1006, b'audit(1796117900.001:733301): pid=812 uid=0 subj=unconfined old-auid=4294967295 '
           b'auid=1000 tty=(none) old-ses=4294967295 ses=3 res=1'),
    (1320, b'audit(1796117749.601:733126): '),
]

NLMSG_ERROR, NLMSG_DONE = 2, 3
AUDIT_GET, AUDIT_REPLACE = 1000, 1329


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def nlmsg(mtype, payload, nlmsg_len=None, seq=0, pid=0):
    if nlmsg_len is None:
        nlmsg_len = 16 + len(payload)
    return struct.pack("<IHHII", nlmsg_len, mtype, 0, seq, pid) + payload


def record(mtype, body, nul=False):
    """An audit record as the kernel's unicast path sends it: nlmsg_len is
    the payload length only (the quirk)."""
    if nul:
        body += b"\0"
    return nlmsg(mtype, body, nlmsg_len=len(body))


def dgram(msg, flags=0):
    return struct.pack("<HB", len(msg), flags) + msg


def netlink():
    for i, (t, b) in enumerate(RECORDS):
        write("fuzz_netlink", "record-%02d-%d" % (i, t), dgram(record(t, b)))
    # One event: SYSCALL, CWD, PATH, PROCTITLE, EOE with one serial.
    ev = b"".join(dgram(record(t, b)) for t, b in
                  [RECORDS[0], RECORDS[7], RECORDS[8], RECORDS[1], RECORDS[11]])
    write("fuzz_netlink", "event", ev)
    write("fuzz_netlink", "record-nul-terminated", dgram(record(*RECORDS[0], nul=True)))
    # A record with a standard nlmsg_len (header + payload), as a fixed
    # kernel would send it.
    t, b = RECORDS[3]
    write("fuzz_netlink", "record-standard-len", dgram(nlmsg(t, b)))
    write("fuzz_netlink", "spoofed", dgram(record(*RECORDS[0]), flags=1))
    write("fuzz_netlink", "truncated", dgram(record(1300, RECORDS[0][1] + b" x=" + b"y" * 64), flags=2))
    # An ack, a status reply (struct audit_status, 10 u32), DONE, batched.
    err = struct.pack("<i", 0) + nlmsg(1001, b"")[:16]
    st = struct.pack("<10I", 0x3ff, 1, 1, 4242, 0, 8192, 0, 0, 60000, 0)
    write("fuzz_netlink", "ack", dgram(nlmsg(NLMSG_ERROR, err, seq=0x52410001)))
    write("fuzz_netlink", "status-batch",
          dgram(nlmsg(AUDIT_GET, st) + nlmsg(NLMSG_DONE, struct.pack("<i", 0))))
    write("fuzz_netlink", "replace", dgram(record(AUDIT_REPLACE, struct.pack("<I", 4343))))
    write("fuzz_netlink", "malformed-len", dgram(nlmsg(1300, b"audit(1.0:1): x", nlmsg_len=4000)))
    write("fuzz_netlink", "short", dgram(b"\x10\x00\x00\x00\x14\x05"))
    # Serials out of order and with a gap, for the sequence-gap counter.
    gap = b"".join(dgram(record(1300, b"audit(1796117749.645:%d): arch=c000003e syscall=124" % s))
                   for s in (100, 102, 101, 5000, 103))
    write("fuzz_netlink", "serial-gaps", gap)


def fmt():
    for i, (t, b) in enumerate(RECORDS):
        write("fuzz_format", "record-%02d-%d" % (i, t), struct.pack("<HB", t, 0) + b)
    t, b = RECORDS[0]
    write("fuzz_format", "small-cap", struct.pack("<HB", t, 120) + b)
    write("fuzz_format", "newlines", struct.pack("<HB", 1309, 0) + b'audit(1.5:7): a0="x\ny" \n')
    write("fuzz_format", "unknown-type", struct.pack("<HB", 4321, 0) + b"audit(1796117749.645:1): x=1")


def config():
    write("fuzz_config", "shipped", open(os.path.join(TOP, "conf", "rauditd.conf"), "rb").read())
    cfgdir = os.path.join(TOP, "tests", "config")
    for n in sorted(os.listdir(cfgdir)):
        if n.endswith(".in") and n[:2] in ("01", "02", "05", "09", "14"):
            write("fuzz_config", "tests-config-" + n, open(os.path.join(cfgdir, n), "rb").read())
    write("fuzz_config", "every-kind",
          b"# every value type\nspool_dir = /var/log/rauditd\nrun_dir=/run/rauditd\n"
          b"segment_size = 1M\nnum_segments = 0\nmax_spool_size = 3G\nring_size = 64M\n"
          b"rcvbuf = 1073741824\nflush = incremental\nfreq = 1000\nbatch_size = 256K\n"
          b"enable = yes\nexclude_self = no\nlog_format = enriched\n"
          b"backlog_limit = keep\nbacklog_wait_time = 60000\nrate_limit = 0\nfailure = 1\n"
          b"priority_boost = 4\ncontrol_group = adm\nmetrics_file =\n\t \r\n")


def line(t, serial, body):
    return b"type=%s msg=audit(1796117749.%03d:%d): %s\n" % (t, serial % 1000, serial, body)


def segment(no, first_serial, n):
    s = line(b"DAEMON_ROTATE", 1, b"op=rotate-logs segment=%d reason=start pid=4533 res=success" % no)
    for i in range(n):
        s += line(b"SYSCALL", first_serial + i, b"arch=c000003e syscall=124 success=yes exit=0 "
                  b"key=\"k\"")
        s += line(b"PROCTITLE", first_serial + i, b"proctitle=61756469745F6C6F6164")
    return s


def spool_seed(name, flags, data, split=0, append=0, pad=0, start=0):
    hdr = struct.pack(">BHHBH", flags, split, append, pad, start)
    write("fuzz_spool_reader", name, hdr + data)


def spool():
    one = segment(1, 733126, 3)
    two = segment(2, 733129, 2)
    spool_seed("one-segment", 0, one)
    spool_seed("open-segment-partial-line", 0, one + b"type=SYSCALL msg=audit(1796117749.6")
    spool_seed("two-segments-torn-tail", 1, one + b"type=SYS" + two, split=len(one) + 8)
    spool_seed("missing-segment", 1 | 2, one + two, split=len(one))
    spool_seed("numbered-from-2", 1 | 32, one + two, split=len(one))
    spool_seed("bad-lines", 0, one + b"garbage\n\ntype=X\n" + two)
    spool_seed("live-append", 1 | 8, one + two, split=len(one), append=len(one) // 2 + 3)
    spool_seed("start-offset", 16, one, start=len(one) // 3)
    spool_seed("long-line", 4, b"\n" + one, pad=8)
    spool_seed("long-line-torn", 1 | 4, b"xx" + two, split=2, pad=3)


def ctl_hdr(t, n=0, version=1, reserved=0):
    return struct.pack("<HHII", version, t, n, reserved)


def control():
    # Daemon side: 0x00, chunking byte, then what the client sends.
    for t, name in [(1, "status"), (2, "rotate"), (3, "reload"), (5, "state"), (6, "resume"), (99, "unknown")]:
        write("fuzz_control", "srv-" + name, b"\x00\x00" + ctl_hdr(t))
    write("fuzz_control", "srv-state-small-rcvbuf", b"\x00\x80" + ctl_hdr(5))
    write("fuzz_control", "srv-byte-by-byte", b"\x00\x01" + ctl_hdr(1))
    write("fuzz_control", "srv-bad-version", b"\x00\x00" + ctl_hdr(1, version=2))
    write("fuzz_control", "srv-too-long", b"\x00\x00" + ctl_hdr(1, n=100000))
    write("fuzz_control", "srv-reserved", b"\x00\x00" + ctl_hdr(1, reserved=7))
    write("fuzz_control", "srv-payload", b"\x00\x05" + ctl_hdr(1, n=4) + b"abcd" + ctl_hdr(2))
    write("fuzz_control", "srv-incomplete", b"\x00\x00" + ctl_hdr(1)[:7])
    # Client side: 0x01, request index (0 status, 1 rotate, ... 4 state),
    # then the daemon's reply stream.
    status = (b"rauditd_version 0.1.0\nrauditd_pid 4533\nrauditd_state running\nuptime_s 12\n"
              b"kernel_valid 1\nkernel_age_ms 200\nkernel_enabled 1\nkernel_failure 1\n"
              b"kernel_pid 4533\nkernel_rate_limit 0\nkernel_backlog_limit 8192\nkernel_lost 0\n"
              b"kernel_backlog 0\nkernel_backlog_wait_time 60000\n"
              b"kernel_backlog_wait_time_actual 0\nkernel_loginuid_immutable 0 unlocked\n"
              b"kernel_lost_since_start 0\nreceived 120024\nwritten 120024\ndropped 0\n"
              b"dropped_ring_full 0\nin_ring 0\nwriter_state ok\nflush incremental\n"
              b"spool_dir /var/log/rauditd\nspool_torn_bytes 0\ncontrol_served 3\n")
    end = ctl_hdr(199)
    write("fuzz_control", "cli-status", b"\x01\x00" + ctl_hdr(101, len(status)) + status + end)
    write("fuzz_control", "cli-status-refused",
          b"\x01\x00" + ctl_hdr(103, 17) + b"permission denied" + end)
    write("fuzz_control", "cli-rotate-ok", b"\x01\x01" + ctl_hdr(102) + end)
    write("fuzz_control", "cli-state-text", b"\x01\x04" + ctl_hdr(104, 12) + b"state: ok\n\n\n" + end)
    write("fuzz_control", "cli-truncated", b"\x01\x00" + ctl_hdr(101, 50) + status[:20])
    write("fuzz_control", "cli-two-replies", b"\x01\x02" + ctl_hdr(102) + ctl_hdr(103, 1) + b"x" + end)


if __name__ == "__main__":
    for t in ("fuzz_netlink", "fuzz_format", "fuzz_config", "fuzz_spool_reader", "fuzz_control"):
        shutil.rmtree(os.path.join(CORPUS, t), ignore_errors=True)
    netlink()
    fmt()
    config()
    spool()
    control()
