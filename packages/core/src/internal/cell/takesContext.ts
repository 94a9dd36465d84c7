// Whether a handler can see its third argument, `ctx`. An actor whose handlers never take one
// carries no context at all (an object per actor and incarnation, most of an idle actor's
// bytes after the cell itself): a handler that declares two parameters cannot observe the third.

/**
 * True unless `fn` certainly cannot read its third argument: it declares at most two plain
 * parameters (no default values, no rest parameter) and never names `arguments`. Anything this
 * does not understand (a bound or native function, a computed or quoted method name, strings or
 * comments in the parameter list) counts as taking the context: a wrong "true" costs an object,
 * a wrong "false" would hide `ctx` from a handler, so every doubt answers true.
 */
export function takesContext(fn: (...args: never[]) => unknown): boolean {
  if (fn.length >= 3) return true;
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return true;
  }
  if (src.includes('[native code]') || /\barguments\b/.test(src)) return true;
  const open = src.indexOf('(');
  const arrow = src.indexOf('=>');
  // `x => …` (or `async x => …`): one parameter, no parentheses.
  if (arrow >= 0 && (open < 0 || arrow < open)) return false;
  if (open < 0) return true;
  // Before the list: a name, `async`, `function`, `*`: anything quoted or computed is a doubt.
  if (/['"`[\]/]/.test(src.slice(0, open))) return true;
  let depth = 0;
  let params = 1;
  let empty = true;
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i] as string;
    if (c === "'" || c === '"' || c === '`' || c === '/') return true;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ')') {
      if (depth === 0) return empty ? false : params >= 3;
      depth--;
    } else if (c === '.' && src.startsWith('...', i)) return true;
    else if (depth === 0 && c === '=') return true;
    else if (depth === 0 && c === ',') params++;
    if (c.trim() !== '' && c !== ',') empty = false;
  }
  return true;
}
