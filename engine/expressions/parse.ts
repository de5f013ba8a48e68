// A recursive-descent parser for Entra's expression syntax:
//   expression := operand (comparison-operator operand)?
//   operand    := Name '(' [argument (',' argument)*] ')' | '[' attribute ']' | "literal" | number | keyword
// An argument may be left empty (Entra writes `Switch([a], , "1", "x")`). Function names are only
// checked here for shape; compile.ts validates them against the function table.
import type { ComparisonOperator, ExpressionNode } from './ast.ts';
import { ExpressionSyntaxError } from './errors.ts';

/** Bare words accepted as values (case-insensitive). vb*Compare are InStr's compare types. */
const KEYWORDS: Record<string, string | boolean | null> = {
  true: true,
  false: false,
  null: null,
  nothing: null,
  vbtextcompare: 'vbTextCompare',
  vbbinarycompare: 'vbBinaryCompare',
};

const MAX_DEPTH = 64;

export function parseExpression(source: string): ExpressionNode {
  const parser = new Parser(source);
  return parser.parseRoot();
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly src: string) {}

  parseRoot(): ExpressionNode {
    this.skipSpace();
    if (this.pos >= this.src.length) throw new ExpressionSyntaxError('Expression is empty', this.pos);
    const node = this.parseComparison();
    this.skipSpace();
    if (this.pos < this.src.length) {
      throw new ExpressionSyntaxError(`Unexpected '${this.src[this.pos]}' after the end of the expression`, this.pos);
    }
    return node;
  }

  private parseComparison(): ExpressionNode {
    const left = this.parseOperand();
    this.skipSpace();
    const operatorPosition = this.pos;
    const operator = this.readOperator();
    if (!operator) return left;
    this.skipSpace();
    const right = this.parseOperand();
    return { kind: 'compare', operator, left, right, position: operatorPosition };
  }

  private readOperator(): ComparisonOperator | null {
    const two = this.src.slice(this.pos, this.pos + 2);
    if (two === '<>' || two === '<=' || two === '>=') {
      this.pos += 2;
      return two;
    }
    const one = this.src[this.pos];
    if (one === '=' || one === '<' || one === '>') {
      this.pos += 1;
      return one;
    }
    return null;
  }

  private parseOperand(): ExpressionNode {
    this.skipSpace();
    const start = this.pos;
    const ch = this.src[this.pos];
    if (ch === undefined) throw new ExpressionSyntaxError('Unexpected end of expression, expected a value', start);
    if (ch === '"') return { kind: 'literal', value: this.readString(), position: start };
    if (ch === '[') return { kind: 'attribute', name: this.readAttribute(), position: start };
    if (ch === '&' && /^&h/i.test(this.src.slice(this.pos, this.pos + 2))) return this.readHexNumber();
    if (/[0-9.]/.test(ch) || (ch === '-' && /[0-9.]/.test(this.src[this.pos + 1] ?? ''))) return this.readNumber();
    if (/[A-Za-z_]/.test(ch)) {
      const name = this.readName();
      this.skipSpace();
      if (this.src[this.pos] === '(') return this.readCall(name, start);
      const keyword = name.toLowerCase();
      if (keyword in KEYWORDS) return { kind: 'literal', value: KEYWORDS[keyword], position: start };
      throw new ExpressionSyntaxError(
        `Unknown name '${name}': a function needs '(…)', an attribute needs '[…]', text needs "…"`,
        start,
      );
    }
    throw new ExpressionSyntaxError(`Unexpected '${ch}', expected a function, [attribute], "text" or number`, start);
  }

  private readCall(name: string, start: number): ExpressionNode {
    if (++this.depth > MAX_DEPTH) throw new ExpressionSyntaxError(`Functions nested deeper than ${MAX_DEPTH}`, start);
    this.pos += 1; // '('
    const args: ExpressionNode[] = [];
    this.skipSpace();
    if (this.src[this.pos] === ')') {
      this.pos += 1;
      this.depth -= 1;
      return { kind: 'call', name, args, position: start };
    }
    for (;;) {
      this.skipSpace();
      const ch = this.src[this.pos];
      if (ch === ',' || ch === ')') args.push({ kind: 'missing', position: this.pos });
      else args.push(this.parseComparison());
      this.skipSpace();
      const sep = this.src[this.pos];
      if (sep === ',') {
        this.pos += 1;
        continue;
      }
      if (sep === ')') {
        this.pos += 1;
        break;
      }
      if (sep === undefined) throw new ExpressionSyntaxError(`Missing ')' to close ${name}(`, this.pos);
      throw new ExpressionSyntaxError(`Expected ',' or ')' in the arguments of ${name}, found '${sep}'`, this.pos);
    }
    this.depth -= 1;
    return { kind: 'call', name, args, position: start };
  }

  /** "…" with Entra's escapes: \" and \\ ; any other backslash is kept as written (regexes). */
  private readString(): string {
    const start = this.pos;
    this.pos += 1;
    let out = '';
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === undefined) throw new ExpressionSyntaxError('Unterminated text literal', start);
      if (ch === '"') {
        this.pos += 1;
        return out;
      }
      if (ch === '\\') {
        const next = this.src[this.pos + 1];
        if (next === '"' || next === '\\') {
          out += next;
          this.pos += 2;
          continue;
        }
      }
      out += ch;
      this.pos += 1;
    }
  }

  private readAttribute(): string {
    const start = this.pos;
    const end = this.src.indexOf(']', start + 1);
    if (end < 0) throw new ExpressionSyntaxError("Missing ']' to close the attribute name", start);
    const name = this.src.slice(start + 1, end).trim();
    if (name === '') throw new ExpressionSyntaxError('Empty attribute name []', start);
    if (name.includes('[')) throw new ExpressionSyntaxError(`Invalid attribute name '${name}'`, start);
    this.pos = end + 1;
    return name;
  }

  private readNumber(): ExpressionNode {
    const start = this.pos;
    const match = /^-?(?:\d+(?:\.\d*)?|\.\d+)/.exec(this.src.slice(this.pos));
    if (!match) throw new ExpressionSyntaxError('Invalid number', start);
    this.pos += match[0].length;
    if (/[A-Za-z_]/.test(this.src[this.pos] ?? '')) throw new ExpressionSyntaxError('Invalid number', start);
    return { kind: 'literal', value: Number(match[0]), position: start };
  }

  /** VBA hexadecimal literal, as in Entra's `BitAnd(&HF, &HF7)`. */
  private readHexNumber(): ExpressionNode {
    const start = this.pos;
    const match = /^&h([0-9a-f]+)/i.exec(this.src.slice(this.pos));
    if (!match) throw new ExpressionSyntaxError('Invalid hexadecimal number, expected digits after &H', start);
    this.pos += match[0].length;
    return { kind: 'literal', value: parseInt(match[1], 16), position: start };
  }

  private readName(): string {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    // The caller checked the first character, so there is always a match.
    const name = match ? match[0] : '';
    this.pos += name.length;
    return name;
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos += 1;
  }
}
