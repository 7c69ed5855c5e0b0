# Real Linux (../shared/guest, or $SHARED_GUEST_DIR): kernel-level boots that
# run on any KVM, and boot-to-userspace tests that need native KVM
# (VMM_TEST_FULL_BOOT=1). They skip where the kernels are not there, as in
# make distcheck's unpacked tree.
TESTS += tests/linux-kernel.sh tests/linux-blk.sh tests/linux-rng.sh tests/linux-net.sh \
	tests/linux-full-boot.sh tests/linux-full-boot-net.sh
EXTRA_DIST += tests/linux-blk.sh tests/linux-kernel.sh tests/linux-rng.sh tests/linux-net.sh \
	tests/linux-full-boot.sh tests/linux-full-boot-net.sh tests/linux-lib.sh tests/net-lib.sh
