// Engine throughput: mapping + scoping + planning of 100k generated users on one core.
// Run: npx tsx bench/engine.ts [count]. Prints objects/s per stage and for the whole pipeline.
import { appConfigFromTemplate, parseAppConfig } from '../engine/config/index.ts';
import { applyMappings, userSourceAttributes } from '../engine/mapping/index.ts';
import { desiredHash, planObject } from '../engine/planning/index.ts';
import { createScopeContext, evaluateScope } from '../engine/scoping/index.ts';
import type { AppRoleAssignment, DirectoryUser, Link, Membership, ScimResource } from '../engine/types.ts';
import { genericScimTemplate } from '../gallery/index.ts';

const count = Number(process.argv[2] ?? 100_000);

const input = appConfigFromTemplate(genericScimTemplate, {
  name: 'bench',
  target: { url: 'https://scim.example.com/v2' },
  auth: { type: 'bearer', token: 'x' },
});
input.objectTypes.user.scopingFilters = [
  {
    title: 'employees',
    clauses: [
      { attribute: 'department', operator: 'NOT EQUALS', value: 'Contractors' },
      { attribute: 'userPrincipalName', operator: 'ENDS_WITH', value: '@contoso.com' },
    ],
  },
];
const parsed = parseAppConfig(input, genericScimTemplate);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
const { config, compiled } = parsed;
const settings = { actions: config.objectTypes.user.actions, skipOutOfScopeDeletions: false };

const departments = ['Sales', 'Engineering', 'Support', 'Contractors', 'Finance'];
const users: DirectoryUser[] = [];
const assignments: AppRoleAssignment[] = [];
const memberships: Membership[] = [];
for (let g = 0; g < 100; g++) {
  assignments.push({
    appId: 'a',
    principalId: `g${g}`,
    principalType: 'group',
    role: g % 10 === 0 ? 'msiam_access' : 'User',
  });
  // Nesting three levels deep: g25 ⊂ g5 ⊂ g0.
  if (g >= 10) memberships.push({ groupId: `g${Math.floor(g / 5)}`, memberId: `g${g}`, memberType: 'group' });
}
for (let i = 0; i < count; i++) {
  const id = `u${i}`;
  users.push({
    id,
    userPrincipalName: `user${i}@contoso.com`,
    mail: `user${i}@contoso.com`,
    mailNickname: `user${i}`,
    displayName: `User ${i}`,
    givenName: `Given${i}`,
    surname: `Sur${i}`,
    accountEnabled: i % 50 !== 0,
    jobTitle: i % 3 === 0 ? null : 'Engineer',
    department: departments[i % departments.length],
    companyName: 'Contoso',
    employeeId: String(i),
    mobilePhone: `+46 70 ${i}`,
    businessPhones: [`+46 8 ${i}`],
    officeLocation: 'HQ',
    city: 'Stockholm',
    country: 'SE',
    managerId: i > 0 ? `u${i - 1}` : null,
    extensions: {},
    deletedDateTime: null,
  });
  if (i % 2 === 0) assignments.push({ appId: 'a', principalId: id, principalType: 'user', role: 'User' });
  else memberships.push({ groupId: `g${i % 100}`, memberId: id, memberType: 'user' });
}
const scopeContext = createScopeContext({
  appScope: 'assigned',
  assignments,
  memberships,
  scopingFilters: config.objectTypes.user.scopingFilters,
});
const env = { now: () => new Date(0), random: () => 0.5, guid: () => '00000000-0000-4000-8000-000000000000' };
const resolveReference = (sourceId: string) => `t-${sourceId}`;

// Target state prepared outside the timed loop: a third of the users exist in the target with some
// drift, a third are linked and unchanged since the last export (hash), a third are new.
const targets: (ScimResource | null | undefined)[] = [];
const links: (Link | null)[] = [];
for (let i = 0; i < users.length; i++) {
  const attributes = userSourceAttributes(users[i]);
  const desired = applyMappings(compiled.user, attributes, { operation: 'update', env, resolveReference });
  const link: Link | null =
    i % 3 === 2
      ? null
      : {
          appId: 'a',
          objectType: 'user',
          sourceId: users[i].id,
          targetId: `t-u${i}`,
          exportedHash: i % 3 === 1 ? desiredHash(desired) : null,
          active: true,
          failureCount: 0,
          nextRetryAt: null,
          lastError: null,
        };
  links.push(link);
  if (i % 3 === 0) {
    const current = structuredClone(desired.resource);
    current.id = `t-u${i}`;
    if (i % 2 === 0) current.title = 'Old title';
    targets.push(current);
  } else targets.push(i % 3 === 2 ? null : undefined);
}

function run(): { seconds: number; cpuSeconds: number; actions: Record<string, number> } {
  const actions: Record<string, number> = {};
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < users.length; i++) {
    const user = users[i];
    const attributes = userSourceAttributes(user);
    const scope = evaluateScope({ objectType: 'user', object: user, attributes }, scopeContext);
    const link = links[i];
    const desired = applyMappings(compiled.user, attributes, {
      operation: link ? 'update' : 'create',
      env,
      resolveReference,
    });
    const plan = planObject({
      objectType: 'user',
      source: 'present',
      inScope: scope.inScope,
      link,
      target: targets[i],
      desired,
      settings,
    });
    actions[plan.action] = (actions[plan.action] ?? 0) + 1;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, actions };
}

function stage(name: string, fn: (user: DirectoryUser, i: number) => unknown): void {
  const start = performance.now();
  for (let i = 0; i < users.length; i++) fn(users[i], i);
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${name.padEnd(28)} ${Math.round(users.length / seconds)
      .toLocaleString('en-US')
      .padStart(10)} objects/s`,
  );
}

console.log(
  `engine bench: ${count.toLocaleString('en-US')} users, template ${genericScimTemplate.id} (${compiled.user.mappings.length} mappings, 1 scoping filter), Node ${process.version}`,
);
run(); // warm-up
stage('source attributes', (u) => userSourceAttributes(u));
stage('scoping', (u) => evaluateScope({ objectType: 'user', object: u }, scopeContext));
stage('mapping', (u) =>
  applyMappings(compiled.user, userSourceAttributes(u), { operation: 'update', env, resolveReference }),
);
const { seconds, cpuSeconds, actions } = run();
const rate = (s: number) =>
  Math.round(users.length / s)
    .toLocaleString('en-US')
    .padStart(10);
console.log(`${'mapping+scoping+planning'.padEnd(28)} ${rate(seconds)} objects/s wall  (${seconds.toFixed(2)} s)`);
// On a shared machine wall time includes waiting for a core; CPU time is what the engine costs.
console.log(
  `${'mapping+scoping+planning'.padEnd(28)} ${rate(cpuSeconds)} objects/s of process CPU time (${cpuSeconds.toFixed(2)} s, includes GC threads)`,
);
console.log(`actions: ${JSON.stringify(actions)}`);
