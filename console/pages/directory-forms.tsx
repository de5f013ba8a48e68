/** @jsxImportSource hono/jsx */
// The directory's forms (for keys whose role holds directory:write): a user's fields (create and
// edit), a new group, a member to add by name. A field the API refused shows the API's complaint
// next to it (aria-invalid, aria-describedby), named by its label; what no field shows goes on top.
import type { ApiProblem } from '../api-client.ts';
import { CsrfField } from '../layout.tsx';
import type { DirectoryGroup, DirectoryUser } from '../types.ts';
import { formText, type Form } from './form.ts';

/** The user attributes the console edits, with their labels (the API's names are the keys). */
export const USER_FIELDS = [
  { name: 'userPrincipalName', label: 'User principal name', required: true },
  { name: 'displayName', label: 'Display name' },
  { name: 'givenName', label: 'Given name' },
  { name: 'surname', label: 'Surname' },
  { name: 'mail', label: 'E-mail', type: 'email' },
  { name: 'jobTitle', label: 'Job title' },
  { name: 'department', label: 'Department' },
] as const satisfies readonly { name: string; label: string; type?: string; required?: boolean }[];

export const GROUP_FIELDS = [
  { name: 'displayName', label: 'Display name', required: true },
  { name: 'description', label: 'Description' },
] as const;

/** What a form shows: the values typed (or stored), and each field's complaint. */
export interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
  /** A complaint no field shows (the page's alert). */
  error?: string | null;
}

export const emptyState = (values: Record<string, string> = {}): FormState => ({ values, errors: {} });

/** A user's stored values as form values (accountEnabled as 'true' or ''). */
export function userState(user: DirectoryUser): FormState {
  const values: Record<string, string> = { accountEnabled: user.accountEnabled === false ? '' : 'true' };
  for (const { name } of USER_FIELDS) values[name] = String((user as unknown as Record<string, unknown>)[name] ?? '');
  return emptyState(values);
}

/** The posted form's values, and the API body they make: empty text is null, the box is accountEnabled. */
export function postedUser(form: Form): { values: Record<string, string>; body: Record<string, unknown> } {
  const values: Record<string, string> = { accountEnabled: formText(form, 'accountEnabled') === 'true' ? 'true' : '' };
  const body: Record<string, unknown> = { accountEnabled: values.accountEnabled === 'true' };
  for (const { name } of USER_FIELDS) {
    values[name] = formText(form, name);
    body[name] = values[name] === '' ? null : values[name];
  }
  if (body.userPrincipalName === null) delete body.userPrincipalName;
  return { values, body };
}

/** A group's stored values as form values. */
export const groupState = (group: DirectoryGroup): FormState =>
  emptyState({ displayName: group.displayName, description: group.description ?? '' });

export function postedGroup(form: Form): { values: Record<string, string>; body: Record<string, unknown> } {
  const values = { displayName: formText(form, 'displayName'), description: formText(form, 'description') };
  return { values, body: { displayName: values.displayName, description: values.description || null } };
}

/**
 * The API's refusal spread over the form: a detail whose path names a field goes next to it, the
 * rest (and the message) on top. `verb` says what did not happen ("Not created").
 */
export function refusal(
  verb: string,
  problem: ApiProblem,
  fields: readonly { name: string; label: string }[],
  values: Record<string, string>,
): FormState {
  const errors: Record<string, string> = {};
  const rest: string[] = [];
  for (const detail of problem.details ?? []) {
    const field = fields.find((f) => f.name === detail.path.split(/[.[]/)[0]);
    if (field && !errors[field.name]) errors[field.name] = `${field.label}: ${detail.message}`;
    else rest.push(`${detail.path}: ${detail.message}`);
  }
  return { values, errors, error: [`${verb}: ${problem.message}`, ...rest].join(' — ') };
}

export function Field(props: {
  id: string;
  name: string;
  label: string;
  state: FormState;
  type?: string;
  required?: boolean;
}) {
  const error = props.state.errors[props.name];
  const errorId = `${props.id}-error`;
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <span class="field">
        <input
          id={props.id}
          name={props.name}
          type={props.type ?? 'text'}
          value={props.state.values[props.name] ?? ''}
          required={props.required}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? errorId : undefined}
        />
        {error ? (
          <span id={errorId} class="field-problem">
            {error}
          </span>
        ) : null}
      </span>
    </>
  );
}

/** A user's fields: `action` creates (POST /console/directory/users) or saves an edit. */
export function UserForm(props: { action: string; csrf: string; state: FormState; submit: string }) {
  const { state } = props;
  return (
    <form method="post" action={props.action} class="card grid">
      <CsrfField csrf={props.csrf} />
      {USER_FIELDS.map((f) => (
        <Field
          id={`u-${f.name}`}
          name={f.name}
          label={f.label}
          state={state}
          type={'type' in f ? f.type : undefined}
          required={'required' in f}
        />
      ))}
      <label for="u-accountEnabled">Account enabled</label>
      <input
        id="u-accountEnabled"
        name="accountEnabled"
        type="checkbox"
        value="true"
        checked={state.values.accountEnabled === 'true'}
      />
      <button type="submit" class="primary">
        {props.submit}
      </button>
    </form>
  );
}

/** A group's fields: creates (the default) or, given `action` and `submit`, saves an edit. */
export function GroupForm(props: { csrf: string; state: FormState; action?: string; submit?: string }) {
  const { csrf, state } = props;
  return (
    <form method="post" action={props.action ?? '/console/directory/groups'} class="card grid">
      <CsrfField csrf={csrf} />
      {GROUP_FIELDS.map((f) => (
        <Field id={`g-${f.name}`} name={f.name} label={f.label} state={state} required={'required' in f} />
      ))}
      <button type="submit" class="primary">
        {props.submit ?? 'Create group'}
      </button>
    </form>
  );
}

/** Add a user or group to a group, found by (part of) its name with the directory's search. */
export function AddMemberForm(props: { groupId: string; csrf: string; name: string; error: string | null }) {
  const state: FormState = { values: { name: props.name }, errors: props.error ? { name: props.error } : {} };
  return (
    <form
      method="post"
      action={`/console/directory/groups/${encodeURIComponent(props.groupId)}/members`}
      class="card grid"
    >
      <CsrfField csrf={props.csrf} />
      <Field id="m-name" name="name" label="Add a member (user or group name)" state={state} required />
      <button type="submit">Add member</button>
    </form>
  );
}

/** One member's Remove button, its accessible name saying whom from what. */
export function RemoveMemberButton(props: { groupId: string; memberId: string; label: string; csrf: string }) {
  return (
    <form
      method="post"
      action={`/console/directory/groups/${encodeURIComponent(props.groupId)}/members/remove`}
      class="inline"
    >
      <CsrfField csrf={props.csrf} />
      <input type="hidden" name="memberId" value={props.memberId} />
      <button type="submit" class="danger">
        Remove <span class="sr-only">{props.label}</span>
      </button>
    </form>
  );
}
