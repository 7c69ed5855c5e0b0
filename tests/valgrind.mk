# SPDX-License-Identifier: Apache-2.0
# "make check-valgrind": the unit tests and the test-guest boots with
# memcheck watching the library's code. Fails on any memcheck error or
# definite leak in any process (tests/valgrind-check.sh reads the logs,
# one per process, in $(VALGRIND_LOG_DIR)), or when a test fails.
#
# The unit tests run with CK_FORK=no: all of them in one process, so
# memcheck sees the test code and the library together and checks for
# leaks once, at the end, after every fixture was freed (forked, each
# test's child would exit with the parent's heap still in use).
#
# The guest tests run the VMM through tests/valgrind-vmm.sh (VMM_WRAPPER
# in Makefile.am's AM_TESTS_ENVIRONMENT). Memcheck slows the VMM's own
# code, not the guest's: time limits get TIMEOUT_SCALE (tests/lib.sh).
VALGRIND = valgrind
VALGRIND_FLAGS = --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--track-fds=yes
# Options the VMM needs to run under memcheck, before each test's own:
# the system-call filters would kill valgrind's own calls on the VM's
# threads (make check runs every guest test with them on).
VALGRIND_VMM_ARGS = --seccomp=off
VALGRIND_TIMEOUT_SCALE = 3
# Seconds for the whole unit test run (about 35 under memcheck).
VALGRIND_UNIT_SECONDS = 300
# Of guest-blk-durability.sh's 25: each kill -9 costs the same under memcheck.
VALGRIND_DURABILITY_ITERATIONS = 10
VALGRIND_LOG_DIR = tests/valgrind-logs
VALGRIND_GUEST_TESTS = $(GUEST_BOOT_TESTS)
if HAVE_CHECK
VALGRIND_UNIT = tests/unit/unit$(EXEEXT)
else
VALGRIND_UNIT =
endif

EXTRA_DIST += tests/valgrind-vmm.sh tests/valgrind-check.sh

check-valgrind: all $(check_PROGRAMS) $(check_SCRIPTS)
	@if test -n "$(SANITIZE_CFLAGS)"; then \
		echo "check-valgrind: memcheck cannot run an --enable-sanitizers build" >&2; \
		exit 1; \
	fi
	@command -v $(VALGRIND) >/dev/null 2>&1 || \
		{ echo "check-valgrind: $(VALGRIND) not found (Debian: valgrind)" >&2; exit 1; }
	$(AM_V_at)rm -rf $(VALGRIND_LOG_DIR) && $(MKDIR_P) $(VALGRIND_LOG_DIR)
	@status=0; \
	if test -n "$(VALGRIND_UNIT)"; then \
		echo "memcheck: $(VALGRIND_UNIT) (CK_FORK=no)"; \
		CK_FORK=no $(TIMEOUT) -k 10 $(VALGRIND_UNIT_SECONDS) \
			$(LIBTOOL) --mode=execute $(VALGRIND) $(VALGRIND_FLAGS) \
			--log-file=$(VALGRIND_LOG_DIR)/unit.%p.log $(VALGRIND_UNIT) \
			>$(VALGRIND_LOG_DIR)/unit.out 2>&1 || status=$$?; \
		tail -n 1 $(VALGRIND_LOG_DIR)/unit.out; \
		if test $$status -ne 0; then \
			echo "memcheck: $(VALGRIND_UNIT) failed (exit status $$status; 99: memcheck errors)"; \
			status=1; \
		fi; \
	else \
		echo "memcheck: no unit tests in this build (they need Check)"; \
	fi; \
	VMM_WRAPPER='$(abs_top_srcdir)/tests/valgrind-vmm.sh' VALGRIND='$(VALGRIND)' \
	VALGRIND_FLAGS='$(VALGRIND_FLAGS)' VALGRIND_VMM_ARGS='$(VALGRIND_VMM_ARGS)' \
	VALGRIND_LOG_DIR='$(abs_top_builddir)/$(VALGRIND_LOG_DIR)' \
	TIMEOUT_SCALE=$(VALGRIND_TIMEOUT_SCALE) \
	DURABILITY_ITERATIONS=$(VALGRIND_DURABILITY_ITERATIONS) \
		$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_GUEST_TESTS)' || status=1; \
	$(SHELL) $(srcdir)/tests/valgrind-check.sh $(VALGRIND_LOG_DIR) || status=1; \
	exit $$status
.PHONY: check-valgrind

clean-local: clean-valgrind
clean-valgrind:
	rm -rf $(VALGRIND_LOG_DIR)
.PHONY: clean-valgrind
