/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the configuration as the command line gives it. The input
 * is lines "OPTION VALUE": each goes to vmm_config_set_option() or, for a
 * device type, vmm_config_add_device(), on one configuration, which is
 * then freed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vmmcore/vmm.h"

static void apply(struct vmm_config *cfg, char *line)
{
	char *value = strchr(line, ' ');
	const char *name;
	unsigned int flags;

	if (!value)
		return;
	*value++ = '\0';
	for (unsigned int i = 0; !vmm_option_get(i, &name, &flags, NULL, NULL); i++) {
		if (strcmp(name, line))
			continue;
		if (flags & VMM_OPTION_DEVICE)
			vmm_config_add_device(cfg, line, value);
		else
			vmm_config_set_option(cfg, line, value);
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_config *cfg;
	char *text, *line, *save = NULL;

	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (vmm_config_new(&cfg) == 0) {
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			apply(cfg, line);
		vmm_config_free(cfg);
	}
	free(text);
	return 0;
}
