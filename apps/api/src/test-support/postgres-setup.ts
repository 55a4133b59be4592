import type { TestProject } from "vitest/node";
import { createTestDatabase } from "@streamchat/store/test-support";

/**
 * globalSetup of the "postgres" project: one database on the throwaway cluster (STREAMCHAT_TEST_DATABASE_URL) for
 * the whole run, dropped at its end. Each API a test starts gets a schema of its own in it (backend.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await createTestDatabase("api");
  project.provide("streamchatApiDatabaseUrl", database.url);
  return () => database.drop();
}
