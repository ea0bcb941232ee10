# SPDX-License-Identifier: GPL-2.0
# Out-of-tree build of ac97_emu.ko.
#   make                 build against the running kernel
#   make KDIR=/path      build against another kernel build tree
#   make check           every test suite (KUnit in UML, the nested rig, ...)
#   make demo            the whole stack end to end; results in out/demo/
KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || \
		find . -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f

check:
	scripts/check.sh

check-kunit:
	scripts/kunit-uml.sh

demo:
	scripts/demo.sh

.PHONY: all modules clean check check-kunit demo
