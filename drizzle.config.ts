// drizzle-kit: `npx drizzle-kit generate` writes SQL migrations for store/schema.ts into store/migrations/.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './store/schema.ts',
  out: './store/migrations',
});
