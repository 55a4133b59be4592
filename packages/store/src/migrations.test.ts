import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { latestVersion, migrate, migrations, type Migration } from "./migrations.js";

describe("migrate", () => {
  const dbs: DatabaseSync[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close();
  });
  function fresh(): DatabaseSync {
    const db = new DatabaseSync(":memory:");
    dbs.push(db);
    return db;
  }
  const tables = (db: DatabaseSync) =>
    db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all()
      .map((row) => row.name);
  const versions = (db: DatabaseSync) =>
    db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all().map((r) => ({ ...r }));

  it("applies the shipped schema once and records it", () => {
    const db = fresh();
    expect(migrate(db, migrations, () => 42)).toEqual(migrations.map((m) => m.version));
    expect(tables(db)).toEqual(["conversations", "events", "messages", "runs", "schema_migrations"]);
    expect(versions(db)).toEqual(migrations.map((m) => ({ version: m.version, applied_at: 42 })));
    expect(migrate(db, migrations, () => 99)).toEqual([]);
    expect(versions(db)).toEqual(migrations.map((m) => ({ version: m.version, applied_at: 42 })));
  });

  it("applies only the steps a database is missing", () => {
    const db = fresh();
    const v1: Migration = { version: 1, up: "CREATE TABLE a (x INTEGER)" };
    const v2: Migration = { version: 2, up: "CREATE TABLE b (y INTEGER); INSERT INTO a (x) VALUES (1);" };
    expect(migrate(db, [v1])).toEqual([1]);
    expect(migrate(db, [v1, v2])).toEqual([2]);
    expect(tables(db)).toEqual(["a", "b", "schema_migrations"]);
    expect(db.prepare("SELECT COUNT(*) AS n FROM a").get()?.n).toBe(1);
  });

  it("rolls every pending step back when one fails", () => {
    const db = fresh();
    const good: Migration = { version: 1, up: "CREATE TABLE a (x INTEGER)" };
    const bad: Migration = { version: 2, up: "CREATE TABLE b (y INTEGER); THIS IS NOT SQL;" };
    expect(() => migrate(db, [good, bad])).toThrow(/syntax error/);
    expect(tables(db)).toEqual([]);
    expect(db.isTransaction).toBe(false);
  });

  it("refuses a database written by a newer schema", () => {
    const db = fresh();
    migrate(db, [
      { version: 1, up: "CREATE TABLE a (x INTEGER)" },
      { version: 2, up: "CREATE TABLE b (x INTEGER)" },
    ]);
    expect(() => migrate(db, [{ version: 1, up: "CREATE TABLE a (x INTEGER)" }])).toThrow(/newer than this build/);
    expect(db.isTransaction).toBe(false);
  });

  it("refuses a list that is not strictly increasing", () => {
    const db = fresh();
    expect(() => migrate(db, [{ version: 2, up: "" }, { version: 2, up: "" }])).toThrow(/strictly increasing/);
    expect(() => migrate(db, [{ version: 0, up: "" }])).toThrow(/strictly increasing/);
    expect(tables(db)).toEqual([]);
  });

  it("reports the latest shipped version", () => {
    expect(latestVersion()).toBe(migrations.at(-1)?.version);
    expect(latestVersion([])).toBe(0);
  });
});
