/*
 * check_main.c -- runs the suite of one unit test program (check_main.h).
 *
 * CK_NORMAL prints one "100%: Checks: N, Failures: 0, Errors: 0" line,
 * which .ci/run sums over the test logs of tests/unit/.
 */
#include "config.h"

#include <stdlib.h>

#include "check_main.h"

int
main(void)
{
	SRunner *sr = srunner_create(unit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
