"""The benchmark's Python HTTP worker: the tasklane package's Worker with a no-op handler."""

import os

from tasklane import Worker

worker = Worker(os.environ["TASKLANE_URL"], concurrency=int(os.environ["SLOTS"]), grace_period=2)


@worker.handler(os.environ["KIND"])
def noop(task, ctx):
    return {"ok": True}


worker.run()
