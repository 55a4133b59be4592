/**
 * Test helpers other packages' tests use (the API's suites): a database per test run or file on the throwaway
 * cluster of STREAMCHAT_TEST_DATABASE_URL, and a private cluster to kill and restart. Exported as
 * "@streamchat/store/test-support" for tests only: TypeScript source under every condition (tests load it through
 * vite, globalSetup files too), never built.
 */
export {
  connect,
  createTestDatabase,
  describePostgres,
  postgresAdminUrl,
  testDatabaseUrlVariable,
  type TestDatabase,
} from "./postgres.js";
export { postgresBinDir, startPrivateCluster, type PrivateCluster } from "./pg-cluster.js";
