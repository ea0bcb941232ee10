#!/usr/bin/env python3
"""Check what the host got from ac97-emu against what the Linux guest played.

    scripts/analyze-capture.py CAPTURE_DIR AUDIO_DIR            ac97-capture's segments
    scripts/analyze-capture.py --player CAPTURE_DIR AUDIO_DIR   ac97play's WAV files
    scripts/analyze-capture.py --self-test

CAPTURE_DIR holds ac97-capture's seg-NNN-RATE-CH.raw files (one per format the
device announced), or, with --player, ac97play's player.wav, player.2.wav, ...
(one per format: the guest's 48 kHz, 44.1 kHz, 48 kHz again). AUDIO_DIR holds
the WAVs of make-test-audio.py. The guest played, in this order (see
linux-guest.sh): test48 and test44 at 0 dB, tone1 with Master at -9 dB, tone2
with PCM at -4.5 dB, tone3 with PCM at +6 dB, tone4 with Master muted, then
pause.wav with a pause in the middle.

Each item is located by an exact search for the samples the codec's gain
should produce, at a frame boundary of its segment (a copy two bytes off is
the right channel in the left's place, and fails), then compared in full:
it must lie in one segment, at the file's rate, every sample of both
channels equal, and each channel's level within 0.1 dB of the mixer's
setting; the muted tone must be a run of silent frames at least as long as
the tone. Prints RESULT lines, the last "analysis=PASS" or "analysis=FAIL".
"""
import array
import glob
import math
import os
import re
import sys
import tempfile
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
# ac97play writes one file per format: which items each of its files holds.
PLAYER_FILES = [('player.wav', 48000, ['test48']), ('player.2.wav', 44100, ['test44']),
                ('player.3.wav', 48000, ['tone1', 'tone2', 'tone3', 'tone4', 'pause'])]


class Segment:
    """PCM of one format, as the device announced it."""

    def __init__(self, name, rate, channels, data):
        self.name, self.rate, self.channels, self.data = name, rate, channels, bytes(data)

    @property
    def frame(self):
        return 2 * self.channels


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
        return w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())


def capture_segments(cap_dir):
    segs = []
    for path in sorted(glob.glob(os.path.join(cap_dir, 'seg-*.raw'))):
        m = re.search(r'seg-(\d+)-(\d+)-(\d+)\.raw$', path)
        with open(path, 'rb') as f:
            segs.append(Segment(os.path.basename(path), int(m.group(2)), int(m.group(3)), f.read()))
    return segs


def player_segments(cap_dir):
    """ac97play's files in the order it wrote them: player.wav, player.2.wav, ..."""
    segs, n = [], 1
    while True:
        name = 'player.wav' if n == 1 else f'player.{n}.wav'
        path = os.path.join(cap_dir, name)
        if not os.path.exists(path):
            return segs
        rate, channels, data = load_wav(path)
        segs.append(Segment(name, rate, channels, data))
        n += 1


def find_aligned(seg, needle, start):
    """First offset >= start where needle lies in seg at a frame boundary, or -1."""
    at = seg.data.find(needle, start)
    while at >= 0 and at % seg.frame:
        at = seg.data.find(needle, at + 1)
    return at


def locate(segs, expected, where):
    """Find expected's first 4 KiB at a frame boundary at or after where = (segment, offset)."""
    seg_i, off = where
    for i in range(seg_i, len(segs)):
        at = find_aligned(segs[i], expected[:4096], off if i == seg_i else 0)
        if at >= 0:
            return i, at
    return None


def longest_silent_frames(data, frame):
    best = run = 0
    for i in range(0, len(data) - frame + 1, frame):
        run = run + 1 if not any(data[i:i + frame]) else 0
        best = max(best, run)
    return best


def channel_db(got, ref, ch, channels):
    def rms(s):
        return math.sqrt(sum(v * v for v in s) / max(1, len(s)))
    return 20 * math.log10(max(1e-9, rms(got[ch::channels])) / max(1e-9, rms(ref[ch::channels])))


def check_item(name, seg, at, expected, ref, ref_rate, nominal):
    """Compare one located item in full; print its RESULT line; True if it passes."""
    got = seg.data[at:at + len(expected)]
    whole = len(got) == len(expected)
    g = array.array('h', got[:len(got) - len(got) % 2])
    e = array.array('h', expected)
    bad = [sum(1 for i in range(ch, min(len(g), len(e)), seg.channels) if g[i] != e[i])
           for ch in range(seg.channels)]
    exact = whole and got == expected
    levels = [channel_db(g, ref, ch, seg.channels) for ch in range(seg.channels)]
    level_ok = all(abs(db - nominal) <= 0.1 for db in levels)
    print(f'RESULT {name}_segment={seg.name} {name}_offset={at} {name}_bytes={len(expected)} '
          f'{name}_in_one_segment={"yes" if whole else "no"} '
          f'{name}_bit_exact={"yes" if exact else "no"} '
          f'{name}_mismatched_samples={"/".join(map(str, bad))} '
          f'{name}_rate={seg.rate} {name}_rate_ok={"yes" if seg.rate == ref_rate else "no"} '
          f'{name}_level_db={"/".join(f"{db:+.2f}" for db in levels)} '
          f'{name}_nominal_db={nominal:+.1f} {name}_level_ok={"yes" if level_ok else "no"}')
    return exact and seg.rate == ref_rate and level_ok


def analyse(segs, audio_dir, expected_home=None):
    """Run the plan over segs; expected_home maps an item to the segment that must hold it."""
    print(f'RESULT capture_bytes={sum(len(s.data) for s in segs)}')
    print(f'RESULT capture_segments={" ".join(f"{len(s.data)}@{s.rate}x{s.channels}" for s in segs)}')
    # Every segment holds whole frames: a half frame at a segment's end would
    # shift the channels of whatever a reader appends after it.
    whole = all(len(s.data) % s.frame == 0 for s in segs)
    print(f'RESULT segments_whole_frames={"yes" if whole else "no"}')
    ok = whole
    where = (0, 0)
    mute = None
    for name, master, pcm, nominal in PLAN:
        rate, channels, data = load_wav(os.path.join(audio_dir, f'{name}.wav'))
        ref = array.array('h', data)
        if master is None:
            mute = (where, len(data))
            continue
        expected = scale(ref, q16(master + pcm)).tobytes()
        found = locate(segs, expected, where)
        if found is None:
            print(f'RESULT {name}_found=no')
            ok = False
            continue
        seg_i, at = found
        seg = segs[seg_i]
        item_ok = check_item(name, seg, at, expected, ref, rate, nominal)
        if expected_home and expected_home.get(name) != seg.name:
            print(f'RESULT {name}_in_file={seg.name} {name}_expected_in={expected_home.get(name)}')
            item_ok = False
        ok &= item_ok
        if mute is not None:
            # The muted tone lies between the last item and this one: a run of
            # silent frames at least as long as it. (Before a stop the DMA may
            # also play a little of a stale buffer, as hardware does.)
            (m_seg, m_off), tone_bytes = mute
            gap = b''.join(segs[i].data[(m_off if i == m_seg else 0):(at if i == seg_i else None)]
                           for i in range(m_seg, seg_i + 1))
            run = longest_silent_frames(gap, seg.frame) * seg.frame
            print(f'RESULT mute_gap_bytes={len(gap)} mute_zero_run_bytes={run} '
                  f'mute_tone_bytes={tone_bytes} mute_all_zero={"yes" if run >= tone_bytes else "no"}')
            ok &= run >= tone_bytes
            mute = None
        where = (seg_i, at + len(expected))
    return ok


def main(argv):
    if argv[:1] == ['--self-test']:
        return self_test()
    player = argv[:1] == ['--player']
    cap_dir, audio_dir = argv[1:3] if player else argv[0:2]
    if player:
        segs = player_segments(cap_dir)
        names = [s.name for s in segs]
        want = [n for n, _, _ in PLAYER_FILES]
        split_ok = names == want and all(s.rate == r and s.channels == 2
                                         for s, (_, r, _) in zip(segs, PLAYER_FILES))
        print(f'RESULT player_files={",".join(f"{s.name}@{s.rate}x{s.channels}" for s in segs)} '
              f'player_split_ok={"yes" if split_ok else "no"}')
        home = {item: n for n, _, items in PLAYER_FILES for item in items}
        ok = analyse(segs, audio_dir, home) and split_ok
    else:
        ok = analyse(capture_segments(cap_dir), audio_dir)
    print(f'RESULT analysis={"PASS" if ok else "FAIL"}')
    return 0 if ok else 1


def self_test():
    """The checks fail on the defects they are there for, and pass a good capture."""
    import io
    import contextlib
    import subprocess
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        audio = os.path.join(tmp, 'audio')
        os.mkdir(audio)
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), 'make-test-audio.py'),
                        audio], check=True)

        def item(name, steps):
            _, _, data = load_wav(os.path.join(audio, f'{name}.wav'))
            return scale(array.array('h', data), q16(steps)).tobytes()
        silence = bytes(4000)
        good = [(48000, silence + item('test48', 0) + silence),
                (44100, item('test44', 0)),
                (48000, silence + item('tone1', 6) + item('tone2', 3) + item('tone3', -4) +
                 bytes(len(item('tone4', 0))) + silence + item('pause', 0) + silence)]

        def run(segs_in, label, expect_ok, player=False):
            nonlocal bad
            d = tempfile.mkdtemp(dir=tmp)
            for i, (rate, data) in enumerate(segs_in):
                if player:
                    name = 'player.wav' if i == 0 else f'player.{i + 1}.wav'
                    with wave.open(os.path.join(d, name), 'wb') as w:
                        w.setnchannels(2)
                        w.setsampwidth(2)
                        w.setframerate(rate)
                        w.writeframes(data)
                else:
                    with open(os.path.join(d, f'seg-{i + 1:03d}-{rate}-2.raw'), 'wb') as f:
                        f.write(data)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = main((['--player'] if player else []) + [d, audio])
            passed = rc == 0
            bad += passed != expect_ok
            print(f'{"ok" if passed == expect_ok else "not ok"} - analyze-capture: {label} '
                  f'{"passes" if expect_ok else "fails"}')

        run(good, 'a good capture', True)
        run(good, 'ac97play files of a good capture', True, player=True)
        shifted = list(good)
        shifted[2] = (48000, bytes(2) + good[2][1][:-2])
        run(shifted, 'the tones 2 bytes off (left and right swapped)', False)
        run(shifted, 'player.3.wav 2 bytes off (left and right swapped)', False, player=True)
        one = bytearray(good[2][1])
        one[4000 + 2 * 4801 + 1] ^= 0x40     # one right-channel sample of tone1
        run(good[:2] + [(48000, bytes(one))], 'one changed sample in tone1', False)
        run(good[:2] + [(48000, good[2][1].replace(item('tone2', 3), item('tone2', 2)))],
            'tone2 1.5 dB too loud (and so not exact)', False)
        run([good[0], (48000, good[1][1])] + good[2:], 'test44 announced as 48 kHz', False)
        run(good[:2] + [(48000, good[2][1].replace(bytes(len(item('tone4', 0))), item('tone4', 0)))],
            'the muted tone audible', False)
        run([(48000, good[0][1] + good[1][1]), good[2]], 'test44 in the 48 kHz file', False, player=True)
        run([(48000, good[0][1] + bytes(2))] + good[1:], 'a segment ending in half a frame', False)
        cut = len(silence) + len(item('test48', 0)) // 2
        run([(48000, good[0][1][:cut]), (48000, good[0][1][cut:])] + good[1:],
            'test48 split across two segments', False)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
