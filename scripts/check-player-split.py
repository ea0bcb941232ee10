#!/usr/bin/env python3
"""Check ac97play's files from the Linux-guest test: the guest played test48
(48 kHz), test44 (44.1 kHz), then 48 kHz again, so ac97play -o player.wav must
have written player.wav (48000 Hz, holding test48 bit for bit), player.2.wav
(44100 Hz, holding test44) and player.3.wav (48000 Hz).

    scripts/check-player-split.py CAPTURE_DIR AUDIO_DIR
"""
import os
import sys
import wave


def frames(path):
    with wave.open(path, 'rb') as w:
        return w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())


def main():
    cap, audio = sys.argv[1], sys.argv[2]
    want = [('player.wav', 48000, 'test48'), ('player.2.wav', 44100, 'test44'),
            ('player.3.wav', 48000, None)]
    notes = []
    for name, rate, ref in want:
        path = os.path.join(cap, name)
        if not os.path.exists(path):
            print(f'FAIL: no {name}')
            return 1
        r, ch, data = frames(path)
        if r != rate or ch != 2:
            print(f'FAIL: {name} is {r} Hz {ch} ch, expected {rate} Hz stereo')
            return 1
        if ref:
            _, _, src = frames(os.path.join(audio, f'{ref}.wav'))
            at = data.find(src)
            if at < 0 or at % 4:
                print(f'FAIL: {name} does not hold {ref}.wav unchanged')
                return 1
            notes.append(f'{name} {r} Hz holds {ref}.wav bit-identical')
        else:
            notes.append(f'{name} {r} Hz')
    extra = os.path.exists(os.path.join(cap, 'player.4.wav'))
    print(('FAIL: unexpected player.4.wav; ' if extra else 'PASS: ') + '; '.join(notes))
    return 1 if extra else 0


if __name__ == '__main__':
    sys.exit(main())
