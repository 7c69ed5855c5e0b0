/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of the guest's console: see console.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/console.h"
#include "core/event.h"
#include "core/thread.h"
#include "core/util.h"

struct console {
	enum console_mode mode;
	int in_fd, out_fd;              /* STDIO: the caller's; FILE, PTY: ours */
	int pty_peer;                   /* PTY: our end of the terminal side */
	int listen_fd;                  /* SOCKET */
	char *path;
	struct event_loop *loop;
	void (*quit)(void *data);
	void (*closed)(void *data);
	void *data;
	bool out_closed;                /* closed() was called */
	enum vmm_seccomp seccomp;

	pthread_mutex_t lock;
	struct console_port port;
	bool attached;
	int input;                      /* the descriptor input comes from, -1 */
	bool polled, paused;            /* input is in the loop; EPOLLIN is off */
	unsigned int room_gen;          /* console_room() calls so far */
	pthread_cond_t room_cond;
	pthread_t reader;               /* for input epoll cannot watch */
	bool has_reader, closing;

	struct termios saved_tio;
	bool raw, escape;               /* escape: a Ctrl-A came last */
	bool out_tty;
	uint8_t last_out;               /* the last byte out; '\n' at first */
};

/* ------------------------------------------------------------------ */
/* The escape keys. */

size_t console_escape(bool *pending, uint8_t *buf, size_t len, unsigned int *actions)
{
	size_t kept = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (!*pending) {
			if (b == CONSOLE_ESCAPE)
				*pending = true;
			else
				buf[kept++] = b;
			continue;
		}
		*pending = false;
		if (b == CONSOLE_ESCAPE) {
			buf[kept++] = b;
		} else if (b == 'x' || b == 'X') {
			*actions |= CONSOLE_QUIT;
			return kept;
		} else if (b == 'h' || b == 'H' || b == '?') {
			*actions |= CONSOLE_HELP;
		}
		/* Any other key after Ctrl-A is dropped, as QEMU does. */
	}
	return kept;
}

/* All of @buf to @fd, but on a non-blocking one only what it takes now
 * (the rest is dropped), and on an error nothing more. Returns: 0, -EPIPE
 * when nobody reads any more, or -EINTR when interrupted and
 * @eintr_stops. */
static int write_full(int fd, const void *buf, size_t len, bool eintr_stops)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR && eintr_stops)
			return -EINTR;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE)
			return -EPIPE;
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void write_text(int fd, const char *s)
{
	write_full(fd, s, strlen(s), false);
}

static void print_help(struct console *c)
{
	write_text(c->out_fd, "\r\nC-a h    print this help\r\n"
			      "C-a x    exit the VMM\r\n"
			      "C-a C-a  send C-a to the guest\r\n");
}

/* ------------------------------------------------------------------ */
/* Input. */

static void input_stop(struct console *c);

/* Read what the port has room for from @fd into it. Returns: the read()
 * result. */
static ssize_t input_move(struct console *c, int fd)
{
	uint8_t buf[256];
	size_t room = c->port.room(c->port.dev);
	unsigned int actions = 0;
	ssize_t n;

	if (room > sizeof(buf))
		room = sizeof(buf);
	if (!room)
		return -2;
	n = read(fd, buf, room);
	if (n <= 0)
		return n;
	room = c->raw ? console_escape(&c->escape, buf, (size_t)n, &actions) : (size_t)n;
	if (actions & CONSOLE_HELP)
		print_help(c);
	if ((actions & CONSOLE_QUIT) && c->quit)
		c->quit(c->data);
	c->port.receive(c->port.dev, buf, room);
	return n;
}

static void input_ready(void *opaque, int fd, uint32_t events)
{
	struct console *c = opaque;
	unsigned int gen;
	bool full;
	ssize_t n;

	(void)events;
	pthread_mutex_lock(&c->lock);
	gen = c->room_gen;
	pthread_mutex_unlock(&c->lock);
	n = input_move(c, fd);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		/* End of input, or an error reading it: stop watching it. */
		input_stop(c);
		return;
	}
	/* The port's room outside our lock: the port calls console_room()
	 * with its own lock held. A room made since gen was read shows in
	 * room_gen, and then input must stay on. */
	full = c->port.room(c->port.dev) == 0;
	pthread_mutex_lock(&c->lock);
	if (full && gen == c->room_gen && c->polled && !c->paused) {
		c->paused = true;
		/* Not 0: EPOLLHUP and EPOLLERR cannot be masked, and a closed
		 * input would wake the loop again and again while the guest
		 * leaves the buffer full. One-shot reports them once. */
		event_loop_mod(c->loop, fd, EPOLLONESHOT);
	}
	pthread_mutex_unlock(&c->lock);
}

/* No more input from the current descriptor; a socket's client is closed
 * and the next one may connect. */
static void input_stop(struct console *c)
{
	int fd;

	pthread_mutex_lock(&c->lock);
	fd = c->input;
	c->input = -1;
	c->polled = c->paused = false;
	pthread_mutex_unlock(&c->lock);
	if (fd >= 0)
		event_loop_del(c->loop, fd);
	if (c->mode == CONSOLE_SOCKET && fd >= 0)
		close(fd);
}

void console_room(struct console *c)
{
	pthread_mutex_lock(&c->lock);
	c->room_gen++;
	if (c->polled && c->paused) {
		c->paused = false;
		event_loop_mod(c->loop, c->input, EPOLLIN);
	}
	if (c->has_reader)
		pthread_cond_signal(&c->room_cond);
	pthread_mutex_unlock(&c->lock);
}

/* read() is the one wait of the reader the closing flag cannot end (a
 * device that never returns): the only place it can be cancelled. */
static ssize_t cancellable_move(struct console *c)
{
	ssize_t n;
	int e, old;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	n = input_move(c, c->in_fd);
	e = errno;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	errno = e;
	return n;
}

/* Input that epoll cannot watch (a regular file, /dev/null): a thread
 * moves it as the port has room, so that no byte is dropped. */
static void *reader(void *opaque)
{
	struct console *c = opaque;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		unsigned int gen;
		ssize_t n;

		pthread_mutex_lock(&c->lock);
		gen = c->room_gen;
		pthread_mutex_unlock(&c->lock);
		n = cancellable_move(c);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || n == -1)
			return NULL;
		pthread_mutex_lock(&c->lock);
		while (!c->closing && n == -2 && gen == c->room_gen)
			pthread_cond_wait(&c->room_cond, &c->lock);
		if (c->closing) {
			pthread_mutex_unlock(&c->lock);
			return NULL;
		}
		pthread_mutex_unlock(&c->lock);
	}
}

static int input_watch(struct console *c, int fd)
{
	int ret = event_loop_add(c->loop, fd, EPOLLIN, input_ready, c);

	pthread_mutex_lock(&c->lock);
	if (!ret) {
		c->input = fd;
		c->polled = true;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* A socket client: one at a time, the newest; the one before (a session
 * left hanging, a probe that never spoke) is closed. */
static void socket_accept(void *opaque, int fd, uint32_t events)
{
	struct console *c = opaque;
	int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)events;
	if (client < 0)
		return;
	input_stop(c);
	if (input_watch(c, client))
		close(client);
}

int console_attach(struct console *c, const struct console_port *port)
{
	int ret = 0;

	c->port = *port;
	switch (c->mode) {
	case CONSOLE_STDIO:
		if (c->in_fd < 0)
			break;
		ret = input_watch(c, c->in_fd);
		if (ret == -EPERM) {
			ret = thread_create(THREAD_DEVICE_IO, c->seccomp, "vmm-console", reader, c,
					    &c->reader);
			c->has_reader = !ret;
		}
		break;
	case CONSOLE_PTY:
		ret = input_watch(c, c->in_fd);
		break;
	case CONSOLE_SOCKET:
		ret = event_loop_add(c->loop, c->listen_fd, EPOLLIN, socket_accept, c);
		break;
	default:
		break;
	}
	c->attached = !ret;
	return ret;
}

void console_detach(struct console *c)
{
	if (!c || !c->attached)
		return;
	if (c->has_reader) {
		pthread_mutex_lock(&c->lock);
		c->closing = true;
		pthread_cond_signal(&c->room_cond);
		pthread_mutex_unlock(&c->lock);
		/* A reader waiting for room sees the flag; one blocked in
		 * read() on a device that never returns is cancelled there. */
		pthread_cancel(c->reader);
		pthread_join(c->reader, NULL);
		c->has_reader = false;
	}
	if (c->mode == CONSOLE_SOCKET)
		event_loop_del(c->loop, c->listen_fd);
	input_stop(c);
	c->attached = false;
}

/* ------------------------------------------------------------------ */
/* Output. */

int console_write(struct console *c, const uint8_t *buf, size_t len)
{
	int ret = 0;

	if (len)
		__atomic_store_n(&c->last_out, buf[len - 1], __ATOMIC_RELAXED);
	switch (c->mode) {
	case CONSOLE_STDIO:
	case CONSOLE_FILE:
	case CONSOLE_PTY:
		/* Blocking, but the pty's master is not: a slow console slows
		 * the guest, it loses nothing; a pty nobody reads drops. */
		if (c->out_fd >= 0)
			ret = write_full(c->out_fd, buf, len, true);
		/* The reader went away: nobody will see the guest again. */
		if (ret == -EPIPE) {
			ret = 0;
			if (c->closed && !__atomic_exchange_n(&c->out_closed, true, __ATOMIC_RELAXED))
				c->closed(c->data);
		}
		break;
	case CONSOLE_SOCKET:
		/* What the client does not take at once is dropped. */
		pthread_mutex_lock(&c->lock);
		if (c->input >= 0)
			send(c->input, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		pthread_mutex_unlock(&c->lock);
		break;
	case CONSOLE_OFF:
		break;
	}
	return ret;
}

void console_end_line(struct console *c)
{
	if (c && c->out_tty && __atomic_exchange_n(&c->last_out, '\n', __ATOMIC_RELAXED) != '\n')
		write_text(c->out_fd, "\n");
}

/* ------------------------------------------------------------------ */
/* The terminal. */

void console_raw(struct console *c)
{
	struct termios raw;

	if (c->mode != CONSOLE_STDIO || c->in_fd < 0 || !isatty(c->in_fd) ||
	    tcgetattr(c->in_fd, &c->saved_tio))
		return;
	raw = c->saved_tio;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST;           /* keep \n -> \r\n for the host terminal */
	c->escape = false;
	c->raw = tcsetattr(c->in_fd, TCSANOW, &raw) == 0;
}

void console_cooked(struct console *c)
{
	if (!c->raw)
		return;
	tcsetattr(c->in_fd, TCSANOW, &c->saved_tio);
	c->raw = false;
}

/* ------------------------------------------------------------------ */
/* Open and close. */

static int fail(char *err, size_t errlen, int ret, const char *what, const char *path)
{
	char shown[ELIDED_MAX + 1];

	snprintf(err, errlen, "serial: %s %s: %s", what, elided(path, shown), strerror(-ret));
	return ret;
}

/* A new pseudo-terminal, raw, with its terminal side held open by us so
 * that the master neither reports a hang-up nor fails while no one is
 * attached. */
static int open_pty(struct console *c, char *err, size_t errlen)
{
	char name[64];
	struct termios tio;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);

	if (m < 0)
		return fail(err, errlen, -errno, "cannot open", "a pseudo-terminal");
	c->in_fd = c->out_fd = m;
	if (grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof(name)))
		return fail(err, errlen, -errno, "cannot set up", "a pseudo-terminal");
	c->pty_peer = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->pty_peer < 0)
		return fail(err, errlen, -errno, "cannot open", name);
	/* Raw: no echo of the guest's output back into its input. */
	if (tcgetattr(c->pty_peer, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(c->pty_peer, TCSANOW, &tio);
	}
	c->path = strdup(name);
	return c->path ? 0 : -ENOMEM;
}

/* Whether a live VMM listens on @addr (else the socket file is stale). */
static bool socket_live(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live = fd >= 0 && connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;

	if (fd >= 0)
		close(fd);
	return live;
}

static int open_socket(struct console *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char shown[ELIDED_MAX + 1];
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "serial: socket path %s is longer than %zu bytes: pick a "
			 "shorter one", elided(path, shown), sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || socket_live(&addr)) {
			snprintf(err, errlen, "serial: %s exists%s: remove it or pick another "
				 "socket path", path, S_ISSOCK(st.st_mode) ? " and is in use" : "");
			return -EEXIST;
		}
		unlink(path);           /* stale: left by a VMM that was killed */
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return fail(err, errlen, -errno, "cannot create socket", path);
	if (bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fail(err, errlen, -errno, "cannot create socket", path);
	c->path = strdup(path);
	if (!c->path)
		return -ENOMEM;
	if (chmod(path, 0600) || listen(c->listen_fd, 1))
		return fail(err, errlen, -errno, "cannot listen on", path);
	return 0;
}

/* "file=PATH", opened without blocking: a FIFO that nothing reads is
 * refused, not waited on (ENXIO); then written to as a file. */
static int open_file(struct console *c, const char *path, char *err, size_t errlen)
{
	char shown[ELIDED_MAX + 1];
	struct stat st;
	int flags;

	c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
			 0644);
	if (c->out_fd < 0 && errno == ENXIO && stat(path, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		snprintf(err, errlen, "serial: %s is %s", elided(path, shown), S_ISFIFO(st.st_mode) ?
			 "a FIFO that nothing reads: start its reader first" :
			 "a socket, not a file: for a console on a socket use socket=PATH");
		return -ENXIO;
	}
	if (c->out_fd < 0)
		return fail(err, errlen, -errno, "cannot open", path);
	flags = fcntl(c->out_fd, F_GETFL);
	if (flags < 0 || fcntl(c->out_fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return fail(err, errlen, -errno, "cannot use", path);
	c->path = strdup(path);
	return c->path ? 0 : -ENOMEM;
}

static int open_mode(struct console *c, const struct console_params *p, char *err, size_t errlen)
{
	switch (p->mode) {
	case CONSOLE_STDIO:
		c->in_fd = p->in_fd;
		c->out_fd = p->out_fd;
		c->out_tty = c->out_fd >= 0 && isatty(c->out_fd);
		return 0;
	case CONSOLE_FILE:
		return open_file(c, p->path, err, errlen);
	case CONSOLE_PTY:
		return open_pty(c, err, errlen);
	case CONSOLE_SOCKET:
		return open_socket(c, p->path, err, errlen);
	default:
		return 0;
	}
}

int console_open(const struct console_params *p, struct console **out, char *err, size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));
	int ret;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->mode = p->mode;
	c->in_fd = c->out_fd = c->pty_peer = c->listen_fd = c->input = -1;
	c->loop = p->loop;
	c->quit = p->quit;
	c->closed = p->closed;
	c->data = p->data;
	c->seccomp = p->seccomp;
	c->last_out = '\n';
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->room_cond, NULL);
	ret = open_mode(c, p, err, errlen);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, errlen, "serial: out of memory");
		console_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->mode != CONSOLE_STDIO && c->out_fd >= 0)
		close(c->out_fd);
	if (c->pty_peer >= 0)
		close(c->pty_peer);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (c->path)
			unlink(c->path);
	}
	pthread_cond_destroy(&c->room_cond);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
}

const char *console_path(const struct console *c)
{
	return c ? c->path : NULL;
}
