/**
 * CSV tables of sensor history: SKAB (`;`-separated, `datetime` column, optional `anomaly` and
 * `changepoint` label columns) and plain CSV (`,`-separated with a timestamp column). Pure parsing
 * of text; the replay source and the backtest read files and hand the text here.
 */

export interface SensorTable {
  /** Sensor column names in file order (labels and timestamp excluded). */
  readonly columns: readonly string[];
  readonly timestampsMs: readonly number[];
  /** rows[i][j] = value of columns[j] at timestampsMs[i]; NaN where a cell was empty or not a number. */
  readonly rows: readonly (readonly number[])[];
  /** Per-row anomaly label (0/1) when the file has an `anomaly` column. */
  readonly labels: readonly number[] | undefined;
}

const TIME_COLUMNS = ['datetime', 'timestamp', 'time', 'date', 't_stamp', 'ts'];
const LABEL_COLUMNS = new Set(['anomaly', 'changepoint', 'label']);

/** Parses 'YYYY-MM-DD hh:mm:ss' (treated as UTC), ISO 8601, or epoch seconds / milliseconds. */
export function parseTimestamp(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return n < 1e11 ? n * 1000 : n;
  }
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t) ? `${t.replace(' ', 'T')}Z` : t;
  return Date.parse(iso);
}

export class CsvFormatError extends Error {
  override readonly name = 'CsvFormatError';
}

/** Parses a whole file. Throws CsvFormatError naming the line for a structural problem. */
export function parseSensorCsv(text: string): SensorTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0];
  if (header === undefined) throw new CsvFormatError('empty file: expected a header line');
  const sep = header.includes(';') ? ';' : ',';
  const names = header.split(sep).map((h) => h.trim().replace(/^"|"$/g, ''));
  const timeIdx = names.findIndex((n) => TIME_COLUMNS.includes(n.toLowerCase()));
  if (timeIdx < 0)
    throw new CsvFormatError(`header has no timestamp column (one of ${TIME_COLUMNS.join(', ')})`);
  const labelIdx = names.findIndex((n) => n.toLowerCase() === 'anomaly' || n.toLowerCase() === 'label');
  const sensorIdx = names
    .map((_, i) => i)
    .filter((i) => i !== timeIdx && !LABEL_COLUMNS.has((names[i] as string).toLowerCase()));
  const timestampsMs: number[] = [];
  const rows: number[][] = [];
  const labels: number[] | undefined = labelIdx >= 0 ? [] : undefined;
  for (let li = 1; li < lines.length; li++) {
    const cells = (lines[li] as string).split(sep);
    if (cells.length !== names.length) {
      throw new CsvFormatError(`line ${li + 1}: expected ${names.length} cells, got ${cells.length}`);
    }
    const ts = parseTimestamp(cells[timeIdx] as string);
    if (!Number.isFinite(ts))
      throw new CsvFormatError(`line ${li + 1}: cannot parse timestamp '${cells[timeIdx]}'`);
    timestampsMs.push(ts);
    rows.push(
      sensorIdx.map((i) => {
        const c = (cells[i] as string).trim();
        return c === '' ? Number.NaN : Number(c);
      }),
    );
    if (labels) labels.push(Number((cells[labelIdx] as string).trim()) > 0 ? 1 : 0);
  }
  return { columns: sensorIdx.map((i) => names[i] as string), timestampsMs, rows, labels };
}
