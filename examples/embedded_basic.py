"""ledis embedded in a Python program: typed methods, execute(), databases, errors.

    python examples/embedded_basic.py
"""

import ledis

with ledis.open(memory=True) as db:  # or ledis.open("./data") to keep the data
    db.set("greeting", "hello")
    print(db.get("greeting"))                      # b'hello'
    db.hset("user:1", "name", "Ada", "lang", "py")
    print(db.hgetall("user:1"))                    # {b'name': b'Ada', b'lang': b'py'}
    db.zadd("board", 10, "ada", 7.5, "bob")
    print(db.zrange("board", 0, -1, "WITHSCORES"))  # [[b'bob', 7.5], [b'ada', 10.0]]
    print(db.execute("INCRBY", "visits", 3))       # 3: any command, by name
    print(db.config_get("databases"))              # CONFIG GET -> {b'databases': b'16'}

    archive = db.select(1)                         # a handle on database 1
    archive.set("greeting", "old")
    print(db.get("greeting"), archive.get("greeting"))

    try:
        db.lpush("greeting", "x")
    except ledis.WrongTypeError as exc:            # a ledis.ResponseError subclass
        print("error:", exc.text)
