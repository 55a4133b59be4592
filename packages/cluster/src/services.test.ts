import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseExports, postgresPid, redisCommand, redisPid, servicesFromEnv } from "./services.js";

describe("test-services.sh output", () => {
  it("reads its export lines, undoing bash's %q quoting", () => {
    const text = [
      "export STREAMCHAT_TEST_SERVICES_DIR=/tmp/streamchat-services.AbC123",
      "export STREAMCHAT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres",
      "export STREAMCHAT_TEST_REDIS_URL=redis://127.0.0.1:6380",
      "export WITH_SPACE=a\\ b\\ c",
      "export QUOTED='x y'",
      "not an export",
    ].join("\n");
    expect(parseExports(text)).toEqual({
      STREAMCHAT_TEST_SERVICES_DIR: "/tmp/streamchat-services.AbC123",
      STREAMCHAT_TEST_DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      STREAMCHAT_TEST_REDIS_URL: "redis://127.0.0.1:6380",
      WITH_SPACE: "a b c",
      QUOTED: "x y",
    });
  });

  it("names what is missing from the environment", () => {
    expect(servicesFromEnv({ STREAMCHAT_TEST_DATABASE_URL: "postgres://h/db" })).toEqual({ urls: null, missing: ["STREAMCHAT_TEST_REDIS_URL"] });
    expect(servicesFromEnv({ STREAMCHAT_TEST_DATABASE_URL: "postgres://h/db", STREAMCHAT_TEST_REDIS_URL: "redis://h:1" }).urls).toEqual({
      databaseUrl: "postgres://h/db",
      redisUrl: "redis://h:1",
    });
  });
});

const { urls } = servicesFromEnv();
const servicesDir = process.env["STREAMCHAT_TEST_SERVICES_DIR"];

describe.runIf(urls !== null && servicesDir !== undefined)("the server pids, from the servers themselves", () => {
  it("finds redis-server's and the postmaster's pids (the ones test-services.sh recorded)", async () => {
    expect(await redisCommand(urls!.redisUrl, "PING")).toBe("+PONG");
    expect(await redisPid(urls!.redisUrl)).toBe(Number(readFileSync(join(servicesDir!, "redis", "redis.pid"), "utf8").trim()));
    const postmaster = Number(readFileSync(join(servicesDir!, "postgres", "data", "postmaster.pid"), "utf8").split("\n")[0]);
    expect(await postgresPid(urls!.databaseUrl)).toBe(postmaster);
  });
});
