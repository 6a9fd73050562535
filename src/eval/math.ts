// MATH-500 answer equivalence without sympy: the Hendrycks/PRM800K string normaliser (with Minerva's unit
// and \text handling), then, when strings differ, element-wise comparison of tuples and intervals, and a
// numeric check that evaluates both sides as LaTeX arithmetic (variables sampled at fixed points, so
// `2x+2` equals `2(x+1)`). Like PRM800K it refuses what it cannot parse rather than guessing: an answer
// that matches neither as a string nor numerically is wrong.

// ---------------------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------------------

// Minerva's REMOVED_EXPRESSIONS unit words (and a few more), dropped when they follow the value.
const UNIT_WORDS = [
  "square units",
  "sq units",
  "square feet",
  "square inches",
  "square meters",
  "square centimeters",
  "square",
  "units",
  "unit",
  "ways",
  "integers",
  "dollars",
  "dollar",
  "cents",
  "mph",
  "inches",
  "inch",
  "feet",
  "foot",
  "ft",
  "hours",
  "hour",
  "minutes",
  "minute",
  "seconds",
  "km",
  "cm",
  "mm",
  "meters",
  "meter",
  "miles",
  "mile",
  "degrees",
  "degree",
  "pounds",
  "lbs",
  "points",
  "digits",
  "students",
  "people",
  "days",
  "years",
  "edges",
  "meals",
  "multiples",
  "gm",
  "grams",
  "kg",
  "liters",
  "sue",
  "coins",
  "numbers",
];
const UNIT_RE = new RegExp(`(?<=[\\d}).])\\s*(?:${UNIT_WORDS.join("|")})(?:\\^?\\{?[23]\\}?)?\\s*$`, "i");

/** Brace-balanced argument starting at `s[i] === "{"`: [contents, index after the closing brace]. */
function group(s: string, i: number): [string, number] | undefined {
  if (s[i] !== "{") return undefined;
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    if (s[j] === "{") depth++;
    else if (s[j] === "}" && --depth === 0) return [s.slice(i + 1, j), j + 1];
  }
  return undefined;
}

/** Unwraps `\cmd{X}` to X everywhere (brace-balanced), for text-like commands. */
function unwrap(s: string, cmd: string): string {
  for (;;) {
    const at = s.indexOf(`\\${cmd}{`);
    if (at < 0) return s;
    const g = group(s, at + cmd.length + 1);
    if (!g) return s;
    s = s.slice(0, at) + g[0] + s.slice(g[1]);
  }
}

/** `\frac12` -> `\frac{1}{2}`, `\frac1{2}`, `\sqrt3` -> `\sqrt{3}` (Hendrycks fix_fracs / fix_sqrt). */
function fixShorthand(s: string): string {
  return s
    .replace(/\\frac\s*(\d)\s*(\d)/g, "\\frac{$1}{$2}")
    .replace(/\\frac\s*(\d)\s*\{/g, "\\frac{$1}{")
    .replace(/\\frac\s*(\{[^{}]*\})\s*(\d)/g, "\\frac$1{$2}")
    .replace(/\\sqrt\s*(\d+|[a-z])/gi, "\\sqrt{$1}");
}

export function normalizeMath(input: string): string {
  let s = input.trim();
  const boxed = /^\\(?:boxed|fbox)\s*\{/.exec(s) ? group(s, s.indexOf("{")) : undefined;
  if (boxed && boxed[1] === s.length) s = boxed[0];
  s = s
    .replace(/\n/g, " ")
    .replace(/\\!/g, "")
    .replace(/\\\\/g, ";") // matrix row breaks, so `1 \\ 2` and `1\\2` agree
    .replace(/\\[dt]frac/g, "\\frac")
    .replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])/g, "")
    .replace(/\\displaystyle/g, "")
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree/g, "")
    .replace(/\\\$|\$/g, "")
    .replace(/\\%|%/g, "")
    .replace(/\\[,;:]|\\ |~/g, " ")
    .replace(/\{,\}/g, ",")
    .replace(/\\(?:le|leqslant)(?![a-zA-Z])/g, "\\leq")
    .replace(/\\(?:ge|geqslant)(?![a-zA-Z])/g, "\\geq")
    .replace(/\\varnothing/g, "\\emptyset")
    .replace(/\\(?:mathbf|mathrm|textbf|textrm|mathit|operatorname)\s*\{/g, "\\text{")
    .replace(/\\mbox\s*\{/g, "\\text{")
    .trim();
  // Units inside \text{} after a value go ("5 \text{ cm}^2"); other \text{} is unwrapped ("\text{Evelyn}").
  s = s.replace(/\s*\\text\s*\{\s*([a-z ]+?)\s*\}(?:\^?\{?[23]\}?)?/gi, (m, w: string, off: number) =>
    off > 0 && UNIT_WORDS.includes(w.toLowerCase()) ? "" : m,
  );
  s = unwrap(s, "text").trim();
  s = s.replace(UNIT_RE, "").trim();
  s = s.replace(/\.+$/, "").trim();
  // "x = 5", "k=3": a short left side is a label (Hendrycks: at most 2 characters).
  const eq = s.split("=");
  if (eq.length === 2 && eq[0].trim().length <= 2 && !/[<>]/.test(s)) s = eq[1].trim();
  s = fixShorthand(s);
  s = s.replace(/\s+/g, "");
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  s = s.replace(/^(-?)\./, "$10.").replace(/([(,{=])\./g, "$10.");
  const slash = /^(-?\d+)\/(\d+)$/.exec(s);
  if (slash) s = `${slash[1].startsWith("-") ? "-" : ""}\\frac{${slash[1].replace("-", "")}}{${slash[2]}}`;
  s = s.replace(/^-\\frac\{(\d+)\}\{(\d+)\}$/, "\\frac{-$1}{$2}");
  if (/^[a-z ]+$/i.test(s)) s = s.toLowerCase();
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// LaTeX arithmetic: recursive descent over the normalised string
// ---------------------------------------------------------------------------------------------------------

const FUNCS: Record<string, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  ln: Math.log,
  log: Math.log10,
  exp: Math.exp,
  sec: (x) => 1 / Math.cos(x),
  csc: (x) => 1 / Math.sin(x),
  cot: (x) => 1 / Math.tan(x),
  arcsin: Math.asin,
  arccos: Math.acos,
  arctan: Math.atan,
};

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly vars: (name: string) => number,
  ) {}

  peek(str: string): boolean {
    return this.s.startsWith(str, this.i);
  }
  eat(str: string): boolean {
    if (!this.peek(str)) return false;
    this.i += str.length;
    return true;
  }
  fail(): never {
    throw new SyntaxError(`unparsed at ${this.i}`);
  }

  expr(): number {
    let v = this.term();
    for (;;) {
      if (this.eat("+")) v += this.term();
      else if (this.eat("-")) v -= this.term();
      else return v;
    }
  }

  term(): number {
    let v = this.unary();
    for (;;) {
      if (this.eat("*") || this.eat("\\cdot") || this.eat("\\times")) v *= this.unary();
      else if (this.eat("/") || this.eat("\\div")) v /= this.unary();
      else if (this.startsAtom())
        v *= this.power(); // implicit product: 2\pi, 3(x+1), 2\sqrt{3}
      else return v;
    }
  }

  unary(): number {
    if (this.eat("-")) return -this.unary();
    if (this.eat("+")) return this.unary();
    return this.power();
  }

  power(): number {
    const base = this.atom();
    if (!this.eat("^")) return base;
    if (this.peek("{")) return base ** this.braced();
    const m = /^(\d|[a-z])/i.exec(this.s.slice(this.i)); // x^23 is x^2 * 3 in LaTeX
    if (!m) return base ** this.unary();
    this.i += 1;
    return base ** (/\d/.test(m[1]) ? Number(m[1]) : this.vars(m[1]));
  }

  startsAtom(): boolean {
    const c = this.s[this.i];
    if (c === undefined) return false;
    if (/[\d.({a-zA-Z]/.test(c)) return true;
    return c === "\\" && !/^\\(cdot|times|div)(?![a-zA-Z])/.test(this.s.slice(this.i));
  }

  braced(): number {
    if (!this.eat("{")) this.fail();
    const v = this.expr();
    if (!this.eat("}")) this.fail();
    return v;
  }

  atom(): number {
    const rest = this.s.slice(this.i);
    const num = /^(\d+(\.\d*)?|\.\d+)/.exec(rest);
    if (num) {
      this.i += num[0].length;
      return Number(num[0]);
    }
    if (this.eat("(")) {
      const v = this.expr();
      if (!this.eat(")")) this.fail();
      return v;
    }
    if (this.peek("{")) return this.braced();
    if (this.eat("\\frac")) {
      const a = this.braced();
      return a / this.braced();
    }
    if (this.eat("\\sqrt")) {
      let n = 2;
      if (this.eat("[")) {
        n = this.expr();
        if (!this.eat("]")) this.fail();
      }
      const x = this.peek("{") ? this.braced() : this.atom();
      return n === 3 ? Math.cbrt(x) : x ** (1 / n);
    }
    if (this.eat("\\pi")) return Math.PI;
    if (this.eat("\\infty")) return Number.POSITIVE_INFINITY;
    const fn = /^\\?(arcsin|arccos|arctan|sin|cos|tan|sec|csc|cot|ln|log|exp)(?![a-zA-Z])/.exec(rest);
    if (fn) {
      this.i += fn[0].length;
      return FUNCS[fn[1]](this.power());
    }
    const v = /^[a-zA-Z]/.exec(rest);
    if (v) {
      this.i += 1;
      return this.vars(v[0]);
    }
    this.fail();
  }
}

/** Value of a LaTeX arithmetic expression; variables come from `vars`. Undefined if it does not parse. */
export function evalLatex(s: string, vars: (name: string) => number = () => Number.NaN): number | undefined {
  const t = fixShorthand(s.replace(/\\[dt]frac/g, "\\frac").replace(/\\(?:left|right)(?![a-zA-Z])/g, ""))
    .replace(/\s+/g, "")
    .replace(/,(?=\d{3}(?!\d))/g, "");
  if (t === "") return undefined;
  try {
    const p = new Parser(t, vars);
    const v = p.expr();
    return p.i === t.length ? v : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Equivalence
// ---------------------------------------------------------------------------------------------------------

/** Split at top-level commas (outside (), [], {}). */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** `(a, b]`-style wrapper: brackets plus the inner list, when the outer brackets enclose everything. */
function bracketed(s: string): { open: string; close: string; items: string[] } | undefined {
  const m = /^(\(|\[|\\\{|\{)(.*?)(\)|\]|\\\}|\})$/.exec(s);
  if (!m) return undefined;
  let depth = 0;
  const inner = m[2];
  for (const c of inner) {
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c) && --depth < 0) return undefined; // "(1)+(2)": the brackets do not pair
  }
  const items = splitTop(inner);
  return items.length > 1 ? { open: m[1], close: m[3], items } : undefined;
}

// Fixed points per variable name: far from 0 and 1 and from each other, so distinct expressions rarely agree.
function pointValue(name: string, k: number): number {
  const h = [...name].reduce((a, c) => a * 31 + c.charCodeAt(0), 7);
  return 0.5 + ((h * (k + 3)) % 97) / 37 + k * 0.731;
}

function numericEqual(a: string, b: string): boolean {
  for (let k = 0; k < 3; k++) {
    const x = evalLatex(a, (n) => pointValue(n, k));
    const y = evalLatex(b, (n) => pointValue(n, k));
    if (x === undefined || y === undefined || Number.isNaN(x) || Number.isNaN(y)) return false;
    if (x === y) continue; // both infinite with the same sign
    if (!(Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(y)))) return false;
  }
  return true;
}

function equivNormalized(a: string, b: string): boolean {
  if (a === b) return true;
  if (a === "" || b === "") return false;
  const ba = bracketed(a);
  const bb = bracketed(b);
  if (ba && bb) {
    // Tuples and intervals keep order and brackets; sets \{...\} are compared unordered.
    const isSet = bb.open.endsWith("{");
    if (ba.items.length !== bb.items.length) return false;
    if (!isSet) {
      if (ba.open !== bb.open || ba.close !== bb.close) return false;
      return ba.items.every((x, i) => equivNormalized(x, bb.items[i]));
    }
    return unorderedEqual(ba.items, bb.items);
  }
  if (ba || bb) return false;
  const la = splitTop(a);
  const lb = splitTop(b);
  if (la.length > 1 || lb.length > 1) return la.length === lb.length && unorderedEqual(la, lb);
  return numericEqual(a, b);
}

function unorderedEqual(xs: string[], ys: string[]): boolean {
  const left = [...ys];
  for (const x of xs) {
    const j = left.findIndex((y) => equivNormalized(x, y));
    if (j < 0) return false;
    left.splice(j, 1);
  }
  return true;
}

/** True when the model's answer and the gold are the same mathematical answer. */
export function mathEqual(pred: string | undefined, gold: string): boolean {
  if (pred === undefined) return false;
  return equivNormalized(normalizeMath(pred), normalizeMath(gold));
}
