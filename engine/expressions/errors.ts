// Errors of the expression language. Both are plain Errors (not FerryError): the mapping layer
// turns an evaluation failure into the `ExpressionError` code of the provisioning log.

/** The source text is not a valid expression; `position` is the 0-based offset of the culprit. */
export class ExpressionSyntaxError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} (at position ${position})`);
    this.name = 'ExpressionSyntaxError';
    this.position = position;
  }
}

/** A function could not produce a value for this object, e.g. CDate("not a date"). */
export class ExpressionEvaluationError extends Error {
  readonly functionName: string;
  /** 0-based offset of the failing call in the expression source. */
  readonly position: number;

  constructor(functionName: string, message: string, position: number, options?: { cause?: unknown }) {
    super(`${functionName}: ${message}`, options);
    this.name = 'ExpressionEvaluationError';
    this.functionName = functionName;
    this.position = position;
  }
}
