// Drives rdb with @libsql/client (npm) over Hrana HTTP; run by
// hrana_node_test.go as: node libsql_client.mjs <url>. Prints "OK" and
// exits 0 when every check passes; throws (exit 1) otherwise.
import { createClient } from "@libsql/client";
import assert from "node:assert/strict";

const url = process.argv[2];
const client = createClient({ url, intMode: "bigint" });

await client.execute("CREATE TABLE v (i INTEGER, f REAL, s TEXT, b BLOB, n)");

// Typed values, positional and named arguments.
await client.execute({ sql: "INSERT INTO v VALUES (?, ?, ?, ?, ?)",
  args: [9007199254740993n, 2.5, "héllo", new Uint8Array([0, 1, 254, 255]), null] });
await client.execute({ sql: "INSERT INTO v VALUES (:i, :f, :s, :b, :n)",
  args: { i: 7n, f: -0.25, s: "", b: new Uint8Array([]), n: null } });
let rs = await client.execute("SELECT i, f, s, b, n FROM v ORDER BY rowid");
assert.equal(rs.rows.length, 2);
assert.equal(rs.rows[0].i, 9007199254740993n);
assert.equal(rs.rows[0].f, 2.5);
assert.equal(rs.rows[0].s, "héllo");
assert.deepEqual([...new Uint8Array(rs.rows[0].b)], [0, 1, 254, 255]);
assert.equal(rs.rows[0].n, null);
assert.equal(rs.rows[1].i, 7n);
assert.equal(rs.rows[1].s, "");
assert.equal(rs.columns.join(","), "i,f,s,b,n");

await client.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT UNIQUE, bal INTEGER)");

// transaction("write") with commit: own writes visible inside, an SQL
// error keeps it usable, nothing visible outside before commit.
let tx = await client.transaction("write");
await tx.execute({ sql: "INSERT INTO acct (owner, bal) VALUES (?, ?)", args: ["ann", 100n] });
rs = await tx.execute("SELECT bal FROM acct WHERE owner = 'ann'");
assert.equal(rs.rows[0].bal, 100n);
await assert.rejects(tx.execute("INSERT INTO acct (owner, bal) VALUES ('ann', 1)"),
  (e) => e.code === "SQLITE_CONSTRAINT" || /UNIQUE/.test(String(e)));
await tx.execute("INSERT INTO acct (owner, bal) VALUES ('bob', 50)");
rs = await client.execute("SELECT COUNT(*) AS c FROM acct");
assert.equal(rs.rows[0].c, 0n);
await tx.commit();
rs = await client.execute("SELECT SUM(bal) AS s FROM acct");
assert.equal(rs.rows[0].s, 150n);

// transaction("write") with rollback: invisible.
tx = await client.transaction("write");
await tx.execute("UPDATE acct SET bal = 0");
await tx.rollback();
rs = await client.execute("SELECT SUM(bal) AS s FROM acct");
assert.equal(rs.rows[0].s, 150n);

// transaction("read") refuses writes.
tx = await client.transaction("read");
await assert.rejects(tx.execute("DELETE FROM acct"));
tx.close();

// batch: all or nothing.
await client.batch([
  { sql: "INSERT INTO acct (owner, bal) VALUES (?, ?)", args: ["cy", 10n] },
  "UPDATE acct SET bal = bal - 10 WHERE owner = 'ann'",
], "write");
await assert.rejects(client.batch([
  "UPDATE acct SET bal = bal + 1000 WHERE owner = 'ann'",
  "INSERT INTO nope VALUES (1)",
], "write"));
rs = await client.execute("SELECT SUM(bal) AS s, COUNT(*) AS c FROM acct");
assert.equal(rs.rows[0].s, 150n);
assert.equal(rs.rows[0].c, 3n);

// executeMultiple.
await client.executeMultiple("CREATE TABLE m (x); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2);");
rs = await client.execute("SELECT group_concat(x) AS g FROM m");
assert.equal(rs.rows[0].g, "1,2");

// 10,000 rows.
await client.execute("CREATE TABLE big (x INTEGER)");
await client.execute("INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) SELECT x FROM c");
rs = await client.execute("SELECT x FROM big ORDER BY x");
assert.equal(rs.rows.length, 10000);
assert.equal(rs.rows[9999].x, 10000n);

// A second writer waits for the first transaction (or gets SQLITE_BUSY),
// never interleaving with it.
const other = createClient({ url, intMode: "bigint" });
const t1 = await client.transaction("write");
await t1.execute("INSERT INTO m VALUES (10)");
const second = (async () => {
  const t2 = await other.transaction("write");
  await t2.execute("INSERT INTO m VALUES (20)");
  await t2.commit();
})();
await new Promise((r) => setTimeout(r, 200));
await t1.execute("INSERT INTO m VALUES (11)");
await t1.commit();
let secondErr = null;
try { await second; } catch (e) { secondErr = e; }
if (secondErr !== null) {
  assert.ok(secondErr.code === "SQLITE_BUSY" || /locked/.test(String(secondErr)), String(secondErr));
}
rs = await client.execute("SELECT group_concat(x) AS g FROM (SELECT x FROM m ORDER BY rowid)");
assert.equal(rs.rows[0].g, secondErr === null ? "1,2,10,11,20" : "1,2,10,11");
other.close();
client.close();
console.log("OK");
