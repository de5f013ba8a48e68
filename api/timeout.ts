// Waiting for a promise at most so long, for the API's calls into Temporal.

export const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT when it has not settled after `ms` (a rejection still rejects). */
export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
