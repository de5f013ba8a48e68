// What Ferry keeps from a target's answer: an account is linked by the id the target gave it, so an
// answer whose id is missing or not an id must fail the write, never link a made-up id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../engine/errors.ts';
import { SCIM_USER_SCHEMA } from '../../engine/types.ts';
import { createScimClient, type ScimClient } from '../../scim/index.ts';
import { type ScimStub, sendJson, startScimStub } from '../support/scim-stub.ts';

describe('the id in a target answer', () => {
  let stub: ScimStub;
  let client: ScimClient;
  /** What the stub answers to the next POST /Users. */
  let answer: unknown = null;

  beforeAll(async () => {
    stub = await startScimStub((request, res) => {
      if (request.method === 'POST') sendJson(res, 201, answer);
      else sendJson(res, 404, { detail: 'not here' });
    });
    client = createScimClient({
      baseUrl: `${stub.origin}/scim/v2`,
      auth: { type: 'bearer', token: 'answer-token' },
      allowInsecureLoopback: true,
    });
  });

  afterAll(async () => {
    await client?.close();
    await stub?.close();
  });

  const create = () => client.create('Users', { schemas: [SCIM_USER_SCHEMA], userName: 'ann@contoso.example' });

  it.each([
    ['null', null],
    ['an object', { value: 'x' }],
    ['an empty string', ''],
    ['a boolean', true],
  ])('a created account whose id is %s fails the create as an invalid answer', async (_name, id) => {
    answer = { schemas: [SCIM_USER_SCHEMA], id, userName: 'ann@contoso.example' };
    const error = await create().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FerryError);
    expect((error as FerryError).message).toContain('has no resource id');
  });

  it('a numeric id is read as its digits; other attributes are kept as the target sent them', async () => {
    answer = { id: 4711, userName: 'ann@contoso.example', externalId: 12, active: true, schemas: 'wrong' };
    const created = await create();
    expect(created).toEqual({
      id: '4711',
      userName: 'ann@contoso.example',
      externalId: '12',
      active: true,
      schemas: [],
    });
  });
});
