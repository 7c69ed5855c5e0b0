/* SPDX-License-Identifier: Apache-2.0 */
/* key=value list parser and number parsing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "vmmcore/vmm.h"

struct collect {
	char out[512];
	int calls;
};

static int collect_fn(void *data, const char *key, const char *value, char *err, size_t errlen)
{
	struct collect *c = data;
	size_t used = strlen(c->out);

	(void)err;
	(void)errlen;
	snprintf(c->out + used, sizeof(c->out) - used, "[%s]=%s%s%s;", key,
		 value ? "<" : "", value ? value : "NULL", value ? ">" : "");
	c->calls++;
	return 0;
}

static const struct {
	const char *in;
	const char *out;
} good[] = {
	{ "a=1", "[a]=<1>;" },
	{ "a=1,b=2", "[a]=<1>;[b]=<2>;" },
	{ "flag", "[flag]=NULL;" },
	{ "a=", "[a]=<>;" },
	{ "cmdline=\"console=ttyS0 root=/dev/vda,ro\"", "[cmdline]=<console=ttyS0 root=/dev/vda,ro>;" },
	{ "p=x,cmdline=\"a,b\",q=y", "[p]=<x>;[cmdline]=<a,b>;[q]=<y>;" },
	{ "c=\"say \\\"hi\\\" \\\\o/\"", "[c]=<say \"hi\" \\o/>;" },
	{ "c=\"\"", "[c]=<>;" },
	{ "c=x=y=z", "[c]=<x=y=z>;" },
	{ "c=a\"b", "[c]=<a\"b>;" },
	{ "c=\"back\\slash\"", "[c]=<back\\slash>;" },
	{ "kernel_load_addr=0x200000", "[kernel_load_addr]=<0x200000>;" },
};

START_TEST(test_kv_good)
{
	struct collect c = { "", 0 };
	char err[128] = "";

	ck_assert_int_eq(vmm_kv_parse(good[_i].in, collect_fn, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.out, good[_i].out);
}
END_TEST

static const char *const bad[] = {
	"", ",", "a=1,", ",a=1", "=1", "a b=1", "a=\"unterminated", "a=\"x\"y", "a=1,,b=2", "k\xc3\xa9=1",
};

START_TEST(test_kv_bad)
{
	struct collect c = { "", 0 };
	char err[128] = "";

	ck_assert_int_eq(vmm_kv_parse(bad[_i], collect_fn, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(err[0] != '\0', "no message for '%s'", bad[_i]);
}
END_TEST

static int fail_on_b(void *data, const char *key, const char *value, char *err, size_t errlen)
{
	(void)data;
	(void)value;
	if (!strcmp(key, "b")) {
		snprintf(err, errlen, "b refused");
		return -ERANGE;
	}
	return 0;
}

START_TEST(test_kv_callback_error)
{
	char err[64] = "";

	ck_assert_int_eq(vmm_kv_parse("a=1,b=2,c=3", fail_on_b, NULL, err, sizeof(err)), -ERANGE);
	ck_assert_str_eq(err, "b refused");
}
END_TEST

START_TEST(test_parse_u64)
{
	uint64_t v = 0;

	ck_assert_int_eq(vmm_parse_u64("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(vmm_parse_u64("1024", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 1024);
	ck_assert_int_eq(vmm_parse_u64("0x100000", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 0x100000);
	ck_assert_int_eq(vmm_parse_u64("0XfF", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 255);
	ck_assert_int_eq(vmm_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(vmm_parse_u64("0xffffffffffffffff", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	/* overflow */
	ck_assert_int_eq(vmm_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(vmm_parse_u64("0x10000000000000000", 0, UINT64_MAX, &v), -ERANGE);
	/* range */
	ck_assert_int_eq(vmm_parse_u64("11", 0, 10, &v), -ERANGE);
	ck_assert_int_eq(vmm_parse_u64("4", 5, 10, &v), -ERANGE);
	/* not numbers */
	ck_assert_int_eq(vmm_parse_u64("", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64("0x", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64("-1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64("+1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64(" 1", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64("1k", 0, 10, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64("0x1g", 0, 100, &v), -EINVAL);
	/* an overflow followed by junk is no number, not out of range */
	ck_assert_int_eq(vmm_parse_u64("99999999999999999999x", 0, UINT64_MAX, &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_u64("0x10000000000000000g", 0, UINT64_MAX, &v), -EINVAL);
}
END_TEST

Suite *kvpair_suite(void)
{
	Suite *s = suite_create("kvpair");
	TCase *tc = tcase_create("kvpair");

	tcase_add_loop_test(tc, test_kv_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_loop_test(tc, test_kv_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_kv_callback_error);
	tcase_add_test(tc, test_parse_u64);
	suite_add_tcase(s, tc);
	return s;
}
