# Cython declarations for connection.py (issue #19; docs/architecture.md "The compiled hot path"):
# compiled, Connection is an extension type and these attributes are C struct fields, read
# without a dictionary lookup. The .py file stays the one source; the interpreted mode ignores
# this file. Every attribute Connection sets must be declared here (there is no __dict__):
# tests/unit/test_pxd.py checks it.

cdef class Connection:
    cdef object __weakref__
    cdef public object server, core, reader, out, queue, transport, ctx, waiting, closing
    cdef public object _inline, _scanner, _deferred, _held, _held_len, _stream_scheduled
    cdef public object _write_paused
    cpdef _parse(self, data)
    cpdef run_queue(self)
