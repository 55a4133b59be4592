import type { ChatStore } from "@streamchat/store";

type Method = {
  [K in keyof ChatStore]: ChatStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof ChatStore];

/** What a failing store decides per call: fail this call or not. */
export type FailWhen = (method: Method, args: readonly unknown[]) => boolean;

export interface FailingStore {
  store: ChatStore;
  /** Replaces the rule (initially: never fail). */
  failWhen(rule: FailWhen): void;
  /** Calls that failed, in order. */
  failures: Array<{ method: Method; args: readonly unknown[] }>;
}

/**
 * The store with injected failures: a call the rule picks is rejected before reaching `inner` (a disk error, a lock,
 * the database gone), as the asynchronous contract reports failures. An appendEvent the rule picks is rejected on
 * its own, as if its batch's commit had failed for good.
 */
export function failingStore(inner: ChatStore): FailingStore {
  let rule: FailWhen = () => false;
  const failures: FailingStore["failures"] = [];
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const method = key as Method;
        if (rule(method, args)) {
          failures.push({ method, args });
          return Promise.reject(new Error(`injected ${method} failure (disk I/O error)`));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    failWhen: (next) => {
      rule = next;
    },
    failures,
  };
}
