/**
 * The fingerprint of a SQL statement: what stays the same across the runs of one scheduled query whose dates,
 * ids and comments change. DLI job ids are per run, so this is one way to tie runs of one logical job together.
 */
import { createHash } from 'node:crypto';

/** Characters that may continue a word: identifiers and keywords, and digits inside them (`t1`, `p_2026`). */
const WORD_CHAR = /[\p{L}\p{N}_$]/u;
const DIGIT = /[0-9]/;

/**
 * The statement with its comments and whitespace runs removed, every string and number literal replaced by `?`,
 * and words folded to lower case (SQL keywords and unquoted identifiers are case-insensitive). Quoted identifiers
 * (`` `name` `` and `"name"`) are kept exactly, since their case is part of the name. One pass, no parser: a
 * statement DLI would refuse still gets a stable fingerprint.
 */
export function normalizeSql(sql: string): string {
  const out: string[] = [];
  let pendingSpace = false;
  const emit = (token: string): void => {
    if (pendingSpace && out.length > 0) out.push(' ');
    pendingSpace = false;
    out.push(token);
  };
  let at = 0;
  while (at < sql.length) {
    const char = sql[at] as string;
    const next = sql[at + 1];
    if (/\s/u.test(char)) {
      pendingSpace = true;
      at += 1;
    } else if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', at);
      at = end === -1 ? sql.length : end + 1;
      pendingSpace = true;
    } else if (char === '/' && next === '*') {
      const end = sql.indexOf('*/', at + 2);
      at = end === -1 ? sql.length : end + 2;
      pendingSpace = true;
    } else if (char === "'") {
      at = quotedEnd(sql, at, "'");
      emit('?');
    } else if (char === '`' || char === '"') {
      const end = quotedEnd(sql, at, char);
      emit(sql.slice(at, end));
      at = end;
    } else if (DIGIT.test(char) || (char === '.' && next !== undefined && DIGIT.test(next))) {
      at = numberEnd(sql, at);
      emit('?');
    } else if (WORD_CHAR.test(char)) {
      let end = at + 1;
      while (end < sql.length && WORD_CHAR.test(sql[end] as string)) end += 1;
      emit(sql.slice(at, end).toLowerCase());
      at = end;
    } else {
      emit(char);
      at += 1;
    }
  }
  return joinTokens(out);
}

/** The first 16 hex digits of the SHA-256 of {@link normalizeSql}: short enough for a message, wide enough not to collide. */
export function sqlFingerprint(sql: string): string {
  return createHash('sha256').update(normalizeSql(sql)).digest('hex').slice(0, 16);
}

/** Index just past a quoted run starting at `start`; a doubled quote or a backslash escapes the quote. */
function quotedEnd(sql: string, start: number, quote: string): number {
  let at = start + 1;
  while (at < sql.length) {
    const char = sql[at];
    if (char === '\\') at += 2;
    else if (char === quote && sql[at + 1] === quote) at += 2;
    else if (char === quote) return at + 1;
    else at += 1;
  }
  return sql.length;
}

/** Index just past a number: digits, a fraction, an exponent and a Spark type suffix such as `10L` or `1.5BD`. */
function numberEnd(sql: string, start: number): number {
  const match = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:[lLsSyY]|[bB][dD]|[dDfF])?/.exec(
    sql.slice(start, start + 64),
  );
  return start + (match?.[0].length ?? 1);
}

function isPunctuation(token: string): boolean {
  return token.length === 1 && !WORD_CHAR.test(token) && token !== '?';
}

/** Joins tokens, dropping the spaces next to punctuation: they carry no meaning, so `a = 1` and `a=1` agree. */
function joinTokens(tokens: string[]): string {
  let text = '';
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] as string;
    if (token === ' ') {
      const before = tokens[index - 1];
      const after = tokens[index + 1];
      if (before === undefined || after === undefined || isPunctuation(before) || isPunctuation(after))
        continue;
    }
    text += token;
  }
  return text;
}
