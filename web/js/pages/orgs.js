// Organizations (組織の確認): pin another organization by the fingerprint obtained out of band
// (telephone, paper), after comparing it with the record the server returns. Senders address
// only pinned organizations; the inbox marks senders from pinned organizations.
import { t } from '../i18n.js';
import { h, field, statusBox, comparisonCodeEl, confirmDialog, badge } from '../ui.js';
import * as session from '../session.js';
import { need } from '../wasm.js';
import { errorText, explained } from '../errors.js';
import { fetchOrganization, confirmFoundOrganization } from '../orgs.js';

// The organization pinned by the action that re-rendered this page, said once.
let justPinned = null;

export default async function orgsPage(root, _args, { go }) {
  root.append(h('h1', {}, t('orgs.title')), h('p', { class: 'lead' }, t('orgs.lead')));
  if (justPinned !== null) {
    root.append(h('p', { class: 'status ok', role: 'status', id: 'pin-done' }, t('orgs.pinDone', { name: justPinned })));
    justPinned = null;
  }
  const me = session.me();
  if (me) root.append(h('section', { class: 'card' }, h('h2', {}, t('orgs.mine', { name: me.orgName })), comparisonCodeEl(me.orgId)));
  const pins = session.pins();
  root.append(h('section', { class: 'card' }, h('h2', {}, t('orgs.pinned')),
    Object.keys(pins).length ? h('ul', { class: 'plain', id: 'pinned-orgs' }, Object.entries(pins).map(([id, name]) => {
      const rm = h('button', { type: 'button', class: 'small danger' }, t('orgs.unpin'));
      rm.addEventListener('click', async () => {
        if (!await confirmDialog(t('orgs.unpin'), t('orgs.unpinConfirm', { name }), t('orgs.unpin'))) return;
        try { await session.unpin(id); } catch (e) { root.append(h('p', { class: 'status error', role: 'alert' }, errorText(e))); return; }
        go('orgs');
      });
      return h('li', {}, h('strong', {}, name), ' ', rm, comparisonCodeEl(id, 'fp.shortCode'));
    })) : h('p', { class: 'muted' }, t('orgs.none'))));

  // The organization-wide list, signed by the organization key (read-only here).
  const shared = session.partners();
  const refused = session.partnersRefused();
  root.append(h('section', { class: 'card', id: 'org-partners' }, h('h2', {}, t('orgs.orgPartners')), h('p', { class: 'hint' }, t('orgs.orgPartnersLead')),
    refused ? h('p', { class: 'status error', role: 'alert' }, explained(t('orgs.partnersRefused'), refused)) : null,
    Object.keys(shared).length ? h('ul', { class: 'plain', id: 'org-partner-list' }, Object.entries(shared).map(([id, name]) =>
      h('li', {}, h('strong', {}, name), ' ', badge('verified', t('orgs.adminChecked')), comparisonCodeEl(id, 'fp.shortCode')))) : h('p', { class: 'muted' }, t('orgs.none'))));

  const fp = h('input', { type: 'text', id: 'pin-fp', name: 'fingerprint', class: 'mono', autocomplete: 'off', spellcheck: false });
  const look = h('button', { type: 'submit' }, t('setup.lookUp'));
  const result = h('div', { 'aria-live': 'polite' });
  const st = statusBox();
  const form = h('form', { class: 'card', id: 'pin-form' }, h('h2', {}, t('orgs.add')),
    field(t('orgs.partnerFp'), fp, t('orgs.partnerFpHint')), h('div', { class: 'actions' }, look), result, st);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    st.clear();
    result.replaceChildren();
    try {
      need();
      const org = await fetchOrganization(fp.value);
      result.append(...confirmFoundOrganization(org, fp.value, {
        checkboxId: 'pin-same', buttonId: 'pin-button', buttonLabel: t('orgs.pin'), st,
        onConfirm: async () => { await session.pin(org.id, org.name); justPinned = org.name; go('orgs'); },
      }));
    } catch (e) { st.show(errorText(e), 'error'); }
  });
  root.append(form);
}
