// SPDX-License-Identifier: GPL-2.0
/* cmocka tests of ac97play's pure parts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "play_util.h"

static void test_out_kind(void **state)
{
	(void)state;
	assert_int_equal(out_kind_for("a.wav"), OUT_WAV);
	assert_int_equal(out_kind_for("A.WAV"), OUT_WAV);
	assert_int_equal(out_kind_for("dir/x.flac"), OUT_FLAC);
	assert_int_equal(out_kind_for("x.mp3"), OUT_NONE);
	assert_int_equal(out_kind_for("noext"), OUT_NONE);
	assert_int_equal(out_kind_for("dir.d/noext"), OUT_NONE);
}

static void test_segment_path(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(segment_path("out.wav", 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "out.wav");
	assert_int_equal(segment_path("out.wav", 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "out.2.wav");
	assert_int_equal(segment_path("a.b/c.flac", 9, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a.b/c.10.flac");
	assert_int_equal(segment_path("a.b/noext", 2, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a.b/noext.3");
	assert_int_equal(segment_path("long-name.wav", 1, buf, 8), -1);
}

static void test_peaks(void **state)
{
	const int16_t s[] = { 100, -200, -32768, 5, 7, 32767 };
	unsigned int p[2];

	(void)state;
	peak_levels(s, 6, 2, p);
	assert_int_equal(p[0], 32768);
	assert_int_equal(p[1], 32767);
	peak_levels(s, 2, 2, p);
	assert_int_equal(p[0], 100);
	assert_int_equal(p[1], 200);
}

static void test_dbfs_and_bar(void **state)
{
	char bar[11];

	(void)state;
	assert_true(peak_dbfs(32768) > -0.001 && peak_dbfs(32768) < 0.001);
	assert_true(peak_dbfs(16384) > -6.03 && peak_dbfs(16384) < -6.01);
	assert_true(peak_dbfs(0) == -120.0);
	meter_bar(0.0, 10, bar);
	assert_string_equal(bar, "##########");
	meter_bar(-30.0, 10, bar);
	assert_string_equal(bar, "#####-----");
	meter_bar(-120.0, 10, bar);
	assert_string_equal(bar, "----------");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_kind),
		cmocka_unit_test(test_segment_path),
		cmocka_unit_test(test_peaks),
		cmocka_unit_test(test_dbfs_and_bar),
	};

	return cmocka_run_group_tests_name("ac97play", tests, NULL, NULL);
}
