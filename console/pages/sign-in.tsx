/** @jsxImportSource hono/jsx */
// Sign-in: one field, the API key. The key is checked with GET /api/v1/me, then kept only sealed
// in the session cookie.
import { Layout } from '../layout.tsx';

export function SignInPage({ error }: { error: string | null }) {
  return (
    <Layout title="Sign in" error={error}>
      <form method="post" action="/console/sign-in" class="card narrow">
        <label for="apiKey">API key</label>
        <input id="apiKey" name="apiKey" type="password" autocomplete="off" required autofocus />
        <p class="hint">
          The key <code>npm start</code> printed (kept in <code>.ferry/api-key</code>), one of{' '}
          <code>FERRY_API_KEYS</code>, or one made with <code>npm run keys</code>. Its role decides what you can do
          here.
        </p>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </Layout>
  );
}
