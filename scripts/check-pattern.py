#!/usr/bin/env python3
"""Check a WAV against the test guest's pattern (tools/testvm/testvm_proto.h).

    scripts/check-pattern.py FILE.wav SAMPLES exact|contains

exact: the file's data is the first SAMPLES pattern samples, nothing else.
contains: the SAMPLES pattern samples appear in it, in order, unchanged
(a live recording has silence around them). Prints PASS or FAIL and why.
"""
import sys
import wave


def pattern(i):
    return (((i * 2654435761) & 0xFFFFFFFF) >> 16 ^ i) & 0xFFFF


def main():
    path, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
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
              f'{"bit-identical" if ok else "differs from"} the {len(want)}-byte pattern')
        return 0 if ok else 1
    at = data.find(want)
    ok = at >= 0 and at % 2 == 0
    print(f'{"PASS" if ok else "FAIL"}: {len(want)}-byte pattern '
          f'{"found bit-identical at byte " + str(at) if ok else "not found unchanged"} '
          f'in {len(data)} bytes at {rate} Hz')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
