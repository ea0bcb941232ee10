/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ac97-kvm: an Intel 82801AA AC'97 whose registers and DMA run in the host
 * kernel (the ac97-emu module), for KVM guests
 *
 * The guest sees the same PCI function as QEMU's "AC97" device, but its port
 * I/O is served on KVM's in-kernel PIO bus, with no exit to QEMU, and its DMA
 * runs in a kernel thread. QEMU keeps what a VMM must: the PCI config space
 * (BAR moves and I/O decoding are passed on), INTx (an irqfd with a resample
 * fd on the pin's GSI, followed across routing changes, as VFIO's INTx does),
 * the machine's stop/cont and reset, and the sound: PCM out is read from the
 * module and written to the audiodev, PCM in and mic in are read from the
 * audiodev and written to the module's capture sources. Volume and mute are
 * the guest codec's, applied by the module: QEMU's voices stay at 0 dB.
 *
 * Who calls what: everything here runs with QEMU's big lock held, so no two
 * of these run at once: realize/exit (machine creation, device_add/del),
 * config writes and the unclaimed-port handlers (a vCPU thread), the audio
 * callbacks and the reopen bottom half (the main loop), the VM state
 * handler and reset. The module's side serialises its own: each file
 * (handle, PCM reader, each capture writer) is this device's alone, opened
 * at realize and closed at exit; closing the handle detaches the device,
 * after which the module fails the PCM fds' calls (AC97_PCM_READ returns 0,
 * a write -ENODEV), which the callbacks treat as "nothing to move". The
 * bottom half is deleted before the voices it reopens are closed.
 *
 * Style: QEMU's (scripts/checkpatch.pl of the QEMU tree; qemu-guest.sh runs
 * it), not the kernel's.
 *
 * Copyright (c) 2026 The ac97-emu authors
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <linux/ac97_emu.h>
#include "audio/audio.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "migration/blocker.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/event_notifier.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "sysemu/kvm.h"
#include "sysemu/kvm_int.h"
#include "sysemu/runstate.h"
#include "qom/object.h"

#define TYPE_AC97_KVM "ac97-kvm"
OBJECT_DECLARE_SIMPLE_TYPE(AC97KVMState, AC97_KVM)

#define AC97_KVM_NAM_SIZE   256
#define AC97_KVM_NABM_SIZE  64
#define AC97_KVM_CHUNK      4096

/* One capture direction: an audiodev voice in, a module source out. */
typedef struct AC97KVMCapture {
    struct AC97KVMState *s;
    const char *name;
    unsigned int source;        /* AC97_PCM_SOURCE_* */
    int fd;                     /* the PCM node, open for writing */
    SWVoiceIn *voice;
    uint32_t serial;            /* of the source format the voice is open at */
    struct ac97_pcm_format next;    /* to reopen at, if reopen */
    bool reopen;
    size_t capacity;            /* the source's room when empty, as seen */
    uint64_t dropped;           /* bytes the source refused */
    uint64_t underruns;         /* the source's: the guest recorded silence */
} AC97KVMCapture;

struct AC97KVMState {
    PCIDevice dev;

    QEMUSoundCard card;
    bool card_registered;
    char *ctl_path;

    MemoryRegion io_nam;
    MemoryRegion io_nabm;

    int handle;                 /* the device handle; closing it detaches */
    int pcm_fd;                 /* PCM out reader, from AC97_DEV_OPEN_PCM */
    uint32_t index;             /* N of /dev/ac97pcmN */

    EventNotifier irq;
    EventNotifier resample;
    bool notifiers;             /* both initialised */
    PCIINTxRoute route;
    bool irqfd_assigned;

    SWVoiceOut *voice_out;
    struct ac97_pcm_format out_fmt;
    struct ac97_pcm_format out_next;    /* to reopen at, if out_reopen */
    bool out_reopen;
    /*
     * A voice is not reopened from its own callback: without QEMU's mixing
     * engine that frees the voice the audio layer is iterating over.
     */
    QEMUBH *reopen_bh;
    uint8_t out_buf[AC97_KVM_CHUNK];
    size_t out_pos, out_len;    /* read from the module, not yet written */

    AC97KVMCapture line;
    AC97KVMCapture mic;
    uint8_t in_buf[AC97_KVM_CHUNK];

    VMChangeStateEntry *vm_state;
    Error *migration_blocker;
    uint64_t unclaimed;         /* guest accesses that reached QEMU */
    uint32_t capture_latency_ms;    /* most a source holds ahead */
};

/*
 * The module serves the ranges on KVM's bus, ahead of QEMU. What reaches
 * QEMU is an access while the module has the range off the bus (decoding
 * just turned on, a BAR mid-move): an unclaimed port, all ones.
 */
static uint64_t ac97_kvm_unclaimed_read(void *opaque, hwaddr addr,
                                        unsigned size)
{
    AC97KVMState *s = opaque;

    s->unclaimed++;
    return ~0ULL;
}

static void ac97_kvm_unclaimed_write(void *opaque, hwaddr addr, uint64_t val,
                                     unsigned size)
{
    AC97KVMState *s = opaque;

    s->unclaimed++;
}

static const MemoryRegionOps ac97_kvm_io_ops = {
    .read = ac97_kvm_unclaimed_read,
    .write = ac97_kvm_unclaimed_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 4 },
};

/* Tell the module where the BARs decode now (command register included). */
static void ac97_kvm_update_bars(AC97KVMState *s)
{
    pcibus_t nam = pci_get_bar_addr(&s->dev, 0);
    pcibus_t nabm = pci_get_bar_addr(&s->dev, 1);
    struct ac97_bars bars = { 0 };

    if (nam != PCI_BAR_UNMAPPED && nam + AC97_KVM_NAM_SIZE <= 0x10000) {
        bars.nam_base = nam;
        bars.map |= AC97_MAP_NAM;
    }
    if (nabm != PCI_BAR_UNMAPPED && nabm + AC97_KVM_NABM_SIZE <= 0x10000) {
        bars.nabm_base = nabm;
        bars.map |= AC97_MAP_NABM;
    }
    if (ioctl(s->handle, AC97_DEV_SET_BARS, &bars) < 0) {
        warn_report("ac97-kvm: BARs at 0x%x/0x%x (map 0x%x) refused: %s",
                    bars.nam_base, bars.nabm_base, bars.map, strerror(errno));
    }
}

static void ac97_kvm_write_config(PCIDevice *dev, uint32_t addr, uint32_t val,
                                  int len)
{
    AC97KVMState *s = AC97_KVM(dev);

    pci_default_write_config(dev, addr, val, len);
    if (ranges_overlap(addr, len, PCI_COMMAND, 2) ||
        ranges_overlap(addr, len, PCI_BASE_ADDRESS_0, 8)) {
        ac97_kvm_update_bars(s);
    }
}

/* --- INTx: an irqfd with a resample fd on the pin's GSI --- */

static void ac97_kvm_irqfd_remove(AC97KVMState *s)
{
    if (!s->irqfd_assigned) {
        return;
    }
    kvm_irqchip_remove_irqfd_notifier_gsi(kvm_state, &s->irq, s->route.irq);
    s->irqfd_assigned = false;
}

static void ac97_kvm_irqfd_add(AC97KVMState *s)
{
    if (s->route.mode != PCI_INTX_ENABLED) {
        return;
    }
    if (kvm_irqchip_add_irqfd_notifier_gsi(kvm_state, &s->irq, &s->resample,
                                           s->route.irq)) {
        error_report("ac97-kvm: cannot route INTx to GSI %d: %s",
                     s->route.irq, strerror(errno));
        return;
    }
    s->irqfd_assigned = true;
    /*
     * KVM took the line down with the old irqfd; an interrupt the module
     * had in service will get no EOI. A resample tells it so: it signals
     * again if its line is still high.
     */
    event_notifier_set(&s->resample);
}

static void ac97_kvm_intx_routing(PCIDevice *dev)
{
    AC97KVMState *s = AC97_KVM(dev);
    PCIINTxRoute route = pci_device_route_intx_to_irq(dev, 0);

    if (!pci_intx_route_changed(&s->route, &route)) {
        return;
    }
    ac97_kvm_irqfd_remove(s);
    s->route = route;
    ac97_kvm_irqfd_add(s);
}

/* --- PCM out: module to audiodev --- */

static void ac97_kvm_out_cb(void *opaque, int free);

static void ac97_kvm_open_out(AC97KVMState *s, const struct ac97_pcm_format *f)
{
    struct audsettings as = {
        .freq = f->rate,
        .nchannels = f->channels,
        .fmt = AUDIO_FORMAT_S16,
        .endianness = 0,
    };

    s->voice_out = AUD_open_out(&s->card, s->voice_out, "ac97-kvm.po", s,
                                ac97_kvm_out_cb, &as);
    s->out_fmt = *f;
    if (!s->voice_out) {
        error_report("ac97-kvm: the audiodev cannot play %u Hz, %u channels",
                     f->rate, f->channels);
        return;
    }
    AUD_set_volume_out(s->voice_out, 0, 255, 255);
    AUD_set_active_out(s->voice_out, 1);
}

/*
 * The audiodev has room for about @free bytes: give it what the guest has
 * played, reopening the voice when the guest's rate changed (AC97_PCM_READ
 * tells the format of exactly what it read). What the voice does not take
 * now waits in out_buf for the next call, ahead of anything newer, and so
 * does the half of a frame a read may end with (the guest's DMA moves
 * single samples; a voice takes whole frames): the stream reaches the
 * audiodev whole and in order.
 */
static void ac97_kvm_out_cb(void *opaque, int free)
{
    AC97KVMState *s = opaque;
    struct ac97_pcm_read rd;
    size_t frame, n;

    if (s->out_reopen) {
        return;
    }
    for (;;) {
        frame = 2 * MAX(s->out_fmt.channels, 1);
        if (s->out_len >= frame) {
            n = AUD_write(s->voice_out, s->out_buf + s->out_pos,
                          s->out_len - s->out_len % frame);
            s->out_pos += n;
            s->out_len -= n;
            free -= n;
            if (s->out_len >= frame || free <= 0) {
                return;
            }
        }
        memmove(s->out_buf, s->out_buf + s->out_pos, s->out_len);
        s->out_pos = 0;
        memset(&rd, 0, sizeof(rd));
        rd.buf = (uintptr_t)(s->out_buf + s->out_len);
        rd.len = MIN(MAX(free, (int)frame),
                     (int)(sizeof(s->out_buf) - s->out_len));
        if (ioctl(s->pcm_fd, AC97_PCM_READ, &rd) < 0 || !rd.bytes) {
            return;     /* EAGAIN: nothing played yet; 0: detached */
        }
        if (rd.format.serial != s->out_fmt.serial) {
            /* A new format starts on a frame boundary: nothing carries over. */
            memmove(s->out_buf, s->out_buf + s->out_len, rd.bytes);
            s->out_len = rd.bytes;
            s->out_next = rd.format;
            s->out_reopen = true;
            qemu_bh_schedule(s->reopen_bh);
            return;
        }
        s->out_len += rd.bytes;
    }
}

/* --- PCM in and mic in: audiodev to module --- */

static void ac97_kvm_in_cb(void *opaque, int avail);

static void ac97_kvm_open_in(AC97KVMCapture *c, const struct ac97_pcm_format *f)
{
    struct audsettings as = {
        .freq = f->rate,
        .nchannels = f->channels,
        .fmt = AUDIO_FORMAT_S16,
        .endianness = 0,
    };

    c->voice = AUD_open_in(&c->s->card, c->voice, c->name, c, ac97_kvm_in_cb,
                           &as);
    c->serial = f->serial;
    if (!c->voice) {
        error_report("ac97-kvm: the audiodev cannot record %u Hz, %u channels",
                     f->rate, f->channels);
        return;
    }
    AUD_set_volume_in(c->voice, 0, 255, 255);
    AUD_set_active_in(c->voice, 1);
}

/*
 * The audiodev has @avail bytes recorded (with QEMU's mixing engine off: as
 * many as it can record, INT_MAX): hand the source the guest's PCM in or
 * mic in takes from what it has room for, up to capture-latency queued, and
 * leave the rest with the audiodev. The guest's DMA paces the stream, as it
 * does for QEMU's own AC97: nothing recorded is dropped here, and a source
 * the guest does not drain (it is not recording) holds at most that much,
 * so a recording starts with what comes next. A live backend that runs
 * ahead meanwhile overruns in QEMU's audio layer, which handles it. If this
 * main loop is late by more than capture-latency, the guest records
 * silence for the rest (the source counts an underrun).
 */
static void ac97_kvm_in_cb(void *opaque, int avail)
{
    AC97KVMCapture *c = opaque;
    struct ac97_pcm_format f;
    size_t n, frame, keep, queued, room;
    ssize_t w;

    if (ioctl(c->fd, AC97_PCM_GET_SOURCE_FORMAT, &f) < 0) {
        return;
    }
    if (c->reopen) {
        return;
    }
    if (f.serial != c->serial) {
        if (f.rate && f.channels) {     /* the guest's rate changed */
            c->next = f;
            c->reopen = true;
            qemu_bh_schedule(c->s->reopen_bh);
        }
        return;
    }
    c->underruns = f.overruns;
    frame = 2 * MAX(f.channels, 1);
    c->capacity = MAX(c->capacity, f.bytes_ready);
    keep = MIN((size_t)f.rate * frame * c->s->capture_latency_ms / 1000,
               c->capacity);
    queued = c->capacity - f.bytes_ready;
    room = queued < keep ? keep - queued : 0;
    room = MIN(room, (size_t)avail);
    while (room >= frame) {
        n = AUD_read(c->voice, c->s->in_buf,
                     MIN(room, sizeof(c->s->in_buf)) / frame * frame);
        if (!n) {
            return;
        }
        room -= MIN(n, room);
        w = write(c->fd, c->s->in_buf, n);
        if (w < (ssize_t)n) {
            /* Room was asked for just before: only a reset drops this. */
            c->dropped += n - MAX(w, 0);
            return;
        }
    }
}

/* Reopen the voices whose format changed, outside their callbacks. */
static void ac97_kvm_reopen(void *opaque)
{
    AC97KVMState *s = opaque;
    AC97KVMCapture *captures[] = { &s->line, &s->mic };
    size_t i;

    if (s->out_reopen) {
        s->out_reopen = false;
        ac97_kvm_open_out(s, &s->out_next);
    }
    for (i = 0; i < ARRAY_SIZE(captures); i++) {
        if (captures[i]->reopen) {
            captures[i]->reopen = false;
            ac97_kvm_open_in(captures[i], &captures[i]->next);
        }
    }
}

static int ac97_kvm_open_capture(AC97KVMState *s, AC97KVMCapture *c,
                                 const char *name, unsigned int source,
                                 Error **errp)
{
    char path[32];
    struct ac97_pcm_format f;

    c->s = s;
    c->name = name;
    c->source = source;
    snprintf(path, sizeof(path), "/dev/ac97pcm%u", s->index);
    c->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (c->fd < 0) {
        error_setg_errno(errp, errno, "ac97-kvm: %s, for %s", path, name);
        return -1;
    }
    if (ioctl(c->fd, AC97_PCM_SET_SOURCE, source) < 0 ||
        ioctl(c->fd, AC97_PCM_GET_SOURCE_FORMAT, &f) < 0) {
        error_setg_errno(errp, errno, "ac97-kvm: %s as the %s source", path,
                         name);
        return -1;
    }
    ac97_kvm_open_in(c, &f);
    return 0;
}

static void ac97_kvm_close_capture(AC97KVMState *s, AC97KVMCapture *c)
{
    if (c->voice) {
        AUD_close_in(&s->card, c->voice);
        c->voice = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/* --- the machine: stop/cont, reset --- */

/*
 * Called after the vCPUs stopped, and before they run again: the device
 * stops with them (no sample moves, no interrupt) and goes on without a
 * jump.
 */
static void ac97_kvm_vm_state(void *opaque, bool running, RunState state)
{
    AC97KVMState *s = opaque;

    if (ioctl(s->handle, AC97_DEV_SET_STOPPED, running ? 0 : 1) < 0) {
        error_report("ac97-kvm: AC97_DEV_SET_STOPPED: %s", strerror(errno));
    }
}

static void ac97_kvm_reset(DeviceState *dev)
{
    AC97KVMState *s = AC97_KVM(dev);

    if (ioctl(s->handle, AC97_DEV_RESET, 0) < 0) {
        error_report("ac97-kvm: AC97_DEV_RESET: %s", strerror(errno));
    }
    ac97_kvm_update_bars(s);
    /* A fresh irqfd: KVM's resampler forgets a line the reset left high. */
    ac97_kvm_irqfd_remove(s);
    s->route = pci_device_route_intx_to_irq(&s->dev, 0);
    ac97_kvm_irqfd_add(s);
}

/* --- realize / exit --- */

static int ac97_kvm_attach(AC97KVMState *s, Error **errp)
{
    struct ac97_attach a = { 0 };
    struct ac97_dev_info info;
    int ctl;

    ctl = open(s->ctl_path, O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        error_setg_errno(errp, errno, "ac97-kvm: %s", s->ctl_path);
        error_append_hint(errp, "Is the ac97_emu module loaded (modprobe "
                          "ac97_emu), and may this user open %s?\n",
                          s->ctl_path);
        return -1;
    }
    a.vm_fd = kvm_state->vmfd;
    a.irq_fd = event_notifier_get_fd(&s->irq);
    a.resample_fd = event_notifier_get_fd(&s->resample);
    s->handle = ioctl(ctl, AC97_CTL_ATTACH, &a);
    close(ctl);
    if (s->handle < 0) {
        error_setg_errno(errp, errno, "ac97-kvm: AC97_CTL_ATTACH");
        return -1;
    }
    if (ioctl(s->handle, AC97_DEV_GET_INFO, &info) < 0) {
        error_setg_errno(errp, errno, "ac97-kvm: AC97_DEV_GET_INFO");
        return -1;
    }
    s->index = info.index;
    s->pcm_fd = ioctl(s->handle, AC97_DEV_OPEN_PCM, 0);
    if (s->pcm_fd < 0 || fcntl(s->pcm_fd, F_SETFL, O_NONBLOCK) < 0) {
        error_setg_errno(errp, errno, "ac97-kvm: AC97_DEV_OPEN_PCM");
        return -1;
    }
    return 0;
}

static void ac97_kvm_exit(PCIDevice *dev)
{
    AC97KVMState *s = AC97_KVM(dev);

    if (s->vm_state) {
        qemu_del_vm_change_state_handler(s->vm_state);
        s->vm_state = NULL;
    }
    if (s->migration_blocker) {
        migrate_del_blocker(s->migration_blocker);
        error_free(s->migration_blocker);
        s->migration_blocker = NULL;
    }
    ac97_kvm_irqfd_remove(s);
    if (s->reopen_bh) {
        qemu_bh_delete(s->reopen_bh);
        s->reopen_bh = NULL;
    }
    ac97_kvm_close_capture(s, &s->line);
    ac97_kvm_close_capture(s, &s->mic);
    if (s->voice_out) {
        AUD_close_out(&s->card, s->voice_out);
        s->voice_out = NULL;
    }
    if (s->card_registered) {
        AUD_remove_card(&s->card);
        s->card_registered = false;
    }
    if (s->pcm_fd >= 0) {
        close(s->pcm_fd);
        s->pcm_fd = -1;
    }
    if (s->handle >= 0) {
        close(s->handle);       /* detaches */
        s->handle = -1;
    }
    if (s->notifiers) {
        event_notifier_cleanup(&s->irq);
        event_notifier_cleanup(&s->resample);
        s->notifiers = false;
    }
}

static void ac97_kvm_realize(PCIDevice *dev, Error **errp)
{
    AC97KVMState *s = AC97_KVM(dev);
    uint8_t *c = dev->config;
    struct ac97_pcm_format f = { .rate = 48000, .channels = 2 };

    if (!s->ctl_path) {
        s->ctl_path = g_strdup("/dev/ac97ctl");
    }
    if (s->capture_latency_ms < 10 || s->capture_latency_ms > 1000) {
        error_setg(errp, "ac97-kvm: capture-latency=%u: from 10 to 1000 ms",
                   s->capture_latency_ms);
        return;
    }
    if (!kvm_enabled() || !kvm_irqchip_in_kernel() ||
        !kvm_irqfds_enabled() || !kvm_resamplefds_enabled()) {
        error_setg(errp, "ac97-kvm: needs KVM with the in-kernel irqchip "
                   "(-accel kvm, kernel-irqchip=on or split)");
        return;
    }
    if (event_notifier_init(&s->irq, 0) ||
        event_notifier_init(&s->resample, 0)) {
        error_setg(errp, "ac97-kvm: cannot create eventfds");
        goto fail;
    }
    s->notifiers = true;
    if (ac97_kvm_attach(s, errp)) {
        goto fail;
    }

    /* As the 82801AA's AC'97 function (and QEMU's AC97 device) looks. */
    pci_set_word(c + PCI_STATUS,
                 PCI_STATUS_FAST_BACK | PCI_STATUS_DEVSEL_MEDIUM);
    c[PCI_REVISION_ID] = 0x01;
    c[PCI_CLASS_PROG] = 0x00;
    pci_config_set_class(c, PCI_CLASS_MULTIMEDIA_AUDIO);
    /*
     * The subsystem ID stays QEMU's (1af4:1100), as AC97's does: from it
     * snd-intel8x0 knows it runs in a VM and trusts the 48 kHz clock
     * instead of measuring it.
     */
    pci_config_set_interrupt_pin(c, 1);     /* INTA# */

    memory_region_init_io(&s->io_nam, OBJECT(s), &ac97_kvm_io_ops, s,
                          "ac97-kvm-nam", AC97_KVM_NAM_SIZE);
    memory_region_init_io(&s->io_nabm, OBJECT(s), &ac97_kvm_io_ops, s,
                          "ac97-kvm-nabm", AC97_KVM_NABM_SIZE);
    pci_register_bar(dev, 0, PCI_BASE_ADDRESS_SPACE_IO, &s->io_nam);
    pci_register_bar(dev, 1, PCI_BASE_ADDRESS_SPACE_IO, &s->io_nabm);

    s->route = pci_device_route_intx_to_irq(dev, 0);
    ac97_kvm_irqfd_add(s);
    pci_device_set_intx_routing_notifier(dev, ac97_kvm_intx_routing);

    AUD_register_card("ac97-kvm", &s->card);
    s->card_registered = true;
    s->reopen_bh = qemu_bh_new(ac97_kvm_reopen, s);
    ac97_kvm_open_out(s, &f);
    if (ac97_kvm_open_capture(s, &s->line, "ac97-kvm.pi", AC97_PCM_SOURCE_LINE,
                              errp) ||
        ac97_kvm_open_capture(s, &s->mic, "ac97-kvm.mc", AC97_PCM_SOURCE_MIC,
                              errp)) {
        goto fail;
    }

    error_setg(&s->migration_blocker, "ac97-kvm: the device's state is in the "
               "host kernel (ac97-emu), which cannot save it yet");
    if (migrate_add_blocker(s->migration_blocker, errp) < 0) {
        error_free(s->migration_blocker);
        s->migration_blocker = NULL;
        goto fail;
    }
    s->vm_state = qemu_add_vm_change_state_handler(ac97_kvm_vm_state, s);
    ac97_kvm_vm_state(s, runstate_is_running(), RUN_STATE_PRELAUNCH);
    return;

fail:
    ac97_kvm_exit(dev);
}

static Property ac97_kvm_properties[] = {
    DEFINE_AUDIO_PROPERTIES(AC97KVMState, card),
    DEFINE_PROP_STRING("ctl", AC97KVMState, ctl_path),
    DEFINE_PROP_UINT32("capture-latency", AC97KVMState, capture_latency_ms,
                       50),
    DEFINE_PROP_END_OF_LIST(),
};

static void ac97_kvm_instance_init(Object *obj)
{
    AC97KVMState *s = AC97_KVM(obj);

    s->handle = s->pcm_fd = s->line.fd = s->mic.fd = -1;
    /*
     * Each is a userspace exit on the device's ports, which the module is
     * there to avoid: "qom-get <id> unclaimed-accesses" shows it does.
     */
    object_property_add_uint64_ptr(obj, "unclaimed-accesses", &s->unclaimed,
                                   OBJ_PROP_FLAG_READ);
    /* Recorded bytes a capture source refused (only across a reset). */
    object_property_add_uint64_ptr(obj, "line-refused-bytes",
                                   &s->line.dropped, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "mic-refused-bytes", &s->mic.dropped,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "line-underruns", &s->line.underruns,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "mic-underruns", &s->mic.underruns,
                                   OBJ_PROP_FLAG_READ);
}

static void ac97_kvm_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = ac97_kvm_realize;
    k->exit = ac97_kvm_exit;
    k->config_write = ac97_kvm_write_config;
    k->vendor_id = PCI_VENDOR_ID_INTEL;
    k->device_id = PCI_DEVICE_ID_INTEL_82801AA_5;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_MULTIMEDIA_AUDIO;
    set_bit(DEVICE_CATEGORY_SOUND, dc->categories);
    dc->desc = "Intel 82801AA AC97 Audio, in the host kernel (ac97-emu)";
    dc->reset = ac97_kvm_reset;
    device_class_set_props(dc, ac97_kvm_properties);
}

static const TypeInfo ac97_kvm_info = {
    .name = TYPE_AC97_KVM,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AC97KVMState),
    .instance_init = ac97_kvm_instance_init,
    .class_init = ac97_kvm_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void ac97_kvm_register_types(void)
{
    type_register_static(&ac97_kvm_info);
}

type_init(ac97_kvm_register_types)
