"""The script API: eval, evalsha, and a Python host function called from Lua.

    python examples/embedded_scripts.py
"""

import hashlib

import ledis

with ledis.open(memory=True) as db:
    # EVAL with keys and args
    print(db.eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", keys=["n"], args=[5]))

    # cached scripts
    sha = db.script_load("return {KEYS[1], ARGV[1]}")
    print(db.evalsha(sha, ["k"], ["v"]))            # [b'k', b'v']

    # a Python function callable from Lua as ledis.host.<name>(...), in this process only
    db.register_host_function("sha256", lambda data: hashlib.sha256(data).hexdigest())
    script = """
    local digest = ledis.host.sha256(ARGV[1])
    redis.call('HSET', KEYS[1], ARGV[1], digest)
    return digest
    """
    print(db.eval(script, keys=["digests"], args=["hello"]))
    print(db.hgetall("digests"))

    try:
        db.function_load("#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        print(db.fcall("f"))
    except NotImplementedError as exc:              # until FUNCTION/FCALL are built
        print("functions:", exc)
