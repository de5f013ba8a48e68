// RFC 4180 CSV reading (directory imports, the CSV-file source): quoted fields may hold commas,
// quotes ("") and line breaks; each record remembers the line it starts on so errors can name it.

/** A CSV file that is not RFC 4180; the directory import answers it as a 400 naming the line. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvRecord {
  /** 1-based line number of the record's first line in the file (the header is line 1). */
  line: number;
  values: string[];
}

/** Splits CSV text into records. Blank lines are skipped; a leading BOM is ignored. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let values: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let fieldStarted = false;
  let i = 0;

  const endField = () => {
    values.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRecord = () => {
    endField();
    if (!(values.length === 1 && values[0] === '')) records.push({ line: recordLine, values });
    values = [];
  };

  while (i < source.length) {
    const ch = source[i];
    if (quoted) {
      if (ch === '"') {
        if (source[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (fieldStarted) throw new CsvSyntaxError('a quote inside an unquoted field', line);
      quoted = true;
      fieldStarted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && source[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    field += ch;
    fieldStarted = true;
    i++;
  }
  if (quoted) throw new CsvSyntaxError('a quoted field is not closed', recordLine);
  if (field !== '' || values.length > 0) endRecord();
  return records;
}

/** Records as objects keyed by the header row's names (trimmed); extra cells are an error the caller reports. */
export function csvObjects(text: string): {
  header: string[];
  rows: { line: number; cells: Record<string, string>; extra: boolean }[];
} {
  const [head, ...rest] = parseCsv(text);
  if (!head) return { header: [], rows: [] };
  const header = head.values.map((h) => h.trim());
  return {
    header,
    rows: rest.map((r) => ({
      line: r.line,
      cells: Object.fromEntries(header.map((name, index) => [name, r.values[index] ?? ''])),
      extra: r.values.length > header.length,
    })),
  };
}
