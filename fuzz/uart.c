/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the 16550A UART (the device "serial", COM1) as a guest's
 * sequence of port accesses through the port I/O bus, with a console
 * whose output goes to /dev/null and whose input is a pipe the input
 * fills. Up to 4096 records of 3 bytes: an op, a port offset (modulo 9:
 * 0x3f8..0x400, the last one nobody's) and a value. Op bits 0-1: read,
 * write, one byte (the value) of console input, 8 times the value bytes
 * of it; bits 2-3: the width, 1, 2, 4 or 1 byte; bits 4-7 all set: save
 * and restore the device, 14: reset it. After every record the event
 * loop runs, moving input to the UART as it has room.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/console.h"
#include "env.h"
#include "fuzz.h"

#define MAX_RECS 4096u

struct uart_fuzz {
	struct fuzz_env f;
	void *dev;
	int in[2];                      /* the console's input pipe */
};

/* Console input; what the pipe cannot hold now is lost, as typing is. */
static void feed(struct uart_fuzz *u, uint8_t byte, size_t n)
{
	uint8_t buf[255 * 8];

	memset(buf, byte, n);
	if (write(u->in[1], buf, n) < 0)
		return;
}

static void apply(struct uart_fuzz *u, const uint8_t *rec)
{
	uint8_t op = rec[0], buf[4];
	uint32_t len = 1u << ((op >> 2) & 3);

	if (op >> 4 == 15) {
		fuzz_device_save_restore("serial", u->dev);
	} else if (op >> 4 == 14) {
		fuzz_device_reset("serial", u->dev);
	} else if ((op & 3) < 2) {
		memset(buf, rec[2], sizeof(buf));
		bus_access(&u->f.pio, SERIAL_COM1_PORT + rec[1] % 9u, buf, len == 8 ? 1 : len,
			   op & 1);
	} else {
		feed(u, rec[2], (op & 3) == 2 ? 1 : rec[2] * 8u);
	}
	fuzz_env_run(&u->f, 2);
}

static void quit(void *data)
{
	(void)data;
}

static void run(struct uart_fuzz *u, const uint8_t *data, size_t size)
{
	struct console_params p = {
		.mode = CONSOLE_STDIO, .in_fd = u->in[0], .loop = &u->f.loop, .quit = quit,
	};
	struct console *con;
	char err[128];

	p.out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (p.out_fd < 0)
		return;
	if (console_open(&p, &con, err, sizeof(err)) == 0) {
		u->f.env.console = con;
		if (fuzz_device_create(&u->f, "serial", NULL, NULL, &u->dev) == 0) {
			for (size_t i = 0; i < MAX_RECS && 3 * i + 2 < size; i++)
				apply(u, data + 3 * i);
			fuzz_device_save_restore("serial", u->dev);
			fuzz_device_destroy("serial", u->dev);
		}
		console_close(con);
	}
	close(p.out_fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uart_fuzz u;

	if (fuzz_env_init(&u.f))
		return 0;
	if (pipe2(u.in, O_CLOEXEC | O_NONBLOCK) == 0) {
		run(&u, data, size);
		close(u.in[0]);
		close(u.in[1]);
	}
	fuzz_env_release(&u.f);
	return 0;
}
