#!/usr/bin/env python3
"""Self-test of tools/guest/pcm-find, the Linux guest's recording checker.

    scripts/pcm-find-self-test.py PCM_FIND

Builds recordings around make-test-audio.py --capture's files and checks
that pcm-find passes the good ones and fails the bad ones. Prints
"ok - ..." / "not ok - ..." per case; exit 0 if every case was judged right.
"""
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))


def read(path):
    with wave.open(path, 'rb') as w:
        return w.getnchannels(), w.getframerate(), w.readframes(w.getnframes())


def write(path, channels, rate, data):
    with wave.open(path, 'wb') as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)


def gained(data, db):
    """As the codec's record gain does: a Q16 factor, rounded, clipped."""
    q16 = round(65536 * 10 ** (db / 20))
    s = struct.unpack(f'<{len(data) // 2}h', data)
    out = [max(-32768, min(32767, (x * q16 + 32768) >> 16)) for x in s]
    return struct.pack(f'<{len(out)}h', *out)


def nudged(data, sample, by):
    s = list(struct.unpack(f'<{len(data) // 2}h', data))
    s[sample] += by
    return struct.pack(f'<{len(s)}h', *s)


def main():
    finder = sys.argv[1]
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, f'{HERE}/make-test-audio.py', '--capture', tmp], check=True)
    ch, rate, ref = read(f'{tmp}/rec48.wav')
    _, mrate, mic = read(f'{tmp}/mic48.wav')
    changed = bytearray(ref)
    changed[1000] ^= 1
    _, _, loop = read(f'{tmp}/loop48.wav')
    looped = loop[-9600:] + loop + loop[:4000]
    loop_changed = bytearray(looped)
    loop_changed[9600 + 5000] ^= 4
    cases = [  # name, recording (channels, rate, data), reference, must pass
        ('the file after silence', (ch, rate, b'\0' * 4000 + ref + b'\0' * 400), 'rec48', True),
        ('a changed sample', (ch, rate, b'\0' * 4000 + bytes(changed)), 'rec48', False),
        ('noise before the file', (ch, rate, b'\1\0' * 2000 + ref), 'rec48', False),
        ('a frame missing', (ch, rate, ref[:8000] + ref[8004:]), 'rec48', False),
        ('the file 2 bytes off (channels swapped)', (ch, rate, b'\0' * 2 + ref + b'\0' * 2), 'rec48', False),
        ('the file cut short', (ch, rate, ref[:len(ref) // 2]), 'rec48', False),
        ('a wrong rate', (ch, 44100, ref), 'rec48', False),
        ('mono mic as 2-channel frames, odd offset', (2, mrate, b'\0' * 6 + mic + b'\0' * 2), 'mic48', True),
        ('-a a looped stream: the whole file after its own tail', (ch, rate, looped), 'loop48', True),
        ('-a a looped stream with a changed sample', (ch, rate, bytes(loop_changed)), 'loop48', False),
        ('-g the looped stream through +12 dB', (ch, rate, gained(looped, 12.0)), 'loop48', 12.0),
        ('-g the looped stream through +22.5 dB', (ch, rate, gained(looped, 22.5)), 'loop48', 22.5),
        ('-g the looped stream at 0 dB', (ch, rate, looped), 'loop48', 0.0),
        ('-g +12 dB with one sample off by 3', (ch, rate, nudged(gained(looped, 12.0), 9600 + 6000, 3)), 'loop48', False),
        ('-g +12 dB with a frame missing', (ch, rate, gained(looped[:20000] + looped[20004:], 12.0)), 'loop48', False),
        ('-g +12 dB where the file is never whole', (ch, rate, gained(loop[:150000], 12.0)), 'loop48', False),
        ('-g +12 dB: a copy cut short (an overrun), then a whole one', (ch, rate, gained(loop[:60000] + loop[90000:] + loop, 12.0)), 'loop48', 12.0),
        ('-a a copy cut short, then a whole one', (ch, rate, loop[:60000] + loop[90000:] + loop), 'loop48', True),
    ]
    wrong = 0
    for name, (c, r, data), reference, good in cases:
        path = f'{tmp}/case.wav'
        write(path, c, r, data)
        flags = name.split()[0] if name.startswith('-') else None
        res = subprocess.run([finder] + ([flags] if flags else []) + [path, f'{tmp}/{reference}.wav'],
                             capture_output=True, text=True)
        ok = (res.returncode == 0) == (good is not False)
        if ok and good is not True and good is not False:
            # a gain: measured to 0.01 dB of what was applied
            m = re.search(r'gain ([-+][0-9.]+) dB', res.stdout)
            ok = m is not None and abs(float(m.group(1)) - good) < 0.01
        wrong += not ok
        print(f'{"ok" if ok else "not ok"} - pcm-find: {name} {"fails" if good is False else "passes"}'
              f' ({res.stdout.strip() or res.stderr.strip()})')
    return 1 if wrong else 0


if __name__ == '__main__':
    sys.exit(main())
