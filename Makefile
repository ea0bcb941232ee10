# SPDX-License-Identifier: GPL-2.0
# Out-of-tree build of ac97_emu.ko.
#   make                 build against the running kernel
#   make KDIR=/path      build against another kernel build tree
#   make check           every test suite (KUnit in UML, the nested rig, ...)
#   make check-debug     the rig's suites on an x86-64 KASAN/lockdep/kmemleak kernel
#   make check-flavours  the rig on the -rt and -cloud kernels and a PREEMPT_RT debug kernel
#   make bench           ac97-emu vs QEMU's AC'97 vs the KVM floor; out/bench/bench.md
#   make fuzz            the device model under libFuzzer for an hour (FUZZ_SECONDS=)
#   make demo            the whole stack end to end; results in out/demo/
#   make demo-qemu       the same with the guest under QEMU's -device ac97-kvm
#   make install         module (modules_install + depmod), udev rule, uapi header, ac97play, ac97rec
#   make dkms-install    register with DKMS: rebuilt for every installed kernel
#   make uninstall       undo either
#   (INSTALL_MOD_PATH= and DESTDIR= stage install/uninstall under another root)
KDIR ?= /lib/modules/$(shell uname -r)/build
KVER ?= $(shell uname -r)
PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev/rules.d
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(KVER)
	install -D -m 0644 udev/60-ac97-emu.rules $(DESTDIR)$(UDEVDIR)/60-ac97-emu.rules
	install -D -m 0644 include/uapi/linux/ac97_emu.h $(DESTDIR)$(PREFIX)/include/linux/ac97_emu.h
	mkdir -p tools/out
	$(MAKE) -C tools OUT=$(CURDIR)/tools/out play
	install -D -m 0755 tools/out/ac97play $(DESTDIR)$(PREFIX)/bin/ac97play
	install -D -m 0755 tools/out/ac97rec $(DESTDIR)$(PREFIX)/bin/ac97rec
	-udevadm control --reload-rules 2>/dev/null

dkms-install:
	rm -rf /usr/src/ac97-emu-$(VERSION)
	mkdir -p /usr/src/ac97-emu-$(VERSION)
	cp -r Kbuild Makefile dkms.conf *.c *.h include kunit /usr/src/ac97-emu-$(VERSION)/
	dkms install -m ac97-emu -v $(VERSION)

uninstall:
ifeq ($(INSTALL_MOD_PATH),)
	-dkms remove -m ac97-emu -v $(VERSION) --all 2>/dev/null
	rm -rf /usr/src/ac97-emu-$(VERSION)
endif
	rm -f $(INSTALL_MOD_PATH)/lib/modules/$(KVER)/extra/ac97_emu.ko* \
		$(INSTALL_MOD_PATH)/lib/modules/$(KVER)/updates/ac97_emu.ko*
	-depmod $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) -a $(KVER)
	rm -f $(DESTDIR)$(UDEVDIR)/60-ac97-emu.rules $(DESTDIR)$(PREFIX)/include/linux/ac97_emu.h
	rm -f $(DESTDIR)$(PREFIX)/bin/ac97play $(DESTDIR)$(PREFIX)/bin/ac97rec

check:
	scripts/check.sh

check-kunit:
	scripts/kunit-uml.sh

check-debug:
	scripts/nested-rig.sh --debug

check-flavours:
	scripts/check.sh --flavours

demo:
	scripts/demo.sh

demo-qemu:
	scripts/demo.sh --qemu

bench:
	scripts/bench.sh

FUZZ_SECONDS ?= 3600
fuzz:
	scripts/fuzz.sh --long $(FUZZ_SECONDS)

.PHONY: all modules clean check check-kunit check-debug check-flavours bench fuzz demo demo-qemu install dkms-install uninstall
