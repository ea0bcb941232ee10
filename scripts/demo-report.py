#!/usr/bin/env python3
"""Turn the demo's capture into a WAV and a one-screen summary.

    scripts/demo-report.py CAPTURE_DIR SOURCE.wav OUT.wav SECONDS_TAKEN

Writes OUT.wav from the captured PCM (the format the device announced) and
prints duration, rate, level, and whether the source is in it bit for bit.
"""
import array
import glob
import math
import os
import re
import sys
import wave


def main():
    cap_dir, source, out, taken = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    data = bytearray()
    rate = channels = None
    for path in sorted(glob.glob(os.path.join(cap_dir, 'seg-*.raw'))):
        m = re.search(r'seg-\d+-(\d+)-(\d+)\.raw$', path)
        rate, channels = int(m.group(1)), int(m.group(2))
        with open(path, 'rb') as f:
            data += f.read()
    if rate is None:
        print('no audio was captured')
        return 1
    with wave.open(out, 'wb') as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(data))
    with wave.open(source, 'rb') as w:
        src = w.readframes(w.getnframes())
        src_rate = w.getframerate()
    samples = array.array('h', bytes(data))
    peak = max((abs(s) for s in samples), default=0)
    rms = math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))
    dbfs = lambda v: 20 * math.log10(v / 32768) if v else float('-inf')
    # At a frame boundary: two bytes off would be left and right swapped.
    offset = bytes(data).find(src)
    while offset >= 0 and offset % (2 * channels):
        offset = bytes(data).find(src, offset + 1)
    print(f'  captured   {out}')
    print(f'  duration   {len(samples) / channels / rate:.3f} s '
          f'({len(data)} bytes; source {len(src) / 4 / src_rate:.3f} s)')
    print(f'  format     {rate} Hz, {channels} channels, S16_LE (as the device announced it)')
    print(f'  level      peak {dbfs(peak):.1f} dBFS, RMS {dbfs(rms):.1f} dBFS')
    if offset >= 0:
        print(f'  bit-exact  yes: all {len(src)} bytes of the source, in order, at byte {offset} (a frame boundary)')
    else:
        print('  bit-exact  NO: the source is not in the capture unchanged')
    print(f'  time taken {taken:.0f} s (install, build, boot L1 + L2, play, capture)')
    return 0 if offset >= 0 else 1


if __name__ == '__main__':
    sys.exit(main())
