/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target defines: libFuzzer's entry point. */
#ifndef VMM_FUZZ_H
#define VMM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
