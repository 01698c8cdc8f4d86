/*
 * errors.c -- the responses httpqd makes by itself, as http.sys does.
 *
 * Titles and texts follow http.sys's observed error pages; the reason codes
 * are those of its HTTPERR log, so people who know one can read the other.
 * `close` marks errors after which the request framing is unknown.
 */
#include "config.h"

#include "httpq-internal.h"

static const struct hq_errinfo errors[HQ_ERR__COUNT] = {
	[HQ_OK] = { 200, "OK", "OK", "", "OK", false },
	[HQ_ERR_BAD_REQUEST] = { 400, "Bad Request", "Bad Request",
	    "The request is badly formed.", "BadRequest", true },
	[HQ_ERR_BAD_VERB] = { 400, "Bad Request", "Bad Request - Invalid Verb",
	    "The request verb is invalid.", "Verb", true },
	[HQ_ERR_BAD_URL] = { 400, "Bad Request", "Bad Request - Invalid URL",
	    "The request URL is invalid.", "URL", false },
	[HQ_ERR_BAD_HEADER] = { 400, "Bad Request", "Bad Request - Invalid Header",
	    "The request has an invalid header name or value.", "Header", true },
	[HQ_ERR_BAD_HOST] = { 400, "Bad Request", "Bad Request - Invalid Hostname",
	    "The request hostname is invalid.", "Hostname", false },
	[HQ_ERR_BAD_CONTENT_LENGTH] = { 400, "Bad Request",
	    "Bad Request - Invalid Content-Length",
	    "The request has an invalid or conflicting Content-Length.",
	    "Content_Length", true },
	[HQ_ERR_CL_AND_TE] = { 400, "Bad Request", "Bad Request - Invalid Framing",
	    "The request has both Content-Length and Transfer-Encoding.",
	    "Framing", true },
	[HQ_ERR_BAD_CHUNK] = { 400, "Bad Request", "Bad Request - Invalid Chunk",
	    "The chunked request body is malformed.", "Chunk", true },
	[HQ_ERR_BAD_CRLF] = { 400, "Bad Request", "Bad Request",
	    "The request contains a NUL or a bare CR.", "Invalid_CR/LF", true },
	[HQ_ERR_OBS_FOLD] = { 400, "Bad Request", "Bad Request - Invalid Header",
	    "The request uses obsolete header line folding.", "Header", true },
	[HQ_ERR_NOT_FOUND] = { 404, "Not Found", "Not Found",
	    "The requested resource is not found.", "NotFound", false },
	[HQ_ERR_ENTITY_TOO_LARGE] = { 413, "Payload Too Large",
	    "Request Entity Too Large",
	    "The request entity body is too large.", "EntityTooLarge", true },
	[HQ_ERR_URL_TOO_LONG] = { 414, "URI Too Long", "Request URL Too Long",
	    "The request URL is too long.", "URL_Length", true },
	[HQ_ERR_FIELD_TOO_LONG] = { 431, "Request Header Fields Too Large",
	    "Bad Request - Header Field Too Long",
	    "A request header field is too long.", "FieldLength", true },
	[HQ_ERR_REQUEST_TOO_LONG] = { 431, "Request Header Fields Too Large",
	    "Bad Request - Request Too Long",
	    "The size of the request headers is too long.", "RequestLength", true },
	[HQ_ERR_NOT_IMPLEMENTED] = { 501, "Not Implemented", "Not Implemented",
	    "The request transfer-coding is not implemented.", "N/I", true },
	[HQ_ERR_VERSION] = { 505, "HTTP Version Not Supported",
	    "HTTP Version Not Supported",
	    "The HTTP version of the request is not supported.", "Version_N/S", true },
	[HQ_ERR_LENGTH_REQUIRED] = { 411, "Length Required", "Length Required",
	    "The request must be chunked or have a content length.",
	    "LengthRequired", true },
	[HQ_ERR_EXPECTATION_FAILED] = { 417, "Expectation Failed",
	    "Expectation Failed",
	    "The expectation given in the Expect header cannot be met.",
	    "Expectation", true },
	[HQ_ERR_QUEUE_FULL] = { 503, "Service Unavailable", "Service Unavailable",
	    "The request queue is full.", "QueueFull", false },
	[HQ_ERR_NO_CONSUMER] = { 503, "Service Unavailable", "Service Unavailable",
	    "The request queue has no consumer.", "AppOffline", false },
	[HQ_ERR_UNBOUND] = { 503, "Service Unavailable", "Service Unavailable",
	    "The URL group is bound to no request queue.", "Disabled", false },
	[HQ_ERR_SHUTDOWN] = { 503, "Service Unavailable", "Service Unavailable",
	    "The service is shutting down.", "AppShutdown", true },
	[HQ_ERR_INTERNAL] = { 500, "Internal Server Error", "Internal Server Error",
	    "The server met an internal error.", "Internal", true },
	[HQ_ERR_CONN_LIMIT] = { 503, "Service Unavailable", "Service Unavailable",
	    "Too many connections.", "ConnLimit", true },
	[HQ_ERR_DISABLED] = { 503, "Service Unavailable", "Service Unavailable",
	    "The URL group is disabled.", "Disabled", false },
};

const struct hq_errinfo *
hq_errinfo(enum hq_error e)
{
	if ((unsigned)e >= HQ_ERR__COUNT)
		e = HQ_ERR_INTERNAL;
	return &errors[e];
}
