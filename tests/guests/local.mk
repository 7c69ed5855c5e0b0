# Test guests: filled in by the guest work.
GUEST_BOOT_ELF = $(abs_top_builddir)/tests/guests/boot.elf
