// The syntax tree of an expression. Positions are 0-based offsets into the source text.

export type LiteralValue = string | number | boolean | null;
export type ComparisonOperator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type ExpressionNode =
  | { kind: 'call'; name: string; args: ExpressionNode[]; position: number }
  | { kind: 'attribute'; name: string; position: number }
  | { kind: 'literal'; value: LiteralValue; position: number }
  /** An argument left empty, as Entra allows: `Replace([mail], "@x.com", , , "", , )`. */
  | { kind: 'missing'; position: number }
  | { kind: 'compare'; operator: ComparisonOperator; left: ExpressionNode; right: ExpressionNode; position: number };
