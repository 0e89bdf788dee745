"""The central MongoDB for the sync tests.

By default each Central starts its own jongodb (an in-memory
MongoDB-compatible server installed from the npm registry by
scripts/test.sh into tests/servers/node_modules; see docs/sync.md) on a free
loopback port. With CLINICBOX_TEST_MONGO_URI set, the tests use that server
instead (a real mongod), each Central in a database of its own.
"""
import os
import subprocess
import time
import uuid

import pymongo

from harness import free_port

JONGODB = os.path.join(os.path.dirname(__file__), "..", "servers", "node_modules", "@jongodb",
                       "memory-server-bin-linux-x64-gnu", "bin", "jongodb")


class Central:
    def __init__(self):
        self.proc = None
        self.db_name = "clinicbox_" + uuid.uuid4().hex[:12]
        self.base = os.environ.get("CLINICBOX_TEST_MONGO_URI")
        self.port = None

    def start(self):
        if not self.base:
            if not os.path.exists(JONGODB):
                raise AssertionError(f"jongodb is not installed at {JONGODB}: run "
                                     "npm ci --prefix tests/servers (scripts/test.sh does)")
            self.port = free_port()
            self.proc = subprocess.Popen([JONGODB, "--host=127.0.0.1", f"--port={self.port}"],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            deadline = time.time() + 30
            for line in self.proc.stdout:
                if line.startswith("JONGODB_URI="):
                    break
                if time.time() > deadline:
                    raise AssertionError("jongodb did not start")
            self.base = f"mongodb://127.0.0.1:{self.port}"
        self.client = pymongo.MongoClient(self.base, serverSelectionTimeoutMS=5000)
        return self

    @property
    def uri(self):
        """The URI the box is given: the server and this test's database."""
        base = self.base.split("?")[0].rstrip("/")
        if base.count("/") > 2:   # the base names a database: replace it
            base = base[:base.rindex("/")]
        return f"{base}/{self.db_name}"

    @property
    def db(self):
        return self.client[self.db_name]

    def stop(self):
        if getattr(self, "client", None):
            if not self.proc:
                self.client.drop_database(self.db_name)
            self.client.close()
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
