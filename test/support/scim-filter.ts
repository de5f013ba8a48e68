// An RFC 7644 §3.4.2.2 filter matcher for the test peers. scimmy's own matcher compares strings
// case-sensitively, ignores extension attributes and cannot parse `\"` inside a value, so the
// scimmy peer strips `filter` from the query and evaluates it with this instead.
//
// Supported: eq ne co sw ew gt ge lt le pr, `and`/`or`/`not(...)`, parentheses, value paths
// (`emails[type eq "work"].value`), sub-attributes and URN-qualified extension attributes.
// Strings compare case-insensitively except `id` and `externalId` (caseExact in RFC 7643).

type Literal = string | number | boolean | null;
type Node =
  | { kind: 'compare'; path: string; op: string; value: Literal }
  | { kind: 'present'; path: string }
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; inner: Node }
  | { kind: 'valuePath'; attribute: string; filter: Node; sub?: string; op?: string; value?: Literal };

type Token = { type: 'word' | 'string' | '(' | ')'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const char = input[index];
    if (/\s/.test(char)) {
      index++;
    } else if (char === '(' || char === ')') {
      tokens.push({ type: char, text: char });
      index++;
    } else if (char === '"') {
      let end = index + 1;
      while (end < input.length && input[end] !== '"') end += input[end] === '\\' ? 2 : 1;
      tokens.push({ type: 'string', text: input.slice(index, end + 1) });
      index = end + 1;
    } else {
      let end = index;
      let depth = 0;
      let quoted = false;
      while (end < input.length) {
        const current = input[end];
        if (quoted) {
          if (current === '\\') end++;
          else if (current === '"') quoted = false;
        } else if (current === '"') quoted = true;
        else if (current === '[') depth++;
        else if (current === ']') depth--;
        else if (depth === 0 && (/\s/.test(current) || current === '(' || current === ')')) break;
        end++;
      }
      tokens.push({ type: 'word', text: input.slice(index, end) });
      index = end;
    }
  }
  return tokens;
}

function literal(token: Token): Literal {
  if (token.type === 'string') return JSON.parse(token.text) as string;
  if (token.text === 'true') return true;
  if (token.text === 'false') return false;
  if (token.text === 'null') return null;
  const number = Number(token.text);
  if (Number.isNaN(number)) throw new SyntaxError(`Bad filter value ${token.text}`);
  return number;
}

function parse(input: string): Node {
  const tokens = tokenize(input);
  let position = 0;
  const peek = () => tokens[position];
  const next = () => tokens[position++];

  function attributeExpression(): Node {
    const pathToken = next();
    if (!pathToken || pathToken.type !== 'word') throw new SyntaxError('Expected an attribute path');
    const path = pathToken.text;
    const op = next()?.text.toLowerCase();
    if (!op) throw new SyntaxError('Expected an operator');
    const bracket = /^([^[]+)\[(.*)\](?:\.(.+))?$/.exec(path);
    if (bracket) {
      const [, attribute, inner, sub] = bracket;
      const node: Node = { kind: 'valuePath', attribute, filter: parse(inner), sub };
      if (op !== 'pr') {
        node.op = op;
        node.value = literal(next());
      } else node.op = 'pr';
      return node;
    }
    if (op === 'pr') return { kind: 'present', path };
    return { kind: 'compare', path, op, value: literal(next()) };
  }

  function primary(): Node {
    const token = peek();
    if (token?.type === '(') {
      next();
      const inner = or();
      next();
      return inner;
    }
    if (token?.type === 'word' && token.text.toLowerCase() === 'not') {
      next();
      return { kind: 'not', inner: primary() };
    }
    if (token?.type === 'word' && /^[^[]+\[.*\]$/.test(token.text) && tokens[position + 1]?.type !== 'word') {
      // `emails[type eq "work"]` on its own: true when any element matches.
      next();
      const [, attribute, inner] = /^([^[]+)\[(.*)\]$/.exec(token.text)!;
      return { kind: 'valuePath', attribute, filter: parse(inner) };
    }
    return attributeExpression();
  }

  function and(): Node {
    let left = primary();
    while (peek()?.type === 'word' && peek().text.toLowerCase() === 'and') {
      next();
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  }

  function or(): Node {
    let left = and();
    while (peek()?.type === 'word' && peek().text.toLowerCase() === 'or') {
      next();
      left = { kind: 'or', left, right: and() };
    }
    return left;
  }

  const node = or();
  if (position !== tokens.length) throw new SyntaxError(`Unexpected token ${tokens[position].text}`);
  return node;
}

function keyOf(record: Record<string, unknown>, name: string): string | undefined {
  return Object.keys(record).find((key) => key.toLowerCase() === name.toLowerCase());
}

/** Every value at `path` in `resource`, flattening multi-valued attributes. */
function valuesAt(resource: unknown, path: string): unknown[] {
  let parts: string[];
  const urn = /^(urn:.+):([^:]+)$/i.exec(path);
  if (urn && !/^urn:ietf:params:scim:schemas:core:/i.test(urn[1])) parts = [urn[1], ...urn[2].split('.')];
  else parts = (urn ? urn[2] : path).split('.');
  let current: unknown[] = [resource];
  for (const part of parts) {
    const nextValues: unknown[] = [];
    for (const value of current) {
      if (!value || typeof value !== 'object') continue;
      const key = keyOf(value as Record<string, unknown>, part);
      if (key === undefined) continue;
      const found = (value as Record<string, unknown>)[key];
      if (Array.isArray(found)) nextValues.push(...found);
      else if (found !== undefined && found !== null) nextValues.push(found);
    }
    current = nextValues;
  }
  // `emails eq "x"` on a multi-valued complex attribute compares the `value` sub-attribute.
  return current.map((value) =>
    value && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value,
  );
}

function compare(actual: unknown, op: string, expected: Literal, caseExact: boolean): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = caseExact ? actual : actual.toLowerCase();
    const b = caseExact ? expected : expected.toLowerCase();
    switch (op) {
      case 'eq':
        return a === b;
      case 'ne':
        return a !== b;
      case 'co':
        return a.includes(b);
      case 'sw':
        return a.startsWith(b);
      case 'ew':
        return a.endsWith(b);
      case 'gt':
        return a > b;
      case 'ge':
        return a >= b;
      case 'lt':
        return a < b;
      case 'le':
        return a <= b;
    }
    return false;
  }
  if (op === 'eq') return actual === expected;
  if (op === 'ne') return actual !== expected;
  if (typeof actual === 'number' && typeof expected === 'number') {
    if (op === 'gt') return actual > expected;
    if (op === 'ge') return actual >= expected;
    if (op === 'lt') return actual < expected;
    if (op === 'le') return actual <= expected;
  }
  return false;
}

const CASE_EXACT = new Set(['id', 'externalid']);

function evaluate(node: Node, resource: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, resource) && evaluate(node.right, resource);
    case 'or':
      return evaluate(node.left, resource) || evaluate(node.right, resource);
    case 'not':
      return !evaluate(node.inner, resource);
    case 'present':
      return valuesAt(resource, node.path).some((value) => value !== '');
    case 'compare': {
      const values = valuesAt(resource, node.path);
      const exact = CASE_EXACT.has(node.path.toLowerCase());
      if (node.op === 'ne') return values.every((value) => compare(value, 'ne', node.value, exact));
      return values.some((value) => compare(value, node.op, node.value, exact));
    }
    case 'valuePath': {
      if (!resource || typeof resource !== 'object') return false;
      const key = keyOf(resource as Record<string, unknown>, node.attribute);
      const items = key === undefined ? [] : [(resource as Record<string, unknown>)[key]].flat();
      const hits = items.filter((item) => evaluate(node.filter, item));
      if (node.sub === undefined || node.op === undefined) return hits.length > 0;
      const values = hits.flatMap((hit) => valuesAt(hit, node.sub as string));
      if (node.op === 'pr') return values.length > 0;
      return values.some((value) => compare(value, node.op as string, node.value ?? null, false));
    }
  }
}

/** A predicate for `filter`; throws SyntaxError for filters it cannot parse. */
export function compileScimFilter(filter: string): (resource: unknown) => boolean {
  const node = parse(filter);
  return (resource) => evaluate(node, resource);
}
