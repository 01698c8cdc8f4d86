/*
 * main.c -- httpqd's command line.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpqd.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: httpqd [-ft] [-c file] [-M moddir] [-s socket] [-Q socket]\n"
	    "       httpqd --list-keys | --version | --help\n"
	    "  -c file      setup store (default %s)\n"
	    "  -t           validate the store and its modules, print every error, exit\n"
	    "  -f           stay in the foreground, log to stderr\n"
	    "  -M moddir    module folder, overriding server.module_path\n"
	    "  -s socket    control socket, overriding control.socket\n"
	    "  -Q socket    queue socket, overriding queue_socket.path\n"
	    "  --list-keys  print every configuration key with its default\n"
	    "  --version    print the version\n",
	    HQ_DEFAULT_CONFIG_FILE);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = HQ_DEFAULT_CONFIG_FILE, *moddir = NULL;
	bool test = false, foreground = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:tfM:s:Q:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = true; break;
		case 'f': foreground = true; break;
		case 'M': moddir = optarg; break;
		case 's': hq_control_set_path(optarg); break;
		case 'Q': hq_attach_set_path(optarg); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("httpqd %s (module ABI %d.%d)\n", PACKAGE_VERSION,
		    HTTPQ_MODULE_ABI_MAJOR, HTTPQ_MODULE_ABI_MINOR); return 0;
		case 'K': hq_store_list_keys(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "httpqd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	hq_log_init(foreground || test);
	if (test)
		return hq_check(path, moddir);
	return hq_run(path, moddir, foreground);
}
