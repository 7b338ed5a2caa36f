/**
 * Where a text stops being JSON (RFC 8259), for loader errors. `JSON.parse` messages differ
 * between Node versions, often give no position ("Unexpected end of JSON input") and quote the
 * input, which may be patient text; this scanner gives the offset, line, column and a reason
 * from a fixed list, and never quotes anything.
 */

export interface JsonSyntaxError {
  /** JS index of the first offending character (the text's length at an unexpected end). */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based, in code points. */
  column: number;
  reason: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const WS = new Set([' ', '\t', '\n', '\r']);

/** The first syntax error of `src`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(src: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new Stop(at, at >= src.length ? 'unexpected end of input' : reason);
  };
  const skip = () => {
    while (i < src.length && WS.has(src[i])) i++;
  };
  const literal = (word: string) => {
    for (let k = 0; k < word.length; k++, i++) if (src[i] !== word[k]) fail('unexpected character');
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= src.length) fail('unterminated string');
      const c = src.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('control character inside a string');
      if (c === 0x5c) {
        const e = src[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/u.test(src.slice(i + 2, i + 6))) fail('invalid \\u escape', Math.min(i + 2, src.length));
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('invalid escape', i + 1);
        continue;
      }
      i++;
    }
  };
  const digits = () => {
    const start = i;
    while (i < src.length && src[i] >= '0' && src[i] <= '9') i++;
    if (i === start) fail('invalid number');
  };
  const number = () => {
    if (src[i] === '-') i++;
    if (src[i] === '0') i++;
    else digits();
    if (src[i] === '.') {
      i++;
      digits();
    }
    if (src[i] === 'e' || src[i] === 'E') {
      i++;
      if (src[i] === '+' || src[i] === '-') i++;
      digits();
    }
  };
  // Iterative over containers, so a deeply nested file cannot overflow the stack.
  const stack: Array<'[' | '{'> = [];
  const value = (): void => {
    skip();
    const c = src[i];
    if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      skip();
      if (src[i] === (c === '{' ? '}' : ']')) {
        stack.pop();
        i++;
        close();
        return;
      }
      if (c === '{') member();
      return;
    }
    if (c === '"') string();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else fail('unexpected character');
    close();
  };
  const member = () => {
    skip();
    if (src[i] !== '"') fail('expected a property name');
    string();
    skip();
    if (src[i] !== ':') fail('expected ":"');
    i++;
  };
  /** After a complete value: separators and closers of the enclosing containers. */
  const close = () => {
    for (;;) {
      skip();
      const top = stack.at(-1);
      if (top === undefined) return;
      const end = top === '{' ? '}' : ']';
      if (src[i] === end) {
        stack.pop();
        i++;
        continue;
      }
      if (src[i] !== ',') fail(top === '{' ? 'expected "," or "}"' : 'expected "," or "]"');
      i++;
      if (top === '{') member();
      return;
    }
  };
  try {
    skip();
    if (i >= src.length) fail('empty input');
    do value();
    while (stack.length > 0);
    skip();
    if (i < src.length) fail('unexpected content after the JSON value');
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { offset: err.offset, ...lineColumn(src, err.offset), reason: err.reason };
  }
}

/** 1-based line and code-point column of a JS index. */
export function lineColumn(src: string, offset: number): { line: number; column: number } {
  const before = src.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 1;
  for (let k = before.indexOf('\n'); k >= 0; k = before.indexOf('\n', k + 1)) line++;
  return { line, column: Array.from(before.slice(lineStart)).length + 1 };
}
