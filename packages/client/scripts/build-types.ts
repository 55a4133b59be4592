// Declaration files for @streamchat/client that a TypeScript project can use with its own compiler settings.
//
// The client's types come from @streamchat/core and the API's router (AppRouter), which publish TypeScript sources
// as their types: a project importing those would type-check our sources under its settings (its `lib`,
// exactOptionalPropertyTypes…). So this emits declarations for the client and the workspace code its types reach,
// into dist/types, and points every `@streamchat/*` import in them at the file that declares the imported name
// (not the package's index, which would pull in the whole server: Fastify, pg, the MCP SDK). Files no public
// type reaches are left out.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = resolve(packageDir, "../..");
const outDir = join(packageDir, "dist/types");
const entry = join(outDir, "packages/client/src/index.d.ts");

interface WorkspaceEntry {
  /** The package's name. */
  name: string;
  /** What the package depends on (dependencies, and devDependencies for the client: the API's router is one). */
  dependencies: string[];
  /** "@streamchat/core", "@streamchat/core/browser" */
  specifier: string;
  /** The TypeScript source the "source" export names. */
  source: string;
}

function workspaceEntries(): WorkspaceEntry[] {
  const entries: WorkspaceEntry[] = [];
  for (const group of ["packages", "apps"]) {
    for (const dir of readdirSync(join(repoRoot, group))) {
      const manifest = join(repoRoot, group, dir, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
        name?: string;
        exports?: Record<string, { source?: string }>;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const isClient = join(repoRoot, group, dir) === resolve(packageDir);
      const dependencies = Object.keys({ ...pkg.dependencies, ...(isClient ? pkg.devDependencies : {}) });
      for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
        if (!pkg.name || typeof target !== "object" || !target.source) continue;
        const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, "")}`;
        entries.push({ name: pkg.name, dependencies, specifier, source: join(repoRoot, group, dir, target.source) });
      }
    }
  }
  return entries;
}

/** The emitted declaration file of a source file. */
const declarationOf = (source: string) => join(outDir, relative(repoRoot, source)).replace(/\.ts$/, ".d.ts");

function emit(roots: string[]): void {
  const configPath = join(packageDir, "tsconfig.build.json");
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error(`cannot read ${configPath}`);
  const options: ts.CompilerOptions = {
    ...config.options,
    rootDir: repoRoot,
    outDir,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    noEmit: false,
  };
  // Workspace packages as roots: imported through node_modules they would count as libraries and get no declarations.
  const program = ts.createProgram(roots, options);
  const result = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => packageDir, getNewLine: () => "\n" };
    throw new Error(ts.formatDiagnostics(diagnostics, host));
  }
}

/** The file that declares `name`, following the index's re-exports (`export { a } from`, `export *`). */
function declaringFile(file: string, name: string, depth = 0): string | undefined {
  if (depth > 10 || !existsSync(file)) return undefined;
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const target = (spec: ts.Expression) => resolve(dirname(file), (spec as ts.StringLiteral).text.replace(/\.js$/, ".d.ts"));
  for (const statement of sf.statements) {
    if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier) {
      // Declared here (an exported interface, type, class, const, function…).
      const names = ts.isVariableStatement(statement)
        ? statement.declarationList.declarations.map((d) => (ts.isIdentifier(d.name) ? d.name.text : ""))
        : [(statement as { name?: ts.Node }).name].flatMap((n) => (n && ts.isIdentifier(n) ? [n.text] : []));
      if (names.includes(name)) return file;
      continue;
    }
    const clause = statement.exportClause;
    if (clause && ts.isNamedExports(clause)) {
      const element = clause.elements.find((e) => e.name.text === name);
      if (element) return declaringFile(target(statement.moduleSpecifier), (element.propertyName ?? element.name).text, depth + 1);
    } else if (!clause) {
      const found = declaringFile(target(statement.moduleSpecifier), name, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

const relativeSpecifier = (from: string, to: string) => {
  const path = relative(dirname(from), to).split(sep).join("/").replace(/\.d\.ts$/, ".js");
  return path.startsWith(".") ? path : `./${path}`;
};

/** The leftmost name of `import("…").A.B`. */
function firstName(qualifier: ts.EntityName): string {
  return ts.isIdentifier(qualifier) ? qualifier.text : firstName(qualifier.left);
}

/**
 * Points the imports of one declaration file at the files that declare what they import: `import { A, B } from
 * "@streamchat/x"` becomes one import per declaring file, `import("../index.js").A` (tsc names types through an index
 * too) points at A's own file. Returns the declaration files it imports.
 */
function rewrite(file: string, indexBySpecifier: Map<string, string>): string[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const imported: string[] = [];
  /** The declaration file a specifier names; undefined for other packages (zod, @trpc/server…). */
  const fileOf = (specifier: string) =>
    specifier.startsWith(".") ? resolve(dirname(file), specifier.replace(/\.js$/, ".d.ts")) : indexBySpecifier.get(specifier);
  const locate = (specifier: string, target: string, name: string): string => {
    const found = declaringFile(target, name);
    if (!found) throw new Error(`${relative(outDir, file)}: cannot find the declaration of ${name} from ${specifier}`);
    imported.push(found);
    return relativeSpecifier(file, found);
  };
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const specifier = node.moduleSpecifier.text;
      const target = fileOf(specifier);
      const named = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
      const defaultImport = ts.isImportDeclaration(node) && node.importClause?.name !== undefined;
      if (target && named && (ts.isNamedImports(named) || ts.isNamedExports(named)) && !defaultImport) {
        const keyword = ts.isImportDeclaration(node) ? "import" : "export";
        const typeOnly = (ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly : node.isTypeOnly) ? " type" : "";
        const lines = (named.elements as ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>).map((element) => {
          const original = (element.propertyName ?? element.name).text;
          const binding = element.propertyName ? `${original} as ${element.name.text}` : original;
          return `${keyword}${typeOnly} { ${element.isTypeOnly ? "type " : ""}${binding} } from "${locate(specifier, target, original)}";`;
        });
        edits.push({ start: node.getStart(sf), end: node.getEnd(), text: lines.join("\n") });
      } else if (target && specifier.startsWith(".")) {
        imported.push(target); // export * from "./x.js" (an index): kept as it is
      } else if (target) {
        throw new Error(`${relative(outDir, file)}: only named imports of ${specifier} are supported`);
      }
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const specifier = node.argument.literal.text;
      const target = fileOf(specifier);
      if (target) {
        if (!node.qualifier) throw new Error(`${relative(outDir, file)}: unsupported import("${specifier}") type`);
        const literal = node.argument.literal;
        edits.push({ start: literal.getStart(sf), end: literal.getEnd(), text: `"${locate(specifier, target, firstName(node.qualifier))}"` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  if (edits.length > 0) writeFileSync(file, out);
  return imported;
}

function removeUnreached(reached: Set<string>, dir = outDir): void {
  for (const item of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, item.name);
    if (item.isDirectory()) {
      removeUnreached(reached, path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
    } else if (!reached.has(path)) {
      rmSync(path);
    }
  }
}

/** The workspace packages the client depends on, directly or not, by their entry points (test support left out). */
function dependencyEntries(): WorkspaceEntry[] {
  const all = workspaceEntries();
  const wanted = new Set<string>();
  const pending = ["@streamchat/client"];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    for (const dep of all.find((e) => e.name === name)?.dependencies ?? []) {
      if (!wanted.has(dep) && all.some((e) => e.name === dep)) pending.push(dep), wanted.add(dep);
    }
  }
  return all.filter((e) => wanted.has(e.name) && !e.specifier.endsWith("/test-support"));
}

const entries = dependencyEntries();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
emit([join(packageDir, "src/index.ts"), ...entries.map((e) => e.source)]);
const indexBySpecifier = new Map(entries.map((e) => [e.specifier, declarationOf(e.source)]));
const reached = new Set<string>();
const pending = [entry];
for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
  if (reached.has(file)) continue;
  if (!existsSync(file)) throw new Error(`missing declaration file ${relative(outDir, file)}`);
  reached.add(file);
  pending.push(...rewrite(file, indexBySpecifier));
}
removeUnreached(reached);
