/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the guest's console, apart from the UART that drives
 * it: where its output goes and its input comes from (the caller's
 * descriptors, a file, a pseudo-terminal, a Unix socket, nothing), the raw
 * terminal and its escape keys (Ctrl-A x quits, Ctrl-A h helps, Ctrl-A
 * Ctrl-A sends Ctrl-A). The device behind it is a "port": the console
 * hands it input as it has room, and the port says when it has room again.
 */
#ifndef VMM_CORE_CONSOLE_H
#define VMM_CORE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmmcore/vmm.h"

struct event_loop;
struct console;

enum console_mode {
	CONSOLE_STDIO,          /* the caller's descriptors (stdin, stdout) */
	CONSOLE_FILE,           /* output to a file, no input */
	CONSOLE_PTY,            /* a new pseudo-terminal */
	CONSOLE_SOCKET,         /* a Unix socket, one client at a time */
	CONSOLE_OFF,            /* output discarded, no input */
};

struct console_params {
	enum console_mode mode;
	const char *path;               /* FILE and SOCKET */
	int in_fd, out_fd;              /* STDIO: -1 for none; stay the caller's */
	struct event_loop *loop;        /* where input is watched */
	void (*quit)(void *data);       /* Ctrl-A x */
	void (*closed)(void *data);     /* the output's reader went away (EPIPE) */
	void *data;
	enum vmm_seccomp seccomp;       /* for its input thread, if any */
};

/* What the device behind the console provides. */
struct console_port {
	size_t (*room)(void *dev);                      /* bytes it can take now */
	size_t (*receive)(void *dev, const uint8_t *buf, size_t len);  /* taken */
	void *dev;
};

/* Open the console's host side. Returns: 0, or a negative errno with a
 * one-line message in @err. */
int console_open(const struct console_params *p, struct console **out, char *err, size_t errlen);

/* Close it (NULL is fine): the port must be detached. */
void console_close(struct console *c);

/* Start (attach) and stop (detach) handing input to @port. Returns: 0 or a
 * negative errno. */
int console_attach(struct console *c, const struct console_port *port);
void console_detach(struct console *c);

/* The port has room again; callable with the port's own lock held. */
void console_room(struct console *c);

/* Guest output. Returns: 0 (written or, where nobody reads, dropped) or
 * -EINTR (interrupted: the caller decides whether to try again). A write
 * that fails with EPIPE calls closed(), once. */
int console_write(struct console *c, const uint8_t *buf, size_t len);

/* A terminal on the input in raw mode, with the escape keys, until
 * console_cooked(): the keys (Ctrl-C too) go to the guest. */
void console_raw(struct console *c);
void console_cooked(struct console *c);

/* End the guest's unfinished line on a terminal, so that a message that
 * follows starts on a line of its own. */
void console_end_line(struct console *c);

/* The pseudo-terminal's, the socket's or the file's path; NULL for the
 * others. */
const char *console_path(const struct console *c);

/*
 * The escape keys over @len bytes of input, in place: *@pending carries a
 * Ctrl-A across calls. Returns: how many bytes remain for the guest; sets
 * CONSOLE_QUIT (input after it is dropped) and CONSOLE_HELP in *@actions.
 */
#define CONSOLE_ESCAPE 0x01     /* Ctrl-A */
#define CONSOLE_QUIT   0x1u
#define CONSOLE_HELP   0x2u
size_t console_escape(bool *pending, uint8_t *buf, size_t len, unsigned int *actions);

#endif
