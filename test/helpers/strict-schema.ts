/** A rule of OpenAI's strict structured output that a schema breaks. */
export type StrictRule = "root-object" | "additional-properties" | "required";

export interface StrictViolation {
  rule: StrictRule;
  /** JSON pointer-like path of the offending subschema, "" for the root. */
  path: string;
}

type JsonSchema = Record<string, unknown>;

/**
 * Lists where a JSON schema breaks the strict structured-output rules of
 * the OpenAI API: the root is an object (not an array or `anyOf`), every
 * object sets `additionalProperties: false`, and every property is listed
 * in `required`, so no field is optional.
 */
export function strictSchemaViolations(schema: JsonSchema): StrictViolation[] {
  const violations: StrictViolation[] = [];
  if (schema.type !== "object" || "anyOf" in schema) {
    violations.push({ rule: "root-object", path: "" });
  }
  visit(schema, "", violations);
  return violations;
}

function visit(schema: unknown, path: string, violations: StrictViolation[]): void {
  if (!isSchema(schema)) return;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const properties = isSchema(schema.properties) ? schema.properties : undefined;
  if (types.includes("object") || properties) {
    if (schema.additionalProperties !== false) {
      violations.push({ rule: "additional-properties", path });
    }
    const required = Array.isArray(schema.required) ? schema.required : [];
    for (const name of Object.keys(properties ?? {})) {
      if (!required.includes(name)) {
        violations.push({ rule: "required", path: `${path}/properties/${name}` });
      }
    }
  }
  for (const [name, child] of Object.entries(properties ?? {})) {
    visit(child, `${path}/properties/${name}`, violations);
  }
  if (Array.isArray(schema.items)) {
    schema.items.forEach((child, i) => visit(child, `${path}/items/${i}`, violations));
  } else {
    visit(schema.items, `${path}/items`, violations);
  }
  visit(schema.additionalProperties, `${path}/additionalProperties`, violations);
  for (const keyword of ["anyOf", "allOf", "oneOf", "prefixItems"]) {
    const list = schema[keyword];
    if (Array.isArray(list)) {
      list.forEach((child, i) => visit(child, `${path}/${keyword}/${i}`, violations));
    }
  }
  for (const keyword of ["$defs", "definitions"]) {
    const definitions = schema[keyword];
    if (isSchema(definitions)) {
      for (const [name, child] of Object.entries(definitions)) {
        visit(child, `${path}/${keyword}/${name}`, violations);
      }
    }
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
