// Key storage in IndexedDB. Only passphrase-protected key files are stored (the same format as
// the CLI's): a member key file, or the pending key file of an enrollment in progress. Nothing
// here is ever sent to the network.

const DB = 'soshiki';
const STORE = 'keys';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'id' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const store = t.objectStore(STORE);
      let result;
      Promise.resolve(fn(store)).then((r) => { result = r; });
      t.oncomplete = () => resolve(result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}

function wrap(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Entries: {id, kind: 'member'|'pending', file: Uint8Array, memberName, orgId, orgName,
 * certId?, enrollmentId?, orgRecord? (pending), created}.
 */
export async function listKeys() {
  const all = await tx('readonly', (s) => wrap(s.getAll()));
  return (all || []).sort((a, b) => (a.created || 0) - (b.created || 0));
}

export async function getKey(id) {
  return tx('readonly', (s) => wrap(s.get(id)));
}

export async function putKey(entry) {
  await tx('readwrite', (s) => wrap(s.put({ created: Math.floor(Date.now() / 1000), ...entry })));
}

export async function deleteKey(id) {
  await tx('readwrite', (s) => wrap(s.delete(id)));
}
