import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A directory of this test run under the OS's temp dir; everything in it is removed when the run ends. */
    streamchatTestTempRoot: string;
  }
}

/**
 * globalSetup of both projects: the run's own temp directory, removed at its end. The workers cannot do it
 * themselves: vitest ends them without an exit event, and the API children that wrote there are theirs.
 */
export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), "streamchat-api-test-"));
  project.provide("streamchatTestTempRoot", root);
  return () => rmSync(root, { recursive: true, force: true });
}
