/* Userspace and guest stand-in for the kernel's <linux/bits.h>. */
#ifndef TOOLS_LINUX_BITS_H
#define TOOLS_LINUX_BITS_H
#define BIT(n) (1UL << (n))
#endif
