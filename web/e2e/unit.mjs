// Unit tests of the UI's pure modules, in Node (no browser): the CSV splitter and the message
// table. Run by scripts/e2e.sh before the browser tests (`node web/e2e/unit.mjs`).
import assert from 'node:assert/strict';

const { parseCsv, columns, splitByColumn } = await import('../js/csv.js');

let n = 0;
function test(name, fn) {
  fn();
  n++;
  console.log(`ok   unit: ${name}`);
}

test('CSV records keep their raw text, quotes and line endings', () => {
  const text = 'a,b,c\r\n1,"x, y",3\r\n2,"multi\nline ""q""",4\n';
  const recs = parseCsv(text);
  assert.equal(recs.length, 3);
  assert.deepEqual(recs[1].fields, ['1', 'x, y', '3']);
  assert.deepEqual(recs[2].fields, ['2', 'multi\nline "q"', '4']);
  assert.equal(recs.map((r) => r.raw).join(''), text);
});

test('split by column: one part per value, header first, rows byte for byte', () => {
  const text = '\uFEFF番号,氏名,地区\r\n1,"架空, 太郎",大町\r\n2,架空 花子,八坂\r\n3,架空 次郎,大町\r\n';
  assert.deepEqual(columns(text), ['番号', '氏名', '地区']);
  const parts = splitByColumn(text, 2);
  assert.deepEqual(parts.map((p) => p.value), ['大町', '八坂']);
  assert.equal(parts[0].text, '\uFEFF番号,氏名,地区\r\n1,"架空, 太郎",大町\r\n3,架空 次郎,大町\r\n');
  assert.equal(parts[1].text, '\uFEFF番号,氏名,地区\r\n2,架空 花子,八坂\r\n');
});

test('split by column: a last line without newline, blank lines skipped, short rows refused', () => {
  const parts = splitByColumn('k,v\n1,a\n\n2,b', 1);
  assert.deepEqual(parts.map((p) => p.text), ['k,v\n1,a\n', 'k,v\n2,b\n']);
  assert.throws(() => splitByColumn('k,v\n1\n', 1), (e) => e.line === 2);
  assert.deepEqual(splitByColumn('k,v\n', 1), []);
});

// The message table needs a browser-less shim for localStorage/document.
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
const i18n = await import('../js/i18n.js');

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
