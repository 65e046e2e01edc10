/**
 * Finds JSON in a model's free text: a fenced code block, or the first
 * balanced object or array. It tolerates trailing commas, single-quoted
 * strings and a truncated tail (the items complete before the cut are
 * kept). It never evaluates the text.
 */
export function extractJson(text: string): unknown | undefined {
  return extractJsonDetailed(text)?.value;
}

/** JSON found in a text, with what had to be repaired to parse it. */
export interface ExtractedJson {
  value: unknown;
  /** True when the document was cut off and its incomplete last item dropped. */
  truncated: boolean;
  /** Syntax repairs applied, e.g. "removed trailing commas"; empty when none. */
  repairs: string[];
}

/**
 * Finds JSON like `extractJson`, and also reports whether the document was
 * truncated and which syntax repairs made it parse.
 */
export function extractJsonDetailed(text: string): ExtractedJson | undefined {
  const blocks = [...text.matchAll(/```(?:json|JSON|javascript|js)?\s*([\s\S]*?)(?:```|$)/g)]
    .map((match) => match[1]);
  for (const candidate of [...blocks, text]) {
    const found = parseLenient(candidate);
    if (found !== undefined) return found;
  }
  return undefined;
}

function parseLenient(text: string): ExtractedJson | undefined {
  const start = text.search(/[[{]/);
  if (start < 0) return undefined;
  const body = text.slice(start);
  const attempts = [
    { text: balancedPrefix(body), truncated: false },
    { text: closeTruncated(body), truncated: true },
  ];
  for (const attempt of attempts) {
    if (attempt.text === undefined) continue;
    const repaired = repairSyntax(attempt.text);
    const variants = [
      { text: attempt.text, repairs: [] },
      { text: repaired.text, repairs: repaired.repairs },
    ];
    for (const variant of variants) {
      try {
        const value: unknown = JSON.parse(variant.text);
        return { value, truncated: attempt.truncated, repairs: variant.repairs };
      } catch {
        // Try the next variant.
      }
    }
  }
  return undefined;
}

/** Returns the shortest prefix whose brackets balance, outside strings. */
function balancedPrefix(text: string): string | undefined {
  const stack: string[] = [];
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "{" || ch === "[") stack.push(ch === "{" ? "}" : "]");
    else if (ch === "}" || ch === "]") {
      if (stack.pop() !== ch) return undefined;
      if (stack.length === 0) return text.slice(0, i + 1);
    }
  }
  return undefined;
}

/**
 * Cuts a truncated document back to its last complete array item or
 * object member, then closes the open brackets.
 */
function closeTruncated(text: string): string | undefined {
  const stack: string[] = [];
  let quote: string | null = null;
  let lastSafe = -1;
  let stackAtSafe: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "{" || ch === "[") stack.push(ch === "{" ? "}" : "]");
    else if (ch === "}" || ch === "]") {
      stack.pop();
      lastSafe = i;
      stackAtSafe = [...stack];
    }
  }
  if (lastSafe < 0) return undefined;
  return text.slice(0, lastSafe + 1) + [...stackAtSafe].reverse().join("");
}

/**
 * Removes trailing commas and turns single-quoted strings into JSON ones,
 * listing which of the two it did.
 */
function repairSyntax(text: string): { text: string; repairs: string[] } {
  let out = "";
  let singleQuotes = false;
  let trailingCommas = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") {
        out += ch + (text[i + 1] ?? "");
        i++;
      } else if (ch === quote) {
        out += '"';
        quote = null;
      } else if (ch === '"' && quote === "'") {
        out += '\\"';
      } else {
        out += ch;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      if (ch === "'") singleQuotes = true;
      out += '"';
    } else if (ch === ",") {
      // Scans ahead in place: slicing the rest at every comma would make
      // a long reply quadratic.
      let next = i + 1;
      while (next < text.length && /\s/.test(text[next])) next++;
      if (text[next] === "}" || text[next] === "]") {
        trailingCommas = true;
        continue;
      }
      out += ch;
    } else {
      out += ch;
    }
  }
  const repairs: string[] = [];
  if (trailingCommas) repairs.push("removed trailing commas");
  if (singleQuotes) repairs.push("replaced single quotes with double quotes");
  return { text: out, repairs };
}
