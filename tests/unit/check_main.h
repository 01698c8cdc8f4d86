/*
 * check_main.h -- the one main() of the unit tests (check_main.c).
 *
 * tests/unit/ mirrors src/lib/: test_X.c tests src/lib/X.c.  Each test
 * file defines unit_suite(), which builds its Check suite; check_main.c,
 * linked into every test program, runs it and exits non-zero on failure.
 * A test that must free something after the run registers it with atexit().
 */
#ifndef HTTPQ_CHECK_MAIN_H
#define HTTPQ_CHECK_MAIN_H

#include <check.h>

Suite *unit_suite(void);

#endif /* HTTPQ_CHECK_MAIN_H */
