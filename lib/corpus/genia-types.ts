/**
 * The usual reduction of GENIA's ontology classes to the five types of the nested-NER
 * benchmarks (Finkel & Manning 2009; Lu & Roth 2015): every DNA_*, RNA_* and protein_* class
 * collapses to its head, cell_line and cell_type stay, everything else is dropped.
 */
export const GENIA_TYPES = ['cell_line', 'protein', 'RNA', 'DNA', 'cell_type'] as const;

export function mapGeniaClass(sem: string): string | undefined {
  const m = /^G#(.+)$/.exec(sem.trim());
  if (!m) return undefined;
  const cls = m[1];
  if (cls.startsWith('DNA_')) return 'DNA';
  if (cls.startsWith('RNA_')) return 'RNA';
  if (cls.startsWith('protein_')) return 'protein';
  if (cls === 'cell_line' || cls === 'cell_type') return cls;
  return undefined;
}

/** `(AND G#x G#y)` → operator and member classes; undefined when `sem` is not a coordination. */
export function parseCoordination(sem: string): { operator: string; members: string[] } | undefined {
  const m = /^\(\s*(\S+)\s+(.*)\)\s*$/s.exec(sem.trim());
  if (!m) return undefined;
  return { operator: m[1], members: m[2].trim().split(/\s+/u) };
}
