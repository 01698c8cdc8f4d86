/*
 * test_store_write.c -- atomic replacement of a store file
 * (src/lib/store_write.c), including a crash between the temporary file and
 * the rename.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpq-internal.h"
#include "check_main.h"

static char dir[64];

static void
setup(void)
{
	strcpy(dir, "/tmp/httpq-store-write.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = xcalloc(1, 4096);

	ck_assert_ptr_nonnull(f);
	ck_assert(fread(buf, 1, 4095, f) < 4095);
	fclose(f);
	return buf;
}

static size_t
count_files(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(dd);
	while ((de = readdir(dd)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dd);
	return n;
}

START_TEST(test_write_creates_folder)
{
	char *path = xasprintf("%s/conf.d/99-httpqctl.yaml", dir), *got;
	char err[256];
	struct stat st;

	ck_assert_int_eq(hq_store_write(path, "a: 1\n", 5, err, sizeof(err)), 0);
	got = slurp(path);
	ck_assert_str_eq(got, "a: 1\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	free(got);
	ck_assert_int_eq(hq_store_write(path, "b: 2\n", 5, err, sizeof(err)), 0);
	got = slurp(path);
	ck_assert_str_eq(got, "b: 2\n");
	free(got);
	free(path);
}
END_TEST

/* A crash after the temporary file is written and before the rename: the
 * old file is intact, and the loader does not read the leftover. */
START_TEST(test_crash_before_rename)
{
	static const char main_yaml[] = "timeouts: {header_wait: 5}\n";
	char *path = xasprintf("%s/conf.d/99-httpqctl.yaml", dir);
	char *store = xasprintf("%s/httpq.yaml", dir), *tmp, *got, *cd;
	struct hq_errors e = { 0 };
	struct hq_store *s;
	char err[256];

	ck_assert_int_eq(hq_store_write(store, main_yaml, sizeof(main_yaml) - 1,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(hq_store_write(path, "timeouts: {idle_connection: 7}\n",
	    31, err, sizeof(err)), 0);
	tmp = hq_store_write_temp(path, "timeouts: {idle_connection: 9}\n", 31,
	    err, sizeof(err));
	ck_assert_ptr_nonnull(tmp);
	/* "crash": the process dies here, the rename never happens */
	got = slurp(path);
	ck_assert_str_eq(got, "timeouts: {idle_connection: 7}\n");
	free(got);
	cd = xasprintf("%s/conf.d", dir);
	ck_assert_uint_eq(count_files(cd), 2); /* the file and the hidden temp */
	s = hq_store_load(store, &e);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->nfiles, 2);
	ck_assert_uint_eq(s->timeouts.idle_connection, 7);
	ck_assert_uint_eq(s->timeouts.header_wait, 5);
	hq_store_free(s);
	/* After a restart the next write completes as usual. */
	ck_assert_int_eq(hq_store_write_commit(tmp, path, err, sizeof(err)), 0);
	got = slurp(path);
	ck_assert_str_eq(got, "timeouts: {idle_connection: 9}\n");
	free(got);
	ck_assert_uint_eq(count_files(cd), 1);
	free(cd);
	free(tmp);
	free(store);
	free(path);
}
END_TEST

START_TEST(test_errors_name_the_file)
{
	char *file = xasprintf("%s/plain", dir), *path = xasprintf("%s/x/y.yaml", file);
	char err[512];

	ck_assert_int_eq(hq_store_write(file, "", 0, err, sizeof(err)), 0);
	ck_assert_int_eq(hq_store_write(path, "a", 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, file) != NULL, "%s", err);
	free(path);
	free(file);
}
END_TEST

/*
 * httpqctl's model of an entry kept 8 keys and silently dropped the ninth
 * (an SSL binding has 9 keys): every key is kept, in order, and setting a
 * key again replaces its value.
 */
START_TEST(test_kvlist_keeps_every_key)
{
	static const char *const keys[] = { "ipport", "hostnameport",
		"certfile", "keyfile", "chainfile", "clientcert", "cafile",
		"ocsp_staple", "min_protocol", "k10", "k11", "k12", "k13",
		"k14", "k15", "k16", "k17" };
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	struct hq_kvlist m = { 0 };

	for (int round = 0; round < 2; round++) { /* usable again after free */
		for (size_t i = 0; i < nkeys; i++) {
			char *v = xasprintf("v%zu", i);

			hq_kvlist_set(&m, keys[i], v);
			free(v);
			ck_assert_uint_eq(m.n, i + 1);
		}
		for (size_t i = 0; i < nkeys; i++) {
			char *v = xasprintf("v%zu", i);

			ck_assert_str_eq(m.k[i], keys[i]);
			ck_assert_str_eq(m.v[i], v);
			ck_assert_str_eq(hq_kvlist_get(&m, keys[i]), v);
			free(v);
		}
		hq_kvlist_set(&m, "min_protocol", "tls1.3");
		ck_assert_uint_eq(m.n, nkeys);
		ck_assert_str_eq(m.v[8], "tls1.3");
		ck_assert_ptr_null(hq_kvlist_get(&m, "nope"));
		hq_kvlist_free(&m);
		ck_assert_uint_eq(m.n, 0);
		ck_assert_ptr_null(hq_kvlist_get(&m, "ipport"));
	}
}
END_TEST

Suite *
unit_suite(void)
{
	Suite *su = suite_create("store_write");
	TCase *tc = tcase_create("store_write");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_creates_folder);
	tcase_add_test(tc, test_crash_before_rename);
	tcase_add_test(tc, test_errors_name_the_file);
	tcase_add_test(tc, test_kvlist_keeps_every_key);
	suite_add_tcase(su, tc);
	return su;
}
