/*
 * tlsselect.c -- which SSL binding serves a handshake, as http.sys decides:
 * a hostnameport binding for (SNI name, local port) first, else the ipport
 * binding of the local address, the specific IP before 0.0.0.0 / [::]
 * (the wildcard of the other family when there is none of the same).
 * A leaf (no OpenSSL), so that the rules are unit-tested on their own.
 */
#include "config.h"

#include <netinet/in.h>
#include <string.h>

#include "httpq-internal.h"

static bool
ip_equal(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static bool
ip_wildcard(const struct sockaddr_storage *a, int family)
{
	if (a->ss_family != family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

ssize_t
hq_tls_select(const struct hq_tls_key *k, size_t n, const char *sni, size_t snilen,
    const struct sockaddr *local, uint16_t port)
{
	ssize_t wild = -1, other = -1;

	/* A trailing dot names the same host ("a.example."). */
	if (snilen > 0 && sni[snilen - 1] == '.')
		snilen--;
	if (snilen > 0)
		for (size_t i = 0; i < n; i++)
			if (k[i].by_host && k[i].port == port &&
			    strlen(k[i].host) == snilen &&
			    hq_mem_eq_nocase(k[i].host, sni, snilen))
				return (ssize_t)i;
	if (local == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (k[i].by_host || k[i].port != port)
			continue;
		if (ip_equal(k[i].addr, local))
			return (ssize_t)i;
		if (wild < 0 && ip_wildcard(k[i].addr, local->sa_family))
			wild = (ssize_t)i;
		if (other < 0 && ip_wildcard(k[i].addr,
		    local->sa_family == AF_INET ? AF_INET6 : AF_INET))
			other = (ssize_t)i;
	}
	/* 0.0.0.0:443 alone also serves IPv6 clients (and [::] IPv4). */
	return wild >= 0 ? wild : other;
}
