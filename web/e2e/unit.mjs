// Unit tests of the UI's pure modules, in Node (no browser): the CSV splitter of the browser
// crypto module (web/pkg, the Rust splitter the CLI also uses) and the message table. Run by
// scripts/e2e.sh before the browser tests (`node web/e2e/unit.mjs`), after web/pkg is built.
import assert from 'node:assert/strict';
import fs from 'node:fs';

const wasm = await import('../pkg/soshiki_wasm.js');
wasm.initSync({ module: fs.readFileSync(new URL('../pkg/soshiki_wasm_bg.wasm', import.meta.url)) });

let n = 0;
function test(name, fn) {
  fn();
  n++;
  console.log(`ok   unit: ${name}`);
}

const hex = (s) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
// 番号,地区 CRLF 1,表 CRLF 2,大町 CRLF 3,表 CRLF in CP932 (表 = 95 5C: its second byte is '\').
const header = '94d48d86 2c 926e8be6 0d0a';
const cp932 = hex(`${header} 31 2c 955c 0d0a 32 2c 91e592ac 0d0a 33 2c 955c 0d0a`);

test('CP932 CSV: columns decoded, parts keep the original bytes', () => {
  const info = wasm.csvColumns(cp932);
  assert.equal(info.encoding, 'cp932');
  assert.deepEqual(info.columns, ['番号', '地区']);
  const split = wasm.splitCsv(cp932, 'list.csv', 2);
  assert.equal(split.column, '地区');
  assert.deepEqual(split.parts.map((p) => [p.value, p.name, p.rows]), [['表', 'list_表.csv', 2], ['大町', 'list_大町.csv', 1]]);
  assert.deepEqual(split.parts[0].bytes, hex(`${header} 31 2c 955c 0d0a 33 2c 955c 0d0a`));
  assert.deepEqual(split.parts[1].bytes, hex(`${header} 32 2c 91e592ac 0d0a`));
  assert.deepEqual(wasm.splitCsv(cp932, 'list.csv', '地区'), split, 'by name as by number');
});

test('UTF-8 with BOM: every part starts with the BOM', () => {
  const bytes = new TextEncoder().encode('\uFEFFk,v\r\n1,a\r\n2,b\r\n');
  const split = wasm.splitCsv(bytes, 'x.csv', 2);
  assert.equal(split.encoding, 'utf-8-bom');
  for (const p of split.parts) assert.deepEqual([...p.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
});

// The message table needs a browser-less shim for localStorage/document.
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
const i18n = await import('../js/i18n.js');

test('every refusal of the splitter has a sentence in both languages with its details', () => {
  const enc = (s) => new TextEncoder().encode(s);
  const utf16 = Uint8Array.from([0xff, 0xfe, 0x31, 0, 0x0d, 0, 0x0a, 0]);
  const cases = [
    [utf16, 1, 'utf16'],
    [Uint8Array.from([0x61, 0, 0x2c, 0, 0x62, 0, 0x0a, 0]), 1, 'utf16-no-bom'],
    [Uint8Array.from([0x41, 0, 0x42, 0x43, 0x44, 0x45]), 1, 'binary'],
    [Uint8Array.from([0xef, 0xbb, 0xbf, 0x82, 0xa0]), 1, 'bad-utf8-after-bom'],
    [Uint8Array.from([0x61, 0x0a, 0xff, 0xff]), 1, 'unknown-encoding'],
    [enc(''), 1, 'empty'],
    [enc('a,b\n'), 1, 'no-data-rows'],
    [enc('a,b\n1,"x\n'), 1, 'unterminated-quote'],
    [enc('a,b\n1,x\n2\n'), 2, 'missing-field'],
    [enc('a,b\n1,x\n'), 3, 'no-such-column'],
    [enc('a,a\n1,x\n'), 'a', 'ambiguous-column'],
    [enc('a,\n1,x\n'), 2, 'unnamed-column'],
    [enc(`${'k'.repeat(65)}\n1\n`), 1, 'column-name-too-long'],
    [enc(`a\n${'v'.repeat(257)}\n`), 1, 'value-too-long'],
  ];
  for (const [bytes, column, code] of cases) {
    let err;
    try { wasm.splitCsv(bytes, 'x.csv', column); } catch (e) { err = e; }
    assert.ok(err, `${code}: refused`);
    assert.match(err.message, /^invalid: /, code);
    assert.equal(err.csv.code, code);
    for (const l of ['ja', 'en']) {
      i18n.setLang(l);
      const text = i18n.t(`csv.err.${code}`, err.csv);
      assert.ok(text !== `csv.err.${code}` && !/\{\w+\}/.test(text), `${code} ${l}: ${text}`);
    }
  }
  i18n.setLang('ja');
  assert.ok(i18n.t('csv.err.too-many-parts', { limit: 100000 }).includes('100000'));
});

test('every message has Japanese and English text, and the same placeholders', () => {
  for (const key of i18n.keys()) {
    i18n.setLang('ja');
    const ja = i18n.t(key);
    i18n.setLang('en');
    const en = i18n.t(key);
    assert.ok(ja && ja !== key, `${key}: ja`);
    assert.ok(en && en !== key, `${key}: en`);
    const ph = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
    assert.equal(ph(ja), ph(en), `${key}: placeholders`);
  }
  i18n.setLang('ja');
  assert.equal(i18n.t('nav.inbox'), '受信箱');
  assert.equal(i18n.t('err.api.other', { status: 409 }), 'サーバーがエラーを返しました（HTTP 409）。');
});

test('the clerk\'s words are the Japanese messages', () => {
  i18n.setLang('ja');
  const all = i18n.keys().map((k) => i18n.t(k)).join('\n');
  for (const w of ['受信箱', '転送', '再暗号化', '取り消し', '開封', '送信', '受領通知', '監査記録']) assert.ok(all.includes(w), w);
});

const { visibleText } = await import('../js/ui.js');
test('bidirectional controls in names and labels are shown, never obeyed', () => {
  assert.equal(visibleText('invoice\u202Efdp.exe'), 'invoice[U+202E]fdp.exe');
  assert.equal(visibleText('\u2067架空\u2069 太郎\u200F'), '[U+2067]架空[U+2069] 太郎[U+200F]');
  assert.equal(visibleText('大町地区 担当 (abc)'), '大町地区 担当 (abc)');
});

console.log(`unit: ${n} passed`);
