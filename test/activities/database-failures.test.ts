// A database failure leaving an activity is recorded by Temporal — message, stack and causes — and
// workflows keep that message as a cycle's, a reconcile pass's or an on-demand request's error,
// which the API shows. What Temporal records says the SQLSTATE and Postgres's reason, never the
// statement the driver's message holds nor its parameters (the rows' values: personal data).
import { defaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { toActivityFailure } from '../../activities/failures.ts';
import { TakenError } from '../../store/errors.ts';
import { storeBackends, useStore } from '../support/postgres.ts';

/** Everything Temporal records of what an activity threw, as text. */
async function recorded(thrown: Promise<unknown>): Promise<string> {
  const error = await thrown.then(
    () => expect.fail('the statement should fail'),
    (e: unknown) => e,
  );
  return JSON.stringify(defaultFailureConverter.errorToFailure(toActivityFailure(error), defaultPayloadConverter));
}

describe.each(storeBackends)('database failures leaving an activity ($name)', (backend) => {
  const ctx = useStore(backend);

  it('a failed statement is recorded by its SQLSTATE and reason, without the statement or its values', async () => {
    const text = await recorded(ctx.store.db.execute(sql`select ${'ada@corp.example'}::int as n`));
    for (const leaked of ['ada@corp.example', 'Failed query', 'params', '::int']) expect(text).not.toContain(leaked);
    expect(text).toContain('A database statement failed (SQLSTATE 22P02): invalid input syntax for type integer');
  });

  it('a typed error caused by one keeps its own message; its cause loses the statement and the row', async () => {
    await ctx.store.directory.createUser({ id: 'db-fail-1', userPrincipalName: 'ida@corp.example' });
    const write = ctx.store.directory.createUser({
      id: 'db-fail-2',
      userPrincipalName: 'IDA@corp.example',
      department: 'Night Audit',
      mobilePhone: '+1 555 0199',
    });
    await expect(write).rejects.toBeInstanceOf(TakenError);
    const text = await recorded(write);
    for (const leaked of ['insert into', 'Failed query', 'params', 'Night Audit', '555 0199']) {
      expect(text.toLowerCase()).not.toContain(leaked.toLowerCase());
    }
    expect(text).toContain('userPrincipalName IDA@corp.example is taken by user db-fail-1');
    expect(text).toContain('SQLSTATE 23505');
  });
});
