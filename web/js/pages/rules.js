// Routing rules (振り分けルール): one line each, `CONDITION -> CERTIFICATE-ID`, evaluated by the
// forwarder's agent. Create and edit here (a helper builds a line from a label and a member of
// the directory), test against sample parts with the wasm testRules, save with a signed
// set-rules statement.
import { t } from '../i18n.js';
import { h, field, statusBox, badge } from '../ui.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { need } from '../wasm.js';
import { errorText, explained } from '../errors.js';
import { directory } from '../orgs.js';

export default async function rulesPage(root) {
  const s = session.current();
  const me = session.me();
  const st = statusBox();
  root.append(h('h1', {}, t('rules.title')), h('p', { class: 'lead' }, t('rules.lead')));
  const area = h('textarea', { id: 'rules-text', name: 'rules', rows: 8, class: 'mono', spellcheck: false });
  let members = [];
  const signed = h('p', { id: 'rules-signed' });
  try {
    const got = await api.getJson('/v1/rules');
    area.value = got.rules.join('\n');
    // Only rules stored with the statement this member's key signed over exactly them are
    // applied by its agent; anything else was changed on the server.
    const check = s.verifyRules(got.rules, got.statement || null);
    if (check.state === 'signed') signed.replaceChildren(badge('verified', t('rules.signed')));
    else if (check.state === 'unsigned') {
      signed.className = 'status error';
      signed.setAttribute('role', 'alert');
      signed.replaceChildren(explained(t('rules.unsigned'), check.reason || ''));
    }
    // A rule's target receives parts: it must be able to read or forward them.
    members = (await directory(me.orgId, s.organizationRecord())).filter((m) => m.usable
      && (m.verified.roles || []).some((r) => r === 'reader' || r === 'forwarder' || r === 'representative'));
  } catch (e) { st.show(errorText(e), 'error'); }
  const names = new Map(members.map((m) => [m.info.cert_id, m.verified.name]));

  // Helper: condition + member -> a rule line.
  const cond = h('input', { type: 'text', id: 'rule-cond', name: 'condition', placeholder: 'district=Omachi' });
  const target = h('select', { id: 'rule-target', name: 'target' },
    members.map((m) => h('option', { value: m.info.cert_id }, `${m.verified.name} (${m.verified.fingerprintShort})`)));
  const add = h('button', { type: 'button', id: 'rule-add' }, t('rules.add'));
  add.addEventListener('click', () => {
    const c = cond.value.trim() || '*';
    if (!target.value) return;
    area.value = `${area.value.replace(/\s+$/, '')}${area.value.trim() ? '\n' : ''}${c} -> ${target.value}`;
    cond.value = '';
    area.focus();
  });

  const sample = h('textarea', { id: 'rules-sample', name: 'sample', rows: 4, class: 'mono', spellcheck: false },
    'omachi.csv district=Omachi\nyasaka.csv district=Yasaka');
  const category = h('input', { type: 'text', id: 'rules-category', name: 'category', placeholder: 'keirokai' });
  const results = h('div', { id: 'rules-results', 'aria-live': 'polite' });
  const testBtn = h('button', { type: 'button', id: 'rules-test' }, t('rules.test'));
  testBtn.addEventListener('click', () => {
    results.replaceChildren();
    try {
      const parts = sample.value.split('\n').map((l) => l.trim()).filter(Boolean).map((line, index) => {
        const [name, ...labs] = line.split(/\s+/);
        const labels = {};
        for (const l of labs) { const i = l.indexOf('='); if (i > 0) labels[l.slice(0, i)] = l.slice(i + 1); }
        return { index, name, labels };
      });
      const rules = lines(area.value);
      const out = need().testRules(rules, parts, category.value.trim() || null);
      const byPart = new Map(Array.from(out || [], (r) => [r.part, r]));
      results.append(h('table', { class: 'list' }, h('thead', {}, h('tr', {},
        [t('rules.col.part'), t('rules.col.target'), t('rules.col.rule')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, parts.map((p) => {
        const r = byPart.get(p.index);
        const hit = r && r.target;
        return h('tr', { dataset: { part: p.index } }, h('td', {}, p.name), h('td', {}, hit ? (names.get(r.target) || r.target) : t('rules.stays')),
          h('td', { class: 'mono' }, hit && r.rule !== null && r.rule !== undefined ? rules[r.rule] || String(r.rule) : ''));
      }))));
    } catch (e) { results.append(h('p', { class: 'status error', role: 'alert' }, errorText(e))); }
  });

  const save = h('button', { type: 'button', class: 'primary', id: 'rules-save' }, t('rules.save'));
  save.addEventListener('click', async () => {
    st.clear();
    try {
      const rules = lines(area.value);
      need().testRules(rules, [], null);
      const action = s.actionSetRules(rules);
      const saved = await api.putJson('/v1/rules', { rules }, { action });
      area.value = saved.rules.join('\n');
      st.show(t('rules.saved', { n: saved.rules.length }), 'ok');
      signed.className = '';
      signed.removeAttribute('role');
      signed.replaceChildren(s.verifyRules(saved.rules, saved.statement || null).state === 'signed' ? badge('verified', t('rules.signed')) : '');
    } catch (e) { st.show(errorText(e), 'error'); }
  });

  root.append(h('section', { class: 'card' }, signed, field(t('rules.text'), area, t('rules.syntax')),
    h('div', { class: 'toolbar' }, h('label', { for: 'rule-cond' }, t('rules.condition')), cond,
      h('label', { for: 'rule-target' }, t('rules.target')), target, add),
    h('div', { class: 'actions' }, save), st),
  h('section', { class: 'card' }, h('h2', {}, t('rules.testTitle')), field(t('rules.sample'), sample, t('rules.sampleHint')), field(t('send.category'), category),
    h('div', { class: 'actions' }, testBtn), results));
}

function lines(text) { return text.split('\n').map((l) => l.trim()).filter(Boolean); }
