#!/usr/bin/env python3
"""Write the demo's bundled sound: 6 s of a C-major arpeggio over a bass
line, 48 kHz S16_LE stereo, synthesised here so the repository carries no
binary asset.

    scripts/make-demo-sound.py OUT.wav
"""
import math
import struct
import sys
import wave

RATE = 48000
NOTES = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63] * 4   # C E G C' G E
BASS = [65.41, 87.31, 98.00, 65.41]                            # C F G C


def main():
    frames = bytearray()
    step = 0.25
    total = int(RATE * step * len(NOTES))
    for i in range(total):
        t = i / RATE
        k = int(t / step)
        local = t - k * step
        env = min(1.0, local / 0.005) * math.exp(-local * 9.0)   # 5 ms attack: no click
        lead = math.sin(2 * math.pi * NOTES[k] * t) * env
        bass = math.sin(2 * math.pi * BASS[int(t / 1.5) % len(BASS)] * t) * 0.5
        fade = min(1.0, t / 0.05, (total / RATE - t) / 0.3)
        left = (0.55 * lead + 0.35 * bass) * fade
        right = (0.35 * lead + 0.55 * bass) * fade
        frames += struct.pack('<hh', int(left * 24000), int(right * 24000))
    with wave.open(sys.argv[1], 'wb') as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(frames))


if __name__ == '__main__':
    main()
