#!/usr/bin/env python3
"""Self-test of tools/guest/pcm-find, the Linux guest's recording checker.

    scripts/pcm-find-self-test.py PCM_FIND

Builds recordings around make-test-audio.py --capture's files and checks
that pcm-find passes the good ones and fails the bad ones. Prints
"ok - ..." / "not ok - ..." per case; exit 0 if every case was judged right.
"""
import os
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


def main():
    finder = sys.argv[1]
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, f'{HERE}/make-test-audio.py', '--capture', tmp], check=True)
    ch, rate, ref = read(f'{tmp}/rec48.wav')
    _, mrate, mic = read(f'{tmp}/mic48.wav')
    changed = bytearray(ref)
    changed[1000] ^= 1
    cases = [  # name, recording (channels, rate, data), reference, must pass
        ('the file after silence', (ch, rate, b'\0' * 4000 + ref + b'\0' * 400), 'rec48', True),
        ('a changed sample', (ch, rate, b'\0' * 4000 + bytes(changed)), 'rec48', False),
        ('noise before the file', (ch, rate, b'\1\0' * 2000 + ref), 'rec48', False),
        ('a frame missing', (ch, rate, ref[:8000] + ref[8004:]), 'rec48', False),
        ('the file 2 bytes off (channels swapped)', (ch, rate, b'\0' * 2 + ref + b'\0' * 2), 'rec48', False),
        ('the file cut short', (ch, rate, ref[:len(ref) // 2]), 'rec48', False),
        ('a wrong rate', (ch, 44100, ref), 'rec48', False),
        ('mono mic as 2-channel frames, odd offset', (2, mrate, b'\0' * 6 + mic + b'\0' * 2), 'mic48', True),
    ]
    wrong = 0
    for name, (c, r, data), reference, good in cases:
        path = f'{tmp}/case.wav'
        write(path, c, r, data)
        res = subprocess.run([finder, path, f'{tmp}/{reference}.wav'], capture_output=True, text=True)
        ok = (res.returncode == 0) == good
        wrong += not ok
        print(f'{"ok" if ok else "not ok"} - pcm-find: {name} {"passes" if good else "fails"}'
              f' ({res.stdout.strip() or res.stderr.strip()})')
    return 1 if wrong else 0


if __name__ == '__main__':
    sys.exit(main())
