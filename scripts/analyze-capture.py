#!/usr/bin/env python3
"""Check what the host captured from ac97-emu against what the Linux guest played.

    scripts/analyze-capture.py CAPTURE_DIR AUDIO_DIR

CAPTURE_DIR holds ac97-capture's seg-NNN-RATE-CH.raw files; AUDIO_DIR the WAVs
of make-test-audio.py. The guest played, in this order (see linux-guest.sh):
test48 and test44 at 0 dB, tone1 with Master at -9 dB, tone2 with PCM at
-4.5 dB, tone3 with PCM at +6 dB, tone4 with Master muted, then pause.wav with
a pause in the middle. Each is located in the capture by an exact search for
the samples the codec's gain should produce, then compared in full: any
dropped, duplicated or altered sample is a mismatch. Prints RESULT lines.
"""
import array
import glob
import math
import os
import re
import sys
import wave

# name, master attenuation steps, PCM-out steps from 0 dB (negative: gain), nominal dB
PLAN = [
    ('test48', 0, 0, 0.0),
    ('test44', 0, 0, 0.0),
    ('tone1', 6, 0, -9.0),
    ('tone2', 0, 3, -4.5),
    ('tone3', 0, -4, +6.0),
    ('tone4', None, None, None),      # Master muted: silence
    ('pause', 0, 0, 0.0),
]


def q16(steps):
    """The codec's gain for a number of 1.5 dB steps, in Q16, derived afresh."""
    return round(65536 * 10 ** (-1.5 * steps / 20))


def scale(samples, gain):
    if gain == 65536:
        return samples
    out = array.array('h')
    for s in samples:
        v = (s * gain + 0x8000) >> 16
        out.append(max(-32768, min(32767, v)))
    return out


def load_wav(path):
    with wave.open(path, 'rb') as w:
        rate = w.getframerate()
        data = array.array('h', w.readframes(w.getnframes()))
    return rate, data


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def main():
    cap_dir, audio_dir = sys.argv[1], sys.argv[2]
    segs = []
    capture = bytearray()
    for path in sorted(glob.glob(os.path.join(cap_dir, 'seg-*.raw'))):
        m = re.search(r'seg-(\d+)-(\d+)-(\d+)\.raw$', path)
        with open(path, 'rb') as f:
            data = f.read()
        segs.append((len(capture), len(capture) + len(data), int(m.group(2))))
        capture += data
    print(f'RESULT capture_bytes={len(capture)}')
    print(f'RESULT capture_segments={" ".join(f"{e - s}@{r}" for s, e, r in segs)}')

    def rate_at(pos):
        for s, e, r in segs:
            if s <= pos < e:
                return r
        return None

    ok = True
    pos = 0
    mute_from = None
    for name, master, pcm, nominal in PLAN:
        rate, ref = load_wav(os.path.join(audio_dir, f'{name}.wav'))
        if master is None:
            mute_from = (pos, len(ref))
            continue
        gain = q16(master + pcm)
        expected = scale(ref, gain).tobytes()
        found = capture.find(expected[:4096], pos)
        while found >= 0 and found % 2:
            found = capture.find(expected[:4096], found + 1)
        if found < 0:
            print(f'RESULT {name}_found=no')
            ok = False
            continue
        got = capture[found:found + len(expected)]
        mism = sum(1 for i in range(0, len(expected), 2) if got[i:i + 2] != expected[i:i + 2]) \
            if got != expected else 0
        exact = got == expected
        seg_rate = rate_at(found)
        same_seg = rate_at(found + len(expected) - 1) == seg_rate
        cap = array.array('h', bytes(got))
        left = 20 * math.log10(max(1e-9, rms(cap[0::2])) / max(1e-9, rms(ref[0::2])))
        right = 20 * math.log10(max(1e-9, rms(cap[1::2])) / max(1e-9, rms(ref[1::2])))
        print(f'RESULT {name}_offset={found} {name}_bytes={len(expected)} '
              f'{name}_bit_exact={"yes" if exact else "no"} {name}_mismatched_samples={mism} '
              f'{name}_rate={seg_rate} {name}_level_db={left:+.2f}/{right:+.2f} '
              f'{name}_nominal_db={nominal:+.1f}')
        if not exact or seg_rate != rate or not same_seg:
            ok = False
        if abs(left - nominal) > 0.1 or abs(right - nominal) > 0.1:
            ok = False
        if mute_from is not None:
            # Between the last audible item and this one, the muted tone must be
            # a run of silence at least as long as it. (The DMA may also play a
            # little of the previous buffer's stale data before a stop, as
            # hardware does; that is not part of the muted tone.)
            gap = capture[mute_from[0]:found]
            run = max((len(r) for r in re.split(rb'[^\x00]', gap)), default=0)
            longest = run - run % 2
            print(f'RESULT mute_gap_bytes={len(gap)} mute_zero_run_bytes={longest} '
                  f'mute_tone_bytes={2 * mute_from[1]} '
                  f'mute_all_zero={"yes" if longest >= 2 * mute_from[1] else "no"}')
            if longest < 2 * mute_from[1]:
                ok = False
            mute_from = None
        pos = found + len(expected)
    print(f'RESULT analysis={"PASS" if ok else "FAIL"}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
