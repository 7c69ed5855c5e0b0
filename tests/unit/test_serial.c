/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A and i8042 register models. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/console.h"
#include "devices/i8042.h"
#include "devices/registry.h"
#include "devices/serial.h"
#include "env.h"
#include "unit.h"

struct sink {
	char out[256];
	size_t n;
	int level;
	int irq_changes;
	int space_calls;
};

static void s_irq(void *o, int level)
{
	struct sink *s = o;

	s->level = level;
	s->irq_changes++;
}

static void s_tx(void *o, uint8_t b)
{
	struct sink *s = o;

	if (s->n < sizeof(s->out) - 1)
		s->out[s->n++] = (char)b;
}

static void s_space(void *o)
{
	((struct sink *)o)->space_calls++;
}

static uint8_t rd(struct serial *u, unsigned int off)
{
	uint8_t v;

	serial_io(u, off, &v, 1, false);
	return v;
}

static void wr(struct serial *u, unsigned int off, uint8_t v)
{
	serial_io(u, off, &v, 1, true);
}

START_TEST(test_serial_tx_and_lsr)
{
	struct sink k = { .n = 0 };
	struct serial u;

	serial_init(&u, s_irq, s_tx, s_space, &k);
	ck_assert_uint_eq(rd(&u, 5) & 0x60, 0x60);      /* THRE | TEMT */
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x01);      /* no interrupt */
	wr(&u, 0, 'o');
	wr(&u, 0, 'k');
	ck_assert_str_eq(k.out, "ok");
	/* divisor latch does not transmit */
	wr(&u, 3, 0x80);
	wr(&u, 0, 0x01);
	wr(&u, 1, 0x00);
	ck_assert_uint_eq(rd(&u, 0), 0x01);
	wr(&u, 3, 0x03);
	ck_assert_str_eq(k.out, "ok");
	/* scratch register */
	wr(&u, 7, 0x5a);
	ck_assert_uint_eq(rd(&u, 7), 0x5a);
	/* out-of-range offsets read all-ones */
	{
		uint8_t v = 0;

		serial_io(&u, 8, &v, 1, false);
		ck_assert_uint_eq(v, 0xff);
	}
	serial_release(&u);
}
END_TEST

START_TEST(test_serial_interrupts)
{
	struct sink k = { .n = 0 };
	struct serial u;

	serial_init(&u, s_irq, s_tx, s_space, &k);
	wr(&u, 1, 0x01);                /* RDI */
	ck_assert_uint_eq(serial_receive(&u, (const uint8_t *)"ab", 2), 2);
	ck_assert_int_eq(k.level, 0);   /* OUT2 clear: line gated */
	wr(&u, 4, 0x08);                /* OUT2 */
	ck_assert_int_eq(k.level, 1);
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x04);
	ck_assert_uint_eq(rd(&u, 5) & 0x01, 0x01);
	ck_assert_uint_eq(rd(&u, 0), 'a');
	ck_assert_int_eq(k.level, 1);
	ck_assert_uint_eq(rd(&u, 0), 'b');
	ck_assert_int_eq(k.level, 0);
	ck_assert_uint_eq(rd(&u, 5) & 0x01, 0x00);
	/* THRE interrupt: raised on enabling, cleared by reading IIR */
	wr(&u, 1, 0x03);
	ck_assert_int_eq(k.level, 1);
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x02);
	ck_assert_int_eq(k.level, 0);
	wr(&u, 0, 'x');
	ck_assert_int_eq(k.level, 1);
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x02);
	ck_assert_int_eq(k.level, 0);
	/* received data has priority over THRE */
	wr(&u, 0, 'y');
	serial_receive(&u, (const uint8_t *)"z", 1);
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x04);
	ck_assert_uint_eq(rd(&u, 0), 'z');
	ck_assert_uint_eq(rd(&u, 2) & 0x0f, 0x02);
	/* FIFO enabled shows in IIR */
	wr(&u, 2, 0x01);
	ck_assert_uint_eq(rd(&u, 2) & 0xc0, 0xc0);
	serial_release(&u);
}
END_TEST

START_TEST(test_serial_overflow_and_loopback)
{
	struct sink k = { .n = 0 };
	static uint8_t big[SERIAL_RX_BUF + 10];
	struct serial u;

	serial_init(&u, s_irq, s_tx, s_space, &k);
	memset(big, 'q', sizeof(big));
	ck_assert_uint_eq(serial_receive(&u, big, sizeof(big)), SERIAL_RX_BUF);
	ck_assert_uint_eq(serial_rx_space(&u), 0);
	ck_assert_uint_eq(rd(&u, 0), 'q');
	ck_assert_int_eq(k.space_calls, 1);
	ck_assert_uint_eq(serial_rx_space(&u), 1);
	/* FIFO clear */
	wr(&u, 2, 0x03);
	ck_assert_uint_eq(serial_rx_space(&u), SERIAL_RX_BUF);
	ck_assert_uint_eq(rd(&u, 5) & 0x01, 0);
	/* loopback: transmitted bytes come back, nothing leaves */
	wr(&u, 4, 0x10);
	wr(&u, 0, 'L');
	ck_assert_uint_eq(k.n, 0);
	ck_assert_uint_eq(rd(&u, 0), 'L');
	serial_release(&u);
}
END_TEST

struct kbd_sink {
	int irqs, resets;
};

static void k_irq(void *o)
{
	((struct kbd_sink *)o)->irqs++;
}

static void k_reset(void *o)
{
	((struct kbd_sink *)o)->resets++;
}

static uint8_t kio(struct i8042 *k, unsigned int port, int write, uint8_t v)
{
	i8042_io(k, port, &v, write);
	return v;
}

START_TEST(test_i8042)
{
	struct kbd_sink s = { 0, 0 };
	struct i8042 k;

	i8042_init(&k, k_irq, k_reset, &s);
	ck_assert_uint_eq(kio(&k, 4, 0, 0) & 0x01, 0);   /* output buffer empty */
	kio(&k, 4, 1, 0xaa);                              /* self test */
	ck_assert_uint_eq(kio(&k, 4, 0, 0) & 0x01, 1);
	ck_assert_uint_eq(kio(&k, 0, 0, 0), 0x55);
	ck_assert_uint_eq(kio(&k, 4, 0, 0) & 0x01, 0);
	kio(&k, 4, 1, 0x60);                              /* write CTR */
	kio(&k, 0, 1, 0x45);
	kio(&k, 4, 1, 0x20);                              /* read CTR */
	ck_assert_uint_eq(kio(&k, 0, 0, 0), 0x45);
	kio(&k, 0, 1, 0xff);                              /* keyboard reset */
	ck_assert_uint_eq(kio(&k, 0, 0, 0), 0xfa);
	ck_assert_uint_eq(kio(&k, 0, 0, 0), 0xaa);
	ck_assert_int_gt(s.irqs, 0);
	ck_assert_int_eq(s.resets, 0);
	kio(&k, 4, 1, 0xfe);                              /* pulse reset line */
	ck_assert_int_eq(s.resets, 1);
	kio(&k, 4, 1, 0xd1);                              /* output port, bit 0 low */
	kio(&k, 0, 1, 0x00);
	ck_assert_int_eq(s.resets, 2);
	pthread_mutex_destroy(&k.lock);
}
END_TEST

/* A full output buffer: keyboard echo (0xee) must not eat a queued byte. */
START_TEST(test_i8042_echo_full_queue)
{
	struct kbd_sink s = { 0, 0 };
	struct i8042 k;

	i8042_init(&k, k_irq, k_reset, &s);
	kio(&k, 0, 1, 0xee);                              /* echo: 0xee, no ACK */
	ck_assert_uint_eq(kio(&k, 0, 0, 0), 0xee);
	ck_assert_uint_eq(kio(&k, 4, 0, 0) & 0x01, 0);
	for (unsigned int i = 0; i < sizeof(k.r.queue); i++) {
		kio(&k, 4, 1, 0xd2);                      /* write keyboard output buffer */
		kio(&k, 0, 1, (uint8_t)(0x10 + i));
	}
	kio(&k, 0, 1, 0xee);
	for (unsigned int i = 0; i < sizeof(k.r.queue); i++)
		ck_assert_uint_eq(kio(&k, 0, 0, 0), 0x10 + i);
	ck_assert_uint_eq(kio(&k, 4, 0, 0) & 0x01, 0);
	pthread_mutex_destroy(&k.lock);
}
END_TEST

/* ------------------------------------------------------------------ */
/* COM1, the device "serial", in a test environment with an event loop. */

struct com1_vm {
	struct test_env te;
	struct console *console;
	void *dev;
};

static struct com1_vm *fake_vm(int in_fd, int out_fd)
{
	struct com1_vm *vm = calloc(1, sizeof(*vm));

	ck_assert(vm != NULL);
	test_env_init(&vm->te, NULL, 0, 0);
	vm->te.log_priority = 0;        /* quiet */
	if (in_fd >= 0 || out_fd >= 0) {
		const struct console_params p = {
			.mode = CONSOLE_STDIO, .in_fd = in_fd, .out_fd = out_fd,
			.loop = vm->te.env.events,
		};
		char err[128];

		ck_assert_int_eq(console_open(&p, &vm->console, err, sizeof(err)), 0);
		vm->te.env.console = vm->console;
	}
	return vm;
}

static int com1_create(struct com1_vm *vm)
{
	return test_device_create(&vm->te, "serial", NULL, NULL, &vm->dev);
}

static void fake_vm_free(struct com1_vm *vm)
{
	if (vm->dev)
		device_type_find("serial")->destroy(vm->dev);
	console_close(vm->console);
	test_env_release(&vm->te);
	free(vm);
}

static unsigned int list_tasks(long *tids, unsigned int max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned int n = 0;

	ck_assert(d != NULL);
	while ((e = readdir(d)) && n < max)
		if (e->d_name[0] != '.')
			tids[n++] = strtol(e->d_name, NULL, 10);
	closedir(d);
	return n;
}

static unsigned long long task_sigblk(long tid)
{
	char path[64], line[256];
	unsigned long long blk = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", tid);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "SigBlk:", 7)) {
			blk = strtoull(line + 7, NULL, 16);
			found = 1;
		}
	fclose(f);
	ck_assert(found);
	return blk;
}

/* Input that epoll cannot watch (a regular file) is read by a thread of
 * the library: SIGINT and SIGTERM, which vmm_run() takes through a
 * signalfd, must never be delivered to it (the default action would
 * kill the process). */
START_TEST(test_com1_reader_blocks_signals)
{
	char path[] = "/tmp/vmm-unit-serial-XXXXXX";
	long before[64], after[64];
	unsigned int nbefore, nafter, checked = 0;
	sigset_t none, old;
	char buf[4 * SERIAL_RX_BUF];
	struct com1_vm *vm;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	memset(buf, 'a', sizeof(buf));      /* more than the receive buffer: */
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), (int)sizeof(buf)); /* reader waits */
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, &old);
	nbefore = list_tasks(before, 64);

	vm = fake_vm(fd, -1);
	ck_assert_int_eq(com1_create(vm), 0);
	nafter = list_tasks(after, 64);
	for (unsigned int i = 0; i < nafter; i++) {
		unsigned long long blk;
		bool known = false;

		for (unsigned int j = 0; j < nbefore; j++)
			known |= after[i] == before[j];
		if (known)
			continue;
		blk = task_sigblk(after[i]);
		ck_assert_msg(blk & (1ull << (SIGINT - 1)), "SIGINT not blocked: %llx", blk);
		ck_assert_msg(blk & (1ull << (SIGTERM - 1)), "SIGTERM not blocked: %llx", blk);
		checked++;
	}
	ck_assert_uint_eq(checked, 1);          /* the reader thread */
	fake_vm_free(vm);
	close(fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}
END_TEST

struct tx_arg {
	struct com1_vm *vm;
	int done;
};

static void *tx_thread(void *p)
{
	struct tx_arg *a = p;
	uint8_t b = 'x';

	bus_access(&a->vm->te.pio, SERIAL_COM1_PORT, &b, 1, true);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void nop_handler(int sig)
{
	(void)sig;
}

/* A vCPU blocked writing to a console that does not drain must leave when
 * the VM stops and kicks it (EINTR), or vmm_run() would never return. */
START_TEST(test_com1_tx_gives_up_when_stopping)
{
	struct sigaction sa, old_sa;
	struct tx_arg a = { NULL, 0 };
	char buf[4096];
	pthread_t t;
	int p[2], gave_up = 0;

	ck_assert_int_eq(pipe(p), 0);
	/* Fill the pipe, then make writes block again. */
	ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	memset(buf, 'y', sizeof(buf));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(fcntl(p[1], F_SETFL, 0), 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nop_handler;      /* no SA_RESTART, like the vCPU kick */
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old_sa), 0);

	a.vm = fake_vm(-1, p[1]);
	ck_assert_int_eq(com1_create(a.vm), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, tx_thread, &a), 0);
	usleep(50 * 1000);
	ck_assert_int_eq(__atomic_load_n(&a.done, __ATOMIC_ACQUIRE), 0);   /* blocked */

	__atomic_store_n(&a.vm->te.stopping, true, __ATOMIC_RELEASE);
	for (int i = 0; i < 200 && !gave_up; i++) {
		pthread_kill(t, SIGUSR1);
		usleep(10 * 1000);
		gave_up = __atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
	}
	/* Whatever happened, let the writer finish. */
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	while (!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE))
		if (read(p[0], buf, sizeof(buf)) <= 0)
			usleep(1000);
	pthread_join(t, NULL);
	ck_assert_msg(gave_up, "the UART write kept retrying after the VM stopped");

	fake_vm_free(a.vm);
	sigaction(SIGUSR1, &old_sa, NULL);
	close(p[0]);
	close(p[1]);
}
END_TEST

static void *loop_thread(void *p)
{
	struct event_loop *loop = p;
	struct timespec ts;
	clockid_t clk;
	long long *cpu_ns = calloc(1, sizeof(*cpu_ns));

	event_loop_run(loop);
	if (cpu_ns && pthread_getcpuclockid(pthread_self(), &clk) == 0 &&
	    clock_gettime(clk, &ts) == 0)
		*cpu_ns = ts.tv_sec * 1000000000ll + ts.tv_nsec;
	return cpu_ns;
}

/* Run the VM's event loop in a thread for @ms; returns its CPU time in ns. */
static long long run_loop_for(struct com1_vm *vm, unsigned int ms)
{
	pthread_t t;
	void *ret;
	long long ns;
	uint64_t v;

	__atomic_store_n(&vm->te.loop.stopping, 0, __ATOMIC_RELEASE);
	while (read(vm->te.loop.stop_fd, &v, sizeof(v)) > 0)
		;
	ck_assert_int_eq(pthread_create(&t, NULL, loop_thread, &vm->te.loop), 0);
	usleep(ms * 1000);
	event_loop_stop(&vm->te.loop);
	pthread_join(t, &ret);
	ck_assert(ret != NULL);
	ns = *(long long *)ret;
	free(ret);
	return ns;
}

static uint8_t com1_rd(struct com1_vm *vm, unsigned int reg)
{
	uint8_t v = 0;

	ck_assert(bus_access(&vm->te.pio, SERIAL_COM1_PORT + reg, &v, 1, false));
	return v;
}

/* Pipe input larger than the receive buffer, then closed: input pauses
 * while the guest does not read (without spinning on EPOLLHUP), resumes
 * when it does, and every byte arrives in order. */
START_TEST(test_com1_input_flow_control)
{
	static uint8_t in[2 * SERIAL_RX_BUF];
	long long cpu_ns;
	struct com1_vm *vm;
	int p[2];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + i / 256);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], in, sizeof(in)), (int)sizeof(in));
	close(p[1]);                            /* EPOLLHUP from now on */
	vm = fake_vm(p[0], -1);
	ck_assert_int_eq(com1_create(vm), 0);

	cpu_ns = run_loop_for(vm, 500);
	ck_assert_uint_eq(com1_rd(vm, 5) & 0x01, 1);            /* LSR: data ready */
	ck_assert_msg(cpu_ns < 100000000ll,
		      "event loop busy while the input is paused: %lld ms CPU in 500 ms",
		      cpu_ns / 1000000);
	for (size_t i = 0; i < SERIAL_RX_BUF; i++)
		ck_assert_uint_eq(com1_rd(vm, 0), in[i]);
	ck_assert_uint_eq(com1_rd(vm, 5) & 0x01, 0);
	run_loop_for(vm, 100);                  /* resumed: the rest, then EOF */
	for (size_t i = SERIAL_RX_BUF; i < sizeof(in); i++)
		ck_assert_uint_eq(com1_rd(vm, 0), in[i]);
	ck_assert_uint_eq(com1_rd(vm, 5) & 0x01, 0);
	fake_vm_free(vm);
	close(p[0]);
}
END_TEST

struct loop_arg {
	struct event_loop *loop;
	int done;
};

static void *loop_done_thread(void *p)
{
	struct loop_arg *a = p;

	event_loop_run(a->loop);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A vCPU blocked writing to a console that does not drain must not block
 * the event loop when input arrives: the loop is what stops the VM. */
START_TEST(test_com1_blocked_output_does_not_block_loop)
{
	struct tx_arg a = { NULL, 0 };
	struct loop_arg l = { NULL, 0 };
	char buf[4096];
	pthread_t tx, lt;
	int out[2], in[2], loop_stopped = 0;

	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(fcntl(out[1], F_SETFL, O_NONBLOCK), 0);
	memset(buf, 'y', sizeof(buf));
	while (write(out[1], buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(fcntl(out[1], F_SETFL, 0), 0);

	a.vm = fake_vm(in[0], out[1]);
	ck_assert_int_eq(com1_create(a.vm), 0);
	ck_assert_int_eq(pthread_create(&tx, NULL, tx_thread, &a), 0);
	usleep(50 * 1000);
	ck_assert_int_eq(__atomic_load_n(&a.done, __ATOMIC_ACQUIRE), 0);   /* blocked */

	l.loop = &a.vm->te.loop;
	ck_assert_int_eq(pthread_create(&lt, NULL, loop_done_thread, &l), 0);
	ck_assert_int_eq(write(in[1], "hello", 5), 5);
	usleep(50 * 1000);
	event_loop_stop(&a.vm->te.loop);
	for (int i = 0; i < 100 && !loop_stopped; i++) {
		usleep(10 * 1000);
		loop_stopped = __atomic_load_n(&l.done, __ATOMIC_ACQUIRE);
	}
	/* Whatever happened, let the writer and the loop finish. */
	ck_assert_int_eq(fcntl(out[0], F_SETFL, O_NONBLOCK), 0);
	while (!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE))
		if (read(out[0], buf, sizeof(buf)) <= 0)
			usleep(1000);
	pthread_join(tx, NULL);
	pthread_join(lt, NULL);
	ck_assert_msg(loop_stopped, "event loop blocked behind the UART output");
	ck_assert_uint_eq(com1_rd(a.vm, 0), 'h');

	fake_vm_free(a.vm);
	close(out[0]);
	close(out[1]);
	close(in[0]);
	close(in[1]);
}
END_TEST

Suite *serial_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("serial");

	tcase_add_test(tc, test_serial_tx_and_lsr);
	tcase_add_test(tc, test_serial_interrupts);
	tcase_add_test(tc, test_serial_overflow_and_loopback);
	tcase_add_test(tc, test_i8042);
	tcase_add_test(tc, test_i8042_echo_full_queue);
	tcase_add_test(tc, test_com1_reader_blocks_signals);
	tcase_add_test(tc, test_com1_tx_gives_up_when_stopping);
	tcase_add_test(tc, test_com1_input_flow_control);
	tcase_add_test(tc, test_com1_blocked_output_does_not_block_loop);
	suite_add_tcase(s, tc);
	return s;
}
