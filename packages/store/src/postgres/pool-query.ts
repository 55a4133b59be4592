import type pg from "pg";

/**
 * `pool.query` without its retention: when a query makes pg-pool open a new connection, the callback that runs the
 * query (and with it the query's text and parameters) stays reachable from that connection's `connect` listener
 * for as long as the connection lives. A 32 MB answer stored through such a query was kept twice (its content and
 * its JSON) by every pooled connection it opened (the API's fault matrix, "slow client that never reads").
 *
 * Checking a client out first leaves only the checkout's own callback there. Otherwise as `pool.query`: the client
 * goes back to the pool after the query, and is destroyed after a failed one (pg-pool releases it with the error);
 * an error of the connection while the query runs is taken (unhandled, a client's `error` event would throw).
 */
export async function queryPool<R extends pg.QueryResultRow>(pool: pg.Pool, config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
  const client = await pool.connect();
  let released = false;
  const release = (error?: Error) => {
    if (released) return;
    released = true;
    client.release(error);
  };
  const onError = (error: Error) => release(error);
  client.once("error", onError);
  try {
    return await client.query<R>(config);
  } catch (error) {
    release(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    client.removeListener("error", onError);
    release();
  }
}
