# SPDX-License-Identifier: Apache-2.0
# Test guests: small freestanding ring-0 x86_64 programs that vmm-reference
# boots on KVM (tests/guest-*.sh). Built by "make check" with explicit rules
# and flags of their own: none of AM_CFLAGS/CFLAGS (-pthread, sanitizers,
# user options) applies to them. Override GUEST_CC / GUEST_COPTS on the make
# command line if needed.

GUEST_BOOT_ELF = tests/guests/boot.elf

GUEST_CC = $(CC)
GUEST_COPTS = -std=gnu11 -ffreestanding -fno-pic -fno-pie -fno-builtin \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
	$(GUEST_LOOP_CFLAGS) -fcf-protection=none -fno-common \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -O2 -g $(WARN_CFLAGS)
GUEST_CPPOPTS = -nostdinc -I$(srcdir)/tests/guests
GUEST_LDOPTS = -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=0x1000 -Wl,-L,$(srcdir)/tests/guests

GUEST_COMMON_OBJS = tests/guests/head.o tests/guests/idt.o tests/guests/lib.o
GUEST_LDS = $(srcdir)/tests/guests/guest.ld $(srcdir)/tests/guests/sections.ld
GUEST_BZ_LDS = $(srcdir)/tests/guests/bzimage.ld $(srcdir)/tests/guests/sections.ld

GUEST_IMAGES = \
	tests/guests/boot.elf \
	tests/guests/boot.bzimage \
	tests/guests/smp.elf \
	tests/guests/smp.bzimage \
	tests/guests/serial.elf \
	tests/guests/crash.elf \
	tests/guests/blk.elf \
	tests/guests/rng.elf \
	tests/guests/net.elf

GUEST_OBJS = $(GUEST_COMMON_OBJS) tests/guests/bzsetup.o tests/guests/boot.o \
	tests/guests/smp.o tests/guests/trampoline.o tests/guests/serial.o \
	tests/guests/crash.o tests/guests/virtio.o tests/guests/blk.o tests/guests/rng.o \
	tests/guests/net.o

check_SCRIPTS += $(GUEST_IMAGES)
CLEANFILES += $(GUEST_IMAGES) $(GUEST_OBJS)

GUEST_SRCS = \
	tests/guests/guest.h \
	tests/guests/trampoline.h \
	tests/guests/virtio.h \
	tests/guests/head.S \
	tests/guests/idt.S \
	tests/guests/lib.c \
	tests/guests/bzsetup.S \
	tests/guests/boot.c \
	tests/guests/smp.c \
	tests/guests/trampoline.S \
	tests/guests/serial.c \
	tests/guests/crash.c \
	tests/guests/virtio.c \
	tests/guests/blk.c \
	tests/guests/rng.c \
	tests/guests/net.c \
	tests/guests/guest.ld \
	tests/guests/bzimage.ld \
	tests/guests/sections.ld \
	tests/guests/README

# The guest boots, also run under memcheck by "make check-valgrind"
# (tests/valgrind.mk), and the tests of the CLI around a guest, which
# time signals and terminals against the VMM's own process.
GUEST_BOOT_TESTS = \
	tests/guest-boot.sh \
	tests/guest-smp.sh \
	tests/guest-serial.sh \
	tests/guest-crash.sh \
	tests/guest-faults.sh \
	tests/guest-blk.sh \
	tests/guest-blk-durability.sh \
	tests/guest-rng.sh \
	tests/guest-net.sh \
	tests/guest-net-blocked-disk.sh
GUEST_TESTS = $(GUEST_BOOT_TESTS) \
	tests/console.sh \
	tests/console-backends.sh \
	tests/errors.sh \
	tests/signals.sh

TESTS += $(GUEST_TESTS)
EXTRA_DIST += $(GUEST_SRCS) $(GUEST_TESTS)

# Benchmarks: run by hand from a build directory, never by "make check".
EXTRA_DIST += bench/blk bench/net

# Objects. Every one depends on the headers: they are few and tiny.
GUEST_HDRS = $(srcdir)/tests/guests/guest.h $(srcdir)/tests/guests/trampoline.h \
	$(srcdir)/tests/guests/virtio.h
GUEST_COMPILE = $(GUEST_CC) $(GUEST_CPPOPTS) $(GUEST_COPTS)

tests/guests/head.o: $(srcdir)/tests/guests/head.S $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/head.S
tests/guests/idt.o: $(srcdir)/tests/guests/idt.S $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/idt.S
tests/guests/lib.o: $(srcdir)/tests/guests/lib.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/lib.c
tests/guests/bzsetup.o: $(srcdir)/tests/guests/bzsetup.S $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/bzsetup.S
tests/guests/boot.o: $(srcdir)/tests/guests/boot.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/boot.c
tests/guests/smp.o: $(srcdir)/tests/guests/smp.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/smp.c
tests/guests/trampoline.o: $(srcdir)/tests/guests/trampoline.S $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/trampoline.S
tests/guests/serial.o: $(srcdir)/tests/guests/serial.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/serial.c
tests/guests/crash.o: $(srcdir)/tests/guests/crash.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/crash.c
tests/guests/virtio.o: $(srcdir)/tests/guests/virtio.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/virtio.c
tests/guests/blk.o: $(srcdir)/tests/guests/blk.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/blk.c
tests/guests/rng.o: $(srcdir)/tests/guests/rng.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/rng.c
tests/guests/net.o: $(srcdir)/tests/guests/net.c $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) tests/guests && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/tests/guests/net.c

# Images: each guest as an ELF, boot and smp also as a bzImage.
tests/guests/boot.elf: $(GUEST_COMMON_OBJS) tests/guests/boot.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) tests/guests/boot.o
tests/guests/boot.bzimage: tests/guests/bzsetup.o $(GUEST_COMMON_OBJS) tests/guests/boot.o $(GUEST_BZ_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/bzimage.ld -o $@ tests/guests/bzsetup.o \
		$(GUEST_COMMON_OBJS) tests/guests/boot.o
tests/guests/smp.elf: $(GUEST_COMMON_OBJS) tests/guests/smp.o tests/guests/trampoline.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) \
		tests/guests/smp.o tests/guests/trampoline.o
tests/guests/smp.bzimage: tests/guests/bzsetup.o $(GUEST_COMMON_OBJS) tests/guests/smp.o tests/guests/trampoline.o $(GUEST_BZ_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/bzimage.ld -o $@ tests/guests/bzsetup.o \
		$(GUEST_COMMON_OBJS) tests/guests/smp.o tests/guests/trampoline.o
tests/guests/serial.elf: $(GUEST_COMMON_OBJS) tests/guests/serial.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) tests/guests/serial.o
tests/guests/crash.elf: $(GUEST_COMMON_OBJS) tests/guests/crash.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) tests/guests/crash.o
tests/guests/blk.elf: $(GUEST_COMMON_OBJS) tests/guests/virtio.o tests/guests/blk.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) \
		tests/guests/virtio.o tests/guests/blk.o
tests/guests/rng.elf: $(GUEST_COMMON_OBJS) tests/guests/virtio.o tests/guests/rng.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) \
		tests/guests/virtio.o tests/guests/rng.o
tests/guests/net.elf: $(GUEST_COMMON_OBJS) tests/guests/virtio.o tests/guests/net.o $(GUEST_LDS)
	$(AM_V_CCLD)$(GUEST_CC) $(GUEST_COPTS) $(GUEST_LDOPTS) \
		-T $(srcdir)/tests/guests/guest.ld -o $@ $(GUEST_COMMON_OBJS) \
		tests/guests/virtio.o tests/guests/net.o

# "make guests": just the images.
guests: $(GUEST_IMAGES)
.PHONY: guests
