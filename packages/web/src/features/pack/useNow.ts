import { useEffect, useState } from 'react';

/**
 * The current time, re-read every `everyMs`, so "5 s ago" keeps counting while no snapshot
 * arrives (an offline pack). A render clock only: it asks the server nothing.
 */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
