// SPDX-License-Identifier: GPL-2.0
/*
 * ac97-race: the device model's own sources (ac97_bm.c, ac97_mixer.c,
 * ac97_ring.c, compiled against tools/fuzz/kshim with KSHIM_THREADS) under
 * ThreadSanitizer, with real threads doing at once what vCPUs, the DMA
 * thread, PCM readers and a detach do in the kernel:
 *
 *   2 vCPUs    random register traffic: run/stop/reset (RR, cold, warm),
 *              LVI, SR, BDBAR (good and evil), rates, volumes, every
 *              width at every offset
 *   DMA        the fake clock moves on and ac97_engine_step() runs
 *   3 readers  two with a reader each (each must get every byte of the
 *              stream or count it lost), and a pair of threads sharing one
 *              reader, unserialised (two threads on one file without the
 *              file's lock): no reader may ever be past the writer
 *   detach     ac97_dev_unplug() while all of the above run, then, as the
 *              host does, the vCPUs and the DMA stop and the device is
 *              destroyed under the readers, who drain it to end of stream
 *
 * Then capture, on a new device: a host writer fills the line source
 * (ac97_source_write(): it copies with no lock held) while the DMA thread
 * takes from it for PCM in (ac97_source_peek()/consume()) and a vCPU keeps
 * PCM in running by moving LVI; every sample the device writes to guest
 * memory must be the writer's next one or silence (an underrun), and in the
 * end every sample written must have reached the guest once.
 *
 * ThreadSanitizer reports any data race (and aborts: halt_on_error); the
 * checks abort with a message. Exit 0 and "ok" lines when all held.
 *
 *   ac97-race [SECONDS]
 */
#include "../fuzz/kshim/model_host.c"

#include <pthread.h>
#include <unistd.h>

#define BDL		FAKE_RAM_BASE
#define PCM		(FAKE_RAM_BASE + 0x1000)
#define BUF_SAMPLES	1024
#define PO(r)		(AC97_BM_PO + (r))

static struct ac97_dev *dev;
static struct fake_guest guest;
static int stop_vcpus, stop_dma;
static u64 vcpu_ops[2], dma_steps, reader_bytes[3];

static void fail(const char *what)
{
	fprintf(stderr, "not ok - %s\n", what);
	abort();
}

static u32 rnd(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void guest_setup(void)
{
	__le16 *pcm = fake_ptr(&guest, PCM);
	unsigned int i;

	for (i = 0; i < 32 * BUF_SAMPLES; i++)
		pcm[i] = cpu_to_le16(i * 2654435761u >> 16);
	for (i = 0; i < 32; i++)
		fake_write_bd(&guest, BDL, i, PCM + i * BUF_SAMPLES * 2,
			      (i & 1 ? AC97_BD_IOC : 0) | (BUF_SAMPLES - (i % 3)));
}

static void vcpu_op(u32 *s)
{
	u32 r = rnd(s), width = 1u << (r % 3);

	switch ((r >> 4) % 12) {
	case 0:
		ac97_nabm_write(dev, PO(AC97_BM_CR), 1,
				AC97_CR_RPBM | AC97_CR_IOCE | AC97_CR_LVBIE);
		break;
	case 1:
		ac97_nabm_write(dev, PO(AC97_BM_CR), 1, 0);
		break;
	case 2:
		ac97_nabm_write(dev, PO(AC97_BM_CR), 1, AC97_CR_RR);
		break;
	case 3:
		ac97_nabm_write(dev, PO(AC97_BM_LVI), 1, r >> 8);
		break;
	case 4:
		ac97_nabm_write(dev, PO(AC97_BM_SR), 2, AC97_SR_W1C);
		break;
	case 5:
		ac97_nabm_write(dev, PO(AC97_BM_BDBAR), 4,
				r & 0x100 ? (u32)BDL : 0xfffff000 + (r & 0xff8));
		break;
	case 6:
		if (r & 0x100) {
			ac97_nabm_write(dev, AC97_GLOB_CNT, 4, 0);
			ac97_nabm_write(dev, AC97_GLOB_CNT, 4, AC97_GC_COLD);
		} else {
			ac97_nabm_write(dev, AC97_GLOB_CNT, 4, AC97_GC_COLD | AC97_GC_WARM);
		}
		break;
	case 7:
		ac97_nam_write(dev, AC97_EXTENDED_STATUS, 2, AC97_EA_VRA);
		ac97_nam_write(dev, AC97_PCM_FRONT_DAC_RATE, 2, r >> 8);
		break;
	case 8:
		ac97_nam_write(dev, r & 0x100 ? AC97_MASTER : AC97_PCM_OUT, 2, r >> 12);
		break;
	case 9:
		ac97_nabm_write(dev, (r >> 8) % (AC97_NABM_SIZE - width + 1), width, rnd(s));
		break;
	case 10:
		ac97_nam_write(dev, (r >> 8) % (AC97_NAM_SIZE - width + 1), width, rnd(s));
		break;
	default:
		(void)ac97_nabm_read(dev, (r >> 8) % (AC97_NABM_SIZE - width + 1), width);
		(void)ac97_nam_read(dev, (r >> 8) % (AC97_NAM_SIZE - width + 1), width);
		break;
	}
}

static void *vcpu_main(void *arg)
{
	u32 id = (u32)(uintptr_t)arg, seed = 0x9e3779b9u * (id + 1);

	ac97_nabm_write(dev, AC97_GLOB_CNT, 4, AC97_GC_COLD);
	while (!__atomic_load_n(&stop_vcpus, __ATOMIC_ACQUIRE)) {
		vcpu_op(&seed);
		/* Mostly keep PCM out running, so the engine has work. */
		if (rnd(&seed) % 4 == 0) {
			ac97_nabm_write(dev, AC97_GLOB_CNT, 4, AC97_GC_COLD);
			ac97_nabm_write(dev, PO(AC97_BM_BDBAR), 4, BDL);
			ac97_nabm_write(dev, PO(AC97_BM_LVI), 1, 31);
			ac97_nabm_write(dev, PO(AC97_BM_CR), 1, AC97_CR_RPBM | AC97_CR_IOCE);
		}
		vcpu_ops[id]++;
	}
	return NULL;
}

static void *dma_main(void *arg)
{
	u32 seed = 12345;

	(void)arg;
	while (!__atomic_load_n(&stop_dma, __ATOMIC_ACQUIRE)) {
		WRITE_ONCE(dev->manual_now_ns, dev->manual_now_ns + rnd(&seed) % 2000000);
		ac97_engine_step(dev);
		dma_steps++;
	}
	return NULL;
}

/* Under the ring lock: the reader is never past the writer. */
static void check_position(struct ac97_reader *r)
{
	spin_lock(&r->ring->lock);
	if (r->rpos > r->ring->wpos)
		fail("a reader got past the writer");
	spin_unlock(&r->ring->lock);
}

struct reader_arg {
	struct ac97_reader *reader;
	int id;
};

/* Read until the stream ends (the device was destroyed and drained). */
static void *reader_main(void *arg)
{
	struct reader_arg *ra = arg;
	struct ac97_fmt_mark seg;
	u8 buf[4096];
	u32 seed = 777 + ra->id;

	for (;;) {
		size_t len = ac97_reader_peek(ra->reader, buf, 1 + rnd(&seed) % sizeof(buf), &seg);

		ac97_reader_advance(ra->reader, len);
		check_position(ra->reader);
		__atomic_fetch_add(&reader_bytes[ra->id], len, __ATOMIC_RELAXED);
		if (len)
			continue;
		/* Nothing now: the end, if the ring is closed and nothing came. */
		if (ac97_reader_ready(ra->reader) && !ac97_reader_peek(ra->reader, buf, 1, &seg))
			break;
		usleep(100);
	}
	return NULL;
}

#define CAP_SAMPLES	(1u << 21)

static u32 cap_next;		/* pattern index the guest must get next */
static int cap_writer_done, cap_stop;

static u16 cap_value(u32 n)
{
	return n % 65535 + 1;	/* never 0: 0 is an underrun's silence */
}

/* The fake guest's write, checking the order of what PCM in writes. */
static int cap_write_guest(void *host, u64 gpa, const void *buf, size_t len)
{
	const u16 *s = buf;
	size_t i;

	for (i = 0; i < len / 2; i++) {
		if (!s[i])
			continue;
		if (s[i] != cap_value(cap_next))
			fail("PCM in wrote a sample out of the writer's order");
		cap_next++;
	}
	return fake_guest_ops.write_guest(host, gpa, buf, len);
}

static void *cap_writer_main(void *arg)
{
	struct ac97_source *src = arg;
	static u16 chunk[1000];
	u32 n = 0, i, len;

	while (n < CAP_SAMPLES) {
		struct iov_iter it;
		ssize_t got;

		len = CAP_SAMPLES - n < 1000 ? CAP_SAMPLES - n : 1000;
		for (i = 0; i < len; i++)
			chunk[i] = cap_value(n + i);
		it = (struct iov_iter){ .p = (const u8 *)chunk, .count = len * 2 };
		got = ac97_source_write(src, &it, true);
		if (got == -EAGAIN) {
			usleep(50);
			continue;
		}
		if (got < 0 || got % 2)
			fail("the capture writer's write failed or split a sample");
		n += got / 2;
	}
	__atomic_store_n(&cap_writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A vCPU that keeps PCM in going round its 32 buffers. */
static void *cap_vcpu_main(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&cap_stop, __ATOMIC_ACQUIRE)) {
		u8 civ = ac97_nabm_read(dev, AC97_BM_PI + AC97_BM_CIV, 1);

		ac97_nabm_write(dev, AC97_BM_PI + AC97_BM_LVI, 1, (civ - 1) & 31);
		(void)ac97_nabm_read(dev, AC97_BM_PI + AC97_BM_PICB, 2);
		usleep(20);
	}
	return NULL;
}

static void capture_race(void)
{
	static struct ac97_host_ops cap_ops;
	struct ac97_source *src;
	pthread_t writer, vcpu, dma;
	unsigned int i;

	cap_ops = fake_guest_ops;
	cap_ops.write_guest = cap_write_guest;
	dev = ac97_dev_create(&cap_ops, &guest, AC97_DEV_MANUAL);
	if (IS_ERR(dev))
		fail("ac97_dev_create");
	src = &dev->src[AC97_SRC_LINE];
	WRITE_ONCE(dev->manual_now_ns, 1000000000ULL);
	for (i = 0; i < 32; i++)
		fake_write_bd(&guest, BDL + 0x400, i, PCM + i * 2 * BUF_SAMPLES, BUF_SAMPLES);
	ac97_nabm_write(dev, AC97_GLOB_CNT, 4, AC97_GC_COLD);
	ac97_nam_write(dev, AC97_REC_SEL, 2, 0x0404);
	ac97_nam_write(dev, AC97_REC_GAIN, 2, 0);
	ac97_nabm_write(dev, AC97_BM_PI + AC97_BM_BDBAR, 4, BDL + 0x400);
	ac97_nabm_write(dev, AC97_BM_PI + AC97_BM_LVI, 1, 31);
	ac97_nabm_write(dev, AC97_BM_PI + AC97_BM_CR, 1, AC97_CR_RPBM);
	stop_dma = 0;
	pthread_create(&writer, NULL, cap_writer_main, src);
	pthread_create(&vcpu, NULL, cap_vcpu_main, NULL);
	pthread_create(&dma, NULL, dma_main, NULL);
	for (i = 0; i < 6000; i++) {
		u64 left;

		spin_lock(&src->lock);
		left = src->wpos - src->rpos;
		spin_unlock(&src->lock);
		if (__atomic_load_n(&cap_writer_done, __ATOMIC_ACQUIRE) && !left)
			break;
		usleep(10000);
	}
	__atomic_store_n(&stop_dma, 1, __ATOMIC_RELEASE);
	pthread_join(dma, NULL);
	__atomic_store_n(&cap_stop, 1, __ATOMIC_RELEASE);
	pthread_join(vcpu, NULL);
	pthread_join(writer, NULL);
	if (cap_next != CAP_SAMPLES)
		fail("PCM in did not deliver every sample the writer wrote exactly once");
	printf("ok - capture: a writer and the DMA thread on one source, a vCPU moving LVI: %u samples reached the guest in order, each once (%llu underruns meanwhile)\n",
	       cap_next, (unsigned long long)src->underruns);
	ac97_dev_destroy(dev);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	struct ac97_reader readers[2], shared;
	struct reader_arg ra[4] = {
		{ &readers[0], 0 }, { &readers[1], 1 }, { &shared, 2 }, { &shared, 2 },
	};
	pthread_t vcpu[2], dma, rd[4];
	u64 wpos_at_unplug, done_at_unplug;
	unsigned int i;

	if (fake_guest_alloc(&guest))
		fail("fake guest");
	guest_setup();
	dev = ac97_dev_create(&fake_guest_ops, &guest, AC97_DEV_MANUAL);
	if (IS_ERR(dev))
		fail("ac97_dev_create");
	WRITE_ONCE(dev->manual_now_ns, 1000000000ULL);
	ac97_reader_init(&readers[0], &dev->ring);
	ac97_reader_init(&readers[1], &dev->ring);
	ac97_reader_init(&shared, &dev->ring);
	for (i = 0; i < 3; i++)
		kref_get(&dev->ref);	/* as each open PCM file holds one */

	for (i = 0; i < 2; i++)
		pthread_create(&vcpu[i], NULL, vcpu_main, (void *)(uintptr_t)i);
	pthread_create(&dma, NULL, dma_main, NULL);
	for (i = 0; i < 4; i++)
		pthread_create(&rd[i], NULL, reader_main, &ra[i]);

	usleep(seconds * 1e6);
	/* Detach, as ac97_kvm_free() orders it: DMA off while the vCPUs may
	 * still be in the handlers, then no vCPU, then no thread, then gone. */
	ac97_dev_unplug(dev);
	spin_lock(&dev->lock);
	done_at_unplug = dev->func[AC97_FUNC_PO].clock.samples_done;
	spin_unlock(&dev->lock);
	spin_lock(&dev->ring.lock);
	wpos_at_unplug = dev->ring.wpos;
	spin_unlock(&dev->ring.lock);
	usleep(200000);
	__atomic_store_n(&stop_vcpus, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		pthread_join(vcpu[i], NULL);
	__atomic_store_n(&stop_dma, 1, __ATOMIC_RELEASE);
	pthread_join(dma, NULL);
	if (dev->func[AC97_FUNC_PO].clock.samples_done != done_at_unplug)
		fail("PCM out moved data after the unplug");
	/* A transfer committed before the unplug may still land: one chunk. */
	if (dev->ring.wpos > wpos_at_unplug + AC97_BOUNCE_BYTES + 4)
		fail("the ring grew by more than one transfer after the unplug");
	ac97_dev_destroy(dev);		/* the readers still hold it */
	for (i = 0; i < 4; i++)
		pthread_join(rd[i], NULL);
	if (readers[0].rpos != dev->ring.wpos || readers[1].rpos != dev->ring.wpos ||
	    shared.rpos != dev->ring.wpos)
		fail("a reader did not drain the stream to its end");
	/* A reader of its own gets every byte, or counts it lost. */
	for (i = 0; i < 2; i++)
		if (reader_bytes[i] + readers[i].lost_bytes != dev->ring.wpos)
			fail("a reader's bytes and its losses do not add up to the stream");
	printf("ok - %llu + %llu register accesses from 2 vCPUs, %llu engine steps; readers got %llu (+%llu lost) and %llu (+%llu lost) bytes of a %llu-byte stream, two threads on one reader %llu; no data race, no reader past the writer\n",
	       (unsigned long long)vcpu_ops[0], (unsigned long long)vcpu_ops[1],
	       (unsigned long long)dma_steps, (unsigned long long)reader_bytes[0],
	       (unsigned long long)readers[0].lost_bytes, (unsigned long long)reader_bytes[1],
	       (unsigned long long)readers[1].lost_bytes, (unsigned long long)dev->ring.wpos,
	       (unsigned long long)reader_bytes[2]);
	printf("ok - unplug with vCPUs and the DMA running: no data after it (%llu samples), the ring grew by %llu bytes (the transfer in flight)\n",
	       (unsigned long long)done_at_unplug,
	       (unsigned long long)(dev->ring.wpos - wpos_at_unplug));
	for (i = 0; i < 3; i++)
		ac97_dev_put(dev);
	capture_race();
	fake_guest_release(&guest);
	return 0;
}
