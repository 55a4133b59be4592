import { z } from "zod";
import { defineTool, type AnyTool, type Tool } from "../tools.js";
import { calculate, prepareCalculator } from "./calculator.js";

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false; // RangeError: Invalid time zone specified
  }
}

const currentTimeInput = z.object({
  timeZone: z
    .string()
    .max(64)
    .refine(isTimeZone, { error: (issue) => `Unknown time zone ${JSON.stringify(issue.input)}; use an IANA name such as "Asia/Tokyo", "Europe/London" or "UTC"` })
    .optional()
    .describe('IANA time zone name, e.g. "Asia/Tokyo". Defaults to the server\'s time zone.'),
});

export interface CurrentTime {
  timeZone: string;
  /** Local time with its UTC offset, e.g. 2026-11-29T21:06:11+09:00 */
  iso: string;
  /** e.g. "Sunday, November 29, 2026 at 9:06:11 PM GMT+9" */
  formatted: string;
}

/** `current_time`, with an injectable clock for tests. */
export function createCurrentTimeTool(opts: { now?: () => number } = {}): Tool<{ timeZone?: string | undefined }, CurrentTime> {
  const now = opts.now ?? Date.now;
  return defineTool({
    name: "current_time",
    description: "Get the current date and time, optionally in a given IANA time zone (e.g. Asia/Tokyo).",
    input: currentTimeInput,
    execute: ({ timeZone }): CurrentTime => {
      const zone = timeZone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone;
      const date = new Date(now());
      return {
        timeZone: zone,
        iso: isoWithOffset(date, zone),
        formatted: new Intl.DateTimeFormat("en-US", { timeZone: zone, dateStyle: "full", timeStyle: "long" }).format(date),
      };
    },
  });
}

function isoWithOffset(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  // longOffset: "GMT+09:00", or just "GMT" for UTC.
  const offset = get("timeZoneName").replace("GMT", "") || "+00:00";
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}:${get("second")}${offset}`;
}

export const currentTimeTool = createCurrentTimeTool();

export const calculatorTool: Tool<{ expression: string }, { expression: string; result: string }> = defineTool({
  name: "calculator",
  description:
    "Evaluate a math expression exactly (arithmetic, powers, roots, trigonometry, units like '5 cm to inch', complex numbers, small matrices). Use it instead of computing in your head. Defining functions is not supported.",
  input: z.object({
    expression: z.string().min(1).max(500).describe('The expression, e.g. "12 * 7" or "sqrt(2) ^ 3"'),
  }),
  execute: async ({ expression }, { signal }) => ({ expression, result: await calculate(expression, signal) }),
  // Its worker takes about a second of CPU to start: a server starts it when it offers the tool (prepareTools).
  prepare: prepareCalculator,
});

export const builtinTools: AnyTool[] = [currentTimeTool, calculatorTool];
