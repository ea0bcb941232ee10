#!/usr/bin/env python3
"""Where are a hung L1's CPUs? Asks QEMU's human monitor (a unix socket).

    l1-hang-dump.py MONITOR_SOCKET          the looks, addresses in hex
    l1-hang-dump.py --name KALLSYMS <LOOKS  the same, addresses named
    l1-hang-dump.py --self-test

Three looks, a second apart: per CPU its RIP and the kernel text addresses
on the top of its stack (a poor man's backtrace). Naming is a second step,
after the hung QEMU is gone: the symbols come from /proc/kallsyms of
another boot of the same kernel (L1 boots with nokaslr, so its addresses
are the same in every boot; Debian's System.map is a placeholder). Modules
load where they may, so their addresses stay hex. Two looks with the same
RIP and stack say the CPU is stuck there; moving ones say it spins through
a loop (or the L1 is only slow).
"""
import bisect
import re
import socket
import sys
import time


KERNEL_TEXT = (0xffffffff80000000, 0xffffffffff000000)   # kernel and modules


def load_map(path):
    syms = []
    try:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) == 3 and fields[1] in "tTwW":
                    syms.append((int(fields[0], 16), fields[2]))
    except OSError:
        return [], []
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def name_of(addrs, names, a):
    i = bisect.bisect_right(addrs, a) - 1
    if i < 0 or a - addrs[i] > 0x100000:
        return None
    return "%s+%#x" % (names[i], a - addrs[i])


class Monitor:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(5)
        self.s.connect(path)
        self.read()

    def read(self):
        out = b""
        while not out.endswith(b"(qemu) "):
            chunk = self.s.recv(65536)
            if not chunk:
                break
            out += chunk
        return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out.decode(errors="replace"))

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.read()


def look(mon):
    cpus = re.findall(r"CPU #(\d+)", mon.cmd("info cpus"))
    for n in range(3):
        for cpu in cpus:
            mon.cmd("cpu " + cpu)
            regs = mon.cmd("info registers")
            rip = re.search(r"RIP=([0-9a-f]+)", regs)
            rsp = re.search(r"RSP=([0-9a-f]+)", regs)
            hlt = re.search(r"HLT=(\d)", regs)
            if not rip or not rsp:
                print("look %d cpu %s: no registers" % (n, cpu))
                continue
            stack = mon.cmd("x/48gx %#x" % int(rsp.group(1), 16))
            frames = []
            for word in re.findall(r"0x([0-9a-f]{16})", stack.split(":", 1)[-1]):
                if KERNEL_TEXT[0] <= int(word, 16) < KERNEL_TEXT[1]:
                    frames.append("0x" + word)
            print("look %d cpu %s: RIP 0x%s%s; stack: %s" % (
                n, cpu, rip.group(1), " (halted)" if hlt and hlt.group(1) == "1" else "",
                " < ".join(frames[:16]) or "-"))
        time.sleep(1)


def name(path):
    addrs, names = load_map(path) if path else ([], [])
    print("(symbols: %s)" % (path or "none"))

    def sub(m):
        n = name_of(addrs, names, int(m.group(0), 16))
        return n or m.group(0)
    for line in sys.stdin:
        print(re.sub(r"0x[0-9a-f]{16}", sub, line), end="")


def self_test():
    """Each case: a look line, what naming must make of it."""
    import io
    import tempfile
    syms = ("ffffffff81000000 T _stext\nffffffff81a592e0 t native_safe_halt\n"
            "ffffffff81a59400 T amd_e400_idle\nffffffff81a59500 D some_data\n"
            "ffffffffa0001000 t vcpu_run\t[kvm]\n")
    cases = [
        ("RIP 0xffffffff81a592eb", "RIP native_safe_halt+0xb", "a text address: function+offset"),
        ("stack: 0xffffffff81a5943d < 0xffffffff81a592e0",
         "stack: amd_e400_idle+0x3d < native_safe_halt+0x0", "each stack word named"),
        ("RIP 0xffffffff81a59510", "RIP amd_e400_idle+0x110", "a data symbol does not name code"),
        ("RIP 0xffffffff80000010", "RIP 0xffffffff80000010", "before the first symbol: hex"),
        ("RIP 0xffffffffa0001010", "RIP 0xffffffffa0001010", "a module's address (4 fields): hex"),
        ("RIP 0xffffffff91a592eb", "RIP 0xffffffff91a592eb", "a megabyte past any symbol: hex"),
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".syms") as f:
        f.write(syms)
        f.flush()
        bad = 0
        for line, want, what in cases:
            sys.stdin, out = io.StringIO(line + "\n"), io.StringIO()
            real, sys.stdout = sys.stdout, out
            name(f.name)
            sys.stdout = real
            got = out.getvalue().splitlines()[-1]
            ok = got == want
            bad += not ok
            print("%s %s%s" % ("ok" if ok else "not ok", what, "" if ok else ": got " + got))
    sys.exit(1 if bad else 0)


def main():
    if sys.argv[1] == "--self-test":
        self_test()
    if sys.argv[1] == "--name":
        name(sys.argv[2] if len(sys.argv) > 2 else "")
        return
    try:
        look(Monitor(sys.argv[1]))
    except (OSError, socket.timeout) as e:
        print("no look at the CPUs: %s" % e)


if __name__ == "__main__":
    main()
