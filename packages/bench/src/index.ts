export { runBench, planFor, model, type BenchMode, type BenchPlan, type BenchResults } from "./bench.js";
export { summarize, renderTables, renderMachine, type Summary, type TargetCheck, type RatioRow } from "./report.js";
export { pathNames, pathDescriptions, type PathName } from "./paths.js";
export { readStream, type StreamResult, type StreamTarget } from "./reader.js";
