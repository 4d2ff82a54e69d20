// Validates Discord REST request bodies against the schemas Discord publishes (npm `discord-api-spec`, zod).
//
// Protocol (newline-delimited JSON): after loading, prints {"ready":true,...}; then reads
// {"id", "method", "path", "body"} lines on stdin and answers {"id", "ok", "operation", "schema", "issues"}.
// `path` is the REST path without the `/api/v10` prefix (e.g. "/channels/123/messages").
// Operations are found with the package's path table (`pathsList`); the body type of each operation is read
// from the package's generated TypeScript (`Paths[path][method].requestBody`) and mapped to `<Type>Schema`.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { pathsList } from "discord-api-spec";
import * as schemas from "discord-api-spec/zod";
import * as z from "zod/mini";

const SPEC_URL = import.meta.resolve("discord-api-spec");
const SPEC_VERSION = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", SPEC_URL)), "utf8")).version;

/** `"post /channels/{channel_id}/messages"` -> TypeScript type expression of its request body. */
export function requestBodies(text) {
  const table = new Map();
  const lines = text.split("\n");
  let path = null;
  let method = null;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index];
    const pathMatch = /^ {2}"(\/[^"]*)": \{$/.exec(line);
    if (pathMatch) {
      path = pathMatch[1];
      method = null;
      continue;
    }
    const methodMatch = /^ {4}(get|put|post|patch|delete): \{$/.exec(line);
    if (methodMatch && path) {
      method = methodMatch[1];
      continue;
    }
    const bodyMatch = /^ {6}requestBody\?: ?(.*)$/.exec(line);
    if (bodyMatch && path && method) {
      let expression = bodyMatch[1].trim();
      if (expression.startsWith("{")) {
        table.set(`${method} ${path}`, "inline");
        continue;
      }
      while (!expression.endsWith(";") && index + 1 < lines.length) {
        index += 1;
        expression += ` ${lines[index].trim()}`;
      }
      table.set(`${method} ${path}`, expression.trim().replace(/;$/, "").replace(/^\|\s*/, "").trim());
    }
  }
  return table;
}

/** A zod schema for a type expression such as `A | B`, `A[] | null`; null when the package has none. */
export function schemaFor(expression) {
  if (!expression || expression === "undefined" || expression === "inline") {
    return null;
  }
  const members = [];
  for (const part of expression.split("|").map((item) => item.trim()).filter(Boolean)) {
    if (part === "null") {
      members.push(z.null());
      continue;
    }
    const array = /^(\w+)\[\]$/.exec(part);
    const schema = schemas[`${array ? array[1] : part}Schema`];
    if (!schema) {
      return null;
    }
    members.push(array ? z.array(schema) : schema);
  }
  return members.length === 1 ? members[0] : z.union(members);
}

/** The spec's path template for a concrete path (literal segments beat parameters). */
export function matchTemplate(method, path) {
  const segments = path.split("?")[0].split("/").filter(Boolean);
  let best = null;
  let bestScore = -1;
  for (const template of pathsList[method.toLowerCase()] ?? []) {
    const parts = template.split("/").filter(Boolean);
    if (parts.length !== segments.length) {
      continue;
    }
    let score = 0;
    const matches = parts.every((part, index) => {
      if (part.startsWith("{")) {
        return true;
      }
      score += 1;
      return part === segments[index];
    });
    if (matches && score > bestScore) {
      best = template;
      bestScore = score;
    }
  }
  return best;
}


/** Discord's form-error code and message for a zod issue. */
export function discordIssue(issue) {
  const path = issue.path.map(String);
  const origin = issue.origin ?? "";
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) {
        return { path, code: "BASE_TYPE_REQUIRED", message: "This field is required" };
      }
      return typeIssue(path, issue.expected, issue.input);
    case "too_big":
      if (origin === "number" || origin === "int" || origin === "bigint") {
        return { path, code: "NUMBER_TYPE_MAX", message: `int value should be less than or equal to ${issue.maximum}.` };
      }
      return { path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${issue.maximum} or fewer in length.` };
    case "too_small":
      if (origin === "number" || origin === "int" || origin === "bigint") {
        return { path, code: "NUMBER_TYPE_MIN", message: `int value should be greater than or equal to ${issue.minimum}.` };
      }
      return { path, code: "BASE_TYPE_MIN_LENGTH", message: `Must be ${issue.minimum} or more in length.` };
    case "invalid_value":
      return { path, code: "BASE_TYPE_CHOICES", message: `Value must be one of ${JSON.stringify(issue.values ?? [])}.` };
    case "invalid_format":
      return { path, code: "STRING_TYPE_REGEX", message: "String value did not match validation regex." };
    default:
      return { path, code: "BASE_TYPE_INVALID", message: issue.message ?? "Invalid value." };
  }
}

function typeIssue(path, expected, input) {
  const shown = JSON.stringify(input)?.slice(0, 50);
  switch (expected) {
    case "string":
      return { path, code: "STRING_TYPE_CONVERT", message: `Could not interpret ${shown} as string.` };
    case "number":
    case "int":
      return { path, code: "NUMBER_TYPE_COERCE", message: `Value ${shown} is not int.` };
    case "boolean":
      return { path, code: "BOOLEAN_TYPE_CONVERT", message: `Value ${shown} is not boolean.` };
    case "array":
      return { path, code: "LIST_TYPE_CONVERT", message: "Only iterables may be used in a ListType" };
    case "object":
      return { path, code: "MODEL_TYPE_CONVERT", message: "Only dictionaries may be used in a ModelType" };
    default:
      return { path, code: "BASE_TYPE_INVALID", message: `Expected ${expected}.` };
  }
}

/**
 * Discord coerces decimal strings where its schema says integer (permission bits are sent as strings: the
 * OpenAPI document types `permissions` as `integer`, every client sends `"8"`), so such issues are not errors.
 */
function coerced(issue) {
  const numericString =
    issue.code === "invalid_type" &&
    (issue.expected === "number" || issue.expected === "int") &&
    typeof issue.input === "string" &&
    /^-?[0-9]+$/.test(issue.input);
  return numericString || offsetDatetime(issue);
}

/**
 * zod's `iso.datetime()` (what the package generates for `format: date-time`) refuses UTC offsets, but
 * Discord accepts and itself writes ISO 8601 with `+00:00` (every client, twilight included, sends that).
 */
function offsetDatetime(issue) {
  return (
    issue.code === "invalid_format" &&
    issue.format === "datetime" &&
    typeof issue.input === "string" &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)$/.test(issue.input) &&
    !Number.isNaN(Date.parse(issue.input))
  );
}

/** Flattens zod issues; for a failed union, keeps the branch with the fewest issues (its discriminator matched). */
export function flatten(issues, prefix = []) {
  const out = [];
  for (const issue of issues) {
    if (coerced(issue)) {
      continue;
    }
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && Array.isArray(issue.errors) && issue.errors.length > 0) {
      const best = issue.errors.reduce((a, b) => (score(b) < score(a) ? b : a));
      out.push(...flatten(best, path));
      continue;
    }
    out.push(discordIssue({ ...issue, path }));
  }
  return out;
}

function score(branch) {
  // A branch of the wrong shape (root type) or whose literal `type`-like field failed is the wrong branch.
  return branch.reduce((total, issue) => {
    if (coerced(issue)) {
      return total;
    }
    if (issue.code === "invalid_type" && issue.path.length === 0) {
      return total + 1000;
    }
    return total + (issue.code === "invalid_value" && issue.path.length === 1 ? 100 : 1);
  }, 0);
}

export function loadTable() {
  const text = readFileSync(fileURLToPath(new URL("./discord-api-spec.ts", SPEC_URL)), "utf8");
  return requestBodies(text);
}

export function validate(table, request) {
  const method = String(request.method ?? "").toLowerCase();
  const operation = matchTemplate(method, String(request.path ?? ""));
  if (!operation) {
    return { ok: true, operation: null, schema: null, issues: [] };
  }
  const expression = table.get(`${method} ${operation}`) ?? null;
  const schema = schemaFor(expression);
  if (!schema) {
    return { ok: true, operation, schema: expression, issues: [] };
  }
  const result = schema.safeParse(request.body, { reportInput: true });
  const issues = result.success ? [] : flatten(result.error.issues);
  return { ok: issues.length === 0, operation, schema: expression, issues };
}

function main() {
  const table = loadTable();
  process.stdout.write(`${JSON.stringify({ ready: true, spec: SPEC_VERSION, operations: table.size })}\n`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("line", (line) => {
    if (!line.trim()) {
      return;
    }
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ id: null, ok: false, error: String(error) })}\n`);
      return;
    }
    let answer;
    try {
      answer = validate(table, request);
    } catch (error) {
      answer = { ok: false, operation: null, schema: null, issues: [], error: String(error) };
    }
    process.stdout.write(`${JSON.stringify({ id: request.id, ...answer })}\n`);
  });
  lines.on("close", () => process.exit(0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main();
}
