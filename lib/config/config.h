/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration object behind struct vmm_config (internal). */
#ifndef VMM_CONFIG_CONFIG_H
#define VMM_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"
#include "vmmcore/vmm.h"

/* The VM-wide values; the record of the options memory, vcpu and kernel. */
struct vm_settings {
	uint64_t memory_mib;
	unsigned int vcpus;
	char *kernel;
	char *cmdline;
	uint64_t load_addr;
	char *initrd;
	int console_in, console_out;
	char *serial_mode;              /* stdio (NULL too), pty or off */
	char *serial_file, *serial_socket;
	bool handle_signals;
	enum vmm_seccomp seccomp;
	vmm_log_fn log_fn;
	void *log_data;
	int log_priority;
};

/* A configured device: its type and its record (type->config_size bytes). */
struct config_device {
	const struct device_ops *type;
	void *rec;
};

struct vmm_config {
	struct vm_settings vm;
	struct config_device *devices;  /* in the order added */
	unsigned int ndevices;
	char error[256];                /* of the last call that failed */
};

/* A deep copy. Returns: 0 or -ENOMEM. */
int config_dup(const struct vmm_config *src, struct vmm_config **dst);

#endif
