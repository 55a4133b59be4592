/** The logger the run modules write to (pino's shape: an object of fields, then the message). */
export interface RunLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: RunLog = { info() {}, warn() {}, error() {} };
