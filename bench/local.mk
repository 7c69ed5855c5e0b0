# SPDX-License-Identifier: Apache-2.0
# The benchmark suite: "make bench" builds its helpers and tiny guests and
# runs bench/run, which prints one table and writes bench/RESULTS.md.
# Never part of "make check".

BENCH_GUESTS = bench/guests/tiny-reset.elf bench/guests/tiny-exits.elf \
	bench/guests/tiny-idle.elf
EXTRA_PROGRAMS += bench/launch bench/kvm-floor bench/swarm
bench_launch_SOURCES = bench/launch.c bench/clock.h
bench_kvm_floor_SOURCES = bench/kvm-floor.c bench/clock.h
bench_swarm_SOURCES = bench/swarm.c bench/clock.h
CLEANFILES += $(BENCH_GUESTS) bench/launch bench/kvm-floor bench/swarm bench/guests/*.o
EXTRA_DIST += bench/run bench/blk bench/net bench/lib.sh bench/guests/tiny.S bench/RESULTS.md

BENCH_LINK = $(GUEST_CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,-z,max-page-size=0x1000 -Wl,-Ttext-segment=0x100000 -Wl,-e,_start
bench/guests/tiny-reset.elf: $(srcdir)/bench/guests/tiny.S
	$(AM_V_CCLD)$(MKDIR_P) bench/guests && $(BENCH_LINK) -o $@ $(srcdir)/bench/guests/tiny.S
bench/guests/tiny-exits.elf: $(srcdir)/bench/guests/tiny.S
	$(AM_V_CCLD)$(MKDIR_P) bench/guests && $(BENCH_LINK) -DEXITS=200000 -o $@ \
		$(srcdir)/bench/guests/tiny.S
bench/guests/tiny-idle.elf: $(srcdir)/bench/guests/tiny.S
	$(AM_V_CCLD)$(MKDIR_P) bench/guests && $(BENCH_LINK) -DIDLE -o $@ \
		$(srcdir)/bench/guests/tiny.S

# The real binary, not libtool's wrapper script (which would be timed too).
bench: bench/launch bench/kvm-floor bench/swarm $(BENCH_GUESTS) src/vmm-reference guests tests/net-peer
	@if test -x src/.libs/vmm-reference; then \
		vmm=$(abs_top_builddir)/src/.libs/vmm-reference; \
		LD_LIBRARY_PATH=$(abs_top_builddir)/lib/.libs; export LD_LIBRARY_PATH; \
	else vmm=$(abs_top_builddir)/src/vmm-reference; fi; \
	VMM=$$vmm LIBVMMCORE=$$(ls $(abs_top_builddir)/lib/.libs/libvmmcore.so.*.*.* 2>/dev/null | head -n 1) \
	BENCH_BIN=$(abs_top_builddir)/bench GUEST_DIR=$(abs_top_builddir)/tests/guests \
	NET_PEER=$(abs_top_builddir)/tests/net-peer BENCH_RESULTS=$${BENCH_RESULTS:-$(abs_top_srcdir)/bench/RESULTS.md} \
	$(SHELL) -c '$(abs_top_srcdir)/bench/run'
.PHONY: bench
