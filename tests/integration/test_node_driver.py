"""The Node.js cassandra-driver (npm) connects, prepares and queries — when node and npm are present."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")
NPM = shutil.which("npm")
CACHE = Path(os.environ.get("CQLD_NODE_CACHE", Path.home() / ".cache" / "cqld-node"))

SCRIPT = r"""
const cassandra = require('cassandra-driver');
const port = parseInt(process.argv[2]);
async function main() {
  const client = new cassandra.Client({contactPoints: ['127.0.0.1:' + port], localDataCenter: 'datacenter1'});
  await client.connect();
  const out = {protocol: client.getState().getConnectedHosts().length};
  await client.execute("CREATE KEYSPACE IF NOT EXISTS nodeks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
  await client.execute('CREATE TABLE IF NOT EXISTS nodeks.t (id int, ck int, v text, PRIMARY KEY (id, ck))');
  const first = await client.execute("INSERT INTO nodeks.t (id, ck, v) VALUES (1, 1, 'x') IF NOT EXISTS");
  const second = await client.execute("INSERT INTO nodeks.t (id, ck, v) VALUES (1, 1, 'y') IF NOT EXISTS");
  out.applied = [first.wasApplied(), second.wasApplied()];
  const rs = await client.execute('SELECT v FROM nodeks.t WHERE id = ?', [1], {prepare: true});
  out.rows = rs.rows.map(r => r.v);
  await client.batch([
    {query: 'INSERT INTO nodeks.t (id, ck, v) VALUES (?, ?, ?)', params: [2, 1, 'a']},
    {query: 'INSERT INTO nodeks.t (id, ck, v) VALUES (?, ?, ?)', params: [2, 2, 'b']},
  ], {prepare: true});
  const two = await client.execute('SELECT ck FROM nodeks.t WHERE id = ?', [2], {prepare: true});
  out.batch = two.rows.map(r => r.ck);
  const meta = await client.metadata.getTable('nodeks', 't');
  out.columns = meta.columns.map(c => c.name).sort();
  out.keys = [meta.partitionKeys.map(c => c.name), meta.clusteringKeys.map(c => c.name)];
  await client.shutdown();
  console.log(JSON.stringify(out));
}
main().catch(e => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def node_driver():
    if not (CACHE / "node_modules" / "cassandra-driver").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [NPM, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), "cassandra-driver@4"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    script = CACHE / "cqld_check.js"
    script.write_text(SCRIPT)
    return script


@pytest.mark.skipif(NODE is None or NPM is None, reason="node and npm are not installed on this machine")
def test_node_driver_connects_prepares_and_queries(server, node_driver):
    env = dict(os.environ, NODE_PATH=str(CACHE / "node_modules"))
    r = subprocess.run([NODE, str(node_driver), str(server.port)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["applied"] == [True, False]
    assert out["rows"] == ["x"]
    assert out["batch"] == [1, 2]
    assert out["columns"] == ["ck", "id", "v"]
    assert out["keys"] == [["id"], ["ck"]]
