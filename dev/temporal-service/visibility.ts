// Visibility queries: a small subset of Temporal's SQL-like list filter.
//   WorkflowType = 'x'   WorkflowId STARTS_WITH 'x'   ExecutionStatus = 'Running'
//   <keyword search attribute> = 'x' (or != ), combined with AND, OR and parentheses.
// A trailing ORDER BY is ignored (results are newest first).
import { invalidArgument } from './errors.ts';
import type { Execution } from './execution.ts';
import { payloadValue, toTimestamp, type Msg } from './proto.ts';

type Predicate = (execution: Execution) => boolean;

interface Token {
  kind: 'ident' | 'string' | 'number' | 'op' | 'paren';
  text: string;
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s*(?:(\()|(\))|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(!=|<=|>=|=|<|>)|(-?\d+(?:\.\d+)?)|`([^`]+)`|([A-Za-z_][\w.]*))/y;
  let index = 0;
  while (index < query.length) {
    if (/^\s*$/.test(query.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(query);
    if (!match) throw invalidArgument(`invalid query near: ${query.slice(index)}`);
    index = pattern.lastIndex;
    if (match[1] || match[2]) tokens.push({ kind: 'paren', text: match[1] ?? match[2] });
    else if (match[3] !== undefined) tokens.push({ kind: 'string', text: match[3].replace(/\\(.)/g, '$1') });
    else if (match[4] !== undefined) tokens.push({ kind: 'string', text: match[4].replace(/\\(.)/g, '$1') });
    else if (match[5]) tokens.push({ kind: 'op', text: match[5] });
    else if (match[6]) tokens.push({ kind: 'number', text: match[6] });
    else tokens.push({ kind: 'ident', text: match[7] ?? match[8] });
  }
  return tokens;
}

export function statusName(status: string): string {
  return status
    .replace('WORKFLOW_EXECUTION_STATUS_', '')
    .split('_')
    .map((part) => part[0] + part.slice(1).toLowerCase())
    .join('');
}

function fieldValue(execution: Execution, field: string): unknown {
  switch (field) {
    case 'WorkflowType':
      return execution.workflowType;
    case 'WorkflowId':
      return execution.workflowId;
    case 'RunId':
      return execution.runId;
    case 'ExecutionStatus':
      return statusName(execution.status);
    case 'TaskQueue':
      return execution.taskQueue;
    default:
      return payloadValue(execution.searchAttributes?.indexedFields?.[field]);
  }
}

function matches(value: unknown, op: string, literal: string | number): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => {
    if (v === undefined || v === null) return false;
    const left = typeof literal === 'number' ? Number(v) : String(v);
    switch (op) {
      case '=':
        return left === literal;
      case '!=':
        return left !== literal;
      case 'STARTS_WITH':
        return String(v).startsWith(String(literal));
      case '<':
        return left < literal;
      case '<=':
        return left <= literal;
      case '>':
        return left > literal;
      case '>=':
        return left >= literal;
      default:
        return false;
    }
  });
}

/** Compiles a visibility query into a predicate; throws INVALID_ARGUMENT on unsupported syntax. */
export function compileQuery(query: string | undefined | null): Predicate {
  const text = (query ?? '').replace(/\s+ORDER\s+BY\s+[\s\S]*$/i, '').trim();
  if (text === '') return () => true;
  const tokens = tokenize(text);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const isKeyword = (word: string): boolean => peek()?.kind === 'ident' && peek()?.text.toUpperCase() === word;

  const parseOr = (): Predicate => {
    const parts = [parseAnd()];
    while (isKeyword('OR')) {
      position++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0] : (e) => parts.some((p) => p(e));
  };
  const parseAnd = (): Predicate => {
    const parts = [parsePrimary()];
    while (isKeyword('AND')) {
      position++;
      parts.push(parsePrimary());
    }
    return parts.length === 1 ? parts[0] : (e) => parts.every((p) => p(e));
  };
  const parsePrimary = (): Predicate => {
    const token = peek();
    if (token?.kind === 'paren' && token.text === '(') {
      position++;
      const inner = parseOr();
      if (peek()?.text !== ')') throw invalidArgument('invalid query: missing )');
      position++;
      return inner;
    }
    if (token?.kind !== 'ident')
      throw invalidArgument(`invalid query: expected a field name at ${token?.text ?? 'end'}`);
    position++;
    const field = token.text;
    let op: string;
    if (isKeyword('STARTS_WITH')) op = 'STARTS_WITH';
    else if (peek()?.kind === 'op') op = (peek() as Token).text;
    else throw invalidArgument(`invalid query: expected an operator after ${field}`);
    position++;
    const literal = peek();
    if (literal?.kind !== 'string' && literal?.kind !== 'number') {
      throw invalidArgument(`invalid query: expected a value after ${field} ${op}`);
    }
    position++;
    const value = literal.kind === 'number' ? Number(literal.text) : literal.text;
    return (e) => matches(fieldValue(e, field), op, value);
  };

  const predicate = parseOr();
  if (position !== tokens.length) throw invalidArgument(`invalid query near: ${tokens[position].text}`);
  return predicate;
}

export function executionInfo(execution: Execution): Msg {
  return {
    execution: { workflowId: execution.workflowId, runId: execution.runId },
    type: { name: execution.workflowType },
    startTime: toTimestamp(execution.startTimeMs),
    closeTime: execution.closeTimeMs !== undefined ? toTimestamp(execution.closeTimeMs) : undefined,
    status: execution.status,
    historyLength: execution.history.lastEventId,
    parentNamespaceId: execution.parent?.namespace,
    parentExecution: execution.parent
      ? { workflowId: execution.parent.workflowId, runId: execution.parent.runId }
      : undefined,
    executionTime: toTimestamp(execution.executionTimeMs),
    memo: execution.memo ?? { fields: {} },
    searchAttributes: execution.searchAttributes ?? { indexedFields: {} },
    taskQueue: execution.taskQueue,
    rootExecution: execution.root,
    firstRunId: execution.firstRunId,
  };
}
