/* SPDX-License-Identifier: Apache-2.0 */
/* The console's host side: the escape keys, and each backend over a fake
 * port, driven through a real event loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/console.h"
#include "core/event.h"
#include "unit.h"

/* The escape keys, case by case: input, what the guest gets, actions. */
START_TEST(test_escape_keys)
{
	static const struct {
		const char *in, *out;
		unsigned int actions;
	} cases[] = {
		{ "plain\003text", "plain\003text", 0 },        /* Ctrl-C is the guest's */
		{ "a\001\001b", "a\001b", 0 },                  /* Ctrl-A Ctrl-A: one Ctrl-A */
		{ "a\001hb", "ab", CONSOLE_HELP },
		{ "a\001xb", "a", CONSOLE_QUIT },               /* nothing after a quit */
		{ "a\001Xb", "a", CONSOLE_QUIT },
		{ "a\001zb", "ab", 0 },                         /* unknown: dropped */
		{ "\001", "", 0 },                              /* pending across calls */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[32];
		size_t len = strlen(cases[i].in);
		unsigned int actions = 0;
		bool pending = false;

		memcpy(buf, cases[i].in, len);
		len = console_escape(&pending, buf, len, &actions);
		ck_assert_uint_eq(len, strlen(cases[i].out));
		ck_assert(!memcmp(buf, cases[i].out, len));
		ck_assert_uint_eq(actions, cases[i].actions);
	}
}
END_TEST

START_TEST(test_escape_split_across_reads)
{
	uint8_t a[] = { 'a', CONSOLE_ESCAPE }, b[] = { 'x' }, c[] = { CONSOLE_ESCAPE, CONSOLE_ESCAPE };
	unsigned int actions = 0;
	bool pending = false;

	ck_assert_uint_eq(console_escape(&pending, a, sizeof(a), &actions), 1);
	ck_assert(pending);
	ck_assert_uint_eq(console_escape(&pending, b, sizeof(b), &actions), 0);
	ck_assert_uint_eq(actions, CONSOLE_QUIT);
	actions = 0;
	pending = false;
	ck_assert_uint_eq(console_escape(&pending, c, 1, &actions), 0);
	ck_assert_uint_eq(console_escape(&pending, c + 1, 1, &actions), 1);
	ck_assert_uint_eq(c[1], CONSOLE_ESCAPE);
}
END_TEST

/* A port that takes up to @room bytes. */
struct fake_port {
	uint8_t got[64];
	size_t len, room;
};

static size_t fake_room(void *dev)
{
	struct fake_port *p = dev;

	return p->room - p->len;
}

static size_t fake_receive(void *dev, const uint8_t *buf, size_t len)
{
	struct fake_port *p = dev;

	memcpy(p->got + p->len, buf, len);
	p->len += len;
	return len;
}

/* Dispatch until nothing is ready for 100 ms. */
static void pump(struct event_loop *loop)
{
	int n;

	while ((n = event_loop_dispatch(loop, 100)) > 0)
		;
	ck_assert_int_eq(n, 0);
}

static char *tmp_path(const char *name)
{
	char *p;

	ck_assert_int_gt(asprintf(&p, "%s/vmm-console-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") :
				  "/tmp", (int)getpid(), name), 0);
	unlink(p);
	return p;
}

START_TEST(test_file_backend)
{
	char *path = tmp_path("file"), buf[16] = "", err[128];
	const struct console_params p = { .mode = CONSOLE_FILE, .path = path };
	struct console *c;
	int fd;

	ck_assert_int_eq(console_open(&p, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(console_path(c), path);
	ck_assert_int_eq(console_write(c, (const uint8_t *)"guest", 5), 0);
	console_end_line(c);                    /* a file is no terminal: nothing */
	console_close(c);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 5);
	ck_assert_str_eq(buf, "guest");
	close(fd);
	unlink(path);
	free(path);
}
END_TEST

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* A client's bytes reach the port as it has room, the guest's reach the
 * client; a new client takes over from the one before; output with no
 * client is dropped; the socket is removed on close, mode 0600 while it
 * lives. */
START_TEST(test_socket_backend)
{
	char *path = tmp_path("sock"), err[128], buf[16];
	struct event_loop loop;
	const struct console_params p = { .mode = CONSOLE_SOCKET, .path = path, .loop = &loop };
	struct fake_port port = { .room = 4 };
	const struct console_port cp = { fake_room, fake_receive, &port };
	struct console *c, *c2;
	struct stat st;
	int cl, cl2;

	ck_assert_int_eq(event_loop_init(&loop), 0);
	ck_assert_int_eq(console_open(&p, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(console_open(&p, &c2, err, sizeof(err)), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "in use"));
	ck_assert_int_eq(console_attach(c, &cp), 0);
	ck_assert_int_eq(console_write(c, (const uint8_t *)"lost", 4), 0);
	cl2 = connect_to(path);
	pump(&loop);
	cl = connect_to(path);
	pump(&loop);                                    /* takes over */
	ck_assert_int_eq(read(cl2, buf, sizeof(buf)), 0);
	ck_assert_int_eq(write(cl, "abcdef", 6), 6);
	pump(&loop);
	ck_assert_uint_eq(port.len, 4);                                 /* its room */
	port.room = 8;
	console_room(c);
	pump(&loop);
	ck_assert_uint_eq(port.len, 6);
	ck_assert(!memcmp(port.got, "abcdef", 6));
	ck_assert_int_eq(console_write(c, (const uint8_t *)"out", 3), 0);
	ck_assert_int_eq(read(cl, buf, sizeof(buf)), 3);
	ck_assert(!memcmp(buf, "out", 3));
	console_detach(c);
	console_close(c);
	ck_assert_int_eq(access(path, F_OK), -1);
	close(cl);
	close(cl2);
	event_loop_release(&loop);
	free(path);
}
END_TEST

/* The pseudo-terminal: what is written to its terminal side reaches the
 * port; output with no reader neither blocks nor fails. */
START_TEST(test_pty_backend)
{
	char err[128], junk[8192];
	struct event_loop loop;
	const struct console_params p = { .mode = CONSOLE_PTY, .loop = &loop };
	struct fake_port port = { .room = 16 };
	const struct console_port cp = { fake_room, fake_receive, &port };
	struct console *c;
	int fd;

	memset(junk, 'j', sizeof(junk));
	ck_assert_int_eq(event_loop_init(&loop), 0);
	ck_assert_int_eq(console_open(&p, &c, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(console_path(c), "/dev/pts/"));
	ck_assert_int_eq(console_attach(c, &cp), 0);
	for (int i = 0; i < 64; i++)    /* 512 KiB nobody reads */
		ck_assert_int_eq(console_write(c, (const uint8_t *)junk, sizeof(junk)), 0);
	fd = open(console_path(c), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hi", 2), 2);
	pump(&loop);
	ck_assert_uint_eq(port.len, 2);
	ck_assert(!memcmp(port.got, "hi", 2));
	close(fd);
	console_detach(c);
	console_close(c);
	event_loop_release(&loop);
}
END_TEST

START_TEST(test_open_errors)
{
	char err[512];
	struct console *c;
	const struct console_params nodir = { .mode = CONSOLE_FILE, .path = "/nonexistent/x" };
	const struct console_params longp = {
		.mode = CONSOLE_SOCKET,
		.path = "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};

	ck_assert_int_eq(console_open(&nodir, &c, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x"));
	ck_assert_int_eq(console_open(&longp, &c, err, sizeof(err)), -ENAMETOOLONG);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
}
END_TEST

Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("console");

	tcase_add_test(tc, test_escape_keys);
	tcase_add_test(tc, test_escape_split_across_reads);
	tcase_add_test(tc, test_file_backend);
	tcase_add_test(tc, test_socket_backend);
	tcase_add_test(tc, test_pty_backend);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return s;
}
