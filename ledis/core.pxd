# Cython declarations for core.py (issue #19; docs/architecture.md "The compiled hot path").
# Compiled, Core is an extension type; the attributes its dispatcher and the connection read
# per command are C struct fields. Everything else the composition root plugs in lives in the
# instance's __dict__, as in the interpreted mode, except that a declared attribute is not in
# ``vars(core)``: the attributes read through ``vars(core)`` / ``core.__dict__`` must not be
# declared here (tests/unit/test_pxd.py checks both).

cdef class Core:
    cdef dict __dict__
    cdef object __weakref__
    cdef public object _by_name, gated, touch, watched_keys, notify_writes, trigger_tables
    cdef public object watched_write, slow_us, latency_tracking, stats, config
