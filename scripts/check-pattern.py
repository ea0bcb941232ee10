#!/usr/bin/env python3
"""Check a WAV against the test guest's pattern (tools/testvm/testvm_proto.h).

    scripts/check-pattern.py FILE.wav SAMPLES exact|contains
    scripts/check-pattern.py --self-test

exact: the file's data is the first SAMPLES pattern samples, nothing else.
contains: the SAMPLES pattern samples appear in it, in order, unchanged
(a live recording has silence around them). Prints PASS or FAIL and why.
"""
import os
import sys
import tempfile
import wave


def pattern(i):
    return (((i * 2654435761) & 0xFFFFFFFF) >> 16 ^ i) & 0xFFFF


def how_it_differs(data, want):
    """Say where: a missing head (the reader opened late), a missing tail, or the first bad byte."""
    if data and len(data) < len(want) and want.endswith(data):
        return f' (its first {len(want) - len(data)} bytes are missing)'
    if len(data) < len(want) and want.startswith(data):
        return f' (its last {len(want) - len(data)} bytes are missing)'
    first = next((i for i, (a, b) in enumerate(zip(data, want)) if a != b), min(len(data), len(want)))
    return f' (first difference at byte {first})'


def check(path, count, mode):
    try:
        with wave.open(path, 'rb') as w:
            data = w.readframes(w.getnframes())
            rate = w.getframerate()
    except (OSError, wave.Error, EOFError) as e:
        print(f'FAIL: {path}: {e}')
        return 1
    want = b''.join(pattern(i).to_bytes(2, 'little') for i in range(count))
    if mode == 'exact':
        ok = data == want
        print(f'{"PASS" if ok else "FAIL"}: {len(data)} bytes at {rate} Hz, '
              f'{"bit-identical" if ok else "differs from"} the {len(want)}-byte pattern'
              f'{"" if ok else how_it_differs(data, want)}')
        return 0 if ok else 1
    at = data.find(want)
    while at >= 0 and at % 4:       # a stereo frame is 4 bytes: L/R must not be swapped
        at = data.find(want, at + 1)
    ok = at >= 0
    print(f'{"PASS" if ok else "FAIL"}: {len(want)}-byte pattern '
          f'{"found bit-identical at byte " + str(at) if ok else "not found unchanged"} '
          f'in {len(data)} bytes at {rate} Hz')
    return 0 if ok else 1


def self_test():
    """Files that must pass and files that must fail, each for its own reason."""
    want = b''.join(pattern(i).to_bytes(2, 'little') for i in range(4800))
    cases = [
        ('exact copy', 'exact', want, 0),
        ('head missing (a reader that opened late)', 'exact', want[1828:], 1),
        ('one frame short at the end', 'exact', want[:-4], 1),
        ('one sample changed', 'exact', want[:100] + b'\0\0' + want[102:], 1),
        ('inside silence, frame-aligned', 'contains', bytes(4000) + want + bytes(400), 0),
        ('inside silence, 2 bytes off: L and R swapped', 'contains', bytes(4002) + want + bytes(402), 1),
        ('one sample changed inside silence', 'contains', bytes(400) + want[:-2] + b'\1\0', 1),
    ]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, mode, data, expect) in enumerate(cases):
            path = os.path.join(tmp, f'{i}.wav')
            with wave.open(path, 'wb') as w:
                w.setnchannels(2)
                w.setsampwidth(2)
                w.setframerate(48000)
                w.writeframes(data)
            got = check(path, len(want) // 2, mode)
            bad += got != expect
            print(f'{"ok" if got == expect else "not ok"} - check-pattern {mode}: {name} '
                  f'{"passes" if expect == 0 else "fails"}')
    return 1 if bad else 0


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        sys.exit(self_test())
    sys.exit(check(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
