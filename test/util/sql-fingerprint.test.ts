import { describe, expect, it } from 'vitest';
import { normalizeSql, sqlFingerprint } from '../../lib/util/sql-fingerprint.ts';

describe('normalizeSql', () => {
  it('drops comments, folds whitespace and case, and replaces literals', () => {
    const sql = `-- nightly load, run 2026-11-28
      SELECT  id, SUM(amount) /* gross */
      FROM sales
      WHERE day = '2026-11-28' AND amount > 10.5 LIMIT 100`;
    expect(normalizeSql(sql)).toBe('select id,sum(amount)from sales where day=? and amount>? limit ?');
  });

  it('keeps quoted identifiers exactly, and names with digits whole', () => {
    expect(normalizeSql('select `Order Id` from "Sales"."T1" join p_2026 on x=1e3')).toBe(
      'select `Order Id` from "Sales"."T1" join p_2026 on x=?',
    );
  });

  it('reads escaped quotes inside a string as part of it', () => {
    expect(normalizeSql("select 'it''s -- not a comment', 'a\\'b' from t")).toBe('select ?,? from t');
  });

  it('gives a statement with an unterminated comment or string a result instead of throwing', () => {
    expect(normalizeSql('select 1 /* open')).toBe('select ?');
    expect(normalizeSql("select 'open")).toBe('select ?');
  });
});

describe('sqlFingerprint', () => {
  it('is the same for two runs of one query that differ in dates, spacing and comments', () => {
    const monday = "INSERT INTO daily SELECT * FROM raw WHERE dt = '2026-11-30' -- run 1";
    const tuesday = "insert into daily\n  select *\n  from raw\n  where dt='2026-12-01'";
    expect(sqlFingerprint(monday)).toBe(sqlFingerprint(tuesday));
    expect(sqlFingerprint(monday)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('differs when the query reads another table or column', () => {
    expect(sqlFingerprint('select a from t1')).not.toBe(sqlFingerprint('select a from t2'));
    expect(sqlFingerprint('select a from t')).not.toBe(sqlFingerprint('select b from t'));
    expect(sqlFingerprint('select `A` from t')).not.toBe(sqlFingerprint('select `a` from t'));
  });
});
