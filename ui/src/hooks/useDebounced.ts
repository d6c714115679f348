// useDebounced: a value that settles before a request is made of it (live previews).
import { useEffect, useState } from "react";

/** The value, handed on `ms` after its last change: a live preview asks the server once the
 * user pauses typing, not at every key. */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}
