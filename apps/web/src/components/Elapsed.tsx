import { useEffect, useState } from "react";

/**
 * The whole seconds since it first showed, once there are `after` of them: a wait that takes long (a big model loading,
 * a long prompt read on a CPU) says it is still going on. Counted from when this page saw the wait begin. Not read out:
 * a screen reader would hear it every second.
 */
export function Elapsed({ after = 5 }: { after?: number }) {
  const [start] = useState(() => Date.now());
  const [now, setNow] = useState(start);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.floor((now - start) / 1000);
  if (seconds < after) return null;
  return (
    <span className="status-line__elapsed" aria-hidden="true" data-testid="elapsed">
      {` · ${seconds} s`}
    </span>
  );
}
