/**
 * Finds JSON in a model's free text: a fenced code block, or the first
 * balanced object or array. It tolerates trailing commas, single-quoted
 * strings and a truncated tail (the items complete before the cut are
 * kept). It never evaluates the text.
 */
export function extractJson(text: string): unknown | undefined {
  return extractJsonDetailed(text)?.value;
}

/**
 * Like `extractJson`, and says whether the document was truncated, in
 * which case its incomplete last item was dropped.
 */
export function extractJsonDetailed(
  text: string,
): { value: unknown; truncated: boolean } | undefined {
  const blocks = [...text.matchAll(/```(?:json|JSON|javascript|js)?\s*([\s\S]*?)(?:```|$)/g)]
    .map((match) => match[1]);
  for (const candidate of [...blocks, text]) {
    const found = parseLenient(candidate);
    if (found !== undefined) return found;
  }
  return undefined;
}

function parseLenient(text: string): { value: unknown; truncated: boolean } | undefined {
  const start = text.search(/[[{]/);
  if (start < 0) return undefined;
  const body = text.slice(start);
  const attempts = [
    { text: balancedPrefix(body), truncated: false },
    { text: closeTruncated(body), truncated: true },
  ];
  for (const attempt of attempts) {
    if (attempt.text === undefined) continue;
    for (const variant of [attempt.text, repairSyntax(attempt.text)]) {
      try {
        return { value: JSON.parse(variant), truncated: attempt.truncated };
      } catch {
        // Try the next variant.
      }
    }
  }
  return undefined;
}

/** The shortest prefix whose brackets balance, outside strings. */
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

/** Removes trailing commas and turns single-quoted strings into JSON ones. */
function repairSyntax(text: string): string {
  let out = "";
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
      out += '"';
    } else if (ch === ",") {
      const rest = text.slice(i + 1).trimStart();
      if (rest.startsWith("}") || rest.startsWith("]")) continue;
      out += ch;
    } else {
      out += ch;
    }
  }
  return out;
}
