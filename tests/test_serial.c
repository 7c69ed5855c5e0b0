/* SPDX-License-Identifier: Apache-2.0 */
/* 16550A and i8042 register models. */
#include <string.h>

#include "i8042.h"
#include "serial.h"
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

Suite *serial_suite(void)
{
	Suite *s = suite_create("serial");
	TCase *tc = tcase_create("serial");

	tcase_add_test(tc, test_serial_tx_and_lsr);
	tcase_add_test(tc, test_serial_interrupts);
	tcase_add_test(tc, test_serial_overflow_and_loopback);
	tcase_add_test(tc, test_i8042);
	suite_add_tcase(s, tc);
	return s;
}
