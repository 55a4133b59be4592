import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether the browser tests can run. Without Chromium they fail loudly under CI (a CI that
 * silently skips its browser tests is lying) and are skipped with a loud notice elsewhere.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  const message =
    `Chromium not found at ${chromiumPath}. Install it (Debian: apt-get install -y chromium) ` +
    "or set CHROMIUM_PATH to run the web end-to-end tests.";
  const ci = process.env.CI;
  if (ci && ci !== "false" && ci !== "0") throw new Error(`${message} (CI=${ci}: failing instead of skipping)`);
  console.warn(`\n${"!".repeat(100)}\n!! SKIPPING WEB END-TO-END TESTS: ${message}\n${"!".repeat(100)}\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
