/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's API to compile ac97-emu's device model
 * (ac97_mixer.c, ac97_bm.c, ac97_dma.c, ac97_dev.c, ac97_source.c,
 * ac97_ring.c) in userspace: for libFuzzer (one
 * thread: a spinlock only checks it is not taken twice or freed unheld) and,
 * with KSHIM_THREADS, for the ThreadSanitizer race test (tools/race: a
 * spinlock is a pthread mutex, a kref an atomic, READ_ONCE/WRITE_ONCE are
 * relaxed atomics as KCSAN treats them). Wait queues are no-ops. The DMA
 * thread is never started (AC97_DEV_MANUAL), so its primitives abort if
 * reached. Allocations are plain malloc(), so the sanitizers see every byte
 * the model touches; vmalloc() fills with 0x5a, so a read of PCM the device
 * never wrote shows.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <linux/types.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef s64 ktime_t;
typedef unsigned int __poll_t;

#define BIT(n)			(1UL << (n))
#define U64_MAX			((u64)~0ULL)
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define min_t(t, a, b)		min((t)(a), (t)(b))
#define max_t(t, a, b)		max((t)(a), (t)(b))
#define clamp(v, lo, hi)	min(max(v, lo), hi)
#define clamp_t(t, v, lo, hi)	clamp((t)(v), (t)(lo), (t)(hi))
#define roundup(x, y)		((((x) + (y) - 1) / (y)) * (y))
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define likely(x)		__builtin_expect(!!(x), 1)
#define fallthrough		__attribute__((__fallthrough__))
#define __must_hold(x)
#define __force
#define __user
#define __init
#define __exit
#define IS_ENABLED(option)	0
#define S16_MIN			INT16_MIN
#define S16_MAX			INT16_MAX
#define U32_MAX			UINT32_MAX
#define SZ_64K			0x10000
#define EPOLLOUT		0x4
#define EPOLLWRNORM		0x100
#define SZ_64M			0x4000000
#define PAGE_SIZE		4096UL
#define NSEC_PER_SEC		1000000000ULL
#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define GFP_KERNEL		0
#define GFP_KERNEL_ACCOUNT	0
#define __GFP_ZERO		1
#define EPOLLIN			0x1
#define EPOLLHUP		0x10
#define EPOLLRDNORM		0x40

/* A kernel WARN is a bug the fuzzer must report: crash loudly. */
#define WARN_ON_ONCE(c)		({ bool __c = !!(c); if (__c) kshim_bug(#c, __FILE__, __LINE__); __c; })
#define WARN_ON(c)		WARN_ON_ONCE(c)
static inline void kshim_bug(const char *what, const char *file, int line)
{
	fprintf(stderr, "WARN: %s at %s:%d\n", what, file, line);
	abort();
}

#define pr_warn_ratelimited(...)	do { } while (0)
#define pr_warn(fmt, ...)		do { if (0) printf(fmt, ##__VA_ARGS__); } while (0)
#define pr_info(...)			do { } while (0)
#define module_param_named(n, v, t, p)
#define MODULE_PARM_DESC(n, d)
#define EXPORT_SYMBOL_GPL(s)

#define le16_to_cpu(x)		((u16)(x))
#define le32_to_cpu(x)		((u32)(x))
#define cpu_to_le16(x)		((__le16)(x))
#define cpu_to_le32(x)		((__le32)(x))

#define MAX_ERRNO		4095
#define IS_ERR_VALUE(x)		((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long e) { return (void *)e; }
static inline long PTR_ERR(const void *p) { return (long)p; }
static inline bool IS_ERR(const void *p) { return IS_ERR_VALUE(p); }
static inline bool IS_ERR_OR_NULL(const void *p) { return !p || IS_ERR(p); }

static inline void *kzalloc(size_t n, int gfp) { (void)gfp; return calloc(1, n); }
static inline void *kmalloc(size_t n, int gfp) { (void)gfp; return malloc(n); }
static inline void kfree(const void *p) { free((void *)p); }
static inline void *vmalloc(size_t n)
{
	void *p = malloc(n);

	return p ? memset(p, 0x5a, n) : p;
}
static inline void *vzalloc(size_t n) { return calloc(1, n); }
static inline void *__vmalloc(size_t n, int gfp)
{
	return (gfp & __GFP_ZERO) ? vzalloc(n) : vmalloc(n);
}
static inline void vfree(const void *p) { free((void *)p); }
#define kvzalloc(n, gfp)	((void)(gfp), vzalloc(n))
#define kvfree(p)		vfree(p)

static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	unsigned long p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static inline u64 mul_u64_u32_div(u64 a, u32 mul, u32 div)
{
	return (u64)(((unsigned __int128)a * mul) / div);
}

static inline u64 div_u64(u64 a, u32 b) { return a / b; }
static inline u64 div64_u64(u64 a, u64 b) { return a / b; }
#define do_div(n, base) ({ u32 __rem = (n) % (base); (n) /= (base); __rem; })

#ifdef KSHIM_THREADS
#include <pthread.h>
typedef struct { pthread_mutex_t m; } spinlock_t;
#define spin_lock_init(l)	pthread_mutex_init(&(l)->m, NULL)
#define spin_lock(l)		pthread_mutex_lock(&(l)->m)
#define spin_unlock(l)		pthread_mutex_unlock(&(l)->m)
#else
typedef struct { int locked; } spinlock_t;
#define spin_lock_init(l)	((l)->locked = 0)
#define spin_lock(l)		do { if ((l)->locked++) kshim_bug("recursive lock", __FILE__, __LINE__); } while (0)
#define spin_unlock(l)		do { if (!(l)->locked--) kshim_bug("unlock of free lock", __FILE__, __LINE__); } while (0)
#endif

#ifdef KSHIM_THREADS
struct mutex { pthread_mutex_t m; };
#define mutex_init(l)		pthread_mutex_init(&(l)->m, NULL)
#define mutex_lock(l)		pthread_mutex_lock(&(l)->m)
#define mutex_unlock(l)		pthread_mutex_unlock(&(l)->m)
#define mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)
#else
struct mutex { int locked; };
#define mutex_init(l)		((l)->locked = 0)
#define mutex_lock(l)		do { if ((l)->locked++) kshim_bug("recursive mutex", __FILE__, __LINE__); } while (0)
#define mutex_unlock(l)		do { if (!(l)->locked--) kshim_bug("unlock of free mutex", __FILE__, __LINE__); } while (0)
#define mutex_destroy(l)	((void)(l))
#endif

typedef struct { int counter; } atomic_t;
#define atomic_read(a)		__atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define atomic_inc(a)		((void)__atomic_fetch_add(&(a)->counter, 1, __ATOMIC_RELAXED))
#define atomic_dec(a)		((void)__atomic_fetch_sub(&(a)->counter, 1, __ATOMIC_RELAXED))
#define atomic_inc_return(a)	__atomic_add_fetch(&(a)->counter, 1, __ATOMIC_RELAXED)

static inline u64 mul_u64_u64_div_u64(u64 a, u64 mul, u64 div)
{
	return (u64)(((unsigned __int128)a * mul) / div);
}

typedef struct { int unused; } wait_queue_head_t;
#define init_waitqueue_head(w)			((void)(w))
#define wake_up_interruptible_poll(w, m)	((void)(w))
#define wake_up_interruptible(w)		((void)(w))
#define wq_has_sleeper(w)			((void)(w), false)
#define wake_up_interruptible_all(w)		((void)(w))
/* Nothing here waits: a writer that would block is told to try again. */
#define wait_event_interruptible(w, cond)	((void)(w), (cond) ? 0 : -EAGAIN)

/* The one kind of iov_iter the harnesses build: a flat user buffer. */
struct iov_iter { const u8 *p; size_t count; };
static inline size_t iov_iter_count(const struct iov_iter *i) { return i->count; }
static inline size_t copy_from_iter(void *dst, size_t n, struct iov_iter *i)
{
	n = n < i->count ? n : i->count;
	memcpy(dst, i->p, n);
	i->p += n;
	i->count -= n;
	return n;
}

struct list_head { struct list_head *next, *prev; };
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l->prev = l; }

struct kref { int refcount; };
static inline void kref_init(struct kref *k) { k->refcount = 1; }
static inline void kref_get(struct kref *k)
{
	__atomic_fetch_add(&k->refcount, 1, __ATOMIC_RELAXED);
}
static inline int kref_put(struct kref *k, void (*release)(struct kref *))
{
	if (__atomic_sub_fetch(&k->refcount, 1, __ATOMIC_ACQ_REL))
		return 0;
	release(k);
	return 1;
}

struct miscdevice { int minor; const char *name; };
struct device;

typedef struct { unsigned int val; } kuid_t;
#define current_fsuid()		((kuid_t){ 0 })

/* Every warning of the model is rate-limited per device; here all pass. */
struct ratelimit_state { int unused; };
#define DEFAULT_RATELIMIT_INTERVAL	0
#define DEFAULT_RATELIMIT_BURST		0
#define ratelimit_state_init(rs, i, b)	((void)(rs))
#define __ratelimit(rs)			((void)(rs), 0)

struct task_struct;
static inline int cgroup_attach_task_all(struct task_struct *from, struct task_struct *to)
{
	(void)from;
	(void)to;
	return 0;
}
#define current			((struct task_struct *)0)

/* The DMA thread: never started in manual mode. */
struct task_struct { int unused; };
#define TASK_RUNNING		0
#define TASK_INTERRUPTIBLE	1
#define HRTIMER_MODE_ABS	0
#define set_current_state(s)	kshim_bug("DMA thread in the fuzzer", __FILE__, __LINE__)
#define __set_current_state(s)	((void)(s))
#define kthread_should_stop()	true
#define kthread_run(fn, data, ...) \
	((void)(fn), (void)(data), (struct task_struct *)ERR_PTR(-ENOSYS))
#define kthread_create(fn, data, ...) \
	((void)(fn), (void)(data), (struct task_struct *)ERR_PTR(-ENOSYS))
#define kthread_stop(t)		((void)(t))
#define wake_up_process(t)	kshim_bug("DMA thread in the fuzzer", __FILE__, __LINE__)
#define schedule()		do { } while (0)
#define schedule_hrtimeout_range(t, d, m)	((void)(t), 0)

static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}
#define ktime_get()		((ktime_t)ktime_get_ns())
#define ns_to_ktime(ns)		((ktime_t)(ns))
#define ktime_before(a, b)	((a) < (b))
#define ktime_add_ns(a, n)	((a) + (ktime_t)(n))

#endif /* KSHIM_H */
