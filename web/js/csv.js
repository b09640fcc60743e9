// Splitting a CSV file into one part per value of a column. Rows are copied byte for byte
// (the raw text of each record, quotes and line endings kept); the header row starts every part.

/** Records of `text`: [{raw, fields}] (RFC 4180 quoting; CRLF or LF). */
export function parseCsv(text) {
  const records = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = i;
    const fields = [];
    let field = '';
    let inQuotes = false;
    for (;;) {
      if (i >= n) { fields.push(field); break; }
      const c = text[i];
      if (inQuotes) {
        if (c === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; } else { inQuotes = false; i++; }
        } else { field += c; i++; }
      } else if (c === '"') { inQuotes = true; i++; }
      else if (c === ',') { fields.push(field); field = ''; i++; }
      else if (c === '\r' && text[i + 1] === '\n') { fields.push(field); i += 2; break; }
      else if (c === '\n' || c === '\r') { fields.push(field); i++; break; }
      else { field += c; i++; }
    }
    records.push({ raw: text.slice(start, i), fields });
  }
  return records;
}

export function columns(text) {
  const recs = parseCsv(text);
  if (!recs.length) return [];
  return recs[0].fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim());
}

/**
 * Split by column index: [{value, text}] in order of first appearance. Blank lines are kept
 * nowhere; a record without that column is an error (the caller shows which line).
 */
export function splitByColumn(text, col) {
  const recs = parseCsv(text);
  if (recs.length < 2) return [];
  const header = recs[0].raw.endsWith('\n') || recs[0].raw.endsWith('\r') ? recs[0].raw : `${recs[0].raw}\n`;
  const groups = new Map();
  for (let r = 1; r < recs.length; r++) {
    const rec = recs[r];
    if (rec.fields.length === 1 && rec.fields[0].trim() === '') continue;
    if (col >= rec.fields.length) {
      const e = new Error(`line ${r + 1} has no column ${col + 1}`);
      e.line = r + 1;
      throw e;
    }
    const v = rec.fields[col].trim();
    if (!groups.has(v)) groups.set(v, [header]);
    const raw = rec.raw.endsWith('\n') || rec.raw.endsWith('\r') ? rec.raw : `${rec.raw}\n`;
    groups.get(v).push(raw);
  }
  return [...groups].map(([value, lines]) => ({ value, text: lines.join('') }));
}
