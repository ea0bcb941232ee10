#!/usr/bin/env python3
"""Which port accesses left KVM for userspace, from a trace of KVM's events.

    scripts/count-pio-exits.py TRACE[.gz] LO-HI[,LO-HI...]
    scripts/count-pio-exits.py --self-test

TRACE is /sys/kernel/tracing/trace with the events kvm:kvm_exit,
kvm:kvm_userspace_exit and kvm:kvm_pio on. On one vCPU thread, a port
access exits the guest (kvm_exit, reason "io" on AMD, IO_INSTRUCTION on
Intel, the port in bits 16-31 of info1); KVM either serves it in the kernel
and enters the guest again, or leaves for userspace (kvm_userspace_exit,
KVM_EXIT_IO) before the guest's next exit. kvm_pio alone cannot tell: it
comes for every access, served in the kernel or not (for an IN that went
to userspace, on the next entry). LO-HI are the port ranges that matter
(the AC'97 BARs, inclusive). Prints one line:

    accesses=N io_exits=N exits_in_ranges=N unattributed=N exit_ports=PORT:N ...

The window is each vCPU thread's first traced guest exit onwards: an exit
to userspace before it began before the trace did (its guest exit was not
traced yet, the events being switched on one at a time). The trace must be
frozen as a whole (tracing_on 0) before its events are switched off, or the
last exits lose their guest exit the same way.

accesses: kvm_pio events in the ranges; io_exits: all KVM_EXIT_IO exits;
exits_in_ranges: those on a port in the ranges; unattributed: those whose
guest exit was not a port access (or is not in the trace; they could be
anywhere); exit_ports: the four ports that exited most ("?": unattributed).
"""
import collections
import gzip
import re
import sys

EVENT = re.compile(r'-(\d+)\s+\[\d+\].*?\s(kvm_exit|kvm_pio|kvm_userspace_exit): (.*)')
IO_EXIT = re.compile(r'reason (?:io|IO_INSTRUCTION) .*info1 0x([0-9a-f]+)')
PIO = re.compile(r'pio_(?:read|write) at 0x([0-9a-f]+)')


def count(lines, ranges):
    inside = lambda port: port is not None and any(lo <= port <= hi for lo, hi in ranges)
    port_of = {}    # thread: the port of its last guest exit, None if not a port access
    accesses = io_exits = 0
    exit_ports = collections.Counter()
    for line in lines:
        m = EVENT.search(line)
        if not m:
            continue
        thread, event, text = m.groups()
        if event == 'kvm_exit':
            io = IO_EXIT.search(text)
            port_of[thread] = (int(io.group(1), 16) >> 16) & 0xffff if io else None
        elif event == 'kvm_pio':
            pio = PIO.search(text)
            accesses += bool(pio) and inside(int(pio.group(1), 16))
        elif 'KVM_EXIT_IO' in text and thread in port_of:
            io_exits += 1
            exit_ports[port_of.get(thread)] += 1
            port_of[thread] = None
    in_ranges = sum(n for port, n in exit_ports.items() if inside(port))
    unattributed = exit_ports[None]
    top = ' '.join(f'{port:#x}:{n}' if port is not None else f'?:{n}'
                   for port, n in exit_ports.most_common(4)) or 'none'
    return accesses, io_exits, in_ranges, unattributed, top


def parse_ranges(text):
    return [tuple(int(x, 16) for x in r.split('-')) for r in text.split(',') if r]


def main(argv):
    if argv[:1] == ['--self-test']:
        return self_test()
    path, ranges = argv[0], parse_ranges(argv[1])
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', errors='replace') as f:
        accesses, io_exits, in_ranges, unattributed, top = count(f, ranges)
    print(f'accesses={accesses} io_exits={io_exits} exits_in_ranges={in_ranges} '
          f'unattributed={unattributed} exit_ports={top}')
    return 0


def self_test():
    """An exit to userspace is the port of the guest exit before it; in-kernel accesses are not."""
    def ev(thread, text):
        return f'       CPU 0/KVM-{thread}     [000] .....    1.0: {text}'

    def access(thread, rw, port, exits=False):
        out = [ev(thread, f'kvm_exit: vcpu 0 reason io rip 0xffffffff81000000 info1 '
                          f'0x{port << 16 | (1 if rw == "read" else 0):016x} info2 0x0 '
                          'intr_info 0x00000000 error_code 0x00000000')]
        pio = ev(thread, f'kvm_pio: pio_{rw} at {port:#x} size 1 count 1 val 0x0 ')
        user = ev(thread, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)')
        if rw == 'write':
            return out + [pio] + ([user] if exits else [])
        return out + ([user, pio] if exits else [pio])

    hlt = [ev(7, 'kvm_exit: vcpu 0 reason hlt rip 0xffffffff81000000 info1 0x0 info2 0x0 '
                 'intr_info 0x00000000 error_code 0x00000000')]
    ranges = parse_ranges('c000-c0ff,c100-c13f')
    in_kernel = access(7, 'read', 0xc130) + access(7, 'write', 0xc11b) + access(7, 'read', 0xc02c)
    cases = [
        ('in-kernel accesses only', in_kernel, (3, 0, 0)),
        ('console OUT exits', in_kernel + access(7, 'write', 0x3f8, True), (3, 1, 0)),
        ('an OUT to the device exits', in_kernel + access(7, 'write', 0xc11b, True), (4, 1, 1)),
        ('an IN from the device exits', in_kernel + access(7, 'read', 0xc130, True), (4, 1, 1)),
        ('an OUT to the device in the kernel, then a console IN exits',
         access(7, 'write', 0xc130) + access(7, 'read', 0x3fa, True), (1, 1, 0)),
        ('a console IN exits, then the device is read in the kernel',
         access(7, 'read', 0x3fd, True) + access(7, 'read', 0xc130), (1, 1, 0)),
        ('another thread\'s exit is its own',
         access(8, 'write', 0xc11b) + access(7, 'write', 0x3f8, True), (1, 1, 0)),
        ('an I/O exit after a non-I/O guest exit is not the device\'s',
         access(7, 'write', 0xc11b) + hlt + [ev(7, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)')],
         (1, 1, 0)),
        ('an I/O exit before the thread\'s first traced guest exit is outside the window',
         [ev(7, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)')] + access(7, 'write', 0x3f8, True),
         (0, 1, 0)),
        ('a second I/O exit after one guest exit is unattributed, not the device\'s',
         access(7, 'write', 0xc11b, True) + [ev(7, 'kvm_userspace_exit: reason KVM_EXIT_IO (2)')],
         (1, 2, 1)),
    ]
    # (accesses, io_exits, exits_in_ranges); the last case's exit is unattributed.
    failed = 0
    for name, lines, want in cases:
        got = count(lines, ranges)[:3]
        ok = got == want
        failed += not ok
        print(f'{"ok" if ok else "not ok"} - count-pio-exits: {name}: {got}')
    print(f'{len(cases) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
