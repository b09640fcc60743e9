// End-to-end tests of the Soshiki web UI in headless Debian Chromium (playwright-core, no
// browser download). Run by scripts/e2e.sh, which starts `soshiki serve --demo` and sets:
//   SOSHIKI_URL        the server (http://127.0.0.1:PORT)
//   SOSHIKI_DATA       its data directory (demo key files in demo/SCENARIO/*.key)
//   SOSHIKI_BIN        the soshiki binary (interoperability with the CLI)
//   SOSHIKI_WORK       a scratch directory
//   SOSHIKI_ARTIFACTS  where screenshots and downloads go
// Every context has a request recorder: the run fails if any request leaves 127.0.0.1 or if any
// request (URL, headers, body, and every base64 value inside a JSON body or a header) contains
// the passphrase, a key file, or a plaintext row.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const BASE = need('SOSHIKI_URL');
const DATA = need('SOSHIKI_DATA');
const BIN = need('SOSHIKI_BIN');
const WORK = need('SOSHIKI_WORK');
const ART = need('SOSHIKI_ARTIFACTS');
const PASS = fs.readFileSync(path.join(DATA, 'demo', 'passphrase.txt'), 'utf8').trim();
const PASS_FILE = path.join(DATA, 'demo', 'passphrase.txt');
const STEP_TIMEOUT = 60_000;
fs.mkdirSync(WORK, { recursive: true });
fs.rmSync(ART, { recursive: true, force: true });
fs.mkdirSync(ART, { recursive: true });

function need(name) {
  const v = process.env[name];
  if (!v) { console.error(`${name} is not set (run scripts/e2e.sh)`); process.exit(2); }
  return v;
}

const keyPath = (scenario, tag) => path.join(DATA, 'demo', scenario, `${tag}.key`);

// ---------------------------------------------------------------------------------------------
// Secrets the network must never see.

const secrets = [{ label: 'passphrase', bytes: Buffer.from(PASS, 'utf8') }];
function addSecret(label, bytes) {
  const b = Buffer.from(bytes);
  if (b.length >= 8) secrets.push({ label, bytes: b });
}
for (const scen of ['omachi', 'wrong-recipient']) {
  for (const f of fs.readdirSync(path.join(DATA, 'demo', scen))) {
    if (f.endsWith('.key') || f.endsWith('.orgkey')) addSecret(`key file ${scen}/${f}`, fs.readFileSync(path.join(DATA, 'demo', scen, f)));
  }
}
function addPlaintextRows(label, text) {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter(Boolean);
  for (const line of lines.slice(1)) addSecret(`${label}: ${line.slice(0, 30)}`, Buffer.from(line, 'utf8'));
}

function maybeBase64(s) {
  if (typeof s !== 'string' || s.length < 12 || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return null;
  return Buffer.from(s, 'base64');
}

function jsonStrings(v, out) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => jsonStrings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => jsonStrings(x, out));
  return out;
}

class Recorder {
  constructor(name) {
    this.name = name;
    this.requests = 0;
    this.bodies = 0;
    this.violations = [];
    this.seen = [];
  }

  attach(context) {
    context.on('request', (req) => {
      try { this.check(req); } catch (e) { this.violations.push(`recorder failed on ${req.url()}: ${e}`); }
    });
  }

  check(req) {
    this.requests++;
    const url = new URL(req.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:') return;
    if (!['http:', 'https:'].includes(url.protocol) || url.hostname !== '127.0.0.1') {
      this.violations.push(`request leaves 127.0.0.1: ${req.method()} ${req.url()}`);
    }
    const blobs = [Buffer.from(decodeURIComponent(req.url()), 'utf8')];
    for (const [k, v] of Object.entries(req.headers())) {
      blobs.push(Buffer.from(`${k}: ${v}`, 'utf8'));
      const d = maybeBase64(v);
      if (d) blobs.push(d);
    }
    const body = req.postDataBuffer();
    if (body && body.length) {
      this.bodies++;
      blobs.push(body);
      if (body[0] === 0x7b) {
        try {
          for (const s of jsonStrings(JSON.parse(body.toString('utf8')), [])) {
            const d = maybeBase64(s);
            if (d) blobs.push(d);
          }
        } catch (_) { /* not JSON */ }
      }
    }
    this.seen.push({ what: `${req.method()} ${url.pathname}`, blobs });
  }

  /** Every request seen so far against every secret known now. */
  scan() {
    for (const { what, blobs } of this.seen) {
      for (const b of blobs) {
        for (const s of secrets) {
          if (b.includes(s.bytes)) this.violations.push(`${what} carries ${s.label}`);
        }
      }
    }
    return this.violations;
  }
}

// The recorder itself must catch what it is for.
function recorderSelfTest() {
  const r = new Recorder('self-test');
  const fake = (url, body, headers = {}) => ({ url: () => url, method: () => 'POST', headers: () => headers, postDataBuffer: () => (body ? Buffer.from(body) : null) });
  r.check(fake('http://127.0.0.1:1/v1/x', `{"x":"${Buffer.from(`..${PASS}..`).toString('base64')}"}`));
  r.check(fake('https://cdn.example/x.js', null));
  r.check(fake('http://127.0.0.1:1/v1/y', null, { 'soshiki-action': Buffer.from(`prefix${PASS}suffix`).toString('base64') }));
  r.check(fake('http://127.0.0.1:1/v1/z', 'harmless'));
  const v = r.scan();
  assert.equal(v.length, 3, `recorder self-test: ${JSON.stringify(v)}`);
}

// ---------------------------------------------------------------------------------------------
// Browser helpers.

let browser;
const recorders = [];
const pageErrors = [];

async function newMember(name) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1366, height: 768 }, locale: 'ja-JP' });
  context.setDefaultTimeout(STEP_TIMEOUT);
  const rec = new Recorder(name);
  rec.attach(context);

  recorders.push(rec);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) console.log(`  [${name} console] ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) console.log(`  [${name}] ${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`); });
  await page.goto(`${BASE}/`);
  await page.waitForSelector('html[data-ready="1"]');
  const crypto = await page.getAttribute('html', 'data-crypto');
  assert.equal(crypto, 'ready', 'the browser crypto module must load (run scripts/build-web.sh)');
  return { name, context, page, rec };
}

let shot = 0;
async function screenshot(m, label) {
  shot++;
  const file = path.join(ART, `${String(shot).padStart(2, '0')}-${label}.png`);
  await m.page.screenshot({ path: file, fullPage: true });
}

async function go(m, hash, selector) {
  await m.page.evaluate((h) => {
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = h;
  }, hash);
  if (selector) await m.page.waitForSelector(selector);
}

async function expectOk(m, scope = '') {
  const sel = `${scope} .status.ok, ${scope} .status.error`;
  await m.page.waitForSelector(sel);
  const err = await m.page.$(`${scope} .status.error`);
  if (err) throw new Error(`${m.name}: ${await err.textContent()}`);
}

/** Import a key file through the UI's import page, then unlock it by keyboard. */
async function importAndUnlock(m, file) {
  if (await m.page.isVisible('#lock-button')) await m.page.click('#lock-button');
  await go(m, '#/setup', '#import-form');
  await m.page.setInputFiles('#import-form input[type=file]', file);
  // Keyboard: the passphrase typed once; Enter imports and unlocks (no second passphrase).
  await m.page.focus('#import-form input[name=import-passphrase]');
  await m.page.keyboard.type(PASS);
  await m.page.keyboard.press('Enter');
  await m.page.waitForSelector('.page-inbox #inbox-table');
  // The key file is in IndexedDB exactly as on disk (passphrase-protected), nowhere else.
  const stored = await m.page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('soshiki');
    r.onsuccess = () => {
      const all = r.result.transaction('keys').objectStore('keys').getAll();
      all.onsuccess = () => resolve(all.result.map((k) => Array.from(k.file)));
      all.onerror = () => reject(all.error);
    };
    r.onerror = () => reject(r.error);
  }));
  const disk = fs.readFileSync(file);
  assert.ok(stored.some((b) => Buffer.from(b).equals(disk)), `${file} is stored in IndexedDB as the same key file`);
}

async function storedKeyFiles(m) {
  const files = await m.page.evaluate(() => new Promise((resolve, reject) => {
    const r = indexedDB.open('soshiki');
    r.onsuccess = () => {
      const all = r.result.transaction('keys').objectStore('keys').getAll();
      all.onsuccess = () => resolve(all.result.map((k) => Array.from(k.file)));
      all.onerror = () => reject(all.error);
    };
    r.onerror = () => reject(r.error);
  }));
  return files.map((f) => Buffer.from(f));
}

async function orgFingerprint(keyFile) {
  const out = execFileSync(BIN, ['--lang', 'en', '--passphrase-file', PASS_FILE, 'org', 'fingerprint', keyFile], { encoding: 'utf8' });
  const m = /[0-9a-f]{64}/.exec(out.replace(/[\s:]/g, ''));
  assert.ok(m, `org fingerprint output: ${out}`);
  return m[0];
}

async function pinOrg(m, fp) {
  await go(m, '#/orgs', '#pin-form');
  await m.page.fill('#pin-fp', fp);
  await m.page.click('#pin-form button[type=submit]');
  await m.page.check('#pin-same');
  await m.page.click('#pin-button');
  // The confirmation, not the list: a member whose pins were restored from the server at unlock
  // already has a list before this pin is saved.
  await m.page.waitForSelector('#pin-done');
  assert.ok(await m.page.$(`#pinned-orgs`), `${m.name}: the pinned list is shown`);
}

async function confirm(m) {
  await m.page.waitForSelector('dialog[open] button.primary');
  await m.page.click('dialog[open] button.primary');
}

async function send(m, { orgId, title, category, files, split, labels, text, beforeSend }) {
  await go(m, '#/send', '#send-form');
  await m.page.selectOption('#send-org', orgId);
  await m.page.waitForSelector('input[name=rep]');
  await m.page.fill('#send-title', title);
  await m.page.fill('#send-category', category || '');
  if (text) await m.page.fill('#send-text', text);
  if (labels) await m.page.fill('#send-labels', labels);
  await m.page.setInputFiles('#send-files', files);
  if (split) {
    const sel = `select[data-file="${split.file}"]`;
    await m.page.waitForSelector(sel);
    await m.page.selectOption(sel, { label: split.column });
  }
  if (beforeSend) await beforeSend();
  await m.page.click('#send-button');
  await confirm(m);
  await m.page.waitForFunction(() => document.querySelector('#send-form')?.dataset.sent
    || document.querySelector('#send-form .status.error'));
  await expectOk(m, '#send-form');
  return m.page.getAttribute('#send-form', 'data-sent');
}

/** The inbox row of `title` (reloading until it appears); returns its delivery id. */
async function findDelivery(m, title, { status } = {}) {
  await go(m, '#/inbox', '#inbox-table');
  for (let i = 0; i < 20; i++) {
    const id = await m.page.evaluate(({ title, status }) => {
      for (const tr of document.querySelectorAll('#inbox-table tbody tr[data-delivery]')) {
        if (tr.textContent.includes(title) && (!status || tr.dataset.status === status)) return tr.dataset.delivery;
      }
      return null;
    }, { title, status });
    if (id) return id;
    await m.page.waitForTimeout(500);
    await m.page.click('.page-inbox .toolbar button');
  }
  throw new Error(`${m.name}: no delivery "${title}" (${status || 'any status'}) in the inbox`);
}

/** Choose, for each part (by its name), the member whose name the option starts with. */
async function forward(m, deliveryId, assignments) {
  await go(m, `#/forward/${deliveryId}`, '#forward-parts');
  for (const [partName, memberName] of Object.entries(assignments)) {
    const ok = await m.page.evaluate(({ partName, memberName }) => {
      for (const tr of document.querySelectorAll('#forward-parts tbody tr')) {
        if (!tr.textContent.includes(partName)) continue;
        const sel = tr.querySelector('select');
        const opt = [...sel.options].find((o) => o.textContent.startsWith(memberName));
        if (!opt) return `no member ${memberName}`;
        sel.value = opt.value;
        sel.dispatchEvent(new Event('change'));
        return 'ok';
      }
      return `no part ${partName}`;
    }, { partName, memberName });
    assert.equal(ok, 'ok', `${m.name}: forward ${partName} -> ${memberName}`);
  }
  await m.page.click('#forward-button');
  await confirm(m);
  await expectOk(m, '.page-forward');
  await m.page.waitForSelector('#forwards-made');
}

async function recall(m, parentId, holderName) {
  await go(m, `#/forward/${parentId}`, '#forwards-made');
  const btn = m.page.locator('#forwards-made tbody tr', { hasText: holderName }).locator('button[data-recall]');
  await btn.first().click();
  await confirm(m);
  await expectOk(m, '.page-forward');
}

/** Recall one part alone of the forward to `holderName` (the other parts stay delivered). */
async function recallPart(m, parentId, holderName, partName) {
  await go(m, `#/forward/${parentId}`, '#forwards-made');
  const row = m.page.locator('#forwards-made tbody tr', { hasText: holderName });
  await row.locator('button[data-recall][data-parts]:not([data-parts=""])', { hasText: partName }).click();
  await confirm(m);
  await expectOk(m, '.page-forward');
}

/** Open a delivery and save part `partName`; returns the downloaded bytes. */
async function openAndSave(m, deliveryId, partName, mode) {
  await go(m, `#/open/${deliveryId}`, '#open-parts');
  // The save method is behind a toggle (automatic for clerks); tests choose it explicitly.
  if (!await m.page.isVisible('#save-mode')) await m.page.click('#save-options summary');
  await m.page.selectOption('#save-mode', mode);
  const btn = m.page.locator('#open-parts tbody tr', { hasText: partName }).locator('button');
  const [download] = await Promise.all([m.page.waitForEvent('download'), btn.click()]);
  const file = path.join(ART, `download-${m.name}-${partName}`);
  await download.saveAs(file);
  await m.page.waitForSelector('#open-parts button[data-saved="1"]');
  await expectOk(m, '.page-open');
  return fs.readFileSync(file);
}

function cli(args, opts = {}) {
  return execFileSync(BIN, ['--lang', 'en', '--passphrase-file', PASS_FILE, ...args], { encoding: 'utf8', ...opts });
}

function cliConn(stateName) {
  return ['--server', BASE, '--state', path.join(WORK, `state-${stateName}`)];
}

// ---------------------------------------------------------------------------------------------
// Accessibility: axe-core (npm) in the page, WCAG 2.1 A and AA rules. The page's strict CSP
// forbids inline scripts, so the engine is evaluated through the debugging protocol.

const AXE_SOURCE = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const a11yReport = [];

/** Run axe on the current page; fail on any serious or critical violation. */
async function checkA11y(m, label) {
  await m.page.evaluate(AXE_SOURCE);
  const violations = await m.page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  a11yReport.push({ page: label, violations });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${label}: serious or critical accessibility violations`);
}

// ---------------------------------------------------------------------------------------------
// Data.

function csvFor(districts, rowsEach) {
  const lines = ['番号,氏名,住所,district'];
  let n = 1;
  for (const [tag, ja] of districts) {
    for (let i = 0; i < rowsEach; i++, n++) {
      lines.push(`${tag}-${String(n).padStart(4, '0')},架空 太郎${n},架空県${ja}町${n}番地,${tag}`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

function splitExpected(text, column) {
  const rows = text.split('\r\n').filter(Boolean);
  const header = rows[0];
  const col = header.split(',').indexOf(column);
  const groups = new Map();
  for (const r of rows.slice(1)) {
    const v = r.split(',')[col];
    if (!groups.has(v)) groups.set(v, [header]);
    groups.get(v).push(r);
  }
  return new Map([...groups].map(([v, lines]) => [v, Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')]));
}

/**
 * An Excel export from Japanese Windows ("CSV (コンマ区切り)" = Shift_JIS / CP932, CRLF), as
 * hex so that no encoder library is needed: [district, readable text, CP932 bytes] per record.
 * It has characters whose second byte is ASCII (表 95 5C, ソ 83 5C, 十 8F 5C, ポ 83 7C,
 * ① 87 40), half-width katakana, a quoted address with a comma, a quoted note with a line
 * break and doubled quotes.
 */
const CP932_EXPORT = [
  [null, '番号,氏名,フリガナ,住所,地区,備考', '94d48d862c8e8196bc2c8374838a834b83692c8f5a8f8a2c926e8be62c94f58d6c0d0a'],
  ['大町', '1001,架空 太郎,カクウ タロウ,大町市大町1-1,大町,', '313030312c89cb8bf32091be98592c834a834e834520835e838d83452c91e592ac8e7391e592ac312d312c91e592ac2c0d0a'],
  ['八坂', '1002,架空 花子,カクウ ハナコ,"大町市八坂2-2, 表町",八坂,表示確認', '313030322c89cb8bf32089d48e712c834a834e834520836e836983522c2291e592ac8e7394aa8de2322d322c20955c92ac222c94aa8de22c955c8ea68a6d94460d0a'],
  ['美麻', '1003,架空 相馬,カクウ ソウマ,大町市美麻3-3,美麻,"一行目\r\n二行目"', '313030332c89cb8bf320918a946e2c834a834e834520835c8345837d2c91e592ac8e7394fc9683332d332c94fc96832c2288ea8d7396da0d0a93f18d7396da220d0a'],
  ['大町', '1004,架空 次郎,カクウ ジロウ,大町市大町4-4,大町,ソ', '313030342c89cb8bf3208e9f98592c834a834e8345208357838d83452c91e592ac8e7391e592ac342d342c91e592ac2c835c0d0a'],
  ['八坂', '1005,架空 三郎,カクウ サブロウ,大町市八坂5-5,八坂,"""要確認"" 表"', '313030352c89cb8bf3208e4f98592c834a834e83452083548375838d83452c91e592ac8e7394aa8de2352d352c94aa8de22c22222297768a6d9446222220955c220d0a'],
  ['美麻', '1006,架空 四郎,カクウ シロウ,大町市美麻6-6,美麻,①', '313030362c89cb8bf3208e6c98592c834a834e8345208356838d83452c91e592ac8e7394fc9683362d362c94fc96832c87400d0a'],
  ['大町', '1007,架空 五郎,カクウ ゴロウ,大町市大町7-7,大町,ﾊﾝｶｸ', '313030372c89cb8bf3208cdc98592c834a834e8345208353838d83452c91e592ac8e7391e592ac372d372c91e592ac2ccaddb6b80d0a'],
  ['八坂', '1008,架空 六郎,カクウ ロクロウ,大町市八坂8-8,八坂,十', '313030382c89cb8bf320985a98592c834a834e834520838d834e838d83452c91e592ac8e7394aa8de2382d382c94aa8de22c8f5c0d0a'],
  ['美麻', '1009,架空 七郎,カクウ シチロウ,大町市美麻9-9,美麻,ポ', '313030392c89cb8bf3208eb598592c834a834e83452083568360838d83452c91e592ac8e7394fc9683392d392c94fc96832c837c0d0a'],
];

/** The whole CP932 file, and per district the bytes its part must have (header + its rows). */
function cp932Export() {
  const bytes = (hex) => Buffer.from(hex, 'hex');
  const [header, ...rows] = CP932_EXPORT;
  const file = Buffer.concat(CP932_EXPORT.map((r) => bytes(r[2])));
  const parts = new Map();
  for (const [district, , hex] of rows) {
    if (!parts.has(district)) parts.set(district, [bytes(header[2])]);
    parts.get(district).push(bytes(hex));
  }
  return { file, rows: rows.map((r) => bytes(r[2])), parts: new Map([...parts].map(([d, b]) => [d, Buffer.concat(b)])) };
}

// ---------------------------------------------------------------------------------------------
// Tests.

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('omachi: send a CSV split per district, forward per district, recall and re-forward, open', async () => {
  const sender = await newMember('omachi-sender');
  const rep = await newMember('omachi-rep');
  const reader = await newMember('omachi-reader');
  await importAndUnlock(sender, keyPath('omachi', 'pref-sender'));
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  // The demo seeds samples, so this inbox is not empty (the empty text is checked on a new member).
  await screenshot(rep, 'omachi-rep-inbox-unlocked');

  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  await pinOrg(sender, cityFp);
  await screenshot(sender, 'omachi-sender-pinned');

  const csv = csvFor([['Omachi', '大町'], ['Yasaka', '八坂'], ['Miasa', '美麻']], 6);
  addPlaintextRows('omachi csv', csv);
  const expected = splitExpected(csv, 'district');
  const title = '令和7年度 敬老会 対象者名簿 (e2e)';
  const envelopeId = await send(sender, {
    orgId: cityFp, title, category: 'keirokai',
    files: [{ name: 'taishosha.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') }],
    split: { file: 'taishosha.csv', column: 'district' },
  });
  assert.match(envelopeId, /^[0-9a-f]{32}$/);
  await screenshot(sender, 'omachi-sender-sent');

  // The representative forwards per district, Yasaka by mistake to the Miasa officer.
  const repDelivery = await findDelivery(rep, title, { status: 'delivered' });
  await rep.page.waitForSelector(`tr[data-delivery="${repDelivery}"] .tag`);
  await screenshot(rep, 'omachi-rep-inbox');
  await forward(rep, repDelivery, {
    'taishosha_Omachi.csv': '大町地区 担当',
    'taishosha_Yasaka.csv': '美麻地区 担当',
    'taishosha_Miasa.csv': '美麻地区 担当',
  });
  await screenshot(rep, 'omachi-rep-forwarded');
  // 取り消し: recall only the wrongly sent Yasaka part (the Miasa part, sent in the same
  // action, stays delivered), then re-forward Yasaka correctly.
  await recallPart(rep, repDelivery, '美麻地区 担当', 'taishosha_Yasaka.csv');
  // Only Yasaka is forwardable again; the forwards of the other parts still name their files.
  const history = await rep.page.innerText('#forwards-made');
  assert.ok(history.includes('taishosha_Omachi.csv') && history.includes('taishosha_Miasa.csv') && !/番目のファイル/.test(history), history);
  await screenshot(rep, 'omachi-rep-recalled-one-part');
  await forward(rep, repDelivery, {
    'taishosha_Yasaka.csv': '八坂地区 担当',
  });
  await screenshot(rep, 'omachi-rep-reforwarded');
  // Every part forwarded: the representative's inbox still shows the title and the part names
  // (its metadata copy, sealed to its own key), not an anonymous sealed row.
  const done = await findDelivery(rep, title, { status: 'forwarded' });
  assert.equal(done, repDelivery);
  await rep.page.waitForSelector(`tr[data-delivery="${repDelivery}"] td.title strong`);
  const row = await rep.page.locator(`tr[data-delivery="${repDelivery}"]`).innerText();
  assert.ok(row.includes('taishosha_Yasaka.csv'), `part names after forwarding: ${row}`);
  assert.equal(await rep.page.locator(`tr[data-delivery="${repDelivery}"] td.title .tag`).innerText(), 'keirokai', 'the category after forwarding');
  await screenshot(rep, 'omachi-rep-inbox-after-forwarding');
  // The forward page, nothing left to forward: the title card (from the metadata copy) and the
  // forwards made, by part name.
  await go(rep, `#/forward/${repDelivery}`, '#forwards-made');
  assert.equal(await rep.page.locator('#forward-parts').count(), 0, 'nothing left to forward');
  assert.ok((await rep.page.locator('.page-forward section.card h2').first().innerText()).includes(title));
  const made = await rep.page.innerText('#forwards-made');
  for (const n of ['taishosha_Omachi.csv', 'taishosha_Yasaka.csv', 'taishosha_Miasa.csv', 'district=Omachi', 'district=Yasaka']) assert.ok(made.includes(n), `${n} in ${made}`);
  assert.ok(!/\d+番目のファイル/.test(made), `part names, not numbers: ${made}`);
  await screenshot(rep, 'omachi-rep-forward-all-forwarded');

  // Readers (one browser context, switching keys) open their parts and get exactly the rows.
  await importAndUnlock(reader, keyPath('omachi', 'omachi-omachi'));
  let id = await findDelivery(reader, title, { status: 'delivered' });
  await screenshot(reader, 'omachi-reader-inbox');
  let got = await openAndSave(reader, id, 'taishosha_Omachi.csv', 'stream');
  assert.ok(got.equals(expected.get('Omachi')), 'Omachi part, streamed through the service worker');
  await screenshot(reader, 'omachi-reader-opened');

  await importAndUnlock(reader, keyPath('omachi', 'omachi-yasaka'));
  id = await findDelivery(reader, title, { status: 'delivered' });
  got = await openAndSave(reader, id, 'taishosha_Yasaka.csv', 'blob');
  assert.ok(got.equals(expected.get('Yasaka')), 'Yasaka part, re-forwarded after the recall');

  // Miasa officer: the recalled Yasaka part is a recalled row that cannot be opened; the
  // delivery sent in the same action still holds Miasa, never re-sent. It is opened by the CLI
  // (an envelope made in the browser opens in the CLI).
  await importAndUnlock(reader, keyPath('omachi', 'omachi-miasa'));
  const recalled = await findDelivery(reader, '長野県 健康福祉部', { status: 'recalled' });
  assert.equal(await reader.page.locator(`tr[data-delivery="${recalled}"] a[href^="#/open/"]`).count(), 0, 'no open button on a recalled delivery');
  // Recalled by the representative (a forwarder), not by the prefecture: the text fits both.
  await reader.page.waitForFunction((id) => /取り消しました/.test(document.querySelector(`tr[data-delivery="${id}"] td.title`)?.textContent || ''), recalled);
  assert.match(await reader.page.innerText(`tr[data-delivery="${recalled}"] td.title`), /^（送信元または転送元が取り消しました。この受信物は開封できません）$/);
  const miasa = await findDelivery(reader, title, { status: 'delivered' });
  await screenshot(reader, 'omachi-miasa-inbox-recalled-badge');
  const outDir = path.join(WORK, 'cli-open-miasa');
  fs.mkdirSync(outDir, { recursive: true });
  cli(['open', miasa, '--out', outDir, '--key', keyPath('omachi', 'omachi-miasa'), ...cliConn('miasa')]);
  const cliBytes = fs.readFileSync(path.join(outDir, 'taishosha_Miasa.csv'));
  assert.ok(cliBytes.equals(expected.get('Miasa')), 'the CLI opens the envelope made in the browser');

  // Receipts for the sender show the forwards, the recall and the openings.
  await go(sender, '#/receipts', `section[data-envelope="${envelopeId}"] table.receipts`);
  const kinds = await sender.page.$$eval(`section[data-envelope="${envelopeId}"] tr[data-kind]`, (trs) => trs.map((t) => t.dataset.kind));
  for (const k of ['delivered', 'forwarded', 'recalled', 'opened']) assert.ok(kinds.includes(k), `receipt ${k} in ${kinds}`);
  // Parts by their file names (this browser sent them), under a header that says so.
  const receiptParts = await sender.page.$$eval(`section[data-envelope="${envelopeId}"] table.receipts tbody tr td:nth-child(3)`, (tds) => tds.map((td) => td.textContent));
  assert.ok(receiptParts.includes('taishosha_Omachi.csv、taishosha_Yasaka.csv、taishosha_Miasa.csv'), receiptParts.join(' | '));
  assert.ok(receiptParts.some((x) => x === 'taishosha_Yasaka.csv'), `the recalled part alone: ${receiptParts.join(' | ')}`);
  assert.equal(await sender.page.innerText(`section[data-envelope="${envelopeId}"] table.receipts thead th:nth-child(3)`), '添付ファイル');
  // Looked up by id, without this browser's list of names: numbered from 1.
  await sender.page.fill('#receipts-id', envelopeId);
  await sender.page.click('.page-receipts form button[type=submit]');
  await sender.page.waitForSelector('#receipts-out table.receipts');
  const numbered = await sender.page.$$eval('#receipts-out table.receipts tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
  assert.ok(numbered.includes('1番目のファイル、2番目のファイル、3番目のファイル'), numbered.join(' | '));
  await screenshot(sender, 'omachi-sender-receipts');
  // Model 2: the representative (a forwarder, not a reader) never fetched a header with C1
  // values nor an envelope body; it worked from forwarding requests only.
  const repPaths = rep.rec.seen.map((x) => x.what);
  assert.ok(repPaths.some((p) => p.endsWith('/forwarding-request')), 'the forwarder used forwarding requests');
  assert.ok(!repPaths.some((p) => /\/deliveries\/[^/]+\/(header|envelope)$/.test(p)), repPaths.join('\n'));
});

test('accessibility: every page has no serious or critical WCAG 2.1 A/AA violation (axe-core)', async () => {
  const m = await newMember('a11y');
  for (const [hash, sel] of [['#/setup', '#import-form'], ['#/unlock', 'h1'], ['#/orgs', 'h1']]) {
    await go(m, hash, sel);
    await checkA11y(m, `${hash} (no key)`);
  }
  // An administrator: inbox, send, receipts, partner organizations, administration.
  await importAndUnlock(m, keyPath('omachi', 'omachi-admin'));
  await go(m, '#/admin', '#orgkey');
  await m.page.waitForSelector('#audit');
  // The city requires the sender role for sending outside: its administrator is told so.
  for (const [hash, sel] of [['#/inbox', '#inbox-table'], ['#/send', '#page-refused'], ['#/receipts', 'h1'],
    ['#/orgs', '#pin-form'], ['#/admin', '#orgkey']]) {
    await go(m, hash, sel);
    await m.page.waitForTimeout(300);
    await checkA11y(m, `${hash} (administrator)`);
  }
  // The administration page with the organization key unlocked (enrollments, partner form)
  // and the verified audit trail with its filters and export.
  await go(m, '#/admin', '#orgkey');
  await m.page.setInputFiles('#orgkey input[type=file]', path.join(DATA, 'demo', 'omachi', 'omachi.orgkey'));
  await m.page.fill('#orgkey input[name=orgkey-passphrase]', PASS);
  await m.page.click('#orgkey button[type=submit]');
  await m.page.waitForSelector('#partner-form');
  await m.page.click('#audit-verify');
  await m.page.waitForSelector('#audit-table');
  await checkA11y(m, '#/admin (organization key unlocked, audit trail shown)');
  // One page in English.
  await m.page.click('#lang-switch');
  await m.page.waitForFunction(() => document.documentElement.lang === 'en');
  await go(m, '#/orgs', '#pin-form');
  await m.page.waitForTimeout(300);
  await checkA11y(m, '#/orgs (administrator, English)');
  await go(m, '#/inbox', '#inbox-table');
  await m.page.waitForTimeout(300);
  await checkA11y(m, '#/inbox (administrator, English)');
  await m.page.click('#lang-switch');
  await m.page.waitForFunction(() => document.documentElement.lang === 'ja');
  await go(m, '#/unlock', '#unlock-form');
  // A sender sends one file; the representative's forward and rules pages; a reader opens.
  const sender = await newMember('a11y-sender');
  await importAndUnlock(sender, keyPath('omachi', 'pref-sender'));
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  await pinOrg(sender, cityFp);
  await go(sender, '#/send', '#send-form');
  await checkA11y(sender, '#/send (sender)');
  const rows = csvFor([['Omachi', '大町']], 2);
  addPlaintextRows('a11y csv', rows);
  // The CSV split: detected encoding, column picker and the preview of the parts.
  await sender.page.setInputFiles('#send-files', [{ name: 'a11y-split.csv', mimeType: 'text/csv', buffer: Buffer.from(rows, 'utf8') }]);
  await sender.page.waitForSelector('select[data-file="a11y-split.csv"]');
  await sender.page.selectOption('select[data-file="a11y-split.csv"]', { label: 'district' });
  await sender.page.waitForSelector('.csv-preview li');
  await checkA11y(sender, '#/send (CSV split preview)');
  await sender.page.setInputFiles('#send-files', []);
  const title = 'アクセシビリティ確認 (e2e)';
  await send(sender, { orgId: cityFp, title, files: [{ name: 'a11y.csv', mimeType: 'text/csv', buffer: Buffer.from(rows, 'utf8') }] });
  await importAndUnlock(m, keyPath('omachi', 'omachi-rep'));
  const id = await findDelivery(m, title, { status: 'delivered' });
  await go(m, `#/forward/${id}`, '#forward-parts');
  await checkA11y(m, '#/forward (representative)');
  await go(m, '#/rules', 'h1');
  await m.page.waitForTimeout(300);
  await checkA11y(m, '#/rules (representative)');
  await forward(m, id, { 'a11y.csv': '大町地区 担当' });
  await importAndUnlock(m, keyPath('omachi', 'omachi-omachi'));
  const mine = await findDelivery(m, title, { status: 'delivered' });
  await go(m, `#/open/${mine}`, '#open-parts');
  await checkA11y(m, '#/open (reader)');
});

test('cp932-split: an Excel Shift_JIS CSV split per district in the browser keeps its bytes', async () => {
  const sender = await newMember('cp932-sender');
  const rep = await newMember('cp932-rep');
  const reader = await newMember('cp932-reader');
  await importAndUnlock(sender, keyPath('omachi', 'pref-sender'));
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  await pinOrg(sender, cityFp);

  const { file, rows, parts } = cp932Export();
  // The rows, in the file's own bytes, never reach the network or the server unencrypted.
  rows.forEach((r, i) => addSecret(`cp932 row ${i + 1}`, r));
  // Decoded as UTF-8 (what the old splitter did) the district column is garbage: the test data
  // is really not UTF-8.
  assert.ok(!new TextDecoder().decode(file).includes('八坂'));
  // A UTF-16 file (Excel's "Unicode text") is refused at once, saying what it is.
  await go(sender, '#/send', '#send-form');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('番号,地区\r\n1,大町\r\n', 'utf16le')]);
  await sender.page.setInputFiles('#send-files', [{ name: 'unicode.csv', mimeType: 'text/csv', buffer: utf16 }]);
  const refused = await sender.page.waitForSelector('.csv-split[data-file="unicode.csv"] .csv-refused');
  const why = await refused.innerText();
  assert.ok(why.includes('unicode.csv') && why.includes('UTF-16 LE（BOM FF FE）') && !why.includes('byte-order'), why);
  assert.equal(await sender.page.locator('select[data-file="unicode.csv"]').count(), 0, 'no column picker');
  await screenshot(sender, 'send-utf16-refused');

  const title = '令和7年度 敬老会 対象者名簿 Shift_JIS (e2e)';
  const envelopeId = await send(sender, {
    orgId: cityFp, title, category: 'keirokai',
    files: [{ name: '対象者名簿.csv', mimeType: 'text/csv', buffer: file }],
    split: { file: '対象者名簿.csv', column: '地区' },
    beforeSend: async () => {
      // The detected encoding next to the column picker, and the parts the split will make.
      const enc = sender.page.locator('.csv-split[data-file="対象者名簿.csv"] .csv-encoding');
      assert.equal(await enc.getAttribute('data-encoding'), 'cp932');
      assert.match(await enc.innerText(), /Shift_JIS \(CP932\)/);
      await sender.page.waitForSelector('.csv-preview li');
      const items = await sender.page.$$eval('.csv-preview li', (lis) => lis.map((li) => li.dataset.part));
      assert.deepEqual(items, ['対象者名簿_大町.csv', '対象者名簿_八坂.csv', '対象者名簿_美麻.csv']);
      const text = await sender.page.innerText('.csv-preview');
      for (const w of ['地区=大町', '地区=八坂', '地区=美麻', '3 行']) assert.ok(text.includes(w), `${w} in ${text}`);
      await screenshot(sender, 'send-cp932-split');
    },
  });
  assert.match(envelopeId, /^[0-9a-f]{32}$/);

  const repDelivery = await findDelivery(rep, title, { status: 'delivered' });
  await forward(rep, repDelivery, {
    '対象者名簿_大町.csv': '大町地区 担当',
    '対象者名簿_八坂.csv': '八坂地区 担当',
    '対象者名簿_美麻.csv': '美麻地区 担当',
  });
  // Each district officer opens its part and gets exactly the original CP932 bytes.
  for (const [tag, district] of [['omachi-omachi', '大町'], ['omachi-yasaka', '八坂'], ['omachi-miasa', '美麻']]) {
    await importAndUnlock(reader, keyPath('omachi', tag));
    const id = await findDelivery(reader, title, { status: 'delivered' });
    const got = await openAndSave(reader, id, `対象者名簿_${district}.csv`, 'blob');
    assert.ok(got.equals(parts.get(district)), `${district}: the part is the header and its rows, byte for byte`);
  }
});

test('send form: kept across a language switch, lengths checked in characters before confirming, empty files warned, emptied after sending', async () => {
  const sender = await newMember('form-sender');
  await importAndUnlock(sender, keyPath('omachi', 'pref-sender'));
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  await pinOrg(sender, cityFp);
  const p = sender.page;
  await go(sender, '#/send', '#send-form');
  await p.selectOption('#send-org', cityFp);
  await p.waitForSelector('input[name=rep]');
  await p.fill('#send-title', '言語切替の確認 (e2e)');
  await p.fill('#send-category', 'keirokai');
  await p.fill('#send-text', '本文の確認 (e2e)');
  await p.fill('#send-labels', 'team=e2e');
  const csv = csvFor([['Omachi', '大町'], ['Yasaka', '八坂']], 1);
  addPlaintextRows('language switch csv', csv);
  await p.setInputFiles('#send-files', [{ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) },
    { name: 'kiri.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') }]);
  await p.waitForSelector('select[data-file="kiri.csv"]');
  await p.selectOption('select[data-file="kiri.csv"]', { label: 'district' });
  await p.waitForSelector('.csv-preview li');
  const splitValue = await p.inputValue('select[data-file="kiri.csv"]');
  // Switching the language re-renders the page; what was typed and chosen stays, including the
  // CSV split column (with its preview).
  await p.click('#lang-switch');
  await p.waitForFunction(() => document.documentElement.lang === 'en');
  await p.waitForSelector('#send-form');
  assert.equal(await p.inputValue('#send-title'), '言語切替の確認 (e2e)');
  assert.equal(await p.inputValue('#send-category'), 'keirokai');
  assert.equal(await p.inputValue('#send-text'), '本文の確認 (e2e)');
  assert.equal(await p.inputValue('#send-labels'), 'team=e2e');
  assert.equal(await p.evaluate(() => document.querySelector('#send-files').files.length), 2);
  assert.equal(await p.inputValue('#send-org'), cityFp);
  await p.waitForSelector('input[name=rep]');
  await p.waitForSelector('.csv-preview li');
  assert.equal(await p.inputValue('select[data-file="kiri.csv"]'), splitValue, 'the split column is kept');
  assert.deepEqual(await p.$$eval('.csv-preview li', (lis) => lis.map((li) => li.dataset.part)), ['kiri_Omachi.csv', 'kiri_Yasaka.csv']);
  await screenshot(sender, 'send-form-after-language-switch');
  await p.click('#lang-switch');
  await p.waitForFunction(() => document.documentElement.lang === 'ja');
  await p.waitForSelector('input[name=rep]');
  await p.waitForSelector('.csv-preview li');
  assert.equal(await p.inputValue('select[data-file="kiri.csv"]'), splitValue, 'kept when switched back');
  // Only the empty file from here on.
  await p.fill('#send-text', '');
  await p.setInputFiles('#send-files', [{ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) }]);
  // A title of 400 kanji is refused before the confirmation, saying the limit in characters.
  await p.fill('#send-title', '漢'.repeat(400));
  await p.click('#send-button');
  await p.waitForSelector('#send-form .status.error');
  assert.match(await p.textContent('#send-form .status.error'), /400 文字.*341 文字/);
  await screenshot(sender, 'send-title-too-long');
  assert.equal(await p.locator('dialog[open]').count(), 0, 'no confirmation for a title too long');
  // An empty file is said so in the confirmation.
  // The title carries a right-to-left override, as a hostile name would ("gnp.exe" shown
  // reversed as "exe.png"): every page shows the control as a visible marker instead.
  await p.fill('#send-title', '空ファイルの確認 (e2e) \u202Egnp.exe');
  await p.click('#send-button');
  await p.waitForSelector('dialog[open] #send-empty-warning');
  await screenshot(sender, 'send-empty-file-warned');
  await confirm(sender);
  await p.waitForFunction(() => document.querySelector('#send-form')?.dataset.sent || document.querySelector('#send-form .status.error'));
  await expectOk(sender, '#send-form');
  // Sent: the form is empty, so a second click cannot send it again.
  assert.equal(await p.inputValue('#send-title'), '');
  assert.equal(await p.evaluate(() => document.querySelector('#send-files').files.length), 0);
  await p.click('#send-button');
  await p.waitForSelector('#send-form .status.error');
  await go(sender, '#/receipts', 'h1');
  const heading = await p.locator('section[data-envelope] h2', { hasText: '空ファイルの確認' }).first().innerText();
  assert.ok(heading.includes('[U+202E]gnp.exe') && !heading.includes('\u202E'), heading);
  await screenshot(sender, 'bidi-title-shown-as-marker');
  // A server refusal on a Japanese page: the Japanese sentence, and the server's English
  // message with its stable code behind a closed 詳細 toggle.
  await p.fill('#receipts-id', '0'.repeat(32));
  await p.click('.page-receipts form button[type=submit]');
  await p.waitForSelector('#receipts-out .status.error');
  const refusal = await p.evaluate(() => {
    const st = document.querySelector('#receipts-out .status.error');
    const det = st.querySelector('details.error-detail');
    return { text: st.innerText, open: det ? det.open : null, summary: det ? det.querySelector('summary').textContent : null,
      detail: det ? det.querySelector('code').textContent : null, role: st.getAttribute('role') };
  });
  assert.equal(refusal.open, false, `a closed detail toggle: ${JSON.stringify(refusal)}`);
  assert.equal(refusal.summary, '詳細');
  assert.match(refusal.text, /^見つかりません（削除されたか、番号が違います）。\s*詳細$/, JSON.stringify(refusal));
  assert.match(refusal.detail, /^エラーコード not-found: /, JSON.stringify(refusal));
  assert.equal(refusal.role, 'alert');
  await screenshot(sender, 'server-refusal-japanese');
  await checkA11y(sender, '#/receipts (server refusal, closed detail toggle)');
});

/** The text nodes of the page that carry a raw bidirectional control (none may). */
async function rawBidiText(m) {
  return m.page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/.test(n.textContent)) out.push(n.textContent);
    }
    return out;
  });
}

test('bidi names: a received part name and label with U+202E are shown as markers, never obeyed', async () => {
  const sender = await newMember('bidi-sender');
  const rep = await newMember('bidi-rep');
  const reader = await newMember('bidi-reader');
  await importAndUnlock(sender, keyPath('omachi', 'pref-sender'));
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  await pinOrg(sender, cityFp);
  // "invoice\u202Efdp.exe" would display as "invoiceexe.pdf"; the label value likewise.
  const hostile = 'invoice\u202Efdp.exe';
  const shown = 'invoice[U+202E]fdp.exe';
  const body = Buffer.from('架空の請求書 e2e\r\n', 'utf8');
  addSecret('bidi part body', body);
  // A refused CSV names its file in the error sentence: masked there too.
  await go(sender, '#/send', '#send-form');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('番号,地区\r\n1,大町\r\n', 'utf16le')]);
  await sender.page.setInputFiles('#send-files', [{ name: 'meibo\u202Evsc.csv', mimeType: 'text/csv', buffer: utf16 }]);
  const refused = await sender.page.waitForSelector('.csv-refused');
  assert.ok((await refused.innerText()).includes('meibo[U+202E]vsc.csv'), await refused.innerText());
  assert.deepEqual(await rawBidiText(sender), []);
  const title = '双方向制御文字の確認 (e2e)';
  await send(sender, { orgId: cityFp, title, labels: 'note=a\u202Ecba',
    files: [{ name: hostile, mimeType: 'application/octet-stream', buffer: body }] });

  // The representative's inbox and forward page (and its confirmation) show the marker.
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  const d = await findDelivery(rep, title, { status: 'delivered' });
  await rep.page.waitForSelector(`tr[data-delivery="${d}"] td.title strong`);
  const row = await rep.page.innerText(`tr[data-delivery="${d}"]`);
  assert.ok(row.includes(shown) && row.includes('note=a[U+202E]cba'), row);
  assert.deepEqual(await rawBidiText(rep), [], 'inbox');
  await screenshot(rep, 'bidi-inbox-part-name');
  await go(rep, `#/forward/${d}`, '#forward-parts');
  const parts = await rep.page.innerText('#forward-parts');
  assert.ok(parts.includes(shown) && parts.includes('note=a[U+202E]cba'), parts);
  assert.deepEqual(await rawBidiText(rep), [], 'forward page');
  await screenshot(rep, 'bidi-forward-page');
  await forward(rep, d, { [shown]: '大町地区 担当' });
  assert.deepEqual(await rawBidiText(rep), [], 'forward page after forwarding');

  // The reader opens it with the default save method ("automatic", the options toggle closed);
  // the status line names the part with the marker, and the saved file has no control in its name.
  await importAndUnlock(reader, keyPath('omachi', 'omachi-omachi'));
  const id = await findDelivery(reader, title, { status: 'delivered' });
  await go(reader, `#/open/${id}`, '#open-parts');
  assert.equal(await reader.page.$eval('#save-options', (el) => el.open), false, 'the save options start closed');
  assert.equal(await reader.page.isVisible('#save-mode'), false);
  assert.equal(await reader.page.inputValue('#save-mode'), 'auto');
  // In Chromium "automatic" is the save dialog (File System Access); a stand-in for the native
  // dialog records the suggested name and what is written.
  await reader.page.evaluate(() => {
    window.__picked = { name: null, chunks: [], closed: false };
    window.showSaveFilePicker = async (opts) => {
      window.__picked.name = opts && opts.suggestedName;
      return { createWritable: async () => ({
        write: async (c) => { window.__picked.chunks.push(Array.from(c)); },
        close: async () => { window.__picked.closed = true; },
        abort: async () => {},
      }) };
    };
  });
  await reader.page.click('#open-parts button[data-part]');
  await reader.page.waitForSelector('.page-open .status.ok, .page-open .status.error');
  await expectOk(reader, '.page-open');
  const picked = await reader.page.evaluate(() => window.__picked);
  assert.equal(picked.name, 'invoicefdp.exe', 'the controls are dropped from the saved name');
  assert.ok(picked.closed && Buffer.concat(picked.chunks.map((c) => Buffer.from(c))).equals(body), 'the automatic save writes the part');
  assert.ok((await reader.page.innerText('.page-open .status.ok')).includes(shown), await reader.page.innerText('.page-open .status.ok'));
  assert.deepEqual(await rawBidiText(reader), [], 'open page');
  await screenshot(reader, 'bidi-open-status');
});

test('wrong-recipient: forward to the wrong member, recall, re-forward to the right one', async () => {
  const sender = await newMember('pref2-sender');
  const rep = await newMember('city2-rep');
  const staff = await newMember('city2-staff');
  await importAndUnlock(sender, keyPath('wrong-recipient', 'pref2-sender'));
  await importAndUnlock(rep, keyPath('wrong-recipient', 'city2-rep'));
  const cityFp = await orgFingerprint(keyPath('wrong-recipient', 'city2-rep'));
  await pinOrg(sender, cityFp);
  const csv = '番号,児童氏名,保護者,住所\r\nC0001,架空 花子,架空 一郎,架空町中央1-1\r\nC0002,架空 次郎,架空 春子,架空町中央2-5\r\n';
  addPlaintextRows('jido csv', csv);
  const title = '要保護児童 情報提供 (e2e)';
  await send(sender, { orgId: cityFp, title, category: 'jido', labels: 'team=jido',
    files: [{ name: 'jido.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') }] });
  const d = await findDelivery(rep, title, { status: 'delivered' });
  await forward(rep, d, { 'jido.csv': '母子保健 担当 藤波' });
  await screenshot(rep, 'wrong-forwarded-to-wrong');
  await recall(rep, d, '母子保健 担当 藤波');
  await forward(rep, d, { 'jido.csv': '児童相談 担当 星野' });
  await screenshot(rep, 'wrong-reforwarded');
  // Another PC of the same representative (a fresh browser context with the same key file)
  // lists both forwards, the recalled one and the live one with its recall button: the list
  // comes from the server, not from the first browser's storage.
  const repPc2 = await newMember('city2-rep-second-pc');
  await importAndUnlock(repPc2, keyPath('wrong-recipient', 'city2-rep'));
  await go(repPc2, `#/forward/${d}`, '#forwards-made');
  const rows = repPc2.page.locator('#forwards-made tbody tr');
  assert.equal(await rows.count(), 2, 'both forwards listed on the second PC');
  assert.equal(await repPc2.page.locator('#forwards-made tbody tr', { hasText: '児童相談 担当 星野' }).locator('button[data-recall]').count(), 1);
  assert.equal(await repPc2.page.locator('#forwards-made tbody tr', { hasText: '母子保健 担当 藤波' }).locator('button[data-recall]').count(), 0);

  await importAndUnlock(staff, keyPath('wrong-recipient', 'city2-wrong'));
  const wrongId = await findDelivery(staff, '架空県 子ども家庭課', { status: 'recalled' });
  assert.equal(await staff.page.locator(`tr[data-delivery="${wrongId}"] a[href^="#/open/"]`).count(), 0);
  await screenshot(staff, 'wrong-recipient-recalled');

  await importAndUnlock(staff, keyPath('wrong-recipient', 'city2-right'));
  const rightId = await findDelivery(staff, title, { status: 'delivered' });
  const got = await openAndSave(staff, rightId, 'jido.csv', 'stream');
  assert.ok(got.equals(Buffer.from(csv, 'utf8')), 'the right member gets the exact bytes');
  await screenshot(staff, 'wrong-right-opened');
});

test('interoperability: an envelope sent by the CLI is forwarded and opened in the browser', async () => {
  const rep = await newMember('cli-interop-rep');
  const reader = await newMember('cli-interop-reader');
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => `行${i},架空 データ ${i * 7919 % 10007}\n`).join(''), 'utf8');
  addSecret('cli plaintext', body.subarray(0, 64));
  const file = path.join(WORK, 'cli-part.csv');
  fs.writeFileSync(file, body);
  const title = 'CLI から送信 (e2e)';
  cli(['send', '--to-org', cityFp, '--part', `${file}::district=Omachi`, '--title', title, '--category', 'keirokai',
    '--key', keyPath('omachi', 'pref-sender'), ...cliConn('pref-sender')]);
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  const d = await findDelivery(rep, title, { status: 'delivered' });
  await forward(rep, d, { 'cli-part.csv': '大町地区 担当' });
  await importAndUnlock(reader, keyPath('omachi', 'omachi-omachi'));
  const id = await findDelivery(reader, title, { status: 'delivered' });
  // The File System Access path (showSaveFilePicker), with the native dialog replaced by a
  // stand-in that records what the page writes.
  await reader.page.evaluate(() => {
    window.__picked = { name: null, chunks: [], closed: false, writes: 0 };
    window.showSaveFilePicker = async (opts) => {
      window.__picked.name = opts && opts.suggestedName;
      return { createWritable: async () => ({
        write: async (c) => { window.__picked.writes++; window.__picked.chunks.push(Array.from(c)); },
        close: async () => { window.__picked.closed = true; },
        abort: async () => {},
      }) };
    };
  });
  await go(reader, `#/open/${id}`, '#open-parts');
  await reader.page.click('#save-options summary');
  await reader.page.selectOption('#save-mode', 'picker');
  await reader.page.locator('#open-parts tbody tr', { hasText: 'cli-part.csv' }).locator('button').click();
  await reader.page.waitForSelector('#open-parts button[data-saved="1"]');
  const picked = await reader.page.evaluate(() => window.__picked);
  assert.equal(picked.name, 'cli-part.csv');
  assert.ok(picked.closed);
  const got = Buffer.concat(picked.chunks.map((c) => Buffer.from(c)));
  assert.ok(got.equals(body), 'the browser opens the envelope made by the CLI');
  await screenshot(reader, 'interop-cli-to-browser');
});

test('enrollment in the browser, approval with the organization key, audit trail, revocation', async () => {
  const newcomer = await newMember('newcomer');
  const admin = await newMember('omachi-admin');
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  const newPass = 'e2e 新しい パスフレーズ 2026';
  addSecret('new member passphrase', Buffer.from(newPass, 'utf8'));
  const p = newcomer.page;
  await go(newcomer, '#/setup', '#enroll-form');
  // Whose fingerprint: the member's own organization's, from its own administrator.
  assert.match(await p.innerText('#enroll-form'), /あなたが所属する組織の指紋を、自組織の管理者から/);
  // The 32-digit comparison code, as for a partner: checked against the record in the browser,
  // so only the organization's name is confirmed (no 64-digit comparison by eye).
  await p.fill('#enroll-form input[name=org-fingerprint]', cityFp.slice(0, 32));
  await p.click('#enroll-form button[type=button]');
  await p.waitForSelector('#enroll-same');
  const found = await p.innerText('#enroll-form .org-check');
  assert.ok(found.includes('32桁') && found.includes('大町市 福祉課 (架空)') && !found.includes('一字一句'), found);
  assert.equal(await p.$eval('#enroll-form .org-check details', (d) => d.open), false, 'the whole fingerprint stays behind the toggle');
  assert.ok(await p.isDisabled('#enroll-form button[type=submit]'), 'enrolling needs the name confirmed');
  await p.check('#enroll-same');
  assert.ok(!(await p.isDisabled('#enroll-form button[type=submit]')));
  await p.fill('#enroll-form input[name=member-name]', '大町地区 e2e 新規担当');
  // Also a representative: the prefecture's send page then offers two (see below).
  await p.check('#enroll-form input[name=role][value=representative]');
  await p.fill('#enroll-form input[name=new-passphrase]', newPass);
  await p.fill('#enroll-form input[name=new-passphrase2]', newPass);
  await p.click('#enroll-form button[type=submit]');
  await p.waitForSelector('#pending .pending-item');
  await screenshot(newcomer, 'enroll-pending');
  // The enrollment code the member tells the administrator (in person, by phone).
  const code = (await p.textContent('#pending .enrollment-code')).trim();
  assert.match(code, /^\d{4}-\d{4}-\d{4}-\d{4}$/);
  // The pending key file exists only in IndexedDB.
  for (const k of await storedKeyFiles(newcomer)) addSecret('pending key file (browser)', k);

  await importAndUnlock(admin, keyPath('omachi', 'omachi-admin'));
  await go(admin, '#/admin', '#orgkey');
  // Before the organization key is unlocked, the request can be neither approved nor rejected.
  await admin.page.waitForSelector('#enrollments .enrollment');
  const locked = admin.page.locator('#enrollments .enrollment').last();
  assert.ok(await locked.locator('button.danger').isDisabled(), 'reject needs the organization key');
  assert.ok(await locked.locator('button.primary').isDisabled(), 'approve needs the organization key');
  await screenshot(admin, 'admin-enrollment-org-key-locked');
  await admin.page.setInputFiles('#orgkey input[type=file]', path.join(DATA, 'demo', 'omachi', 'omachi.orgkey'));
  await admin.page.fill('#orgkey input[name=orgkey-passphrase]', PASS);
  await admin.page.click('#orgkey button[type=submit]');
  await admin.page.waitForSelector('#enrollments .enrollment input[name=enrollment-code]');
  await screenshot(admin, 'admin-enrollment');
  const row = admin.page.locator('#enrollments .enrollment', { hasText: '大町地区 e2e 新規担当' });
  assert.ok(!(await row.locator('button.danger').isDisabled()), 'with the organization key, reject is offered');
  // Approval stays disabled until the administrator types the member's code.
  assert.ok(await row.locator('button.primary').isDisabled());
  const wrong = code.replace(/^\d/, (d) => String((Number(d) + 1) % 10));
  await row.locator('input[name=enrollment-code]').fill(wrong);
  assert.ok(await row.locator('button.primary').isDisabled(), 'a wrong code does not enable approval');
  await row.locator('input[name=enrollment-code]').fill(code);
  assert.ok(!(await row.locator('button.primary').isDisabled()), 'the member\'s code enables approval');
  await screenshot(admin, 'admin-enrollment-code-matched');
  await row.locator('button.primary').click();
  await confirm(admin);
  await admin.page.waitForSelector('#members');
  await admin.page.waitForFunction(() => !document.querySelector('#enrollments .enrollment'));

  // Someone with the browser profile swaps the organization record stored with the pending
  // enrollment for another organization's: finishing is refused (the device's own signed
  // enroll statement names the organization it asked to join).
  const otherFp = await orgFingerprint(keyPath('wrong-recipient', 'city2-rep'));
  const swapPendingOrg = (fp) => p.evaluate(async (orgFp) => {
    let record = null;
    if (orgFp) {
      const info = await (await fetch(`/v1/orgs/${orgFp}`)).json();
      record = Uint8Array.from(atob(info.record), (c) => c.charCodeAt(0));
    }
    return new Promise((resolve, reject) => {
      const r = indexedDB.open('soshiki');
      r.onsuccess = () => {
        const tx = r.result.transaction('keys', 'readwrite');
        const store = tx.objectStore('keys');
        const all = store.getAll();
        all.onsuccess = () => {
          const k = all.result.find((e) => e.kind === 'pending');
          if (!k.originalRecord) k.originalRecord = k.orgRecord;
          k.orgRecord = record || k.originalRecord;
          store.put(k);
        };
        tx.oncomplete = () => { r.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
      r.onerror = () => reject(r.error);
    });
  }, fp);
  await swapPendingOrg(otherFp);
  await go(newcomer, '#/setup', '#pending');
  await p.waitForSelector('#pending button.primary:not([hidden])');
  await p.fill('#pending input[name=pending-passphrase]', newPass);
  await p.click('#pending button.primary');
  await p.waitForSelector('#pending .status.error');
  assert.match(await p.textContent('#pending .status.error'), /申請した組織と一致しません/);
  assert.equal((await storedKeyFiles(newcomer)).length, 1, 'nothing was saved: only the pending key file');
  await screenshot(newcomer, 'enroll-org-swapped');
  // With the record it was made for, it finishes.
  await swapPendingOrg(null);
  await go(newcomer, '#/setup', '#pending');
  await p.waitForSelector('#pending button.primary:not([hidden])');
  await p.fill('#pending input[name=pending-passphrase]', newPass);
  await p.click('#pending button.primary');
  await p.waitForSelector('#unlock-form');
  await p.fill('#unlock-form input[name=passphrase]', newPass);
  await p.click('#unlock-form button[type=submit]');
  await p.waitForSelector('.page-inbox #inbox-table');
  for (const k of await storedKeyFiles(newcomer)) addSecret('member key file made in the browser', k);
  // A new member's empty inbox says what happens next.
  await p.waitForSelector('#inbox-table tbody td.muted');
  assert.match(await p.innerText('#inbox-table tbody'), /^受信物はまだありません。届くとここに表示されます/);
  await screenshot(newcomer, 'enroll-finished');

  // The city now has two representatives: the prefecture's clerk chooses the second; a language
  // switch keeps that choice (not reset to the first of the list).
  const clerk = await newMember('enroll-rep-clerk');
  await importAndUnlock(clerk, keyPath('omachi', 'pref-sender'));
  await pinOrg(clerk, cityFp);
  await go(clerk, '#/send', '#send-form');
  await clerk.page.selectOption('#send-org', cityFp);
  await clerk.page.waitForFunction(() => document.querySelectorAll('input[name=rep]').length === 2);
  const second = await clerk.page.$$eval('input[name=rep]', (rs) => { const r = rs.find((x) => !x.checked); r.click(); return r.value; });
  await clerk.page.click('#lang-switch');
  await clerk.page.waitForFunction(() => document.documentElement.lang === 'en');
  await clerk.page.waitForFunction(() => document.querySelectorAll('input[name=rep]').length === 2);
  assert.equal(await clerk.page.$eval('input[name=rep]:checked', (r) => r.value), second, 'the chosen representative is kept');
  await screenshot(clerk, 'send-representative-kept-in-english');
  await clerk.page.click('#lang-switch');
  await clerk.page.waitForFunction(() => document.documentElement.lang === 'ja');

  // The organization's policy: a storage quota of 20 GiB, saved with a signed set-policy
  // statement (the audit trail below verifies it) and served back by the server.
  await go(admin, '#/admin', '#policy form');
  await admin.page.fill('#policy input[name=quota]', '20');
  await admin.page.selectOption('#policy select[name=quota-unit]', 'GiB');
  await admin.page.click('#policy button[type=submit]');
  await admin.page.waitForSelector('#policy .status.ok');
  const quotas = await admin.page.evaluate(async () => (await (await fetch('/v1/orgs?limit=1000')).json()).orgs.map((o) => o.quota_bytes));
  assert.ok(quotas.includes(20 * 2 ** 30), JSON.stringify(quotas));

  // The audit trail verifies in the browser and shows the approval.
  await go(admin, '#/admin', '#audit-verify');
  await admin.page.click('#audit-verify');
  await admin.page.waitForSelector('#audit-result');
  assert.equal(await admin.page.getAttribute('#audit-result', 'class'), 'status ok', await admin.page.textContent('#audit-result'));
  assert.ok((await admin.page.textContent('#audit-out')).includes('承認'));
  // Subjects name people, not hex: the approval names the new member.
  const approval = admin.page.locator('#audit-table tbody tr', { hasText: '承認' }).last();
  assert.ok((await approval.innerText()).includes('大町地区 e2e 新規担当'), await approval.innerText());
  await screenshot(admin, 'admin-audit');
  // Filter by action, then export what is shown as CSV for Excel (UTF-8 with BOM).
  const total = await admin.page.locator('#audit-table tbody tr').count();
  await admin.page.selectOption('#audit-action', { label: '承認' });
  const shown = await admin.page.locator('#audit-table tbody tr').count();
  assert.ok(shown >= 1 && shown < total, `filter: ${shown} of ${total}`);
  const [csvDownload] = await Promise.all([admin.page.waitForEvent('download'), admin.page.click('#audit-export')]);
  const csvFile = path.join(ART, 'audit-export.csv');
  await csvDownload.saveAs(csvFile);
  const csvBytes = fs.readFileSync(csvFile);
  assert.deepEqual([...csvBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM for Excel');
  const csvLines = csvBytes.toString('utf8').slice(1).split('\r\n').filter(Boolean);
  assert.equal(csvLines.length, shown + 1, 'header and the shown rows');
  assert.ok(csvLines.some((l) => l.includes('大町地区 e2e 新規担当')), csvLines.join('\n'));
  await screenshot(admin, 'admin-audit-filtered');
  await admin.page.selectOption('#audit-action', '');
  // By actor: only the administrator's own entries.
  const rowsOf = () => admin.page.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => tr.children[3].textContent));
  assert.equal((await rowsOf()).length, total);
  await admin.page.selectOption('#audit-actor', { label: '大町市 福祉課 (架空) 管理者' });
  const byActor = await rowsOf();
  assert.ok(byActor.length >= 1 && byActor.length < total && byActor.every((a) => a.startsWith('大町市 福祉課 (架空) 管理者')), byActor.join(' | '));
  await screenshot(admin, 'admin-audit-actor-filter');
  await admin.page.selectOption('#audit-actor', '');
  // By date (the browser's local days): everything is from today; nothing from tomorrow on, or up to yesterday.
  const day = (offset) => admin.page.evaluate((o) => {
    const d = new Date(Date.now() + o * 86400000);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  }, offset);
  await admin.page.fill('#audit-from', await day(0));
  await admin.page.fill('#audit-to', await day(0));
  assert.equal((await rowsOf()).length, total, 'today: every entry');
  await admin.page.fill('#audit-from', await day(1));
  await admin.page.fill('#audit-to', '');
  assert.equal((await rowsOf()).length, 0, 'from tomorrow: none');
  await admin.page.fill('#audit-from', '');
  await admin.page.fill('#audit-to', await day(-1));
  assert.equal((await rowsOf()).length, 0, 'up to yesterday: none');
  assert.match(await admin.page.innerText('#audit-count'), / 0 件を表示$/);
  await screenshot(admin, 'admin-audit-date-filter');
  await admin.page.fill('#audit-to', '');
  assert.equal((await rowsOf()).length, total);
  // With the organization key unlocked, sign a checkpoint; the next verification checks the
  // trail against it (served by the server and remembered by this browser).
  await admin.page.click('#audit-checkpoint');
  await admin.page.waitForSelector('#audit .status.ok');
  await admin.page.click('#audit-verify');
  await admin.page.waitForSelector('#audit-checkpoint-held');
  assert.equal(await admin.page.getAttribute('#audit-result', 'class'), 'status ok', await admin.page.textContent('#audit-result'));
  // Revocation (signs a new revocation list with the organization key unlocked above).
  const member = admin.page.locator('#members tbody tr', { hasText: '大町地区 e2e 新規担当' });
  await member.locator('button.danger').click();
  await confirm(admin);
  await admin.page.waitForSelector('#members tbody tr:has-text("大町地区 e2e 新規担当"):has-text("失効")');
  // The representative's directory shows the revoked member as not verifying, in Japanese; the
  // verification's English reason stays behind the closed 詳細 toggle.
  const rep = await newMember('enroll-directory-rep');
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  const anyDelivery = await rep.page.getAttribute('#inbox-table tbody tr[data-delivery]', 'data-delivery');
  await go(rep, `#/forward/${anyDelivery}`, '#directory');
  const revokedRow = await rep.page.$eval('#directory tbody tr:has-text("大町地区 e2e 新規担当")', (tr) => {
    const det = tr.querySelector('details.error-detail');
    return { text: tr.innerText, open: det && det.open, detail: det && det.querySelector('code').textContent };
  });
  assert.equal(revokedRow.open, false, JSON.stringify(revokedRow));
  assert.match(revokedRow.detail, /revoked by the organization/);
  assert.ok(revokedRow.text.includes('確認できません') && !/revoked/.test(revokedRow.text), JSON.stringify(revokedRow));
  await screenshot(rep, 'forward-directory-revoked-member');
});

test('routing rules: build, test and save', async () => {
  const rep = await newMember('rules-rep');
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  await go(rep, '#/rules', '#rules-text');
  // A rule's target must be able to read or forward: the administrator (admin role only) is
  // not offered; the district officers (readers) are.
  const offered = await rep.page.$$eval('#rule-target option', (os) => os.map((o) => o.textContent));
  assert.ok(!offered.some((o) => o.startsWith('大町市 福祉課 (架空) 管理者')), `rule targets: ${offered}`);
  assert.ok(['大町地区 担当', '八坂地区 担当', '美麻地区 担当'].every((n) => offered.some((o) => o.startsWith(n))), `rule targets: ${offered}`);
  await rep.page.fill('#rule-cond', 'district=Omachi');
  const target = await rep.page.evaluate(() => [...document.querySelectorAll('#rule-target option')].find((o) => o.textContent.startsWith('大町地区 担当')).value);
  await rep.page.selectOption('#rule-target', target);
  await rep.page.click('#rule-add');
  assert.ok((await rep.page.inputValue('#rules-text')).includes(`district=Omachi -> ${target}`));
  await rep.page.click('#rules-test');
  await rep.page.waitForSelector('#rules-results table');
  const routed = await rep.page.$$eval('#rules-results tbody tr', (trs) => trs.map((t) => t.textContent));
  assert.ok(routed[0].includes('大町地区 担当') && !routed[1].includes('大町地区 担当'), routed.join(' | '));
  await rep.page.click('#rules-save');
  await expectOk(rep, '.page-rules');
  await rep.page.waitForSelector('#rules-signed .badge');
  await rep.page.fill('#rules-text', 'this is not a rule');
  await rep.page.click('#rules-save');
  await rep.page.waitForSelector('.page-rules .status.error');
  await screenshot(rep, 'rules');
});

test('forwarding suggests itself: targets pre-filled from signed rules, a disagreeing label warned', async () => {
  const sender = await newMember('prefill-sender');
  const rep = await newMember('prefill-rep');
  await importAndUnlock(sender, keyPath('omachi', 'pref-sender'));
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  // Its own signed rule (the same as the "routing rules" step saves; this step does not depend on it).
  await go(rep, '#/rules', '#rules-text');
  const officer = await rep.page.evaluate(() => [...document.querySelectorAll('#rule-target option')].find((o) => o.textContent.startsWith('大町地区 担当')).value);
  await rep.page.fill('#rules-text', `district=Omachi -> ${officer}`);
  await rep.page.click('#rules-save');
  await expectOk(rep, '.page-rules');
  await rep.page.waitForSelector('#rules-signed .badge');
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  await pinOrg(sender, cityFp);
  const csv = csvFor([['Omachi', '大町'], ['Yasaka', '八坂']], 2);
  addPlaintextRows('prefill csv', csv);
  const title = '振り分け候補の確認 (e2e)';
  await send(sender, { orgId: cityFp, title, files: [{ name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') }],
    split: { file: 'list.csv', column: 'district' } });
  const id = await findDelivery(rep, title, { status: 'delivered' });
  await go(rep, `#/forward/${id}`, '#forward-parts');
  await rep.page.waitForSelector('#forward-rules-note');
  const state = await rep.page.$$eval('#forward-parts tbody tr', (trs) => trs.map((tr) => {
    const sel = tr.querySelector('select');
    return { text: tr.textContent, chosen: sel.value ? sel.selectedOptions[0].textContent : '', prefilled: sel.dataset.prefilled === '1',
      marked: !!tr.querySelector('.prefill .badge') };
  }));
  const omachi = state.find((r) => r.text.includes('list_Omachi.csv'));
  const yasaka = state.find((r) => r.text.includes('list_Yasaka.csv'));
  assert.ok(omachi.chosen.startsWith('大町地区 担当') && omachi.prefilled && omachi.marked, JSON.stringify(omachi));
  assert.ok(!yasaka.chosen && !yasaka.prefilled && !yasaka.marked, JSON.stringify(yasaka));
  // Sending the Yasaka part to the Omachi officer: the label disagrees with the officer's rules.
  const yasakaRow = rep.page.locator('#forward-parts tbody tr', { hasText: 'list_Yasaka.csv' });
  const omachiOfficer = await yasakaRow.locator('select option', { hasText: '大町地区 担当' }).getAttribute('value');
  await yasakaRow.locator('select').selectOption(omachiOfficer);
  assert.match(await yasakaRow.locator('.warn-text').innerText(), /district=Yasaka/);
  await screenshot(rep, 'forward-prefilled-from-rules');
  // Accessibility of this state (the pre-filled badge and the warning), and of the open
  // confirmation dialog.
  await checkA11y(rep, '#/forward (pre-filled, label warning)');
  await rep.page.click('#forward-button');
  await rep.page.waitForSelector('dialog[open] button.primary');
  await checkA11y(rep, '#/forward (confirmation dialog open)');
  await rep.page.click('dialog[open] button:not(.primary)');
  await rep.page.waitForFunction(() => !document.querySelector('dialog[open]'));
  await yasakaRow.locator('select').selectOption('');
  assert.equal(await yasakaRow.locator('.warn-text').innerText(), '');
});

test('large body: streamed decryption to a Service Worker download (> 32 MiB), blob refused', async () => {
  const rep = await newMember('large-rep');
  const reader = await newMember('large-reader');
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  const size = 48 * 1024 * 1024 + 12345;
  const body = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) body.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  addSecret('large plaintext sample', body.subarray(1 << 20, (1 << 20) + 64));
  const file = path.join(WORK, 'large.bin');
  fs.writeFileSync(file, body);
  const title = '大容量 (e2e)';
  cli(['send', '--to-org', cityFp, '--part', `${file}::district=Yasaka`, '--title', title,
    '--key', keyPath('omachi', 'pref-sender'), ...cliConn('pref-sender-large')]);
  await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
  const d = await findDelivery(rep, title, { status: 'delivered' });
  await forward(rep, d, { 'large.bin': '八坂地区 担当' });
  await importAndUnlock(reader, keyPath('omachi', 'omachi-yasaka'));
  const id = await findDelivery(reader, title, { status: 'delivered' });
  // An in-memory Blob is refused for this size, with a message saying what to do.
  await go(reader, `#/open/${id}`, '#open-parts');
  await reader.page.click('#save-options summary');
  await reader.page.selectOption('#save-mode', 'blob');
  await reader.page.click('#open-parts button[data-part]');
  await reader.page.waitForSelector('.page-open .status.error');
  assert.match(await reader.page.textContent('.page-open .status.error'), /32 MiB/);
  const got = await openAndSave(reader, id, 'large.bin', 'stream');
  assert.equal(got.length, size);
  assert.ok(got.equals(body), 'the streamed download equals the original');
  fs.rmSync(path.join(ART, 'download-large-reader-large.bin'), { force: true });
  await screenshot(reader, 'large-streamed');
});

test('lock: the lock button and the idle lock forget the key', async () => {
  const m = await newMember('lock');
  await importAndUnlock(m, keyPath('omachi', 'omachi-omachi'));
  await m.page.click('#lock-button');
  await m.page.waitForSelector('#unlock-form');
  assert.equal(await m.page.isVisible('#lock-button'), false);
  // Export: the stored, passphrase-protected key file, byte for byte (a backup for the CLI).
  const [download] = await Promise.all([m.page.waitForEvent('download'),
    m.page.locator('.key-choice', { hasText: '大町地区 担当' }).locator('button', { hasText: '鍵ファイルを書き出す' }).click()]);
  const exported = path.join(WORK, 'exported.key');
  await download.saveAs(exported);
  assert.ok(fs.readFileSync(exported).equals(fs.readFileSync(keyPath('omachi', 'omachi-omachi'))));
  await go(m, '#/inbox', '#unlock-form');
  // Idle lock (shortened to 2 s for the test; 15 min by default).
  await m.page.evaluate(() => localStorage.setItem('soshiki.idleSeconds', '2'));
  await m.page.fill('#unlock-form input[name=passphrase]', PASS);
  await m.page.click('#unlock-form button[type=submit]');
  await m.page.waitForSelector('.page-inbox');
  await m.page.waitForSelector('#idle-locked', { timeout: 30_000 });
  // The profile can shorten the delay, never lengthen it past 60 minutes (nor make it 0).
  const effective = await m.page.evaluate(async () => {
    const { idleSeconds } = await import('/js/session.js');
    const out = {};
    for (const v of ['999999', '0', '-5', 'junk']) { localStorage.setItem('soshiki.idleSeconds', v); out[v] = idleSeconds(); }
    localStorage.removeItem('soshiki.idleSeconds');
    out.unset = idleSeconds();
    return out;
  });
  assert.deepEqual(effective, { 999999: 3600, 0: 900, '-5': 900, junk: 900, unset: 900 });
  // Wrong passphrase: a clear message, no unlock.
  await m.page.fill('#unlock-form input[name=passphrase]', 'not the passphrase');
  await m.page.click('#unlock-form button[type=submit]');
  await m.page.waitForSelector('#unlock-form .status.error');
  assert.match(await m.page.textContent('#unlock-form .status.error'), /パスフレーズが違います/);
  await screenshot(m, 'wrong-passphrase');
});

test('navigation: a pin saved after the member went elsewhere does not pull them back', async () => {
  const m = await newMember('slow-pin');
  await importAndUnlock(m, keyPath('omachi', 'pref-sender'));
  const otherFp = await orgFingerprint(keyPath('wrong-recipient', 'city2-rep'));
  // The server copy of the pin list is held until the member has moved to the send page.
  let release;
  const held = new Promise((r) => { release = r; });
  let saving = false;
  await m.page.route('**/v1/me/local-state/pins', async (r) => {
    if (r.request().method() === 'PUT') { saving = true; await held; }
    await r.continue();
  });
  const stored = () => m.page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('soshiki.state.pins.')).map(([, v]) => v).join());
  const before = await stored();
  await go(m, '#/orgs', '#pin-form');
  await m.page.fill('#pin-fp', otherFp);
  await m.page.click('#pin-form button[type=submit]');
  await m.page.check('#pin-same');
  await m.page.click('#pin-button');
  while (!saving) await new Promise((r) => setTimeout(r, 20));
  await go(m, '#/send', '#send-form');
  const form = await m.page.$('#send-form');
  release();
  // The profile copy is written last, after the server answered; the page's own navigation
  // would follow at once.
  await m.page.waitForFunction(([b]) => Object.entries(localStorage).filter(([k]) => k.startsWith('soshiki.state.pins.')).map(([, v]) => v).join() !== b, [before]);
  await m.page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
  assert.equal(await m.page.evaluate(() => location.hash), '#/send');
  assert.ok(await form.evaluate((f) => f.isConnected), 'the send form the member opened is still there');
  await m.page.unroute('**/v1/me/local-state/pins');
  // The pin itself was kept: the organizations page lists it.
  await go(m, '#/orgs', '#pinned-orgs');
  assert.ok(await m.page.$(`#pinned-orgs code.fp[title="${otherFp}"]`), 'the pin was saved');
});

test('pins: a pin list changed, rolled back or deleted in the browser profile is caught at unlock', async () => {
  const m = await newMember('pins-tamper');
  await importAndUnlock(m, keyPath('omachi', 'pref-sender'));
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  const otherFp = await orgFingerprint(keyPath('wrong-recipient', 'city2-rep'));
  assert.notEqual(cityFp, otherFp);
  await pinOrg(m, cityFp);
  await pinOrg(m, otherFp);
  const sendOrgs = async () => {
    await go(m, '#/send', '#send-form');
    return m.page.evaluate(() => [...document.querySelectorAll('#send-org option')].map((o) => o.value).filter(Boolean).sort());
  };
  const reloadAndUnlock = async () => {
    await m.page.evaluate(() => { history.replaceState(null, '', '#/inbox'); });
    await m.page.reload();
    await m.page.waitForSelector('html[data-ready="1"]');
    await m.page.waitForSelector('#unlock-form');
    await m.page.fill('#unlock-form input[name=passphrase]', PASS);
    await m.page.click('#unlock-form button[type=submit]');
    await m.page.waitForSelector('.page-inbox #inbox-table');
  };
  const notices = () => m.page.evaluate(() => [...document.querySelectorAll('#state-notices li')].map((li) => `${li.dataset.kind}:${li.dataset.what}`));
  // The profile writer's tools: the signed pin list as stored (base64 of the sealed state).
  const storedPins = () => m.page.evaluate(() => {
    const ks = Object.keys(localStorage).filter((k) => k.startsWith('soshiki.state.pins.'));
    return ks.map((k) => [k, localStorage.getItem(k)]);
  });
  const writePins = (key, value) => m.page.evaluate(([k, v]) => {
    if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v);
  }, [key, value]);

  // Untouched, the signed list survives a reload; nothing to report.
  await reloadAndUnlock();
  assert.equal(await m.page.isVisible('#pins-tampered'), false);
  assert.deepEqual(await notices(), []);
  assert.deepEqual(await sendOrgs(), [cityFp, otherFp].sort());
  const before = await storedPins();
  assert.equal(before.length, 1, 'one signed pin list, for this member');
  const [key, withOther] = before[0];
  // The member unpins the other organization: a newer signed list (serial + 1), also on the server.
  await go(m, '#/orgs', '#pinned-orgs');
  await m.page.click(`#pinned-orgs li:has(code.fp[title="${otherFp}"]) button.danger`);
  await confirm(m);
  await m.page.waitForFunction((fp) => !document.querySelector(`#pinned-orgs code.fp[title="${fp}"]`) && !!document.querySelector('#pinned-orgs'), otherFp);
  assert.deepEqual(await sendOrgs(), [cityFp]);
  const newer = (await storedPins())[0][1];
  assert.notEqual(newer, withOther);

  // Rollback: someone with the browser profile puts the older signed list back (it verifies:
  // the member signed it). The server's newer copy wins; the member is told.
  await writePins(key, withOther);
  await reloadAndUnlock();
  assert.deepEqual(await notices(), ['pins:restoredOlder']);
  assert.match(await m.page.textContent('#state-notices'), /古い写しに置き換えられていました/);
  assert.deepEqual(await sendOrgs(), [cityFp], 'the unpinned organization stays unpinned');
  assert.equal((await storedPins())[0][1], newer, 'the newer signed list is back in the profile');
  await screenshot(m, 'pins-rolled-back');

  // Deletion: the list is removed from the profile; it is restored, and said so (in English too).
  await writePins(key, null);
  await reloadAndUnlock();
  assert.deepEqual(await notices(), ['pins:restoredMissing']);
  assert.deepEqual(await sendOrgs(), [cityFp]);
  await m.page.click('#lang-switch');
  await m.page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(await m.page.textContent('#state-notices'), /copy signed with your key kept on the server is used/);
  await m.page.click('#lang-switch');
  await m.page.waitForFunction(() => document.documentElement.lang === 'ja');
  await m.page.click('#state-notices button');
  assert.equal(await m.page.isVisible('#state-notices'), false);

  // Edit: the other organization's fingerprint written over the pinned one inside the signed
  // list. It no longer verifies; the server's copy is used instead.
  await m.page.evaluate(([k, from, to]) => {
    const bin = atob(localStorage.getItem(k));
    localStorage.setItem(k, btoa(bin.replace(from, to)));
  }, [key, cityFp, otherFp]);
  assert.notEqual((await storedPins())[0][1], newer, 'the edit changed the stored list');
  await reloadAndUnlock();
  assert.deepEqual(await notices(), ['pins:restoredInvalid']);
  assert.equal(await m.page.isVisible('#pins-tampered'), false);
  assert.deepEqual(await sendOrgs(), [cityFp], 'the edited list is not used');
  await screenshot(m, 'pins-edited');
});

test('partner list: the administrator adds the prefecture; a second officer who pinned nothing trusts it', async () => {
  const admin = await newMember('omachi-admin-partners');
  const prefFp = await orgFingerprint(keyPath('omachi', 'pref-sender'));
  await importAndUnlock(admin, keyPath('omachi', 'omachi-admin'));
  await go(admin, '#/admin', '#partners');
  // The `partners` feature is on by default: a module without it is a broken build, not a skip.
  assert.ok(await admin.page.evaluate(async () => typeof (await import('/pkg/soshiki_wasm.js')).verifyPartners === 'function'),
    'web/pkg lacks the partner list exports (verifyPartners): rebuild it with scripts/build-web.sh');
  assert.equal(await admin.page.isVisible('#partners p.hint >> text=/without the partner list|相手先組織の一覧に対応していません/'), false);
  await admin.page.setInputFiles('#orgkey input[type=file]', path.join(DATA, 'demo', 'omachi', 'omachi.orgkey'));
  await admin.page.fill('#orgkey input[name=orgkey-passphrase]', PASS);
  await admin.page.click('#orgkey button[type=submit]');
  await admin.page.waitForSelector('#partner-form');
  // The 32-digit short form is enough: the digits are checked against the record in the browser.
  await admin.page.fill('#partner-fp', prefFp.slice(0, 32));
  await admin.page.click('#partner-form button[type=submit]');
  await admin.page.waitForSelector('#partner-same');
  assert.ok(await admin.page.isDisabled('#partner-add'), 'adding needs the name confirmed');
  await admin.page.check('#partner-same');
  await admin.page.click('#partner-add');
  await admin.page.waitForSelector('#partner-list');
  const listed = await admin.page.textContent('#partner-list');
  assert.ok(listed.replace(/\s/g, '').includes(prefFp.slice(0, 8)), listed);
  await screenshot(admin, 'partners-list-admin');

  // Another officer of the city, in a fresh browser, who never pinned the prefecture.
  const officer = await newMember('omachi-yasaka-partners');
  await importAndUnlock(officer, keyPath('omachi', 'omachi-yasaka'));
  await go(officer, '#/orgs', '#org-partners');
  const own = await officer.page.evaluate(() => [...document.querySelectorAll('#pinned-orgs li')].map((li) => li.textContent.replace(/\s/g, '')));
  assert.ok(!own.some((t) => t.includes(prefFp.slice(0, 8))), `the officer pinned nothing of the prefecture: ${own}`);
  const shared = await officer.page.textContent('#org-partner-list');
  assert.ok(shared.includes('組織の管理者が確認済み'), shared);
  assert.ok(shared.replace(/\s/g, '').includes(prefFp.slice(0, 8)), shared);
  // Organizations are listed by their 32-digit comparison code; the whole fingerprint is
  // behind a closed toggle.
  const partnerCode = await officer.page.$eval('#org-partner-list .comparison-code', (el) => ({
    shown: el.querySelector(':scope > p code.fp').textContent.replace(/\s/g, ''), open: el.querySelector('details').open }));
  assert.deepEqual(partnerCode, { shown: prefFp.slice(0, 32), open: false });
  // Whose fingerprint: the pin form asks for the partner's, and says it is not the member's own.
  assert.match(await officer.page.innerText('#pin-form'), /相手先の組織.*自分の組織の指紋ではありません/s);
  // The member's own organization's comparison code, to give to partners.
  const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
  const ownCard = officer.page.locator('.page-orgs section.card', { hasText: '自分の組織' });
  assert.equal((await ownCard.locator('.comparison-code > p code.fp').innerText()).replace(/\s/g, ''), cityFp.slice(0, 32));
  assert.match(await ownCard.innerText(), /確認コード/);
  await screenshot(officer, 'partners-second-officer');
  // Fingerprints wrap only between groups of four: every group is nowrap and on one line box,
  // the whole fingerprints opened too.
  await officer.page.$$eval('.comparison-code details', (ds) => ds.forEach((d) => { d.open = true; }));
  const groups = await officer.page.$$eval('.fp-group', (gs) => gs.map((g) => ({ ws: getComputedStyle(g).whiteSpace, lines: g.getClientRects().length, text: g.textContent })));
  assert.ok(groups.length >= 16, `fingerprint groups on the page: ${groups.length}`);
  const broken = groups.filter((g) => g.ws !== 'nowrap' || g.lines !== 1 || !/^[0-9a-f]{4}$/.test(g.text));
  assert.deepEqual(broken, [], 'every .fp-group is one unbroken line of four digits');
  await screenshot(officer, 'fingerprints-opened');
  // A member of the city with the sender role, in a fresh browser, pinned nothing either: the
  // send page offers the prefecture as a recipient organization.
  const citySender = await newMember('omachi-sender-partners');
  await importAndUnlock(citySender, keyPath('omachi', 'omachi-sender'));
  await go(citySender, '#/send', '#send-form');
  const offered = await citySender.page.evaluate(() => [...document.querySelectorAll('#send-org option')].map((o) => o.value));
  assert.ok(offered.includes(prefFp), `send page offers ${offered}`);
});

test('sending outside: reader-only staff are not offered 送信 where the policy requires the sender role', async () => {
  // Every demo organization requires the sender role. A district officer (reader only) has no
  // 送信 in the menu, and a typed #/send says why instead of showing the form.
  const officer = await newMember('no-send-officer');
  await importAndUnlock(officer, keyPath('omachi', 'omachi-yasaka'));
  const nav = await officer.page.$$eval('#nav a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(!nav.includes('#/send') && !nav.includes('#/rules'), `reader-only menu: ${nav}`);
  assert.ok(nav.includes('#/inbox') && nav.includes('#/receipts'), `reader-only menu: ${nav}`);
  await go(officer, '#/send', '#page-refused');
  assert.match(await officer.page.textContent('#page-refused'), /送信者の役割/);
  assert.equal(await officer.page.$('#send-form'), null);
  await screenshot(officer, 'send-refused-reader');
  // The prefecture's clerk has the role: 送信 is in the menu.
  const clerk = await newMember('send-clerk');
  await importAndUnlock(clerk, keyPath('omachi', 'pref-sender'));
  const clerkNav = await clerk.page.$$eval('#nav a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(clerkNav.includes('#/send'), `sender menu: ${clerkNav}`);
  // The city's administrator sees the policy and can lift it; the officer is then offered 送信.
  const admin = await newMember('send-policy-admin');
  await importAndUnlock(admin, keyPath('omachi', 'omachi-admin'));
  await go(admin, '#/admin', '#policy-sender-role');
  assert.ok(await admin.page.isChecked('#policy-sender-role'), 'the demo city requires the sender role');
  const savePolicy = async (required) => {
    await go(admin, '#/admin', '#policy-sender-role');
    await admin.page.setChecked('#policy-sender-role', required);
    await admin.page.click('#policy button[type=submit]');
    await expectOk(admin, '#policy');
  };
  await savePolicy(false);
  await importAndUnlock(officer, keyPath('omachi', 'omachi-yasaka'));
  const lifted = await officer.page.$$eval('#nav a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(lifted.includes('#/send'), `policy lifted, reader-only menu: ${lifted}`);
  await go(officer, '#/send', '#send-form');
  // Restored for the tests that follow, as the demo seeds it.
  await savePolicy(true);
  await importAndUnlock(officer, keyPath('omachi', 'omachi-yasaka'));
  assert.ok(!(await officer.page.$$eval('#nav a', (as) => as.map((a) => a.getAttribute('href')))).includes('#/send'));
});

test('demo: "try as" imports a demo member in one click; its inbox has a sample to open', async () => {
  const m = await newMember('try-as');
  await go(m, '#/setup', '#demo-try');
  await screenshot(m, 'demo-try-as');
  await m.page.click('#demo-try button[data-demo-tag="omachi/omachi-omachi"]');
  await m.page.waitForSelector('.page-inbox #inbox-table tbody tr');
  const rows = await m.page.$$eval('#inbox-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
  assert.ok(rows.some((r) => r.includes('サンプル名簿')), rows.join(' | '));
  // The scenario's other organization is registered: the prefecture is listed.
  await go(m, '#/orgs', '#pinned-orgs');
  assert.match(await m.page.textContent('#pinned-orgs'), /長野県/);
  await screenshot(m, 'demo-try-as-inbox');
});

test('without the crypto module the pages load and show the bilingual banner', async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const rec = new Recorder('no-module');
  rec.attach(context);
  recorders.push(rec);
  // As a build without web/pkg answers: 404 for the module.
  await context.route(/\/pkg\//, (route) => route.fulfill({ status: 404, contentType: 'application/json',
    body: '{"error":{"code":"no-route","message":"no such endpoint"}}' }));
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('html[data-ready="1"]');
  assert.equal(await page.getAttribute('html', 'data-crypto'), 'missing');
  const banner = await page.textContent('#banner');
  assert.ok(await page.isVisible('#banner'));
  assert.ok(banner.includes('このビルドにはブラウザ用の暗号モジュールがありません') && banner.includes('This build has no browser crypto module')
    && banner.includes('scripts/build-web.sh'), banner);
  assert.ok(await page.isVisible('.page-setup h1'), 'the pages still load');
  await page.screenshot({ path: path.join(ART, 'no-crypto-module-banner.png'), fullPage: true });
});

test('English switch, banner-free shell, keyboard focus visible at 1366x768', async () => {
  const m = await newMember('ui');
  await m.page.click('#lang-switch');
  await m.page.waitForFunction(() => document.documentElement.lang === 'en');
  assert.match(await m.page.textContent('h1'), /key|Unlock/i);
  assert.equal(await m.page.isVisible('#banner'), false, 'no missing-module banner');
  // The page heading has the focus after navigation; Tab goes to the first control of the page,
  // which shows a visible focus ring. (Pressed once the re-rendered page has taken the focus: a
  // Tab during the rendering would be undone by it, as seen on a loaded machine.)
  await m.page.waitForLoadState('networkidle');
  await m.page.waitForFunction(() => document.activeElement && document.activeElement.tagName === 'H1');
  await m.page.keyboard.press('Tab');
  const focus = await m.page.evaluate(() => {
    const el = document.activeElement;
    const st = getComputedStyle(el);
    return { tag: el.tagName, inMain: !!el.closest('main'), outline: st.outlineStyle, width: parseFloat(st.outlineWidth) };
  });
  assert.ok(focus.inMain && ['INPUT', 'BUTTON', 'SELECT', 'A', 'TEXTAREA', 'SUMMARY'].includes(focus.tag), `focus: ${JSON.stringify(focus)}`);
  assert.ok(focus.outline !== 'none' && focus.width >= 2, `visible focus: ${JSON.stringify(focus)}`);
  await screenshot(m, 'english-shell');
  // Every page, in both languages, as an administrator: no untranslated message key shows.
  await importAndUnlock(m, keyPath('omachi', 'omachi-admin'));
  for (const lang of ['en', 'ja']) {
    if (await m.page.evaluate(() => document.documentElement.lang) !== lang) {
      await m.page.click('#lang-switch');
      await m.page.waitForFunction((l) => document.documentElement.lang === l, lang);
    }
    for (const page of ['inbox', 'send', 'rules', 'receipts', 'orgs', 'admin', 'setup']) {
      await go(m, `#/${page}`, `.page-${page} h1`);
      await m.page.waitForLoadState('networkidle');
      const raw = await m.page.evaluate(() => {
        const out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const s = n.textContent.trim();
          if (/^[a-z]+(\.[a-zA-Z-]+)+$/.test(s)) out.push(s);
        }
        for (const el of document.querySelectorAll('[placeholder],[aria-label]')) {
          for (const a of ['placeholder', 'aria-label']) {
            const s = el.getAttribute(a);
            if (s && /^[a-z]+(\.[a-zA-Z-]+)+$/.test(s)) out.push(s);
          }
        }
        return out;
      });
      assert.deepEqual(raw, [], `${lang} #/${page} shows message keys`);
    }
  }
  await screenshot(m, 'japanese-admin');
});

// Benchmark (SOSHIKI_E2E_BENCH=1): forward and open a 100 MiB part in the browser, and the same
// with the native CLI in the same run against the same server. Wall-clock times of whole user
// steps (including HTTP), written to target/e2e-artifacts/bench.json. Not a pass/fail test.
if (process.env.SOSHIKI_E2E_BENCH) {
  test('benchmark: forward and open 100 MiB, browser vs CLI', async () => {
    const MiB = 1024 * 1024;
    // SOSHIKI_E2E_BENCH_MIB=1024 shows the streamed open of a 1 GiB body.
    const size = Number(process.env.SOSHIKI_E2E_BENCH_MIB || 100) * MiB;
    const rep = await newMember('bench-rep');
    const reader = await newMember('bench-reader');
    const cityFp = await orgFingerprint(keyPath('omachi', 'omachi-rep'));
    const body = Buffer.alloc(size);
    for (let i = 0; i + 4 <= size; i += 4) body.writeUInt32LE(Math.imul(i + 7, 2246822519) >>> 0, i);
    const file = path.join(WORK, 'bench.bin');
    fs.writeFileSync(file, body);
    const timed = (fn) => { const t0 = process.hrtime.bigint(); const r = fn(); return Promise.resolve(r).then(() => Number(process.hrtime.bigint() - t0) / 1e6); };
    for (const who of ['browser', 'cli']) {
      cli(['send', '--to-org', cityFp, '--part', `${file}::district=Omachi`, '--title', `bench ${who}`,
        '--key', keyPath('omachi', 'pref-sender'), ...cliConn('bench-sender')]);
    }
    await importAndUnlock(rep, keyPath('omachi', 'omachi-rep'));
    await importAndUnlock(reader, keyPath('omachi', 'omachi-omachi'));
    const results = {};
    // Browser: forward (make shares from the forwarding request, post), then open (stream,
    // decrypt in wasm, Service Worker download).
    const dB = await findDelivery(rep, 'bench browser', { status: 'delivered' });
    results.browserForwardMs = await timed(() => forward(rep, dB, { 'bench.bin': '大町地区 担当' }));
    const rB = await findDelivery(reader, 'bench browser', { status: 'delivered' });
    let got;
    results.browserOpenMs = await timed(async () => { got = await openAndSave(reader, rB, 'bench.bin', 'stream'); });
    assert.ok(got.equals(body));
    fs.rmSync(path.join(ART, 'download-bench-reader-bench.bin'), { force: true });
    // CLI: the same steps with the native binary.
    const dC = await findDelivery(rep, 'bench cli', { status: 'delivered' });
    await go(rep, `#/forward/${dC}`, '#forward-parts');
    const target = await rep.page.evaluate(() => [...document.querySelectorAll('#forward-parts option')].find((o) => o.textContent.startsWith('大町地区 担当')).value);
    results.cliForwardMs = await timed(() => cli(['forward', '--delivery', dC, '--route', `${target}:0`, '--key', keyPath('omachi', 'omachi-rep'), ...cliConn('bench-rep')]));
    const rC = await findDelivery(reader, 'bench cli', { status: 'delivered' });
    const out = path.join(WORK, 'bench-cli-open');
    fs.mkdirSync(out, { recursive: true });
    results.cliOpenMs = await timed(() => cli(['open', rC, '--out', out, '--key', keyPath('omachi', 'omachi-omachi'), ...cliConn('bench-reader')]));
    assert.ok(fs.readFileSync(path.join(out, 'bench.bin')).equals(body));
    const mbps = (ms) => (size / MiB / (ms / 1000)).toFixed(1);
    results.sizeBytes = size;
    results.browserOpenMiBps = Number(mbps(results.browserOpenMs));
    results.cliOpenMiBps = Number(mbps(results.cliOpenMs));
    fs.writeFileSync(path.join(ART, 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`     forward ${size / MiB} MiB part: browser ${results.browserForwardMs.toFixed(0)} ms, CLI ${results.cliForwardMs.toFixed(0)} ms`);
    console.log(`     open ${size / MiB} MiB: browser ${results.browserOpenMs.toFixed(0)} ms (${mbps(results.browserOpenMs)} MiB/s), CLI ${results.cliOpenMs.toFixed(0)} ms (${mbps(results.cliOpenMs)} MiB/s)`);
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const only = process.argv[2];
  recorderSelfTest();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let failed = 0;
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    const started = Date.now();
    try {
      await t.fn();
      console.log(`ok   ${t.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${e && e.stack ? e.stack : e}`);
      for (const ctx of browser.contexts()) {
        for (const p of ctx.pages()) {
          try { await p.screenshot({ path: path.join(ART, `failure-${failed}-${Date.now()}.png`), fullPage: true }); } catch (_) { /* closed */ }
        }
      }
    }
    for (const ctx of browser.contexts()) await ctx.close();
  }
  // Every axe run of the suite (the accessibility step and the states checked in other steps).
  if (a11yReport.length) fs.writeFileSync(path.join(ART, 'accessibility.json'), JSON.stringify(a11yReport, null, 1));
  let requests = 0;
  let bodies = 0;
  for (const r of recorders) {
    requests += r.requests;
    bodies += r.bodies;
    for (const v of r.scan()) { failed++; console.log(`FAIL request recorder (${r.name}): ${v}`); }
  }
  for (const e of pageErrors) { failed++; console.log(`FAIL page error: ${e}`); }
  console.log(`request recorder: ${requests} requests, ${bodies} bodies checked against ${secrets.length} secrets`);
  if (requests === 0 || bodies === 0) { failed++; console.log('FAIL request recorder saw nothing'); }
  await browser.close();
  console.log(failed ? `${failed} failure(s); artifacts in ${ART}` : `all passed; artifacts in ${ART}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
