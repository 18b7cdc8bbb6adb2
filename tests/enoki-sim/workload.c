/*
 * workload.c - malformed workload files give one clear line naming the
 * file, the JSON path and the problem; good ones parse.  Runs under the
 * SAN build too, so a bad file must not crash or leak.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

struct bad_case {
	const char *json;
	const char *want;	/* substring of the error */
};

static const struct bad_case bad[] = {
	{ "{\"cpus\": 4,", "bad.json:1:" },
	{ "[]", "(top): must be an object" },
	{ "{\"cpus\": 0, \"groups\": []}", "(top).cpus: must be an integer 1..256" },
	{ "{\"cpus\": 2}", "groups: must be an array" },
	{ "{\"cpu\": 2, \"groups\": []}", "(top).cpu: unknown key" },
	{ "{\"groups\": [{\"kind\": \"hog\"}]}", "groups[0].name: must be a string" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hogg\"}]}",
	  "groups[0].kind: must be one of" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hog\", \"count\": -1}]}",
	  "groups[0].count: must be an integer 1..4096" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hog\", \"nice\": 20}]}",
	  "groups[0].nice: must be an integer -20..19" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"sleeper\", \"run_us\": 5}]}",
	  "groups[0].sleep_us: missing" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hog\", \"cpus\": \"3-1\"}]}",
	  "groups[0].cpus: bad CPU list" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"server\", \"load\": 0.5}]}",
	  "groups[0].service: missing" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"server\", \"load\": 0.5,"
	  " \"service\": {\"dist\": \"pareto\"}}]}",
	  "groups[0].service: unknown dist \"pareto\"" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"server\","
	  " \"service\": {\"dist\": \"fixed\", \"us\": 5}}]}",
	  "groups[0]: a server needs exactly one of" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hog\"},"
	  " {\"name\": \"a\", \"kind\": \"hog\"}]}",
	  "groups[1].name: \"a\" used twice" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hog\"}],"
	  " \"messages\": [{\"at_ms\": 1, \"task\": \"b/0\"}]}",
	  "messages[0].task: must name a task" },
	{ "{\"groups\": [{\"name\": \"a\", \"kind\": \"hog\", \"hint\": {\"arg\": [1,2,3,4,5]}}]}",
	  "groups[0].hint.arg: must be an array of up to 4 integers" },
	{ "{\"duration_ms\": \"10\", \"groups\": [{\"name\": \"a\", \"kind\": \"hog\"}]}",
	  "(top).duration_ms: must be a number" },
};

static void test_bad(void **state)
{
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct enoki_workload *w = NULL;
		int rc = enoki_workload_parse(bad[i].json, "bad.json", &w, err,
					      sizeof(err));

		if (rc == 0 || !strstr(err, bad[i].want) ||
		    strncmp(err, "bad.json", 8) || strchr(err, '\n')) {
			printf("# case %zu: rc %d, got \"%s\", want \"%s\"\n",
			       i, rc, rc ? err : "(parsed)", bad[i].want);
			fail();
		}
		assert_null(w);
	}
}

static void test_missing_file(void **state)
{
	struct enoki_workload *w = NULL;
	char err[512];

	assert_int_equal(enoki_workload_load("/nonexistent/w.json", &w, err,
					     sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/w.json: cannot open"));
}

static void test_good(void **state)
{
	struct enoki_workload *w = NULL;
	char err[512];

	assert_int_equal(enoki_workload_parse(
		"{\"cpus\": 8, \"duration_ms\": 10, \"seed\": 3, \"groups\": ["
		"{\"name\": \"a\", \"kind\": \"hog\", \"cpus\": [0, 2]},"
		"{\"name\": \"b\", \"kind\": \"server\", \"rate_per_s\": 1000,"
		" \"service\": {\"dist\": \"bimodal\", \"short_us\": 5,"
		" \"long_us\": 500, \"long_fraction\": 0.005}},"
		"{\"name\": \"c\", \"kind\": \"sleeper\", \"run_us\": 1,"
		" \"sleep_us\": 2, \"hint\": {\"type\": 2, \"on\": \"wake\","
		" \"args\": [[1], [2, 3]]}, \"renice\": {\"at_ms\": 5, \"nice\": 3}}],"
		"\"messages\": [{\"at_ms\": 1, \"type\": 4, \"task\": \"c/0\","
		" \"arg\": [9]}]}", "good.json", &w, err, sizeof(err)), 0);
	enoki_workload_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_good),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
