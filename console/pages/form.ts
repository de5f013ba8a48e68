// Reading a posted form (Hono's parseBody): text fields trimmed, files and repeated fields ignored.

export type Form = Record<string, string | File | (string | File)[]>;

/** A text field, trimmed; '' when absent or not text. */
export function formText(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
}
