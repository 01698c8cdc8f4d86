"""httpq: Python client of httpqd's request queues (httpq-protocol(7)).

httpq.client: the queue protocol (Handle, Request); httpq.wsgi: the WSGI
server behind httpq-wsgi(1).  Standard library only.
"""

__all__ = ["client", "wsgi"]
