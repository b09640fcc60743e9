// Throughput of the browser crypto (crates/soshiki-wasm) for envelope bodies, in Node.
// A benchmark, not a test: it prints numbers and checks only that the decrypted bytes match.
//
//   SOSHIKI_WASM_NODE=1 scripts/build-web.sh      # builds target/wasm/node-pkg
//   node scripts/wasm-speed.mjs [--pkg DIR] [--mib N] [--repeat N] [--piece BYTES] [--cli PATH]
//
// Defaults: --pkg target/wasm/node-pkg, --mib 64, --repeat 3, --piece 1048576 (the size of the
// pieces pushed into PartDecryptor, like the chunks of a fetch() stream), --cli target/debug/soshiki
// (used once to make the organization and member keys, with --kdf-min).
// Output: the .wasm size (raw and gzip -9), then encrypt and decrypt MiB/s for each run and the
// best of the runs (on a shared 2-core machine the run-to-run noise is about ±20 %).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { randomFillSync } from 'node:crypto';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opts = { pkg: join(root, 'target/wasm/node-pkg'), mib: 64, repeat: 3, piece: 1 << 20,
  cli: join(root, 'target/debug/soshiki') };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const name = args[i].replace(/^--/, '');
  if (!(name in opts) || args[i + 1] === undefined) {
    console.error(`wasm-speed: unknown or incomplete option ${args[i]}`);
    console.error('usage: node scripts/wasm-speed.mjs [--pkg DIR] [--mib N] [--repeat N] [--piece BYTES] [--cli PATH]');
    process.exit(2);
  }
  opts[name] = typeof opts[name] === 'number' ? Number(args[i + 1]) : resolve(args[i + 1]);
}

const wasmPath = join(opts.pkg, 'soshiki_wasm_bg.wasm');
const wasmBytes = readFileSync(wasmPath);
const raw = statSync(wasmPath).size;
const gz = gzipSync(wasmBytes, { level: 9 }).length;
console.log(`wasm: ${wasmPath}: ${raw} bytes raw, ${gz} bytes gzip -9`);

// Keys: org A (sender) and org B (recipient), made by the CLI with the cheapest KDF.
const pass = 'wasm-speed passphrase';
const work = mkdtempSync(join(tmpdir(), 'wasm-speed-'));
let sender;
let rep;
try {
  const sk = (...a) => execFileSync(opts.cli, ['--kdf-min', ...a],
    { cwd: work, env: { ...process.env, SOSHIKI_PASSPHRASE: pass, LANG: 'C' }, stdio: 'pipe' });
  sk('keygen', 'org', '--name', 'Org A', '--suite', 'p256', '-o', 'org-a.key');
  sk('keygen', 'org', '--name', 'Org B', '--suite', 'p256', '-o', 'org-b.key');
  sk('keygen', 'member', '--name', 'sender', '--roles', 'reader', '--org-key', 'org-a.key',
    '-o', 'sender.key');
  sk('keygen', 'member', '--name', 'rep', '--roles', 'representative', '--org-key', 'org-b.key',
    '-o', 'rep.key');
  const require = createRequire(import.meta.url);
  const wasm = require(join(opts.pkg, 'soshiki_wasm.js'));
  sender = wasm.Session.unlock(new Uint8Array(readFileSync(join(work, 'sender.key'))), pass);
  rep = wasm.Session.unlock(new Uint8Array(readFileSync(join(work, 'rep.key'))), pass);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const size = opts.mib * 1024 * 1024;
// Random data (not compressible, not all zeros); filled in 64 KiB steps (randomFillSync's limit).
const data = new Uint8Array(size);
for (let i = 0; i < size; i += 65536) randomFillSync(data, i, Math.min(65536, size - i));
const now = Math.floor(Date.now() / 1000);

function headerOf(file) {
  const footer = file.subarray(file.length - 16);
  const len = Number(new DataView(footer.buffer, footer.byteOffset, 8).getBigUint64(0));
  return file.subarray(file.length - 16 - len, file.length - 16);
}

const mibs = (ms) => (opts.mib / (ms / 1000)).toFixed(1);
let bestEnc = 0;
let bestDec = 0;
for (let run = 1; run <= opts.repeat; run++) {
  let t = performance.now();
  const enc = sender.encrypt({
    recipientOrg: rep.organizationRecord(),
    recipientCert: rep.certificate(),
    title: 'speed',
    category: 'bench',
    parts: [{ name: 'data.bin', labels: {}, data }],
  }, now);
  const encMs = performance.now() - t;

  t = performance.now();
  const opener = rep.beginOpen(headerOf(enc.envelope), now);
  const part = opener.info().parts[0];
  const body = enc.envelope.subarray(part.offset, part.offset + part.cipherLength);
  const d = opener.part(part.index);
  let pos = 0;
  const check = (plain) => {
    // Compare in place so that the check costs one pass, not a copy.
    if (pos + plain.length > size || Buffer.compare(plain, data.subarray(pos, pos + plain.length)) !== 0) {
      throw new Error(`wasm-speed: decrypted bytes differ at ${pos}`);
    }
    pos += plain.length;
  };
  let checkMs = 0;
  for (let i = 0; i < body.length; i += opts.piece) {
    const plain = d.push(body.subarray(i, i + opts.piece));
    const c = performance.now();
    check(plain);
    checkMs += performance.now() - c;
  }
  const last = d.finish();
  const c = performance.now();
  check(last);
  checkMs += performance.now() - c;
  const decMs = performance.now() - t - checkMs;
  d.free();
  opener.free();
  if (pos !== size) throw new Error(`wasm-speed: decrypted ${pos} bytes, want ${size}`);

  const e = opts.mib / (encMs / 1000);
  const dd = opts.mib / (decMs / 1000);
  bestEnc = Math.max(bestEnc, e);
  bestDec = Math.max(bestDec, dd);
  console.log(`run ${run}: encrypt ${opts.mib} MiB in ${encMs.toFixed(0)} ms = ${mibs(encMs)} MiB/s; `
    + `decrypt in ${decMs.toFixed(0)} ms = ${mibs(decMs)} MiB/s`);
}
sender.free();
rep.free();
console.log(`best: encrypt ${bestEnc.toFixed(1)} MiB/s, decrypt ${bestDec.toFixed(1)} MiB/s `
  + `(${raw} bytes raw, ${gz} gzip)`);
