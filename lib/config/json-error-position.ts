/**
 * Where and why JSON.parse failed, without quoting the text: V8's "Unexpected token" message embeds a snippet
 * of the file (which may be a secret) and no position, so the position is then found by a scan of our own.
 */
export function describeJsonSyntaxError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const positioned = /^(.*?) in JSON at position (\d+)/s.exec(message);
  if (positioned?.[1] !== undefined && positioned[2] !== undefined) {
    return `${positioned[1]} at ${lineAndColumn(text, Number(positioned[2]))}`;
  }
  if (message.startsWith('Unexpected end of JSON input')) {
    return `unexpected end of input at ${lineAndColumn(text, text.length)}`;
  }
  return `unexpected token at ${lineAndColumn(text, findJsonSyntaxError(text) ?? 0)}`;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

class JsonSyntaxErrorAt {
  readonly offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }
}

/** The offset of the first JSON syntax error in `text`, or null when it is valid JSON (RFC 8259). */
function findJsonSyntaxError(text: string): number | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters (RFC 8259 §7).
  const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  let at = 0;
  const skipWhitespace = () => {
    while (' \t\n\r'.includes(text.charAt(at)) && at < text.length) at++;
  };
  const expect = (char: string) => {
    if (text.charAt(at) !== char) throw new JsonSyntaxErrorAt(at);
    at++;
  };
  const match = (pattern: RegExp) => {
    pattern.lastIndex = at;
    if (!pattern.test(text)) throw new JsonSyntaxErrorAt(at);
    at = pattern.lastIndex;
  };
  const sequence = (close: string, member: () => void) => {
    at++;
    skipWhitespace();
    if (text.charAt(at) === close) {
      at++;
      return;
    }
    for (;;) {
      member();
      skipWhitespace();
      if (text.charAt(at) !== ',') break;
      at++;
    }
    expect(close);
  };
  const value = (): void => {
    skipWhitespace();
    const char = text.charAt(at);
    if (char === '{') {
      sequence('}', () => {
        skipWhitespace();
        match(STRING);
        skipWhitespace();
        expect(':');
        value();
      });
    } else if (char === '[') {
      sequence(']', value);
    } else if (char === '"') {
      match(STRING);
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      match(NUMBER);
    } else {
      const literal = ['true', 'false', 'null'].find((word) => word.startsWith(char) && char !== '');
      if (literal === undefined) throw new JsonSyntaxErrorAt(at);
      for (const expected of literal) expect(expected);
    }
  };
  try {
    value();
    skipWhitespace();
    if (at < text.length) throw new JsonSyntaxErrorAt(at);
    return null;
  } catch (error) {
    if (error instanceof JsonSyntaxErrorAt) return error.offset;
    throw error;
  }
}
