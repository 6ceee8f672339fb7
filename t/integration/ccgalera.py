"""The Galera run's database (CC_ITEST_GALERA=1, `make test-cluster`): a three-node
MariaDB Galera cluster on loopback instead of the one private MariaDB.

Each node is started by t/env/db.sh (as `make run` starts its one server) with the
Galera settings in a file of extra server lines (CC_DB_EXTRA_CNF), on its own client,
group-communication (gcomm), IST and SST ports and in its own directory: node 1 in the
environment's own db/ (so migrate.sh, seed.sh, render-conf.sh and cc.db() use it
unchanged), nodes 2 and 3 in galera2/db and galera3/db.  Node 1 bootstraps the cluster
(--wsrep-new-cluster), nodes 2 and 3 join it by a state transfer (mariabackup: rsync SST as root runs its rsync
daemon as nobody, which cannot write the data dir) and the schema
is migrated and seeded afterwards, through node 1, as DDL the cluster replicates.

Every node hands out its own auto-increment ids (wsrep_auto_increment_control: with 3
nodes, node i gives ids i, i + 3, ...), so ids interleave between nodes and leave gaps.
"""

import os
import pwd
import re
import signal
import time
from pathlib import Path

import pymysql

PROVIDER = "/usr/lib/galera/libgalera_smm.so"
NODES = 3
SYNC_TIMEOUT = 120.0


class GaleraNode:
    def __init__(self, cluster, index, var_dir, ports):
        self.cluster = cluster
        self.index = index                      # 1, 2, 3
        self.var_dir = Path(var_dir)
        self.port, self.gcomm_port, self.ist_port, self.sst_port = ports
        self.db_dir = self.var_dir / "db"
        self.extra_cnf = self.var_dir / "galera.cnf"

    def env(self, bootstrap=False):
        e = {"CC_VAR_DIR": str(self.var_dir), "CC_DB_PORT": str(self.port),
             "CC_DB_EXTRA_CNF": str(self.extra_cnf)}
        if bootstrap:
            e["CC_DB_ARGS"] = "--wsrep-new-cluster"
        return e

    def write_cnf(self):
        self.var_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.var_dir, 0o755)
        members = ",".join(f"127.0.0.1:{n.gcomm_port}" for n in self.cluster.nodes)
        lines = [
            "wsrep_on=ON",
            f"wsrep_provider={PROVIDER}",
            "wsrep_cluster_name=cc-itest",
            f"wsrep_cluster_address=gcomm://{members}",
            f"wsrep_node_name=node{self.index}",
            "wsrep_node_address=127.0.0.1",
            # Loopback only, every port our own; a small gcache (the run is short).
            f'wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:{self.gcomm_port};'
            f'ist.recv_addr=127.0.0.1:{self.ist_port};gcache.size=64M"',
            f"wsrep_sst_receive_address=127.0.0.1:{self.sst_port}",
            "wsrep_sst_method=mariabackup",
            "wsrep_slave_threads=2",
            # Causal reads: a read on one node sees what a request through another node
            # committed (a client whose requests alternate between nodes; README).
            "wsrep_sync_wait=1",
            "binlog_format=ROW",
            "default_storage_engine=InnoDB",
            "innodb_autoinc_lock_mode=2",
            "wsrep_auto_increment_control=ON",
        ]
        self.extra_cnf.write_text("\n".join(lines) + "\n")

    def socket(self):
        text = (self.db_dir / "my.cnf").read_text()
        return re.search(r"^socket=(.+)$", text, re.M).group(1).strip()

    def conn(self, **kw):
        """A pymysql connection to this node as the administrator (socket), autocommit."""
        user = "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        kw.setdefault("database", "callcenter")
        return pymysql.connect(unix_socket=self.socket(), user=user, autocommit=True,
                               charset="utf8mb4", cursorclass=pymysql.cursors.DictCursor,
                               connect_timeout=5, read_timeout=30, write_timeout=30, **kw)

    def status(self, *names):
        """SHOW STATUS values (wsrep_...) of this node: {name: value}."""
        with self.conn(database=None) as c, c.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s)"
                        % ",".join(["%s"] * len(names)), names)
            return {r["Variable_name"]: r["Value"] for r in cur.fetchall()}

    def pid(self):
        try:
            return int((self.db_dir / "mariadbd.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def start(self, bootstrap=False):
        self.write_cnf()
        self.cluster.cc._run("db.sh", "start", env_over=self.env(bootstrap))

    def stop(self):
        self.cluster.cc._run("db.sh", "stop", env_over=self.env())

    def kill(self):
        """SIGKILL, as a crash (its pid file stays: db.sh start removes it)."""
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def synced(self):
        try:
            st = self.status("wsrep_cluster_size", "wsrep_local_state_comment",
                             "wsrep_ready")
        except pymysql.MySQLError:
            return False
        return (st.get("wsrep_cluster_size") == str(NODES)
                and st.get("wsrep_local_state_comment") == "Synced"
                and st.get("wsrep_ready") == "ON")


class GaleraCluster:
    """Three nodes; nodes[0] is the environment's own database (cc.db_port)."""

    def __init__(self, cc, ports):
        self.cc = cc
        self.nodes = []
        dirs = [cc.tmpdir] + [cc.tmpdir / f"galera{i}" for i in range(2, NODES + 1)]
        for i in range(NODES):
            self.nodes.append(GaleraNode(self, i + 1, dirs[i], ports[4 * i:4 * i + 4]))
        self.start_seconds = None

    def start(self):
        t0 = time.monotonic()
        first = self.nodes[0]
        first.start(bootstrap=True)
        # One app account for every node: each db.sh start sets the password of its
        # own file, and the cluster replicates the change.
        pw = (first.db_dir / "app-password").read_bytes()
        for n in self.nodes[1:]:
            n.db_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(n.db_dir, 0o700)
            p = n.db_dir / "app-password"
            p.write_bytes(pw)
            os.chmod(p, 0o600)
            n.start()
        self.wait_synced()
        self.start_seconds = time.monotonic() - t0

    def wait_synced(self, nodes=None, timeout=SYNC_TIMEOUT):
        deadline = time.monotonic() + timeout
        for n in nodes or self.nodes:
            while not n.synced():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Galera node {n.index} not synced in a cluster of "
                                       f"{NODES} after {timeout:.0f}s")
                time.sleep(0.1)

    def stop(self):
        for n in reversed(self.nodes):
            try:
                n.stop()
            except Exception:                           # noqa: BLE001 (teardown)
                pass

    def error_logs(self):
        return {n.index: n.db_dir / "error.log" for n in self.nodes}


def galera_mode():
    return os.environ.get("CC_ITEST_GALERA") == "1"
