#!/usr/bin/env python3
"""The benchmark's audio and its report.

    bench-report.py make-audio OUT.wav SECONDS
    bench-report.py report WORKDIR SOURCE.wav OUTDIR DESCRIPTION

report reads WORKDIR/run*/console.txt and the audio each run shipped out
(out/cap/seg-*.raw from ac97-vmm + ac97-emu, out/qemu.wav from QEMU's AC97,
out/qk.wav from QEMU + ac97-emu: -device ac97-kvm), and writes
OUTDIR/bench.md and OUTDIR/bench.csv. Each figure is the median over runs,
with the spread (min-max over runs). It prints the Markdown, then one line
per check: "PASS what" or "FAIL what".
"""
import glob
import math
import os
import re
import statistics
import struct
import sys
import wave

# The three devices, as the bench's L1 names its stages ("BENCH vmm <key>").
DEVICES = [('emu', 'ac97-vmm + ac97-emu'), ('qemu', 'QEMU AC\'97'), ('qk', 'QEMU + ac97-emu')]

REGS = [
    ('po_civ_byte', 'PO_CIV read (byte)'),
    ('po_picb_word', 'PO_PICB read (word)'),
    ('glob_sta_dword', 'GLOB_STA read (dword)'),
    ('nam_reset_word', 'NAM reset read (word)'),
    ('po_sr_w1c_word', 'PO_SR write-1-to-clear (word)'),
]



def find_frame_aligned(data, needle, frame=4):
    """Offset of needle in data at a multiple of frame bytes, or -1."""
    at = data.find(needle)
    while at >= 0 and at % frame:
        at = data.find(needle, at + 1)
    return at

def make_audio(path, seconds):
    """Tones plus noise, 48 kHz S16_LE stereo; no two frames alike."""
    x = 12345
    frames = bytearray()
    for i in range(int(48000 * seconds)):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        noise = (x >> 8) % 2001 - 1000
        t = i / 48000
        left = 8000 * math.sin(2 * math.pi * 440 * t) + noise
        right = 8000 * math.sin(2 * math.pi * 660 * t) - noise
        frames += struct.pack('<hh', int(left), int(right))
    with wave.open(path, 'wb') as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(bytes(frames))


def peak(data):
    n = len(data) // 2
    return max(abs(v) for v in struct.unpack(f'<{n}h', data[:2 * n]))


def stream_exact(vm):
    """Every sample of a scale VM's stream arrived, in order. (Its overall
    verdict also wants the guest to have finished in time and to have taken
    one interrupt per raise of the line, which a guest starved of CPU by 15
    neighbours under TCG may miss; the scale table reports the stream.)"""
    if 'mismatches' not in vm:
        return vm.get('verdict') == 'PASS'
    return vm['mismatches'] == '0' and vm.get('verified') and vm['verified'] == vm.get('expected')


def kv(line):
    return dict(m.groups() for m in re.finditer(r'(\w+)=(\S+)', line))


def parse_run(run_dir, source):
    """One run's figures: {(section, key): value}."""
    fig = {}
    section = None
    snaps = {}
    scale = {}
    with open(os.path.join(run_dir, 'console.txt'), errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = re.match(r'BENCH vmm (\w+)$', line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r'L2 ac97bench: reg (\w+) (.*)', line)
            if m and section:
                fig[(section, 'reg_' + m.group(1))] = float(kv(m.group(2))['ns'])
                continue
            m = re.match(r'L2 ac97bench: (pacing|picb) (.*)', line)
            if m and section:
                for k, v in kv(m.group(2)).items():
                    try:
                        fig[(section, m.group(1) + '_' + k)] = float(v)
                    except ValueError:
                        pass
                continue
            m = re.match(r'BENCH snap (\w+) (start|end) (.*)', line)
            if m:
                snaps[(m.group(1), m.group(2))] = {k: float(v) for k, v in kv(m.group(3)).items()}
                continue
            m = re.match(r'BENCH l2irq (\w+) (start|end) (.*)', line)
            if m:
                snaps[(m.group(1), 'irq_' + m.group(2))] = {
                    k: float(v) for k, v in kv(m.group(3)).items() if v}
                continue
            m = re.match(r'BENCH scale (n=\d+ vm=.*)', line)
            if m:
                d = kv(m.group(1))
                scale.setdefault(int(d['n']), []).append(d)
    for dev, _ in DEVICES:
        s, e = snaps.get((dev, 'start')), snaps.get((dev, 'end'))
        if not s or not e:
            continue
        secs = e['t'] - s['t']
        fig[(dev, 'play_wall_s')] = secs
        fig[(dev, 'exits')] = e['exits'] - s['exits']
        fig[(dev, 'kthread_ms')] = (e['kthread_ns'] - s['kthread_ns']) / 1e6
        fig[(dev, 'vcpu_ms')] = (e['vcpu_ns'] - s['vcpu_ns']) / 1e6
        fig[(dev, 'other_ms')] = (e['other_ns'] - s['other_ns']) / 1e6
        # The device's own threads: our kthread (ac97-vmm's only other
        # thread is its vCPU), QEMU's non-vCPU threads, or both.
        kthread_runs = e.get('kthread_runs', 0) - s.get('kthread_runs', 0)
        other_runs = e.get('other_runs', 0) - s.get('other_runs', 0)
        fig[(dev, 'device_ms')] = {'emu': fig[(dev, 'kthread_ms')], 'qemu': fig[(dev, 'other_ms')],
                                   'qk': fig[(dev, 'kthread_ms')] + fig[(dev, 'other_ms')]}[dev]
        fig[(dev, 'total_ms')] = fig[(dev, 'vcpu_ms')] + fig[(dev, 'device_ms')]
        if dev == 'emu' and 'reader_ns' in e:
            fig[(dev, 'reader_ms')] = (e['reader_ns'] - s['reader_ns']) / 1e6
        if 'kthread_runs' in e and 'other_runs' in e:
            fig[(dev, 'wakeups')] = {'emu': kthread_runs, 'qemu': other_runs,
                                     'qk': kthread_runs + other_runs}[dev]
        si, ei = snaps.get((dev, 'irq_start')), snaps.get((dev, 'irq_end'))
        if si and ei and 'count' in si and 'count' in ei:
            fig[(dev, 'irqs')] = ei['count'] - si['count']
            if 'unhandled' in si and 'unhandled' in ei:
                fig[(dev, 'spurious')] = ei['unhandled'] - si['unhandled']
    with wave.open(source) as w:
        pcm = w.readframes(w.getnframes())
    segs = [open(p, 'rb').read()
            for p in sorted(glob.glob(os.path.join(run_dir, 'out/cap/seg-*.raw')))]
    cap = b''.join(segs)
    # exact: the whole file inside one segment, at a frame boundary of it
    # (two bytes off would be left and right swapped)
    # A run whose L1 died before sending its files measured nothing here:
    # counted as missing (said in the table), not as inexact.
    if segs:
        fig[('emu', 'bit_exact')] = 1.0 if any(find_frame_aligned(seg, pcm) >= 0 for seg in segs) else 0.0
    else:
        fig[('emu', 'no_output')] = 1.0
    outputs = {'emu': cap}
    for dev in ('qemu', 'qk'):
        qpath = os.path.join(run_dir, f'out/{dev}.wav')
        qdata = b''
        if os.path.exists(qpath):
            raw = open(qpath, 'rb').read()
            i = raw.find(b'data')
            qdata = raw[i + 8:] if i >= 0 else b''
        if qdata:
            fig[(dev, 'bit_exact')] = 1.0 if find_frame_aligned(qdata, pcm) >= 0 else 0.0
        else:
            fig[(dev, 'no_output')] = 1.0
        outputs[dev] = qdata
    for dev, data in outputs.items():
        if data:   # not exact: by how much the device scaled the stream (peak ratio)
            fig[(dev, 'gain_db')] = 20 * math.log10(max(peak(data), 1) / peak(pcm))
    for n, vms in scale.items():
        cpu = [float(v['cpu_ns']) / 1e6 / float(v['seconds']) for v in vms if v.get('cpu_ns')]
        ppm = [abs(float(v['rate_hz']) / 48000 - 1) * 1e6 for v in vms if v.get('rate_hz')]
        fig[('scale', f'{n}_ok')] = 1.0 if all(stream_exact(v) for v in vms) else 0.0
        if cpu:
            fig[('scale', f'{n}_cpu_ms_per_s')] = statistics.median(cpu)
            fig[('scale', f'{n}_cpu_ms_per_s_max')] = max(cpu)
        if ppm:
            fig[('scale', f'{n}_ppm')] = statistics.median(ppm)
            fig[('scale', f'{n}_ppm_worst')] = max(ppm)
    return fig


def main_report(work, source, outdir, desc):
    runs = [parse_run(d, source) for d in sorted(glob.glob(os.path.join(work, 'run*')))]
    with wave.open(source) as w:
        audio_s = w.getnframes() / w.getframerate()
    csv = ['section,metric,device,median,min,max,unit']
    checks = []

    def vals(dev, key):
        return [r[(dev, key)] for r in runs if (dev, key) in r]

    def med(dev, key):
        v = vals(dev, key)
        return statistics.median(v) if v else None

    def cell(dev, key, fmt='{:.0f}', unit='', section='', metric=''):
        v = vals(dev, key)
        if not v:
            checks.append(('FAIL', f'{section or key}: {dev} {metric or key} not measured'))
            return 'n/a'
        m = statistics.median(v)
        csv.append(f'{section},{metric or key},{dev},{m:g},{min(v):g},{max(v):g},{unit}')
        s = fmt.format(m)
        if len(v) > 1 and max(v) != min(v):
            s += f' ({fmt.format(min(v))}–{fmt.format(max(v))})'
        return s

    def ratio(a, b):
        return f'{a / b:.2f}' if a and b else 'n/a'

    md = [f'Measured by `make bench`: {desc}. Median over runs, spread (min–max over runs) in brackets.', '']
    def row(name, key, fmt='{:.0f}', unit='', section='', metric='', extra=''):
        return (f'| {name} | ' + ' | '.join(cell(dev, key, fmt, unit, section, metric) for dev, _ in DEVICES)
                + f' |{extra}')

    md += ['### 1. Register access from the guest (ns per access; ring-0 guest code, irqs off)', '',
           '| Access | a: ac97-vmm + ac97-emu (in kernel) | b: QEMU AC\'97 (userspace) | '
           'e: QEMU + ac97-emu (in kernel) | a/b | e/b | a/c |', '|---|---|---|---|---|---|---|']
    floor = med('emu', 'reg_floor_pic_0x21')
    for key, name in REGS:
        a, b, e = med('emu', 'reg_' + key), med('qemu', 'reg_' + key), med('qk', 'reg_' + key)
        md.append(row(name, 'reg_' + key, unit='ns', section='register', metric=key,
                      extra=f' {ratio(a, b)} | {ratio(e, b)} | {ratio(a, floor)} |'))
    md.append(row('c: KVM in-kernel floor (PIC mask 0x21)', 'reg_floor_pic_0x21', unit='ns',
                  section='register', metric='floor_pic_0x21', extra=' | | |'))
    md.append(row('d: exit to the VMM in userspace (0xcf8; ac97-vmm / QEMU / QEMU)', 'reg_user_exit_0xcf8',
                  unit='ns', section='register', metric='user_exit_0xcf8', extra=' | | |'))
    md += ['', f'### 2. A Linux guest plays {audio_s:.0f} s with aplay (snd_intel8x0)', '',
           '| | ' + ' | '.join(name for _, name in DEVICES) + ' |', '|---|---|---|---|']

    def per_s(dev, key):
        for r in runs:
            if (dev, key) in r:
                r[(dev, key + '_per_s')] = r[(dev, key)] / audio_s
        return cell(dev, key + '_per_s', '{:.1f}', section='playback', metric=key + '_per_audio_s')

    def per_s_row(name, key):
        return f'| {name} | ' + ' | '.join(per_s(dev, key) for dev, _ in DEVICES) + ' |'

    md.append(row('exits to userspace during playback', 'exits', section='playback', metric='exits'))
    md.append(per_s_row('… per audio second', 'exits'))
    md.append(per_s_row('device threads\' CPU, ms per audio s (ac97-dma kthread / QEMU\'s non-vCPU '
                        'threads / both)', 'device_ms'))
    md.append(per_s_row('vCPU thread CPU, ms per audio s (guest + exits + in-kernel device)', 'vcpu_ms'))
    md.append(per_s_row('total (device + vCPU threads), ms per audio s', 'total_ms'))
    md.append(per_s_row('device thread wake-ups per audio s (same threads)', 'wakeups'))
    md.append('| host process writing the output, ms per audio s (ac97-vmm: `ac97-capture`, '
              'not in the rows above; QEMU: its audiodev, in its threads above) | '
              + per_s('emu', 'reader_ms') + ' | (above) | (above) |')
    md.append(per_s_row('interrupts the guest took per audio s', 'irqs'))
    md.append(row('… of which spurious (handler found nothing pending; whole playback)', 'spurious',
                  section='playback', metric='spurious'))
    for dev, _ in DEVICES:
        v = vals(dev, 'bit_exact')
        if v:
            csv.append(f'playback,bit_exact,{dev},{min(v):g},{min(v):g},{max(v):g},bool')
    ex = {}
    for d, _ in DEVICES:
        ex[d] = 'yes' if vals(d, 'bit_exact') and min(vals(d, 'bit_exact')) == 1 else 'no'
        if ex[d] == 'no' and vals(d, 'bit_exact') and med(d, 'gain_db') is not None:
            ex[d] += f' (output peak {med(d, "gain_db"):+.1f} dB vs the file at the 0 dB mixer setting)'
        missing = len(vals(d, 'no_output'))
        if missing:
            ex[d] += f'; {missing} run(s) without output (L1 died first)'

    md.append(f'| bit-exact (source found intact in the output) | {ex["emu"]} | {ex["qemu"]} | {ex["qk"]} |')
    checks.append(('PASS' if ex['emu'].startswith('yes') else 'FAIL',
                   'ac97-vmm + ac97-emu playback bit-exact in every run that has output'))
    checks.append(('PASS' if ex['qk'].startswith('yes') else 'FAIL',
                   'QEMU + ac97-emu playback bit-exact in every run that has output'))
    pace_s = med('emu', 'pacing_seconds')
    md += ['', f'### 3. Pacing: PCM out with an interrupt per 20 ms buffer, {pace_s or 0:.0f} s, guest clock', '',
           '| | ' + ' | '.join(name for _, name in DEVICES) + ' |', '|---|---|---|---|']
    for key, name, fmt, unit in (('pacing_rate_ppm', 'frames delivered vs clock (ppm)', '{:+.0f}', 'ppm'),
                                 ('pacing_dev_median_us', 'interrupt period: typical deviation (µs)', '{:.0f}', 'us'),
                                 ('pacing_dev_p99_us', 'interrupt period: p99 deviation (µs)', '{:.0f}', 'us'),
                                 ('pacing_dev_max_us', 'interrupt period: worst deviation (µs)', '{:.0f}', 'us'),
                                 ('picb_min_step_samples', 'PICB: smallest step a polling guest sees (samples)', '{:.0f}', 'samples'),
                                 ('picb_mean_us_between_changes', 'PICB: mean time between changes (µs)', '{:.0f}', 'us')):
        md.append(row(name, key, fmt, unit, 'pacing', key))
    md += ['', '### 4. Scale: test VMs playing at once on ac97-emu', '',
           '| VMs | DMA thread CPU per device, ms per audio s: median over runs of the per-run median | rate error per device, ppm: same | runs where every stream was complete and exact |',
           '|---|---|---|---|']
    ns = sorted({int(k[1].split('_')[0]) for r in runs for k in r if k[0] == 'scale'})

    def worst(key, fmt):
        v = vals('scale', key)
        if v:
            csv.append(f'scale,{key},emu,{max(v):g},{min(v):g},{max(v):g},')
        return fmt.format(max(v)) if v else 'n/a'

    for n in ns:
        ok = vals('scale', f'{n}_ok')
        md.append(f'| {n} | {cell("scale", f"{n}_cpu_ms_per_s", "{:.0f}", "ms/s", "scale", f"{n}_cpu")} '
                  f'(worst {worst(f"{n}_cpu_ms_per_s_max", "{:.0f}")}) | '
                  f'{cell("scale", f"{n}_ppm", "{:.0f}", "ppm", "scale", f"{n}_ppm")} '
                  f'(worst {worst(f"{n}_ppm_worst", "{:.0f}")}) | '
                  f'{sum(ok):.0f} of {len(ok)} runs |')
        checks.append(('PASS' if ok and min(ok) == 1 else 'FAIL', f'{n} VMs at once: every stream verified'))
    if not runs:
        checks.append(('FAIL', 'no runs found'))
    if not any(c[0] == 'FAIL' and 'not measured' in c[1] for c in checks):
        checks.append(('PASS', 'every figure measured for all three devices'))
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, 'bench.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    with open(os.path.join(outdir, 'bench.csv'), 'w') as f:
        f.write('\n'.join(csv) + '\n')
    print('\n'.join(md))
    print()
    for verdict, what in checks:
        print(verdict, what)


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'make-audio':
        make_audio(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) == 6 and sys.argv[1] == 'report':
        main_report(*sys.argv[2:])
    else:
        sys.exit(__doc__)
