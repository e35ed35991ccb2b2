/** End-to-end: certs/make-certs.sh makes a CA trusted only for its own names, whose key stays out of the deployed files. */
import assert from "assert";
import { makeTestCerts, run } from "./_haproxy.ts";

/** Signs a server certificate for `name` with the CA in `caDir`, as anyone holding its key could. */
async function signFor(caDir: string, dir: string, name: string): Promise<string> {
  const key = `${dir}/${name}-key.pem`;
  const csr = `${dir}/${name}.csr`;
  const cert = `${dir}/${name}.pem`;
  const ext = `${dir}/${name}.cnf`;
  await Deno.writeTextFile(
    ext,
    `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${name}\n`,
  );
  const req = await run("openssl", [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    `/CN=${name}`,
  ]);
  assert.ok(req.success, req.stderr);
  const sign = await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    `${caDir}/ca.pem`,
    "-CAkey",
    `${caDir}/ca-key.pem`,
    "-CAcreateserial",
    "-CAserial",
    `${dir}/ca.srl`,
    "-out",
    cert,
    "-days",
    "2",
    "-extfile",
    ext,
  ]);
  assert.ok(sign.success, sign.stderr);
  return cert;
}

Deno.test("the local CA is constrained to its names: a certificate it signs for another name is refused", async () => {
  await using certs = await makeTestCerts({ names: ["maps.internal", "10.1.2.3"] });

  const ext = await run("openssl", [
    "x509",
    "-noout",
    "-ext",
    "nameConstraints",
    "-in",
    certs.caFile,
  ]);
  assert.ok(ext.success, ext.stderr);
  assert.match(ext.stdout, /Name Constraints: critical/);
  assert.match(
    ext.stdout,
    /Permitted:[\s\S]*DNS:maps\.internal[\s\S]*IP:10\.1\.2\.3\/255\.255\.255\.255/,
  );

  // The certificate made for the server verifies; one for a bank, signed with the same key, not.
  const good = await run("openssl", ["verify", "-CAfile", certs.caFile, certs.certFile]);
  assert.ok(good.success, good.stdout + good.stderr);
  const rogue = await signFor(certs.caDir, certs.dir, "bank.example");
  const bad = await run("openssl", ["verify", "-CAfile", certs.caFile, rogue]);
  assert.equal(bad.success, false, "a certificate for bank.example must not verify");
  assert.match(bad.stdout + bad.stderr, /permitted subtree violation/);
  // A subdomain of a permitted name is inside the constraint.
  const sub = await signFor(certs.caDir, certs.dir, "eu.maps.internal");
  assert.ok((await run("openssl", ["verify", "-CAfile", certs.caFile, sub])).success);
});

Deno.test("a CA made for names only is not trusted for any IP address", async () => {
  await using certs = await makeTestCerts({ names: ["maps.internal"] });
  const ext = await run("openssl", [
    "x509",
    "-noout",
    "-ext",
    "nameConstraints",
    "-in",
    certs.caFile,
  ]);
  assert.match(ext.stdout, /Excluded:[\s\S]*IP:0\.0\.0\.0\/0\.0\.0\.0/);
});

Deno.test("the CA key is written apart from the server's files, and a reused CA refuses other names", async () => {
  await using certs = await makeTestCerts();
  const deployed = [];
  for await (const entry of Deno.readDir(certs.dir)) if (entry.isFile) deployed.push(entry.name);
  assert.deepEqual(deployed.sort(), ["ca.pem", "haproxy.pem", "server-key.pem", "server.pem"]);
  assert.ok((await Deno.stat(`${certs.caDir}/ca-key.pem`)).isFile);
  assert.equal((await Deno.stat(`${certs.caDir}/ca-key.pem`)).mode! & 0o777, 0o600);

  // Reusing that CA (made for localhost 127.0.0.1 ::1) for another name fails with a clear reason.
  const again = await run("sh", [
    new URL("../certs/make-certs.sh", import.meta.url).pathname,
    "--out",
    `${certs.dir}/other`,
    "--ca-dir",
    certs.caDir,
    "maps.example.com",
  ]);
  assert.equal(again.success, false);
  assert.match(again.stderr, /does not vouch for DNS:maps\.example\.com[\s\S]*--new-ca/);
});
