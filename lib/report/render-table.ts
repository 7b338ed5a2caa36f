import { isSummary, type Cell, type Column, type ReportTable } from './table.ts';

function fixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return s === `-${(0).toFixed(digits)}` ? (0).toFixed(digits) : s; // no "-0.00"
}

export function formatCell(c: Cell | undefined, column: Column): string {
  const digits = column.digits ?? 2;
  if (c === null || c === undefined) return '–';
  if (typeof c === 'string') return c;
  if (typeof c === 'number') return fixed(c, digits);
  // means are ratios: print them as decimals even when they happen to be 0 or 1
  const mean = c.mean.toFixed(digits);
  return c.std === null ? mean : `${mean} (±${c.std.toFixed(digits)})`;
}

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function tableToMarkdown(t: ReportTable): string {
  const head = `| ${t.columns.map((c) => escapeMd(c.label)).join(' | ')} |`;
  const rule = `|${t.columns.map((c, i) => (i === 0 || typeof t.rows[0]?.[c.key] === 'string' ? ' --- |' : ' ---: |')).join('')}`;
  const body = t.rows.map((r) => `| ${t.columns.map((c) => escapeMd(formatCell(r[c.key], c))).join(' | ')} |`);
  const lines = [`## ${t.title}`, '', t.caption, ''];
  if (t.rows.length === 0) lines.push('_No runs for this table._');
  else lines.push(head, rule, ...body);
  return `${lines.join('\n')}\n`;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One header line; a column of mean ± std becomes two columns (`label`, `label std`), and
 * numbers keep full precision, because CSV is read by programs.
 */
export function tableToCsv(t: ReportTable): string {
  const split = t.columns.map((c) => t.rows.some((r) => isSummary(r[c.key])));
  const header: string[] = [];
  t.columns.forEach((c, i) => {
    header.push(c.label);
    if (split[i]) header.push(`${c.label} std`);
  });
  const lines = [header.map(csvField).join(',')];
  for (const r of t.rows) {
    const fields: string[] = [];
    t.columns.forEach((c, i) => {
      const v = r[c.key];
      if (split[i]) {
        fields.push(isSummary(v) ? String(v.mean) : '');
        fields.push(isSummary(v) && v.std !== null ? String(v.std) : '');
      } else {
        fields.push(v === null || v === undefined ? '' : typeof v === 'object' ? String(v.mean) : String(v));
      }
    });
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}
