/** Rows a table holds back to size its columns; rows after them are written at once, in the widths found. */
export const TABLE_SIZING_ROWS = 1000;

/** Two spaces between columns: a cell with one space in it still reads as one cell. */
const COLUMN_GAP = '  ';

export interface TextTable {
  /** Adds one row, a cell per column. */
  row(cells: readonly string[]): void;
  /** Writes what is held back; call once, after the last row. */
  end(): void;
}

/**
 * A plain-text table whose columns are as wide as their widest cell. Streamed, so its memory does not grow with the
 * store: the header and the first `sizingRows` rows decide the widths, and a later, wider cell pushes the rest of
 * its line to the right rather than being cut. Control characters in cells are escaped so that one cell cannot
 * break a line; the last column is not padded.
 */
export function createTextTable(
  header: readonly string[],
  write: (text: string) => void,
  sizingRows = TABLE_SIZING_ROWS,
): TextTable {
  let held: string[][] | null = [header.map(printable)];
  let widths: number[] = [];

  const line = (cells: readonly string[]) =>
    `${cells.map((cell, index) => (index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join(COLUMN_GAP)}`.trimEnd();

  function flush(): void {
    if (held === null) return;
    widths = header.map((_, column) => Math.max(...(held ?? []).map((cells) => cells[column]?.length ?? 0)));
    write(held.map((cells) => `${line(cells)}\n`).join(''));
    held = null;
  }

  return {
    row(cells) {
      const shown = cells.map(printable);
      if (held === null) {
        write(`${line(shown)}\n`);
        return;
      }
      held.push(shown);
      // The header is held too: one more than the rows that size the table.
      if (held.length > sizingRows) flush();
    },
    end: flush,
  };
}

/** `text` with control characters (a newline in a label or an error) written as JSON escapes. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f]/g, (character) => JSON.stringify(character).slice(1, -1));
}
