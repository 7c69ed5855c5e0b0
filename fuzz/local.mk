# SPDX-License-Identifier: Apache-2.0
# Fuzz targets, one per guest- or user-facing parser (fuzz/TARGET.c, each
# a libFuzzer entry point over the library's own objects):
#   virtq   the virtqueue: descriptor tables, rings, indirect tables, event-idx
#   loader  the ELF/bzImage kernel loader, the initrd and the command line
#   config  the key=value option parser, through the public API
#   blk     the virtio-blk request path, over a disk image in memory
#   net     the virtio-net transmit and receive paths, over a socket pair
#   rng     the virtio-rng request path, its source a pipe or a file
#   mmio    the virtio-mmio register file, as sequences of accesses
#   uart    the 16550A UART's ports, with console input
#   i8042   the i8042 keyboard controller's ports
# (the device targets in the environment of fuzz/env.c)
# Seeds in fuzz/corpus/TARGET, a dictionary in fuzz/TARGET.dict where one
# helps. Every build replays each target over its seeds and
# over every input that once crashed it (fuzz/regressions/TARGET) in
# "make check". With ./configure --enable-fuzzing (clang, libFuzzer,
# ASan and UBSan), "make fuzz FUZZ_SECONDS=N" runs each for N seconds; a
# crash fails it, its input in fuzz-out/TARGET/: copy it to
# fuzz/regressions/TARGET/ with the fix.
FUZZ_TARGETS = virtq loader config blk net rng mmio uart i8042
FUZZ_SECONDS = 60

check_PROGRAMS += fuzz/virtq-replay fuzz/loader-replay fuzz/config-replay \
	fuzz/blk-replay fuzz/net-replay fuzz/rng-replay fuzz/mmio-replay fuzz/uart-replay fuzz/i8042-replay
REPLAY_CFLAGS_ALL = $(AM_CFLAGS) $(SANITIZE_CFLAGS)
REPLAY_LDFLAGS_ALL = $(AM_LDFLAGS) $(SANITIZE_CFLAGS)
fuzz_virtq_replay_SOURCES = fuzz/virtq.c fuzz/replay.c fuzz/fuzz.h
fuzz_virtq_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_virtq_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_virtq_replay_LDADD = lib/libvmmcore-objs.la
fuzz_loader_replay_SOURCES = fuzz/loader.c fuzz/replay.c fuzz/fuzz.h
fuzz_loader_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_loader_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_loader_replay_LDADD = lib/libvmmcore-objs.la
fuzz_config_replay_SOURCES = fuzz/config.c fuzz/replay.c fuzz/fuzz.h
fuzz_config_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_config_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_config_replay_LDADD = lib/libvmmcore-objs.la
# The device targets' environment.
FUZZ_ENV = fuzz/env.c fuzz/env.h
fuzz_blk_replay_SOURCES = fuzz/blk.c $(FUZZ_ENV) fuzz/replay.c fuzz/fuzz.h
fuzz_blk_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_blk_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_blk_replay_LDADD = lib/libvmmcore-objs.la
fuzz_net_replay_SOURCES = fuzz/net.c $(FUZZ_ENV) fuzz/replay.c fuzz/fuzz.h
fuzz_net_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_net_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_net_replay_LDADD = lib/libvmmcore-objs.la
fuzz_rng_replay_SOURCES = fuzz/rng.c $(FUZZ_ENV) fuzz/replay.c fuzz/fuzz.h
fuzz_rng_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_rng_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_rng_replay_LDADD = lib/libvmmcore-objs.la
fuzz_mmio_replay_SOURCES = fuzz/mmio.c $(FUZZ_ENV) fuzz/replay.c fuzz/fuzz.h
fuzz_mmio_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_mmio_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_mmio_replay_LDADD = lib/libvmmcore-objs.la
fuzz_uart_replay_SOURCES = fuzz/uart.c $(FUZZ_ENV) fuzz/replay.c fuzz/fuzz.h
fuzz_uart_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_uart_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_uart_replay_LDADD = lib/libvmmcore-objs.la
fuzz_i8042_replay_SOURCES = fuzz/i8042.c $(FUZZ_ENV) fuzz/replay.c fuzz/fuzz.h
fuzz_i8042_replay_CFLAGS = $(REPLAY_CFLAGS_ALL)
fuzz_i8042_replay_LDFLAGS = $(REPLAY_LDFLAGS_ALL)
fuzz_i8042_replay_LDADD = lib/libvmmcore-objs.la

TESTS += tests/fuzz-replay.sh
EXTRA_DIST += tests/fuzz-replay.sh fuzz/corpus fuzz/regressions fuzz/config.dict fuzz/mmio.dict

if ENABLE_FUZZING
EXTRA_PROGRAMS += fuzz/virtq-fuzzer fuzz/loader-fuzzer fuzz/config-fuzzer \
	fuzz/blk-fuzzer fuzz/net-fuzzer fuzz/rng-fuzzer fuzz/mmio-fuzzer fuzz/uart-fuzzer fuzz/i8042-fuzzer
fuzz_virtq_fuzzer_SOURCES = fuzz/virtq.c fuzz/fuzz.h
fuzz_virtq_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_virtq_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_loader_fuzzer_SOURCES = fuzz/loader.c fuzz/fuzz.h
fuzz_loader_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_loader_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_config_fuzzer_SOURCES = fuzz/config.c fuzz/fuzz.h
fuzz_config_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_config_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_blk_fuzzer_SOURCES = fuzz/blk.c $(FUZZ_ENV) fuzz/fuzz.h
fuzz_blk_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_blk_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_net_fuzzer_SOURCES = fuzz/net.c $(FUZZ_ENV) fuzz/fuzz.h
fuzz_net_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_net_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_rng_fuzzer_SOURCES = fuzz/rng.c $(FUZZ_ENV) fuzz/fuzz.h
fuzz_rng_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_rng_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_mmio_fuzzer_SOURCES = fuzz/mmio.c $(FUZZ_ENV) fuzz/fuzz.h
fuzz_mmio_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_mmio_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_uart_fuzzer_SOURCES = fuzz/uart.c $(FUZZ_ENV) fuzz/fuzz.h
fuzz_uart_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_uart_fuzzer_LDADD = lib/libvmmcore-objs.la
fuzz_i8042_fuzzer_SOURCES = fuzz/i8042.c $(FUZZ_ENV) fuzz/fuzz.h
fuzz_i8042_fuzzer_LDFLAGS = $(AM_LDFLAGS) $(SANITIZE_CFLAGS) -fsanitize=fuzzer
fuzz_i8042_fuzzer_LDADD = lib/libvmmcore-objs.la
CLEANFILES += fuzz/virtq-fuzzer fuzz/loader-fuzzer fuzz/config-fuzzer \
	fuzz/blk-fuzzer fuzz/net-fuzzer fuzz/rng-fuzzer fuzz/mmio-fuzzer fuzz/uart-fuzzer fuzz/i8042-fuzzer

# Each target for FUZZ_SECONDS from its seeds (the corpus it grows stays
# in fuzz-out/TARGET); any crash fails.
fuzz: fuzz/virtq-fuzzer fuzz/loader-fuzzer fuzz/config-fuzzer \
	fuzz/blk-fuzzer fuzz/net-fuzzer fuzz/rng-fuzzer fuzz/mmio-fuzzer fuzz/uart-fuzzer fuzz/i8042-fuzzer
	@fail=0; for t in $(FUZZ_TARGETS); do \
		out=fuzz-out/$$t; $(MKDIR_P) $$out/corpus $$out/crashes; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		dict=; test -f $(srcdir)/fuzz/$$t.dict && dict=-dict=$(srcdir)/fuzz/$$t.dict; \
		./fuzz/$$t-fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict \
			-artifact_prefix=$$out/crashes/ $$out/corpus $(srcdir)/fuzz/corpus/$$t \
			>$$out/log 2>&1 || { echo "fuzz: $$t crashed ($$out/log):"; tail -n 40 $$out/log; fail=1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov: ' $$out/log | tail -n 3; \
	done; exit $$fail
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzing (clang and libFuzzer)" >&2; exit 1
endif
.PHONY: fuzz
