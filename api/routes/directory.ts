// /api/v1/directory — Ferry's own source directory: users, groups and nested memberships, one
// router per resource. Every write appends to the change log (store/), which is what incremental
// cycles read, so a change made here reaches the apps at the next cycle.
import type { Store } from '../../store/index.ts';
import { createRouter } from '../router.ts';
import { directoryAssignmentsRouter } from './directory-assignments.ts';
import { directoryGroupsRouter } from './directory-groups.ts';
import { directoryMembersRouter } from './directory-members.ts';
import { directoryUsersRouter } from './directory-users.ts';

export function directoryRouter({ store }: { store: Store }) {
  return createRouter()
    .route('/', directoryUsersRouter({ store }))
    .route('/', directoryGroupsRouter({ store }))
    .route('/', directoryMembersRouter({ store }))
    .route('/', directoryAssignmentsRouter({ store }));
}
