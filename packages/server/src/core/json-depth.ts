import { AppError } from './errors.ts';

/**
 * How deep arrays and objects may nest in JSON the platform accepts: request bodies (API and gateway),
 * function results, and so every stored record. Deeper JSON still parses (V8's parser does not recurse)
 * but cannot be serialised again (JSON.stringify does), and php's json_decode stops at 512.
 */
export const MAX_JSON_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether arrays and objects in this JSON text nest deeper than `max`. A scan of the text, not a parse,
 * so it costs no stack however deep the text goes; brackets inside strings do not count. Text that is
 * not JSON gives a meaningless answer, which is fine: the parser refuses it next.
 */
export function nestedDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  // Most texts open fewer arrays and objects than the limit in all: counting them is a native search.
  if (text.length <= max || !opensMoreThan(text, max)) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = closingQuote(text, i);
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

function opensMoreThan(text: string, max: number): boolean {
  let count = 0;
  for (const bracket of ['[', '{']) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) if (++count > max) return true;
  }
  return false;
}

/** The index of the quote that closes the string opened at `open` (the end of the text if none does). */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  while (at !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return text.length;
}

export const tooDeepMessage = (what: string): string => `${what} is nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;

/** The 400 for a request whose JSON nests too deep (docs/errors.md). */
export const jsonTooDeep = (what = 'The JSON body'): AppError => new AppError('JSON_TOO_DEEP', tooDeepMessage(what), { details: { maxDepth: MAX_JSON_DEPTH } });
