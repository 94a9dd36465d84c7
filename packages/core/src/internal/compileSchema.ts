// Schemas compiled to plain checking functions, for the hot path. A protocol's zod schema is
// read once (its definition, `schema._zod.def`) and turned into one JavaScript function that
// checks a value and builds the same output zod's `safeParse` would (unknown keys stripped,
// defaults applied, a fresh object). It covers what protocols are mostly made of: objects,
// strings, numbers, booleans, literals, enums, arrays, optional, nullable and default, with the
// usual length, range, integer and regex checks. Anything else (unions, transforms, refinements,
// strict objects, coercion, formats with more than a pattern) is not compiled, and a value the
// compiled function does not accept is handed to zod: the caller's issues always come from zod
// itself, so a compiled schema never changes what is accepted or what the errors say.
import { z } from 'zod';

/** What a compiled check returns when zod must decide (the value may be invalid, or uses something not compiled). */
export const ASK_ZOD: unique symbol = Symbol('holdfast.askZod');

/** A compiled check: the parsed value (as zod would give it), or {@link ASK_ZOD}. */
export type CompiledCheck = (value: unknown) => unknown;

interface Def {
  readonly type: string;
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: CheckDef } }>;
  readonly shape?: Record<string, z.ZodType>;
  readonly catchall?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly values?: readonly unknown[];
  readonly entries?: Record<string, unknown>;
  readonly coerce?: boolean;
  readonly defaultValue?: unknown;
}

interface CheckDef {
  readonly check: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly length?: number;
  readonly value?: number;
  readonly inclusive?: boolean;
  readonly format?: string;
  readonly pattern?: RegExp;
}

class NotCompiled extends Error {}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Above this many characters of generated code, zod is used as it is. */
const MAX_CODE = 20_000;

/**
 * The compiled check of `schema`, or null when it uses something not compiled (zod then checks
 * every value, as before).
 */
export function compileSchema(schema: z.ZodType): CompiledCheck | null {
  // An application that forbids generated code (zod's own switch) gets zod everywhere.
  if (z.core.globalConfig.jitless === true) return null;
  const consts: unknown[] = [];
  let vars = 0;
  const fresh = (prefix: string) => `${prefix}${vars++}`;
  const constant = (value: unknown) => {
    consts.push(value);
    return `k[${consts.length - 1}]`;
  };

  /** Code that checks `input` and leaves zod's output in the variable it returns (declared by the code). */
  function gen(s: z.ZodType, input: string, depth: number): { code: string; out: string } {
    if (depth > 32) throw new NotCompiled();
    const def = defOf(s);
    if (def.coerce === true) throw new NotCompiled();
    // A format schema (z.int32(), z.email(), …) is its own first check.
    const checks = [...((def as { check?: string }).check !== undefined ? [def as unknown as CheckDef] : []), ...(def.checks ?? []).map((c) => c._zod.def)];
    const out = fresh('o');
    switch (def.type) {
      // Primitives are their own output: no variable of their own (the code stays small, so that
      // the JIT inlines it into the sender's path).
      case 'string': {
        let code = `if (typeof ${input} !== 'string') return ASK;\n`;
        for (const c of checks) code += stringCheck(c, input, constant);
        return { code, out: input };
      }
      case 'number': {
        // An integer check (z.int(), .int(), int32, uint32) says number and finite too.
        const integer = checks.some((c) => c.check === 'number_format' && (c.format === 'safeint' || c.format === 'int32' || c.format === 'uint32'));
        let code = integer ? '' : `if (typeof ${input} !== 'number' || !Number.isFinite(${input})) return ASK;\n`;
        for (const c of checks) code += numberCheck(c, input);
        return { code, out: input };
      }
      case 'boolean':
        noChecks(checks);
        return { code: `if (typeof ${input} !== 'boolean') return ASK;\n`, out: input };
      case 'null':
        noChecks(checks);
        return { code: `if (${input} !== null) return ASK;\nconst ${out} = null;\n`, out };
      case 'undefined':
        noChecks(checks);
        return { code: `if (${input} !== undefined) return ASK;\nconst ${out} = undefined;\n`, out };
      case 'any':
      case 'unknown':
        noChecks(checks);
        return { code: `const ${out} = ${input};\n`, out };
      case 'literal': {
        noChecks(checks);
        const set = constant(new Set(def.values));
        return { code: `if (!${set}.has(${input})) return ASK;\nconst ${out} = ${input};\n`, out };
      }
      case 'enum': {
        noChecks(checks);
        const set = constant(new Set(Object.values(def.entries ?? {})));
        return { code: `if (!${set}.has(${input})) return ASK;\nconst ${out} = ${input};\n`, out };
      }
      case 'optional':
      case 'nullable':
      case 'default': {
        noChecks(checks);
        const zod = (s as unknown as { _zod: { traits?: Set<string> } })._zod;
        const innerOptin = (def.innerType as unknown as { _zod: { optin?: string } })._zod.optin;
        // An optional around a default substitutes the default; an exact optional refuses undefined.
        if (def.type === 'optional' && (innerOptin === 'defaulted' || zod.traits?.has('$ZodExactOptional') === true)) throw new NotCompiled();
        const inner = gen(def.innerType as z.ZodType, input, depth + 1);
        const test = def.type === 'nullable' ? `${input} === null` : `${input} === undefined`;
        const empty = def.type === 'nullable' ? 'null' : def.type === 'optional' ? 'undefined' : `${constant(def)}.defaultValue`;
        const code = `let ${out};\nif (${test}) ${out} = ${empty};\nelse {\n${inner.code}${out} = ${inner.out};\n}\n`;
        return { code, out };
      }
      case 'array': {
        const i = fresh('i');
        const e = fresh('e');
        const element = gen(def.element as z.ZodType, e, depth + 1);
        let code = `if (!Array.isArray(${input})) return ASK;\n`;
        for (const c of checks) code += lengthCheck(c, `${input}.length`);
        code += `const ${out} = new Array(${input}.length);\nfor (let ${i} = 0; ${i} < ${input}.length; ${i}++) {\nconst ${e} = ${input}[${i}];\n${element.code}${out}[${i}] = ${element.out};\n}\n`;
        return { code, out };
      }
      case 'object': {
        noChecks(checks);
        if (def.catchall !== undefined) throw new NotCompiled();
        let code = `if (${input} === null || typeof ${input} !== 'object' || Array.isArray(${input})) return ASK;\n`;
        const always: string[] = [];
        let after = '';
        for (const [key, value] of Object.entries(def.shape ?? {})) {
          if (key === '__proto__') throw new NotCompiled();
          const v = fresh('v');
          const k = JSON.stringify(key);
          code += `const ${v} = ${input}[${k}];\n`;
          const field = gen(value, v, depth + 1);
          // Whether a key may be absent, and what an absent key gives, as zod's objects decide it.
          const { optin, optout } = (value as unknown as { _zod: { optin?: string; optout?: string } })._zod;
          if (optin === undefined) {
            // An absent key reads as undefined: only a schema that takes undefined must tell them apart.
            if (takesUndefined(value)) code += `if (${v} === undefined && !(${k} in ${input})) return ASK;\n`;
            code += field.code;
            always.push(`${k}: ${field.out}`);
          } else if (optin === 'defaulted' && optout === undefined) {
            code += field.code;
            always.push(`${k}: ${field.out}`);
          } else if ((optin === 'optional' || optin === 'defaulted') && optout === 'optional') {
            const p = fresh('p');
            const o = fresh('f');
            // An absent key is checked too, but its failure only leaves it out.
            const absent = optin === 'optional' ? '' : `else { ${o} = ${constant(compileOrThrow(value))}(undefined); if (${o} === ASK) ${o} = undefined; }\n`;
            code += `const ${p} = ${v} !== undefined || ${k} in ${input};\nlet ${o};\nif (${p}) {\n${field.code}${o} = ${field.out};\n}\n${absent}`;
            after += optin === 'optional' ? `if (${p}) ${out}[${k}] = ${o};\n` : `if (${o} !== undefined || ${p}) ${out}[${k}] = ${o};\n`;
          } else {
            throw new NotCompiled();
          }
        }
        code += `const ${out} = { ${always.join(', ')} };\n${after}`;
        return { code, out };
      }
      default:
        throw new NotCompiled();
    }
  }

  /** A property's own compiled check (for an absent key whose schema supplies a value). */
  function compileOrThrow(s: z.ZodType): CompiledCheck {
    const check = compileSchema(s);
    if (check === null) throw new NotCompiled();
    return check;
  }

  try {
    const root = gen(schema, 'value', 0);
    const body = `${root.code}return ${root.out};`;
    if (body.length > MAX_CODE) return null;
    // Generated from the schema's own definition: no value from outside reaches the code text
    // (keys are JSON-quoted, everything else goes through `k`).
    const make = new Function('ASK', 'k', `return function check(value) {\n${body}\n};`) as (ask: symbol, k: unknown[]) => CompiledCheck;
    return make(ASK_ZOD, consts);
  } catch (e) {
    if (e instanceof NotCompiled) return null;
    throw e;
  }
}

/** Whether the compiled check of `s` may accept undefined (the rest refuse it by their type test). */
function takesUndefined(s: z.ZodType): boolean {
  const def = defOf(s);
  switch (def.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
    case 'object':
    case 'array':
      return false;
    case 'literal':
      return (def.values ?? []).includes(undefined);
    case 'enum':
      return Object.values(def.entries ?? {}).includes(undefined);
    case 'nullable':
      return takesUndefined(def.innerType as z.ZodType);
    default:
      return true;
  }
}

function noChecks(checks: readonly CheckDef[]): void {
  if (checks.length > 0) throw new NotCompiled();
}

function lengthCheck(c: CheckDef, length: string): string {
  switch (c.check) {
    case 'min_length':
      return `if (${length} < ${num(c.minimum)}) return ASK;\n`;
    case 'max_length':
      return `if (${length} > ${num(c.maximum)}) return ASK;\n`;
    case 'length_equals':
      return `if (${length} !== ${num(c.length)}) return ASK;\n`;
    default:
      throw new NotCompiled();
  }
}

function stringCheck(c: CheckDef, input: string, constant: (v: unknown) => string): string {
  if (c.check === 'string_format') {
    if (c.format !== 'regex' || !(c.pattern instanceof RegExp)) throw new NotCompiled();
    const re = constant(c.pattern);
    return `${re}.lastIndex = 0;\nif (!${re}.test(${input})) return ASK;\n`;
  }
  return lengthCheck(c, `${input}.length`);
}

function numberCheck(c: CheckDef, input: string): string {
  switch (c.check) {
    case 'number_format':
      if (c.format === 'safeint') return `if (!Number.isSafeInteger(${input})) return ASK;\n`;
      if (c.format === 'int32') return `if (!Number.isInteger(${input}) || ${input} < -2147483648 || ${input} > 2147483647) return ASK;\n`;
      if (c.format === 'uint32') return `if (!Number.isInteger(${input}) || ${input} < 0 || ${input} > 4294967295) return ASK;\n`;
      throw new NotCompiled();
    case 'greater_than':
      return `if (!(${input} ${c.inclusive ? '>=' : '>'} ${num(c.value)})) return ASK;\n`;
    case 'less_than':
      return `if (!(${input} ${c.inclusive ? '<=' : '<'} ${num(c.value)})) return ASK;\n`;
    default:
      throw new NotCompiled();
  }
}

/** A number as code (only numbers from a schema's definition reach here). */
function num(v: unknown): string {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new NotCompiled();
  return v === Number.POSITIVE_INFINITY ? 'Infinity' : v === Number.NEGATIVE_INFINITY ? '-Infinity' : String(v);
}
