// Interoperability of the browser crypto with the CLI, run by scripts/wasm-interop.sh:
//   node interop.mjs <work dir> <node-pkg dir> <suite>
// The work dir holds key files made by `soshiki keygen` (org-b.key, sender.key, rep.key, all
// under the passphrase in SOSHIKI_PASSPHRASE), cli.skenv (encrypted by `soshiki encrypt` from
// sender to rep) and the plaintexts cover.txt and list.csv. This script
//   1. unlocks the CLI's key files with the wasm Session / OrgKey,
//   2. opens cli.skenv with beginOpen + PartDecryptor (pushed in odd-sized pieces) and compares
//      the bytes with the originals,
//   3. encrypts js.skenv from sender to rep in wasm, for the CLI to decrypt afterwards,
//   4. checks the error contract on a few bad inputs.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const [dir, pkgDir, suite] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const sk = require(join(pkgDir, 'soshiki_wasm.js'));
const pass = process.env.SOSHIKI_PASSPHRASE;
assert.ok(pass, 'SOSHIKI_PASSPHRASE must be set');
const read = (f) => new Uint8Array(readFileSync(join(dir, f)));
const now = Math.floor(Date.now() / 1000);

// The header of an envelope file: footer = u64 BE header length ‖ "SKEND\0\0\1".
function headerOf(file) {
  const footer = file.subarray(file.length - 16);
  assert.equal(new TextDecoder().decode(footer.subarray(8, 13)), 'SKEND');
  const len = Number(new DataView(footer.buffer, footer.byteOffset, 8).getBigUint64(0));
  return file.subarray(file.length - 16 - len, file.length - 16);
}

function expectError(f, code) {
  assert.throws(f, (e) => e instanceof Error && e.message.startsWith(code + ': '),
    `expected a "${code}: …" error`);
}

// 1. Key files made by the CLI.
assert.deepEqual(sk.keyFileInfo(read('rep.key')), { suite, kind: 'member' });
assert.deepEqual(sk.keyFileInfo(read('org-b.key')), { suite, kind: 'organization' });
const rep = sk.Session.unlock(read('rep.key'), pass);
const sender = sk.Session.unlock(read('sender.key'), pass);
assert.equal(rep.memberName, 'rep');
assert.deepEqual(rep.roles, ['representative']);
assert.equal(rep.suite, suite);
assert.equal(typeof rep.notAfter, 'number');
const orgKey = sk.OrgKey.unlock(read('org-b.key'), pass);
assert.equal(orgKey.orgId, rep.orgId);
const orgInfo = sk.organizationInfo(rep.organizationRecord());
assert.equal(orgInfo.id, rep.orgId);
assert.equal(orgInfo.name, 'Org B 福祉課');
const member = sk.verifyMember(rep.organizationRecord(), rep.certificate(), now);
assert.equal(member.certId, rep.certId);
expectError(() => sk.Session.unlock(read('rep.key'), 'wrong passphrase'), 'wrong-passphrase');
expectError(() => sk.verifyMember(sender.organizationRecord(), rep.certificate(), now), 'untrusted');

// 2. Open the CLI's envelope in constant-size pieces.
const cliFile = read('cli.skenv');
const opener = rep.beginOpen(headerOf(cliFile), now);
const info = opener.info();
assert.equal(info.title, '敬老会 名簿');
assert.equal(info.category, 'keirokai');
assert.equal(info.senderName, 'sender');
const originals = { 'cover.txt': read('cover.txt'), 'list.csv': read('list.csv') };
assert.equal(info.parts.length, 2);
for (const p of info.parts) {
  const want = originals[p.name];
  assert.ok(want, `unexpected part name ${p.name}`);
  assert.equal(p.length, want.length);
  for (const piece of [1000, 4112, 65536]) {
    const d = opener.part(p.index);
    const body = cliFile.subarray(p.offset, p.offset + p.cipherLength);
    const chunks = [];
    for (let i = 0; i < body.length; i += piece) chunks.push(d.push(body.subarray(i, i + piece)));
    chunks.push(d.finish());
    d.free();
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(want), `part ${p.name} (pieces of ${piece})`);
  }
}
assert.equal(info.parts.find((p) => p.name === 'list.csv').labels.district, 'Omachi');
// A flipped body byte: the decryptor refuses and releases no last chunk.
{
  const p = info.parts[0];
  const body = Uint8Array.from(cliFile.subarray(p.offset, p.offset + p.cipherLength));
  body[body.length - 1] ^= 1;
  const d = opener.part(p.index);
  expectError(() => { d.push(body); d.finish(); }, 'decrypt-failed');
  d.free();
}
opener.free();

// 3. Encrypt in wasm for the CLI.
const enc = sender.encrypt({
  recipientOrg: rep.organizationRecord(),
  recipientCert: rep.certificate(),
  title: 'ブラウザから',
  category: 'interop',
  parts: [
    { name: 'cover.txt', labels: { kind: 'cover' }, data: originals['cover.txt'] },
    { name: 'list.csv', labels: { district: 'Omachi', kind: 'list' }, data: originals['list.csv'] },
  ],
}, now);
assert.equal(enc.envelopeId.length, 32);
assert.deepEqual(headerOf(enc.envelope), enc.header);
assert.equal(enc.bodiesOffset + enc.bodiesLength + enc.header.length + 16, enc.envelope.length);
writeFileSync(join(dir, 'js.skenv'), enc.envelope);
// The action statement for the upload is a base64 string.
assert.match(sender.actionSend(enc.envelopeId, rep.certId, enc.header), /^[A-Za-z0-9+/]+=*$/);

// 4. The error contract.
expectError(() => sk.organizationInfo(new Uint8Array([1, 2, 3])), 'malformed');
expectError(() => sender.encrypt({ recipientOrg: 'nope' }, now), 'invalid');
expectError(() => sk.testRules(['district=A'], [], ''), 'invalid');
expectError(() => sender.beginOpen(headerOf(cliFile), now), 'untrusted');
rep.free();
sender.free();
orgKey.free();
console.log(`interop.mjs (${suite}): CLI key files unlocked, CLI envelope opened, js.skenv written`);
