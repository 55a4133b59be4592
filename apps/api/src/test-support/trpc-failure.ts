import { TRPCClientError } from "@trpc/client";
import { expect } from "vitest";

/** What a tRPC call failed with (it must fail with a TRPCClientError): its codes, HTTP status and message. */
export async function callFailure(promise: Promise<unknown>): Promise<{ code?: string; appCode?: string | null; status?: number; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const data = (error as TRPCClientError<never>).data as { code: string; appCode: string | null; httpStatus: number } | undefined;
  return { code: data?.code, appCode: data?.appCode, status: data?.httpStatus, message: (error as Error).message };
}
