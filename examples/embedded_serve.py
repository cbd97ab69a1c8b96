"""Embed the store and still let redis-cli (and HTTP clients) in.

    python examples/embedded_serve.py [--port 6390] [--http-port 11190] [--seconds N]
    # then, while it runs:  redis-cli -p 6390 GET from_python
    #                       redis-cli -p 6390 INCR cli_counter
    #                       curl http://127.0.0.1:11190/GET/from_python
"""

import argparse
import time

import ledis

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=6390)
parser.add_argument("--http-port", type=int, default=11190)
parser.add_argument("--seconds", type=float, default=0, help="stop after N seconds (0: Ctrl-C)")
opts = parser.parse_args()

with ledis.open(memory=True) as db:
    db.set("from_python", "hi there")
    port = db.serve(port=opts.port, http_port=opts.http_port)  # background thread, same store
    print(f"RESP on {port}, HTTP on {db.http_port}", flush=True)
    deadline = time.monotonic() + opts.seconds if opts.seconds else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
            print("cli_counter =", db.get("cli_counter"), flush=True)
    except KeyboardInterrupt:
        pass
