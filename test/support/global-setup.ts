// Runs once before the suite: says plainly whether the PostgreSQL half of the store tests runs.
export default function setup(): void {
  if (!process.env.DATABASE_URL) {
    process.stdout.write(
      '\n[tollgate] DATABASE_URL is not set: PostgreSQL store tests are skipped. ' +
        'Set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run them.\n\n',
    );
  }
}
