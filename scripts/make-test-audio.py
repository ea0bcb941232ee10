#!/usr/bin/env python3
"""Write the test WAVs the Linux guest plays (deterministic, every file unique).

    scripts/make-test-audio.py OUTDIR
    scripts/make-test-audio.py --capture OUTDIR   what the host feeds the guest's recordings:
        rec48.wav 1.5 s 48 kHz stereo, rec44.wav 1 s 44.1 kHz stereo, mic48.wav 1 s 48 kHz mono,
        loop48.wav (and .raw) 1 s 48 kHz stereo at -27 dBFS peak: played into snd-aloop in a loop,
        recorded at every record gain up to +22.5 dB without clipping

test48.wav  3 s  48 kHz  S16_LE stereo  two tones + noise
test44.wav  2 s  44.1 kHz               (VRA)
tone1..4    1 s  48 kHz  1 kHz tone at -8 dBFS + unique noise (for the mixer steps)
pause.wav   3 s  48 kHz                 (paused and resumed while playing)
"""
import math
import struct
import sys
import wave


def lcg(seed, peak=1000):
    x = seed
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        yield (x >> 8) % (2 * peak + 1) - peak


def write(path, rate, seconds, seed, f1, f2, amp, channels=2, noise_peak=1000, raw=False):
    noise = lcg(seed, noise_peak)
    frames = bytearray()
    for i in range(int(rate * seconds)):
        t = i / rate
        left = amp * math.sin(2 * math.pi * f1 * t) + next(noise)
        right = amp * math.sin(2 * math.pi * f2 * t + 1.0) + next(noise)
        frames += struct.pack('<hh', int(round(left)), int(round(right)))[:2 * channels]
    with wave.open(path, 'wb') as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    if raw:
        with open(path[:-4] + '.raw', 'wb') as f:
            f.write(bytes(frames))


def main():
    if sys.argv[1] == '--capture':
        out = sys.argv[2]
        write(f'{out}/rec48.wav', 48000, 1.5, 31, 350.0, 450.0, 12000)
        write(f'{out}/rec44.wav', 44100, 1.0, 32, 370.0, 470.0, 12000)
        write(f'{out}/mic48.wav', 48000, 1.0, 33, 390.0, 390.0, 12000, channels=1)
        write(f'{out}/loop48.wav', 48000, 1.0, 34, 410.0, 610.0, 1100, noise_peak=200, raw=True)
        return
    out = sys.argv[1]
    write(f'{out}/test48.wav', 48000, 3.0, 1, 440.0, 660.0, 14000)
    write(f'{out}/test44.wav', 44100, 2.0, 2, 523.25, 784.0, 14000)
    for n in range(1, 5):
        write(f'{out}/tone{n}.wav', 48000, 1.0, 10 + n, 1000.0, 1000.0, 12000)
    write(f'{out}/pause.wav', 48000, 3.0, 20, 330.0, 495.0, 14000)


if __name__ == '__main__':
    main()
